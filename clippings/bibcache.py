"""Caches of library.bib in index/ (derived data: delete index/ at any time).

- `bib-structure.marshal`: where every entry starts and ends, keyed by a signature of the
  file's bytes (size + CRC-32), so a command about one entry reads only that entry.
- `bib-records.marshal`: decoded entries keyed by the CRC-32 of their own text, so
  whole-library commands decode only the entries that changed since the last run.

marshal is used because it is the fastest loader of plain Python data in the standard
library; a cache from another Python version or a damaged one is simply ignored.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import tempfile
import zlib
from pathlib import Path
from typing import Callable

from .model import Name, Record

VERSION = 1
STRUCTURE = "bib-structure.marshal"
RECORDS = "bib-records.marshal"
REWRITE_AFTER_MISSES = 64   # fewer new entries are decoded each time rather than re-saved


def signature(raw: bytes) -> tuple[int, int]:
    return len(raw), zlib.crc32(raw)


def _index(folder: Path) -> Path:
    return Path(folder) / "index"


def _read(path: Path):
    try:
        with open(path, "rb") as handle:
            return marshal.load(handle)
    except (OSError, EOFError, ValueError, TypeError):
        return None


def _write(path: Path, data) -> None:
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


def load_structure(folder: Path, sig: tuple[int, int]):
    data = _read(_index(folder) / STRUCTURE)
    if not isinstance(data, dict) or data.get("version") != VERSION or \
            tuple(data.get("signature", ())) != tuple(sig):
        return None
    return data["keys"], [tuple(s) for s in data["spans"]], data["macros"]


def save_structure(folder: Path, sig, keys: list[str], spans, macros: dict) -> None:
    _write(_index(folder) / STRUCTURE, {"version": VERSION, "signature": list(sig),
                                        "keys": keys, "spans": [list(s) for s in spans],
                                        "macros": macros})


def _pack(rec: Record) -> tuple:
    return (rec.key, rec.type, rec.fields,
            {k: [(n.family, n.given, n.prefix, n.suffix, n.literal) for n in v]
             for k, v in rec.names.items()})


def _unpack(data: tuple) -> Record:
    key, kind, fields, names = data
    return Record(kind, dict(fields), {k: [Name(*n) for n in v] for k, v in names.items()},
                  key)


def records(folder: Path, texts: list[str], parse: Callable[[str], object]) -> list[Record]:
    """Decoded records for entry texts, from the cache where the text is unchanged."""
    from .bibfile import block_record
    path = _index(folder) / RECORDS
    data = _read(path)
    cache = data["entries"] if isinstance(data, dict) and data.get("version") == VERSION \
        else {}
    out, fresh = [], {}
    misses = 0
    for text in texts:
        crc = zlib.crc32(text.encode("utf-8", "surrogatepass"))
        packed = cache.get(crc)
        if packed is None:
            misses += 1
            rec = block_record(parse(text))
            packed = _pack(rec)
        fresh[crc] = packed
        out.append(_unpack(packed))
    if misses >= REWRITE_AFTER_MISSES or (misses and len(texts) < 5000) or \
            len(fresh) < len(cache) // 2:
        _write(path, {"version": VERSION, "entries": fresh})
    return out


def load_derived(folder: Path, name: str, sig: tuple[int, int]):
    """A pickled result derived from the whole file (lint findings, duplicate index)."""
    import pickle
    try:
        with open(_index(folder) / f"{name}.pickle", "rb") as handle:
            data = pickle.load(handle)
    except Exception:  # missing, damaged or from another version: recompute
        return None
    if not isinstance(data, dict) or data.get("version") != _derived_version() or \
            tuple(data.get("signature", ())) != tuple(sig):
        return None
    return data["value"]


def _derived_version() -> str:
    # Derived results change with the code that derives them, not only with the file.
    from . import __version__
    return f"{VERSION}-{__version__}"


def save_derived(folder: Path, name: str, sig: tuple[int, int], value) -> None:
    import pickle
    with contextlib.suppress(OSError):
        path = _index(folder) / f"{name}.pickle"
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump({"version": _derived_version(), "signature": list(sig),
                         "value": value},
                        handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
