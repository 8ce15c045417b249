"""Metadata of real pages through `clippings add` over HTTP, against plain trafilatura.

Serves ../shared/realpages (saved German pages with human-annotated publication dates in
dates.json) on 127.0.0.1, each page under its original path and query, runs
`python -m clippings --library SCRATCH add URL --json --force` as a real subprocess for
every page into a scratch library in a temporary folder, and prints, side by side:

- accuracy of date (dates.json), title, authors and publication name (the hand-judged
  benchmarks/gold_metadata.json) and coverage, for the entries `clippings add` wrote, for
  `clippings.extract.html.extract` called in this process on the same bytes and URL, and
  for plain trafilatura `extract_metadata` on the same;
- median and p95 extraction time per page excluding network (in-process, metadata only and
  metadata + main text as `add` runs it), and the wall time of each `add` subprocess
  (interpreter start, HTTP on loopback, extraction, writing entry and snapshot).

    python benchmarks/eval_metadata.py [--pages DIR] [--limit N] [--original-hosts]
                                       [--show-misses] [--dump FILE]

Only 127.0.0.1 is contacted: proxy variables from the caller are removed for the
subprocesses. By default pages are added as http://127.0.0.1:PORT/PATH?QUERY, so a site
name that is only the loopback address counts as not found (for every tool alike).
`--original-hosts` instead adds http://ORIGINAL-HOST/PATH?QUERY with the server acting as
HTTP proxy (http_proxy=127.0.0.1:PORT), which keeps what host names tell the extractors.
Extraction times are taken after an untimed warm-up pass (one-time lazy loads excluded;
the slowest first call is reported). Exits 0 with a note when the pages are not there
(they are never part of the repository).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _realpages import (FIGURES, JUDGED, ROOT, add_common_arguments, failures,  # noqa: E402
                        format_table, gold_or_message, judged_share, load_gold_metadata,
                        percentile, run_clippings, run_trafilatura, share)

CONTENT_TYPE = "text/html"   # no charset: the pages' own <meta> or detection decides
TOOLS = ("add", "extract", "trafilatura")


def route(target: str) -> str:
    """What a request names: host (only in a proxy's absolute-form target), path and query,
    unquoted so that re-quoting by the client does not matter."""
    parts = urlsplit(target)
    return parts.netloc.lower() + unquote(parts.path or "/") + \
        ("?" + unquote(parts.query) if parts.query else "")


def _path_query_fragment(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + ("?" + parts.query if parts.query else "") + \
        ("#" + parts.fragment if parts.fragment else "")


class PageServer:
    """One loopback HTTP server answering a fixed set of routes with saved files. As a
    plain server it sees `/path?query`; used as an HTTP proxy it sees `http://host/path?query`
    and so can tell pages of different hosts apart."""

    def __init__(self) -> None:
        self.routes: dict[str, Path] = {}
        self.misses: list[str] = []
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                path = server.routes.get(route(self.path))
                if path is None:
                    server.misses.append(self.path)
                    self.send_error(404)
                    return
                server.hits += 1
                body = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:  # quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve(pages: Path, gold: dict[str, dict],
          original_hosts: bool) -> tuple[list[PageServer], dict[str, str]]:
    """Servers holding every page at its original path and query, and the URL to add.

    On 127.0.0.1 pages share a server unless their routes collide (same path on two
    hosts); then the later one goes to another server (another port), so no page has to
    move. With `original_hosts` one server acts as the HTTP proxy for all of them and the
    URL keeps its host (as http://, since the proxy cannot answer for TLS).
    """
    servers: list[PageServer] = []
    local: dict[str, str] = {}
    for name, info in sorted(gold.items()):
        rest = _path_query_fragment(info["url"])
        if original_hosts:
            url = "http://" + urlsplit(info["url"]).netloc + rest
            key = route(url)
        else:
            key = route(rest)
        server = next((s for s in servers if key not in s.routes), None)
        if server is None:
            server = PageServer()
            servers.append(server)
        server.routes[key] = pages / name
        local[name] = url if original_hosts else server.base + rest
    return servers, local


def _env(proxy: str | None) -> dict[str, str]:
    """The subprocesses' environment: no settings from the caller's shell, no proxy but
    ours, so that nothing but 127.0.0.1 is contacted."""
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and not k.startswith("CLIPPINGS_")}
    if proxy:
        env["HTTP_PROXY"] = env["http_proxy"] = proxy
    else:
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _clippings(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "clippings", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def add_page(library: Path, url: str, env: dict[str, str]) -> tuple[dict, float, str]:
    """`clippings add URL --json --force`: (result, wall seconds, error text or "")."""
    start = time.perf_counter()
    proc = _clippings("--library", str(library), "add", url, "--json", "--force",
                      cwd=library, env=env)
    elapsed = time.perf_counter() - start
    empty = {"date": None, "title": None, "site": None, "authors": []}
    if proc.returncode != 0:
        return empty, elapsed, (proc.stderr.strip() or f"exit {proc.returncode}")
    try:
        entry = json.loads(proc.stdout)["entry"]
    except (ValueError, KeyError) as exc:
        return empty, elapsed, f"unreadable --json output: {exc}"
    authors = [a for a in (entry.get("author") or "").split(" and ") if a.strip()]
    return {"date": entry.get("date"), "title": entry.get("title"),
            "subtitle": entry.get("subtitle"), "site": entry.get("journaltitle"),
            "type": entry.get("type"), "key": entry.get("key"),
            "authors": authors}, elapsed, ""


def _ms(values: list[float], how: str) -> str:
    if not values:
        return "-"
    v = statistics.median(values) if how == "median" else percentile(values, 95)
    return f"{v * 1000:.1f} ms"


def _loopback_site_dropped(result: dict) -> bool:
    """A site name that is only the loopback address is no site name: blank it (for every
    tool alike), and say whether it was there."""
    site = (result.get("site") or "").strip().lower()
    if site.startswith(("127.", "localhost")):
        result["site"] = None
        return True
    return False


def extract_in_process(pages: Path, gold: dict[str, dict], local: dict[str, str]
                       ) -> tuple[dict[str, dict], dict[str, dict], dict[str, list[float]],
                                  tuple[float, str]]:
    """clippings' chain and trafilatura on every page's bytes with the URL `add` gets.

    A first untimed pass pays the one-time costs (imports, lazily built tables, such as
    dateparser's locale patterns the first time htmldate falls back to it); the second
    pass is timed. Returns both tools' results, the times, and the slowest first call.
    """
    slowest = (0.0, "")
    for name in sorted(gold):
        _, t = run_clippings((pages / name).read_bytes(), local[name], True, CONTENT_TYPE)
        run_trafilatura((pages / name).read_bytes(), local[name])
        slowest = max(slowest, (t, name))
    ours, theirs = {}, {}
    times: dict[str, list[float]] = {"meta": [], "full": [], "trafilatura": []}
    for name in sorted(gold):
        raw, url = (pages / name).read_bytes(), local[name]
        ours[name], t_meta = run_clippings(raw, url, False, CONTENT_TYPE)
        _, t_full = run_clippings(raw, url, True, CONTENT_TYPE)
        theirs[name], t_traf = run_trafilatura(raw, url)
        times["meta"].append(t_meta)
        times["full"].append(t_full)
        times["trafilatura"].append(t_traf)
    return ours, theirs, times, slowest


def add_all(gold: dict[str, dict], local: dict[str, str], env: dict[str, str]
            ) -> tuple[dict[str, dict], list[float], list[str]] | str:
    """`clippings add` of every page into a scratch library: results, wall times, failures
    (or the error text when the scratch library cannot be made)."""
    results: dict[str, dict] = {}
    walls: list[float] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="clippings-eval-") as tmp:
        library = Path(tmp) / "library"
        init = _clippings("init", str(library), cwd=Path(tmp), env=env)
        if init.returncode != 0:
            return init.stderr.strip() or f"clippings init: exit {init.returncode}"
        for i, name in enumerate(sorted(gold), 1):
            results[name], wall, error = add_page(library, local[name], env)
            if error:
                failures.append(f"  {name}  {local[name]}\n    {error.splitlines()[-1]}")
            else:
                walls.append(wall)
            print(f"\radding {i}/{len(gold)}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        # Persons as written to library.bib (organisations are braced there, not persons).
        from clippings.library import Library
        lib = Library.load(library / "library.bib")
        for result in results.values():
            if result.get("key") and result["key"] in lib:
                result["persons"] = [n.family for n in lib.record(result["key"]).names.get(
                    "author", []) if not n.literal]
    return results, walls, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--limit", type=int, help="only the first N pages (a quick run)")
    parser.add_argument("--original-hosts", action="store_true",
                        help="keep each page's host name: add http://HOST/PATH through a "
                             "proxy on 127.0.0.1 instead of http://127.0.0.1:PORT/PATH")
    args = parser.parse_args()
    gold = gold_or_message(args.pages)
    if gold is None:
        return 0
    if args.limit:
        gold = dict(sorted(gold.items())[:args.limit])

    servers, local = serve(args.pages, gold, args.original_hosts)
    try:
        env = _env(servers[0].base if args.original_hosts else None)
        added = add_all(gold, local, env)
    finally:
        for server in servers:
            server.close()
    if isinstance(added, str):
        print(f"cannot make a scratch library: {added}", file=sys.stderr)
        return 1
    adds, walls, failures = added
    ours, theirs, times, slowest = extract_in_process(args.pages, gold, local)

    labels = load_gold_metadata()
    rows = [{"page": name, "url": gold[name]["url"], "served_url": local[name],
             "gold_date": gold[name]["date"], "gold": labels.get(name), "add": adds[name],
             "extract": ours[name], "trafilatura": theirs[name]} for name in sorted(gold)]
    loopback = {tool: sum(_loopback_site_dropped(r[tool]) for r in rows) for tool in TOOLS}
    n = len(rows)
    header = ["figure", "clippings add (HTTP)", "clippings extract (in-process)",
              "trafilatura extract_metadata"]
    body = [[f"{label} accuracy ({judged_share(rows, 'add', test)[1]} judged)"]
            + [f"{judged_share(rows, tool, test)[0]:.3f}" for tool in TOOLS]
            for label, test in JUDGED]
    body += [[label] + [f"{share(rows, tool, test):.3f}" for tool in TOOLS]
             for label, test in FIGURES[1:]]
    body.append(["pages added / extracted", f"{n - len(failures)}/{n}", f"{n}/{n}", f"{n}/{n}"])
    for how in ("median", "p95"):
        body.append([f"{how} extraction, metadata only", "-",
                     _ms(times["meta"], how), _ms(times["trafilatura"], how)])
        body.append([f"{how} extraction, metadata + text", "-", _ms(times["full"], how), "-"])
        body.append([f"{how} add subprocess wall time", _ms(walls, how), "-", "-"])

    where = ("through a proxy on " + servers[0].base + " under their original host and path"
             if args.original_hosts else
             "on " + ", ".join(s.base for s in servers) + " under their original paths")
    print(f"{n} pages from {args.pages}, served {where}\n")
    print(format_table(header, body))
    agree = sum(1 for r in rows if r["add"]["date"] == r["extract"]["date"])
    print(f"\n`add` and in-process extract give the same date on {agree}/{n} pages.")
    if any(loopback.values()):
        print("Site names that were only the loopback address count as not found "
              f"(add {loopback['add']}, extract {loopback['extract']}, "
              f"trafilatura {loopback['trafilatura']} pages).")
    print("Extraction times exclude network and one-time warm-up (slowest first call: "
          f"{slowest[0] * 1000:.0f} ms on {slowest[1]}); the add wall time is the whole "
          "command: interpreter start, loopback HTTP, extraction, entry and snapshot written.")
    misses = [m for s in servers for m in s.misses]
    if misses:
        print(f"\n{len(misses)} request(s) for paths not served: " + ", ".join(misses[:5]))
    if failures:
        print(f"\n`clippings add` failed on {len(failures)} page(s):")
        print("\n".join(failures))
    if args.show_misses:
        print("\nwhere `add` disagrees with the labels:")
        print("\n".join(failures(rows, "add")) or "  nowhere")
    if args.dump:
        args.dump.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
