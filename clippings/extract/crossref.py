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


_BOOKS = {"book", "collection", "proceedings", "reference"}
_IN_BOOKS = {"incollection", "inproceedings", "inreference"}
_SERIES = re.compile(r"\b(?:lecture notes|series|reihe|schriften|studies in|advances in|"
                     r"progress in|topics in|monographs?|texts in|briefs)\b", re.I)


def _containers(entry_type: str, value) -> dict[str, str]:
    """Crossref's container titles as biblatex fields.

    A journal article's container is its journal. A book's container can only be a series.
    A chapter lists its series before its book ("Lecture Notes in Computer Science",
    "Euro-Par 2015"): the last title is the book, the one before it the series; a single
    title is the book unless it is plainly a series name.
    """
    titles = [_first(t) for t in (value if isinstance(value, list) else [value]) if _first(t)]
    if not titles:
        return {}
    if entry_type == "article":
        return {"journaltitle": titles[0]}
    if entry_type in _BOOKS:
        return {"series": titles[0]}
    if entry_type in _IN_BOOKS:
        if len(titles) >= 2:
            return {"series": titles[0], "booktitle": titles[-1]}
        return {"series" if _SERIES.search(titles[0]) else "booktitle": titles[0]}
    return {}


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
    fields.update(_containers(entry_type, msg.get("container-title")))
    for src, dst in (("volume", "volume"), ("issue", "number"), ("page", "pages"),
                     ("article-number", "eid"), ("publisher", "publisher"),
                     ("publisher-location", "location")):
        if msg.get(src):
            fields[dst] = str(msg[src]).replace("-", "--") if dst == "pages" else str(msg[src])
    if "series" in fields and "volume" in fields and "number" not in fields:
        # A book's place in its series ("LNCS 9233") is biblatex's `number`, not `volume`.
        fields["number"] = fields.pop("volume")
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
