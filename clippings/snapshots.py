"""snapshots/KEY/: the saved copy of a clipped page (page.html or document.pdf, text.txt,
meta.json). Never regenerated; moved on rename, deleted only by `rm`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

SNAPSHOTS = "snapshots"


def folder(library_folder: Path, key: str) -> Path:
    return Path(library_folder) / SNAPSHOTS / key


def info(library_folder: Path, key: str) -> dict | None:
    """What the snapshot holds (files, and meta.json's content), or None."""
    path = folder(library_folder, key)
    if not path.is_dir():
        return None
    meta = {}
    meta_file = path / "meta.json"
    if meta_file.is_file():
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            meta = {}
    return {"path": str(path), "files": sorted(p.name for p in path.iterdir()), "meta": meta}


def text(library_folder: Path, key: str) -> str | None:
    """The snapshot's extracted main text, if there is one."""
    path = folder(library_folder, key) / "text.txt"
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def move(library_folder: Path, old: str, new: str) -> bool:
    src, dst = folder(library_folder, old), folder(library_folder, new)
    if not src.is_dir():
        return False
    if dst.exists():
        raise FileExistsError(f"{dst} already exists")
    src.rename(dst)
    return True


def remove(library_folder: Path, key: str) -> bool:
    path = folder(library_folder, key)
    if not path.is_dir():
        return False
    shutil.rmtree(path)
    return True
