"""Which entries changed since an index was written, without decoding the library.

An index records for every entry its fingerprint (`index.fingerprint`: a digest of the
decoded fields and the link status) and its snapshot stamp. Computing every fingerprint
means decoding every entry: seconds at 100,000 entries, for an update after one `add`.
So an index also records each entry's *change key*: `Library.entry_digest` (its text
and the @string macros it sees) plus the results of checking its links. An entry whose
change key is the one recorded keeps its recorded fingerprint; only the others are
decoded and fingerprinted. Entries that inherit fields (crossref, xdata) depend on
other entries' text too: their change key is "" and they are always fingerprinted
anew.

The cost of an update is then one pass over library.bib's spans (a BLAKE2b per entry),
one stat per snapshot, and the work for the entries that changed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .. import snapshots
from ..model import Record
from .index import TEXT_FILE, fingerprint, link_status, strong_hash

INHERITS = ""   # the change key of an entry whose fields come partly from others


def links_by_key(links: dict[tuple[str, str], str]) -> dict[str, str]:
    """key -> a digest of the link results recorded for that key (any URL)."""
    grouped: dict[str, list] = {}
    for (key, url), status in links.items():
        grouped.setdefault(key, []).append((url or "", status))
    return {key: strong_hash(json.dumps(sorted(items), ensure_ascii=False).encode("utf-8"))
            for key, items in grouped.items()}


def change_keys(digests: dict[str, bytes], links: dict[tuple[str, str], str]
                ) -> dict[str, str]:
    """key -> change key, from `Library.entry_digests()` and the link results."""
    by_key = links_by_key(links)
    if not by_key:
        return {key: digest.hex() for key, digest in digests.items()}
    return {key: digest.hex() + by_key.get(key, "") for key, digest in digests.items()}


def inherits(rec: Record) -> bool:
    return bool(rec.fields.get("crossref") or rec.fields.get("xdata"))


def snapshot_stamps(library_folder, keys: Iterable[str]) -> dict[str, str]:
    """key -> `index.snapshot_stamp`: the same strings, statted relative to snapshots/
    (one path lookup less per entry)."""
    out: dict[str, str] = {}
    try:
        folder = os.open(os.path.join(library_folder, snapshots.SNAPSHOTS), os.O_RDONLY)
    except OSError:
        return dict.fromkeys(keys, "")
    stat, tail = os.stat, "/" + TEXT_FILE
    try:
        for key in keys:
            try:
                st = stat(snapshots.escaped(key) + tail, dir_fd=folder)
            except (OSError, ValueError):
                out[key] = ""
                continue
            out[key] = f"{st.st_size}:{st.st_mtime_ns}"
    finally:
        os.close(folder)
    return out


def current_state(keys: dict[str, str], stamps: dict[str, str], known: dict[str, tuple],
                  decode: Callable[[list[str]], dict[str, Record]], links: dict
                  ) -> tuple[dict[str, list[str]], dict[str, str], dict[str, Record]]:
    """What an index of the library holds now, computed as cheaply as possible.

    `keys`: key -> change key now; `known`: key -> (change key, fingerprint) recorded;
    `decode(keys)`: the decoded records of those entries. Returns key -> [fingerprint,
    stamp] (as `index.current_state`), key -> change key to record ("" for entries that
    inherit), and the records it decoded.
    """
    current: dict[str, list[str]] = {}
    todo = []
    for key, change in keys.items():
        old = known.get(key)
        if old is not None and change and old[0] == change:
            current[key] = [old[1], stamps[key]]
        else:
            todo.append(key)
    records = decode(todo) if todo else {}
    recorded = dict(keys)
    for key in todo:
        rec = records[key]
        current[key] = [fingerprint(rec, link_status(links, rec)), stamps[key]]
        if inherits(rec):
            recorded[key] = INHERITS
    return {key: current[key] for key in keys}, recorded, records


@dataclass
class Journaled:
    """What the journal says changed since an index's recorded state (`from_journal`)."""

    records: dict[str, Record]     # touched entries as they are now
    digests: dict[str, str]        # ... and their entry digests (hex)
    removed: list[str]
    bib: dict                      # the signature to record for library.bib
    snapshots: list                # ... and for snapshots/ and the link results

    def current(self, library_folder, links: dict) -> dict[str, list[str]]:
        """key -> [fingerprint, snapshot stamp] of the touched entries now."""
        stamps = snapshot_stamps(library_folder, list(self.records))
        return {key: [fingerprint(rec, link_status(links, rec)), stamps[key]]
                for key, rec in self.records.items()}


def from_journal(bib_path: Path, bib: dict | None, snapshots_sig: list | None,
                 inheriting, encoding: str = "") -> Journaled | None:
    """The touched entries, read from `clippings.journal`, when an index recorded `bib`
    and `snapshots_sig` (as `index.read_bib().signature` and `snapshots_signature`) and
    `inheriting` entries (0, or the update compares everything: a parent's change reaches
    its children unnoted). None when the journal cannot tell: nothing noted, no unbroken
    chain (a hand edit), link results changed, a snapshot changed alone, a touched
    entry inherits, or the `encoding` setting is not the one the index recorded (every
    entry may read differently)."""
    from .. import journal
    from ..bibcache import unpack_record
    from .index import bib_signature, read_with, snapshots_signature
    bib_stat = (bib or {}).get("stat")
    if inheriting != 0 or not snapshots_sig or bib_stat is None or \
            not read_with(bib, encoding):
        return None
    now = journal.stats(bib_path)
    links_now = snapshots_signature(Path(bib_path).parent)[1]
    if snapshots_sig[1] != links_now:
        return None
    touched = journal.since(bib_path, (bib_stat, snapshots_sig[0]), now)
    if not touched:
        return None
    out = Journaled({}, {}, [], bib_signature(now[0], None, encoding), [now[1], links_now])
    for key, value in touched.items():
        if value is None:
            out.removed.append(key)
            continue
        if value == journal.SNAPSHOT_ONLY:
            return None
        rec = unpack_record(value[1])
        if inherits(rec):
            return None
        out.records[key], out.digests[key] = rec, value[0]
    # No digest of library.bib: should only its stat change later (a touch), the next
    # update compares everything once.
    return out
