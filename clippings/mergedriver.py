"""git's merge driver for library.bib: read the three files, merge, write ours.

When the entry-by-entry merge cannot be done (a version does not load, or anything goes
wrong), git's own line merge takes over and the user is told why; its result counts as
clean only if it loads, so a broken library.bib is never committed silently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import BibSyntaxError
from .gitmerge import MergeError, conflict_marker_lines, git, line_merge, merge_texts, \
    read_side


@dataclass
class DriverOutcome:
    clean: bool
    messages: list[str]
    fell_back: bool = False


def merge_files(ancestor: Path, ours: Path, theirs: Path, path: str = "library.bib",
                encoding: str = "", library_folder: Path | None = None) -> DriverOutcome:
    """What git's merge driver does: merge into `ours` (the file git hands us)."""
    from .library import decode_bib
    raw = {name: Path(p).read_bytes() for name, p in
           (("base", ancestor), ("ours", ours), ("theirs", theirs))}
    try:
        texts, encodings = {}, {}
        for name, data in raw.items():
            try:
                texts[name], encodings[name] = decode_bib(data, path, encoding)
            except BibSyntaxError as exc:
                raise MergeError(f"{name}: {exc}") from None
        if len(set(encodings.values())) > 1:
            raise MergeError("the three versions are in different encodings ("
                             + ", ".join(f"{k}: {v}" for k, v in encodings.items()) + ")")
        result = merge_texts(texts["base"], texts["ours"], texts["theirs"], path)
        data = result.text.encode(encodings["ours"])
    except (MergeError, UnicodeEncodeError) as exc:
        return _fall_back(raw, ours, path, str(exc), encoding)
    except Exception as exc:   # a bug must not lose work: git's line merge instead
        return _fall_back(raw, ours, path, f"internal error: {type(exc).__name__}: {exc}",
                          encoding)
    _write(Path(ours), data)
    messages = [f"{path}: {m}" for m in result.notes]
    if library_folder is not None:
        messages += _move_snapshots(library_folder, result.renames)
    messages += [f"{path}: conflict: {c}" for c in result.conflicts]
    return DriverOutcome(result.clean, messages)


def _fall_back(raw: dict, ours: Path, path: str, why: str, encoding: str) -> DriverOutcome:
    from .library import decode_bib
    data, conflicts = line_merge(raw["ours"], raw["base"], raw["theirs"])
    _write(Path(ours), data)
    messages = [f"{path}: cannot merge entry by entry ({why}); used git's line merge"]
    if conflicts:
        messages.append(f"{path}: conflict: {conflicts} conflicting line region(s)")
        return DriverOutcome(False, messages, fell_back=True)
    try:   # a clean line merge is accepted only if the result loads
        text, _ = decode_bib(data, path, encoding)
        side = read_side("result", text, path)
        del side
        lines = conflict_marker_lines(text)
        if lines:
            raise MergeError(f"{path}:{lines[0]}: unresolved merge conflict marker")
    except (BibSyntaxError, MergeError) as exc:
        messages.append(f"{path}: conflict: the line-merged file does not load ({exc}); "
                        "fix it before committing")
        return DriverOutcome(False, messages, fell_back=True)
    return DriverOutcome(True, messages, fell_back=True)


def _write(path: Path, data: bytes) -> None:
    """Into git's temporary file for ours (git reads it back; no fsync needed)."""
    with open(path, "wb") as handle:
        handle.write(data)


def _move_snapshots(folder: Path, renames: list[tuple[str, str]]) -> list[str]:
    """Snapshot folders follow keys the merge renamed, in ours' working tree.

    When theirs' commit already holds snapshots/NEW (it renamed the folder itself), git
    moves the files; the driver moves only what git would leave behind under the old key.
    """
    from . import snapshots
    messages = []
    for old, new in renames:
        src, dst = snapshots.folder(folder, old), snapshots.folder(folder, new)
        if not src.is_dir() or dst.exists():
            continue
        where = (Path(folder) / "snapshots" / new).as_posix()
        known = _in_theirs_tree(where.removeprefix("./"))
        if known is None:
            messages.append(f"snapshots/{old} belongs to '{new}' now: move it with "
                            f"git mv snapshots/{old} snapshots/{new}")
        elif not known:
            src.rename(dst)
            messages.append(f"moved snapshots/{old} to snapshots/{new} "
                            f"(commit it with: git add -A snapshots)")
    return messages


def _in_theirs_tree(path: str) -> bool | None:
    """Whether the commit being merged holds `path` (None: not known, e.g. a rebase)."""
    heads = [k[len("GITHEAD_"):] for k in os.environ if k.startswith("GITHEAD_")]
    if len(heads) != 1:
        return None
    proc = git(["ls-tree", "-d", "--name-only", heads[0], "--", path])
    if proc.returncode != 0:
        return None
    return bool(proc.stdout.strip())


__all__ = ["merge_files", "DriverOutcome"]
