"""Citation keys: generated from a record by a pattern, unique in the library.

The pattern language (setting `key_pattern`):

    {auth}{year}{title}        the default: lohse2017dossier

Placeholders in braces are replaced by parts of the record; everything else is copied
literally and may only use the characters allowed in keys (`A-Z a-z 0-9 _ : . -`).

    {auth}        first author's family name (editors when there are no authors); for an
                  organisation its first significant word; without any, the first
                  significant title word
    {authors2}    the first two authors' family names joined (one name when only one)
    {year}        the four-digit year (nothing when the record has no date)
    {title}       the first significant title word not already used by {auth}
    {shorttitle}  the first three significant title words (after any used by {auth})
    {journal}     the first significant word of `journaltitle`

A significant word is one that is not a German, English or Russian function word
(articles, prepositions, conjunctions, pronouns: "der", "für", "the", "of", "и"; no
verbs, so that "War" and "Sein" count) and is not made only of digits. Every value is
folded to lower-case ASCII with `textnorm.ascii_fold` (Städtepartnerschaften →
staedtepartnerschaften, Железногорск → schelesnogorsk) and stripped of anything but
letters and digits. `{auth}:{year}` gives keys like `lohse:2017`.

A record with nothing to build a key from gets `anon`. A key already in the library
(compared case-insensitively, as BibTeX does) gets a suffix: a, b, ..., z, aa, ab, ...

A generated key stays short: each value is cut to MAX_WORD characters and the key to
MAX_GENERATED before its suffix (a 300-letter title word makes no 300-letter key). Any
key, given or generated, must fit a file name as its snapshot folder (MAX_FOLDER_BYTES).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from clippings.errors import UsageError
from clippings.model import Name, Record
from clippings.textnorm import ascii_fold, has_cyrillic

__all__ = ["DEFAULT_PATTERN", "KeySet", "base_key", "make_key", "is_valid_key",
           "validate_pattern", "significant_words", "key_problem", "check_key"]

DEFAULT_PATTERN = "{auth}{year}{title}"
PLACEHOLDERS = ("auth", "authors2", "year", "title", "shorttitle", "journal")

# A citation key as BibTeX and biber read it: no white space, no control character and none
# of the characters that end a key or start LaTeX (`,{}()"#%'=\\`). Unicode letters
# (`Müller2016`) and `/` (DBLP's `DBLP:journals/corr/Roters16`) are valid: biber accepts
# both, and a user's \cite commands rely on them. Keys are also folder names under
# snapshots/ (see snapshots.folder_name), so `.`, `..` and a leading dot are refused.
_VALID_KEY_RE = re.compile(r"[^\s\x00-\x1f\x7f,{}()\"#%'=\\]+")
# A file name has at most 255 bytes (ext4, XFS, APFS, NTFS); the snapshot folder of a key
# is named by it, so a longer key could never keep its snapshot.
MAX_FOLDER_BYTES = 255
MAX_WORD = 32          # a generated key's longest value ({auth}, {title}, ...)
MAX_GENERATED = 100    # a generated key before its suffix
_GENERATED_KEY_RE = re.compile(r"[A-Za-z0-9_:.\-]+")
_TOKEN_RE = re.compile(r"\{([^{}]*)\}|([^{}]+)|([{}])")
_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")

_STOPWORDS_TEXT = """
der die das des dem den ein eine einer eines einem einen und oder aber sondern denn
für von vom zu zum zur im in ins am an ans auf aus bei beim mit nach über um
unter vor hinter neben zwischen durch gegen ohne bis seit wegen während als wie wo
ob dass daß nicht noch auch nur so es er sie wir ihr ich du sich kein keine dieser
diese dieses jener welche wer
the a an of and or for on in to with by from at as is are was be into about over
under after before between without via vs versus its it this that these those not
no but nor so yet up out off per than de la le les el los las du et y di del da
и в во на с со о об обо по к ко для из от до за у при над под без же ли не ни
а но или что как это
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
# The folded spellings too, so "fuer" and "ueber" are skipped like "für" and "über".
# (Latin words only: folded Russian function words would hide Latin ones, "do", "pod").
_STOP_FOLDED = frozenset(ascii_fold(w).lower() for w in STOPWORDS if not has_cyrillic(w))


def is_valid_key(key: str) -> bool:
    """Whether `key` is usable as a citation key and, encoded, as a snapshot folder name."""
    return isinstance(key, str) and _VALID_KEY_RE.fullmatch(key) is not None and \
        not key.startswith(".") and _folder_bytes(key) <= MAX_FOLDER_BYTES


def _folder_bytes(key: str) -> int:
    """The length of the key's snapshot folder name in bytes."""
    from .snapshots import escaped   # snapshots imports this module's checks
    return len(escaped(key).encode("utf-8"))


def key_problem(key: str, lang: str = "en") -> str | None:
    """Why `key` cannot be used (one phrase, in `lang`: "en" or "de"), or None when it is
    fine."""
    de = lang == "de"
    if not key:
        return "ein Schlüssel kann nicht leer sein" if de else "a key cannot be empty"
    if _VALID_KEY_RE.fullmatch(key) and key[0] != ".":   # the usual case, in one match
        size = _folder_bytes(key)
        if size > MAX_FOLDER_BYTES:
            if de:
                return (f"ein Schlüssel hat höchstens {MAX_FOLDER_BYTES} Bytes (er benennt "
                        f"einen Ordner in snapshots/); dieser hat {size}")
            return (f"a key can have at most {MAX_FOLDER_BYTES} bytes (it names a folder "
                    f"in snapshots/); this one has {size}")
        return None
    if key.startswith("."):
        if de:
            return ("ein Schlüssel kann nicht mit '.' beginnen (er würde einen "
                    "versteckten oder übergeordneten Ordner benennen)")
        return "a key cannot start with '.' (it would name a hidden or parent folder)"
    bad = sorted({c for c in key if not _VALID_KEY_RE.fullmatch(c)})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        if de:
            return f"ein Schlüssel kann {shown} nicht enthalten (Leerraum, Steuerzeichen " \
                   f"und ,{{}}()\"#%'=\\ sind nicht erlaubt)"
        return f"a key cannot contain {shown} (white space, control characters and " \
               f",{{}}()\"#%'=\\ are not allowed)"
    return None


def check_key(key: str) -> str:
    """`key`, or a UsageError saying why it is not a usable key."""
    problem = key_problem(key)
    if problem:
        raise UsageError(f"invalid key {key!r}: {problem}",
                         german=f"ungültiger Schlüssel {key!r}: {key_problem(key, 'de')}")
    return key


def _fold(word: str) -> str:
    """Lower-case ASCII letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", ascii_fold(word).lower())


def significant_words(text: str) -> list[str]:
    """The folded words of `text` that are neither function words nor only digits."""
    out = []
    for word in _WORD_RE.findall(text):
        word = word.replace("'", "").replace("’", "")
        if word.casefold() in STOPWORDS:
            continue
        folded = _fold(word)
        if not folded or folded.isdigit() or folded in _STOP_FOLDED:
            continue
        out.append(folded)
    return out


def _family(name: Name) -> str:
    if name.literal:
        words = significant_words(name.family)
        return words[0] if words else _fold(name.family)
    return _fold(name.family)


def _persons(record: Record) -> list[Name]:
    return record.names.get("author") or record.names.get("editor") or []


def _parse(pattern: str) -> list[tuple[bool, str]]:
    """Split a pattern into (is_placeholder, text) parts, or raise UsageError."""
    if not pattern:
        raise UsageError("key pattern is empty; try '{auth}{year}{title}'")
    parts: list[tuple[bool, str]] = []
    for m in _TOKEN_RE.finditer(pattern):
        name, literal, stray = m.groups()
        if stray is not None:
            raise UsageError(f"key pattern {pattern!r}: unbalanced '{stray}'")
        if name is not None:
            if name not in PLACEHOLDERS:
                known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                raise UsageError(f"key pattern {pattern!r}: unknown placeholder "
                                 f"{{{name}}} (known: {known})")
            parts.append((True, name))
        else:
            if not _GENERATED_KEY_RE.fullmatch(literal):
                raise UsageError(f"key pattern {pattern!r}: text {literal!r} may only "
                                 "use letters, digits and _ : . -")
            parts.append((False, literal))
    if not any(is_placeholder for is_placeholder, _ in parts):
        raise UsageError(f"key pattern {pattern!r} has no placeholder such as {{auth}}")
    return parts


def validate_pattern(pattern: str) -> None:
    """Raise UsageError when `pattern` is not a valid key pattern."""
    _parse(pattern)


def _values(record: Record) -> dict[str, str]:
    title_words = [w[:MAX_WORD] for w in significant_words(record.get("title"))]
    persons = _persons(record)
    families = [f[:MAX_WORD] for f in (_family(n) for n in persons) if f]
    used = 0
    if families:
        auth = families[0]
    elif title_words:
        auth, used = title_words[0], 1   # the title's first word stands in for an author
    else:
        auth = ""
    rest = title_words[used:]
    journal = significant_words(record.get("journaltitle"))
    return {
        "auth": auth,
        "authors2": "".join(families[:2]) or auth,
        "year": _fold(record.year),   # Record.year accepts any script's digits
        "title": rest[0] if rest else "",
        "shorttitle": "".join(rest[:3]),
        "journal": journal[0][:MAX_WORD] if journal else "",
    }


def base_key(record: Record, pattern: str = DEFAULT_PATTERN) -> str:
    """The key `pattern` gives for `record`, before making it unique."""
    parts = _parse(pattern)
    values = _values(record)
    key = "".join(values[text] if is_placeholder else text for is_placeholder, text in parts)
    # Only literal text left (no value at all): fall back rather than give ":" or "".
    if not any(values[text] for is_placeholder, text in parts if is_placeholder):
        return "anon"
    return key[:MAX_GENERATED]


class KeySet:
    """A set of citation keys compared case-insensitively, as BibTeX compares them.

    Build it once from the library's keys and pass it to `make_key` for every new
    record, adding each new key: lookups are O(1) however large the library.
    """

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._folded = {k.lower() for k in keys}

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._folded

    def __len__(self) -> int:
        return len(self._folded)

    def __iter__(self) -> Iterator[str]:
        return iter(self._folded)

    def add(self, key: str) -> None:
        self._folded.add(key.lower())

    def discard(self, key: str) -> None:
        self._folded.discard(key.lower())


def _suffixes() -> Iterator[str]:
    """a, b, ..., z, aa, ab, ..., az, ba, ... (bijective base 26)."""
    n = 1
    while True:
        k, s = n, ""
        while k:
            k, r = divmod(k - 1, 26)
            s = chr(ord("a") + r) + s
        yield s
        n += 1


def make_key(record: Record, existing: Iterable[str] | KeySet = (),
             pattern: str = DEFAULT_PATTERN) -> str:
    """A new citation key for `record`, not in `existing` (case-insensitively).

    Pass a `KeySet` when making many keys against a large library; any other collection
    is copied into one first (one O(n) pass per call).
    """
    return unique_key(base_key(record, pattern), existing)


def unique_key(base: str, existing: Iterable[str] | KeySet = ()) -> str:
    """`base`, or `base` with the first free suffix a, b, ... z, aa, ab ..."""
    taken = existing if isinstance(existing, KeySet) else KeySet(existing)
    if base not in taken:
        return base
    for suffix in _suffixes():
        if base + suffix not in taken:
            return base + suffix
    raise AssertionError("unreachable")
