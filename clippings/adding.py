"""`clippings add SOURCE...`: fetch, extract, check for duplicates, write entry and snapshot.

The network work happens before the library is locked; the entry is written under the lock
(a fresh load, a duplicate check against it, the snapshot folder, an atomic save): an entry
is never saved without the snapshot `add` was asked for.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from . import journal, snapshots, validate
from .config import Settings
from .errors import ClippingsError, SourceError, UsageError
from .manage import AddResult, add_record, apply_assignments
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
        per_host=settings.per_host, host_spacing=settings.host_spacing,
        allow_private_addresses=settings.allow_private_addresses))


def fetch_source(source: str, settings: Settings, client=None, *,
                 files: bool = True) -> Fetched:
    """Metadata (and the document) for a URL, DOI, ISBN or local PDF/HTML file; with
    `files` false (a web user's source) never a file on this machine."""
    from .dedupe import normalize_doi, normalize_isbn
    client = client or client_for(settings)
    path = Path(source)
    if files and not source.startswith(("http://", "https://")) and path.is_file():
        return _from_file(path)
    if source.startswith(("http://", "https://")) and "doi.org/10." not in source:
        return _from_url(source, client)
    doi = normalize_doi(source)
    if doi:
        return _from_doi(doi, settings, client)
    isbn = normalize_isbn(source)
    if isbn:
        return _from_isbn(isbn, settings, client)
    raise UsageError(f"not a URL, DOI, ISBN or file: {source!r}" if files
                     else f"not a URL, DOI or ISBN: {source!r}",
                     german=f"keine URL, DOI oder ISBN: {source!r}")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def _from_url(url: str, client) -> Fetched:
    from .extract.html import is_pdf
    response = client.get(url, accept="text/html,application/xhtml+xml,application/pdf;q=0.9,"
                                      "*/*;q=0.5")
    _check_status(url, response.status)
    if response.content_type and not is_pdf(response.content, response.content_type) and \
            not any(t in response.content_type for t in ("html", "xml", "text")):
        raise UsageError(f"{url}: cannot read a {response.content_type} document "
                         "(expected HTML or PDF)")
    return read_page(response.content, response.final_url,
                     response.headers.get("content-type"),
                     {"requested_url": url, "final_url": response.final_url,
                      "redirects": [list(hop) for hop in response.redirects],
                      "status": response.status, "content_type": response.content_type})


def read_page(content: bytes, url: str, content_type: str | None,
              provenance: dict) -> Fetched:
    """A web page or PDF (fetched, or as the user's browser showed it) read into a
    proposed record, its text and its meta.json: `provenance` (where it came from),
    then when, its digest and what read it."""
    from .extract.html import extract, is_pdf
    found = extract(content, url, content_type=content_type)
    record = found.record
    record.fields.setdefault("url", url)
    record.fields["urldate"] = datetime.date.today().isoformat()
    meta = {**provenance, "fetched_at": _now(), "sha256": hashlib.sha256(content).hexdigest(),
            "extractor": _extractor_version(), "sources": found.sources}
    return Fetched(record, found.text, content,
                   "document.pdf" if is_pdf(content, content_type) else "page.html", meta)


def _check_status(url: str, status: int) -> None:
    """Any error answer is a problem with the source (exit 1), server errors and rate
    limits too: the network worked, and the client has already retried those."""
    if status < 400:
        return
    if status in (404, 410):
        what = "not found" if status == 404 else "gone"
        raise SourceError(f"{url}: {what} (HTTP {status})")
    if status in (429, 503):
        raise SourceError(f"{url}: the server is busy (HTTP {status}); try again later")
    if status >= 500:
        raise SourceError(f"{url}: server error (HTTP {status})")
    raise SourceError(f"{url}: refused by the server (HTTP {status})")


def _from_file(path: Path) -> Fetched:
    from .extract.html import extract, is_pdf
    data = path.read_bytes()
    found = extract(data, path.resolve().as_uri())
    found.record.fields.pop("url", None)
    pdf = is_pdf(data, None)
    meta = {"requested_url": None, "source_file": str(path), "fetched_at": _now(),
            "sha256": hashlib.sha256(data).hexdigest(), "extractor": _extractor_version()}
    return Fetched(found.record, found.text, data, "document.pdf" if pdf else "page.html", meta)


def _api_json(client, url: str, service: str, what: str, **kwargs) -> dict:
    """A JSON answer of a lookup service; 404 means the item is unknown (bad input)."""
    response = client.get(url, accept="application/json", **kwargs)
    if response.status == 404:
        raise UsageError(f"{what} is not known to {service}")
    if response.status >= 400:   # an answer, so the service's problem, not the network's
        raise SourceError(f"{service} answered HTTP {response.status} for {what}")
    try:
        return json.loads(response.text)
    except ValueError:
        raise SourceError(f"{service} sent no valid JSON for {what}") from None


def _from_doi(doi: str, settings: Settings, client) -> Fetched:
    from .extract import crossref
    params = {"mailto": settings.email} if settings.email else None
    answer = _api_json(client, f"{settings.crossref_url.rstrip('/')}/works/{doi}",
                       "Crossref", f"DOI {doi}", params=params)
    return Fetched(crossref.to_record(answer))


def _from_isbn(isbn: str, settings: Settings, client) -> Fetched:
    from .extract import openlibrary
    answer = _api_json(client, f"{settings.openlibrary_url.rstrip('/')}/api/books",
                       "Open Library", f"ISBN {isbn}",
                       params={"bibkeys": f"ISBN:{isbn}", "format": "json", "jscmd": "data"})
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


class SnapshotError(ClippingsError):
    """The snapshot could not be written here (disk full, no permission): exit 1."""

    exit_code = 1


def write_snapshot(bib_path: Path, key: str, fetched: Fetched) -> str | None:
    """Save the fetched page as the entry's snapshot (noted in the journal); on an error
    a folder it made is removed again and SnapshotError raised."""
    if not fetched.raw:
        return None
    target = snapshots.folder(Path(bib_path).parent, key)
    made = not target.exists()
    try:
        with journal.snapshots_changing(bib_path, key):
            target.mkdir(parents=True, exist_ok=True)
            (target / fetched.filename).write_bytes(fetched.raw)
            (target / "text.txt").write_text(fetched.text or "", encoding="utf-8")
            (target / "meta.json").write_text(json.dumps(fetched.meta or {},
                                                         ensure_ascii=False, indent=2),
                                              encoding="utf-8")
    except OSError as exc:
        if made:
            shutil.rmtree(target, ignore_errors=True)
        reason = exc.strerror or str(exc)
        raise SnapshotError(f"the snapshot of {key} could not be saved in "
                            f"{target.parent}: {reason}",
                            german=f"Die Kopie der Seite für {key} konnte nicht in "
                                   f"{target.parent} gespeichert werden: {reason}") from exc
    return str(target)


def add_sources(path: Path, sources: list[str], *, settings: Settings, entry_type=None,
                key=None, tags=(), assignments=(), force=False, snapshot=True,
                on_item=None, files: bool = True
                ) -> tuple[list[AddResult], list[tuple[str, ClippingsError]]]:
    """Fetch every source and add each as an entry (refusing likely duplicates).

    With several sources a failure of one is collected and the others go on; with
    `files` false a source is never read from this machine's files (see fetch_source).
    """
    if key and len(sources) > 1:
        raise UsageError("--key can only be used with one SOURCE")
    results, failures = [], []
    for source, fetched in fetch_many(sources, settings, on_item, files=files):
        try:
            if isinstance(fetched, ClippingsError):
                raise fetched
            record = fetched.record
            untitled = fetched.raw and not record.fields.get("title")
            if entry_type:
                record.type = validate.check_type(entry_type, force)
            apply_assignments(record, assignments, tags, force)
            if untitled and not record.fields.get("title"):
                raise SourceError(
                    f"{source}: no title could be read from the page, so nothing was saved; "
                    "give one with --set title=... and the entry is saved with its snapshot")
            result = add_with_snapshot(path, record, fetched if snapshot else None,
                                       key=key, force=force, settings=settings)
        except ClippingsError as exc:
            if len(sources) == 1:
                raise
            failures.append((source, exc))   # the other sources still get added
            continue
        if untitled:
            result.notes.append(
                "no title could be read from the page: saved with the title you gave"
                + (" and with its snapshot" if result.snapshot else " (no snapshot)"))
        results.append(result)
    return results, failures


def add_with_snapshot(path: Path, record: Record, fetched: Fetched | None,
                      **options) -> AddResult:
    """`add_record` with the fetched page as the entry's snapshot (none without
    `fetched`): both are saved or neither, so a failed `add` can simply be run again."""
    def save_snapshot(key: str) -> str | None:
        return write_snapshot(path, key, fetched)

    try:
        return add_record(path, record, snapshot=save_snapshot if fetched else None,
                          **options)
    except SnapshotError as exc:
        raise SnapshotError(f"{exc}; so the entry was not saved either (--no-snapshot "
                            "adds it without one)",
                            german=f"{exc.german}; daher wurde auch der Eintrag nicht "
                                   "gespeichert") from exc


def fetch_many(sources: list[str], settings: Settings, on_item=None, *, files: bool = True):
    """(source, Fetched or the ClippingsError it raised) for every source, in order.

    Sources are fetched `concurrency` at a time; the client keeps to `per_host`, so a
    batch from one newspaper is still polite.
    """
    from concurrent.futures import ThreadPoolExecutor
    client = client_for(settings)

    def one(source: str):
        try:
            return fetch_source(source, settings, client, files=files)
        except ClippingsError as exc:
            return exc

    workers = max(1, min(settings.concurrency, len(sources)))
    with ThreadPoolExecutor(workers) as pool:
        for source, fetched in zip(sources, pool.map(one, sources)):
            if on_item:
                on_item(source)
            yield source, fetched


# -- fetch: fill existing entries -------------------------------------------------------

CORE_FIELDS = ("title", "date", "journaltitle", "langid")


@dataclass
class FetchResult:
    key: str
    changed: dict          # field -> [old, new]
    snapshot: str | None = None
    error: str | None = None
    exit_code: int = 0


def _source_of(rec: Record) -> str | None:
    return rec.fields.get("url") or rec.fields.get("doi") or rec.fields.get("isbn") or None


def _needs_fetch(rec: Record, folder: Path, missing: bool, refresh: bool) -> bool:
    has_snapshot = snapshots.folder(folder, rec.key).is_dir()
    if refresh:
        return True
    if missing:
        return not has_snapshot and bool(rec.fields.get("url"))
    lacks = any(not rec.fields.get(f) for f in CORE_FIELDS) or not rec.names.get("author")
    return (not has_snapshot and bool(rec.fields.get("url"))) or lacks


def _field_updates(current: Record, fetched: Record, overwrite: bool) -> dict:
    """field -> (old, new) for fields the fetch may change (empty ones, or all if asked)."""
    from .bibfile import format_names
    updates = {}
    for name, persons in fetched.names.items():
        old = current.names.get(name)
        if persons and (not old or overwrite) and persons != old:
            updates[name] = (format_names(old or []), format_names(persons), persons)
    for name, value in fetched.fields.items():
        if name in ("url", "urldate") or not value:
            continue
        old = current.fields.get(name, "")
        if (not old or overwrite) and old != value:
            updates[name] = (old, value, None)
    return updates


def fetch_entries(path: Path, keys: list[str], *, settings: Settings, missing=False,
                  refresh=False, overwrite=False, on_item=None,
                  on_start=None) -> list[FetchResult]:
    """Fetch metadata (and missing snapshots) for existing entries; fill empty fields."""
    from . import bibfile
    from .library import Library
    folder = Path(path).parent
    lib = Library.load(path, settings)
    selected = [lib.resolve_key(k) for k in keys] if keys else lib.keys()
    todo = []
    for key in selected:
        rec = lib.record(key, resolve=False)
        if _source_of(rec) and (keys or _needs_fetch(rec, folder, missing, refresh)):
            todo.append(rec)
        elif keys and not _source_of(rec):
            raise UsageError(f"{key} has no url, doi or isbn to fetch from")
    fetched: dict[str, Fetched] = {}
    results: dict[str, FetchResult] = {}
    sources = [_source_of(rec) for rec in todo]
    if on_start:
        on_start(len(sources))
    for rec, (_, got) in zip(todo, fetch_many(sources, settings)):
        if on_item:
            on_item(rec.key)
        if isinstance(got, ClippingsError):
            results[rec.key] = FetchResult(rec.key, {}, error=str(got),
                                           exit_code=got.exit_code)
        else:
            fetched[rec.key] = got
    with Library.update(path, settings) as lib:
        for key, got in fetched.items():
            if key not in lib:
                continue
            current = lib.record(key, resolve=False)   # re-read: a person may have edited it
            updates = _field_updates(current, got.record, overwrite and refresh)
            values = {name: ("{" + bibfile.format_names(persons) + "}" if persons is not None
                             else bibfile.format_value(new, name))
                      for name, (_, new, persons) in updates.items()}
            snapshot = None
            if got.raw and not snapshots.folder(folder, key).is_dir():
                try:
                    snapshot = write_snapshot(path, key, got)
                except SnapshotError as exc:   # this entry stays as it was
                    results[key] = FetchResult(key, {}, error=str(exc),
                                               exit_code=exc.exit_code)
                    continue
                if not current.fields.get("urldate") and got.record.fields.get("urldate"):
                    values["urldate"] = bibfile.format_value(got.record.fields["urldate"])
                    updates["urldate"] = ("", got.record.fields["urldate"], None)
            if values:
                lib.set_fields(key, values)
            results[key] = FetchResult(key, {n: [o, v] for n, (o, v, _) in updates.items()},
                                       snapshot)
    return [results[rec.key] for rec in todo if rec.key in results]
