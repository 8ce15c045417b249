"""PDF documents (handbooks, reports, declarations): text and metadata with pypdf.

The document information dictionary and XMP are both read; XMP wins where a producer
filled both (it is newer and Unicode-safe). A PDF's "Author" is often the login name of
whoever saved it, so single-word lower-case authors are dropped.
"""

from __future__ import annotations

import io
import logging
import re

from ..errors import UsageError
from ..model import Name, Record
from . import dates, language, people
from .html import Extraction

_MANUAL = re.compile(r"\b(?:handbuch|leitfaden|anleitung|manual|handbook|guide|"
                     r"руководство|инструкция)\b", re.I)
_MAX_PAGES_TEXT = 200

# pypdf logs what it repairs in a broken file ("EOF marker not found"); with no logging
# configured Python would print that to stderr beside our one error line. A handler of
# its own keeps it quiet, and still lets it through where an application sets logging up.
logging.getLogger("pypdf").addHandler(logging.NullHandler())


def _pdf_date(value) -> str | None:
    """pypdf hands back datetimes, or raw 'D:20170626120000+02'00'' strings."""
    if value is None:
        return None
    if hasattr(value, "year"):
        return dates.make(value.year, value.month, value.day)
    m = re.match(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?", str(value).strip())
    if not m:
        return None
    return dates.make(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))


def _names(value: str) -> list[Name]:
    value = value.strip()
    if not value or (" " not in value and value.islower()):
        return []
    parts = [p for p in re.split(r"\s*;\s*|\s+(?:und|and|и|&)\s+", value) if p.strip()]
    if len(parts) == 1 and value.count(",") >= 2:
        parts = [p for p in value.split(",") if p.strip()]
    out = []
    for part in parts:
        part = part.strip()
        if people.looks_like_person(part) or re.fullmatch(r"[^,]+,\s*[^,]+", part):
            out.append(people.person(part))
        elif part:
            out.append(Name(family=part, literal=True))
    return out


def extract(content: bytes, url: str = "", *, text: str | None = None) -> Extraction:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:   # pragma: no cover - pypdf is a dependency
        raise UsageError("reading PDFs needs the pypdf package") from exc
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            reader.decrypt("")
        info = reader.metadata or {}
        xmp = None
        try:
            xmp = reader.xmp_metadata
        except Exception:   # noqa: BLE001 -- broken XMP: the info dictionary still counts
            xmp = None
        body = text if text is not None else _text(reader)
    except (PdfReadError, ValueError, KeyError, OSError, TypeError) as exc:
        raise UsageError(f"not a readable PDF: {exc}") from exc

    fields: dict[str, str] = {}
    won: dict[str, str] = {}
    title = _xmp_first(xmp, "dc_title") or str(info.get("/Title") or "")
    title = re.sub(r"\s+", " ", title).strip()
    if title and not re.search(r"\.(?:docx?|indd|pdf|odt)$|^microsoft word", title, re.I):
        fields["title"], won["title"] = title, "pdf-info"
    elif body:
        first = next((line.strip() for line in body.splitlines() if len(line.strip()) > 8), "")
        if first:
            fields["title"], won["title"] = first[:200], "pdf-text"
    creators = _xmp_list(xmp, "dc_creator")
    names = [n for c in creators for n in _names(c)] or _names(str(info.get("/Author") or ""))
    subject = str(info.get("/Subject") or "").strip()
    if subject:
        fields["abstract"] = subject
    date = None
    if xmp is not None:
        date = _pdf_date(getattr(xmp, "xmp_create_date", None))
    date = date or _pdf_date(info.get("/CreationDate")) or _pdf_date(info.get("/ModDate"))
    if date:
        fields["date"], won["date"] = date, "pdf-info"
    if url:
        fields["url"] = url
    m = re.search(r"\b(10\.\d{4,9}/[^\s\"'<>]+)", body[:20000])
    if m:
        fields["doi"] = m.group(1).rstrip(".,;)")
    babel = language.detect(body)
    if babel:
        fields["langid"] = babel
    entry_type = "manual" if _MANUAL.search(fields.get("title", "")) else "report"
    if entry_type == "report":
        fields["type"] = "Bericht" if babel == "ngerman" else "Report"
    record = Record(type=entry_type, fields=fields, names={"author": names} if names else {})
    if names:
        won["author"] = "pdf-info"
    return Extraction(record=record, text=body, sources=won)


def _text(reader) -> str:
    parts = []
    for i, page in enumerate(reader.pages):
        if i >= _MAX_PAGES_TEXT:
            break
        try:
            parts.append(page.extract_text() or "")
        except Exception:   # noqa: BLE001 -- one bad page must not lose the document
            continue
    return "\n\n".join(p.strip() for p in parts if p.strip())


def _xmp_first(xmp, attr: str) -> str:
    value = getattr(xmp, attr, None) if xmp is not None else None
    if isinstance(value, dict):
        return str(value.get("x-default") or next(iter(value.values()), "") or "")
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value or "")


def _xmp_list(xmp, attr: str) -> list[str]:
    value = getattr(xmp, attr, None) if xmp is not None else None
    if isinstance(value, list):
        return [str(v) for v in value if v]
    return [str(value)] if value else []
