"""Work waiting between two requests: fetched sources until the editor confirms them,
and batch jobs with their progress. Kept as files in `index/web-pending/`, so that with
`serve --workers N` the worker that shows a proposal (or a batch's progress) need not be
the one that fetched it.

Each file is a pickle signed with the server's session key (HMAC-SHA256): a file that
anyone else wrote or changed is never unpickled. Files older than an hour are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import re
import time
import uuid
from pathlib import Path

PENDING_DIR = Path("index") / "web-pending"
_IDENT = re.compile(r"^[0-9a-f]{32}$")


class Expired(LookupError):
    """No such proposal or batch (never made, taken already, older than an hour, or
    someone else's)."""


class Pending:
    TTL = 3600

    def __init__(self, library_folder: Path, key: str):
        self.folder = Path(library_folder) / PENDING_DIR
        self.key = hashlib.sha256(("pending:" + key).encode("utf-8")).digest()

    def _path(self, ident: str) -> Path:
        if not _IDENT.match(ident or ""):
            raise Expired(ident)
        return self.folder / f"{ident}.pickle"

    def put(self, owner: str, value) -> str:
        ident = uuid.uuid4().hex
        self._prune()
        self.update(ident, owner, value)
        return ident

    def update(self, ident: str, owner: str, value) -> None:
        """Save `value` under `ident` (a batch saves its progress after each source)."""
        from ..library import atomic_write
        self.folder.mkdir(parents=True, exist_ok=True)
        body = pickle.dumps((owner, value), protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write(self._path(ident), hmac.new(self.key, body, "sha256").digest() + body)

    def get(self, ident: str, owner: str):
        path = self._path(ident)
        try:
            raw = path.read_bytes()
            age = time.time() - path.stat().st_mtime
        except OSError:
            raise Expired(ident) from None
        mac, body = raw[:32], raw[32:]
        if age > self.TTL or not hmac.compare_digest(
                mac, hmac.new(self.key, body, "sha256").digest()):
            raise Expired(ident)
        try:
            who, value = pickle.loads(body)
        except Exception:   # noqa: BLE001 - written by an older version of clippings
            raise Expired(ident) from None
        if who != owner:
            raise Expired(ident)
        return value

    def drop(self, ident: str) -> None:
        with contextlib.suppress(OSError, Expired):
            self._path(ident).unlink()

    def _prune(self) -> None:
        cutoff = time.time() - self.TTL
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.folder):
                with contextlib.suppress(OSError):
                    if entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)
