"""What clippings' own writers changed, so a search index can catch up without reading
the whole library.

Finding what changed in library.bib means hashing every entry and statting every
snapshot: seconds at 100,000 entries, half a minute at a million. But every change
clippings makes goes through two places, `Library.save` and the snapshot writers, and
they know which entries they touched. Each appends one line to `index/journal.marshal`:
the stat of library.bib and of snapshots/ before and after, and for each touched key its
change digest and decoded record (`bibcache.pack_record`), None when it was removed, or
SNAPSHOT_ONLY when only its snapshot changed.

An index that recorded the stats of some moment asks `since(bib_path, stats)` for the
keys touched after it. That succeeds only when an unbroken chain of lines leads from
those stats to the files as they are now; a hand edit, `git pull` or a copied snapshot
folder breaks the chain (their stats match no line), and the index then takes its full
comparison, as before. A write that finds the files changed by someone else meanwhile
writes no line, which breaks the chain too. The journal is derived data like all of
index/: deleting it only costs one slow update. It keeps the last MAX_LINES lines and at
most MAX_NOTED noted entries.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from . import bibcache

FILE = "journal.marshal"
LOCK = "journal.lock"
MAX_LINES = 200
MAX_KEYS = 500          # a write touching more notes nothing: indexes compare everything
MAX_NOTED = 5000        # keys kept over all lines (each line holds decoded records)
SNAPSHOT_ONLY = "snapshot"
VERSION = 2


def stat_of(st: os.stat_result) -> list[int]:
    """What tells one version of a file from another: writers replace files (a new
    inode), and an edit in place changes the size or the time."""
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def file_stat(path: Path | str) -> list[int] | None:
    try:
        return stat_of(os.stat(path))
    except OSError:
        return None


def stats(bib_path: Path) -> tuple:
    """(the library file, snapshots/ beside it) as the journal and the indexes compare
    them."""
    bib_path = Path(bib_path)
    return file_stat(bib_path), file_stat(bib_path.parent / "snapshots")


class Note:
    """What one write fills in: `keys` (key -> (change digest, packed record) | None |
    SNAPSHOT_ONLY) and, for a write of the library file, the stat of the file it wrote
    (`wrote`)."""

    def __init__(self):
        self.keys: dict = {}
        self.written: list[int] | None = None

    def wrote(self, st: os.stat_result) -> None:
        self.written = stat_of(st)


@contextlib.contextmanager
def recording(bib_path: Path):
    """Around a write: yields a `Note`; appends its line when the write succeeded and
    nothing else changed the files meanwhile. Writers take turns on the journal's own
    lock, so no line is lost."""
    from filelock import FileLock, Timeout
    from .errors import ConflictError
    index = Path(bib_path).parent / "index"
    held = FileLock(str(index / LOCK), timeout=60)
    try:
        index.mkdir(exist_ok=True)
        held.acquire()
        locked = True
    except Timeout:
        raise ConflictError(f"{index / LOCK} is held by another clippings process; "
                            "try again") from None
    except OSError:
        locked = False   # a read-only folder: no line, so indexes compare everything
    try:
        before = stats(bib_path)
        note = Note()
        yield note
        if locked and note.keys:
            _append(index, bib_path, before, note)
    finally:
        if locked:
            held.release()


def _append(index: Path, bib_path: Path, before: tuple, note: Note) -> None:
    """Append the line, unless the files show a change the write did not make (then the
    missing line breaks the chain: indexes compare everything)."""
    now = stats(bib_path)
    if note.written is not None:
        # the library file must still be the one written, snapshots/ as it was
        if now[0] != note.written or now[1] != before[1]:
            return
    else:
        if now[0] != before[0]:      # a snapshot write leaves the library file alone
            return
        # Mark snapshots/ itself: a snapshot rewritten in a folder that existed changes
        # no stat an index compares.
        with contextlib.suppress(OSError):
            os.utime(Path(bib_path).parent / "snapshots")
        now = stats(bib_path)
    lines = _lines(index)
    lines.append((before, now, note.keys))
    lines = lines[-MAX_LINES:]
    while len(lines) > 1 and sum(len(line[2]) for line in lines) > MAX_NOTED:
        lines.pop(0)
    bibcache.write_data(index / FILE, {"version": VERSION, "lines": lines})


@contextlib.contextmanager
def snapshots_changing(bib_path: Path, *keys: str):
    """Around a write of these entries' snapshots (and nothing else)."""
    with recording(bib_path) as note:
        yield
        note.keys.update(dict.fromkeys(keys, SNAPSHOT_ONLY))


def since(bib_path: Path, recorded: tuple, now: tuple | None = None) -> dict | None:
    """key -> what `recording` noted, merged over the lines that lead from `recorded`
    to `now` (stats as `stats()` returns them; `now` by default the files' own); {} when
    nothing changed; None when no unbroken chain of lines leads there."""
    now = stats(bib_path) if now is None else now
    recorded = _plain(recorded)
    if recorded == _plain(now):
        return {}
    if recorded[0] is None:
        return None
    lines = _lines(Path(bib_path).parent / "index")
    merged: dict = {}
    at = None
    for before, after, keys in lines:
        if at is None:
            if _plain(before) != recorded:
                continue
            at = recorded
        if _plain(before) != at:
            return None     # something outside clippings changed the files in between
        for key, value in keys.items():
            if value == SNAPSHOT_ONLY and key in merged:
                continue    # what an earlier line noted says as much or more
            merged[key] = value
        at = _plain(after)
    return merged if at is not None and at == _plain(now) else None


def _plain(pair) -> tuple:
    return tuple(tuple(s) if s is not None else None for s in pair)


def _lines(index: Path) -> list:
    data = bibcache.read_data(index / FILE)
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return []
    return list(data.get("lines", []))
