"""One entry changed on both sides, merged field by field (for the git merge driver).

Theirs' changes are applied to ours' text with the byte-preserving edits of `bibfile`, so
every byte ours wrote stays unless theirs changed that field; a field both changed
differently gets standard conflict markers around its lines, inside the entry.
"""

from __future__ import annotations

import re

from . import bibfile

MARKER = 7                  # git's default conflict-marker size
_TYPE = re.compile(r"(@[ \t\r\n]*)([A-Za-z][A-Za-z0-9_:-]*)")


_LONE_LF = re.compile(r"(?<!\r)\n")


def _entry_block(text: str) -> bibfile.Block:
    return next(b for b in bibfile.Scanner(text).blocks() if b.kind == "entry")


def _value(block: bibfile.Block | None, text: str, name: str) -> str | None:
    """A field's value as written (braces and all), or None when it is not there."""
    f = block.get(name) if block is not None else None
    return None if f is None else text[f.value_start:f.value_end]


def merge_entry_fields(base: str, ours: str, theirs: str, nl: str = "\n"
                       ) -> tuple[str, list[str]]:
    """One entry changed on both sides: theirs' changes applied to ours' text.

    Returns the text and the names of fields changed differently on both sides, which
    get conflict markers around their lines (or the whole entry, when a field does not
    stand on lines of its own)."""
    b = _entry_block(base) if base else None
    o, t = _entry_block(ours), _entry_block(theirs)
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
        bv, tv = _value(b, base, name), _value(t, theirs, name)
        cur = _entry_block(text)
        ov = _value(cur, text, name)
        if tv == bv or ov == tv:
            continue
        if ov == bv:
            if tv is None:
                text = bibfile.remove_field(text, cur, name)
            else:
                text = bibfile.set_field(text, cur, t.get(name).name, tv)
        else:
            conflicts.append(name)
    if nl == "\r\n":   # lines set_field added end like the file's lines
        text = _LONE_LF.sub("\r\n", text)
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
    o_block = _entry_block(ours)
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


__all__ = ["merge_entry_fields", "MARKER"]
