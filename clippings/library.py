"""The library: find library.bib, load it, look entries up, change them, save atomically.

Changes are kept as replacements of whole blocks (or appended entries) against the text
that was read, so a save rewrites only the blocks that changed; every other byte of the
file stays as the user wrote it. Saves happen under a lock (`filelock`), write a temporary
file beside library.bib, fsync it and rename it over the original, after checking that the
file on disk is still the one that was read.
"""

from __future__ import annotations

import codecs
from array import array
import copy
import contextlib
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Iterator

from . import bibcache, bibfile, journal
from .config import LIBRARY_FILE, Settings, find_library, load_settings  # noqa: F401
from .errors import BibSyntaxError, ConflictError, ConflictMarkerError, UsageError
from .model import Record

# Fields whose value is one key or a comma-separated list of keys of other entries.
REFERENCE_FIELDS = ("crossref", "xref", "xdata", "related", "entryset")
_COOKIE = re.compile(rb"^[^\n]*-\*-.*?coding:\s*([A-Za-z0-9_.-]+)")
_LINE_BREAK = re.compile(r"\r?\n")
_STRING_DEF = re.compile(r"@\s*string\s*[{(]", re.IGNORECASE)


def decode_bib(raw: bytes, path: str, configured: str = "") -> tuple[str, str]:
    """Text and encoding of a .bib file: BOM, an Emacs coding line, the setting, UTF-8."""
    if raw.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        head = b"\n".join(raw[:4096].split(b"\n", 2)[:2])   # no copy of a large file
        match = next((m for m in (_COOKIE.match(line) for line in head.split(b"\n")) if m),
                     None)
        encoding = _codec(match.group(1).decode("ascii"), path) if match else \
            (_codec(configured, path) if configured else "utf-8")
    try:
        return raw.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise BibSyntaxError(
            path, line, col,
            f"byte 0x{raw[exc.start]:02x} is not valid {encoding}; if the file is in another "
            f"encoding, name it in a first line like '% -*- coding: latin-1 -*-' or as "
            f"encoding = \"latin-1\" in clippings.toml") from None


def _codec(name: str, path: str) -> str:
    name = re.sub(r"-(unix|dos|mac)$", "", name.strip().lower())
    for candidate in (name, name.replace("-", ""), name.replace("-", "_")):
        try:
            return codecs.lookup(candidate).name
        except LookupError:
            continue
    raise BibSyntaxError(path, 1, 1, f"unknown encoding {name!r}")


class Library:
    """One library.bib, loaded; edits are collected and written by `save()`.

    Entries are located through a table of spans (key -> start, end, line) that is kept in
    `index/` (see `bibcache`), so commands about one entry parse only that entry. The full
    parse (`blocks`) happens when the cache is missing or stale, or a command needs it.
    """

    def __init__(self, path: Path, raw: bytes, settings: Settings, use_cache: bool = True):
        from . import bibcache
        self.path = Path(path)
        self.folder = self.path.parent
        self.settings = settings
        self.raw = raw
        self.text, self.encoding = decode_bib(raw, str(self.path), settings.encoding)
        markers = bibfile.conflict_marker_lines(self.text)
        if markers:   # a merge left its markers: nothing else can be trusted to parse
            raise ConflictMarkerError(self.path, markers)
        self._newline: str | None = None
        self.signature = bibcache.signature(raw, self.encoding)
        self._blocks: list[bibfile.Block] | None = None
        cached = bibcache.load_structure(self.folder, self.signature) if use_cache else None
        if cached is not None:
            keys, self._spans, macro_defs = cached
            self._index = dict(zip(keys, range(len(keys))))
            self._set_macro_defs(macro_defs)
        else:
            self._parse_all()
            if use_cache:
                bibcache.save_structure(self.folder, self.signature, list(self._index),
                                        self._spans, self.macro_defs)
        self._folded_map = None
        self._pending: dict[int, str] = {}
        self._appended: dict[str, str] = {}
        self.changed_keys: list[str] = []

    def _parse_all(self) -> None:
        from . import bibcache
        with bibcache.no_gc():
            self._blocks, _ = bibfile.parse(self.text, str(self.path))
        self._set_macro_defs(bibfile.macro_definitions(self._blocks))
        self._index, self._spans = {}, bibcache.SpanTable()
        for block in self._blocks:
            if block.kind != "entry":
                continue
            first = self._index.get(block.key)
            if first is not None:
                raise BibSyntaxError(
                    self.path, block.line, 1,
                    f"repeated citation key '{block.key}' (first at line "
                    f"{self._spans[first][2]}); rename one of them")
            self._index[block.key] = len(self._spans)
            self._spans.append((block.start, block.end, block.line))

    # -- @string macros, in file order ----------------------------------------------
    def _set_macro_defs(self, defs: list[tuple[int, str, str]]) -> None:
        """Remember where each @string is defined: an entry sees only those above it."""
        self.macro_defs = [tuple(d) for d in defs]
        self._def_offsets = [d[0] for d in self.macro_defs]
        self._envs: dict[int, tuple[dict[str, str], bytes]] = {}

    @property
    def macros(self) -> dict[str, str]:
        """Every macro as defined at the end of the file (what a new entry sees)."""
        return self._env(len(self.macro_defs))[0]

    def _env_index(self, key: str | None) -> int:
        """How many @string definitions precede the entry `key` (all for new entries)."""
        if not self.macro_defs or key is None or key in self._appended or \
                key not in self._index:
            return len(self.macro_defs)
        import bisect
        return bisect.bisect_left(self._def_offsets, self._spans[self._index[key]][0])

    def _env(self, n: int) -> tuple[dict[str, str], bytes]:
        """The macros after the first `n` definitions, and a digest of them."""
        env = self._envs.get(n)
        if env is None:
            macros: dict[str, str] = {}
            for _, name, value in self.macro_defs[:n]:
                macros[name] = value
            digest = b"" if not macros else bibcache.text_digest(
                "\0".join(f"{k}\0{v}" for k, v in sorted(macros.items())))
            env = self._envs[n] = (macros, digest)
        return env

    def entry_digest(self, key: str, text: str | None = None) -> bytes:
        """Identifies everything the entry is decoded from: its text and its macros."""
        text = self.entry_text(key) if text is None else text
        return bibcache.text_digest(text, self._env(self._env_index(key))[1])

    def entry_digests(self) -> dict[str, bytes]:
        """`entry_digest` of every entry, by key in file order: one pass over the spans
        (a change check of the search index runs this on every update; 100,000 entries
        took about 0.2 s against 0.4-1 s through `entry_digest`, on a loaded machine)."""
        if self._pending or self._appended:
            return {key: self.entry_digest(key) for key in self.keys()}
        text, flat, offsets = self.text, self._spans.flat, self._def_offsets
        out: dict[str, bytes] = {}
        before = 0   # @string definitions above the entry (entries come in file order)
        context = self._env(0)[1]
        for key, i in self._index.items():
            start = flat[3 * i]
            if before < len(offsets) and offsets[before] < start:
                while before < len(offsets) and offsets[before] < start:
                    before += 1
                context = self._env(before)[1]
            out[key] = bibcache.text_digest(text[start:flat[3 * i + 1]], context)
        return out

    def _parsed_entries(self) -> dict[str, bibfile.Block] | None:
        """Entry blocks of the full parse by key, if it was made and nothing changed."""
        if self._blocks is None or self._pending:
            return None
        return {b.key: b for b in self._blocks if b.kind == "entry"}

    @property
    def _folded(self) -> dict[str, str]:
        """Keys by their case-folded form (built only when an exact look-up misses)."""
        if self._folded_map is None:
            self._folded_map = {k.casefold(): k for k in self._index}
        return self._folded_map

    @property
    def blocks(self) -> list[bibfile.Block]:
        """Every block of the file, fully parsed (absolute offsets)."""
        if self._blocks is None:
            self._parse_all()
        return self._blocks

    @classmethod
    def load(cls, path: str | os.PathLike, settings: Settings | None = None) -> "Library":
        path = Path(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise UsageError(f"no library at {path}") from None
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        return cls(path, raw, settings or load_settings(path.parent))

    @classmethod
    @contextlib.contextmanager
    def update(cls, path: str | os.PathLike, settings: Settings | None = None
               ) -> Iterator["Library"]:
        """Load under the library's lock, let the caller edit, save if anything changed."""
        path = Path(path)
        with lock(path):
            lib = cls.load(path, settings)
            yield lib
            if lib.dirty:
                lib.save(_locked=True)

    # -- looking up ---------------------------------------------------------------
    def keys(self) -> list[str]:
        """Current keys in file order (renamed, removed and appended entries included)."""
        if not self._pending:
            return list(self._index) + list(self._appended)
        live = sorted((i, k) for k, i in self._index.items() if self._pending.get(i) != "")
        return [k for _, k in live] + list(self._appended)

    def __contains__(self, key: str) -> bool:
        return self.resolve_key(key, required=False) is not None

    def __len__(self) -> int:
        return len(self.keys())

    def resolve_key(self, key: str, required: bool = True) -> str | None:
        """The key as written in the file (BibTeX keys match case-insensitively)."""
        if key in self._appended or (key in self._index and
                                     self._pending.get(self._index[key]) != ""):
            return key
        exact = self._folded.get(key.casefold())
        if exact is not None and self._pending.get(self._index[exact]) != "":
            return exact
        if required:
            close = _close_keys(key, self.keys())
            raise UsageError(f"unknown key '{key}'" + (
                f" (did you mean {', '.join(close)}?)" if close else ""),
                german=f"unbekannter Schlüssel '{key}'" + (
                    f" (vielleicht {', '.join(close)}?)" if close else ""))
        return None

    def block(self, key: str) -> bibfile.Block:
        """The entry parsed on its own (offsets relative to `entry_text(key)`)."""
        key = self.resolve_key(key)
        return self.parse_entry(self.entry_text(key), key)

    def entry_text(self, key: str) -> str:
        key = self.resolve_key(key)
        if key in self._appended:
            return self._appended[key]
        i = self._index[key]
        start, end, _ = self._spans[i]
        return self._pending.get(i, self.text[start:end])

    def entry_span(self, key: str) -> tuple[int, int]:
        """Character offsets of an entry in the text as read."""
        start, end, _ = self._spans[self._index[self.resolve_key(key)]]
        return start, end

    def entry_line(self, key: str) -> int:
        key = self.resolve_key(key)
        return self._spans[self._index[key]][2] if key in self._index else 0

    def record(self, key: str, resolve: bool = True) -> Record:
        """The entry as a decoded `Record`; crossref/xdata parents fill missing fields."""
        block = self.block(key)
        rec = bibfile.block_record(block)
        rec.key = block.key
        if resolve:
            self._inherit(rec, seen={block.key.casefold()})
        return rec

    def records(self, resolve: bool = True) -> Iterator[Record]:
        """Every entry as a Record, in file order (decoded entries are cached in index/)."""
        from . import bibcache
        keys = self.keys()
        texts = [self.entry_text(k) for k in keys]
        parsed = self._parsed_entries()

        def parse(i: int) -> bibfile.Block:
            # Reuse the full parse when there is one (a cold start made it anyway).
            block = parsed.get(keys[i]) if parsed else None
            return block if block is not None else self.parse_entry(texts[i], keys[i])
        digests = [self.entry_digest(k, t) for k, t in zip(keys, texts)]
        records = bibcache.records(self.folder, digests, parse)
        if not resolve:
            yield from records
            return
        by_key = {r.key: r for r in records}
        for rec in records:
            if rec.fields.get("crossref") or rec.fields.get("xdata"):
                self._inherit(rec, {rec.key.casefold()}, by_key)
            yield rec

    def _inherit(self, rec: Record, seen: set[str], known: dict | None = None) -> None:
        parents = []
        if rec.fields.get("crossref"):
            parents.append(rec.fields["crossref"])
        parents += [p.strip() for p in rec.fields.get("xdata", "").split(",") if p.strip()]
        for parent_key in parents:
            if parent_key.casefold() in seen or parent_key not in self:
                continue
            seen.add(parent_key.casefold())
            parent_key = self.resolve_key(parent_key)
            parent = copy.deepcopy(known[parent_key]) if known and parent_key in known \
                else self.record(parent_key, resolve=False)
            self._inherit(parent, seen, known)
            if parent.type in ("book", "mvbook", "collection", "proceedings",
                               "mvcollection", "mvproceedings") and "title" in parent.fields:
                rec.fields.setdefault("booktitle", parent.fields["title"])
                if "subtitle" in parent.fields:
                    rec.fields.setdefault("booksubtitle", parent.fields["subtitle"])
            for name, value in parent.fields.items():
                if name not in ("ids", "crossref", "xdata", "xref", "entryset", "shorthand",
                                "label"):
                    rec.fields.setdefault(name, value)
            for name, persons in parent.names.items():
                rec.names.setdefault(name, persons)
                if name == "author" and rec.type in ("inbook", "bookinbook"):
                    rec.names.setdefault("bookauthor", persons)

    # -- changing -----------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return bool(self._pending or self._appended)

    def _current(self, key: str) -> tuple[str, bibfile.Block]:
        text = self.entry_text(key)
        return text, self.parse_entry(text, key)

    def parse_entry(self, text: str, key: str | None = None) -> bibfile.Block:
        """Exactly one entry from `text`, or an error; with the @string macros in force
        where entry `key` stands (at the end of the file for a new entry)."""
        blocks, _ = bibfile.parse(text, str(self.path), self._env(self._env_index(key))[0])
        entries = [b for b in blocks if b.kind == "entry"]
        if len(entries) != 1:
            raise UsageError(f"expected exactly one entry, found {len(entries)}")
        return entries[0]

    @property
    def newline(self) -> str:
        """The line break most of the file uses: new entries are written with it."""
        if self._newline is None:
            crlf = self.text.count("\r\n")
            self._newline = "\r\n" if 2 * crlf > self.text.count("\n") else "\n"
        return self._newline

    def _put(self, key: str, text: str) -> None:
        if key in self._appended:
            self._appended[key] = text      # `new_text` writes it in the file's style
        else:
            # A file may mix styles (entries pasted from elsewhere): an edit follows the
            # entry's own, so the lines it did not change stay byte for byte.
            old = self.entry_text(key)
            self._pending[self._index[key]] = _in_style(
                old, text, _line_break_of(old) or self.newline)
        if key not in self.changed_keys:
            self.changed_keys.append(key)

    def set_fields(self, key: str, values: dict[str, str | None]) -> None:
        """Set (value) or remove (None) fields; values are BibTeX text with braces."""
        key = self.resolve_key(key)
        text, block = self._current(key)
        for name, value in values.items():
            if value is None:
                text = bibfile.remove_field(text, block, name)
            else:
                text = bibfile.set_field(text, block, name, value)
            block = self.parse_entry(text, key)
        self._put(key, text)

    def replace_entry(self, key: str, new_text: str) -> str:
        """Replace an entry's whole text (from `edit`); returns the (maybe new) key."""
        key = self.resolve_key(key)
        block = self.parse_entry(new_text, key)
        if block.key != key:
            from .keys import check_key
            check_key(block.key)
        if block.key != key and self.resolve_key(block.key, required=False) not in (None, key):
            raise ConflictError(f"key '{block.key}' is already used by another entry",
                                german=f"Der Schlüssel '{block.key}' ist schon vergeben")
        self._put(key, new_text)
        if block.key != key:
            self._rekey(key, block.key)
        return block.key

    def _rekey(self, old: str, new: str) -> None:
        self.changed_keys.append(new)
        if old in self._appended:
            self._appended[new] = self._appended.pop(old)
        else:
            self._index[new] = self._index.pop(old)
            self._folded_map = None

    def add(self, record: Record, key: str) -> str:
        if key in self:
            raise ConflictError(f"key '{key}' is already used",
                                german=f"Der Schlüssel '{key}' ist schon vergeben")
        self._appended[key] = bibfile.format_entry(record, key)
        self.changed_keys.append(key)
        return key

    def remove(self, key: str) -> None:
        key = self.resolve_key(key)
        if key in self._appended:
            del self._appended[key]
            return
        self._pending[self._index[key]] = ""
        self.changed_keys.append(key)

    def rename(self, old: str, new: str) -> str:
        old = self.resolve_key(old)
        if new in self and self.resolve_key(new) != old:
            raise ConflictError(f"key '{new}' is already used",
                                german=f"Der Schlüssel '{new}' ist schon vergeben")
        text, block = self._current(old)
        children = self.references(old)
        self._put(old, bibfile.rename_entry(text, block, new))
        self._rekey(old, new)
        # Every entry that points at it (crossref, xdata, xref, related, entryset) follows.
        for child, _ in children:
            child = new if child == old else child
            self.set_fields(child, self._renamed_references(child, {old.casefold(): new}))
        return new

    def references(self, *keys: str) -> list[tuple[str, str]]:
        """(child key, field) of every entry whose reference fields name one of `keys`
        (one pass over the library, whatever the number of keys)."""
        folded = {k.casefold() for k in keys}
        found = []
        for other in self.keys():
            text = self.entry_text(other)
            lowered = text.casefold()
            if not any(k in lowered for k in folded):   # cheap filter before parsing
                continue
            block = self.parse_entry(text, other)
            for f in block.fields:
                if f.key in REFERENCE_FIELDS and folded & _key_list(f.value):
                    found.append((other, f.key))
        return found

    def _renamed_references(self, key: str, renames: dict[str, str]) -> dict[str, str]:
        """New values of `key`'s reference fields with renamed keys (folded -> new)."""
        values = {}
        for f in self.block(key).fields:
            renamed = renamed_keys(f.value, renames) if f.key in REFERENCE_FIELDS else None
            if renamed is not None:
                values[f.key] = "{" + renamed + "}"
        return values

    def new_text(self) -> tuple[str, list[str], "bibcache.SpanTable"]:
        """The whole file with every pending change applied, and its new span table.

        Unchanged stretches are copied as whole slices and their spans shifted in bulk,
        so one change in a 50,000-entry file costs milliseconds.
        """
        from . import bibcache
        old = self._spans.flat
        key_at: list[str] = [""] * len(self._spans)
        for k, i in self._index.items():
            key_at[i] = k
        flat, keys, parts = array("q"), [], []
        pos = copied = char_shift = line_shift = 0
        shift_from: list[tuple[int, int]] = []   # (old offset, shift of text from there)
        removal_tail = re.compile(r"[ \t]*\r?\n(?:[ \t]*\r?\n)?")

        def copy_until(stop: int) -> None:
            if char_shift == 0 and line_shift == 0:
                flat.extend(old[3 * copied:3 * stop])
            else:
                for j in range(3 * copied, 3 * stop, 3):
                    flat.extend((old[j] + char_shift, old[j + 1] + char_shift,
                                 old[j + 2] + line_shift))
            keys.extend(key_at[copied:stop])

        for i in sorted(self._pending):
            copy_until(i)
            start, end, line = self._spans[i]
            parts.append(self.text[pos:start])
            replacement = self._pending[i]
            if replacement == "":
                # A removed entry takes its line break and one blank line along.
                m = removal_tail.match(self.text, end)
                tail_end = m.end() if m else end
                char_shift -= tail_end - start
                line_shift -= self.text.count("\n", start, tail_end)
                pos = tail_end
            else:
                new_start = start + char_shift
                flat.extend((new_start, new_start + len(replacement), line + line_shift))
                keys.append(key_at[i])
                parts.append(replacement)
                char_shift += len(replacement) - (end - start)
                line_shift += replacement.count("\n") - self.text.count("\n", start, end)
                pos = end
            copied = i + 1
            shift_from.append((pos, char_shift))
        copy_until(len(self._spans))
        parts.append(self.text[pos:])
        text = "".join(parts)
        spans = bibcache.SpanTable(flat)
        if self._appended:
            nl = self.newline
            if text and not text.endswith("\n"):
                text += nl
            if text.strip() and not text.endswith(("\n\n", "\n\r\n")):
                text += nl
            pieces, length, lines = [text], len(text), text.count("\n")
            for key, entry in self._appended.items():
                if len(pieces) > 1:     # the canonical layout: a blank line between entries
                    pieces.append(nl)
                    length, lines = length + len(nl), lines + 1
                body = _LINE_BREAK.sub(nl, entry.rstrip("\r\n"))
                spans.append((length, length + len(body), lines + 1))
                keys.append(key)
                pieces.append(body + nl)
                length += len(body) + len(nl)
                lines += body.count("\n") + 1
            text = "".join(pieces)
        self._new_macro_defs = self._shifted_macro_defs(shift_from)
        return text, keys, spans

    def _shifted_macro_defs(self, shift_from: list[tuple[int, int]]):
        """Offsets of the @string definitions after the changes (None: parse again).

        Definitions live between entries, so each moves by the shift of the last change
        before it; a change whose text holds an @string (an edit) needs a fresh parse.
        """
        import bisect
        changed = list(self._pending.values()) + list(self._appended.values())
        if any(_STRING_DEF.search(t) for t in changed):
            return None
        starts = [p for p, _ in shift_from]
        out = []
        for offset, name, value in self.macro_defs:
            i = bisect.bisect_right(starts, offset) - 1
            out.append((offset + (shift_from[i][1] if i >= 0 else 0), name, value))
        return out

    def save(self, _locked: bool = False) -> None:
        """Write all changes atomically; refuse if library.bib changed since it was read."""
        from . import bibcache
        if not self.dirty:
            return
        new, keys, spans = self.new_text()
        try:
            data = new.encode(self.encoding)
        except UnicodeEncodeError as exc:
            raise UsageError(f"{self.path}: {new[exc.start]!r} cannot be written in this "
                             f"file's encoding ({self.encoding}); convert it to UTF-8") \
                from None
        # Every changed or new entry was parsed on its own when it was made; check that
        # each still parses in place, so a save never produces a broken file.
        changed = set(self.changed_keys) | set(self._appended)
        for key, (start, end, _) in zip(keys, iter(spans)):
            if key in changed:
                self.parse_entry(new[start:end], key)
        macro_defs = self._new_macro_defs
        touched = list(dict.fromkeys([*self.changed_keys, *self._appended]))
        ctx = contextlib.nullcontext() if _locked else lock(self.path)
        with ctx, journal.recording(self.path) as noted:
            noted.wrote(atomic_write(self.path, data, expected=self.raw))
            self.raw, self.text, self._newline = data, new, None
            self.signature = bibcache.signature(data, self.encoding)
            self._pending, self._appended, self._blocks = {}, {}, None
            self._folded_map = None
            if macro_defs is None:      # an edit brought an @string: read the file again
                self._parse_all()
                spans, keys = self._spans, list(self._index)
                macro_defs = self.macro_defs
                # Other entries may read the new macro: no journal line, so indexes
                # compare the whole library.
                touched = []
            else:
                self._spans, self._index = spans, dict(zip(keys, range(len(keys))))
                self._set_macro_defs(macro_defs)
            if len(touched) > journal.MAX_KEYS:
                touched = []                # a bulk change: indexes compare everything
            for key in touched:
                noted.keys[key] = (None if key not in self._index else
                                   (self.entry_digest(key).hex(),
                                    bibcache.pack_record(self.record(key, resolve=False))))
        bibcache.save_structure(self.folder, self.signature, keys, spans, macro_defs)


def lock(path: Path):
    """The library's lock (a file in index/, which git ignores)."""
    from filelock import FileLock, Timeout
    index = Path(path).parent / "index"
    try:
        index.mkdir(exist_ok=True)
        lock_path = index / "library.lock"
    except OSError:
        lock_path = Path(tempfile.gettempdir()) / f"clippings-{abs(hash(str(path)))}.lock"
    file_lock = FileLock(str(lock_path), timeout=60)

    @contextlib.contextmanager
    def held():
        try:
            with file_lock:
                yield
        except Timeout:
            raise ConflictError(f"{path} is locked by another clippings process "
                                f"({lock_path}); try again",
                                german=f"{path} ist von einem anderen clippings-Prozess "
                                       f"gesperrt ({lock_path}); bitte noch einmal "
                                       "versuchen") from None
    return held()


def atomic_write(path: Path, data: bytes, expected: bytes | None = None) -> os.stat_result:
    """Write `data` to `path` so that readers see the old or the new file, never a mix;
    returns the stat of the file written (what `path` is right after the rename).

    With `expected`, the file must still hold exactly those bytes: that is checked after
    the slow part (writing and syncing the temporary file) and immediately before the
    rename, so a hand edit saved meanwhile is refused rather than overwritten.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        written = os.stat(tmp)     # a rename keeps the inode, size and time
        if expected is None:
            os.replace(tmp, path)
        else:
            _replace_if_unchanged(tmp, path, expected)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with _saved_if_raised(), contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return written


# How long a writer that opened the old file just before our rename has to finish its
# write before we stop looking (an append or an editor's save takes microseconds).
_GRACE = 0.02


def _stamp(st: os.stat_result) -> tuple:
    return st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev


def _replace_if_unchanged(tmp: str, path: Path, expected: bytes) -> None:
    """Rename `tmp` over `path` only if `path` still holds `expected`.

    The old file stays open across the rename and is looked at again a moment later:
    a program that opened it before the rename and wrote to it just after (an editor's
    save or an append racing ours) is noticed, and its version is kept beside
    library.bib instead of vanishing with the old file.
    """
    stale = ConflictError(f"{path} changed on disk since it was read; nothing was "
                          "written, run the command again",
                          german=f"{path} wurde geändert, seit es gelesen wurde; nichts "
                                 "wurde gespeichert, bitte noch einmal versuchen")
    try:
        old = open(path, "rb")
    except FileNotFoundError:
        if expected:
            raise stale from None
        os.replace(tmp, path)
        return
    with old:
        before = _stamp(os.fstat(old.fileno()))
        if old.read() != expected or _stamp(os.stat(path)) != before:
            raise stale
        os.replace(tmp, path)
        with _saved_if_raised():
            _look_again(old, path, before)


@contextlib.contextmanager
def _saved_if_raised():
    """Marks what is raised once the new file is in place (`exc.saved`): the save
    happened, so a caller must not take back what belongs with it (the new entry's
    snapshot)."""
    try:
        yield
    except BaseException as exc:
        exc.saved = True
        raise


def _look_again(old, path: Path, before: tuple) -> None:
    """A writer that had the old file open just before our rename and wrote to it just
    after: its version is kept beside library.bib (ConflictError)."""
    time.sleep(_GRACE)
    if _stamp(os.fstat(old.fileno()))[:2] != before[:2]:
        old.seek(0)
        rescue = path.with_name(f"{path.name}.concurrent-{time.strftime('%Y%m%d-%H%M%S')}"
                                f"-{time.time_ns() % 10**9:09d}")
        rescue.write_bytes(old.read())
        raise ConflictError(f"{path} was changed by another program during the save; "
                            f"the change was saved, and that program's version is kept "
                            f"in {rescue}: merge it by hand",
                            german=f"{path} wurde beim Speichern von einem anderen "
                                   "Programm geändert; die Änderung ist gespeichert, die "
                                   f"Fassung des anderen Programms liegt in {rescue}: "
                                   "bitte von Hand zusammenführen")


def key_list(value: str) -> list[str]:
    """The keys of a reference field (`crossref = {a}`, `xdata = {a, b}`), as written."""
    return [p.strip() for p in value.split(",") if p.strip()]


def _key_list(value: str) -> set[str]:
    return {k.casefold() for k in key_list(value)}


def renamed_keys(value: str, renames: dict[str, str]) -> str | None:
    """A reference field's value with renamed keys (case-folded old -> new), or None when
    it names none of them."""
    keys = key_list(value)
    if not any(k.casefold() in renames for k in keys):
        return None
    return ", ".join(renames.get(k.casefold(), k) for k in keys)


def _line_break_of(text: str) -> str | None:
    """The line break `text` uses first (CRLF or LF), or None if it has none."""
    end = text.find("\n")
    return None if end < 0 else "\r\n" if text[end - 1:end] == "\r" else "\n"


def _in_style(old: str, new: str, newline: str) -> str:
    """`new`, an edit of `old`, with the lines the edit wrote or changed ending in
    `newline`; the lines before and after them keep their own line breaks."""
    head = len(os.path.commonprefix([old, new]))
    tail = len(os.path.commonprefix([old[head:][::-1], new[head:][::-1]]))
    end = len(new) - tail
    if end == head:             # the edit only took text out
        return new
    # Widen to whole lines, so a CRLF is never cut in two.
    start = new.rfind("\n", 0, head) + 1
    if new[end - 1] != "\n":
        stop = new.find("\n", end)
        end = len(new) if stop < 0 else stop + 1
    return new[:start] + _LINE_BREAK.sub(newline, new[start:end]) + new[end:]


def _close_keys(key: str, keys: list[str]) -> list[str]:
    import difflib
    return difflib.get_close_matches(key, keys, n=3, cutoff=0.6)
