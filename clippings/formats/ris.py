"""RIS (Research Information Systems) reading and writing, mapped to biblatex `Record`s.

Reading is tolerant of what Zotero, Citavi, EndNote and database exports write: a byte
order mark, CRLF or CR line ends, blank lines, one or two spaces (or a tab) before the
dash, `ER  -` without its trailing space, header junk before the first record ("Provider: ..."), values
wrapped onto continuation lines, repeated tags. A record that has tags but no `TY`, or
a `TY` without its closing `ER`, is an error (`BibSyntaxError` naming the record's line).

Types (RIS -> biblatex; the first RIS name is the one written)::

    JOUR EJOUR INPR ABST     article             NEWS      article, entrysubtype=newspaper
    MGZN                     article, entrysubtype=magazine
    ELEC WEB ICOMM           online              BLOG      online, entrysubtype=blog
    RPRT GOVDOC              report              BOOK EBOOK ANCIENT CLSWK   book
    EDBOOK                   collection          CHAP ECHAP                 incollection
    ENCYC DICT               inreference         CONF CPAPER                inproceedings
    THES                     thesis              PAMP                       booklet
    STAND                    standard (a type of biblatex's data model, printed as
                             misc by the standard styles)
    GEN                      misc                JFULL SER                  periodical
    UNPB MANSCPT             unpublished         PAT                        patent
    STAT BILL                legislation         CASE                       jurisdiction
    COMP                     software            DATA                       dataset
    anything else            misc

    biblatex types without a RIS twin are written as the nearest: mvbook, proceedings,
    manual -> BOOK (RIS and CSL have no manual; it reads back as book), mvcollection
    -> EDBOOK, inbook -> CHAP, phdthesis/mastersthesis -> THES, the rest -> GEN.

Tags (read; the first one is written)::

    AU A1           author ("Family, Given, Suffix"; a name without a comma is an
                    organisation, as in Zotero; a person without given name is written
                    "Family," so it stays a person)
    A2 ED           editor                 A4 TA         translator
    TI T1 CT BT     title ("Title: Subtitle. Titleaddon" on export; split back only
                    when ST is exactly the part before ": ", see `dates.split_title`)
    ST              shorttitle
    T2 JO JF        journaltitle (articles, online, periodicals, misc) or booktitle
                    (incollection, inproceedings, inreference); for books and reports a
                    T2 is their series when there is no T3
    J2 JA J1        shortjournal           T3            series
    PY Y1 DA        date (the most precise wins; `2017/06/26/`, ISO, German and English
                    spellings; ranges written as ISO `2017/2018` in DA)
    Y2              urldate                VL            volume
    IS              number (also `issue` when there is no number)
    SP EP           pages ("12--15")       ET            edition
    PB              publisher, or institution (report, thesis), organization (standard)
    CY PP           location               NV            volumes
    SN              isbn or issn, told apart by their shape
    DO              doi (a doi.org prefix is removed)
    UR L2           url (the first)        LA            langid (BCP 47 on export)
                                                         or language when unknown
    M3              type (a DOI found there goes to doi)
    AB N2           abstract               N1            note (Zotero's HTML is cleaned)
    KW              keywords, one per tag  ID LB         key (via `dates.clean_key`)

Not held by RIS (dropped on export): subtitle/titleaddon as separate fields (see TI),
a separate `issue` (it goes to IS when there is no number and reads back as number),
other entrysubtypes, howpublished, eventtitle and other biblatex-only fields. A literal
name containing a comma reads back as a person; an unknown langid reads back as
`language`; a date the reader cannot parse keeps only its year. Lines are written with
"\n"; readers accept any line end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from clippings.errors import BibSyntaxError
from clippings.model import Name, Record

from . import dates

__all__ = ["parse", "dump", "to_ris", "record_from_tags"]

# --- types ---------------------------------------------------------------------------

_RIS_TO_TYPE: dict[str, tuple[str, str]] = {
    "JOUR": ("article", ""), "EJOUR": ("article", ""), "INPR": ("article", ""),
    "ABST": ("article", ""), "NEWS": ("article", "newspaper"),
    "MGZN": ("article", "magazine"), "ELEC": ("online", ""), "WEB": ("online", ""),
    "ICOMM": ("online", ""), "BLOG": ("online", "blog"), "RPRT": ("report", ""),
    "GOVDOC": ("report", ""), "BOOK": ("book", ""), "EBOOK": ("book", ""),
    "ANCIENT": ("book", ""), "CLSWK": ("book", ""), "EDBOOK": ("collection", ""),
    "CHAP": ("incollection", ""), "ECHAP": ("incollection", ""),
    "ENCYC": ("inreference", ""), "DICT": ("inreference", ""),
    "CONF": ("inproceedings", ""), "CPAPER": ("inproceedings", ""), "THES": ("thesis", ""),
    "PAMP": ("booklet", ""), "STAND": ("standard", ""), "GEN": ("misc", ""),
    "JFULL": ("periodical", ""), "SER": ("periodical", ""), "UNPB": ("unpublished", ""),
    "MANSCPT": ("unpublished", ""), "PAT": ("patent", ""), "STAT": ("legislation", ""),
    "BILL": ("legislation", ""), "CASE": ("jurisdiction", ""), "COMP": ("software", ""),
    "DATA": ("dataset", ""),
}
_TYPE_TO_RIS = {
    "article": "JOUR", "online": "ELEC", "report": "RPRT", "book": "BOOK",
    "mvbook": "BOOK", "proceedings": "BOOK", "collection": "EDBOOK",
    "mvcollection": "EDBOOK", "incollection": "CHAP", "inbook": "CHAP",
    "inreference": "ENCYC", "inproceedings": "CONF", "thesis": "THES",
    "phdthesis": "THES", "mastersthesis": "THES", "booklet": "PAMP",
    "standard": "STAND", "manual": "BOOK",
    "misc": "GEN", "periodical": "JFULL", "unpublished": "UNPB", "patent": "PAT",
    "legislation": "STAT", "jurisdiction": "CASE", "software": "COMP", "dataset": "DATA",
}
_SUBTYPE_TO_RIS = {("article", "newspaper"): "NEWS", ("article", "magazine"): "MGZN",
                   ("online", "blog"): "BLOG"}

# Types whose container (T2) is a book: the rest call it journaltitle.
_IN_BOOK = {"incollection", "inproceedings", "inreference", "inbook"}
# Types for which a lone T2 names the series (RIS spec: "Series Title" for books).
_T2_IS_SERIES = {"book", "collection", "report", "thesis", "booklet", "manual",
                 "standard"}
_BOOKISH = {"book", "collection", "incollection", "inreference", "booklet", "manual",
            "thesis", "report", "inproceedings"}
_PUBLISHER_ROLE = {"report": "institution", "thesis": "institution",
                   "standard": "organization", "manual": "organization"}
_PUBLISHER_FIELDS = ("publisher", "institution", "organization")

# --- reading -------------------------------------------------------------------------

_TAG_LINE = re.compile(r"([A-Z][A-Z0-9])(?: {1,2}|\t)-(?: |$)(.*)")
_MULTILINE_TAGS = {"AB", "N2", "N1"}
_SKIP_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.I)
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_ISSN = re.compile(r"\d{4}-?\d{3}[\dXx]")
_ISBN = re.compile(r"(?:97[89][- ]?)?(?:\d[- ]?){9}[\dXx]")


def parse(text: str, source: str = "<ris>") -> list[Record]:
    """Every record of a RIS text, in order."""
    return [record_from_tags(tags) for tags in _records(text, source)]


def _records(text: str, source: str) -> list[list[tuple[str, str]]]:
    """The records as lists of (tag, value), continuation lines joined to their tag."""
    lines = text.lstrip("\ufeff").splitlines()
    records: list[list[tuple[str, str]]] = []
    current: list[tuple[str, list[str]]] | None = None
    start_line = 0
    saw_content = False
    for number, raw in enumerate(lines, start=1):
        line = raw.replace("\ufeff", "").rstrip()
        m = _TAG_LINE.match(line)
        if m is None:
            if current and line.strip():
                current[-1][1].append(line.strip())
            elif current and current[-1][0] in _MULTILINE_TAGS:
                current[-1][1].append("")  # paragraph break inside an abstract
            elif line.strip():
                saw_content = True
            continue
        tag, value = m.group(1), m.group(2).strip()
        if tag == "TY":
            if current is not None:
                raise BibSyntaxError(source, start_line, 1,
                                     f"RIS record starting at line {start_line} has no ER "
                                     f"before the next TY (line {number})")
            current, start_line = [("TY", [value])], number
        elif current is None:
            raise BibSyntaxError(source, number, 1,
                                 f"RIS tag {tag} outside a record (a record must start "
                                 "with TY)")
        elif tag == "ER":
            records.append([(t, _joined(t, parts)) for t, parts in current])
            current = None
        else:
            current.append((tag, [value]))
    if current is not None:
        raise BibSyntaxError(source, start_line, 1,
                             f"RIS record starting at line {start_line} has no ER")
    if not records and saw_content:
        raise BibSyntaxError(source, 1, 1, "no RIS records found (no line starts with "
                                           "'TY  - ')")
    return records


def _joined(tag: str, parts: list[str]) -> str:
    while parts and not parts[-1]:
        parts.pop()
    if tag in _MULTILINE_TAGS:
        return "\n".join(parts).strip()
    return " ".join(" ".join(parts).split())


def _person(value: str) -> Name | None:
    value = " ".join(value.split())
    if not value:
        return None
    if "," not in value:
        return Name(family=value, literal=True)
    family, _, rest = value.partition(",")
    given, _, suffix = rest.partition(",")
    prefix, family = dates.split_particle(family)
    return Name(family=family, given=given.strip(), prefix=prefix, suffix=suffix.strip())


def record_from_tags(tags: list[tuple[str, str]]) -> Record:
    """A `Record` from one RIS record's (tag, value) pairs (TY first)."""
    ris_type = tags[0][1].strip().upper() if tags and tags[0][0] == "TY" else "GEN"
    rtype, subtype = _RIS_TO_TYPE.get(ris_type, ("misc", ""))
    rec = Record(type=rtype)
    if subtype:
        rec.fields["entrysubtype"] = subtype
    by_tag: dict[str, list[str]] = {}
    for tag, value in tags[1:]:
        if value:
            by_tag.setdefault(tag, []).append(value)

    def first(*names: str) -> str:
        for name in names:
            for value in by_tag.get(name, ()):
                return value
        return ""

    for role, names in (("author", ("AU", "A1")), ("editor", ("A2", "ED")),
                        ("translator", ("A4", "TA"))):
        persons = [p for t in names for v in by_tag.get(t, ()) if (p := _person(v))]
        if persons:
            rec.names[role] = persons

    f = rec.fields
    title = first("TI", "T1", "CT") or (first("BT") if rtype not in _IN_BOOK else "")
    short = first("ST")
    split = dates.split_title(title, short) if title else None
    if split:
        f["title"], f["subtitle"] = split
    else:
        _put(f, "title", title)
        _put(f, "shorttitle", short)

    container = first("T2", "JF", "JO") or (first("BT") if rtype in _IN_BOOK else "")
    series = first("T3")
    if rtype in _IN_BOOK:
        _put(f, "booktitle", container)
    elif rtype in _T2_IS_SERIES and not series:
        series = container
    else:
        _put(f, "journaltitle", container)
    _put(f, "series", series)
    _put(f, "shortjournal", first("J2", "JA", "J1"))

    _read_date(f, [v for t in ("DA", "PY", "Y1") for v in by_tag.get(t, ())])
    urldate = first("Y2")
    if urldate:
        _put(f, "urldate", dates.normalize_date(urldate) or "")

    _put(f, "volume", first("VL"))
    _put(f, "number", first("IS"))
    sp, ep = first("SP"), first("EP")
    pages = f"{sp}--{ep}" if sp and ep and sp != ep else sp or ep
    _put(f, "pages", dates.model_pages(pages) if pages else "")
    _put(f, "edition", first("ET"))
    _put(f, _PUBLISHER_ROLE.get(rtype, "publisher"), first("PB"))
    _put(f, "location", first("CY", "PP"))
    _put(f, "volumes", first("NV"))
    _read_numbers(f, by_tag.get("SN", []), rtype)

    doi = first("DO")
    m3 = first("M3")
    if not doi and _DOI.search(m3):
        doi, m3 = m3, ""
    _put(f, "doi", _SKIP_PREFIX.sub("", doi).strip())
    _put(f, "type", m3)
    _put(f, "url", first("UR", "L2"))

    lang = first("LA")
    if lang:
        langid = dates.langid_for(lang)
        _put(f, "langid" if langid else "language", langid or lang)
    _put(f, "abstract", first("AB", "N2"))
    notes = [dates.strip_markup(n) for n in by_tag.get("N1", [])]
    _put(f, "note", "\n\n".join(n for n in notes if n))
    keywords = [k.strip() for v in by_tag.get("KW", []) for k in v.split(";")]
    _put(f, "keywords", ", ".join(k for k in keywords if k))
    rec.key, rec.source_key = dates.key_from(first("ID", "LB"))
    return rec


def _put(fields: dict[str, str], name: str, value: str) -> None:
    if value:
        fields[name] = value


def _read_date(fields: dict[str, str], values: list[str]) -> None:
    """The most precise of PY / DA / Y1 becomes `date`."""
    best = ""
    for value in values:
        iso = dates.normalize_date(value) or dates.year_in(value) or ""
        if len(iso) > len(best) or ("/" in iso and "/" not in best):
            best = iso
    _put(fields, "date", best)


def _number_kind(item: str) -> str | None:
    compact = re.sub(r"[\s-]", "", item)
    if len(compact) == 8 and _ISSN.fullmatch(compact):
        return "issn"
    if len(compact) in (10, 13) and _ISBN.fullmatch(item):
        return "isbn"
    return None


def _read_numbers(fields: dict[str, str], values: list[str], rtype: str) -> None:
    """SN holds ISBNs or ISSNs (or several, separated by ; , or spaces): tell them
    apart by shape; a value of neither shape goes by the record's type."""
    for value in values:
        for item in (i.strip() for i in re.split(r"[;,]", value)):
            if not item:
                continue
            kind = _number_kind(item)
            if kind:
                fields.setdefault(kind, item)
                continue
            tokens = item.split()
            kinds = [_number_kind(t) for t in tokens]
            if len(tokens) > 1 and all(kinds):
                for token, kind in zip(tokens, kinds):
                    fields.setdefault(kind, token)
            else:
                fields.setdefault("isbn" if rtype in _BOOKISH else "issn", item)


# --- writing ------------------------------------------------------------------------

def dump(records: Iterable[Record]) -> str:
    """RIS text for `records` (lines end with "\\n"; records are separated by a blank
    line). Write it with `newline="\\r\\n"` for tools that insist on CRLF."""
    return "".join(_format(tags) for tags in map(to_ris, records))


def _format(tags: list[tuple[str, str]]) -> str:
    lines = []
    for tag, value in tags:
        # Continuation lines must not look like tags; blank ones would end nothing but
        # are kept inside abstracts and notes as paragraph breaks.
        text = value.replace("\r\n", "\n").replace("\r", "\n")
        if tag not in _MULTILINE_TAGS:  # a .bib value may be wrapped over lines
            text = " ".join(text.split())
        first, *rest = text.split("\n")
        lines.append(f"{tag}  - {first}".rstrip())
        # Readers take a line starting with "XY  - " for a new tag: indent such lines
        # (continuation lines are stripped when read).
        lines.extend(" " + r if _TAG_LINE.match(r) else r for r in rest)
    return "\n".join(lines) + "\nER  - \n\n"


def to_ris(record: Record) -> list[tuple[str, str]]:
    """The (tag, value) pairs of one record, TY first, without the closing ER."""
    f = dates.modern_fields(record.fields)
    rtype = record.type.lower()
    subtype = f.get("entrysubtype", "").lower()
    tags: list[tuple[str, str]] = [
        ("TY", _SUBTYPE_TO_RIS.get((rtype, subtype)) or _TYPE_TO_RIS.get(rtype, "GEN"))]

    def add(tag: str, value: str | None) -> None:
        if value:
            tags.append((tag, value))

    if record.key:
        add("ID", record.key)
    for role, tag in (("author", "AU"), ("editor", "A2"), ("translator", "A4")):
        for person in _persons(record, role):
            add(tag, _format_person(person))
    title, short = dates.title_and_short(f)
    add("TI", title)
    add("ST", short)
    add("T2", f.get("booktitle") if rtype in _IN_BOOK else f.get("journaltitle"))
    add("J2", f.get("shortjournal"))
    add("T3", f.get("series"))
    _write_date(add, f.get("date", ""))
    urldate = dates.parse_model_date(f.get("urldate", ""))
    add("Y2", f.get("urldate") if urldate else "")
    add("VL", f.get("volume"))
    add("IS", f.get("number") or f.get("issue"))
    pages = f.get("pages", "")
    rng = dates.page_range(pages) if "," not in pages else None
    if rng:
        add("SP", rng[0])
        add("EP", rng[1])
    else:
        add("SP", pages)
    add("ET", f.get("edition"))
    role = _PUBLISHER_ROLE.get(rtype, "publisher")
    add("PB", f.get(role) or next((f[n] for n in _PUBLISHER_FIELDS if f.get(n)), ""))
    add("CY", f.get("location") or f.get("address"))
    add("NV", f.get("volumes"))
    add("SN", f.get("isbn"))
    add("SN", f.get("issn"))
    add("DO", f.get("doi"))
    add("UR", f.get("url"))
    lang = f.get("langid", "")
    add("LA", (dates.code_for(lang) or lang) if lang else f.get("language"))
    add("M3", f.get("type"))
    add("AB", f.get("abstract"))
    add("N1", f.get("note"))
    for keyword in f.get("keywords", "").split(","):
        add("KW", keyword.strip())
    return tags


def _format_person(person: Name) -> str:
    if person.literal:
        return person.family
    family = f"{person.prefix} {person.family}".strip()
    parts = [family, person.given] + ([person.suffix] if person.suffix else [])
    return ", ".join(parts) if person.given or person.suffix else family + ","


def _write_date(add, value: str) -> None:
    """PY holds the year; DA the full date (ISO for ranges and uncertain dates)."""
    if not value:
        return
    parsed = dates.parse_model_date(value)
    if parsed is None:
        add("PY", dates.year_in(value) or value)
        return
    start, end, open_ended = parsed
    add("PY", f"{start.year:04d}")
    if end is None and not open_ended and not start.circa:
        if start.month:
            add("DA", start.ris())
    else:
        add("DA", value + (".." if open_ended else ""))


def _persons(record: Record, role: str) -> list[Name]:
    """The names of one role without biblatex's "and others" marker."""
    return [n for n in record.names.get(role, [])
            if not (n.literal and n.family == "others")]
