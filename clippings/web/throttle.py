"""Failed-login counting shared by every server process: `index/logins.sqlite`.

`serve --workers N` runs N processes; a count kept in each would give an attacker N times
the tries. The counts live in one SQLite file (WAL, one transaction per attempt), so
every worker, and every server started on the same library, sees the same numbers.

The password is checked inside the transaction that read the count and records the
outcome (`BEGIN IMMEDIATE`: one login at a time across all workers, ~50 ms each), so
guesses sent in parallel to different workers each see the failures before them, while
people logging in at the same moment from one office address all get in.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

LOGINS_FILE = Path("index") / "logins.sqlite"
_TABLE = "CREATE TABLE IF NOT EXISTS fails (who TEXT PRIMARY KEY, count INTEGER, last REAL)"


def logins_path(library_folder: Path) -> Path:
    return Path(library_folder) / LOGINS_FILE


class Throttle:
    """Slows repeated failed logins: after 3 failures from one address (or for one
    name) each further attempt waits 2, 4, 8 ... up to 60 s; a success clears it.
    Counts older than a day are forgotten."""

    FREE = 3
    MAX_DELAY = 60.0
    FORGET = 24 * 3600.0

    def __init__(self, path: Path):
        self.path = Path(path)
        with self._db():
            pass   # an unusable place is reported when the server starts

    @contextlib.contextmanager
    def _db(self):
        # A connection per call: cheap, safe in any thread and after a fork; the file is
        # derived data, made again if someone deleted index/ meanwhile.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_TABLE)
            yield db
        finally:
            db.close()

    def _delay(self, count: int) -> float:
        if count < self.FREE:
            return 0.0
        return min(self.MAX_DELAY, 2.0 ** (count - self.FREE + 1))

    def attempt(self, who: tuple[str, ...], check) -> tuple[float, bool]:
        """Run `check()` (the password test) unless `who` must wait: (seconds still to
        wait, 0 when checked; whether the check passed). A failure counts for each of
        `who`, a success clears them."""
        try:
            with self._db() as db:
                db.execute("BEGIN IMMEDIATE")
                try:
                    now = time.time()   # after the lock: earlier attempts are in the past
                    wait = 0.0
                    for w in who:
                        row = db.execute("SELECT count, last FROM fails WHERE who = ?",
                                         (w,)).fetchone()
                        if row:
                            wait = max(wait, row[1] + self._delay(row[0]) - now)
                    ok = False
                    if wait <= 0:
                        ok = bool(check())
                        if ok:
                            db.executemany("DELETE FROM fails WHERE who = ?",
                                           [(w,) for w in who])
                        else:
                            db.execute("DELETE FROM fails WHERE last < ?",
                                       (now - self.FORGET,))
                            db.executemany(
                                "INSERT INTO fails VALUES (?, 1, ?) ON CONFLICT (who) DO "
                                "UPDATE SET count = count + 1, last = excluded.last",
                                [(w, now) for w in who])
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
        except sqlite3.OperationalError:   # locked for seconds: a flood of attempts
            return 1.0, False
        return max(0.0, wait), ok
