"""The search index's fields, and how a library entry becomes one indexed document.

Every `whoosh` import of the package lives under `clippings/search/`, so the engine can
be replaced without touching the rest. `document()` is pure: a Record (plus its
snapshot text) in, a dict of field values out.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from whoosh import fields
from whoosh.analysis import CommaSeparatedTokenizer, Filter, IDAnalyzer, LowercaseFilter

from ..model import Record
from .analysis import TOKEN_PATTERN

# Bump whenever the fields or what goes into them change: an index written with another
# version is rebuilt, never read.
SCHEMA_VERSION = 2   # 2: facet fields (venue, facet_tag, link)

# Words typed before ':' in a query, each the name of a field below.
QUERY_FIELDS = ("author", "title", "journal", "type", "tag", "lang", "year", "date",
                "abstract", "note", "text", "key")
# Fields a plain word is looked up in. `text` holds everything but the title (persons,
# journal, tags, abstract, note and the snapshot's text), so a word costs two posting
# lists, not seven; the title keeps its own field for its boost.
# `translit` holds the same words as title and text as transliteration keys
# (analysis.make_phonetic_analyzer), so Volgograd, Wolgograd and Волгоград meet there.
DEFAULT_FIELDS = ("title", "text", "translit")
# Weight of a match in each default field, on top of the schema's field_boost.
FIELD_WEIGHTS = {"title": 1.0, "text": 1.0, "translit": 0.3}
# Fields analysed as language text (the ones snippets highlight words of).
TEXT_FIELDS = ("title", "author", "journal", "abstract", "note", "text")
PHONETIC_FIELDS = ("translit",)

# langid / language values (babel and ISO names) -> one code, so that lang:de,
# lang:german and lang:ngerman are the same query.
LANGUAGES = {
    "de": ("de", "deu", "ger", "german", "ngerman", "deutsch", "austrian", "naustrian",
           "swissgerman", "nswissgerman"),
    "ru": ("ru", "rus", "russian", "russisch", "русский"),
    "en": ("en", "eng", "english", "american", "british", "usenglish", "ukenglish",
           "englisch", "canadian", "australian", "newzealand"),
    "fr": ("fr", "fra", "fre", "french", "francais", "français", "französisch"),
    "uk": ("uk", "ukr", "ukrainian", "ukrainisch"),
    "pl": ("pl", "pol", "polish", "polnisch"),
}
_LANG_CODE = {alias: code for code, aliases in LANGUAGES.items() for alias in aliases}


def language_code(name: str) -> str:
    """'ngerman' -> 'de'; unknown names stay as they are (lowercased)."""
    name = name.strip().casefold()
    return _LANG_CODE.get(name, name)


def fold(text: str) -> str:
    """Lowercase, ß->ss, umlauts and accents dropped, ae/oe/ue read as a/o/u, ё->е.

    Used for the exact-match fields (tags): `tag:Städtepartnerschaft`,
    `tag:staedtepartnerschaft` and `tag:stadtepartnerschaft` all find the same entries.
    """
    text = text.casefold().replace("ё", "е")
    text = "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c) or c == "\u0306")  # keep й
    text = unicodedata.normalize("NFC", text)
    return re.sub(r"(?<=[a-z])([aou])e", r"\1", text)


class FoldFilter(Filter):
    """Applies `fold` to every token (tags are matched whole, folded)."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = fold(token.text)
            yield token


class LanguageFilter(Filter):
    """Maps every language name to its code (`language_code`)."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = language_code(token.text)
            yield token


def tag_analyzer():
    return CommaSeparatedTokenizer() | LowercaseFilter() | FoldFilter()


def lang_analyzer():
    return CommaSeparatedTokenizer() | LowercaseFilter() | LanguageFilter()


def make_schema(analyzer=None, phonetic=None) -> fields.Schema:
    """The index schema. `analyzer` is the German/Russian text analyzer and `phonetic`
    the transliteration-key analyzer (both from analysis.py unless given)."""
    from . import analysis
    analyzer = analyzer or analysis.make_analyzer()
    phonetic = phonetic or analysis.make_phonetic_analyzer()

    def text(boost: float = 1.0):
        return fields.TEXT(analyzer=analyzer, field_boost=boost, phrase=True)
    return fields.Schema(
        key=fields.ID(stored=True, unique=True),
        type=fields.ID(analyzer=IDAnalyzer(lowercase=True)),
        title=text(3.0),
        author=text(),
        journal=text(),
        abstract=text(),
        note=text(),
        text=text(),
        translit=fields.TEXT(analyzer=phonetic, phrase=False),
        tag=fields.KEYWORD(analyzer=tag_analyzer(), scorable=True),
        lang=fields.KEYWORD(analyzer=lang_analyzer()),
        year=fields.NUMERIC(int, bits=32, sortable=True),
        # Facets only (`facet_values`): values as shown, counted per query.
        venue=fields.ID(sortable=True),
        facet_tag=fields.KEYWORD(commas=True),
        link=fields.ID(sortable=True),
        etype=fields.ID(sortable=True),
        # yyyymmdd with 00 for a missing month or day: 2017-06 -> 20170600.
        date=fields.NUMERIC(int, bits=32),
        # What a hit shows, so results need no library.bib parse.
        meta=fields.STORED(),
    )


# -- record -> document -----------------------------------------------------------------

TITLE_FIELDS = ("title", "subtitle", "titleaddon", "origtitle", "shorttitle", "issuetitle",
                "issuesubtitle", "maintitle", "booktitle", "eventtitle")
VENUE_FIELDS = ("journaltitle", "journal", "journalsubtitle", "howpublished", "publisher",
                "organization", "institution", "school", "series", "eventtitle")
PERSON_FIELDS = ("author", "editor", "translator", "bookauthor", "commentator",
                 "introduction", "foreword", "afterword", "holder")


def date_number(date: str) -> int | None:
    """'2017-06-26' -> 20170626, '2017-06' -> 20170600, '2017' -> 20170000."""
    match = re.match(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", date.strip())
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or "00", match.group(3) or "00"
    return int(year + month + day)


def display_authors(rec: Record) -> list[str]:
    """The persons a hit lists: authors, else editors, else the organization."""
    for name in ("author", "editor"):
        if rec.names.get(name):
            return [str(n) for n in rec.names[name]]
    org = rec.fields.get("organization") or rec.fields.get("institution")
    return [p.strip() for p in org.split(" and ")] if org else []


def display_date(rec: Record) -> str:
    return rec.fields.get("date") or rec.fields.get("year") or ""


def _join(rec: Record, names) -> str:
    return "\n".join(rec.fields[n] for n in names if rec.fields.get(n))


def _site(url: str) -> str:
    """'https://de.rbth.com/a/b' -> 'rbth.com' (a site is found by its host name)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


# The analyzers' own tokens: the distinct words listed here are also what the index's
# vocabulary notes (vocabulary.py).
_WORD = re.compile(TOKEN_PATTERN)


# Facets of a result list, by name (the web interface's filters): name -> what it counts.
FACETS = ("year", "type", "journal", "lang", "keyword", "link")
NO_URL = "no url"
UNCHECKED = "unchecked"


def facet_values(rec: Record, link: str = "") -> dict:
    """What an entry counts as in each facet: year (int or None), type, journal, link
    status (str), lang and keyword (lists)."""
    number = date_number(display_date(rec))
    langs = [rec.fields.get("langid", "")] + rec.fields.get("language", "").split(" and ")
    return {
        "year": number // 10000 if number is not None else None,
        "type": rec.type.lower(),
        "journal": (rec.fields.get("journaltitle") or rec.fields.get("journal")
                    or rec.fields.get("howpublished") or "").strip(),
        "lang": sorted({language_code(x) for x in langs if x.strip()}),
        "keyword": sorted({t.strip() for t in rec.fields.get("keywords", "").split(",")
                       if t.strip()}),
        "link": link or (UNCHECKED if rec.fields.get("url") else NO_URL),
    }


def _note(rec: Record) -> str:
    # The team's remarks (annotation) are searched like the reader's note.
    return "\n".join(filter(None, [rec.fields.get("note", ""),
                                   rec.fields.get("annotation", "")]))


def hit_meta(rec: Record) -> dict:
    """What a hit shows of an entry (stored in the index as `meta`)."""
    return {
        "type": rec.type,
        "title": rec.fields.get("title", ""),
        "subtitle": rec.fields.get("subtitle", ""),
        "authors": display_authors(rec),
        "date": display_date(rec),
        "journal": rec.fields.get("journaltitle") or rec.fields.get("journal")
        or rec.fields.get("howpublished", ""),
        "abstract": rec.fields.get("abstract", ""),
        "note": _note(rec),
    }


def document(rec: Record, snapshot_text: str | None, link: str = "") -> dict:
    """The field values of one entry's index document (`link`: the status of its URL's
    last check, "" when unchecked)."""
    persons = [n for field in PERSON_FIELDS for n in rec.names.get(field, [])]
    person_text = "\n".join(" ".join(p for p in (n.given, n.prefix, n.family, n.suffix) if p)
                            for n in persons)
    venue = "\n".join(filter(None, [_join(rec, VENUE_FIELDS),
                                    _site(rec.fields.get("url", ""))]))
    langs = [rec.fields.get("langid", "")] + rec.fields.get("language", "").split(" and ")
    keywords = rec.fields.get("keywords", "")
    note = _note(rec)
    text = "\n".join(filter(None, [person_text, venue, keywords.replace(",", "\n"),
                                  rec.fields.get("abstract", ""), note, snapshot_text]))
    title = _join(rec, TITLE_FIELDS)
    doc = {
        "key": rec.key,
        "type": rec.type,
        "title": title,
        "author": person_text,
        "journal": venue,
        "abstract": rec.fields.get("abstract", ""),
        "note": note,
        "text": text,
        # Each distinct word once: the keys serve to find a name in another spelling,
        # not to rank, and this halves the cost of the field.
        "translit": " ".join(dict.fromkeys(_WORD.findall(f"{title}\n{text}"))),
        "tag": keywords,
        "lang": ",".join(lang for lang in langs if lang.strip()),
        "meta": hit_meta(rec),
    }
    number = date_number(display_date(rec))
    if number is not None:
        doc["date"] = number
        doc["year"] = number // 10000
    facets = facet_values(rec, link)
    doc.update(venue=facets["journal"], facet_tag=",".join(facets["keyword"]),
               link=facets["link"], etype=facets["type"])
    # Empty fields are left out: they would only cost space.
    return {k: v for k, v in doc.items() if v not in ("", None)}
