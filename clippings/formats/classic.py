"""Classic BibTeX read as biblatex: the inverse of `clippings.export.bibtex.classic`.

A .bib file written for `bibtex` + `plain.bst` (by clippings' own `export --format bibtex`
or by older tools) spells biblatex's data the classic way. On import these spellings are
read back into the library's model, so that exporting and importing gives the same
entries, as far as classic BibTeX holds them:

- `year` + `month` (a number, a month name or macro, with an optional day: `jun # "~26,"`,
  which reads as "6 26,") become `date` (`2017-06-26`), only when there is no `date`;
- `journal` becomes `journaltitle`, `address` `location`, `school` `institution`,
  `annote` `annotation`; `techreport` becomes `report`; a `language` that is a babel
  name becomes `langid` when there is none;
- a `howpublished` that is the entry's own URL (how `@online` is written for classic
  styles) is dropped, and such a `@misc` is `@online` again;
- a `subtitle` (written beside the joined title for this purpose) is taken off the
  title again: "Title: Subtitle" with `subtitle = {Subtitle}` is title "Title";
- the access note at the end of `note` ("Abgerufen am 15.01.2024." / "Accessed
  2024-01-15.") becomes `urldate` (a note before it keeps a final full stop).

What classic BibTeX cannot hold stays lost: the ends of date ranges, lists of
publishers or places (written "A, B"), and the entry types it lacks (`@periodical` ...).
Values already in the biblatex spelling always win; nothing is guessed.
"""

from __future__ import annotations

import re

from clippings.bibfile import MONTH_ABBREVIATIONS
from clippings.model import Record

from . import dates

__all__ = ["read_classic"]

_MONTH_NAMES = {m: i for i, m in enumerate(MONTH_ABBREVIATIONS, start=1)}
_MONTH_DAY = re.compile(r"([a-z]+|\d{1,2})\.?[\s~\u00a0]*(?:(\d{1,2}),?)?")
_RENAMES = (("journal", "journaltitle"), ("address", "location"),
            ("school", "institution"), ("annote", "annotation"))
_ACCESS = re.compile(r"(?:^|(?<=\.) |\. )(?:Abgerufen am|Accessed) (\S+)\.$")
_GERMAN_DAY = re.compile(r"(\d\d)\.(\d\d)\.(\d{4})")


def read_classic(rec: Record) -> Record:
    """`rec` with classic BibTeX's spellings read as biblatex's (changed in place)."""
    f = rec.fields
    if rec.type == "techreport":
        rec.type = "report"
    for old, new in _RENAMES:
        if old in f and not f.get(new):
            f[new] = f.pop(old)
    if f.get("year") and not f.get("date"):
        date = _date(f["year"], f.get("month", ""))
        if date:
            f["date"] = date
            f.pop("year")
            f.pop("month", None)
    language = f.get("language", "")
    if language and not f.get("langid") and " " not in language.strip() \
            and dates.code_for(language):
        f["langid"] = f.pop("language").strip()
    if f.get("url") and f.get("howpublished") == f["url"]:
        del f["howpublished"]
        if rec.type == "misc":
            rec.type = "online"
    if f.get("note") and not f.get("urldate"):
        _access_note(f)
    if f.get("subtitle") and f.get("title"):
        _split_title(f)
    return rec


def _split_title(f: dict[str, str]) -> None:
    title, subtitle = f["title"], f["subtitle"]
    if title == subtitle or not title.endswith(subtitle):
        return
    head = title[: len(title) - len(subtitle)]
    main = head[:-2] if head.endswith(": ") else head[:-1] if head.endswith(" ") else None
    if main and dates.join_title(main, subtitle) == title:
        f["title"] = main


def _date(year: str, month: str) -> str | None:
    """The model date of classic year/month fields, or None when they say something else."""
    year, month = year.strip(), month.strip().lower()
    if not re.fullmatch(r"\d{4}", year):
        return None
    if not month:
        return year
    m = _MONTH_DAY.fullmatch(month)
    if not m:
        return None
    number = int(m.group(1)) if m.group(1).isdigit() else _MONTH_NAMES.get(m.group(1)[:3])
    if not number or not 1 <= number <= 12:
        return None
    text = f"{year}-{number:02d}" + (f"-{int(m.group(2)):02d}" if m.group(2) else "")
    return dates.normalize_date(text) if m.group(2) else text


def _access_note(f: dict[str, str]) -> None:
    m = _ACCESS.search(f["note"])
    if not m:
        return
    shown = m.group(1)
    german = _GERMAN_DAY.fullmatch(shown)
    date = f"{german.group(3)}-{german.group(2)}-{german.group(1)}" if german else shown
    if dates.normalize_date(date) != date:
        return
    f["urldate"] = date
    # "Note. Abgerufen am ..." -> "Note." (the full stop may have been the exporter's)
    rest = f["note"][:m.start() + (1 if m.group().startswith(".") else 0)]
    if rest:
        f["note"] = rest
    else:
        del f["note"]
