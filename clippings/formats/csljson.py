"""CSL-JSON reading and writing, mapped to biblatex `Record`s.

Output is what pandoc's citeproc, citeproc-js and Zotero read: a JSON array of objects,
each with `id` (the citation key) and `type`, names as `{"family", "given",
"dropping-particle", "suffix"}` or `{"literal"}`, dates as `{"date-parts": [[y, m, d]]}`.
Input may also be a single item object or Zotero's API shape `{"items": [...]}`; dates
may be given as `date-parts`, `raw`, `literal` or a bare string; numbers may be JSON
numbers; Zotero's rich-text tags (`<i>`, `<span class="nocase">`) are removed.

Types (biblatex -> CSL; reading maps back, "<-" marks extra CSL types read)::

    article                 article-journal   (entrysubtype newspaper -> article-newspaper,
                                               magazine -> article-magazine)
    online                  webpage           (entrysubtype blog -> post-weblog; <- post)
    report                  report
    book mvbook collection mvcollection proceedings manual
                            book              (reads back as book; <- classic, collection)
    booklet                 pamphlet          incollection inbook   chapter
    inreference             entry-encyclopedia (<- entry, entry-dictionary)
    inproceedings           paper-conference  thesis phdthesis mastersthesis   thesis
    periodical              periodical        unpublished           manuscript
    standard                standard          misc                  document (<- article,
                                                                    Zotero's "document")
    patent                  patent            legislation           legislation (<- bill,
                                                                    regulation, treaty)
    jurisdiction            legal_case        software, dataset     software, dataset
    review                  review (<- review-book)                 letter  personal_communication
    movie video             motion_picture    audio                 song
    music                   musical_score     artwork image         graphic
    performance             performance       anything else         document -> misc

Fields (biblatex <-> CSL)::

    title subtitle titleaddon   title ("Title: Subtitle. Addon"; split back into title
                                and subtitle only when title-short is exactly the part
                                before ": ", which the writer arranges, see
                                `dates.split_title`)
    shorttitle                  title-short (<- shortTitle)
    journaltitle / booktitle    container-title (booktitle for incollection, inbook,
                                inproceedings, inreference)
    shortjournal                container-title-short (<- journalAbbreviation)
    series                      collection-title
    number                      issue (article, periodical), collection-number (books and
                                their parts), number (the rest)
    issue                       issue (articles: only when there is no number; a CSL
                                issue that is not a number reads back as issue)
    date, urldate, origdate, eventdate   issued, accessed, original-date, event-date
                                (`2017/2018` <-> `[[2017], [2018]]`; open `1988/` <->
                                `[[1988], [0]]`; `2017~` <-> `"circa": true`)
    publisher (institution for report/thesis, organization for standard/manual)
                                publisher
    location                    publisher-place   pages         page ("12--15" <-> "12-15")
    volume, edition, version    volume, edition, version
    volumes, pagetotal          number-of-volumes, number-of-pages
    url doi isbn issn           URL DOI ISBN ISSN
    langid                      language (BCP 47; an unknown code stays in `language`)
    abstract note               abstract note ("Citation Key: x" lines become the key)
    annotation                  annote
    keywords                    keyword ("a, b, c")
    type                        genre             howpublished  medium
    eventtitle venue            event-title (<- event) event-place
    pubstate                    status
    author editor translator bookauthor   author editor translator container-author
    key                         id (or citation-key when present; ids that are database
                                ids, such as Zotero's "12345/ABCD", give no key)

Not held by CSL (dropped on export): titleaddon and subtitle as separate fields (see
title), entrysubtypes other than newspaper/magazine/blog, an article's named issue when
it also has a number, and biblatex-only fields. Read but not kept: Zotero's `section`,
`source`, `archive`, `call-number`. A CSL date the reader cannot parse keeps only its
year. Records without a key are written with ids `item1`, `item2`, ...; `citation-key`
is written too (Zotero 7 and Better BibTeX read it).

Names: `Name.prefix` is written as `dropping-particle` (biblatex's default `useprefix=
false`: "Goethe, Johann Wolfgang von"); both particles read back as the prefix, and a
family name with leading lower-case words ("von Goethe") is split the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from clippings.errors import BibSyntaxError
from clippings.model import Name, Record

from . import dates

__all__ = ["parse", "dump", "to_csl", "record_from_csl"]

_TYPE_TO_CSL = {
    "article": "article-journal", "online": "webpage", "report": "report",
    "book": "book", "mvbook": "book", "collection": "book", "mvcollection": "book",
    "proceedings": "book", "manual": "book", "booklet": "pamphlet",
    "incollection": "chapter", "inbook": "chapter", "inreference": "entry-encyclopedia",
    "inproceedings": "paper-conference", "thesis": "thesis", "phdthesis": "thesis",
    "mastersthesis": "thesis", "periodical": "periodical", "unpublished": "manuscript",
    "standard": "standard", "misc": "document", "patent": "patent",
    "legislation": "legislation", "jurisdiction": "legal_case", "software": "software",
    "dataset": "dataset", "review": "review", "letter": "personal_communication",
    "movie": "motion_picture", "video": "motion_picture", "audio": "song",
    "music": "musical_score", "artwork": "graphic", "image": "graphic",
    "performance": "performance",
}
_SUBTYPE_TO_CSL = {("article", "newspaper"): "article-newspaper",
                   ("article", "magazine"): "article-magazine",
                   ("online", "blog"): "post-weblog"}
_CSL_TO_TYPE: dict[str, tuple[str, str]] = {
    "article-journal": ("article", ""), "article-newspaper": ("article", "newspaper"),
    "article-magazine": ("article", "magazine"), "webpage": ("online", ""),
    "post-weblog": ("online", "blog"), "post": ("online", ""), "report": ("report", ""),
    "book": ("book", ""), "classic": ("book", ""), "collection": ("book", ""),
    "pamphlet": ("booklet", ""), "chapter": ("incollection", ""),
    "entry": ("inreference", ""), "entry-dictionary": ("inreference", ""),
    "entry-encyclopedia": ("inreference", ""),
    "paper-conference": ("inproceedings", ""), "thesis": ("thesis", ""),
    "periodical": ("periodical", ""), "manuscript": ("unpublished", ""),
    "standard": ("standard", ""), "document": ("misc", ""), "article": ("misc", ""),
    "patent": ("patent", ""), "legislation": ("legislation", ""),
    "bill": ("legislation", ""), "regulation": ("legislation", ""),
    "treaty": ("legislation", ""), "legal_case": ("jurisdiction", ""),
    "software": ("software", ""), "dataset": ("dataset", ""), "review": ("review", ""),
    "review-book": ("review", ""), "personal_communication": ("letter", ""),
    "motion_picture": ("movie", ""), "song": ("audio", ""),
    "musical_score": ("music", ""), "graphic": ("artwork", ""),
    "performance": ("performance", ""),
}

_IN_BOOK = {"incollection", "inbook", "inproceedings", "inreference"}
_ISSUE_TYPES = {"article", "periodical", "review"}
_SERIES_NUMBER_TYPES = {"book", "mvbook", "collection", "mvcollection", "proceedings",
                        "incollection", "inbook", "inproceedings", "inreference",
                        "booklet", "manual"}
_PUBLISHER_ROLE = {"report": "institution", "thesis": "institution",
                   "standard": "organization", "manual": "organization"}
_PUBLISHER_FIELDS = ("publisher", "institution", "organization")
_NUMERIC = re.compile(r"[\dIVXLCivxlc]+(?:\s*[-–/]\s*[\dIVXLCivxlc]+)*")

# Plain text fields: biblatex name <-> CSL variable (names read first win on import).
_SIMPLE = (
    ("series", "collection-title"), ("shortjournal", "container-title-short"),
    ("shortjournal", "journalAbbreviation"), ("location", "publisher-place"),
    ("volume", "volume"), ("edition", "edition"), ("version", "version"),
    ("volumes", "number-of-volumes"), ("pagetotal", "number-of-pages"),
    ("url", "URL"), ("doi", "DOI"), ("isbn", "ISBN"), ("issn", "ISSN"),
    ("abstract", "abstract"), ("type", "genre"), ("howpublished", "medium"),
    ("eventtitle", "event-title"), ("eventtitle", "event"), ("venue", "event-place"),
    ("pubstate", "status"), ("annotation", "annote"),
)
_DATES = (("date", "issued"), ("urldate", "accessed"), ("origdate", "original-date"),
          ("eventdate", "event-date"))
_NAMES = (("author", "author"), ("editor", "editor"), ("translator", "translator"),
          ("bookauthor", "container-author"))
_KNOWN_KEYS = {"id", "type", "title", "citation-key", "issued", "author", "editor",
               "container-title", "URL", "DOI"}
_CITATION_KEY_LINE = re.compile(r"^\s*citation key:\s*(\S+)\s*$", re.I | re.M)


# --- reading -------------------------------------------------------------------------

def parse(text: str, source: str = "<json>") -> list[Record]:
    """Every item of a CSL-JSON text, in order."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BibSyntaxError(source, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}"
                             ) from None
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        items, positions = data["items"], []
    elif isinstance(data, dict) and _KNOWN_KEYS & data.keys():
        items, positions = [data], [0]
    elif isinstance(data, list):
        items, positions = data, _element_offsets(text)
    else:
        raise BibSyntaxError(source, 1, 1, "not CSL-JSON: expected an array of items "
                                           "(objects with \"id\" and \"type\")")
    records = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not _KNOWN_KEYS & item.keys():
            line, col = _line_col(text, positions[i] if i < len(positions) else 0)
            what = "an object" if not isinstance(item, dict) else "a CSL item"
            raise BibSyntaxError(source, line, col,
                                 f"item {i + 1} is not {what} (no type, id or title)")
        records.append(record_from_csl(item))
    return records


def _element_offsets(text: str) -> list[int]:
    """Offsets where the elements of the top-level JSON array start (for messages)."""
    offsets, depth, i, n = [], 0, 0, len(text)
    expecting = False
    while i < n:
        ch = text[i]
        if ch == '"':
            if depth == 1 and expecting:
                offsets.append(i)
                expecting = False
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif ch in "[{":
            if depth == 1 and expecting:
                offsets.append(i)
                expecting = False
            depth += 1
            if depth == 1:
                expecting = True
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 1:
            expecting = True
        elif depth == 1 and expecting and not ch.isspace():
            offsets.append(i)
            expecting = False
        i += 1
    return offsets


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _text(value: Any) -> str:
    """A CSL value as plain text: numbers become strings, rich-text tags go."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return ""
    return dates.strip_markup(str(value)).strip()


def _name(value: Any) -> Name | None:
    if isinstance(value, str):
        value = {"literal": value}
    if not isinstance(value, dict):
        return None
    literal = _text(value.get("literal"))
    if literal:
        return Name(family=literal, literal=True)
    family, given = _text(value.get("family")), _text(value.get("given"))
    if not family and not given:
        return None
    if not family:  # a mononym written as given name only
        family, given = given, ""
    particles = [_text(value.get("dropping-particle")),
                 _text(value.get("non-dropping-particle"))]
    prefix = " ".join(p for p in particles if p)
    if not prefix:
        prefix, family = dates.split_particle(family)
    return Name(family=family, given=given, prefix=prefix,
                suffix=_text(value.get("suffix")))


def _date(value: Any) -> str:
    """A model date from a CSL date object (or a bare string), "" when there is none."""
    if isinstance(value, (str, int)):
        value = {"raw": str(value)}
    if not isinstance(value, dict):
        return ""
    parts = value.get("date-parts")
    iso = ""
    if isinstance(parts, list) and parts:
        ends = [_iso_parts(p) for p in parts[:2]]
        if ends[0]:
            iso = ends[0]
            if len(ends) == 2 and ends[1] and ends[1] != ends[0]:
                iso = f"{ends[0]}/{ends[1]}"
            elif len(ends) == 2 and _is_open_end(parts[1]):
                iso = ends[0] + "/"
    for key in ("raw", "literal"):
        if not iso and _text(value.get(key)):
            raw = _text(value.get(key))
            iso = dates.normalize_date(raw) or dates.year_in(raw) or ""
    if iso and value.get("circa") not in (None, False, 0, "", "0", "false"):
        start, slash, end = iso.partition("/")
        if not start.endswith(("~", "?", "%")):
            iso = start + "~" + slash + end
    return iso


def _is_open_end(parts: Any) -> bool:
    """`[0]` or `[]` as the end of a range: open-ended (citeproc-js, pandoc)."""
    return isinstance(parts, list) and all(str(p).strip() in ("", "0") for p in parts)


def _iso_parts(parts: Any) -> str:
    if not isinstance(parts, list) or not parts:
        return ""
    try:
        numbers = [int(str(p).strip()) for p in parts[:3] if str(p).strip()]
    except ValueError:
        return ""
    if not numbers or not 0 < numbers[0] < 10000:
        return ""
    return dates.normalize_date("-".join(f"{n:02d}" if i else f"{n:04d}"
                                         for i, n in enumerate(numbers))) or ""


def record_from_csl(item: dict[str, Any]) -> Record:
    """A `Record` from one CSL-JSON item."""
    ctype = _text(item.get("type"))
    rtype, subtype = _CSL_TO_TYPE.get(ctype, ("misc", ""))
    rec = Record(type=rtype)
    f = rec.fields
    if subtype:
        f["entrysubtype"] = subtype

    def put(name: str, value: Any) -> None:
        text = _text(value)
        if text and name not in f:
            f[name] = text

    for field, var in _NAMES:
        raw = item.get(var)
        raw = raw if isinstance(raw, list) else [raw] if raw else []
        persons = [n for n in map(_name, raw) if n]
        if persons:
            rec.names[field] = persons

    title = _text(item.get("title"))
    short = _text(item.get("title-short")) or _text(item.get("shortTitle"))
    split = dates.split_title(title, short) if title else None
    if split:
        f["title"], f["subtitle"] = split
    else:
        put("title", title)
        put("shorttitle", short)
    put("booktitle" if rtype in _IN_BOOK else "journaltitle", item.get("container-title"))
    for field, var in _SIMPLE:
        put(field, item.get(var))
    put(_PUBLISHER_ROLE.get(rtype, "publisher"), item.get("publisher"))
    for field, var in _DATES:
        put(field, _date(item.get(var)))

    if rtype in _ISSUE_TYPES:
        issue = _text(item.get("issue"))
        put("number" if _NUMERIC.fullmatch(issue) else "issue", issue)
        put("number", item.get("number"))
    else:
        put("number", item.get("collection-number" if rtype in _SERIES_NUMBER_TYPES
                               else "number"))
        put("number", item.get("number"))
        put("issue", item.get("issue"))
    pages = _text(item.get("page"))
    put("pages", dates.model_pages(pages) if pages else "")

    language = _text(item.get("language"))
    if language:
        langid = dates.langid_for(language)
        put("langid" if langid else "language", langid or language)
    keywords = [k.strip() for k in re.split(r"[,;]", _text(item.get("keyword")))]
    put("keywords", ", ".join(k for k in keywords if k))

    note = _text(item.get("note"))
    key_in_note = _CITATION_KEY_LINE.search(note)
    if key_in_note:
        note = _CITATION_KEY_LINE.sub("", note).strip()
    put("note", note)
    rec.key, rec.source_key = dates.key_from(
        item.get("citation-key"), key_in_note.group(1) if key_in_note else None,
        item.get("id"))
    return rec


# --- writing ------------------------------------------------------------------------

def dump(records: Iterable[Record]) -> str:
    """A CSL-JSON array for `records`; records without a key get `item1`, `item2`, ..."""
    items = []
    for n, record in enumerate(records, start=1):
        item = to_csl(record)
        if not record.key:
            item["id"] = f"item{n}"
        items.append(item)
    return _compact_numbers(json.dumps(items, ensure_ascii=False, indent=2)) + "\n"


_NUMBER_ARRAY = re.compile(r"\[\s*(-?\d+(?:\s*,\s*-?\d+)*)\s*\]")
_ARRAY_OF_ARRAYS = re.compile(r"\[\s*(\[[-\d, ]*\](?:\s*,\s*\[[-\d, ]*\])*)\s*\]")


def _compact_numbers(text: str) -> str:
    """`"date-parts": [[2017, 6, 26]]` on one line, as Zotero and pandoc write it."""
    text = _NUMBER_ARRAY.sub(lambda m: "[" + ", ".join(m.group(1).replace(",", " ")
                                                         .split()) + "]", text)
    return _ARRAY_OF_ARRAYS.sub(lambda m: "[" + re.sub(r"\]\s*,\s*\[", "], [",
                                                       m.group(1)) + "]", text)


def to_csl(record: Record) -> dict[str, Any]:
    """One record as a CSL-JSON item (`id` is the key, "" when the record has none)."""
    f = dates.modern_fields(record.fields)
    rtype = record.type.lower()
    subtype = f.get("entrysubtype", "").lower()
    item: dict[str, Any] = {
        "id": record.key or "",
        "type": _SUBTYPE_TO_CSL.get((rtype, subtype)) or _TYPE_TO_CSL.get(rtype,
                                                                           "document"),
    }

    def put(var: str, value: Any) -> None:
        if value not in (None, "", [], {}) and var not in item:
            item[var] = value

    for field, var in _NAMES:
        put(var, [_csl_name(n) for n in _persons(record, field)])
    title, short = dates.title_and_short(f)
    put("title", title)
    put("title-short", short)
    container = ("booktitle", "journaltitle") if rtype in _IN_BOOK else \
        ("journaltitle", "booktitle")
    put("container-title", f.get(container[0]) or f.get(container[1]))
    for field, var in _SIMPLE:
        if var not in ("journalAbbreviation", "event"):  # read-only aliases
            put(var, f.get(field))
    role = _PUBLISHER_ROLE.get(rtype, "publisher")
    put("publisher", f.get(role) or next((f[n] for n in _PUBLISHER_FIELDS if f.get(n)),
                                         ""))
    if not f.get("location"):
        put("publisher-place", f.get("address"))
    for field, var in _DATES:
        put(var, _csl_date(f.get(field, "")))

    number, issue = f.get("number", ""), f.get("issue", "")
    if rtype in _ISSUE_TYPES:
        put("issue", number or issue)
    else:
        put("collection-number" if rtype in _SERIES_NUMBER_TYPES else "number", number)
        put("issue", issue)
    put("page", dates.plain_pages(f.get("pages", "")))
    lang = f.get("langid", "")
    put("language", (dates.code_for(lang) or lang) if lang else f.get("language"))
    put("keyword", f.get("keywords"))
    put("note", f.get("note"))
    if record.key:
        put("citation-key", record.key)
    return item


def _csl_name(name: Name) -> dict[str, str]:
    if name.literal:
        return {"literal": name.family}
    out = {"family": name.family, "given": name.given, "dropping-particle": name.prefix,
           "suffix": name.suffix}
    return {k: v for k, v in out.items() if v}


def _csl_date(value: str) -> dict[str, Any] | None:
    """`date-parts` for dates and ranges (an open end is `[0]`, as citeproc-js and
    pandoc write it); EDTF `raw` for a range with an uncertain end; `literal` for text
    that is not a model date."""
    if not value:
        return None
    parsed = dates.parse_model_date(value)
    if parsed is None:
        return {"literal": value}
    start, end, open_ended = parsed
    if end is not None and end.circa:
        return {"raw": value.replace("%", "?")}
    last = [end.parts()] if end else [[0]] if open_ended else []
    out: dict[str, Any] = {"date-parts": [start.parts()] + last}
    if start.circa:
        out["circa"] = True
    return out


def _persons(record: Record, role: str) -> list[Name]:
    """The names of one role without biblatex's "and others" marker."""
    return [n for n in record.names.get(role, [])
            if not (n.literal and n.family == "others")]
