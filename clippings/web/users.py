"""Editor accounts of the web interface: `web-users.json` beside library.bib.

Passwords are stored as scrypt hashes (hashlib, no extra dependency), each with its own
salt; the file also holds the key that signs session cookies and each user's bookmarklet
token. It is written atomically with mode 0600.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from pathlib import Path

from ..errors import UsageError

USERS_FILE = "web-users.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
# scrypt cost: n=2**14, r=8 takes ~50 ms and 16 MB, OWASP's minimum for scrypt.
_N, _R, _P = 2 ** 14, 8, 1
MIN_PASSWORD = 8


def users_path(library_folder: Path) -> Path:
    return Path(library_folder) / USERS_FILE


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P,
                            maxmem=64 * 1024 * 1024, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n),
                             r=int(r), p=int(p), maxmem=64 * 1024 * 1024,
                             dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


class Users:
    """The accounts file: load, change, save atomically."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.data = {"secret": "", "users": {}}
        self._seen = None
        self._load()

    def _stamp(self):
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _load(self) -> None:
        stamp = self._stamp()
        if stamp is not None:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise UsageError(f"{self.path}: cannot read the accounts file: {exc}") \
                    from None
            data.setdefault("users", {})
            self.data = data
        self._seen = stamp

    def refresh(self) -> "Users":
        """Read the file again if `clippings user add|rm` changed it since (a running
        server sees new and removed accounts at once); a broken file keeps the last
        good accounts."""
        if self._stamp() != self._seen:
            try:
                self._load()
            except UsageError:
                pass
        return self

    @classmethod
    def of(cls, library_folder: Path) -> "Users":
        return cls(users_path(library_folder))

    @property
    def configured(self) -> bool:
        return bool(self.data["users"])

    def names(self) -> list[str]:
        return sorted(self.data["users"])

    def secret(self) -> str:
        """The cookie-signing key; made (and saved) on first use."""
        if not self.data.get("secret"):
            self.data["secret"] = secrets.token_urlsafe(32)
            self.save()
        return self.data["secret"]

    def add(self, name: str, password: str) -> None:
        if not _NAME.match(name):
            raise UsageError(f"invalid user name {name!r}: letters, digits and _.@- "
                             "(at most 64)")
        if len(password) < MIN_PASSWORD:
            raise UsageError(f"the password needs at least {MIN_PASSWORD} characters")
        self.data["users"][name] = {"password": hash_password(password),
                                    "token": secrets.token_urlsafe(24)}
        if not self.data.get("secret"):
            self.data["secret"] = secrets.token_urlsafe(32)
        self.save()

    def remove(self, name: str) -> None:
        if name not in self.data["users"]:
            raise UsageError(f"no user {name!r}")
        del self.data["users"][name]
        self.save()

    def check(self, name: str, password: str) -> bool:
        user = self.data["users"].get(name)
        if user is None:
            verify_password(password, _DUMMY)   # same time for unknown names
            return False
        return verify_password(password, user["password"])

    def token(self, name: str) -> str:
        return self.data["users"].get(name, {}).get("token", "")

    def by_token(self, token: str) -> str | None:
        """The user whose bookmarklet token this is."""
        for name, user in self.data["users"].items():
            if token and hmac.compare_digest(user.get("token", ""), token):
                return name
        return None

    def save(self) -> None:
        from ..library import atomic_write
        raw = json.dumps(self.data, indent=1, sort_keys=True).encode("utf-8")
        atomic_write(self.path, raw)
        os.chmod(self.path, 0o600)
        self._seen = self._stamp()


_DUMMY = "scrypt$16384$8$1$" + "00" * 16 + "$" + "00" * 32
