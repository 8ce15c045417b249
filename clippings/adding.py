"""`clippings add SOURCE...`: fetch, extract, check for duplicates, write entry and snapshot.

The network work happens before the library is locked; the entry is written under the lock
(a fresh load, a duplicate check against it, an atomic save), then the snapshot folder.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from . import snapshots
from .config import Settings
from .errors import NetworkError, UsageError
from .manage import AddResult, add_record, merge_keywords
from .model import Record


@dataclass
class Fetched:
    record: Record
    text: str = ""
    raw: bytes = b""
    filename: str = ""       # page.html or document.pdf
    meta: dict | None = None


def client_for(settings: Settings):
    from .http import HttpClient, HttpSettings
    return HttpClient(HttpSettings(
        user_agent=settings.user_agent or None, email=settings.email or None,
        read_timeout=settings.timeout, connect_timeout=min(10.0, settings.timeout),
        deadline=settings.timeout * 3, max_bytes=int(settings.max_download_mb * 1024 * 1024),
        per_host=settings.per_host))


def fetch_source(source: str, settings: Settings, client=None) -> Fetched:
    """Metadata (and the document) for a URL, DOI, ISBN or local PDF/HTML file."""
    from .dedupe import normalize_doi, normalize_isbn
    client = client or client_for(settings)
    path = Path(source)
    if not source.startswith(("http://", "https://")) and path.is_file():
        return _from_file(path)
    if source.startswith(("http://", "https://")) and "doi.org/10." not in source:
        return _from_url(source, client)
    doi = normalize_doi(source)
    if doi:
        return _from_doi(doi, settings, client)
    isbn = normalize_isbn(source)
    if isbn:
        return _from_isbn(isbn, settings, client)
    raise UsageError(f"not a URL, DOI, ISBN or file: {source!r}")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def _from_url(url: str, client) -> Fetched:
    from .extract.html import extract, is_pdf
    response = client.get(url, accept="text/html,application/xhtml+xml,application/pdf;q=0.9,"
                                      "*/*;q=0.5")
    if response.status >= 400:
        raise NetworkError(f"{url}: HTTP {response.status}")
    if response.content_type and not is_pdf(response.content, response.content_type) and \
            not any(t in response.content_type for t in ("html", "xml", "text")):
        raise UsageError(f"{url}: cannot read a {response.content_type} document "
                         "(expected HTML or PDF)")
    pdf = is_pdf(response.content, response.content_type)
    found = extract(response.content, response.final_url,
                    content_type=response.headers.get("content-type"))
    record = found.record
    record.fields.setdefault("url", response.final_url)
    record.fields["urldate"] = datetime.date.today().isoformat()
    meta = {"requested_url": url, "final_url": response.final_url,
            "redirects": [list(hop) for hop in response.redirects],
            "status": response.status, "content_type": response.content_type,
            "fetched_at": _now(), "sha256": hashlib.sha256(response.content).hexdigest(),
            "extractor": _extractor_version(), "sources": found.sources}
    return Fetched(record, found.text, response.content,
                   "document.pdf" if pdf else "page.html", meta)


def _from_file(path: Path) -> Fetched:
    from .extract.html import extract, is_pdf
    data = path.read_bytes()
    found = extract(data, path.resolve().as_uri())
    found.record.fields.pop("url", None)
    pdf = is_pdf(data, None)
    meta = {"requested_url": None, "source_file": str(path), "fetched_at": _now(),
            "sha256": hashlib.sha256(data).hexdigest(), "extractor": _extractor_version()}
    return Fetched(found.record, found.text, data, "document.pdf" if pdf else "page.html", meta)


def _from_doi(doi: str, settings: Settings, client) -> Fetched:
    from .extract import crossref
    params = {"mailto": settings.email} if settings.email else None
    response = client.get(f"{settings.crossref_url.rstrip('/')}/works/{doi}",
                          accept="application/json", params=params)
    if response.status == 404:
        raise UsageError(f"DOI {doi} is not known to Crossref")
    if response.status >= 400:
        raise NetworkError(f"Crossref answered HTTP {response.status} for DOI {doi}")
    try:
        answer = json.loads(response.text)
    except ValueError:
        raise NetworkError(f"Crossref sent no valid JSON for DOI {doi}") from None
    return Fetched(crossref.to_record(answer))


def _from_isbn(isbn: str, settings: Settings, client) -> Fetched:
    from .extract import openlibrary
    response = client.get(f"{settings.openlibrary_url.rstrip('/')}/api/books",
                          params={"bibkeys": f"ISBN:{isbn}", "format": "json",
                                  "jscmd": "data"}, accept="application/json")
    if response.status >= 400:
        raise NetworkError(f"Open Library answered HTTP {response.status} for ISBN {isbn}")
    try:
        answer = json.loads(response.text)
    except ValueError:
        raise NetworkError(f"Open Library sent no valid JSON for ISBN {isbn}") from None
    record = openlibrary.to_record(answer, isbn)
    if record is None:
        raise UsageError(f"ISBN {isbn} is not known to Open Library")
    return Fetched(record)


def _extractor_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    from . import __version__
    try:
        return f"clippings {__version__}, trafilatura {version('trafilatura')}"
    except PackageNotFoundError:
        return f"clippings {__version__}"


def write_snapshot(folder: Path, key: str, fetched: Fetched) -> str | None:
    if not fetched.raw:
        return None
    target = snapshots.folder(folder, key)
    target.mkdir(parents=True, exist_ok=True)
    (target / fetched.filename).write_bytes(fetched.raw)
    (target / "text.txt").write_text(fetched.text or "", encoding="utf-8")
    (target / "meta.json").write_text(json.dumps(fetched.meta or {}, ensure_ascii=False,
                                                 indent=2), encoding="utf-8")
    return str(target)


def add_sources(path: Path, sources: list[str], *, settings: Settings, entry_type=None,
                key=None, tags=(), assignments=(), force=False, snapshot=True,
                progress=False) -> list[AddResult]:
    """Fetch every source, then add each as an entry (refusing likely duplicates)."""
    if key and len(sources) > 1:
        raise UsageError("--key can only be used with one SOURCE")
    client = client_for(settings)
    results = []
    for source in sources:
        fetched = fetch_source(source, settings, client)
        record = fetched.record
        if entry_type:
            record.type = entry_type.lower()
        for name, value in assignments:
            record.fields[name] = value
        if tags:
            record.fields["keywords"] = merge_keywords(record.fields.get("keywords", ""), tags)
        result = add_record(path, record, key=key, force=force, settings=settings)
        if snapshot:
            result.snapshot = write_snapshot(Path(path).parent, result.key, fetched)
        results.append(result)
    return results
