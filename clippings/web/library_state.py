"""The library as the server holds it: loaded once, reloaded when library.bib changes.

Every request asks `current()`, which costs one stat() when nothing changed; a change by
the CLI, an editor or git is picked up on the next request. Link statuses come from
index/links.json the same way.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from .. import journal
from ..config import Settings
from ..library import Library
from ..links_cache import CACHE_FILE, current_results
from ..model import Record


@dataclass
class Snapshot:
    lib: Library
    records: dict[str, Record]
    statuses: dict[str, str]          # key -> last link status
    links: dict[str, dict]            # key -> last link-check result
    rows: dict[str, dict]             # key -> facet values
    journal: tuple = ()               # the files' stats as the journal knows them, when read
    inheriting: bool = True           # some entry takes fields from another (crossref)
    index_checked: bool = False       # the search index was brought up to date for it


def _stamp(path: Path) -> tuple:
    try:
        st = os.stat(path)
    except OSError:
        return ()
    return (st.st_size, st.st_mtime_ns, st.st_ino)


class LibraryState:
    def __init__(self, bib_path: Path, settings: Settings):
        self.path = Path(bib_path)
        self.folder = self.path.parent
        self.settings = settings
        self._lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._stamps: tuple = ()

    def current(self) -> Snapshot:
        links_file = self.folder / CACHE_FILE
        stamps = (_stamp(self.path), _stamp(links_file))
        snap = self._snapshot
        if snap is not None and stamps == self._stamps:
            return snap
        with self._lock:
            if self._snapshot is not None and stamps == self._stamps:
                return self._snapshot
            old = self._snapshot
            if old is not None and stamps[0] == self._stamps[0]:
                lib, records, changed = old.lib, old.records, set(old.records)
                noted = old.journal               # the version those records are of
            else:
                # The journal's stats of the version read: taken before reading, and
                # given up when the file changed while it was read (a hand edit then
                # would be in `lib` but in no journal line).
                noted = journal.stats(self.path)
                lib = Library.load(self.path, self.settings)
                if journal.stats(self.path)[0] != noted[0]:
                    noted = ()
                records, changed = self._records(lib, old, noted)
            # A result belongs to the URL it was made for: an entry whose URL changed
            # (or a new entry under a removed one's key) has no status yet.
            if old is not None and stamps[1] == self._stamps[1]:
                links = {k: v for k, v in old.links.items()
                         if k not in changed and k in records}
                links.update(current_results(self.folder,
                                             ((k, records[k].fields) for k in changed)))
            else:
                links = current_results(self.folder,
                                        ((k, r.fields) for k, r in records.items()))
            statuses = {k: r.get("status", "") for k, r in links.items()}
            # (the search package loads Whoosh: not before a library is served)
            from ..search import facet_rows, note_changes
            from ..search.changes import inherits
            # Every entry is in `changed` whenever some entry inherited before.
            inheriting = any(inherits(records[k]) for k in changed)
            if old is None:
                rows = facet_rows(records, statuses)
            else:
                restatused = {k for k in statuses.keys() | old.statuses.keys()
                              if statuses.get(k) != old.statuses.get(k)}
                todo = (changed | restatused) & records.keys()
                rows = dict(old.rows)
                for key in old.rows.keys() - records.keys():
                    del rows[key]
                rows.update(facet_rows({k: records[k] for k in todo}, statuses))
                note_changes(old.records, old.rows, records, rows, todo)
            self._snapshot = Snapshot(lib, records, statuses, links, rows, noted, inheriting)
            self._stamps = stamps
            return self._snapshot

    # More changed entries than this since the last request: decode all of them again.
    INCREMENTAL_LIMIT = 200

    def _records(self, lib: Library, old: Snapshot | None, noted: tuple):
        """The decoded records of `lib`, and the keys decoded anew. After a save that
        changed a few entries (an edit, an add), only those are decoded again: which
        they are, the journal of clippings' own writes says (`clippings.journal`); after
        a hand edit or `git pull`, each entry's text is compared with the previous
        version's. Unchanged entries keep their record objects (the facet table and the
        index then know them unchanged)."""
        if old is None or old.inheriting:   # a parent's change reaches its children
            records = {rec.key: rec for rec in lib.records()}
            return records, set(records)
        told = journal.since(self.path, old.journal, noted) \
            if old.journal and noted else None
        if told is not None:
            touched = {k for k, v in told.items() if v != journal.SNAPSHOT_ONLY}
            if len(touched) <= self.INCREMENTAL_LIMIT:
                return self._records_told(lib, old, touched)
        records, changed = {}, set()
        for key in lib.keys():
            rec = old.records.get(key)
            # The digest covers the entry's text and the @string macros it sees.
            if rec is not None and key in old.lib and \
                    old.lib.entry_digest(key) == lib.entry_digest(key):
                records[key] = rec
                continue
            changed.add(key)
            if len(changed) > self.INCREMENTAL_LIMIT:
                records = {rec.key: rec for rec in lib.records()}
                return records, set(records)
            records[key] = lib.record(key)
        return records, changed

    @staticmethod
    def _records_told(lib: Library, old: Snapshot, touched: set[str]):
        """`_records` when the journal names the entries written (`touched`)."""
        keys = lib.keys()
        changed = {key for key in touched if key in lib}
        added = {key for key in changed if key not in old.records}
        tail = keys[len(keys) - len(added):] if added else []
        if set(tail) == added:
            # Edited in place, removed, added at the end (`add`, `set`, `rm`): the old
            # dict's order is the file's, unless a key came back elsewhere (checked).
            records = dict(old.records)
            for key in touched - changed:
                records.pop(key, None)
            for key in [*(changed - added), *tail]:
                records[key] = lib.record(key)
            if list(records) == keys:
                return records, changed
        records = {key: old.records[key] if key in old.records and key not in touched
                   else lib.record(key) for key in keys}
        return records, {key for key in keys if key not in old.records or key in touched}

    def warm(self) -> None:
        """Decode the library, bring its index up to date and prepare its searches: what
        the first search would otherwise wait for (a server does it as it starts)."""
        snap = self.searchable()
        from ..search import prepare_pages
        prepare_pages(self.path, records=snap.records, rows=snap.rows,
                      statuses=snap.statuses, settings=self.settings)

    def searchable(self) -> Snapshot:
        """The current library, with the search index brought up to date once per
        change of library.bib (not on every request)."""
        snap = self.current()
        if not snap.index_checked:
            from ..search import ensure_index
            with self._index_lock:
                if not snap.index_checked:
                    ensure_index(self.path, self.settings,
                                 records=list(snap.records.values()))
                    snap.index_checked = True
        return snap
