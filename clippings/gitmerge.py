"""Three-way merge of library.bib for git (the `merge-driver` command).

The merge works entry by entry, on top of git's own line merge:

1. Parts that are the same in all three versions (a common head and tail, cut at the
   start of an entry) are set aside unparsed, so a 50,000-entry library with a few new
   entries costs a parse of those few.
2. In the rest, every entry is replaced by one placeholder line (its key and a digest of
   its text) and the three masked texts go through `git merge-file`. Git thus merges the
   layout: where entries stand, which were removed, and the blocks not modelled here
   (comments, @string, @preamble, text between entries), line by line.
3. Git's conflicts made only of placeholders and blank lines are settled entry by entry:
   ours in order, then theirs' new entries; removed-and-untouched goes, changed-and-
   removed is a conflict. Each entry left is then merged field by field from its three
   versions, starting from ours' text, so every byte ours wrote stays unless theirs
   changed it.
4. Entries added on both sides are checked with the duplicate rules of `add`: the same
   work is kept once (ours); a key taken by two different works gives theirs the next
   free key. A key renamed on one side is renamed on the others first, so edits follow it.

A side that cannot be read (bad syntax, repeated key, conflict markers, another
encoding) makes the caller fall back to git's plain line merge (`merge_files`).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import bibfile
from .bibfile import conflict_marker_lines
from .errors import BibSyntaxError, ClippingsError, UsageError

MARKER = 7                  # git's default conflict-marker size
_INNER_MARKER = 40          # markers of the masked merge: never confused with text
_HEAD_AT_LINE = re.compile(r"\n@[ \t\r\n]*[A-Za-z][A-Za-z0-9_:-]*[ \t\r\n]*[{(]")
_ANY_KEY = re.compile(r"@[ \t\r\n]*[A-Za-z][A-Za-z0-9_:-]*[ \t\r\n]*[{(][ \t\r\n]*"
                      r"([^,\s{}()\"#%'=]*)")
_TYPE = re.compile(r"(@[ \t\r\n]*)([A-Za-z][A-Za-z0-9_:-]*)")


class MergeError(ClippingsError):
    """A side cannot be merged entry by entry (the caller falls back to a line merge)."""

    exit_code = 1


@dataclass
class MergeResult:
    text: str
    conflicts: list[str] = field(default_factory=list)   # one line each, for the user
    notes: list[str] = field(default_factory=list)       # what the merge decided
    renames: list[tuple[str, str]] = field(default_factory=list)  # ours' key -> result key

    @property
    def clean(self) -> bool:
        return not self.conflicts


# -- reading one side ------------------------------------------------------------------

@dataclass
class _Entry:
    key: str        # as written
    text: str
    block: bibfile.Block | None = None   # parsed (offsets within its own piece of text)


@dataclass
class _Side:
    name: str
    segments: list   # str (text between entries) or _Entry, in file order
    entries: dict[str, _Entry]   # folded key -> entry

    def text_of(self, folded: str) -> str | None:
        entry = self.entries.get(folded)
        return entry.text if entry else None


class _Resync(Exception):
    """A piece of text did not parse on its own: parse the whole text instead."""


def _pieces(text: str) -> list[int]:
    """Offsets where a line starts with "@": where a block usually starts."""
    cuts, pos = [0], text.find("\n@")
    while pos != -1:
        cuts.append(pos + 1)
        pos = text.find("\n@", pos + 1)
    cuts.append(len(text))
    return cuts


def _entry_blocks(text: str, path: str, cache: dict) -> list[tuple[int, bibfile.Block]]:
    """(offset, block) of every entry, parsing each piece between line-start "@"s once.

    The three versions share almost every piece, so `cache` (piece text -> its entry
    blocks) makes three parses cost about one. Pieces are exact: the first starts at the
    top level, and a piece that parses completely on its own ends at the top level, so
    the next one starts there too; a piece that does not (an "@" at the start of a line
    inside a value) sends us to the plain whole-text parse."""
    cuts = _pieces(text)
    found = []
    for a, z in zip(cuts, cuts[1:]):
        piece = text[a:z]
        blocks = cache.get(piece)
        if blocks is None:
            try:
                blocks = [b for b in bibfile.Scanner(piece, path).blocks()
                          if b.kind == "entry"]
            except BibSyntaxError:
                raise _Resync from None
            cache[piece] = blocks
        found.extend((a, b) for b in blocks)
    return found


def _read_side(name: str, text: str, path: str, cache: dict | None = None) -> _Side:
    try:
        try:
            located = _entry_blocks(text, path, {} if cache is None else cache)
        except _Resync:
            located = [(0, b) for b in bibfile.Scanner(text, path).blocks()
                       if b.kind == "entry"]
    except BibSyntaxError as exc:
        raise MergeError(f"{name}: {exc}") from None
    segments: list = []
    entries: dict[str, _Entry] = {}
    pos = 0
    for offset, block in located:
        start, end = offset + block.start, offset + block.end
        if start > pos:
            segments.append(text[pos:start])
        entry = _Entry(block.key, text[start:end], block)
        folded = block.key.casefold()
        if folded in entries:
            raise MergeError(f"{name}: repeated citation key '{block.key}'")
        entries[folded] = entry
        segments.append(entry)
        pos = end
    if pos < len(text):
        segments.append(text[pos:])
    return _Side(name, segments, entries)


# -- common head and tail --------------------------------------------------------------

_STEP = 1 << 16


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix, compared in large slices (memcmp speed)."""
    n, k = min(len(a), len(b)), 0
    while k < n:
        s = min(_STEP, n - k)
        if a[k:k + s] != b[k:k + s]:
            break
        k += s
    else:
        return n
    lo, hi = k, k + s - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[k:mid] == b[k:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str) -> int:
    la, lb = len(a), len(b)
    n, k = min(la, lb), 0
    while k < n:
        s = min(_STEP, n - k)
        if a[la - k - s:la - k] != b[lb - k - s:lb - k]:
            break
        k += s
    else:
        return n
    lo, hi = k, k + s - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[la - mid:la - k] == b[lb - mid:lb - k]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _entry_start_before(text: str, pos: int) -> int:
    """The last offset <= pos where an entry head starts a line (0 if none)."""
    while pos > 0:
        nl = text.rfind("\n@", 0, pos)
        if nl < 0:
            return 0
        if _HEAD_AT_LINE.match(text, nl):
            return nl + 1
        pos = nl
    return 0


def _split(base: str, ours: str, theirs: str) -> tuple[int, int]:
    """Lengths of the head and tail the three texts share, cut where an entry starts."""
    texts = (base, ours, theirs)
    head = min(_common_prefix(base, ours), _common_prefix(base, theirs))
    head = _entry_start_before(base, head)
    tail = min(_common_suffix(base, ours), _common_suffix(base, theirs))
    shortest = min(len(t) for t in texts)
    tail = min(tail, shortest - head)
    if tail > 0:
        m = _HEAD_AT_LINE.search(base, len(base) - tail - 1)
        tail = len(base) - (m.start() + 1) if m else 0
    return head, tail


# -- the entry-level merge -------------------------------------------------------------

def merge_texts(base: str, ours: str, theirs: str, path: str = "library.bib",
                newline: str | None = None) -> MergeResult:
    """Merge three versions of a library.bib; raises MergeError when a side is unreadable."""
    for name, text in (("base", base), ("ours", ours), ("theirs", theirs)):
        lines = conflict_marker_lines(text)
        if lines:
            raise MergeError(f"{name}: {path}:{lines[0]}: unresolved merge conflict marker")
    if ours == theirs or base == theirs:
        return MergeResult(ours)
    if base == ours:
        return MergeResult(theirs)
    nl = newline or ("\r\n" if "\r\n" in ours[:10000] else "\n")
    head, tail = _split(base, ours, theirs)
    try:
        return _Merge(base, ours, theirs, head, tail, path, nl).run()
    except _NeedWholeFile:
        return _Merge(base, ours, theirs, 0, 0, path, nl).run()


class _NeedWholeFile(Exception):
    """The shared head or tail may hold a key the merge must know exactly."""


class _Merge:
    def __init__(self, base, ours, theirs, head, tail, path, nl):
        self.path, self.nl = path, nl
        cut = lambda t: t[head:len(t) - tail]   # noqa: E731
        self.head, self.tail = ours[:head], ours[len(ours) - tail:]
        self.pieces: dict[str, list] = {}
        self.base = _read_side("base", cut(base), path, self.pieces)
        self.ours = _read_side("ours", cut(ours), path, self.pieces)
        self.theirs = _read_side("theirs", cut(theirs), path, self.pieces)
        self.result = MergeResult("")
        self._outside: set[str] | None = None
        if head or tail:
            outside = self.outside_keys()
            for side in (self.base, self.ours, self.theirs):
                if any(k in outside for k in side.entries):
                    raise _NeedWholeFile

    def outside_keys(self) -> set[str]:
        """Keys in the shared head and tail (a superset: heads in comments count too)."""
        if self._outside is None:
            self._outside = {m.group(1).casefold()
                             for part in (self.head, self.tail)
                             for m in _ANY_KEY.finditer(part)}
        return self._outside

    def run(self) -> MergeResult:
        self.follow_renames()
        merged = self.merge_layout()
        body = self.fill_entries(merged)
        self.result.text = self.head + body + self.tail
        if self.result.clean:
            try:   # what we made must load; otherwise it is not ours to commit
                _read_side("result", body, self.path, self.pieces)
            except MergeError as exc:
                raise MergeError(f"the merged file would not load ({exc})") from None
        return self.result

    # -- renames -----------------------------------------------------------------------
    def follow_renames(self) -> None:
        """A key renamed on one side is renamed on the others, so edits meet."""
        ours_ren = _renames(self.base, self.ours)
        theirs_ren = _renames(self.base, self.theirs)
        for old in sorted(set(ours_ren) | set(theirs_ren)):
            final = ours_ren.get(old) or theirs_ren[old]
            base_key = self.base.entries[old].key
            if old in ours_ren and old in theirs_ren and \
                    theirs_ren[old].casefold() != final.casefold():
                self.result.notes.append(
                    f"'{base_key}' was renamed to '{final}' (ours) and to "
                    f"'{theirs_ren[old]}' (theirs): kept '{final}'")
                _rekey(self.theirs, theirs_ren[old].casefold(), final)
            elif old not in ours_ren:
                self.result.notes.append(f"followed the rename of '{base_key}' to "
                                         f"'{final}' (theirs)")
                if old in self.ours.entries:
                    self.result.renames.append((self.ours.entries[old].key, final))
                    _rekey(self.ours, old, final)
            else:
                self.result.notes.append(f"followed the rename of '{base_key}' to "
                                         f"'{final}' (ours)")
                if old in self.theirs.entries:
                    _rekey(self.theirs, old, final)
            _rekey(self.base, old, final)

    # -- layout ------------------------------------------------------------------------
    def merge_layout(self) -> list:
        """git merge-file over the masked texts; conflicts of entries settled here.

        Returns the merged lines: strings, with placeholder tokens still in them, and
        ("conflict", text) items for entries removed on one side and changed on the other.
        """
        taken = self.base.segments + self.ours.segments + self.theirs.segments
        sample = "".join(s if isinstance(s, str) else "" for s in taken)
        nonce = "%clippings-entry-" + secrets.token_hex(6)
        while nonce in sample:
            nonce = "%clippings-entry-" + secrets.token_hex(6)
        self.nonce = nonce
        self.token_re = re.compile(re.escape(nonce) + r" [^\s]+(?: [+*](?:ours|theirs))?")
        self.tokens: dict[str, tuple[str, _Entry]] = {}   # token -> (side, entry)
        self.removed = {   # base entries the *other* side removed
            "ours": {k for k in self.base.entries if k not in self.theirs.entries},
            "theirs": {k for k in self.base.entries if k not in self.ours.entries}}
        masked = {side.name: self.mask(side) for side in (self.base, self.ours, self.theirs)}
        out = _merge_file(masked["ours"], masked["base"], masked["theirs"])
        return self.settle(out)

    def mask(self, side: _Side) -> str:
        """The side's text with each entry as one line: its key, so that git aligns
        entries by key whatever changed inside them; a new entry also names its side (two
        entries new under one key must not melt into one line), and an entry changed
        here but removed on the other side is marked, so git sees that conflict."""
        parts = []
        for seg in side.segments:
            if isinstance(seg, str):
                parts.append(seg)
                continue
            folded = seg.key.casefold()
            token = f"{self.nonce} {seg.key}"
            if folded not in self.base.entries:
                token += f" +{side.name}"
            elif side.name != "base" and folded in self.removed[side.name] and \
                    seg.text != self.base.text_of(folded):
                token += f" *{side.name}"
            self.tokens.setdefault(token, (side.name, seg))
            parts.append(token)
        return "".join(parts)

    def token_in(self, line: str) -> str | None:
        m = self.token_re.search(line)
        return m.group() if m else None

    def is_layout(self, line: str) -> bool:
        """A blank line or a line holding just one entry's placeholder."""
        if not line.strip():
            return True
        token = self.token_in(line)
        return token is not None and line.strip() == token

    def settle(self, merged: str) -> list:
        lines = merged.splitlines(keepends=True)
        out: list = []
        i = 0
        start, mid, sep, end = ("<" * _INNER_MARKER, "|" * _INNER_MARKER,
                                "=" * _INNER_MARKER, ">" * _INNER_MARKER)
        while i < len(lines):
            line = lines[i]
            if not line.startswith(start):
                out.append(line)
                i += 1
                continue
            parts: dict[str, list[str]] = {"ours": [], "base": [], "theirs": []}
            current = "ours"
            i += 1
            while not lines[i].startswith(end):
                if lines[i].startswith(mid):
                    current = "base"
                elif lines[i].startswith(sep):
                    current = "theirs"
                else:
                    parts[current].append(lines[i])
                i += 1
            i += 1
            if all(self.is_layout(x) for p in parts.values() for x in p):
                out.extend(self.settle_entries(parts["ours"], parts["theirs"]))
            else:
                out.extend(self.text_conflict(parts["ours"], parts["theirs"]))
        return out

    def settle_entries(self, ours_lines: list[str], theirs_lines: list[str]) -> list:
        """A conflict of entry placeholders: ours in order, then theirs' additions."""
        out: list = []
        skip_blank = False
        for line in ours_lines:
            token = self.token_in(line)
            if token is None:
                if not (skip_blank and not line.strip()):
                    out.append(line)
                continue
            skip_blank = False
            folded = self.tokens[token][1].key.casefold()
            if folded in self.base.entries and folded not in self.theirs.entries:
                if self.ours.text_of(folded) == self.base.text_of(folded):
                    skip_blank = True   # removed by theirs, untouched here: gone
                    continue
                out.append(("conflict", folded, "ours", line))
                continue
            out.append(line)
        pending: list[str] = []
        last_from_theirs = False
        for line in theirs_lines:
            token = self.token_in(line)
            if token is None:
                pending.append(line)
                continue
            folded = self.tokens[token][1].key.casefold()
            glue, pending = pending, []
            if folded in self.ours.entries and (
                    folded in self.base.entries
                    or self.ours.text_of(folded) == self.theirs.text_of(folded)):
                continue   # ours places it (a key new on both sides for two works stays)
            if folded in self.base.entries:
                if self.theirs.text_of(folded) == self.base.text_of(folded):
                    continue   # removed by ours, untouched by theirs
                item = ("conflict", folded, "theirs", line)
            else:
                item = line
            if not glue and out and not _blank(out[-1]):
                glue = [self.nl]
            out.extend(glue)
            out.append(item)
            last_from_theirs = True
        if pending and last_from_theirs:
            out.extend(pending)   # the blank line after theirs' last entry
        if not any(not _blank(x) for x in out):
            return []
        return out

    def text_conflict(self, ours_lines: list[str], theirs_lines: list[str]) -> list:
        """A conflict in text the merge does not model: standard markers, as git makes."""
        self.result.conflicts.append("text between entries changed on both sides")
        body = [self.expand_token(x, self.ours) for x in ours_lines] + \
            [("=" * MARKER) + self.nl] + [self.expand_token(x, self.theirs) for x in theirs_lines]
        if body[0:1] and not body[-1].endswith("\n"):
            body[-1] += self.nl
        return [("<" * MARKER) + " ours" + self.nl] + \
            [x if x.endswith("\n") else x + self.nl for x in body] + \
            [(">" * MARKER) + " theirs" + self.nl]

    def expand_token(self, line: str, side: _Side) -> str:
        token = self.token_in(line)
        if token is None:
            return line
        entry = self.tokens[token][1]
        return line.replace(token, side.text_of(entry.key.casefold()) or entry.text)

    # -- entries -----------------------------------------------------------------------
    def fill_entries(self, lines: list) -> str:
        """Replace each placeholder by its merged entry; settle keys added on both sides."""
        by_key: dict[str, list[tuple[int, str]]] = {}   # folded key -> (line, token)
        for i, line in enumerate(lines):
            if isinstance(line, str) and self.nonce in line:
                for m in self.token_re.finditer(line):
                    folded = self.tokens[m.group()][1].key.casefold()
                    by_key.setdefault(folded, []).append((i, m.group()))
        texts: dict[tuple[int, str], str | None] = {}
        self.settle_added(by_key, texts)
        for folded, places in by_key.items():
            first = True
            for place in places:
                if place not in texts:
                    # One place per entry: should git have put one twice (an entry moved
                    # on both sides), the first stays.
                    texts[place] = self.merge_entry(folded) if first else None
                    first = False
        parts = []
        skip_blank = False
        for i, line in enumerate(lines):
            if isinstance(line, tuple):
                _, folded, side, raw = line
                parts.append(self.modify_delete(folded, side, raw))
                skip_blank = False
                continue
            if self.nonce in line:
                for token in self.token_re.findall(line):
                    text = texts[i, token]
                    line = line.replace(token, "" if text is None else text)
                if not line.strip():   # a dropped duplicate: its line and a blank go
                    if parts and not parts[-1].strip():
                        parts.pop()
                    else:
                        skip_blank = True
                    continue
                skip_blank = False
            elif skip_blank and not line.strip():
                skip_blank = False
                continue
            parts.append(line)
        return "".join(parts)

    def settle_added(self, by_key: dict, texts: dict) -> None:
        """Entries new on both sides: the same work once; a shared key for two works."""
        from .dedupe import DuplicateIndex
        from .keys import KeySet, unique_key
        ours_new = [k for k in self.ours.entries if k not in self.base.entries and k in by_key]
        theirs_new = [k for k in self.theirs.entries
                      if k not in self.base.entries and k in by_key]
        if not ours_new or not theirs_new:
            return
        index = DuplicateIndex((self.ours.entries[k].key, _record(self.ours.entries[k]))
                               for k in ours_new)
        taken = None
        for folded in theirs_new:
            theirs = self.theirs.entries[folded]
            places = by_key[folded]
            both = folded in self.ours.entries
            if both and self.ours.text_of(folded) == theirs.text:
                for place in places[1:]:   # the very same entry twice: once, ours' place
                    texts[place] = None
                continue
            own = [(i, t) for i, t in places if self.tokens[t][0] == "theirs"]
            for i, t in places:
                if (i, t) not in own:
                    texts[i, t] = self.tokens[t][1].text
            dups = index.find(_record(theirs))
            if dups:
                kept, why = dups[0]
                self.result.notes.append(
                    f"'{theirs.key}' (theirs) is the same work as '{kept}' (ours) ({why}): "
                    f"kept once")
                for place in own:
                    texts[place] = None
            elif both:
                if taken is None:
                    taken = KeySet(set(self.outside_keys()) | set(self.base.entries)
                                   | set(self.ours.entries) | set(self.theirs.entries))
                new_key = unique_key(theirs.key, taken)
                taken.add(new_key)
                self.result.notes.append(
                    f"'{theirs.key}' was added on both sides for different works: "
                    f"theirs is now '{new_key}'")
                renamed = _with_key(theirs.text, new_key)
                for place in own:
                    texts[place] = renamed

    def merge_entry(self, folded: str) -> str:
        base, ours, theirs = (self.base.text_of(folded), self.ours.text_of(folded),
                              self.theirs.text_of(folded))
        if ours is None:
            return theirs
        if theirs is None or ours == theirs or base == theirs:
            return ours
        if base == ours:
            return theirs
        if base is None:
            base = ""   # added on both sides under one key: merge as two edits
        text, conflicts = merge_entry_fields(base, ours, theirs, self.nl)
        key = self.ours.entries[folded].key
        if conflicts:
            self.result.conflicts.append(
                f"'{key}': {', '.join(conflicts)} changed differently on both sides")
        else:
            self.result.notes.append(f"'{key}': merged field by field")
        return text

    def modify_delete(self, folded: str, side: str, line: str) -> str:
        token = self.token_in(line)
        key = self.tokens[token][1].key
        text = self.tokens[token][1].text
        nl = self.nl
        if side == "ours":
            self.result.conflicts.append(f"'{key}': changed by ours, removed by theirs")
            block = f"{'<' * MARKER} ours{nl}{text}{nl}{'=' * MARKER}{nl}{'>' * MARKER} theirs"
        else:
            self.result.conflicts.append(f"'{key}': removed by ours, changed by theirs")
            block = f"{'<' * MARKER} ours{nl}{'=' * MARKER}{nl}{text}{nl}{'>' * MARKER} theirs"
        return line.replace(token, block)


def _blank(item) -> bool:
    return isinstance(item, str) and not item.strip()


def _record(entry: _Entry):
    """The fields duplicate detection reads (macros of the file are not expanded)."""
    from .dedupe import SIGNAL_FIELDS
    block = entry.block or next(b for b in bibfile.Scanner(entry.text).blocks()
                                if b.kind == "entry")
    for f in block.fields:
        if f.key in SIGNAL_FIELDS and not f.value:
            f.value = bibfile.expand(f, {})
    return bibfile.block_record(block, SIGNAL_FIELDS)


def _with_key(text: str, key: str) -> str:
    block = next(b for b in bibfile.Scanner(text).blocks() if b.kind == "entry")
    return bibfile.rename_entry(text, block, key)


def _without_key(text: str) -> str:
    block = next(b for b in bibfile.Scanner(text).blocks() if b.kind == "entry")
    return text[:block.key_end - len(block.key)] + text[block.key_end:]


def _renames(base: _Side, side: _Side) -> dict[str, str]:
    """Base keys (folded) that `side` renamed, to their new key: same text, new key."""
    gone = [k for k in base.entries if k not in side.entries]
    new = [k for k in side.entries if k not in base.entries]
    if not gone or not new:
        return {}
    by_body: dict[str, str] = {}
    for k in gone:
        by_body.setdefault(_without_key(base.entries[k].text), k)
    found = {}
    for k in new:
        old = by_body.pop(_without_key(side.entries[k].text), None)
        if old is not None:
            found[old] = side.entries[k].key
    return found


def _rekey(side: _Side, old: str, new_key: str) -> None:
    entry = side.entries.pop(old)
    entry.key, entry.text, entry.block = new_key, _with_key(entry.text, new_key), None
    side.entries[new_key.casefold()] = entry


# -- field by field ------------------------------------------------------------------

def merge_entry_fields(base: str, ours: str, theirs: str, nl: str = "\n"
                       ) -> tuple[str, list[str]]:
    """One entry changed on both sides: theirs' changes applied to ours' text.

    Returns the text and the names of fields changed differently on both sides, which
    get conflict markers around their lines (or the whole entry, when a field does not
    stand on lines of its own)."""
    parse = lambda t: next(b for b in bibfile.Scanner(t).blocks()   # noqa: E731
                           if b.kind == "entry")
    b = parse(base) if base else None
    o, t = parse(ours), parse(theirs)
    value = lambda blk, text, name: (   # noqa: E731
        None if blk is None or blk.get(name) is None
        else text[blk.get(name).value_start:blk.get(name).value_end])
    conflicts: list[str] = []
    text = ours
    b_type = b.type_lower if b else None
    if t.type_lower != b_type and t.type_lower != o.type_lower:
        if o.type_lower == b_type:
            m = _TYPE.match(text)
            text = text[:m.start(2)] + t.type + text[m.end(2):]
        else:
            conflicts.append("the entry type")
    names = [f.key for f in t.fields] + [f.key for f in (b.fields if b else [])]
    for name in dict.fromkeys(names):
        bv, tv = value(b, base, name), value(t, theirs, name)
        cur = parse(text)
        ov = value(cur, text, name)
        if tv == bv or ov == tv:
            continue
        if ov == bv:
            if tv is None:
                text = bibfile.remove_field(text, cur, name)
            else:
                text = bibfile.set_field(text, cur, t.get(name).name, tv)
        else:
            conflicts.append(name)
    if not conflicts:
        return text, []
    if "the entry type" in conflicts:
        return _whole_conflict(text, theirs, nl), conflicts
    marked = _field_conflicts(text, theirs, t, conflicts, nl)
    return (marked if marked is not None else _whole_conflict(text, theirs, nl)), conflicts


def _whole_conflict(ours: str, theirs: str, nl: str) -> str:
    return f"{'<' * MARKER} ours{nl}{ours}{nl}{'=' * MARKER}{nl}{theirs}{nl}{'>' * MARKER} theirs"


def _field_lines(text: str, block, name: str) -> tuple[int, int] | None:
    """Offsets of the whole lines a field stands on alone (with its comma), or None."""
    f = block.get(name)
    if f is None:
        return None
    a = text.rfind("\n", 0, f.start) + 1
    if text[a:f.start].strip():
        return None
    m = re.compile(r"[ \t]*,?[ \t]*(?:%[^\n]*)?\r?\n").match(text, f.value_end)
    if m is None:
        return None
    return a, m.end()


def _field_conflicts(ours: str, theirs: str, t_block, names: list[str], nl: str
                     ) -> str | None:
    """Conflict markers around each conflicting field's lines, inside the entry."""
    o_block = next(b for b in bibfile.Scanner(ours).blocks() if b.kind == "entry")
    edits = []
    close_line = ours.rfind("\n", 0, o_block.close) + 1
    if ours[close_line:o_block.close].strip():
        return None
    for name in names:
        o_span = _field_lines(ours, o_block, name)
        t_span = _field_lines(theirs, t_block, name)
        if (o_span is None and o_block.get(name) is not None) or \
                (t_span is None and t_block.get(name) is not None):
            return None
        o_text = ours[o_span[0]:o_span[1]] if o_span else ""
        t_text = theirs[t_span[0]:t_span[1]] if t_span else ""
        block = (f"{'<' * MARKER} ours{nl}{o_text}{'=' * MARKER}{nl}{t_text}"
                 f"{'>' * MARKER} theirs{nl}")
        edits.append((o_span or (close_line, close_line), block))
    for (a, z), block in sorted(edits, reverse=True):
        ours = ours[:a] + block + ours[z:]
    return ours


# -- git ---------------------------------------------------------------------------------

def _merge_file(ours: str, base: str, theirs: str) -> str:
    """git merge-file on the masked texts (diff3 style, long markers), its output."""
    with tempfile.TemporaryDirectory(prefix="clippings-merge-") as tmp:
        paths = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            p = Path(tmp) / name
            p.write_bytes(text.encode("utf-8", "surrogatepass"))
            paths.append(str(p))
        proc = _git(["merge-file", "-p", "--diff3", f"--marker-size={_INNER_MARKER}",
                     *paths])
        if proc.returncode < 0 or proc.returncode > 127:
            raise MergeError(f"git merge-file failed: {proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode("utf-8", "surrogatepass")


def _git(args: list[str], cwd: str | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], capture_output=True, cwd=cwd)
    except FileNotFoundError:
        raise UsageError("git is not installed (or not on PATH)") from None


def line_merge(ours: bytes, base: bytes, theirs: bytes) -> tuple[bytes, int]:
    """git's own line merge with standard markers: the merged bytes and the conflicts."""
    with tempfile.TemporaryDirectory(prefix="clippings-merge-") as tmp:
        paths = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            p = Path(tmp) / name
            p.write_bytes(data)
            paths.append(str(p))
        proc = _git(["merge-file", "-p", "-L", "ours", "-L", "base", "-L", "theirs", *paths])
        if proc.returncode < 0 or proc.returncode > 127:
            raise UsageError(f"git merge-file failed: "
                             f"{proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout, proc.returncode


# -- the driver ------------------------------------------------------------------------

@dataclass
class DriverOutcome:
    clean: bool
    messages: list[str]
    fell_back: bool = False


def merge_files(ancestor: Path, ours: Path, theirs: Path, path: str = "library.bib",
                encoding: str = "", library_folder: Path | None = None) -> DriverOutcome:
    """What git's merge driver does: merge into `ours` (the file git hands us)."""
    from .library import decode_bib
    raw = {name: Path(p).read_bytes() for name, p in
           (("base", ancestor), ("ours", ours), ("theirs", theirs))}
    try:
        texts, encodings = {}, {}
        for name, data in raw.items():
            try:
                texts[name], encodings[name] = decode_bib(data, path, encoding)
            except BibSyntaxError as exc:
                raise MergeError(f"{name}: {exc}") from None
        if len(set(encodings.values())) > 1:
            raise MergeError("the three versions are in different encodings ("
                             + ", ".join(f"{k}: {v}" for k, v in encodings.items()) + ")")
        result = merge_texts(texts["base"], texts["ours"], texts["theirs"], path)
        data = result.text.encode(encodings["ours"])
    except (MergeError, UnicodeEncodeError) as exc:
        return _fall_back(raw, ours, path, str(exc), encoding)
    except Exception as exc:   # a bug must not lose work: git's line merge instead
        return _fall_back(raw, ours, path, f"internal error: {type(exc).__name__}: {exc}",
                          encoding)
    _write(Path(ours), data)
    messages = [f"{path}: {m}" for m in result.notes]
    if library_folder is not None:
        messages += _move_snapshots(library_folder, result.renames)
    messages += [f"{path}: conflict: {c}" for c in result.conflicts]
    return DriverOutcome(result.clean, messages)


def _fall_back(raw: dict, ours: Path, path: str, why: str, encoding: str) -> DriverOutcome:
    from .library import decode_bib
    data, conflicts = line_merge(raw["ours"], raw["base"], raw["theirs"])
    _write(Path(ours), data)
    messages = [f"{path}: cannot merge entry by entry ({why}); used git's line merge"]
    if conflicts:
        messages.append(f"{path}: conflict: {conflicts} conflicting line region(s)")
        return DriverOutcome(False, messages, fell_back=True)
    try:   # a clean line merge is accepted only if the result loads
        text, _ = decode_bib(data, path, encoding)
        side = _read_side("result", text, path)
        del side
        lines = conflict_marker_lines(text)
        if lines:
            raise MergeError(f"{path}:{lines[0]}: unresolved merge conflict marker")
    except (BibSyntaxError, MergeError) as exc:
        messages.append(f"{path}: conflict: the line-merged file does not load ({exc}); "
                        "fix it before committing")
        return DriverOutcome(False, messages, fell_back=True)
    return DriverOutcome(True, messages, fell_back=True)


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _move_snapshots(folder: Path, renames: list[tuple[str, str]]) -> list[str]:
    """Snapshot folders follow keys the merge renamed, in ours' working tree.

    When theirs' commit already holds snapshots/NEW (it renamed the folder itself), git
    moves the files; the driver moves only what git would leave behind under the old key.
    """
    from . import snapshots
    messages = []
    for old, new in renames:
        src, dst = snapshots.folder(folder, old), snapshots.folder(folder, new)
        if not src.is_dir() or dst.exists():
            continue
        where = (Path(folder) / "snapshots" / new).as_posix()
        known = _in_theirs_tree(where.removeprefix("./"))
        if known is None:
            messages.append(f"snapshots/{old} belongs to '{new}' now: move it with "
                            f"git mv snapshots/{old} snapshots/{new}")
        elif not known:
            src.rename(dst)
            messages.append(f"moved snapshots/{old} to snapshots/{new} "
                            f"(commit it with: git add -A snapshots)")
    return messages


def _in_theirs_tree(path: str) -> bool | None:
    """Whether the commit being merged holds `path` (None: not known, e.g. a rebase)."""
    heads = [k[len("GITHEAD_"):] for k in os.environ if k.startswith("GITHEAD_")]
    if len(heads) != 1:
        return None
    proc = _git(["ls-tree", "-d", "--name-only", heads[0], "--", path])
    if proc.returncode != 0:
        return None
    return bool(proc.stdout.strip())


__all__ = ["merge_texts", "merge_files", "merge_entry_fields", "MergeResult", "MergeError",
           "conflict_marker_lines", "line_merge", "DriverOutcome"]
