"""The search index in <library>/index/search/: build it, keep it up to date, open it.

The index is derived data. Beside the Whoosh files, `manifest.json` (small, read before
every search) records the schema it was written with, one signature of library.bib taken
from the very bytes that were indexed (size, mtime, inode and a BLAKE2b-128 digest), and
the stat of snapshots/; `entries.json` records for every entry a BLAKE2b-128 fingerprint
of its decoded fields plus a stamp (size, mtime) of its snapshot text.

- `is_current` (before every search) costs two stats when nothing changed; library.bib
  is hashed only when its stat changed, and snapshot stamps are compared only when the
  snapshots/ folder changed (a snapshot added, removed or renamed).
- `update` (`clippings index`) always compares every entry and every snapshot stamp, so a
  snapshot's text.txt edited by hand in place is picked up there.

An update re-indexes only the entries whose fingerprint or stamp changed and drops the
entries that are gone; an index that is missing, half-written, corrupt or of another
schema is rebuilt from scratch. A damaged file that neither check reads (a posting block,
a column) is met by the search or update that reads it: `searched` rebuilds it then.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .. import snapshots
from ..errors import ClippingsError, ConflictError
from ..journal import file_stat as _path_stat, stat_of as _stat_of
from ..model import Record
from . import vocabulary
from .schema import SCHEMA_VERSION, document, make_schema

SEARCH_DIR = Path("index") / "search"
MANIFEST = "manifest.json"
ENTRIES = "entries.json"
TEXT_FILE = "text.txt"   # what snapshots.text() reads
Progress = Callable[[int, int], None]
# Below this many entries a second writer process costs more than it saves.
PARALLEL_FROM = 1000


@dataclass
class IndexReport:
    """What an update did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    total: int = 0
    rebuilt: str = ""   # why the index was rebuilt from scratch ("" when it was not)
    text_bytes: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.rebuilt)


def index_dir(library_folder: Path) -> Path:
    return Path(library_folder) / SEARCH_DIR


@functools.lru_cache(maxsize=1)
def schema():
    """The schema with its analyzers, built once per process (their caches fill as
    they work)."""
    return make_schema()


@functools.lru_cache(maxsize=1)
def schema_id() -> str:
    """Changes whenever documents would be analysed or laid out differently: the schema
    version, a digest of the code and word list that analyse text, the engine version."""
    import whoosh

    from . import analysis, decompound, places
    from .. import textnorm
    digest = hashlib.sha1()
    from . import schema as fields
    for path in (analysis.__file__, decompound.__file__, textnorm.__file__,
                 decompound.DATA_FILE, places.__file__, places.PLACES_DATA,
                 fields.__file__):
        with contextlib.suppress(OSError):
            digest.update(Path(path).read_bytes())
    engine = ".".join(map(str, getattr(whoosh, "__version__", ()) or ()))
    return f"{SCHEMA_VERSION}/{digest.hexdigest()[:12]}/{engine}"


def read_errors() -> tuple[type[BaseException], ...]:
    """What reading a damaged index raises (as opposed to a bug in the code)."""
    import pickle
    import struct
    import zlib

    from whoosh.filedb.filetables import FileFormatError
    from whoosh.index import IndexError as WhooshIndexError
    from whoosh.reading import CorruptIndexError
    return (OSError, EOFError, ValueError, KeyError, IndexError, struct.error, zlib.error,
            pickle.UnpicklingError, WhooshIndexError, FileFormatError, CorruptIndexError)


def is_damage(exc: BaseException) -> bool:
    """Whether `exc`, met reading the index, says that a file of it is damaged or gone
    rather than that a query or the code is wrong: one of `read_errors()`, or anything
    raised inside Whoosh itself, whose readers unpickle what a damaged file holds and
    then fail in any way (TypeError, AttributeError, a failed assertion)."""
    if isinstance(exc, ClippingsError):
        return False
    return isinstance(exc, read_errors()) or _raised_in_whoosh(exc)


def _raised_in_whoosh(exc: BaseException) -> bool:
    import whoosh
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_filename.startswith(
        os.path.dirname(whoosh.__file__) + os.sep)


UNREADABLE = "unreadable (corrupt)"   # why a damaged index was rebuilt


class _Unreadable(Exception):
    """An update met a damaged file of the index (`is_damage`): rebuild it instead."""


class DamagedIndex(ClippingsError):
    """The index cannot be read even right after it was rebuilt (exit 1)."""

    exit_code = 1


# -- fingerprints -----------------------------------------------------------------------

def fingerprint(rec: Record, link: str = "") -> str:
    """A digest of everything about an entry that is indexed (decoded, crossref resolved,
    and the status of its URL's last check)."""
    data = [rec.type, sorted(rec.fields.items()),
            sorted((name, [str(n) for n in names]) for name, names in rec.names.items()),
            link]
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return strong_hash(raw)


def strong_hash(raw: bytes) -> str:
    """BLAKE2b-128: what every change check of the index is keyed by (never a CRC: two
    texts of a 100,000-entry library share a CRC-32)."""
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def snapshot_stamp(library_folder: Path | str, key: str) -> str:
    """'size:mtime' of the snapshot's text, or '' without one: cheap to compare.

    Plain string paths: this runs for every entry before every search."""
    try:
        st = os.stat(os.path.join(library_folder, snapshots.SNAPSHOTS, snapshots.escaped(key),
                                  TEXT_FILE))
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}"


@dataclass
class BibSnapshot:
    """library.bib as read once: its bytes and one signature of exactly those bytes."""

    raw: bytes
    signature: dict


def read_bib(bib_path: Path, encoding: str = "") -> BibSnapshot:
    """Read library.bib once, with its stat from the same open file before and after the
    read. Writers replace the file (new inode), so the bytes belong to that stat; should
    the file change in place during the read, no stat is recorded and the next check
    compares the digest instead. `encoding`: the setting it is read with."""
    with open(bib_path, "rb") as handle:
        before = os.fstat(handle.fileno())
        raw = handle.read()
        after = os.fstat(handle.fileno())
    stat = _stat_of(before) if _stat_of(before) == _stat_of(after) else None
    return BibSnapshot(raw, bib_signature(stat, strong_hash(raw), encoding))


def bib_signature(stat, digest: str | None, encoding: str = "") -> dict:
    """What an index records of library.bib: its stat and digest, and the `encoding`
    setting it was decoded with when one is set. The bytes alone do not say what a
    library without a coding line decodes to: a change of the setting changes every
    entry, so an index of the old reading is not current."""
    signature = {"stat": stat, "digest": digest}
    if encoding:
        signature["encoding"] = encoding
    return signature


def read_with(bib: dict | None, encoding: str) -> bool:
    """Whether a recorded signature of library.bib was read with the `encoding` setting
    (none recorded: the setting was unset)."""
    return (bib or {}).get("encoding", "") == encoding


def encoding_of(settings) -> str:
    """The `encoding` setting ("" when unset or when no settings are given)."""
    return getattr(settings, "encoding", "") or ""


def snapshots_signature(library_folder: Path) -> list[int] | None:
    """Stat of snapshots/ and of the link results: snapshots/ changes when a snapshot
    folder is added, removed or renamed; links.json when `check` saved results."""
    from ..links_cache import CACHE_FILE
    return [_path_stat(os.path.join(library_folder, snapshots.SNAPSHOTS)),
            _path_stat(os.path.join(library_folder, CACHE_FILE))]


def link_statuses(library_folder: Path) -> dict[tuple[str, str], str]:
    """(key, url) -> status of the last check of the entry's `url` field."""
    from ..links_cache import load
    return {(r.get("key"), r.get("url")): str(r.get("status", ""))
            for r in load(library_folder).values()
            if isinstance(r, dict) and r.get("field", "url") == "url"}


def link_status(links: dict, rec: Record) -> str:
    url = rec.fields.get("url")
    return links.get((rec.key, url), "") if url else ""


def current_state(library_folder: Path, records: dict[str, Record], links: dict
                  ) -> dict[str, list[str]]:
    """key -> [fingerprint, snapshot stamp]: what an index of these records records."""
    return {key: [fingerprint(rec, link_status(links, rec)), snapshot_stamp(library_folder, key)]
            for key, rec in records.items()}


# -- manifest ---------------------------------------------------------------------------

def read_manifest(library_folder: Path) -> dict | None:
    """The small manifest (schema, completeness, signatures), or None."""
    try:
        data = json.loads((index_dir(library_folder) / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "schema" in data else None


def read_entries(library_folder: Path) -> dict | None:
    """key -> [fingerprint, snapshot stamp] of every indexed entry, or None."""
    try:
        data = json.loads((index_dir(library_folder) / ENTRIES).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(library_folder: Path, name: str, data: dict) -> None:
    from ..library import atomic_write
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    atomic_write(index_dir(library_folder) / name, raw)


def _write_manifest(library_folder: Path, data: dict) -> None:
    _write_json(library_folder, MANIFEST, data)


def is_current(bib_path: Path, encoding: str = "") -> bool:
    """True when the index matches library.bib and the snapshots, without parsing the
    library: same schema; library.bib of the same stat, or of the same digest when only
    its stat changed, read with the same `encoding` setting; snapshots/ of the same stat,
    or every snapshot of the same stamp."""
    bib_path = Path(bib_path)
    folder = bib_path.parent
    manifest = read_manifest(folder)
    if not manifest or not manifest.get("complete") or manifest.get("schema") != schema_id():
        return False
    return signatures_match(bib_path, manifest.get("bib"), manifest.get("snapshots"),
                            lambda: read_entries(folder),
                            lambda signature: _refresh_bib(folder, signature), encoding)


def _refresh_bib(folder: Path, signature: dict) -> None:
    """library.bib was only touched (same bytes): record its new stat, so the next
    search does not hash it again. Skipped when an update holds the lock."""
    from filelock import FileLock, Timeout
    try:
        with FileLock(str(Path(folder) / "index" / "search.lock"), timeout=0):
            manifest = read_manifest(folder)
            if manifest and (manifest.get("bib") or {}).get("digest") == \
                    signature["digest"]:
                _write_manifest(folder, {**manifest, "bib": signature})
    except (Timeout, OSError):
        pass


def signatures_match(bib_path: Path, bib: dict | None, snapshots_sig, entries,
                     refresh=None, encoding: str = "") -> bool:
    """library.bib and the snapshots are as recorded: library.bib read with the same
    `encoding` setting and of the same stat (or the same digest when only its stat
    changed; then `refresh(new signature)`), snapshots/ and the link results of the same
    stat, or else every snapshot of the same stamp (`entries()`: key -> [_, stamp])."""
    bib = bib or {}
    if not read_with(bib, encoding):
        return False
    if bib.get("stat") is None or bib["stat"] != _path_stat(bib_path):
        try:
            now = read_bib(bib_path, encoding)
        except OSError:
            return False
        if bib.get("digest") != now.signature["digest"]:
            return False
        if refresh and now.signature["stat"] is not None:
            refresh(now.signature)
    now = snapshots_signature(bib_path.parent)
    if snapshots_sig is not None and snapshots_sig == now:
        return True
    if snapshots_sig is None or snapshots_sig[1] != now[1]:
        return False   # link results changed: a link facet may have changed
    known = entries()
    if known is None:
        return False
    prefix = str(bib_path.parent)
    return all(snapshot_stamp(prefix, key) == entry[1] for key, entry in known.items())


# -- building and updating --------------------------------------------------------------

@contextlib.contextmanager
def _locked(library_folder: Path):
    """One writer at a time; a second `search` waits for the first one's update."""
    from filelock import FileLock, Timeout
    path = Path(library_folder) / "index"
    path.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(path / "search.lock"), timeout=300):
            yield
    except Timeout:
        raise ConflictError(f"the search index in {path} is locked by another clippings "
                            "process; try again",
                            german=f"Der Suchindex in {path} ist von einem anderen "
                                   "clippings-Prozess gesperrt; bitte noch einmal versuchen"
                            ) from None


def open_index(library_folder: Path):
    """The Whoosh index (raises if it is missing or unreadable)."""
    from whoosh import index
    return index.open_dir(str(index_dir(library_folder)), schema=schema())


class _Searchers:
    """Open searchers of one index generation, lent out one caller at a time: a server
    answers each search without reopening the index and re-reading its segments' tables
    (a few milliseconds a request); a new generation (an update) replaces them."""

    def __init__(self, ix, version):
        self.ix = ix
        self.version = version
        self.idle: list = []


def version(library_folder: Path) -> tuple:
    """The index's latest generation and the stat of its table of contents: a rebuild
    starts the generations again, but writes a new file. Found again only when the
    folder changed (a commit adds a table of contents): listing a folder of a few
    hundred segment files on every search cost more than the rest of finding a
    searcher."""
    from whoosh.index import TOC
    from whoosh.filedb.filestore import FileStorage
    folder = index_dir(library_folder)
    try:
        st = os.stat(folder)
        # A folder changed in the last moments may change again within the same tick
        # of the file system's clock (as git's "racy" entries): not cached then.
        racy = time.time_ns() - st.st_mtime_ns < RACY_NS
        stamp = None if racy else (st.st_ino, st.st_mtime_ns)
    except OSError:
        stamp = None
    known = _versions.get(str(folder))
    if stamp is not None and known is not None and known[0] == stamp:
        return known[1]
    generation = TOC._latest_generation(FileStorage(str(folder)), "MAIN")
    try:
        st = os.stat(folder / f"_MAIN_{generation}.toc")
    except OSError:
        return (generation,)
    found = (generation, st.st_ino, st.st_mtime_ns, st.st_size)
    if stamp is not None:
        _versions[str(folder)] = (stamp, found)
    return found


_versions: dict[str, tuple[tuple, tuple]] = {}   # index folder -> (its stat, version)
RACY_NS = 100_000_000


_searchers: dict[str, _Searchers] = {}
_searchers_lock = threading.Lock()
IDLE_SEARCHERS = 8


@contextlib.contextmanager
def searching(library_folder: Path):
    """A BM25F searcher of the index's latest generation, reused between calls."""
    from whoosh import scoring
    key = str(index_dir(library_folder))
    current = version(library_folder)
    with _searchers_lock:
        pool = _searchers.get(key)
        if pool is None or pool.version != current:
            if pool is not None:
                for old in pool.idle:
                    old.close()
            pool = _searchers[key] = _Searchers(open_index(library_folder), current)
        searcher = pool.idle.pop() if pool.idle else None
    if searcher is None:
        searcher = pool.ix.searcher(weighting=scoring.BM25F())
    try:
        yield searcher
    finally:
        with _searchers_lock:
            if _searchers.get(key) is pool and len(pool.idle) < IDLE_SEARCHERS:
                pool.idle.append(searcher)
            else:
                searcher.close()


def _why_rebuild(library_folder: Path, manifest: dict | None, known: dict | None) -> str:
    folder = index_dir(library_folder)
    if manifest is None:
        has_files = folder.is_dir() and any(folder.iterdir())
        return "not a clippings search index" if has_files else "no index yet"
    if manifest.get("schema") != schema_id():
        return "made by another version"
    if not manifest.get("complete"):
        return "an earlier update was interrupted"
    if known is None:
        return "its list of entries is missing"
    try:
        ix = open_index(library_folder)
        with ix.searcher() as searcher:
            searcher.doc_count()
    except Exception:  # any failure to read it means it cannot be trusted
        return UNREADABLE
    return ""


def update(bib_path: Path, records: Iterable[Record] | None = None, *, rebuild: bool = False,
           progress: Progress | None = None, settings=None, procs: int | None = None,
           compare_all: bool = False) -> IndexReport:
    """Bring the index of the library at `bib_path` up to date; returns what changed:
    from the journal's touched entries when it can tell (`_from_journal`), unless
    `compare_all`, else by comparing every entry and snapshot.

    `records` are the library's records (loaded from `bib_path` when not given).
    `progress(done, total)` is called as documents are indexed. A full build of a large
    library runs `procs` writer processes (default: up to 2, one per core).
    """
    bib_path = Path(bib_path)
    with _locked(bib_path.parent):
        reason = "asked for" if rebuild else ""
        if not rebuild and not compare_all:
            try:
                report = _from_journal(bib_path, progress, encoding_of(settings))
            except _Unreadable:
                report, reason = None, UNREADABLE
            if report is not None:
                return report
        return _update(bib_path, records, reason, progress, settings, procs)


def _update(bib_path: Path, records: Iterable[Record] | None, rebuild: str,
            progress: Progress | None, settings=None, procs: int | None = None
            ) -> IndexReport:
    """`update` comparing every entry, under the lock; `rebuild`: why to rebuild the
    index from scratch whatever it holds ("" to rebuild only when it must)."""
    folder = bib_path.parent
    # Signatures first, then the data they describe: a change during the update
    # makes them differ from the files, so the next check updates again.
    snapshots_stat = snapshots_signature(folder)
    if settings is None:
        from ..config import load_settings
        settings = load_settings(folder)
    bib = read_bib(bib_path, encoding_of(settings))
    if records is None:
        from ..library import Library
        records = Library(bib_path, bib.raw, settings).records()
    records = {rec.key: rec for rec in records}
    links = link_statuses(folder)
    current = current_state(folder, records, links)
    manifest = read_manifest(folder)
    known = read_entries(folder)   # a few MB at 100,000 entries: read once
    report = IndexReport(total=len(records),
                         rebuilt=rebuild or _why_rebuild(folder, manifest, known))
    if not report.rebuilt:
        try:
            _incremental(folder, manifest, known, records, links, current, report,
                         progress)
        except _Unreadable:
            report = IndexReport(total=len(records), rebuilt=UNREADABLE)
    if report.rebuilt:
        if procs is None:
            procs = min(2, os.cpu_count() or 1) if len(records) >= PARALLEL_FROM else 1
        _rebuild(folder, records, links, report, progress, procs)
    # Position-free copies of the new segments' long posting lists.
    from . import postings
    postings.write_missing(open_index(folder), progress=progress)
    from .changes import inherits
    inheriting = sum(1 for rec in records.values() if inherits(rec))
    if report.changed or (manifest or {}).get("bib") != bib.signature or \
            manifest.get("snapshots") != snapshots_stat or \
            manifest.get("inheriting") != inheriting:
        _write_json(folder, ENTRIES, current)
        _write_manifest(folder, {"schema": schema_id(), "complete": True,
                                 "bib": bib.signature, "snapshots": snapshots_stat,
                                 "inheriting": inheriting})
    return report


def _from_journal(bib_path: Path, progress: Progress | None, encoding: str = ""
                  ) -> IndexReport | None:
    """The update from `clippings.journal` (see `changes.from_journal`): only the entries
    clippings' own writers touched are decoded and indexed; None when the journal cannot
    tell, and the caller compares everything."""
    from . import changes, postings
    folder = bib_path.parent
    manifest = read_manifest(folder)
    if not manifest or manifest.get("schema") != schema_id() or not manifest.get("complete"):
        return None
    found = changes.from_journal(bib_path, manifest.get("bib"), manifest.get("snapshots"),
                                 manifest.get("inheriting"), encoding)
    known = read_entries(folder) if found is not None else None
    if known is None or _why_rebuild(folder, manifest, known):
        return None     # (a damaged index is rebuilt by the full path)
    links = link_statuses(folder)
    current = {key: value for key, value in known.items() if key not in found.removed}
    current.update(found.current(folder, links))
    report = IndexReport(total=len(current))
    _incremental(folder, manifest, known, found.records, links, current, report, progress)
    postings.write_missing(open_index(folder), progress=progress)
    _write_json(folder, ENTRIES, current)
    _write_manifest(folder, {**manifest, "complete": True, "bib": found.bib,
                             "snapshots": found.snapshots})
    return report


def _rebuild(folder: Path, records: dict[str, Record], links: dict, report: IndexReport,
             progress: Progress | None, procs: int) -> None:
    from whoosh import index
    path = index_dir(folder)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    ix = index.create_in(str(path), schema())
    writer = ix.writer(**_writer_options(procs))
    words: set[str] = set()
    try:
        for done, (key, rec) in enumerate(records.items(), 1):
            report.text_bytes += _add(writer, folder, rec, links, words, update=False)
            report.added.append(key)
            if progress:
                progress(done, len(records))
        vocabulary.note(path, words, start=True)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()


def _incremental(folder: Path, manifest: dict, known: dict, records: dict[str, Record],
                 links: dict, current: dict[str, list[str]], report: IndexReport,
                 progress: Progress | None) -> None:
    diff(known, current, report)
    if not report.changed:
        return
    # Until the commit and the new manifest are both on disk, the index may hold changes
    # the manifest does not know about: mark it, so a crash leads to a rebuild.
    _write_manifest(folder, {**manifest, "complete": False})
    writer = open_index(folder).writer(**_writer_options(1))
    words: set[str] = set()
    try:
        for key in report.removed:
            writer.delete_by_term("key", key)
        todo = report.added + report.updated
        for done, key in enumerate(todo, 1):
            report.text_bytes += _add(writer, folder, records[key], links, words,
                                      update=True)
            if progress:
                progress(done, len(todo))
        # Before the commit: a search that finds the new documents finds their words.
        vocabulary.note(index_dir(folder), words)
    except BaseException as exc:
        writer.cancel()
        # Replacing an entry reads its key's postings: damage `_why_rebuild` cannot see.
        if isinstance(exc, Exception) and is_damage(exc):
            raise _Unreadable(str(exc)) from exc
        raise
    writer.commit()


def diff(known: dict, current: dict, report: IndexReport) -> None:
    """Fill `report` with the keys added, updated and removed between two states."""
    report.removed = [key for key in known if key not in current]
    report.added = [key for key in current if key not in known]
    report.updated = [key for key in current if key in known and known[key] != current[key]]


def _writer_options(procs: int) -> dict:
    # Segments as separate files, not one compound file: readers then map them
    # instead of copying each part into memory, which cost ~25 ms per search.
    options = {"limitmb": 256, "compound": False}
    if procs > 1:
        options.update(procs=procs, multisegment=True, subargs={"compound": False,
                                                                "limitmb": 256})
    return options


def _add(writer, folder: Path, rec: Record, links: dict, words: set[str], update: bool
         ) -> int:
    """Index one entry; its words (those a snippet can show) are added to `words`."""
    text = snapshots.text(folder, rec.key)
    doc = document(rec, text, link_status(links, rec))
    (writer.update_document if update else writer.add_document)(**doc)
    # The transliteration field lists the distinct words of the title and the text.
    words.update(doc.get("translit", "").split(" "))
    # Bytes of text indexed (`text` repeats the other text fields but the title).
    return len((doc.get("title", "") + doc.get("text", "")).encode("utf-8"))


def ensure_current(bib_path: Path, progress: Progress | None = None, settings=None
                   ) -> IndexReport | None:
    """Update the index when it is missing or stale; None when it already was current."""
    if settings is None:
        from ..config import load_settings
        settings = load_settings(Path(bib_path).parent)
    if is_current(Path(bib_path), encoding_of(settings)):
        return None
    return update(Path(bib_path), progress=progress, settings=settings)


def searched(bib_path: Path, search: Callable[[], object],
             progress: Progress | None = None, settings=None
             ) -> tuple[object, IndexReport | None]:
    """(`search()`, the report of the rebuild it needed or None).

    A damaged file of the index (a header, a posting block, a segment file gone) shows
    only when a search reads it, never in the cheap check before (which reads no
    index file): it is caught here, at no cost to a search that succeeds. Under the
    index's lock the search is tried again (a writer may have replaced the index
    meanwhile); if it fails again, the index is rebuilt and the search tried once more.
    An index that fails even then is reported (DamagedIndex), and later searches do not
    rebuild it again until an update changes it."""
    result, damage = _attempt(search)
    if damage is None:
        return result, None
    bib_path = Path(bib_path)
    folder = bib_path.parent
    with _locked(folder):
        result, damage = _attempt(search)
        if damage is None:
            return result, None
        if _rebuilt_in_vain(folder):
            raise _unreadable(folder, damage) from damage
        report = _update(bib_path, None, UNREADABLE, progress, settings)
        result, damage = _attempt(search)
        if damage is None:
            return result, report
        _mark_rebuilt_in_vain(folder)
        raise _unreadable(folder, damage) from damage


# In the manifest: the `version` of an index rebuilt for a search that then failed on it.
REBUILT_IN_VAIN = "unreadable_after_rebuild"


def _attempt(search: Callable[[], object]) -> tuple[object, BaseException | None]:
    """(search(), None), or (None, the error) when it met a damaged index."""
    try:
        return search(), None
    except Exception as exc:
        if not is_damage(exc):
            raise
        return None, exc


def _rebuilt_in_vain(folder: Path) -> bool:
    """This very index was rebuilt for a search that then failed on it all the same."""
    marked = (read_manifest(folder) or {}).get(REBUILT_IN_VAIN)
    return marked is not None and marked == list(version(folder))


def _mark_rebuilt_in_vain(folder: Path) -> None:
    _write_manifest(folder, {**(read_manifest(folder) or {}),
                             REBUILT_IN_VAIN: list(version(folder))})


def _unreadable(folder: Path, damage: BaseException) -> DamagedIndex:
    path = index_dir(folder)
    lines = str(damage).splitlines()
    cause = type(damage).__name__ + (f": {lines[0]}" if lines else "")
    return DamagedIndex(f"the search index in {path} cannot be read even after a rebuild "
                        f"({cause}); `clippings index --rebuild` tries again",
                        german=f"Der Suchindex in {path} ist auch nach dem Neuaufbau "
                               f"nicht lesbar ({cause}); `clippings index --rebuild` "
                               "versucht es noch einmal")


def index_size(library_folder: Path) -> int:
    """Bytes on disk of the search index."""
    path = index_dir(library_folder)
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() \
        else 0
