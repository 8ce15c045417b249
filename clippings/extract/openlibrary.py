"""Open Library books API answers (`/api/books?bibkeys=ISBN:...&jscmd=data&format=json`)
-> `Record`s. ISBNs are checked and normalised here too."""

from __future__ import annotations

import re

from ..model import Name, Record
from . import dates, language, people


def _year_or_date(text: str) -> str | None:
    text = text.strip()
    found = dates.find(text)
    if found:
        return found[0][0]
    month = dates.find_month(text)
    if month:
        return month
    m = re.search(r"\b(1[5-9]\d{2}|20\d{2})\b", text)
    return m.group(1) if m else None


def to_record(answer: dict, isbn: str) -> Record | None:
    """Map the answer for `isbn` (None when Open Library does not know the book)."""
    data = answer.get(f"ISBN:{isbn}") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        data = next((v for v in answer.values() if isinstance(v, dict)), None) \
            if isinstance(answer, dict) else None
    if not data:
        return None
    fields: dict[str, str] = {"isbn": isbn}
    if data.get("title"):
        fields["title"] = data["title"].strip()
    if data.get("subtitle"):
        fields["subtitle"] = data["subtitle"].strip()
    pubs = [p.get("name", "") for p in data.get("publishers") or [] if isinstance(p, dict)]
    if pubs:
        fields["publisher"] = " and ".join(p for p in pubs if p)
    places = [p.get("name", "") for p in data.get("publish_places") or [] if isinstance(p, dict)]
    if places:
        fields["location"] = " and ".join(p for p in places if p)
    if data.get("publish_date") and (date := _year_or_date(str(data["publish_date"]))):
        fields["date"] = date
    if data.get("number_of_pages"):
        fields["pagetotal"] = str(data["number_of_pages"])
    if data.get("url"):
        fields["url"] = data["url"]
    langs = data.get("languages") or []
    if langs and isinstance(langs[0], dict):
        code = langs[0].get("key", "").rsplit("/", 1)[-1]
        babel = {"ger": "ngerman", "deu": "ngerman", "eng": "english", "rus": "russian",
                 "fre": "french", "fra": "french"}.get(code) or language.from_code(code[:2])
        if babel:
            fields["langid"] = babel
    names = []
    for a in data.get("authors") or []:
        name = (a.get("name") if isinstance(a, dict) else str(a)) or ""
        if not name.strip():
            continue
        names.append(people.person(name) if people.looks_like_person(name) or "," in name
                     else Name(family=name.strip(), literal=True))
    return Record(type="book", fields=fields, names={"author": names} if names else {})
