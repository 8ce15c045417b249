"""Three-way merge of library.bib, entry by entry (what `merge-driver` runs).

The merge works on top of git's own line merge:

1. What the three versions share is never parsed: the common head and tail (cut where
   an entry starts) are set aside, and in the rest each piece between line-start "@"s
   that all three hold unchanged becomes one placeholder line. The other pieces are
   parsed, each distinct piece once for all three versions.
2. Every parsed entry becomes one placeholder line holding its key (see `_Merge.mask`),
   and the three masked texts go through `git merge-file`. Git thus merges the layout:
   where entries stand, which were removed, and the blocks not modelled here (comments,
   @string, @preamble, text between entries), line by line.
3. Git's conflicts made only of placeholders and blank lines are settled entry by entry:
   ours in order, then theirs' new entries; removed-and-untouched goes, changed-and-
   removed is a conflict. Each entry is then merged from its three versions field by
   field (`entrymerge`), starting from ours' text, so every byte ours wrote stays unless
   theirs changed it.
4. Entries new on both sides are checked with the duplicate rules of `add`: the same
   work is kept once (ours); a key taken by two different works gives theirs the next
   free key. A key renamed on one side is renamed in the other versions first, so edits
   follow it.

A version that cannot be read (bad syntax, a repeated key, conflict markers) raises
MergeError; `mergedriver` then falls back to git's plain line merge.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import bibfile
from .bibfile import conflict_marker_lines
from .entrymerge import MARKER, merge_entry_fields
from .errors import BibSyntaxError, ClippingsError, UsageError

_INNER_MARKER = 40          # markers of the masked merge: never confused with text
_HEAD_AT_LINE = re.compile(r"\n@[ \t\r\n]*[A-Za-z][A-Za-z0-9_:-]*[ \t\r\n]*[{(]")
_ANY_KEY = re.compile(r"@[ \t\r\n]*[A-Za-z][A-Za-z0-9_:-]*[ \t\r\n]*[{(][ \t\r\n]*"
                      r"([^,\s{}()\"#%'=]*)")


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
class _Raw:
    """A piece of text the same in all three versions: copied, never parsed."""

    text: str


@dataclass
class _Side:
    name: str
    segments: list   # str (text between entries), _Entry or _Raw, in file order
    entries: dict[str, _Entry]   # folded key -> entry (those parsed)

    def text_of(self, folded: str) -> str | None:
        entry = self.entries.get(folded)
        return entry.text if entry else None


class _Resync(Exception):
    """A piece of text did not parse on its own: parse the whole texts instead."""


def _pieces(text: str) -> list[str]:
    """The text cut before every "@" that starts a line: where blocks usually start."""
    cuts, pos = [0], text.find("\n@")
    while pos != -1:
        cuts.append(pos + 1)
        pos = text.find("\n@", pos + 1)
    cuts.append(len(text))
    return [text[a:z] for a, z in zip(cuts, cuts[1:]) if z > a]


def read_side(name: str, text: str, path: str, cache: dict | None = None,
               shared: set[str] | frozenset = frozenset()) -> _Side:
    """Entries and the text around them. Without `cache`, one plain parse of the text.

    With it, piece by piece (see `_pieces`): pieces in `shared` stay raw, the others are
    parsed once for all versions (`cache`: piece -> its blocks). Pieces are exact: the
    first starts at the top level, and a piece that parses completely on its own ends
    there, so the next one starts there too; a piece that does not parse alone (an "@"
    starting a line inside a value) raises `_Resync`."""
    segments: list = []
    entries: dict[str, _Entry] = {}

    def take(piece: str, blocks) -> None:
        pos = 0
        for block in blocks:
            if block.kind != "entry":
                continue
            if block.start > pos:
                segments.append(piece[pos:block.start])
            entry = _Entry(block.key, piece[block.start:block.end], block)
            folded = block.key.casefold()
            if folded in entries:
                raise MergeError(f"{name}: repeated citation key '{block.key}'")
            entries[folded] = entry
            segments.append(entry)
            pos = block.end
        if pos < len(piece):
            segments.append(piece[pos:])

    if cache is None:
        try:
            take(text, bibfile.Scanner(text, path).blocks())
        except BibSyntaxError as exc:
            raise MergeError(f"{name}: {exc}") from None
        return _Side(name, segments, entries)
    for piece in _pieces(text):
        if piece in shared:
            segments.append(_Raw(piece))
            continue
        blocks = cache.get(piece)
        if blocks is None:
            try:
                blocks = [b for b in bibfile.Scanner(piece, path).blocks()
                          if b.kind == "entry"]
            except BibSyntaxError:
                raise _Resync from None
            cache[piece] = blocks
        take(piece, blocks)
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
    if ours == theirs or base == theirs:
        return MergeResult(ours)
    if base == ours:
        return MergeResult(theirs)
    nl = newline or ("\r\n" if "\r\n" in ours[:10000] else "\n")
    head, tail = _split(base, ours, theirs)
    # Markers left by an earlier merge: the shared parts once, then each side's own part.
    for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
        middle = text if name == "ours" else text[head:len(text) - tail]
        lines = conflict_marker_lines(middle)
        if lines:
            line = lines[0] + (text.count("\n", 0, head) if name != "ours" else 0)
            raise MergeError(f"{name}: {path}:{line}: unresolved merge conflict marker")
    try:
        return _Merge(base, ours, theirs, head, tail, path, nl).run()
    except _NeedWholeFile:
        return _Merge(base, ours, theirs, 0, 0, path, nl, exact=True).run()


class _NeedWholeFile(Exception):
    """The quick way cannot be sure (a key may be in the parts not parsed, or a piece
    does not parse alone): merge again, parsing all three texts whole."""


class _Merge:
    def __init__(self, base, ours, theirs, head, tail, path, nl, exact=False):
        self.path, self.nl = path, nl
        self.head, self.tail = ours[:head], ours[len(ours) - tail:]
        middles = [t[head:len(t) - tail] for t in (base, ours, theirs)]
        self.result = MergeResult("")
        self.renamed: dict[str, str] = {}          # renamed away (folded) -> new key
        self.theirs_renamed: dict[str, str] = {}   # theirs' new keys given another key
        self.pieces: dict[str, list] | None = None if exact else {}
        self.shared: set[str] = set()
        if not exact:
            cut = [_pieces(m) for m in middles]
            self.shared = set(cut[0]) & set(cut[1]) & set(cut[2])
            if sum(p in self.shared for p in cut[1]) != len(self.shared):
                raise _NeedWholeFile   # a shared piece twice: a repeated key, maybe
        try:
            self.base, self.ours, self.theirs = (
                read_side(name, text, path, self.pieces, self.shared)
                for name, text in zip(("base", "ours", "theirs"), middles))
        except _Resync:
            raise _NeedWholeFile from None
        self._outside: set[str] | None = None
        if not exact:
            outside = self.outside_keys()
            for side in (self.base, self.ours, self.theirs):
                if any(k in outside for k in side.entries):
                    raise _NeedWholeFile

    def outside_keys(self) -> set[str]:
        """Keys in the parts not parsed (a superset: heads in comments count too)."""
        if self._outside is None:
            found = _ANY_KEY.findall("".join((self.head, self.tail, *self.shared)))
            self._outside = {k.casefold() for k in found}
            if len(found) != len(self._outside):
                raise _NeedWholeFile   # a key twice in the shared parts
        return self._outside

    def run(self) -> MergeResult:
        self.follow_renames()
        merged = self.merge_layout()
        body = self.fill_entries(merged)
        ours = "".join(x.text if not isinstance(x, str) else x
                       for x in self.ours.segments[-1:])
        if ours and not ours.endswith("\n"):   # no newline at the end, as ours had it
            last = ours.rsplit("\n", 1)[-1] + self.nl
            if body.endswith(last):
                body = body[:-len(self.nl)]
        self.result.text = self.head + body + self.tail
        if self.result.clean:
            try:   # what we made must load; otherwise it is not ours to commit
                made = read_side("result", body, self.path, self.pieces, self.shared)
            except _Resync:
                raise _NeedWholeFile from None
            except MergeError as exc:
                raise MergeError(f"the merged file would not load ({exc})") from None
            if self.pieces is not None and any(k in self.outside_keys()
                                               for k in made.entries):
                raise _NeedWholeFile
        return self.result

    # -- renames -----------------------------------------------------------------------
    def follow_renames(self) -> None:
        """A key renamed on one side is renamed on the others, so edits meet."""
        ours_ren = _renames(self.base, self.ours)
        theirs_ren = _renames(self.base, self.theirs)
        for old in sorted(set(ours_ren) | set(theirs_ren)):
            final = ours_ren.get(old) or theirs_ren[old]
            base_key, base_text = self.base.entries[old].key, self.base.entries[old].text
            if old in ours_ren and old in theirs_ren:
                if theirs_ren[old].casefold() != final.casefold():
                    self.result.notes.append(
                        f"'{base_key}' was renamed to '{final}' (ours) and to "
                        f"'{theirs_ren[old]}' (theirs): kept '{final}'")
                    _rekey(self.theirs, theirs_ren[old].casefold(), final)
            else:
                renamer, other = ("ours", self.theirs) if old in ours_ren \
                    else ("theirs", self.ours)
                if old in other.entries:
                    if other.entries[old].text != base_text:
                        self.result.notes.append(
                            f"'{base_key}' was renamed to '{final}' ({renamer}): its "
                            f"changes from {other.name} follow the rename")
                    if other is self.ours:
                        self.result.renames.append((self.ours.entries[old].key, final))
                    _rekey(other, old, final)
            _rekey(self.base, old, final)
            self.renamed[old] = final

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
        self.token_re = re.compile(re.escape(nonce) + r" [^\s=]+(?: [+*](?:ours|theirs))?")
        self.raw_re = re.compile(re.escape(nonce) + r" =(\d+)")
        self.raw: dict[str, int] = {}    # shared piece -> its number in the masked texts
        self.tokens: dict[str, tuple[str, _Entry]] = {}   # token -> (side, entry)
        self.removed = {   # base entries the *other* side removed
            "ours": {k for k in self.base.entries if k not in self.theirs.entries},
            "theirs": {k for k in self.base.entries if k not in self.ours.entries}}
        masked = {side.name: self.mask(side) for side in (self.base, self.ours, self.theirs)}
        self.raw_texts = list(self.raw)
        # A file without a final newline: appending changes its last line on both sides,
        # which git would call a conflict. Merge as if the newline were there.
        for name, text in masked.items():
            if text and not text.endswith("\n"):
                masked[name] = text + self.nl
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
            if isinstance(seg, _Raw):   # one line for a piece nobody changed
                number = self.raw.setdefault(seg.text, len(self.raw))
                ending = "\r\n" if seg.text.endswith("\r\n") else \
                    "\n" if seg.text.endswith("\n") else ""
                parts.append(f"{self.nonce} ={number}{ending}")
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
        if not line.strip() or self.raw_re.match(line):
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
            ours, theirs = parts["ours"], parts["theirs"]
            # Lines both sides made the same (say, a newline added at the end of the
            # file before appending) are no conflict: take them once.
            head = 0
            while head < min(len(ours), len(theirs)) and ours[head] == theirs[head]:
                head += 1
            tail = 0
            while tail < min(len(ours), len(theirs)) - head and \
                    ours[len(ours) - 1 - tail] == theirs[len(theirs) - 1 - tail]:
                tail += 1
            out.extend(ours[:head])
            ours, rest = ours[head:len(ours) - tail], ours[len(ours) - tail:]
            theirs = theirs[head:len(theirs) - tail]
            if all(self.is_layout(x) for x in ours + theirs):
                out.extend(self.settle_entries(ours, theirs))
            else:
                out.extend(self.text_conflict(ours, theirs))
            out.extend(rest)
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
            if self.raw_re.match(line):
                continue   # shared by all three: ours places it
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
        if (raw := self.raw_re.match(line)) is not None:
            return self.raw_texts[int(raw.group(1))]
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
        if self.renamed or self.theirs_renamed:
            self.follow_references(texts)
        parts = []
        skip_blank = False
        for i, line in enumerate(lines):
            if isinstance(line, tuple):
                _, folded, side, raw = line
                parts.append(self.modify_delete(folded, side, raw))
                skip_blank = False
                continue
            if (raw := self.raw_re.match(line)) is not None:
                parts.append(self.raw_texts[int(raw.group(1))])
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

    def follow_references(self, texts: dict) -> None:
        """crossref, xref, xdata, related and entryset follow keys the merge renamed:
        renames on either side apply to every entry; a new key given to theirs' entry
        applies to the other entries theirs added."""
        for place, text in texts.items():
            if text is None:
                continue
            side, entry = self.tokens[place[1]]
            renames = dict(self.renamed)
            if side == "theirs" and entry.key.casefold() not in self.base.entries:
                renames.update(self.theirs_renamed)
            lowered = text.casefold()
            if any(old in lowered for old in renames):   # cheap filter before parsing
                texts[place] = _retarget(text, renames)

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
                self.theirs_renamed[folded] = new_key
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


def _retarget(text: str, renames: dict[str, str]) -> str:
    """The entry's reference fields with renamed keys (folded old key -> new key)."""
    from .library import REFERENCE_FIELDS, renamed_keys
    block = next(b for b in bibfile.Scanner(text).blocks() if b.kind == "entry")
    for f in reversed(block.fields):   # from the end: earlier offsets stay valid
        renamed = renamed_keys(bibfile.expand(f, {}), renames) \
            if f.key in REFERENCE_FIELDS else None
        if renamed is not None:
            text = text[:f.value_start] + "{" + renamed + "}" + text[f.value_end:]
    return text


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


def _renames(base: _Side, side: _Side) -> dict[str, str]:
    """Base keys (folded) that `side` renamed, to their new key: an entry gone under its
    old key and one new under another with the same type and fields (references to
    other keys aside: renaming a whole group rewrites them too)."""
    gone = [k for k in base.entries if k not in side.entries]
    new = [k for k in side.entries if k not in base.entries]
    if not gone or not new:
        return {}
    by_body: dict[tuple, str] = {}
    for k in gone:
        by_body.setdefault(_body(base.entries[k].text), k)
    found = {}
    for k in new:
        old = by_body.pop(_body(side.entries[k].text), None)
        if old is not None:
            found[old] = side.entries[k].key
    return found


def _body(text: str) -> tuple:
    """What a rename keeps: the entry type and every field but the references."""
    from .library import REFERENCE_FIELDS
    block = next(b for b in bibfile.Scanner(text).blocks() if b.kind == "entry")
    return (block.type_lower,) + tuple(sorted(
        (f.key, text[f.value_start:f.value_end]) for f in block.fields
        if f.key not in REFERENCE_FIELDS))


def _rekey(side: _Side, old: str, new_key: str) -> None:
    entry = side.entries.pop(old)
    entry.key, entry.text, entry.block = new_key, _with_key(entry.text, new_key), None
    side.entries[new_key.casefold()] = entry


# -- git ---------------------------------------------------------------------------------

def _merge_file(ours: str, base: str, theirs: str) -> str:
    """git merge-file on the masked texts (diff3 style, long markers), its output."""
    with tempfile.TemporaryDirectory(prefix="clippings-merge-") as tmp:
        paths = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            p = Path(tmp) / name
            p.write_bytes(text.encode("utf-8", "surrogatepass"))
            paths.append(str(p))
        proc = git(["merge-file", "-p", "--diff3", f"--marker-size={_INNER_MARKER}",
                     *paths])
        if proc.returncode < 0 or proc.returncode > 127:
            raise MergeError(f"git merge-file failed: {proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode("utf-8", "surrogatepass")


def git(args: list[str], cwd: str | None = None) -> subprocess.CompletedProcess:
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
        proc = git(["merge-file", "-p", "-L", "ours", "-L", "base", "-L", "theirs", *paths])
        if proc.returncode < 0 or proc.returncode > 127:
            raise UsageError(f"git merge-file failed: "
                             f"{proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout, proc.returncode


__all__ = ["merge_texts", "MergeResult", "MergeError", "read_side", "conflict_marker_lines",
           "line_merge", "git"]
