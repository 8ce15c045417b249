"""The search index in <library>/index/search/: build it, keep it up to date, open it.

The index is derived data. `manifest.json` beside the Whoosh files records the schema it
was written with, the stat of library.bib, and for every entry a fingerprint of its
decoded fields plus a stamp (size, mtime) of its snapshot text. An update re-indexes only
the entries whose fingerprint or stamp changed and drops the entries that are gone; an
index that is missing, half-written, corrupt or of another schema is rebuilt from scratch.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .. import snapshots
from ..errors import ConflictError
from ..model import Record
from .schema import SCHEMA_VERSION, document, make_schema

SEARCH_DIR = Path("index") / "search"
MANIFEST = "manifest.json"
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
    for path in (analysis.__file__, decompound.__file__, textnorm.__file__,
                 decompound.DATA_FILE, places.__file__, places.PLACES_DATA):
        with contextlib.suppress(OSError):
            digest.update(Path(path).read_bytes())
    engine = ".".join(map(str, getattr(whoosh, "__version__", ()) or ()))
    return f"{SCHEMA_VERSION}/{digest.hexdigest()[:12]}/{engine}"


def read_errors() -> tuple[type[BaseException], ...]:
    """What reading a damaged index raises (as opposed to a bug in the code)."""
    import pickle
    import struct
    import zlib

    from whoosh.index import IndexError as WhooshIndexError
    return (OSError, EOFError, ValueError, KeyError, IndexError, struct.error, zlib.error,
            pickle.UnpicklingError, WhooshIndexError)


# -- fingerprints -----------------------------------------------------------------------

def fingerprint(rec: Record) -> str:
    """A digest of everything about an entry that is indexed (decoded, crossref resolved)."""
    data = [rec.type, sorted(rec.fields.items()),
            sorted((name, [str(n) for n in names]) for name, names in rec.names.items())]
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha1(raw).hexdigest()[:20]


def snapshot_stamp(library_folder: Path | str, key: str) -> str:
    """'size:mtime' of the snapshot's text, or '' without one: cheap to compare.

    Plain string paths: this runs for every entry before every search."""
    try:
        st = os.stat(os.path.join(library_folder, snapshots.SNAPSHOTS, key, TEXT_FILE))
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}"


def _bib_stat(bib_path: Path) -> dict:
    st = bib_path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _bib_digest(bib_path: Path) -> str:
    return hashlib.sha1(bib_path.read_bytes()).hexdigest()


# -- manifest ---------------------------------------------------------------------------

def read_manifest(library_folder: Path) -> dict | None:
    try:
        data = json.loads((index_dir(library_folder) / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("entries"), dict) \
        else None


def _write_manifest(library_folder: Path, data: dict) -> None:
    from ..library import atomic_write
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    atomic_write(index_dir(library_folder) / MANIFEST, raw)


def is_current(bib_path: Path) -> bool:
    """True when the index matches library.bib and every snapshot, without parsing the
    library: same schema, same library.bib (stat, or content when only touched), same
    snapshot stamps."""
    folder = bib_path.parent
    manifest = read_manifest(folder)
    if not manifest or not manifest.get("complete") or manifest.get("schema") != schema_id():
        return False
    bib = manifest.get("bib", {})
    now = _bib_stat(bib_path)
    if (bib.get("size"), bib.get("mtime_ns")) != (now["size"], now["mtime_ns"]):
        if bib.get("size") != now["size"] or bib.get("sha1") != _bib_digest(bib_path):
            return False
    prefix = str(folder)
    return all(snapshot_stamp(prefix, key) == entry[1]
               for key, entry in manifest["entries"].items())


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
                            "process; try again") from None


def open_index(library_folder: Path):
    """The Whoosh index (raises if it is missing or unreadable)."""
    from whoosh import index
    return index.open_dir(str(index_dir(library_folder)), schema=schema())


def _why_rebuild(library_folder: Path, manifest: dict | None) -> str:
    folder = index_dir(library_folder)
    if manifest is None:
        has_files = folder.is_dir() and any(folder.iterdir())
        return "not a clippings search index" if has_files else "no index yet"
    if manifest.get("schema") != schema_id():
        return "made by another version"
    if not manifest.get("complete"):
        return "an earlier update was interrupted"
    try:
        ix = open_index(library_folder)
        with ix.searcher() as searcher:
            searcher.doc_count()
    except Exception:  # any failure to read it means it cannot be trusted
        return "unreadable (corrupt)"
    return ""


def update(bib_path: Path, records: Iterable[Record] | None = None, *, rebuild: bool = False,
           progress: Progress | None = None, settings=None, procs: int | None = None
           ) -> IndexReport:
    """Bring the index of the library at `bib_path` up to date; returns what changed.

    `records` are the library's records (loaded from `bib_path` when not given).
    `progress(done, total)` is called as documents are indexed. A full build of a large
    library runs `procs` writer processes (default: up to 2, one per core).
    """
    bib_path = Path(bib_path)
    folder = bib_path.parent
    with _locked(folder):
        stat = _bib_stat(bib_path)
        if records is None:
            from ..library import Library
            records = Library.load(bib_path, settings).records()
        records = {rec.key: rec for rec in records}
        current = {key: [fingerprint(rec), snapshot_stamp(folder, key)]
                   for key, rec in records.items()}
        manifest = read_manifest(folder)
        reason = "asked for" if rebuild else _why_rebuild(folder, manifest)
        report = IndexReport(total=len(records), rebuilt=reason)
        if reason:
            if procs is None:
                procs = min(2, os.cpu_count() or 1) if len(records) >= PARALLEL_FROM else 1
            _rebuild(folder, records, report, progress, procs)
        else:
            _incremental(folder, manifest, records, current, report, progress)
        _write_manifest(folder, {"schema": schema_id(), "complete": True,
                                 "bib": {**stat, "sha1": _bib_digest(bib_path)},
                                 "entries": current})
        return report


def _rebuild(folder: Path, records: dict[str, Record], report: IndexReport,
             progress: Progress | None, procs: int) -> None:
    from whoosh import index
    path = index_dir(folder)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    ix = index.create_in(str(path), schema())
    writer = ix.writer(**_writer_options(procs))
    try:
        for done, (key, rec) in enumerate(records.items(), 1):
            report.text_bytes += _add(writer, folder, rec, update=False)
            report.added.append(key)
            if progress:
                progress(done, len(records))
    except BaseException:
        writer.cancel()
        raise
    writer.commit()


def _incremental(folder: Path, manifest: dict, records: dict[str, Record],
                 current: dict[str, list[str]], report: IndexReport,
                 progress: Progress | None) -> None:
    known = manifest["entries"]
    report.removed = [key for key in known if key not in current]
    report.added = [key for key in current if key not in known]
    report.updated = [key for key in current if key in known and known[key] != current[key]]
    if not report.changed:
        return
    # Until the commit and the new manifest are both on disk, the index may hold changes
    # the manifest does not know about: mark it, so a crash leads to a rebuild.
    _write_manifest(folder, {**manifest, "complete": False})
    writer = open_index(folder).writer(**_writer_options(1))
    try:
        for key in report.removed:
            writer.delete_by_term("key", key)
        todo = report.added + report.updated
        for done, key in enumerate(todo, 1):
            report.text_bytes += _add(writer, folder, records[key], update=True)
            if progress:
                progress(done, len(todo))
    except BaseException:
        writer.cancel()
        raise
    writer.commit()


def _writer_options(procs: int) -> dict:
    # Segments as separate files, not one compound file: readers then map them
    # instead of copying each part into memory, which cost ~25 ms per search.
    options = {"limitmb": 256, "compound": False}
    if procs > 1:
        options.update(procs=procs, multisegment=True, subargs={"compound": False,
                                                                "limitmb": 256})
    return options


def _add(writer, folder: Path, rec: Record, update: bool) -> int:
    text = snapshots.text(folder, rec.key)
    doc = document(rec, text)
    (writer.update_document if update else writer.add_document)(**doc)
    # Bytes of text indexed (`text` repeats the other text fields but the title).
    return len((doc.get("title", "") + doc.get("text", "")).encode("utf-8"))


def ensure_current(bib_path: Path, progress: Progress | None = None, settings=None
                   ) -> IndexReport | None:
    """Update the index when it is missing or stale; None when it already was current."""
    if is_current(Path(bib_path)):
        return None
    return update(Path(bib_path), progress=progress, settings=settings)


def index_size(library_folder: Path) -> int:
    """Bytes on disk of the search index."""
    path = index_dir(library_folder)
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() \
        else 0
