"""Field-level rules shared by `add`, `set` and `lint`: names, URLs, dates."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .errors import UsageError
from .model import NAME_FIELDS

FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_:.+-]*$")
URL_FIELDS = ("url", "archiveurl", "origurl")
_SPACE = re.compile(r"\s")
DATE_FIELDS = ("date", "urldate", "origdate", "eventdate", "archivedate")

# biblatex dates: ISO 8601 / EDTF level 1 subset: YYYY, YYYY-MM, YYYY-MM-DD, optional time,
# uncertainty markers ?, ~, %, unspecified digits X, ranges with "/" (open ends allowed).
_DAY = r"[+-]?\d{4}(?:-(?:0[1-9]|1[0-2]|2[1-4])(?:-(?:0[1-9]|[12]\d|3[01]))?)?"
_TIME = r"(?:T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?"
_POINT = rf"(?:{_DAY}{_TIME}[?~%]?|\d{{2}}XX|\d{{3}}X|\d{{4}}-XX(?:-XX)?|\d{{4}}-\d{{2}}-XX)"
_DATE = re.compile(rf"^(?:{_POINT}|{_POINT}/(?:{_POINT}|\.\.)?|(?:\.\.)?/{_POINT})$")


def is_valid_date(value: str) -> bool:
    value = value.strip()
    if not _DATE.match(value):
        return False
    for part in value.split("/"):
        m = re.match(r"^[+-]?(\d{4})-(\d{2})-(\d{2})", part)
        if m:
            import datetime
            try:
                datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return False
    return True


def url_problem(value: str) -> str | None:
    """Why `value` is not a usable web address, or None."""
    try:
        parts = urlsplit(value.strip())
    except ValueError as exc:
        return str(exc)
    if parts.scheme.lower() not in ("http", "https", "ftp"):
        return "it does not start with http:// or https://"
    if not parts.hostname or "." not in parts.hostname and parts.hostname != "localhost":
        return "it has no valid host name"
    if _SPACE.search(value.strip()):
        return "it contains spaces"
    return None


def parse_assignment(text: str) -> tuple[str, str]:
    """FIELD=VALUE from the command line (the value is checked where it is used, by
    `validate`, so that --force can keep it)."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise UsageError(f"expected FIELD=VALUE, got {text!r}")
    if not FIELD_NAME.match(name):
        raise UsageError(f"invalid field name {name!r}")
    return name.lower(), value


def is_name_field(name: str) -> bool:
    return name.lower() in NAME_FIELDS
