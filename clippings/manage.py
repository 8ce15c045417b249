"""What the editing commands do: add, set, unset, rename, remove, import, edit.

Each function takes the path of library.bib, does its whole job under the library's lock
(load fresh, check, change, save atomically) and returns a small result for the CLI to show.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import bibfile, journal, latex, snapshots, validate
from .config import Settings
from .errors import ConflictError, UsageError
from .fields import is_name_field
from .library import Library
from .model import Name, Record
from .names import parse_names


@dataclass
class AddResult:
    key: str
    record: Record
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    snapshot: str | None = None
    notes: list[str] = field(default_factory=list)   # what the user should know (stderr)


def record_from_assignments(entry_type: str, assignments: list[tuple[str, str]],
                            tags: tuple[str, ...] = (), force: bool = False) -> Record:
    """A Record from FIELD=VALUE pairs; name fields use BibTeX name syntax. Type and
    values follow the rules of `validate` unless `force`."""
    rec = Record(type=validate.check_type(entry_type, force))
    apply_assignments(rec, assignments, tags, force)
    return rec


def apply_assignments(rec: Record, assignments: list[tuple[str, str]],
                      tags: tuple[str, ...] = (), force: bool = False) -> Record:
    """Set FIELD=VALUE pairs on `rec` the same way with and without a fetched source:
    name fields are parsed as BibTeX name lists (replacing fetched names), URLs lose
    their tracking parameters; values follow the rules of `validate` unless `force`."""
    from .dedupe import strip_tracking
    for name, value in assignments:
        value = validate.check_value(name, value, force).strip()
        name = name.lower()
        if is_name_field(name):
            rec.names[name] = parse_names(value)
            rec.fields.pop(name, None)
        elif name == "url":
            rec.fields["url"] = strip_tracking(value)
        else:
            rec.fields[name] = value
    if tags:
        rec.fields["keywords"] = merge_keywords(rec.fields.get("keywords", ""), tags)
    return rec


def source_fields(sources) -> list[tuple[str, str]]:
    """With --no-fetch, a URL, DOI or ISBN given as SOURCE still goes into its field."""
    from .dedupe import normalize_doi, normalize_isbn
    pairs = []
    for source in sources:
        if source.startswith(("http://", "https://")):
            pairs.append(("url", source))
        elif normalize_doi(source):
            pairs.append(("doi", normalize_doi(source)))
        elif normalize_isbn(source):
            pairs.append(("isbn", normalize_isbn(source)))
        else:
            raise UsageError(f"not a URL, DOI or ISBN: {source!r}")
    return pairs


def merge_keywords(existing: str, tags) -> str:
    words = [w.strip() for w in existing.split(",") if w.strip()]
    for tag in tags:
        if tag.strip() and tag.strip().casefold() not in {w.casefold() for w in words}:
            words.append(tag.strip())
    return ", ".join(words)


def duplicate_index(lib: Library):
    """The library's duplicate index: stored in index/ and updated per changed entry."""
    import sqlite3
    from . import dupstore
    try:
        return dupstore.open_for(lib)
    except (sqlite3.Error, OSError):   # no writable index/: build one in memory
        from .dedupe import DuplicateIndex
        return DuplicateIndex((rec.key, rec) for rec in lib.records(resolve=False))


def add_record(path: Path, record: Record, *, key: str | None = None, force: bool = False,
               settings: Settings | None = None,
               snapshot: Callable[[str], str | None] | None = None) -> AddResult:
    """Append one entry under the lock; a likely duplicate is refused unless `force`.

    `snapshot(key)` saves the entry's snapshot once its key is known, before library.bib
    is saved: when it fails, the entry is not saved either (and the other way round).
    """
    from .keys import KeySet, check_key, make_key
    if not record.fields.get("title") and not record.names:
        raise UsageError("an entry needs at least a title (use --set title=...)")
    with Library.update(path, settings) as lib:
        index = duplicate_index(lib)
        duplicates = index.find(record)
        if duplicates and not force:
            keys = ", ".join(k for k, _ in duplicates)
            raise ConflictError(f"likely duplicate of {keys} ({duplicates[0][1]}); "
                                "use --force to add it anyway",
                                german=f"wahrscheinlich schon vorhanden: {keys} "
                                       f"({duplicates[0][1]}); „Trotzdem hinzufügen“ "
                                       "(--force) fügt den Eintrag dennoch hinzu")
        if key:
            check_key(key)
            if key in lib:
                raise ConflictError(f"key '{key}' is already used",
                                    german=f"Der Schlüssel '{key}' ist schon vergeben")
        else:
            taken = KeySet(lib.keys())
            key = make_key(record, taken, lib.settings.key_pattern)
            while snapshots.has_snapshot(lib.folder, key):
                # a folder `rm --keep-snapshot` left: another entry's page, not ours to take
                taken.add(key)
                key = make_key(record, taken, lib.settings.key_pattern)
        record.key = key
        lib.add(record, key)
        saved = _save_with_snapshot(lib, key, snapshot)
        if hasattr(index, "commit"):
            index.commit(lib, {key: record})
    return AddResult(key, record, duplicates, snapshot=saved)


def _save_with_snapshot(lib: Library, key: str, snapshot) -> str | None:
    """Write the new entry's snapshot, then library.bib (under the lock): both or
    neither. A snapshot folder already there (`rm --keep-snapshot` left it) is set aside
    first and comes back if the add fails; it gives way to the new one only once the
    entry is saved."""
    kept = _set_aside(lib.folder, key) if snapshot else None
    before = lib.raw
    saved = None
    try:
        saved = snapshot(key) if snapshot else None
        lib.save(_locked=True)
    except BaseException as exc:
        if getattr(exc, "saved", False) or lib.raw is not before:
            _drop(kept)     # raised once library.bib was replaced: the entry is saved
            raise
        with journal.snapshots_changing(lib.path, key):
            if saved:
                snapshots.remove(lib.folder, key)
            if kept is not None:
                os.replace(kept, snapshots.folder(lib.folder, key))
        raise
    _drop(kept)
    return saved


def _drop(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _set_aside(library_folder: Path, key: str) -> Path | None:
    """snapshots/KEY moved to a hidden name beside it (returned), when it exists."""
    if not snapshots.has_snapshot(library_folder, key):
        return None
    path = snapshots.folder(library_folder, key)
    aside = path.with_name(f".{path.name}.kept-{os.urandom(4).hex()}")
    os.replace(path, aside)
    return aside


def set_fields(path: Path, key: str, assignments: list[tuple[str, str]],
               raw_latex: bool = False, settings: Settings | None = None,
               force: bool = False) -> str:
    values = bibtex_values(assignments, raw_latex, force)
    with Library.update(path, settings) as lib:
        key = lib.resolve_key(key)
        lib.set_fields(key, values)
    return key


def bibtex_values(assignments: list[tuple[str, str]], raw_latex: bool = False,
                  force: bool = False) -> dict[str, str]:
    """Checked FIELD=VALUE pairs as the BibTeX text of each value (braces included)."""
    values: dict[str, str] = {}
    for name, value in assignments:
        value = validate.check_value(name, value, force)
        if raw_latex:
            if not latex.braces_balanced(value):
                raise UsageError(f"unbalanced braces in the LaTeX value of {name}")
            values[name] = "{" + value + "}"
        elif is_name_field(name):
            values[name] = "{" + bibfile.format_names(parse_names(value)) + "}"
        else:
            values[name] = bibfile.format_value(value, name)
    return values


class FieldErrors(UsageError):
    """Several fields of one form are invalid: `errors` maps field -> message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {msg}" for name, msg in errors.items()))


def entry_version(text: str) -> str:
    """A short fingerprint of an entry's text: what an editor saw when it began."""
    import hashlib
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def check_fields(entry_type: str, values: dict[str, str]) -> dict[str, str]:
    """field -> message for each unusable value (the checks of `set`) and the type."""
    errors = {}
    problem = validate.type_problem(entry_type)
    if problem:
        errors["type"] = problem
    for name, value in values.items():
        if not value.strip():
            continue
        try:
            validate.check_value(name, value)
        except UsageError as exc:
            errors[name] = str(exc)
    if not (values.get("title") or "").strip():
        errors.setdefault("title", "an entry needs a title")
    return errors


def update_entry(path: Path, key: str, entry_type: str, values: dict[str, str],
                 version: str, settings: Settings | None = None) -> list[str]:
    """Set an entry's type and fields from a form (empty value = remove the field);
    `values` are keyed by field name, so a biblatex field `type` is one of them.

    Nothing is written when a value is invalid (FieldErrors, per field) or when the
    entry changed since the editor read it (ConflictError: `version` is its
    `entry_version` then). Returns what changed as the entry JSON names it: "type" for
    the entry type, "field:type" for the field.
    """
    import re
    errors = check_fields(entry_type, values)
    if errors:
        raise FieldErrors(errors)
    with Library.update(path, settings) as lib:
        key = lib.resolve_key(key)
        text = lib.entry_text(key)
        if entry_version(text) != version:
            raise ConflictError(f"entry '{key}' was changed by someone else meanwhile; "
                                "nothing was written",
                                german=f"Der Eintrag '{key}' wurde inzwischen von jemand "
                                       "anderem geändert; nichts wurde gespeichert")
        current = field_values(lib.record(key, resolve=False))
        changed = [n for n, v in values.items()
                   if v.strip() != current.get(n, "").strip()]
        todo = {n: values[n] for n in changed}
        changed = [json_name(n) for n in changed]
        new_values: dict[str, str | None] = {n: None for n, v in todo.items() if not v.strip()}
        new_values.update(bibtex_values([(n, v) for n, v in todo.items() if v.strip()]))
        if new_values:
            lib.set_fields(key, new_values)
        if entry_type.lower() != lib.record(key, resolve=False).type:
            text = lib.entry_text(key)
            lib.replace_entry(key, re.sub(r"@\s*\w+", "@" + entry_type.lower(), text,
                                          count=1))
            changed.append("type")
    return changed


def unset_fields(path: Path, key: str, names: list[str],
                 settings: Settings | None = None) -> tuple[str, list[str]]:
    """Remove fields; returns the key and the fields that were not there."""
    with Library.update(path, settings) as lib:
        key = lib.resolve_key(key)
        block = lib.block(key)
        missing = [n for n in names if block.get(n) is None]
        lib.set_fields(key, {n: None for n in names if n not in missing})
    return key, missing


def rename(path: Path, old: str, new: str, settings: Settings | None = None) -> tuple[str, bool]:
    from .keys import check_key
    check_key(new)
    folder = Path(path).parent
    with Library.update(path, settings) as lib:
        old = lib.resolve_key(old)
        if snapshots.folder(folder, new).exists() and old != new:
            raise ConflictError(f"snapshots/{snapshots.folder_name(new)} already exists")
        lib.rename(old, new)
        lib.save(_locked=True)
        # An unsafe old key (`..` written by hand) never had a snapshot of ours: no move.
        with journal.snapshots_changing(path, old, new):
            moved = snapshots.move(folder, old, new) if old != new else False
    return old, moved


@dataclass
class Removed:
    key: str
    snapshot: bool              # its snapshot folder was deleted
    unsafe_key: bool = False    # the key cannot name a folder: no folder was touched


def remove(path: Path, keys: list[str], keep_snapshot: bool = False,
           settings: Settings | None = None, force: bool = False) -> list[Removed]:
    """Remove entries (and their snapshots); an entry others inherit from or refer to
    (crossref, xdata, xref, related, entryset) is refused unless `force`."""
    from .keys import key_problem
    folder = Path(path).parent
    done = []
    with Library.update(path, settings) as lib:
        resolved = list(dict.fromkeys(lib.resolve_key(k) for k in keys))
        if not force:
            going = {k.casefold() for k in resolved}
            children = [(c, f) for c, f in lib.references(*resolved)
                        if c.casefold() not in going]
            if children:
                named = ", ".join(f"{c} ({f})" for c, f in children[:10])
                what = f"'{resolved[0]}' is" if len(resolved) == 1 else "these entries are"
                raise ConflictError(f"{what} referred to by {named}; removing would leave "
                                    "them dangling (use --force)")
        for key in resolved:
            lib.remove(key)
        lib.save(_locked=True)
        with journal.snapshots_changing(path, *resolved):
            for key in resolved:
                unsafe = key_problem(key) is not None
                removed = not keep_snapshot and not unsafe and snapshots.remove(folder, key)
                done.append(Removed(key, removed, unsafe))
    return done


def edit_entry(path: Path, key: str, original: str, new_text: str,
               settings: Settings | None = None) -> str | None:
    """Replace an entry with edited text, unless someone changed it meanwhile."""
    if new_text.strip() == original.strip():
        return None
    with Library.update(path, settings) as lib:
        key = lib.resolve_key(key)
        if lib.entry_text(key) != original:
            raise ConflictError(f"entry '{key}' changed in {path} while it was being "
                                "edited; nothing was written")
        return lib.replace_entry(key, new_text.strip("\n"))


# -- import ------------------------------------------------------------------------

@dataclass
class ImportResult:
    added: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)     # (as written, given)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (key, existing, why)
    invalid: list[tuple[str, str]] = field(default_factory=list)   # (key, what is wrong)


def read_records(path: Path) -> list[Record]:
    """Records from a .bib, .ris or CSL-JSON file (by extension, then by content)."""
    raw = Path(path).read_bytes()
    suffix = Path(path).suffix.lower()
    if suffix == ".bib":
        return _bib_records(raw, path)
    text = raw.decode("utf-8-sig", errors="replace")
    if suffix == ".ris" or (suffix not in (".json", ".csljson") and
                            text.lstrip().startswith("TY  -")):
        from .formats import ris
        return ris.parse(text, str(path))
    if suffix in (".json", ".csljson") or text.lstrip()[:1] in "[{":
        from .formats import csljson
        return csljson.parse(text, str(path))
    raise UsageError(f"{path}: unknown format (expected .bib, .ris or CSL-JSON .json)")


def _bib_records(raw: bytes, path: Path) -> list[Record]:
    """Entries of a .bib file, classic BibTeX's spellings (year/month, journal, ...)
    read as biblatex's, so that `export --format bibtex` imports back the same."""
    from .formats.classic import read_classic
    from .library import decode_bib
    text, _ = decode_bib(raw, str(path))
    blocks, _ = bibfile.parse(text, str(path))
    seen: dict[str, int] = {}
    records = []
    for b in blocks:
        if b.kind != "entry":
            continue
        if b.key in seen:
            from .errors import BibSyntaxError
            raise BibSyntaxError(path, b.line, 1, f"repeated citation key '{b.key}' "
                                 f"(first at line {seen[b.key]})")
        seen[b.key] = b.line
        records.append(read_classic(bibfile.block_record(b)))
    return records


def import_files(path: Path, files: list[Path], force: bool = False,
                 settings: Settings | None = None, rekey: bool = False) -> ImportResult:
    """Add the entries of .bib/.ris/CSL-JSON files.

    A foreign key that is a valid key is kept as it is (documents cite it), unless
    `rekey` asks for the library's key pattern; a taken key gets a suffix. References
    between the imported entries (crossref, xdata, xref, related, entryset) follow their
    renamed keys, and point at the library's entry when theirs was skipped as a duplicate.
    """
    from .dedupe import strip_tracking
    from .keys import KeySet, is_valid_key, make_key, unique_key
    from .library import REFERENCE_FIELDS
    incoming = [(f, rec) for f in files for rec in read_records(f)]
    result = ImportResult()
    with Library.update(path, settings) as lib:
        index = duplicate_index(lib)
        taken = KeySet(lib.keys())   # built once: imports of thousands stay linear
        renames: dict[Path, dict[str, str]] = {f: {} for f in files}
        accepted: list[tuple[Path, Record]] = []
        for source, rec in incoming:
            # the key as the file wrote it: a CSL-JSON id "a b" became the key a_b
            written = rec.source_key or rec.key
            problems = [] if force else validate.record_problems(rec)
            if problems:   # the rules of add/set/edit: skipped like a duplicate
                result.invalid.append((written or rec.fields.get("title", "?"),
                                       str(problems[0])))
                continue
            if rec.fields.get("url"):
                rec.fields["url"] = strip_tracking(rec.fields["url"])
            dups = index.find(rec)
            if dups and not force:
                result.skipped.append((written or rec.fields.get("title", "?"),
                                       dups[0][0], dups[0][1]))
                if rec.key:
                    renames[source][rec.key.casefold()] = dups[0][0]
                continue
            wanted = rec.key if rec.key and is_valid_key(rec.key) else None
            if wanted and not rekey and wanted not in taken:
                key = wanted
            elif wanted and not rekey:
                key = unique_key(wanted, taken)
            else:
                key = make_key(rec, taken, lib.settings.key_pattern)
            if written and key != written:
                result.renamed.append((written, key))
            if rec.key and key != rec.key:
                renames[source][rec.key.casefold()] = key
            rec.key = key
            taken.add(key)
            index.add(key, rec)
            accepted.append((source, rec))
        for source, rec in accepted:
            _follow_renames(rec, renames[source], REFERENCE_FIELDS)
            lib.add(rec, rec.key)
            result.added.append(rec.key)
        lib.save(_locked=True)
        if accepted and hasattr(index, "commit"):
            # Only now, with library.bib saved, do the new entries enter the index.
            index.commit(lib, {rec.key: rec for _, rec in accepted})
    return result


def _follow_renames(rec: Record, renames: dict[str, str], fields) -> None:
    from .library import renamed_keys
    for name in fields:
        renamed = renamed_keys(rec.fields.get(name, ""), renames)
        if renamed is not None:
            rec.fields[name] = renamed


# -- selecting ---------------------------------------------------------------------------

def tags_of(rec: Record) -> set[str]:
    """The entry's keywords, case-folded."""
    return {t.strip().casefold() for t in rec.fields.get("keywords", "").split(",")
            if t.strip()}


def year_range(text: str | None) -> tuple[int, int]:
    """`2016` or `2015..2017` (either end open) as an inclusive range."""
    if not text:
        return 0, 9999
    lo, sep, hi = text.partition("..")
    try:
        return (int(lo) if lo else 0), ((int(hi) if hi else 9999) if sep else int(lo))
    except ValueError:
        raise UsageError(f"expected a year or a range like 2015..2017, got {text!r}") \
            from None


def select(records, entry_type: str | None = None, tag: str | None = None,
           year: str | None = None) -> list[Record]:
    """The records of a type, with a keyword, and from a year (range), in order."""
    lo, hi = year_range(year)
    return [rec for rec in records
            if (not entry_type or rec.type == entry_type.lower())
            and (not tag or tag.casefold() in tags_of(rec))
            and (not year or (rec.year and lo <= int(rec.year) <= hi))]


def init_library(folder: Path) -> Path:
    """A new, empty library in `folder`: library.bib, snapshots/, .gitignore with index/
    and web-users.json."""
    from .library import LIBRARY_FILE
    folder = Path(folder)
    bib = folder / LIBRARY_FILE
    if bib.exists():
        raise UsageError(f"{bib} already exists")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "snapshots").mkdir(exist_ok=True)
    bib.write_text("% clippings library: the bibliography (BibTeX/biblatex, UTF-8).\n"
                   "% Edit by hand or with `clippings`; see `clippings --help`.\n\n",
                   encoding="utf-8")
    gitignore = folder / ".gitignore"
    lines = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.exists() else []
    # index/ is derived; web-users.json holds password hashes and the session key.
    missing = [name for name in ("index/", "web-users.json") if name not in lines]
    if missing:
        gitignore.write_text("\n".join(lines + missing) + "\n", encoding="utf-8")
    return bib


# -- output helpers ------------------------------------------------------------------

# Names the entry JSON gives to the entry itself (`show` and the web add snapshot and
# link): a biblatex field of one of these names (`type` of a report, `key` for sorting)
# appears as "field:NAME" instead of overwriting them.
ENTRY_JSON_NAMES = ("key", "type", "snapshot", "link")
FIELD_PREFIX = "field:"


def field_values(rec: Record) -> dict[str, str]:
    """field -> plain text under the fields' own names, name lists as "Family, Given
    and ...": what an editor shows and takes back."""
    out = {name: " and ".join(str(p) for p in persons)
           for name, persons in rec.names.items()}
    out.update(rec.fields)
    return out


def json_name(field_name: str) -> str:
    """The name a field has in the entry JSON (see ENTRY_JSON_NAMES)."""
    return FIELD_PREFIX + field_name if field_name in ENTRY_JSON_NAMES else field_name


def record_json(rec: Record) -> dict:
    """`{"key", "type", field: value, ...}` with name lists as "Family, Given and ...";
    the fields `key` and `type` appear as "field:key" and "field:type"."""
    out: dict = {"key": rec.key, "type": rec.type}
    out.update((json_name(name), value) for name, value in field_values(rec).items())
    return out


def dumps(data, indent: int | None = 2) -> str:
    return json.dumps(data, ensure_ascii=False, indent=indent)


def first_author(rec: Record) -> str:
    for name in ("author", "editor", "bookauthor"):
        persons = rec.names.get(name)
        if persons:
            return persons[0].family + (" et al." if len(persons) > 1 else "")
    return rec.fields.get("organization") or rec.fields.get("institution") or ""


def display_date(rec: Record) -> str:
    if rec.fields.get("date"):
        return rec.fields["date"]
    year = rec.fields.get("year", "")
    month = rec.fields.get("month", "")
    if year and month.isdigit():
        return f"{year}-{int(month):02d}"
    return year


__all__ = ["add_record", "set_fields", "update_entry", "check_fields", "entry_version", "unset_fields", "rename", "remove", "edit_entry",
           "import_files", "read_records", "record_json", "field_values", "json_name",
           "record_from_assignments", "Name"]
