"""Crossref `/works/{doi}` answers -> `Record`s (the HTTP call lives with the client)."""

from __future__ import annotations

import re

from ..model import Name, Record
from . import dates, language

_TYPES = {"journal-article": "article", "book": "book", "monograph": "book",
          "edited-book": "collection", "book-chapter": "incollection",
          "book-section": "incollection", "book-part": "incollection",
          "proceedings-article": "inproceedings", "proceedings": "proceedings",
          "report": "report", "report-series": "report", "dissertation": "thesis",
          "posted-content": "online", "dataset": "dataset", "standard": "standard",
          "reference-entry": "inreference", "peer-review": "article"}


def _names(people: list | None) -> list[Name]:
    out = []
    for p in people or []:
        if not isinstance(p, dict):
            continue
        if p.get("family"):
            out.append(Name(family=p["family"].strip(), given=(p.get("given") or "").strip(),
                            suffix=(p.get("suffix") or "").strip()))
        elif p.get("name"):
            out.append(Name(family=p["name"].strip(), literal=True))
    return out


def _date(message: dict) -> str | None:
    for key in ("published-print", "published-online", "published", "issued", "created"):
        parts = (message.get(key) or {}).get("date-parts") or [[]]
        first = parts[0] if parts else []
        if first and first[0]:
            year, month, day = (list(first) + [None, None])[:3]
            if month is None:
                return str(year)
            return dates.make(int(year), int(month), int(day) if day else None)
    return None


def _first(value) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", str(value or ""))).strip()


def to_record(answer: dict) -> Record:
    """Map a Crossref answer (the whole `{"message": ...}` object or its message)."""
    msg = answer.get("message", answer) if isinstance(answer, dict) else {}
    entry_type = _TYPES.get(msg.get("type", ""), "misc")
    fields: dict[str, str] = {}
    title = _first(msg.get("title"))
    if title:
        fields["title"] = title
    if (sub := _first(msg.get("subtitle"))):
        fields["subtitle"] = sub
    container = _first(msg.get("container-title"))
    if container:
        key = {"article": "journaltitle", "incollection": "booktitle",
               "inproceedings": "booktitle", "inreference": "booktitle"}.get(entry_type)
        if key:
            fields[key] = container
    for src, dst in (("volume", "volume"), ("issue", "number"), ("page", "pages"),
                     ("publisher", "publisher"), ("publisher-location", "location")):
        if msg.get(src):
            fields[dst] = str(msg[src]).replace("-", "--") if dst == "pages" else str(msg[src])
    if (date := _date(msg)):
        fields["date"] = date
    if msg.get("DOI"):
        fields["doi"] = msg["DOI"].lower()
    if msg.get("URL"):
        fields["url"] = msg["URL"]
    if (isbn := _first(msg.get("ISBN"))):
        fields["isbn"] = isbn
    if (issn := _first(msg.get("ISSN"))):
        fields["issn"] = issn
    if (abstract := _first(msg.get("abstract"))):
        fields["abstract"] = abstract
    if (babel := language.from_code(msg.get("language"))):
        fields["langid"] = babel
    names = {}
    for role in ("author", "editor", "translator"):
        if (found := _names(msg.get(role))):
            names[role] = found
    return Record(type=entry_type, fields=fields, names=names)
