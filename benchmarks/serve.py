"""Web interface benchmark: `clippings serve` on 10,000 clippings, 16 clients on loopback.

Generates the search benchmark's library (benchmarks/search.py: 10,000 entries with
~5 KB of snapshot text each), builds its index, starts `clippings serve` as a process and
prints:

- server start: from launching `clippings serve` on the shipped library to the first
  page answered;
- search pages (HTML with facets, snippets, "n of m"): p50/p95 latency and pages/s with
  16 concurrent clients over the search benchmark's 30 queries: every page computed
  (no page cache), with the page cache, and 300 searches never asked before, each once;
- entry pages (fields, BibTeX, snapshot text, similar clippings): p50/p95;
- edits saved through the web while 16 clients search: each edit's time, and failures;
- `clippings search` as a process on the same queries, for comparison.

    python benchmarks/serve.py [--entries 10000] [--clients 16] [--requests 800] [--keep DIR]

With --workers N (default: one per core) the server runs N processes; "server CPU"
adds up all of them. Where wrk is installed (`apt-get install wrk`), the search and entry
pages are loaded by it as well (benchmarks/wrk_paths.lua): 16 Python clients in threads
use about as much CPU as the server, on the same two cores.

Targets (issue 9): search p95 <= 150 ms and >= 100 pages/s, entry p95 <= 50 ms, an edit
<= 0.5 s with no failed request, start <= 1 s.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import search as search_bench  # noqa: E402  (benchmarks/search.py: generator and queries)

PASSWORD = "benchmark password"


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(bib: Path, *extra: str) -> tuple[subprocess.Popen, str, float]:
    """`clippings serve` as a process; returns it, its address and seconds to first page
    (and sets `proc.start_cpu`: the CPU seconds it used until then)."""
    port = free_port()
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "clippings", "--library", str(bib),
                             "serve", "--port", str(port), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    while True:
        try:
            if httpx.get(base + "/", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.01)
    took = time.perf_counter() - began
    proc.start_cpu = cpu_seconds(proc)
    return proc, base, took


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(proc: subprocess.Popen) -> float:
    """CPU time (user + system) the server and its worker processes have used so far
    (Linux /proc), so the cost of a page can be told apart from waiting for a busy
    machine."""
    try:
        pids = [proc.pid] + [int(p.name) for p in Path("/proc").iterdir()
                             if p.name.isdigit() and _ppid(int(p.name)) == proc.pid]
        total = 0
        for pid in pids:
            fields = _stat(pid)
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def _ppid(pid: int) -> int:
    try:
        return int(_stat(pid)[1])
    except (OSError, ValueError, IndexError):
        return -1


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def pct(values: list[float], p: float) -> float:
    return search_bench.percentile(values, p) * 1000 if values else float("nan")


def hammer(base: str, paths: list[str], clients: int, stop_event=None):
    """GET `paths` with `clients` concurrent keep-alive clients; (latencies of the pages
    served with 200, failures, wall seconds). With stop_event, loop over the paths until
    it is set."""
    latencies, failures = [], []
    lock = threading.Lock()
    todo = iter(paths) if stop_event is None else None
    rng = random.Random(1)

    def worker():
        with httpx.Client(base_url=base, timeout=60) as client:
            while True:
                if stop_event is None:
                    with lock:
                        path = next(todo, None)
                    if path is None:
                        return
                else:
                    if stop_event.is_set():
                        return
                    path = rng.choice(paths)
                began = time.perf_counter()
                try:
                    answer = client.get(path)
                    ok = answer.status_code == 200
                except httpx.HTTPError as exc:
                    ok, answer = False, exc
                took = time.perf_counter() - began
                with lock:   # only pages served count in latencies and pages/s
                    if ok:
                        latencies.append(took)
                    else:
                        failures.append((path, getattr(answer, "status_code", answer)))

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, failures, time.perf_counter() - began


def warm(base: str, workers: int) -> None:
    """A first search in every worker: each decodes the library once."""
    for _ in range(2 * workers):
        httpx.get(base + "/?q=Partnerschaft", timeout=300)


def measure(label: str, proc, base: str, paths: list[str], clients: int, note: str = ""
            ) -> None:
    """Load `paths` with `clients` clients and print latency, pages/s and the server's
    CPU a page on one line."""
    cpu = cpu_seconds(proc)
    lat, fails, wall = hammer(base, paths, clients)
    per_page = (cpu_seconds(proc) - cpu) / max(1, len(lat)) * 1000
    print(f"{label:<24} p50 {pct(lat, 50):6.1f} ms  p95 {pct(lat, 95):6.1f} ms  "
          f"{len(lat) / wall:6.1f} pages/s  ({note}{len(fails)} failed; server CPU "
          f"{per_page:.1f} ms a page)")


def measure_wrk(label: str, proc, base: str, paths: list[str], clients: int,
                seconds: int = 10) -> None:
    """The same load from wrk (C, one thread, keep-alive connections) for `seconds`,
    random paths of `paths`: the latency of the server, not of Python clients competing
    with it for the two cores. Prints nothing when wrk is not installed."""
    if not shutil.which("wrk"):
        return
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(paths) + "\n")
    try:
        cpu = cpu_seconds(proc)
        out = subprocess.run(["wrk", "-t", "1", "-c", str(clients), "-d", f"{seconds}s",
                              "-s", str(HERE / "wrk_paths.lua"), base, "--", listing.name],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(listing.name)
    line = next(l for l in out.splitlines() if l.startswith("WRK "))
    count, p50, p95, p99, wall, errors = line.split()[1:]
    per_page = (cpu_seconds(proc) - cpu) / max(1, int(count)) * 1000
    print(f"{label:<24} p50 {float(p50):6.1f} ms  p95 {float(p95):6.1f} ms  "
          f"{int(count) / float(wall):6.1f} pages/s  (wrk, {clients} connections, "
          f"{seconds} s, p99 {float(p99):.0f} ms, {errors} errors; server CPU "
          f"{per_page:.1f} ms a page)")


def measure_once(label: str, proc, base: str, paths: list[str], clients: int) -> None:
    """Each of `paths` asked once, by `clients` keep-alive connections at a time, from a
    client of a few lines of asyncio (about 0.1 ms of CPU a request: httpx costs as much
    as the server, and wrk cannot stop after a list)."""
    import asyncio
    from urllib.parse import urlsplit
    host, port = urlsplit(base).hostname, urlsplit(base).port
    todo, latencies, failures = list(reversed(paths)), [], []

    async def client():
        reader = writer = None
        while todo:
            path = todo.pop()
            began = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                head = await reader.readuntil(b"\r\n\r\n")
                await reader.readexactly(
                    int(re.search(rb"(?i)content-length: *(\d+)", head).group(1)))
                ok = head.startswith(b"HTTP/1.1 200")
            except (OSError, asyncio.IncompleteReadError, AttributeError):
                ok = False   # a closed connection, or an answer without a length
                if writer is not None:
                    writer.close()
                reader = writer = None
            (latencies if ok else failures).append(time.perf_counter() - began)
        if writer is not None:
            writer.close()

    async def run():
        await asyncio.gather(*(client() for _ in range(clients)))

    cpu = cpu_seconds(proc)
    began = time.perf_counter()
    asyncio.run(run())
    wall = time.perf_counter() - began
    per_page = (cpu_seconds(proc) - cpu) / max(1, len(latencies)) * 1000
    print(f"{label:<24} p50 {pct(latencies, 50):6.1f} ms  p95 {pct(latencies, 95):6.1f} ms  "
          f"{len(latencies) / wall:6.1f} pages/s  ({len(paths)} searches once, {clients} "
          f"connections, {len(failures)} failed; server CPU {per_page:.1f} ms a page)")


def in_process(bib: Path, paths: list[str]) -> None:
    """The search pages of `paths` computed in this process as the server computes them
    (`search.results_page`, no HTTP, no template): CPU a page the first time each search
    is seen, and again; and the vocabulary a server process loads."""
    from urllib.parse import parse_qs, urlsplit

    from clippings import search
    from clippings.config import load_settings
    from clippings.library import Library
    from clippings.search import index, vocabulary
    settings = load_settings(bib.parent)
    records = {rec.key: rec for rec in Library.load(bib, settings).records()}
    rows = search.facet_rows(records, {})
    began = time.process_time()
    words = vocabulary.load(index.index_dir(bib.parent))
    loaded = time.process_time() - began
    asks = [(parse_qs(urlsplit(p).query)["q"][0], int(parse_qs(urlsplit(p).query).get(
        "page", ["1"])[0])) for p in paths]

    def run() -> float:
        began = time.process_time()
        for text, page in asks:
            search.results_page(bib, text, offset=(page - 1) * 20, limit=20,
                                records=records, statuses={}, settings=settings,
                                rows=rows, check_index=False)
        return (time.process_time() - began) / len(asks) * 1000
    search.results_page(bib, "", limit=1, records=records, statuses={}, settings=settings,
                        rows=rows, check_index=False)        # the facet table
    first, again = run(), run()
    size = (index.index_dir(bib.parent) / vocabulary.FILE).stat().st_size
    print(f"in one process: {first:.1f} ms of CPU a page the first time, {again:.1f} ms "
          f"again ({len(asks)} pages); vocabulary {len(words.words) if words else 0} "
          f"words, {size / 1e6:.1f} MB, loaded in {loaded * 1000:.0f} ms")


def new_searches(count: int) -> list[str]:
    """`count` search pages for words of the generated texts (a noun, a noun and a place,
    a place), none of them among the benchmark's 30 searches."""
    rng = random.Random(11)
    texts = set()
    while len(texts) < count:
        kind = rng.randrange(3)
        noun, place = rng.choice(search_bench.NOUNS), rng.choice(search_bench.PLACES)
        texts.add(noun if kind == 0 else f"{noun} {place}" if kind == 1 else place)
    texts = sorted(texts - set(search_bench.QUERIES))
    rng.shuffle(texts)   # neighbours share no word, so none warms the next one's caches
    return ["/?" + str(httpx.QueryParams({"q": text})) for text in texts]


def edit_times(base: str, keys: list[str], edits: int) -> tuple[list[float], list]:
    """Log in, then save `edits` changed notes through the edit form; time each save."""
    times, failures = [], []
    with httpx.Client(base_url=base, timeout=60) as web:
        page = web.get("/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        web.post("/login", data={"csrf": token, "name": "bench", "password": PASSWORD,
                                 "next": "/"})
        for i in range(edits):
            key = keys[i % len(keys)]
            page = web.get(f"/entry/{key}/edit").text
            fields = dict(re.findall(r'<input id="f-(\w+)" name="\w+" value="([^"]*)"', page))
            fields.update(csrf=re.search(r'name="csrf" value="([^"]+)"', page).group(1),
                          version=re.search(r'name="version" value="(\w+)"', page).group(1),
                          note=f"Benchmark-Notiz {i}")
            began = time.perf_counter()
            answer = web.post(f"/entry/{key}/edit", data=fields)
            times.append(time.perf_counter() - began)
            if answer.status_code != 303:
                failures.append((key, answer.status_code))
    return times, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=800, help="search pages to load")
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--new-searches", type=int, default=300,
                        help="searches asked once each, never before")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="server processes (default: one per core)")
    parser.add_argument("--keep", metavar="DIR",
                        help="generate into DIR and keep it (reused when it holds a library)")
    opts = parser.parse_args()
    from clippings.search import index as search_index
    from clippings.web.users import Users

    shipped = Path(tempfile.mkdtemp(prefix="clippings-shipped-"))
    shutil.copy(REPO / "library.bib", shipped / "library.bib")
    starts, cpus = [], []
    for _ in range(3):
        proc, _, took = start_server(shipped / "library.bib")
        cpus.append(proc.start_cpu)
        stop(proc)
        starts.append(took)
    print(f"server start (shipped library): median {statistics.median(starts):.2f} s "
          f"(runs: {', '.join(f'{s:.2f}' for s in starts)}); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; server CPU until then: "
          f"median {statistics.median(cpus):.2f} s")

    folder = Path(opts.keep) if opts.keep else Path(tempfile.mkdtemp(prefix="clippings-"))
    folder.mkdir(parents=True, exist_ok=True)
    bib = folder / "library.bib"
    try:
        if not bib.exists():
            began = time.perf_counter()
            search_bench.generate(folder, opts.entries)
            search_index.update(bib, rebuild=True)
            print(f"generated and indexed {opts.entries} entries in "
                  f"{time.perf_counter() - began:.0f} s")
        Users.of(folder).add("bench", PASSWORD)
        rng = random.Random(7)
        queries = [rng.choice(search_bench.QUERIES) for _ in range(opts.requests)]
        paths = ["/?" + str(httpx.QueryParams({"q": q})) for q in queries]
        keys = [f"c{rng.randrange(opts.entries)}" for _ in range(400)]
        # Cold: no page cache, every request computes its page (the 30 queries x pages 1-3).
        workers = ("--workers", str(opts.workers))
        proc, base, took = start_server(bib, "--page-cache", "0", *workers)
        print(f"server start ({opts.entries} entries): {took:.2f} s")
        try:
            began = time.perf_counter()
            warm(base, opts.workers)
            print(f"first searches (library decoded, facets prepared): "
                  f"{time.perf_counter() - began:.2f} s")
            cold = [f"/?{httpx.QueryParams({'q': q, 'page': n})}"
                    for q in search_bench.QUERIES for n in (1, 2, 3)]
            measure("search pages, no cache:", proc, base, cold, opts.clients,
                    f"{len(cold)} distinct pages, {opts.clients} clients, ")
            # Every request computes its page again (no page cache), the server's other
            # caches warm: what a server does for searches its page cache does not hold.
            measure_wrk("  every page computed:", proc, base, cold, opts.clients)
            # Searches nobody asked before, each once: ranked, counted and cut afresh.
            measure_once("  new searches:", proc, base, new_searches(opts.new_searches),
                         opts.clients)
        finally:
            stop(proc)
        proc, base, took = start_server(bib, *workers)
        try:
            warm(base, opts.workers)
            measure("search pages:", proc, base, paths, opts.clients,
                    f"{len(paths)} pages of {len(set(paths))} searches, page cache on, ")
            facet_paths = [p + "&type=article&decade=2010s" for p in paths[:200]]
            measure("  with facets:", proc, base, facet_paths, opts.clients)
            measure("entry pages:", proc, base, [f"/entry/{k}" for k in keys], opts.clients)
            measure_wrk("search pages:", proc, base, paths, opts.clients)
            measure_wrk("  with facets:", proc, base, facet_paths, opts.clients)
            measure_wrk("entry pages:", proc, base, [f"/entry/{k}" for k in keys],
                        opts.clients)
            stop_event = threading.Event()
            result = {}
            searchers = threading.Thread(target=lambda: result.update(
                search=hammer(base, paths, opts.clients, stop_event)))
            searchers.start()
            time.sleep(1)
            times, edit_fails = edit_times(base, keys[:opts.edits], opts.edits)
            stop_event.set()
            searchers.join()
            lat, fails, wall = result["search"]
            print(f"edits while {opts.clients} clients search: median "
                  f"{statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
                  f"({len(edit_fails)} failed); searches meanwhile: p95 {pct(lat, 95):.0f} ms,"
                  f" {len(fails)} of {len(lat)} failed")
        finally:
            stop(proc)
        in_process(bib, [f"/?{httpx.QueryParams({'q': q, 'page': n})}"
                         for q in search_bench.QUERIES for n in (1, 2, 3)])
        sample = search_bench.QUERIES[:6]
        walls = [search_bench.search_wall(bib, q, repeat=3) for q in sample]
        print(f"`clippings search` as a process, same library: median "
              f"{statistics.median(walls) * 1000:.0f} ms per query ({len(sample)} queries)")
    finally:
        shutil.rmtree(shipped, ignore_errors=True)
        if not opts.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
