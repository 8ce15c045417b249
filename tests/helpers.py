"""Small helpers shared by the tests: run the CLI in-process or as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from clippings.cli import main

REPO = Path(__file__).resolve().parent.parent
REALBIBS = REPO.parent / "shared" / "realbibs"


def run(*args: str, library: Path | None = None, input: str | None = None, env=None):
    """Invoke `clippings ARGS` in-process; returns click's Result."""
    argv = (["--library", str(library)] if library else []) + list(args)
    return CliRunner().invoke(main, argv, input=input, env=env, catch_exceptions=False)


def run_process(*args: str, cwd: Path | None = None, env: dict | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `python -m clippings ARGS` as a separate process."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "clippings", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def real_records():
    """(file-stem/key, Record) pairs of every real-world .bib file clippings can load.

    Skips the calling test when ../shared/realbibs is not beside the checkout.
    """
    import pytest
    from clippings.errors import BibSyntaxError
    from clippings.library import Library
    if not REALBIBS.is_dir():
        pytest.skip("../shared/realbibs not present")
    pairs = []
    for path in sorted(REALBIBS.glob("*.bib")):
        try:
            lib = Library(path, path.read_bytes(), _settings(), use_cache=False)
        except BibSyntaxError:   # the deliberately broken files are the loader's business
            continue
        for rec in _records(lib):
            pairs.append((f"{path.stem}/{rec.key}", rec))
    return pairs


def _settings():
    from clippings.config import Settings
    return Settings()


def _records(lib):
    from clippings import bibfile
    return [bibfile.block_record(b) for b in lib.blocks if b.kind == "entry"]


def small_library(folder: Path, bib_text: str, postgres_url: str | None = None) -> Path:
    """library.bib with `bib_text` in a new `folder`, a snapshot for the entry `beta`, and
    with `postgres_url` a clippings.toml choosing that backend (a schema of its own)."""
    folder.mkdir(parents=True)
    bib = folder / "library.bib"
    bib.write_text(bib_text, "utf-8")
    snap = folder / "snapshots" / "beta"
    snap.mkdir(parents=True)
    (snap / "text.txt").write_text("Die Delegation besuchte das Rathaus.", "utf-8")
    if postgres_url:
        schema = f"s_{folder.parent.name[-40:]}_{folder.name}"[:63]
        (folder / "clippings.toml").write_text(
            f'search_backend = "{postgres_url}"\nsearch_schema = "{schema}"\n', "utf-8")
    return bib
