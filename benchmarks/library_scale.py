"""Library scale benchmark: a realistic 50,000-entry library.bib, timed commands.

Generates the library in a temporary folder, then prints wall times (each command run as
a real process) of `show`, `set`, `add --no-fetch`, `list --json` and `lint`, cold (no
cache in index/) and warm, next to pybtex's `parse_file` + `to_string` of the same file.

    python benchmarks/library_scale.py [--entries 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ("Städtepartnerschaft Konferenz Bürgermeister Jugendforum Austausch Kooperation "
         "Dialog Zivilgesellschaft Versöhnung Kommune Region Partnerstadt Begegnung Kultur "
         "Wirtschaft Delegation Besuch Jubiläum Vertrag Freundschaft Frieden Geschichte "
         "Zukunft Netzwerk Projekt Schüler Verwaltung Russland Deutschland").split()
PAPERS = ["Moskauer Deutsche Zeitung", "Lausitzer Rundschau", "Märkische Allgemeine",
          "Aachener Zeitung", "Russland Heute", "Süddeutsche Zeitung", "Die Zeit"]
FAMILIES = ["Lohse", "Müller", "Schmidt", "Roters", "Rutz", "Gorzka", "Iwanow", "Petrowa",
            "Leitermann", "Loktjuschin", "Weiß", "Schäfer", "Krüger"]
GIVEN = ["Peggy", "Hans", "Anna", "Jürgen", "Michael", "Gabriele", "Ilja", "Olga"]


def generate(n: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    out = ["% generated benchmark library\n@string{mdz = {Moskauer Deutsche Zeitung}}\n\n"]
    for i in range(n):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9)))
        year = rng.randint(1990, 2025)
        authors = " and ".join(f"{rng.choice(FAMILIES)}, {rng.choice(GIVEN)}"
                               for _ in range(rng.randint(1, 3)))
        kind = rng.random()
        if kind < 0.6:
            out.append(
                f"@article{{k{i},\n  author       = {{{authors}}},\n"
                f"  title        = {{{title}}},\n  journaltitle = {{{rng.choice(PAPERS)}}},\n"
                f"  entrysubtype = {{newspaper}},\n"
                f"  date         = {{{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}}},\n"
                f"  url          = {{https://www.example{i % 97}.de/artikel/{i}}},\n"
                f"  langid       = {{ngerman}},\n  keywords     = {{presse, {rng.choice(WORDS).lower()}}},\n}}\n\n")
        elif kind < 0.8:
            out.append(
                f"@Book{{k{i},\n    Author = \"{authors}\",\n    Title = {{{{{title}}}}},\n"
                f"    Publisher = {{Verlag {rng.choice(FAMILIES)}}},\n    Year = {year},\n"
                f"    Address = {{Berlin}}\n}}\n\n")
        else:
            out.append(
                f"% note about entry {i}\n@online{{k{i}, title = {{{title}}}, "
                f"date = {{{year}}}, url = {{https://portal.example.org/{i}}}, "
                f"organization = mdz # {{ Online}}}}\n\n")
    return "".join(out)


def timed(args: list[str], cwd: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "clippings", *args], cwd=cwd,
                              capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{args}: exit {proc.returncode}: {proc.stderr}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=50000)
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="clippings-bench-"))
    bib = folder / "library.bib"
    bib.write_text(generate(opts.entries), encoding="utf-8")
    size_mb = bib.stat().st_size / 1e6
    print(f"library: {opts.entries} entries, {size_mb:.1f} MB, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores")

    from pybtex.database import parse_file
    start = time.perf_counter()
    data = parse_file(str(bib))
    parse_s = time.perf_counter() - start
    start = time.perf_counter()
    data.to_string("bibtex")
    write_s = time.perf_counter() - start
    print(f"pybtex parse_file: {parse_s:.2f} s ({opts.entries / parse_s:,.0f} entries/s), "
          f"to_string: {write_s:.2f} s")

    key = f"k{opts.entries // 2}"
    rows = []
    rows.append(("--help", timed(["--help"], folder, opts.repeat)))
    for label, cold in (("cold", True), ("warm", False)):
        def prepare():
            if cold:
                shutil.rmtree(folder / "index", ignore_errors=True)
        for name, args in (("show", ["show", key]),
                           ("set", ["set", key, "note=benchmark"]),
                           ("add --no-fetch", ["add", "--no-fetch", "--set",
                                               "title=Neuer Artikel über Partnerschaft",
                                               "--set", "date=2024", "--force"]),
                           ("list --json", ["list", "--json"]),
                           ("lint", ["lint"])):
            if cold:
                times = []
                for _ in range(opts.repeat):
                    prepare()
                    times.append(timed(args, folder, 1))
                t = statistics.median(times)
            else:
                timed(args, folder, 1)  # make sure the cache is fresh
                t = timed(args, folder, opts.repeat)
            rate = f"{opts.entries / t:,.0f} entries/s" if name in ("list --json", "lint") \
                else ""
            rows.append((f"{name} ({label})", t, rate))
    print(f"{'command':<24} {'wall s':>8}  rate")
    for row in rows:
        print(f"{row[0]:<24} {row[1]:>8.3f}  {row[2] if len(row) > 2 else ''}")
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
