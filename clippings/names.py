"""BibTeX and biblatex name lists: "Family, Given and {Organisation}" <-> `Name`s.

Follows BibTeX's three forms ("First von Last", "von Last, First", "von Last, Jr, First"),
braces protect a part (a whole braced name is an organisation), and biblatex's extended
format (`family=Rabble, given=Richard, prefix=von`) is understood too. Parts are decoded
from LaTeX to Unicode.
"""

from __future__ import annotations

import re

from . import latex
from .model import Name

_EXTENDED_KEYS = {"family", "given", "prefix", "suffix", "useprefix", "middle",
                  "uniquenametemplatename", "sortingnamekeytemplatename", "id", "hash"}


def split_top(value: str, sep: re.Pattern) -> list[str]:
    """Split at matches of `sep` that are outside braces."""
    if "{" not in value and "\\" not in value:
        return sep.split(value)   # no groups to respect: the regex engine does it all
    parts, depth, start, i = [], 0, 0, 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            m = sep.match(value, i)
            if m:
                parts.append(value[start:i])
                start = i = m.end()
                continue
        i += 1
    parts.append(value[start:])
    return parts


_AND = re.compile(r"\s+and\s+", re.I)
_COMMA = re.compile(r",")
_SPACE = re.compile(r"[\s~]+")


def parse_names(value: str) -> list[Name]:
    value = value.strip()
    if not value:
        return []
    return [parse_name(part) for part in split_top(value, _AND) if part.strip()]


def parse_name(text: str) -> Name:
    text = text.strip()
    if text.lower() == "others":
        return Name(family="others", literal=True)
    if text.startswith("{") and _matching_close(text, 0) == len(text) - 1:
        return Name(family=latex.decode(text[1:-1]).strip(), literal=True)
    parts = [p.strip() for p in split_top(text, _COMMA)]
    if "=" in text and _is_extended(parts):
        return _extended(parts)
    if len(parts) == 1:
        words = _words(parts[0])
        if len(words) == 1:
            return Name(family=_dec(words[0]))
        # First von Last: von = the run of lower-case words before the last word.
        i = 0
        while i < len(words) - 1 and not _is_lower(words[i]):
            i += 1
        j = i
        while j < len(words) - 1 and _is_lower(words[j]):
            j += 1
        if i == j:  # no von part: the last word is the family name
            return Name(family=_dec(words[-1]), given=_dec(" ".join(words[:-1])))
        return Name(family=_dec(" ".join(words[j:])), given=_dec(" ".join(words[:i])),
                    prefix=_dec(" ".join(words[i:j])))
    von_last = _words(parts[0])
    suffix = parts[1] if len(parts) >= 3 else ""
    given = ", ".join(parts[2:]) if len(parts) >= 3 else parts[1]
    k = 0
    while k < len(von_last) - 1 and _is_lower(von_last[k]):
        k += 1
    return Name(family=_dec(" ".join(von_last[k:])), given=_dec(given),
                prefix=_dec(" ".join(von_last[:k])), suffix=_dec(suffix))


def _dec(s: str) -> str:
    return latex.decode(s).strip()


def _words(s: str) -> list[str]:
    return [w for w in split_top(s.strip(), _SPACE) if w]


def _is_lower(word: str) -> bool:
    """BibTeX's "von" test: the first letter at brace level 0 is lower case."""
    depth = 0
    for i, ch in enumerate(word):
        if ch == "{":
            if depth == 0 and word[i + 1:i + 2] == "\\":
                # {\"u}ber: a special character counts by its letter
                rest = latex.decode(word[i:])
                return rest[:1].islower()
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0 and ch.isalpha():
            return ch.islower()
    return False


def _matching_close(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _is_extended(parts: list[str]) -> bool:
    return all("=" in p and p.split("=", 1)[0].strip().lower() in _EXTENDED_KEYS
               for p in parts if p)


def _extended(parts: list[str]) -> Name:
    values: dict[str, str] = {}
    for p in parts:
        k, _, v = p.partition("=")
        v = v.strip()
        if v.startswith("{") and v.endswith("}"):
            v = v[1:-1]
        values[k.strip().lower()] = _dec(v)
    given = " ".join(x for x in (values.get("given", ""), values.get("middle", "")) if x)
    return Name(family=values.get("family", ""), given=given,
                prefix=values.get("prefix", ""), suffix=values.get("suffix", ""))
