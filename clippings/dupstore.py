"""The library's duplicate index, kept in SQLite in index/ and brought up to date per entry.

`add` on a 50,000-entry library must not rebuild the index from every entry: the tables
hold the signals (URL, DOI, ISBN, titles) of every entry with a BLAKE2b digest of its
text, so only entries whose text changed since the last command are looked at again, and
a look-up is a few indexed SELECTs instead of loading the whole index.

Entries a command is about to add (an import of many files) are indexed in memory first
and written to the tables only after library.bib was saved, in one transaction: a failed
save leaves no trace of entries that do not exist.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

from .bibcache import text_digest
from .dedupe import DuplicateIndex, _Signals, _signals
from .model import Record

SCHEMA = 4   # raised whenever dedupe's signals change: stored ones are then recomputed
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS entry (folded TEXT PRIMARY KEY, key TEXT, digest BLOB,
                                  position INTEGER, signals TEXT);
CREATE TABLE IF NOT EXISTS signal (kind TEXT, value TEXT, folded TEXT);
CREATE INDEX IF NOT EXISTS signal_value ON signal (kind, value);
CREATE INDEX IF NOT EXISTS signal_entry ON signal (folded);
"""


def _dump(sig: _Signals) -> str:
    return json.dumps([sorted(sig.urls), sorted(sig.dois), sorted(sig.isbns),
                       sorted(sig.titles), sig.year, sorted(sig.families),
                       sorted(sig.shorts), sorted(sig.heads)])


def _load(text: str) -> _Signals:
    urls, dois, isbns, titles, year, families, shorts, heads = json.loads(text)
    return _Signals(frozenset(urls), frozenset(dois), frozenset(isbns), frozenset(titles),
                    year, frozenset(families), frozenset(shorts), frozenset(heads))


class StoredDuplicateIndex(DuplicateIndex):
    """A DuplicateIndex whose tables live in `index/duplicates.sqlite`."""

    def __init__(self, path: Path):
        super().__init__()
        self.pending = DuplicateIndex()   # entries not yet saved to library.bib
        path.parent.mkdir(exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            self.db.executescript(_TABLES)
            row = self.db.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
        except sqlite3.DatabaseError:
            row = None
        if row is None or row[0] != str(SCHEMA):
            self._reset(path)

    def _reset(self, path: Path) -> None:
        self.db.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(str(path) + suffix).unlink()
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_TABLES)
        self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA),))

    # -- keeping up with library.bib --------------------------------------------------
    def signature(self) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE name='signature'").fetchone()
        return row[0] if row else None

    def sync(self, lib) -> None:
        """Re-read only the entries whose text changed since the stored signature."""
        signature = json.dumps(list(lib.signature))
        if self.signature() == signature:
            return
        keys = lib.keys()
        digests = {k: text_digest(lib.entry_text(k)) for k in keys}
        stored = dict(self.db.execute("SELECT key, digest FROM entry"))
        changed = [k for k in keys if stored.get(k) != digests[k]]
        gone = [k for k in stored if k not in digests]
        if len(changed) > 1000:
            records = {r.key: r for r in lib.records(resolve=False)}
        else:
            records = {k: lib.record(k, resolve=False) for k in changed}
        self.db.execute("BEGIN")
        for key in gone + changed:
            self._delete(key.lower())
        positions = {k: i for i, k in enumerate(keys)}
        for key in changed:
            self._insert(key, records[key], digests[key], positions[key])
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('signature', ?)", (signature,))
        self.db.execute("COMMIT")

    def add(self, key: str, record: Record) -> None:
        """Index an entry about to be added, in memory until `commit` after the save."""
        self.pending.add(key, record)

    def commit(self, lib, records: dict[str, Record]) -> None:
        """After `lib` was saved with `records` appended: store them and the signature."""
        position = len(lib.keys()) - len(records)
        self.db.execute("BEGIN")
        for key, record in records.items():
            self._delete(key.lower())
            self._insert(key, record, text_digest(lib.entry_text(key)), position)
            position += 1
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('signature', ?)",
                        (json.dumps(list(lib.signature)),))
        self.db.execute("COMMIT")
        self.pending = DuplicateIndex()

    def _insert(self, key: str, record: Record, digest: bytes, position: int) -> None:
        sig = _signals(record)
        folded = key.lower()
        self.db.execute("INSERT OR REPLACE INTO entry VALUES (?, ?, ?, ?, ?)",
                        (folded, key, digest, position, _dump(sig)))
        self.db.executemany("INSERT INTO signal VALUES (?, ?, ?)",
                            [(kind, value, folded) for kind, value in self._entries(sig)])

    def _delete(self, folded: str) -> None:
        self.db.execute("DELETE FROM entry WHERE folded = ?", (folded,))
        self.db.execute("DELETE FROM signal WHERE folded = ?", (folded,))

    # -- the storage accessors of DuplicateIndex (the tables, then the pending entries) --
    def _lookup(self, kind: str, value: str):
        rows = [row[0] for row in self.db.execute(
            "SELECT folded FROM signal WHERE kind = ? AND value = ?", (kind, value))]
        return rows + [k for k in self.pending._lookup(kind, value) if k not in rows]

    def _signals_of(self, folded: str) -> _Signals:
        if folded in self.pending._signals:
            return self.pending._signals_of(folded)
        row = self.db.execute("SELECT signals FROM entry WHERE folded = ?",
                              (folded,)).fetchone()
        return _load(row[0])

    def _position(self, folded: str) -> int:
        if folded in self.pending._signals:
            return (1 << 40) + self.pending._position(folded)
        row = self.db.execute("SELECT position FROM entry WHERE folded = ?",
                              (folded,)).fetchone()
        return row[0] if row else 0

    def _key_as_written(self, folded: str) -> str:
        if folded in self.pending._signals:
            return self.pending._key_as_written(folded)
        row = self.db.execute("SELECT key FROM entry WHERE folded = ?", (folded,)).fetchone()
        return row[0] if row else folded

    def close(self) -> None:
        self.db.close()


def open_for(lib) -> StoredDuplicateIndex:
    """The stored index, synchronised with `lib` (as read)."""
    index = StoredDuplicateIndex(Path(lib.folder) / "index" / "duplicates.sqlite")
    index.sync(lib)
    return index
