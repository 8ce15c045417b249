"""The rules a value must follow wherever it enters the library: `add`, `set`, `edit`,
`import` (and the web interface, which calls the same functions).

- entry types are biblatex's (and the BibTeX types biber maps onto them);
- dates are ISO 8601 / EDTF as biblatex reads them (`2017-06-26`, `2017-06`, `2017`);
- URLs are http(s) addresses; one written without a scheme (`www.example.de/artikel`)
  is taken as https;
- ISBNs have 10 or 13 digits and the right check digit;
- name lists are `Family, Given and Family, Given and {Organisation}`.

A problem is a `ValueProblem` (exit 2, nothing written); `force=True` (the commands'
`--force`) lets a person keep a value the rules do not know, except for what would
break the file (field names) or cannot be read back.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from .errors import UsageError
from .fields import DATE_FIELDS, FIELD_NAME, URL_FIELDS, is_valid_date, url_problem
from .model import NAME_FIELDS

ISBN_FIELDS = ("isbn",)
FORCE_HINT = "use --force to keep it anyway"


class ValueProblem(UsageError):
    """A value breaks the rules (exit 2); `--force` overrides it. `problem` is the
    message without the command-line hint (for a web form)."""

    def __init__(self, problem: str, hint: str = ""):
        self.problem = problem
        super().__init__(f"{problem}; {hint}" if hint else problem)


@dataclass
class Problem:
    """One value that breaks a rule; `line` is 1-based within the text checked (an
    editor's buffer), or 0 when the value did not come from a text."""

    field: str
    value: str
    message: str
    line: int = 0

    def __str__(self) -> str:
        return self.message


# -- single rules ----------------------------------------------------------------------

def known_types() -> frozenset[str]:
    from .lint import KNOWN_TYPES   # one list, shared with lint
    return frozenset(KNOWN_TYPES)


def type_problem(entry_type: str) -> str | None:
    """Why `entry_type` is not an entry type biblatex knows, or None."""
    name = (entry_type or "").strip().lower()
    types = known_types()
    if name in types:
        return None
    close = difflib.get_close_matches(name, sorted(types), n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else \
        "e.g. article, online, report, book, incollection, misc"
    return f"unknown entry type '{entry_type}' ({hint})"


# A host name without scheme: `www.` and a dotted name, or a dotted name and a path
# (`zeit.de/politik/x`); `handreichung.pdf` is a file name, not a host.
_HOST = r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?::\d+)?"
_SCHEMELESS = re.compile(rf"^(?:www\d?\.{_HOST}(?:[/?#]|$)|{_HOST}/)", re.I)


def normalize_url(value: str) -> str:
    """A web address as it should be stored: `www.example.de/artikel` (no scheme, but
    clearly a host name) becomes `https://www.example.de/artikel`; anything else is
    returned as given (stripped)."""
    value = value.strip()
    if "://" not in value and not value.lower().startswith(("mailto:", "doi:")) \
            and _SCHEMELESS.match(value):
        return "https://" + value
    return value


def isbn_problem(value: str) -> str | None:
    """Why `value` (one ISBN, or several separated by commas or semicolons) is not a
    valid ISBN, or None. A wrong check digit is named with the expected one."""
    from .dedupe import _isbn13_check
    for one in (p for p in re.split(r"[,;]", value) if p.strip()):
        s = re.sub(r"^\s*ISBN(?:-1[03])?:?\s*", "", one, flags=re.I)
        digits = re.sub(r"[\s\-‐‑–]", "", s).upper()
        if re.fullmatch(r"\d{9}[\dX]", digits):
            total = sum((10 - i) * int(c) for i, c in enumerate(digits[:9]))
            expected = (11 - total % 11) % 11
            want = "X" if expected == 10 else str(expected)
            if digits[9] != want:
                return f"ISBN {one.strip()} has a wrong check digit: {digits[9]}, " \
                       f"expected {want}"
        elif re.fullmatch(r"\d{13}", digits):
            if not digits.startswith(("978", "979")):
                return f"ISBN {one.strip()} does not start with 978 or 979"
            want = _isbn13_check(digits[:12])
            if digits[12] != want:
                return f"ISBN {one.strip()} has a wrong check digit: {digits[12]}, " \
                       f"expected {want}"
        else:
            return f"ISBN {one.strip()} does not have 10 or 13 digits"
    return None


_SUFFIX = re.compile(r"^(jr|sr|jun|sen|junior|senior|[ivx]+)\.?$", re.I)


def names_problem(value: str) -> str | None:
    """Why a name list in BibTeX syntax (`Lohse, Peggy and {Forum e.V.}`) cannot be
    what was meant, or None."""
    from . import latex
    from .names import _AND, _COMMA, split_top
    if not latex.braces_balanced(value):
        return "unbalanced braces in the name list"
    if not value.strip():
        return None
    parts = split_top(value.strip(), _AND)
    stray = re.compile(r"^and(\s|$)|\sand$", re.I)
    if any(not p.strip() or stray.search(p.strip()) for p in parts):
        return "an empty name in the list: 'and' at the start or end, or twice in a row"
    for part in parts:
        pieces = [p.strip() for p in split_top(part.strip(), _COMMA)]
        if "=" in part:
            continue   # biblatex's extended format: family=..., given=...
        if any(not p for p in pieces[1:]) or not pieces[0]:
            return f"the name '{part.strip()}' has an empty part around a comma"
        if len(pieces) > 3 or (len(pieces) == 3 and not _SUFFIX.match(pieces[1])):
            return (f"'{part.strip()}' has too many commas for one name: separate "
                    "names with ' and ' and write each as 'Family, Given'")
        if ";" in part:
            return f"'{part.strip()}' holds a ';': separate names with ' and '"
    return None


def value_problem(name: str, value: str) -> str | None:
    """Why `value` cannot go into field `name`, or None (after `clean_value`)."""
    lname = name.lower()
    if lname in URL_FIELDS:
        problem = url_problem(value)
        if problem:
            return f"invalid URL {value!r} for {lname}: {problem}"
    if lname in DATE_FIELDS and not is_valid_date(value):
        return (f"invalid date {value!r} for {lname}: use ISO 8601 like 2017-06-26, "
                "2017-06 or 2017")
    if lname in ISBN_FIELDS:
        problem = isbn_problem(value)
        if problem:
            return problem
    if lname in NAME_FIELDS:
        problem = names_problem(value)
        if problem:
            return f"invalid name list for {lname}: {problem}"
    return None


def clean_value(name: str, value: str) -> str:
    """The value as it is stored: a URL without scheme gets https://."""
    return normalize_url(value) if name.lower() in URL_FIELDS else value


# -- what the commands call ---------------------------------------------------------------

def check_name(name: str) -> None:
    """A field name must be one BibTeX can read (never overridable)."""
    if not FIELD_NAME.match(name):
        raise UsageError(f"invalid field name {name!r}")


def check_type(entry_type: str, force: bool = False) -> str:
    """The entry type in lower case, or ValueProblem (e.g. `--type zeitung`)."""
    problem = type_problem(entry_type)
    if problem and not force:
        raise ValueProblem(problem, FORCE_HINT)
    return entry_type.strip().lower()


def check_value(name: str, value: str, force: bool = False) -> str:
    """The value to store for one FIELD=VALUE (cleaned), or ValueProblem."""
    check_name(name)
    value = clean_value(name, value)
    problem = value_problem(name, value)
    if problem and not force:
        raise ValueProblem(problem, FORCE_HINT)
    return value


def record_problems(record) -> list[Problem]:
    """Every rule a `Record` breaks (type, dates, URLs, ISBNs), e.g. of an import."""
    found = []
    problem = type_problem(record.type)
    if problem:
        found.append(Problem("", record.type, problem))
    for name, value in record.fields.items():
        problem = value_problem(name, value) if name not in NAME_FIELDS else None
        if problem:
            found.append(Problem(name, value, problem))
    return found


def block_problems(block, text: str) -> list[Problem]:
    """Every rule a parsed entry breaks, with its line in `text` (the text the block
    was parsed from, e.g. an editor's buffer). Name lists are checked as written."""
    from . import latex
    found = []
    problem = type_problem(block.type)
    if problem:
        found.append(Problem("", block.type, problem, _line(text, block.start)))
    for f in block.fields:
        if f.key in NAME_FIELDS:
            value = f.value
        elif f.key in URL_FIELDS or f.key in ISBN_FIELDS:
            value = f.value.strip()
        else:
            value = latex.decode(f.value)
        problem = value_problem(f.key, value)
        if problem:
            found.append(Problem(f.key, value, problem, _line(text, f.start)))
    return found


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def check_source(source: str) -> str:
    """A SOURCE of `add` as it should be fetched: `www.example.de/artikel` becomes an
    https URL; an ISBN with a wrong check digit is refused, saying so (rather than
    "not a URL, DOI or ISBN"). Files, DOIs and URLs pass unchanged."""
    from pathlib import Path
    if Path(source).exists():
        return source
    digits = re.sub(r"^\s*ISBN(?:-1[03])?:?\s*|[\s\-‐‑–]", "", source, flags=re.I)
    if re.fullmatch(r"\d{9}[\dXx]|\d{13}", digits):
        problem = isbn_problem(source)
        if problem:
            raise ValueProblem(problem)
        return source
    return normalize_url(source) if not source.startswith("10.") else source
