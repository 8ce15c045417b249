"""Dates as pages write them (ISO 8601, "25.01.2022", "5. November 2021", "Jan 5, 2021",
"5 января 2021"), found in attributes, text and URLs, turned into ISO `YYYY-MM-DD`.

Everything here is pure and cheap: the chain calls it hundreds of times per page.
"""

from __future__ import annotations

import datetime
import re

# Month names (and their usual abbreviations / Russian genitive forms) -> month number.
_MONTH_WORDS = {
    1: "januar jänner jaenner january jan janv janvier январь января янв",
    2: "februar feber february feb fev fevrier février февраль февраля фев",
    3: "märz maerz marz march mar mär mrz mars март марта мар",
    4: "april apr avril апрель апреля апр",
    5: "mai may май мая",
    6: "juni june jun juin июнь июня июн",
    7: "juli july jul juillet июль июля июл",
    8: "august aug aout août август августа авг",
    9: "september sept sep septembre сентябрь сентября сен сент",
    10: "oktober october okt oct octobre октябрь октября окт",
    11: "november nov novembre ноябрь ноября ноя",
    12: "dezember december dez dec decembre décembre декабрь декабря дек",
}
MONTHS = {w: n for n, words in _MONTH_WORDS.items() for w in words.split()}
_MONTH_RE = "|".join(sorted((re.escape(w) for w in MONTHS), key=len, reverse=True))

MIN_YEAR = 1990   # the web's dates start here; earlier numbers are nearly always noise

_ISO = re.compile(r"(?<!\d)((?:19|20)\d{2})-(\d{1,2})-(\d{1,2})(?!\d)")
_ISO_COMPACT = re.compile(r"^((?:19|20)\d{2})(\d{2})(\d{2})(?:T|\s|$)")
_SLASH_YMD = re.compile(r"(?<!\d)((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})(?!\d)")
_DMY = re.compile(r"(?<![\d.])(\d{1,2})\.\s?(\d{1,2})\.\s?((?:19|20)?\d{2})(?![\d])")
_DMY_WORD = re.compile(rf"(?<!\d)(\d{{1,2}})\.?\s+({_MONTH_RE})\.?,?\s+((?:19|20)\d{{2}})(?!\d)",
                       re.I)
_MDY_WORD = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d{{2}})(?!\d)",
                       re.I)
_MY_WORD = re.compile(rf"\b({_MONTH_RE})\.?\s+((?:19|20)\d{{2}})(?!\d)", re.I)


def today() -> datetime.date:
    return datetime.date.today()


def make(year: int, month: int, day: int | None = None) -> str | None:
    """ISO text for a plausible date (not before 1990, not after tomorrow), else None."""
    if year < 100:
        year += 2000 if year <= today().year % 100 + 1 else 1900
    if not MIN_YEAR <= year <= today().year + 1 or not 1 <= month <= 12:
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        value = datetime.date(year, month, day)
    except ValueError:
        return None
    if value > today() + datetime.timedelta(days=1):
        return None
    return value.isoformat()


_ISO_TIME = re.compile(r"^((?:19|20)\d{2})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?"
                       r"\s*(Z|[+-]\d{2}:?\d{2})$")


def parse(value: str | None, tz: datetime.tzinfo | None = None) -> str | None:
    """The date written in a metadata value (attribute, JSON-LD string), or None.

    Metadata dates are machine-written, so ISO forms come first. A timestamp with an
    explicit offset is moved to `tz` (the publication's own zone) when given: a German
    paper's midnight article stamped "2021-11-04T23:00Z" is dated the 5th by its readers.
    """
    if not value:
        return None
    value = value.strip()
    if not value:
        return None
    if tz is not None:
        m = _ISO_TIME.match(value)
        if m:
            try:
                stamp = datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))
                local = stamp.astimezone(tz).date()
                return make(local.year, local.month, local.day)
            except ValueError:
                pass
    m = _ISO.search(value[:40])
    if m:
        return make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _ISO_COMPACT.match(value)
    if m:
        return make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.match(r"^((?:19|20)\d{2})-(\d{2})$", value)
    if m:
        return make(int(m.group(1)), int(m.group(2)))
    found = find(value[:80])
    return found[0][0] if found else None


def find(text: str) -> list[tuple[str, int]]:
    """Every complete (day-precise) date written in running text: [(iso, offset)...]."""
    out: list[tuple[str, int]] = []
    for m in _ISO.finditer(text):
        if (iso := make(int(m.group(1)), int(m.group(2)), int(m.group(3)))):
            out.append((iso, m.start()))
    for m in _SLASH_YMD.finditer(text):
        if (iso := make(int(m.group(1)), int(m.group(2)), int(m.group(3)))):
            out.append((iso, m.start()))
    for m in _DMY.finditer(text):
        if (iso := make(int(m.group(3)), int(m.group(2)), int(m.group(1)))):
            out.append((iso, m.start()))
    for m in _DMY_WORD.finditer(text):
        if (iso := make(int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1)))):
            out.append((iso, m.start()))
    for m in _MDY_WORD.finditer(text):
        if (iso := make(int(m.group(3)), MONTHS[m.group(1).lower()], int(m.group(2)))):
            out.append((iso, m.start()))
    out.sort(key=lambda item: item[1])
    return out


def find_month(text: str) -> str | None:
    """A month-precise date ("Januar 2022") when no day is written."""
    m = _MY_WORD.search(text)
    return make(int(m.group(2)), MONTHS[m.group(1).lower()]) if m else None


# /2017/06/26/, /2017-06-26-, _20170626_ ... in a URL path (not in the query's ids).
_URL_YMD = re.compile(r"(?<![\d])((?:19|20)\d{2})[/_-](\d{1,2})[/_-](\d{1,2})(?=[/_.-]|$)")
_URL_COMPACT = re.compile(r"(?<![\d])((?:19|20)\d{2})(\d{2})(\d{2})(?![\d])")
_URL_YM = re.compile(r"(?<![\d])((?:19|20)\d{2})[/_-](\d{1,2})(?=/)")


def from_url(url: str) -> tuple[str | None, str | None]:
    """(day-precise date, month-precise date) written in a URL's path."""
    path = re.sub(r"^[a-z]+://[^/]+", "", url, flags=re.I).split("?")[0].split("#")[0]
    day = month = None
    m = _URL_YMD.search(path)
    # "/2023/10/3-fragen-an/" is a title starting with a number, not the 3rd of October.
    if m and (path[m.end():m.end() + 1] != "-" or len(m.group(2)) == len(m.group(3)) == 2):
        day = make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if day is None:
        m = _URL_COMPACT.search(path)
        if m:
            day = make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _URL_YM.search(path)
    if m:
        month = make(int(m.group(1)), int(m.group(2)))
    return day, month
