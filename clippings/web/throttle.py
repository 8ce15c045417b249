"""Failed-login counting shared by every server process: `index/logins.sqlite`.

`serve --workers N` runs N processes; a count kept in each would give an attacker N times
the tries. The counts live in one SQLite file (WAL, one short transaction per attempt),
so every worker, and every server started on the same library, sees the same numbers.

An attempt is counted before its password is checked, inside the transaction that looked
at the count: parallel guesses sent to different workers cannot all pass the check before
any of them is recorded. A successful login clears its counts again.
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

    def attempt(self, *who: str) -> float:
        """Seconds the attempt by `who` must still wait (then it is not counted), or 0:
        go, and the attempt is counted as failed until `succeeded` says otherwise."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            now = time.time()   # after the lock: the others' attempts are in the past
            try:
                wait = 0.0
                for w in who:
                    row = db.execute("SELECT count, last FROM fails WHERE who = ?",
                                     (w,)).fetchone()
                    if row:
                        wait = max(wait, row[1] + self._delay(row[0]) - now)
                if wait <= 0:
                    db.execute("DELETE FROM fails WHERE last < ?", (now - self.FORGET,))
                    for w in who:
                        db.execute("INSERT INTO fails VALUES (?, 1, ?) ON CONFLICT (who) "
                                   "DO UPDATE SET count = count + 1, last = excluded.last",
                                   (w, now))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return max(0.0, wait)

    def wait(self, *who: str) -> float:
        """Seconds the next attempt by `who` must still wait (0 = go); counts nothing."""
        now = time.time()
        with self._db() as db:
            rows = [db.execute("SELECT count, last FROM fails WHERE who = ?", (w,)).fetchone()
                    for w in who]
        return max([r[1] + self._delay(r[0]) - now for r in rows if r] + [0.0])

    def succeeded(self, *who: str) -> None:
        with self._db() as db:
            db.executemany("DELETE FROM fails WHERE who = ?", [(w,) for w in who])
