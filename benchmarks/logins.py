"""Logins through the shared throttle (index/logins.sqlite): `clippings serve --workers N`
on a copy of the shipped library with one editor account.

Prints:

- the throttle's own cost per attempt (one SQLite transaction, no password hash);
- N colleagues logging in at the same moment from one address (correct password):
  how long the last one waits, and that none is refused;
- an attacker's burst of wrong passwords sent at once: how many were checked (the
  throttle allows 3) and how many were refused.

    python benchmarks/logins.py [--workers 2] [--clients 20]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve import start_server  # noqa: E402  (benchmarks/serve.py: a server process)
PASSWORD = "correct horse battery"


def _login(base: str, password: str, results: list, start: threading.Barrier) -> None:
    import re
    with httpx.Client(base_url=base, follow_redirects=False, timeout=120) as web:
        token = re.search(r'name="csrf" value="([^"]+)"', web.get("/login").text).group(1)
        start.wait()
        began = time.perf_counter()
        status = web.post("/login", data={"csrf": token, "name": "anna",
                                          "password": password, "next": "/"}).status_code
        results.append((status, time.perf_counter() - began))


def _burst(base: str, clients: int, password: str) -> list:
    results: list = []
    start = threading.Barrier(clients)
    threads = [threading.Thread(target=_login, args=(base, password, results, start))
               for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from clippings.web.throttle import Throttle, logins_path
    from clippings.web.users import Users
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copy(REPO / "library.bib", folder / "library.bib")
        Users.of(folder).add("anna", PASSWORD)

        throttle = Throttle(logins_path(folder / "bench"))
        began = time.perf_counter()
        for i in range(500):
            throttle.attempt((f"ip:{i}", "user:x"), lambda: True)
        print(f"throttle: {(time.perf_counter() - began) / 500 * 1000:.2f} ms per attempt "
              "(one SQLite transaction, no password hash)")

        server, base, _ = start_server(folder / "library.bib", "--workers", str(args.workers))
        try:
            good = _burst(base, args.clients, PASSWORD)
            times = sorted(t for _, t in good)
            print(f"{args.clients} logins at once from one address, {args.workers} workers: "
                  f"{sum(1 for s, _ in good if s == 303)} in, "
                  f"{sum(1 for s, _ in good if s != 303)} refused; "
                  f"median {statistics.median(times) * 1000:.0f} ms, "
                  f"last {times[-1] * 1000:.0f} ms")
            bad = _burst(base, args.clients, "wrong password")
            print(f"{args.clients} wrong passwords at once: "
                  f"{sum(1 for s, _ in bad if s == 401)} checked (401), "
                  f"{sum(1 for s, _ in bad if s == 429)} refused (429)")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
