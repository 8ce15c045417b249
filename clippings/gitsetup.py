"""Team work in git: register the library.bib merge driver in a repository.

`.gitattributes` travels with the repository, but git never takes a merge driver's
command from a clone (it would run code on `git pull`), so every member runs
`clippings git-setup` once in their clone; the command is idempotent.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from .errors import UsageError

ATTRIBUTES = (
    # The merge driver, and git's built-in BibTeX hunk headers for diffs.
    "library.bib merge=clippings diff=bibtex",
    # Snapshots are saved pages: their diffs are noise in `git log -p`.
    "snapshots/** -diff",
)
DRIVER_NAME = "clippings: BibTeX entry-by-entry merge of library.bib"


def driver_command() -> str:
    """The driver as this installation runs it (works without an activated venv)."""
    return f"{shlex.quote(sys.executable)} -m clippings merge-driver %O %A %B %P"


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True)
    except FileNotFoundError:
        raise UsageError("git is not installed (or not on PATH)") from None


def repository_of(folder: Path) -> Path | None:
    """The top folder of the git work tree holding `folder`, or None."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    try:
        proc = _git(folder, "rev-parse", "--show-toplevel")
    except UsageError:
        return None
    return Path(proc.stdout.strip()) if proc.returncode == 0 else None


def setup(folder: Path, command: str | None = None) -> list[str]:
    """Write .gitattributes and the driver config for the library in `folder`.

    Returns what was done, one line per change ("already set up" when nothing was)."""
    folder = Path(folder)
    if repository_of(folder) is None:
        raise UsageError(f"{folder} is not inside a git repository (run `git init` first)")
    done = []
    attributes = folder / ".gitattributes"
    text = attributes.read_text(encoding="utf-8") if attributes.exists() else ""
    present = {line.strip() for line in text.splitlines()}
    missing = [line for line in ATTRIBUTES if line not in present]
    if missing:
        if text and not text.endswith("\n"):
            text += "\n"
        attributes.write_text(text + "".join(line + "\n" for line in missing),
                              encoding="utf-8")
        done += [f"{attributes}: added '{line}'" for line in missing]
    wanted = {"merge.clippings.name": DRIVER_NAME,
              "merge.clippings.driver": command or driver_command()}
    for name, value in wanted.items():
        current = _git(folder, "config", "--local", "--get", name).stdout.rstrip("\n")
        if current == value:
            continue
        proc = _git(folder, "config", "--local", name, value)
        if proc.returncode != 0:
            raise UsageError(f"git config {name} failed: {proc.stderr.strip()}")
        verb = "changed" if current else "set"
        done.append(f"git config: {verb} {name} = {value}")
    return done or [f"{folder}: already set up for merging library.bib in git"]


__all__ = ["setup", "repository_of", "driver_command", "ATTRIBUTES"]
