"""`clippings lint`: everything in library.bib a careful editor would want to know about.

Each check is a small function over one entry (or the whole library for duplicates) that
yields `Finding`s; `run` collects them in file order.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Iterator

from . import latex
from .bibfile import MONTH_MACROS, VERBATIM_FIELDS, Block, Field
from .fields import DATE_FIELDS, URL_FIELDS, is_valid_date, url_problem
from .keys import key_problem
from .library import REFERENCE_FIELDS, Library, key_list

# biblatex's entry types (and the BibTeX ones biber maps onto them).
KNOWN_TYPES = {
    "article", "book", "mvbook", "inbook", "bookinbook", "suppbook", "booklet",
    "collection", "mvcollection", "incollection", "suppcollection", "dataset", "manual",
    "misc", "online", "patent", "periodical", "suppperiodical", "proceedings",
    "mvproceedings", "inproceedings", "reference", "mvreference", "inreference", "report",
    "set", "software", "thesis", "unpublished", "xdata", "customa", "customb", "customc",
    "customd", "custome", "customf", "artwork", "audio", "bibnote", "commentary", "image",
    "jurisdiction", "legislation", "legal", "letter", "movie", "music", "performance",
    "review", "standard", "video", "electronic", "www", "conference", "mastersthesis",
    "phdthesis", "techreport",
}

# Required fields per type, after biblatex's manual (section 2.1.1). A tuple is "one of".
# biblatex also lists author/editor for booklet, manual, misc, online, periodical and
# report, but its styles handle anonymous works of these kinds (they sort and label them
# by title), and press material often is anonymous: lint asks for a name only where a
# work cannot be cited without one. An unsigned newspaper or magazine article needs none.
_NAMES = ("author", "editor", "organization", "institution")
REQUIRED = {
    "article": [_NAMES, ("title",), ("journaltitle", "journal")],
    "book": [_NAMES, ("title",)],
    "mvbook": [_NAMES, ("title",)],
    "inbook": [("author",), ("title",), ("booktitle",)],
    "bookinbook": [("author",), ("title",), ("booktitle",)],
    "booklet": [("title",)],
    "collection": [("editor", "organization"), ("title",)],
    "incollection": [("author",), ("title",), ("booktitle",)],
    "manual": [("title",)],
    "misc": [("title",)],
    "online": [("title",), ("url", "doi", "eprint")],
    "patent": [("author",), ("title",), ("number",)],
    "periodical": [("title",)],
    "proceedings": [("title",)],
    "inproceedings": [("author",), ("title",), ("booktitle",)],
    "report": [("title",), ("type",), ("institution",)],
    "techreport": [("title",), ("institution",)],
    "thesis": [("author",), ("title",), ("type",), ("institution", "school")],
    "phdthesis": [("author",), ("title",), ("institution", "school")],
    "mastersthesis": [("author",), ("title",), ("institution", "school")],
    "unpublished": [("author",), ("title",)],
    "dataset": [("title",)],
    "software": [("title",)],
}
_NO_DATE_NEEDED = {"set", "xdata"}


@dataclass
class Finding:
    key: str
    field: str
    severity: str   # "error" | "warning"
    message: str
    line: int

    def as_dict(self) -> dict:
        return asdict(self)


def run(lib: Library) -> list[Finding]:
    """All findings, in file order (cached in index/ for an unchanged file)."""
    from . import bibcache
    cached = bibcache.load_derived(lib.folder, "lint", lib.signature)
    if cached is not None:
        return [Finding(*f) for f in cached]
    with bibcache.no_gc():   # a whole-library pass builds many objects and frees few
        findings = _run(lib)
    bibcache.save_derived(lib.folder, "lint", lib.signature,
                          [tuple(f.as_dict().values()) for f in findings])
    return findings


def _run(lib: Library) -> list[Finding]:
    """One pass over the blocks in file order: @string definitions as BibTeX meets them,
    each entry with the macros defined above it, text that follows an entry."""
    findings: list[Finding] = []
    macros = Macros(lib)
    previous = None
    for block in lib.blocks:
        if block.kind == "entry":
            findings.extend(check_entry(block, lib, macros))
        elif block.kind == "string":
            findings.extend(macros.define(block))
        elif block.kind == "text" and previous is not None:
            findings.extend(check_stray_text(block, previous, lib))
        previous = block if block.kind == "entry" else None
    findings.extend(check_keys(lib))
    findings.extend(check_duplicates(lib))
    findings.sort(key=lambda f: (f.line, f.key, f.field))
    return findings


def _field_line(block: Block, name: str, lib: Library) -> int:
    f = block.get(name)
    if f is None:
        return block.line
    return block.line + lib.text.count("\n", block.start, f.start)


def _needs_author(kind: str, filled: dict[str, str]) -> bool:
    subtype = filled.get("entrysubtype", "").lower()
    return not (kind == "article" and subtype in ("newspaper", "magazine"))


def check_entry(block: Block, lib: Library, macros: "Macros | None" = None
                ) -> Iterator[Finding]:
    key, kind = block.key, block.type_lower
    # field -> value, for the fields that have one (the first of a repeated field counts)
    filled: dict[str, str] = {}
    for f in reversed(block.fields):
        if f.value.strip():
            filled[f.key] = f.value

    def finding(field_name: str, severity: str, message: str) -> Finding:
        return Finding(key, field_name, severity, message, _field_line(block, field_name, lib))

    if kind not in KNOWN_TYPES:
        yield finding("", "error", f"unknown entry type @{block.type}")
    # Inherited fields count only when the parent exists: a dangling crossref hides nothing.
    crossref = any(key_list(filled.get(name, "")) and
                   all(parent in lib for parent in key_list(filled[name]))
                   for name in ("crossref", "xdata"))
    for group in REQUIRED.get(kind, []) if not crossref else []:
        if group is _NAMES and not _needs_author(kind, filled):
            continue
        if not any(name in filled for name in group):
            yield finding(group[0], "error", f"@{kind} needs {' or '.join(group)}")
    if kind not in _NO_DATE_NEEDED and not crossref and not ("date" in filled or
                                                             "year" in filled):
        yield finding("date", "error", f"@{kind} needs a date (or year)")
    seen_fields: dict[str, Field] = {}
    for f in block.fields:
        if macros is not None and (len(f.pieces) > 1 or f.pieces[0][0] == "macro"):
            yield from macros.undefined(block, f)
        if f.key in REFERENCE_FIELDS:
            yield from _dangling(block, f, lib)
        if f.key in seen_fields:
            yield Finding(key, f.key, "warning",
                          f"field {f.name} is given twice (first at line "
                          f"{_line_of(seen_fields[f.key].start, block, lib)}); BibTeX, biber "
                          "and clippings use the first", _line_of(f.start, block, lib))
        else:
            seen_fields[f.key] = f
        value = f.value
        if f.key == "month" and value.strip() and not _month_ok(value):
            yield finding(f.key, "error", f"invalid month {value!r} (use 1-12 or jan-dec; "
                          "better: a full date in `date`)")
        if value.strip() == "":
            yield finding(f.key, "warning", f"field {f.name} is empty")
            continue
        k = f.key
        if k in _DECODED_CHECKS:
            yield from _check_value(f, value if k in VERBATIM_FIELDS else latex.decode(value),
                                    finding)
        if not unicodedata.is_normalized("NFC", value):
            yield finding(f.key, "warning", f"field {f.name} is not in Unicode NFC form "
                          "(decomposed accents): search and sorting may miss it")
        if "\\" in value and not _escaped_braces_pair(value):
            yield finding(f.key, "error", f"unbalanced escaped braces in {f.name}: "
                          "biber and BibTeX will disagree on where the value ends")
        if _CONTROL.search(value):
            yield finding(f.key, "warning", f"field {f.name} contains control characters")


_DECODED_CHECKS = frozenset(DATE_FIELDS) | frozenset(URL_FIELDS) | {"year"}


def _check_value(f, decoded: str, finding) -> Iterator[Finding]:
    """Checks of dates, years and URLs, on the value as a reader sees it."""
    if f.key in DATE_FIELDS and not is_valid_date(decoded):
        yield finding(f.key, "error", f"invalid date {decoded!r} (use ISO 8601: "
                      "2017-06-26, 2017-06, 2017)")
    if f.key == "year" and not _year_ok(decoded):
        yield finding(f.key, "error", f"invalid year {decoded!r}")
    if f.key in URL_FIELDS:
        problem = url_problem(decoded)
        if problem:
            yield finding(f.key, "error", f"invalid URL {decoded!r}: {problem}")
        else:
            from .dedupe import has_tracking, strip_tracking
            if has_tracking(decoded):
                yield finding(f.key, "warning", "URL carries tracking parameters; "
                              f"clean form: {strip_tracking(decoded)}")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _year_ok(value: str) -> bool:
    return value.strip().lstrip("-").isdigit()


def _escaped_braces_pair(value: str) -> bool:
    return value.count("\\{") == value.count("\\}")


def _line_of(offset: int, block: Block, lib: Library) -> int:
    return block.line + lib.text.count("\n", block.start, offset)


_MONTH_NAMES = frozenset(MONTH_MACROS) | {
    "january", "february", "march", "april", "june", "july", "august", "september",
    "october", "november", "december"}


def _month_ok(value: str) -> bool:
    value = value.strip().lower().rstrip(".")
    return (value.isdigit() and 1 <= int(value) <= 12) or value in _MONTH_NAMES


def _dangling(block: Block, f: Field, lib: Library) -> Iterator[Finding]:
    """crossref, xdata, xref, related and entryset must name entries of the library."""
    for parent in key_list(f.value):
        if parent not in lib:
            yield Finding(block.key, f.key, "error",
                          f"{f.name} names '{parent}', which is not in the library",
                          _line_of(f.start, block, lib))


class Macros:
    """The @string macros as BibTeX meets them: used where undefined (or before their
    definition), defined twice."""

    def __init__(self, lib: Library):
        self.lib = lib
        self.defined: dict[str, int] = {}
        self.later = {b.fields[0].key: b.line for b in lib.blocks
                      if b.kind == "string" and b.fields}

    def define(self, block: Block) -> Iterator[Finding]:
        if not block.fields:
            return
        f = block.fields[0]
        yield from self.undefined(block, f)
        if f.key in self.defined:
            yield Finding("@string", f.key, "warning",
                          f"@string {f.key} is defined again (first at line "
                          f"{self.defined[f.key]}); entries above keep the first value",
                          block.line)
        self.defined.setdefault(f.key, block.line)

    def undefined(self, block: Block, f: Field) -> Iterator[Finding]:
        for kind, text in f.pieces:
            name = text.lower()
            if kind != "macro" or name in self.defined or name in MONTH_MACROS:
                continue
            where = f" (defined later, at line {self.later[name]}: BibTeX needs it above)" \
                if name in self.later else ""
            yield Finding(block.key or "@string", f.key, "error",
                          f"undefined @string macro '{text}' in {f.name}{where}; it is "
                          "read as the text of its name", _line_of(f.start, block, self.lib))


_STRAY_FIELDS = re.compile(r"\s*,?\s*[A-Za-z][\w-]*\s*=\s*[{\"0-9]")


def check_stray_text(block: Block, entry: Block, lib: Library) -> Iterator[Finding]:
    """Text after an entry that looks like its fields: a `}` closed the entry too early
    (`title = {A}},`), and BibTeX silently drops everything after it."""
    if _STRAY_FIELDS.match(lib.text, block.start, block.end):
        yield Finding(entry.key, "", "error",
                      "text after the entry's closing brace looks like fields: a '}' "
                      "too many ends the entry early, and what follows is ignored",
                      block.line + (1 if lib.text[block.start] == "\n" else 0))


def check_keys(lib: Library) -> Iterator[Finding]:
    """Keys that differ only by case: BibTeX treats them as the same entry."""
    seen: dict[str, Block] = {}
    for block in (b for b in lib.blocks if b.kind == "entry"):
        folded = block.key.casefold()
        if folded in seen:
            first = seen[folded]
            yield Finding(block.key, "", "error",
                          f"key '{block.key}' differs from '{first.key}' (line {first.line}) "
                          "only by case; BibTeX treats them as one", block.line)
        else:
            seen[folded] = block
        problem = key_problem(block.key)   # the rule every command applies to a key
        if problem:
            yield Finding(block.key, "", "error", f"{problem}; clippings will not touch a "
                          "snapshot folder for it (rename the entry)", block.line)


def check_duplicates(lib: Library) -> Iterator[Finding]:
    from .dedupe import find_duplicate_groups
    from .bibfile import block_record
    from .dedupe import SIGNAL_FIELDS
    records = [(b.key, block_record(b, SIGNAL_FIELDS)) for b in lib.blocks
               if b.kind == "entry"]
    for group in find_duplicate_groups(records):
        first = group.keys[0]
        why = {b: reason for a, b, reason in group.reasons}
        for other in group.keys[1:]:
            reason = f" ({why[other]})" if other in why else ""
            yield Finding(other, "", "warning", f"likely duplicate of '{first}'{reason}",
                          lib.entry_line(other))
