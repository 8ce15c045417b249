"""Value conversions shared by the RIS and CSL-JSON readers and writers.

Dates
-----
The data model keeps dates as biblatex writes them (ISO 8601 / EDTF level 1 subset):
`2017-06-26`, `2017-06`, `2017`, ranges `2017/2018` or `2017-06-26/2017-06-28`, open
ranges `1988/` and the markers `~` (circa) and `?` (uncertain) after a date.
`normalize_date` turns what exchange files hold into that form: ISO dates (a time part is
dropped), RIS dates (`2017/06/26/`, `2017///`, `2017/06//Spring`), German dates
(`26.06.2017`, `26. Juni 2017`), English dates (`June 26, 2017`, `26 June 2017`,
`June 2017`) and ranges of any of those joined by `/`. US numeric dates (`06/26/2017`)
are ambiguous and not guessed. `parse_model_date` splits a model date into parts for
the writers.

Other shared conversions
------------------------
Languages (`langid_for` / `code_for`: babel names <-> BCP 47 codes), titles with
subtitles (`join_title` / `split_title`), page ranges (`model_pages` / `plain_pages`),
citation keys from foreign ids (`clean_key`) and light HTML clean-up (`strip_markup`).
"""

from __future__ import annotations

import datetime
import html
import re
from dataclasses import dataclass

from clippings.keys import is_valid_key
from clippings.textnorm import ascii_fold

# --- dates -------------------------------------------------------------------------

_MONTHS = {
    # English
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12,
    # German
    "januar": 1, "jänner": 1, "jän": 1, "februar": 2, "märz": 3, "mär": 3, "maerz": 3,
    "mai": 5, "juni": 6, "juli": 7, "oktober": 10, "okt": 10, "dezember": 12, "dez": 12,
}
_MONTH_RE = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"

_ISO = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[T ]\d[\d:.]*(?:Z|[+-]\d\d:?\d\d)?)?")
_RIS = re.compile(r"(\d{4})?/(\d{1,2})?(?:/(\d{1,2})?(?:/.*)?)?")
_DOTTED = re.compile(r"(\d{1,2})\.\s*(\d{1,2})\.\s*(\d{4})")
_MONTH_DOTTED = re.compile(r"(\d{1,2})\.\s*(\d{4})")
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})\.?\s+" + _MONTH_RE + r",?\s+(\d{4})", re.I)
_MONTH_DAY_YEAR = re.compile(_MONTH_RE + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", re.I)
_MONTH_YEAR = re.compile(_MONTH_RE + r",?\s+(\d{4})", re.I)
_YEAR_ANYWHERE = re.compile(r"(?<!\d)(1[0-9]\d\d|20\d\d)(?!\d)")

_MODEL_PART = re.compile(r"(\d{4})(?:-(\d\d)(?:-(\d\d))?)?([~?%]?)")


def _iso(year: str | int, month: str | int | None = None, day: str | int | None = None
         ) -> str | None:
    """`YYYY[-MM[-DD]]`, or None when the parts do not make a calendar date."""
    y = int(year)
    if month in (None, "", 0):
        return f"{y:04d}"
    m = int(month)
    if not 1 <= m <= 12:
        return None
    if day in (None, "", 0):
        return f"{y:04d}-{m:02d}"
    d = int(day)
    try:
        datetime.date(y, m, d)
    except ValueError:
        return None
    return f"{y:04d}-{m:02d}-{d:02d}"


def _single_date(text: str) -> str | None:
    text = text.strip().rstrip(",;")
    if not text:
        return None
    m = _MODEL_PART.fullmatch(text)
    if m and m.group(4):  # already a model date with a circa/uncertain marker
        base = _iso(*m.group(1, 2, 3))
        return base + m.group(4) if base else None
    for pattern, order in ((_ISO, "ymd"), (_RIS, "ymd"), (_DOTTED, "dmy"),
                           (_MONTH_DOTTED, "my"), (_DAY_MONTH_YEAR, "dmy"),
                           (_MONTH_DAY_YEAR, "mdy"), (_MONTH_YEAR, "my")):
        m = pattern.fullmatch(text)
        if not m:
            continue
        parts = dict(zip(order, m.groups()))
        if not parts.get("y"):
            return None
        month = parts.get("m")
        if month and not month.isdigit():
            month = _MONTHS[month.lower()]
        return _iso(parts["y"], month, parts.get("d"))
    return None


def normalize_date(text: str) -> str | None:
    """The model (ISO/EDTF) form of a date or date range, or None when not understood."""
    text = " ".join(text.split())
    if not text:
        return None
    single = _single_date(text)
    if single:
        return single
    # A range: two dates around "/" (ISO, EDTF) or around " - " / "--" / "–".
    for sep in ("/", " - ", "--", "–", " bis ", " to "):
        if sep not in text:
            continue
        start, _, end = text.partition(sep)
        first = _single_date(start)
        if not first:
            continue
        end = end.strip()
        if end in ("", ".."):
            return first + "/"
        second = _single_date(end)
        if second:
            return f"{first}/{second}"
    # "2017-2018": a range of years
    m = re.fullmatch(r"(\d{4})\s*-\s*(\d{4})", text)
    if m:
        return f"{m.group(1)}/{m.group(2)}"
    return None


def year_in(text: str) -> str | None:
    """A plausible four-digit year somewhere in `text` (a fallback for odd dates)."""
    m = _YEAR_ANYWHERE.search(text)
    return m.group(1) if m else None


@dataclass(frozen=True)
class DatePart:
    """One end of a model date: numbers, plus `circa` for `~`, `?` or `%`."""

    year: int
    month: int | None = None
    day: int | None = None
    circa: bool = False

    def ris(self) -> str:
        """RIS form `YYYY/MM/DD/` (empty slots for missing parts)."""
        month = f"{self.month:02d}" if self.month else ""
        day = f"{self.day:02d}" if self.day else ""
        return f"{self.year:04d}/{month}/{day}/"

    def parts(self) -> list[int]:
        return [p for p in (self.year, self.month, self.day) if p]


def parse_model_date(value: str) -> tuple[DatePart, DatePart | None, bool] | None:
    """(start, end, open_ended) of a model date, or None when it is not in model form."""
    start_text, slash, end_text = value.strip().partition("/")
    start = _model_part(start_text)
    if start is None:
        return None
    if not slash:
        return start, None, False
    if end_text in ("", ".."):
        return start, None, True
    end = _model_part(end_text)
    return (start, end, False) if end else None


def _model_part(text: str) -> DatePart | None:
    m = _MODEL_PART.fullmatch(text)
    if not m or _iso(*m.group(1, 2, 3)) is None:
        return None
    y, mo, d = (int(g) if g else None for g in m.group(1, 2, 3))
    return DatePart(y, mo, d, bool(m.group(4)))


# --- languages ---------------------------------------------------------------------

# babel/polyglossia name -> BCP 47 code written on export.
_LANGID_TO_CODE = {
    "ngerman": "de-DE", "german": "de", "naustrian": "de-AT", "austrian": "de-AT",
    "nswissgerman": "de-CH", "swissgerman": "de-CH",
    "english": "en", "american": "en-US", "USenglish": "en-US", "british": "en-GB",
    "UKenglish": "en-GB", "canadian": "en-CA", "australian": "en-AU",
    "russian": "ru", "ukrainian": "uk", "belarusian": "be", "polish": "pl", "czech": "cs",
    "slovak": "sk", "slovene": "sl", "croatian": "hr", "serbian": "sr", "bulgarian": "bg",
    "french": "fr", "italian": "it", "spanish": "es", "catalan": "ca",
    "portuguese": "pt-PT", "brazilian": "pt-BR", "dutch": "nl", "danish": "da",
    "swedish": "sv", "norsk": "nb", "nynorsk": "nn", "finnish": "fi", "estonian": "et",
    "latvian": "lv", "lithuanian": "lt", "magyar": "hu", "hungarian": "hu",
    "romanian": "ro", "greek": "el", "turkish": "tr", "hebrew": "he", "arabic": "ar",
    "latin": "la", "icelandic": "is", "irish": "ga", "welsh": "cy", "georgian": "ka",
    "armenian": "hy", "japanese": "ja", "chinese": "zh", "korean": "ko",
}
# Codes (lower case, language or language-region) -> babel name on import. Bare "de"
# becomes ngerman (today's spelling), the name biblatex users mean by "German".
_CODE_TO_LANGID = {code.lower(): langid for langid, code in _LANGID_TO_CODE.items()
                   if langid not in ("german", "austrian", "swissgerman", "USenglish",
                                     "UKenglish", "hungarian")}
_CODE_TO_LANGID.update({"de": "ngerman", "pt": "portuguese", "no": "norsk",
                        "en-nz": "english", "en-ie": "english"})
# ISO 639-2 codes and language names as Citavi, EndNote and library catalogues write them.
_NAME_TO_CODE = {
    "ger": "de", "deu": "de", "german": "de", "deutsch": "de", "eng": "en",
    "english": "en", "englisch": "en", "rus": "ru", "russian": "ru", "russisch": "ru",
    "русский": "ru", "fre": "fr", "fra": "fr", "french": "fr", "französisch": "fr",
    "ita": "it", "italian": "it", "italienisch": "it", "spa": "es", "spanish": "es",
    "spanisch": "es", "pol": "pl", "polish": "pl", "polnisch": "pl", "ukr": "uk",
    "ukrainian": "uk", "ukrainisch": "uk", "cze": "cs", "ces": "cs", "czech": "cs",
    "tschechisch": "cs", "dut": "nl", "nld": "nl", "dutch": "nl", "niederländisch": "nl",
    "swe": "sv", "swedish": "sv", "schwedisch": "sv", "por": "pt", "portuguese": "pt",
    "portugiesisch": "pt", "lat": "la", "latin": "la", "latein": "la",
}


def langid_for(code: str) -> str | None:
    """The babel language name for a BCP 47 code / ISO 639 code / language name."""
    text = code.strip().replace("_", "-")
    if not text:
        return None
    key = text.lower()
    if key in _CODE_TO_LANGID:
        return _CODE_TO_LANGID[key]
    if key in _NAME_TO_CODE:
        return _CODE_TO_LANGID[_NAME_TO_CODE[key]]
    lang = key.split("-")[0]
    if lang in _CODE_TO_LANGID:  # de-LU, en-IN, ru-RU ...: the language alone
        return _CODE_TO_LANGID[lang]
    # A babel name already (somebody wrote "ngerman" into the language field)
    for langid in _LANGID_TO_CODE:
        if langid.lower() == key:
            return langid
    return None


def code_for(langid: str) -> str | None:
    """The BCP 47 code for a babel/polyglossia language name, or None when unknown."""
    key = langid.strip()
    for name, code in _LANGID_TO_CODE.items():
        if name.lower() == key.lower():
            return code
    return None


# --- titles, pages, keys, markup -----------------------------------------------------

def join_title(title: str, subtitle: str = "", addon: str = "") -> str:
    """One title line as CSL and RIS hold it: "Title: Subtitle. Addon"."""
    out = title.strip()
    if subtitle:
        out = f"{out}{' ' if out.endswith(('?', '!', ':')) else ': '}{subtitle}" if out \
            else subtitle
    if addon:
        out = f"{out}{' ' if out.endswith(('.', '?', '!')) else '. '}{addon}" if out \
            else addon
    return out


def split_title(full: str, short: str) -> tuple[str, str] | None:
    """(title, subtitle) when `full` is exactly "short: rest", else None.

    Only a short title that matches the text before the colon is trusted: that is how
    Zotero fills its short title, and how `join_title` + a short title are written, so
    a title that merely contains a colon is never cut.
    """
    short = short.strip()
    if short and full.startswith(short + ": ") and len(full) > len(short) + 2:
        return short, full[len(short) + 2:].strip()
    return None


_RANGE = re.compile(r"^\s*([^\s\-–—‐‑]+)\s*(?:--|[-–—‐‑])\s*([^\s\-–—‐‑]+)\s*$")


def page_range(pages: str) -> tuple[str, str] | None:
    """(first, last) when `pages` is one simple range like "12--15" or "12-15"."""
    m = _RANGE.match(pages)
    return (m.group(1), m.group(2)) if m else None


def model_pages(pages: str) -> str:
    """Ranges written the biblatex way ("12--15") whatever dash the source used."""
    parts = [p.strip() for p in pages.split(",")]
    out = []
    for p in parts:
        rng = page_range(p)
        out.append(f"{rng[0]}--{rng[1]}" if rng else p)
    return ", ".join(x for x in out if x)


def plain_pages(pages: str) -> str:
    """Ranges with a single hyphen, as CSL processors expect ("12-15")."""
    return re.sub(r"\s*--\s*", "-", pages)


def foreign_id(raw: object) -> str | None:
    """A foreign id as written, when it is meant as a citation key; None for a database
    id (URLs, Zotero's "12345/ABCD", bare numbers), which no document cites."""
    if raw is None or isinstance(raw, bool):
        return None
    text = str(raw).strip()
    return None if not text or "/" in text or text.isdigit() else text


def clean_key(raw: object) -> str | None:
    """A citation key made from a foreign id, or None when the id is not key-like.

    Database ids (URLs, Zotero's "12345/ABCD", bare numbers) are not citation keys: the
    importer generates a proper key for them instead.
    """
    text = foreign_id(raw)
    if text is None:
        return None
    if is_valid_key(text):
        return text
    folded = re.sub(r"[^A-Za-z0-9_:.\-]", "", ascii_fold(text).replace(" ", "_"))
    return folded if folded and not folded.isdigit() and is_valid_key(folded) else None


def key_from(*ids: object) -> tuple[str | None, str | None]:
    """(key, the foreign id it comes from) for the first of `ids` that gives a key; with
    none, (None, the first id meant as a key), so that `import` can say what it replaced."""
    for raw in ids:
        key = clean_key(raw)
        if key:
            return key, foreign_id(raw)
    return None, next(filter(None, map(foreign_id, ids)), None)


_TAG = re.compile(r"<\s*/?\s*(?:i|b|em|strong|sup|sub|sc|span|p|br|div)\b[^>]*>", re.I)


def strip_markup(text: str) -> str:
    """Text without the rich-text tags Zotero and citeproc put into values."""
    if not _TAG.search(text):
        return text
    text = re.sub(r"<\s*br\s*/?\s*>|</\s*p\s*>", "\n", text, flags=re.I)
    return html.unescape(_TAG.sub("", text)).strip()


def split_particle(family: str) -> tuple[str, str]:
    """("von", "Goethe") from "von Goethe": leading lower-case words are the prefix,
    as BibTeX decides it (the last word always stays the family name)."""
    words = family.split()
    k = 0
    while k < len(words) - 1 and words[k][:1].islower():
        k += 1
    return " ".join(words[:k]), " ".join(words[k:])


_MONTH_FIELD = {name[:3]: number for name, number in _MONTHS.items()}
_ALIASES = (("journaltitle", "journal"), ("location", "address"),
            ("institution", "school"), ("date", "year"))


def modern_fields(fields: dict[str, str]) -> dict[str, str]:
    """`fields` with BibTeX's legacy names read as biblatex's (journal -> journaltitle,
    address -> location, school -> institution, year + month -> date), so records
    loaded from an old .bib export completely. Fields already present win."""
    out = dict(fields)
    for modern, legacy in _ALIASES:
        if not out.get(modern) and out.get(legacy):
            out[modern] = out[legacy]
            if modern == "date":
                out["date"] = _year_month(out["year"], out.get("month", ""))
    return out


def _year_month(year: str, month: str) -> str:
    year = year.strip()
    month = month.strip().lower()
    number = int(month) if month.isdigit() else _MONTH_FIELD.get(month[:3])
    if re.fullmatch(r"\d{4}", year) and number and 1 <= number <= 12:
        return f"{year}-{number:02d}"
    return year


def title_and_short(fields: dict) -> tuple[str, str]:
    """The full title ("Title: Subtitle. Addon") and a short title that lets a reader
    split the subtitle off again (the main title, when the join can be undone)."""
    title = join_title(fields.get("title", ""), fields.get("subtitle", ""),
                       fields.get("titleaddon", ""))
    short = fields.get("shorttitle", "")
    if not short and fields.get("subtitle") and split_title(title, fields.get("title", "")):
        short = fields["title"]
    return title, short
