"""Caches of library.bib in index/ (derived data: delete index/ at any time).

- `bib-structure.marshal`: where every entry and every @string definition starts and
  ends, keyed by a signature of the file (size + SHA-256 of its bytes, and the encoding
  they were read in: positions count characters), so a command about one entry reads
  only that entry.
- `bib-records.marshal`: decoded entries keyed by a BLAKE2b digest of everything they were
  decoded from: the entry's own text and the @string macros in force where it stands
  (see `Library.entry_digest`), so whole-library commands decode only what changed.

Every key is a cryptographic digest, never a CRC: two different entries with the same
CRC-32 are common in a library of 100,000 (a birthday collision), and a cache keyed by it
shows one entry's data for another. Crossref/xdata inheritance is applied after the
cache, so a parent's change never needs the child's cache entry to change. Each cache
here also records the version of clippings that made it, so text that a fixed parser
reads differently is read again.

marshal is used because it is the fastest loader of plain Python data in the standard
library; a cache from another Python version or a damaged one is simply ignored.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import tempfile
import hashlib
from array import array
from pathlib import Path
from typing import Callable

from .model import Name, Record

VERSION = 3
STRUCTURE = "bib-structure.marshal"
RECORDS = "bib-records.marshal"
REWRITE_AFTER_MISSES = 64   # fewer new entries are decoded each time rather than re-saved


def signature(raw: bytes, encoding: str) -> tuple[int, str, str]:
    """Size and SHA-256 (128 bits shown) of the file, and the encoding it is read in (the
    same bytes are other text in another encoding). SHA-256 runs in hardware on current
    CPUs: 30 MB took 91 ms here against BLAKE2b's 234 ms (one timing, loaded machine)."""
    return len(raw), hashlib.sha256(raw).hexdigest()[:32], encoding


def text_digest(text: str, context: bytes = b"") -> bytes:
    """BLAKE2b-128 of an entry's text (and of what else it was decoded with)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass") + context,
                           digest_size=16).digest()


def _index(folder: Path) -> Path:
    return Path(folder) / "index"


@contextlib.contextmanager
def no_gc():
    """Pause the cyclic garbage collector while building many small objects.

    Loading 50,000 cached entries creates about a million objects; without this the
    collector runs dozens of times over them and loading takes four times longer.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()   # what was built stays: keep later collections from re-scanning it
            gc.enable()


def read_data(path: Path):
    try:
        with open(path, "rb") as handle, no_gc():
            return marshal.load(handle)
    except (OSError, EOFError, ValueError, TypeError):
        return None


def write_data(path: Path, data) -> None:
    """Best effort: a read-only folder just means no cache."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                marshal.dump(data, handle)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


class SpanTable:
    """(start, end, line) of every entry, kept flat in an array: 50,000 load in ~1 ms."""

    def __init__(self, flat: array | None = None):
        self.flat = flat if flat is not None else array("q")

    def __len__(self) -> int:
        return len(self.flat) // 3

    def __getitem__(self, i: int) -> tuple[int, int, int]:
        return self.flat[3 * i], self.flat[3 * i + 1], self.flat[3 * i + 2]

    def __iter__(self):
        flat = self.flat
        return (tuple(flat[i:i + 3]) for i in range(0, len(flat), 3))

    def append(self, span: tuple[int, int, int]) -> None:
        self.flat.extend(span)


def cache_version() -> str:
    """The caches' format and the code that filled them: a new parser or decoder may read
    the same text differently."""
    from . import __version__
    return f"{VERSION}-{__version__}"


def load_structure(folder: Path, sig: tuple[int, str, str]):
    data = read_data(_index(folder) / STRUCTURE)
    if not isinstance(data, dict) or data.get("version") != cache_version() or \
            tuple(data.get("signature", ())) != tuple(sig):
        return None
    flat = array("q")
    flat.frombytes(data["spans"])
    keys = data["keys"].split("\n") if data["keys"] else []
    return keys, SpanTable(flat), [tuple(d) for d in data["macro_defs"]]


def save_structure(folder: Path, sig, keys: list[str], spans: SpanTable,
                   macro_defs: list[tuple[int, str, str]]) -> None:
    # Keys never contain a line break (the scanner stops a key at white space).
    write_data(_index(folder) / STRUCTURE, {"version": cache_version(),
                                        "signature": list(sig),
                                        "keys": "\n".join(keys),
                                        "spans": spans.flat.tobytes(),
                                        "macro_defs": [list(d) for d in macro_defs]})


def pack_record(rec: Record) -> tuple:
    return (rec.key, rec.type, rec.fields,
            {k: [(n.family, n.given, n.prefix, n.suffix, n.literal) for n in v]
             for k, v in rec.names.items()})


def unpack_record(data: tuple) -> Record:
    key, kind, fields, names = data
    make = Name._make
    return Record(kind, fields, {k: list(map(make, v)) for k, v in names.items()}, key)


def records(folder: Path, digests: list[bytes], parse: Callable[[int], object]
            ) -> list[Record]:
    """Decoded records for entries, from the cache where their digest is known.

    `digests[i]` identifies everything entry i is decoded from; `parse(i)` gives its
    parsed block (called only on a cache miss).
    """
    path = _index(folder) / RECORDS
    data = read_data(path)
    version = cache_version()
    cache = data["entries"] if isinstance(data, dict) and data.get("version") == version \
        else {}
    out, fresh = [], {}
    with no_gc():
        _decode_all(digests, cache, parse, out, fresh)
    misses = len(fresh) - sum(1 for d in fresh if d in cache)
    if misses >= REWRITE_AFTER_MISSES or (misses and len(digests) < 5000) or \
            len(fresh) < len(cache) // 2:
        write_data(path, {"version": version, "entries": fresh})
    return out


def _decode_all(digests, cache, parse, out, fresh) -> None:
    from .bibfile import block_record
    for i, digest in enumerate(digests):
        packed = cache.get(digest)
        if packed is None:
            packed = pack_record(block_record(parse(i)))
        fresh[digest] = packed
        out.append(unpack_record(packed))


def load_derived(folder: Path, name: str, sig: tuple[int, str, str]):
    """A pickled result derived from the whole file (lint findings, duplicate index)."""
    import pickle
    try:
        with open(_index(folder) / f"{name}.pickle", "rb") as handle, no_gc():
            data = pickle.load(handle)
    except Exception:  # missing, damaged or from another version: recompute
        return None
    if not isinstance(data, dict) or data.get("version") != cache_version() or \
            tuple(data.get("signature", ())) != tuple(sig):
        return None
    return data["value"]


def save_derived(folder: Path, name: str, sig: tuple[int, str, str], value) -> None:
    import pickle
    with contextlib.suppress(OSError):
        path = _index(folder) / f"{name}.pickle"
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump({"version": cache_version(), "signature": list(sig),
                         "value": value},
                        handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
