"""snapshots/KEY/: the saved copy of a clipped page (page.html or document.pdf, text.txt,
meta.json). Never regenerated; moved on rename, deleted only by `rm`.

A key becomes a folder name, so every path is made by `folder()`, which refuses keys that
could leave snapshots/ (`..`, `.`, a leading dot) and proves that the resolved path lies
inside snapshots/ before anything is read, written, moved or deleted. `/` (valid in
DBLP-style keys) is written as `%2F` and `%` as `%25`, so one key is one folder.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import stat
from pathlib import Path

from .errors import UsageError

SNAPSHOTS = "snapshots"


class UnsafeKey(UsageError):
    """A key that cannot safely name a folder under snapshots/."""


@functools.lru_cache(maxsize=65536)   # a search page asks for twenty, page after page
def folder_name(key: str) -> str:
    from .keys import key_problem
    problem = key_problem(key)
    if problem:
        raise UnsafeKey(f"key {key!r} cannot name a snapshot folder: {problem}; "
                        "rename the entry (`clippings rename`)")
    return escaped(key)


def escaped(key: str) -> str:
    """The folder name of a key, unchecked: `/` (DBLP keys) as %2F. Only for reading a
    stat of every entry's snapshot, where `folder_name`'s check would cost more than the
    stat; anything that opens or changes a snapshot goes through `folder`."""
    return key.replace("%", "%25").replace("/", "%2F")


def folder(library_folder: Path, key: str) -> Path:
    """snapshots/KEY as a path proven to lie inside snapshots/ (else UnsafeKey)."""
    return Path(_proven(library_folder, key))


def _proven(library_folder, key: str) -> str:
    """`folder` as a plain string path (a search page reads twenty snapshots: Path
    objects cost more than the check)."""
    root = os.path.join(library_folder, SNAPSHOTS)
    path = os.path.join(root, folder_name(key))
    # The name has no separator and is neither '.' nor '..' (folder_name), so the path is
    # a child of snapshots/ unless it is a symlink: one lstat tells (resolving each path
    # walked every component).
    try:
        is_link = stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        is_link = False    # nothing there (yet)
    if is_link:
        real_root = Path(root).resolve()
        real = Path(path).resolve()
        if real.parent != real_root:
            # A symlinked snapshot folder pointing elsewhere is not ours to touch either.
            raise UnsafeKey(f"snapshot folder of {key!r} resolves to {real}, outside "
                            f"{real_root}; nothing there is touched")
    return path


def has_snapshot(library_folder: Path, key: str) -> bool:
    return _existing(library_folder, key) is not None


def _existing(library_folder: Path, key: str) -> Path | None:
    """snapshots/KEY when the key has a snapshot folder there, else None."""
    try:
        path = folder(library_folder, key)
    except UnsafeKey:
        return None
    return path if path.is_dir() else None


def info(library_folder: Path, key: str) -> dict | None:
    """What the snapshot holds (files, and meta.json's content), or None."""
    path = _existing(library_folder, key)
    if path is None:
        return None
    meta = {}
    meta_file = path / "meta.json"
    if meta_file.is_file():
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            meta = {}
    return {"path": str(path), "files": sorted(p.name for p in path.iterdir()), "meta": meta}


def text(library_folder: Path, key: str, limit: int = -1) -> str | None:
    """The snapshot's extracted main text, if there is one (its first `limit`
    characters when given)."""
    try:
        with open(os.path.join(_proven(library_folder, key), "text.txt"),
                  encoding="utf-8") as file:
            return file.read(limit)
    except (UnsafeKey, OSError, UnicodeDecodeError):
        return None


def move(library_folder: Path, old: str, new: str) -> bool:
    """Move snapshots/OLD to snapshots/NEW; False when OLD has none (or cannot have one)."""
    dst = folder(library_folder, new)
    src = _existing(library_folder, old)
    if src is None:
        return False
    if dst.exists():
        raise FileExistsError(f"{dst} already exists")
    src.rename(dst)
    return True


def remove(library_folder: Path, key: str) -> bool:
    path = _existing(library_folder, key)
    if path is None:
        return False
    if path.is_symlink():
        path.unlink()
    else:
        shutil.rmtree(path)
    return True
