"""Metadata extraction on real pages, offline: clippings' chain vs plain trafilatura.

Reads ../shared/realpages (saved German pages with human-annotated publication dates in
dates.json), runs both extractors directly on each page's bytes with its original URL (no
HTTP), and prints date accuracy, title/author/site coverage and the median time per page.

    python benchmarks/eval_metadata_offline.py [--pages DIR] [--show-misses] [--dump FILE]

`--dump` writes every page's results as JSON (for judging title/authors/site by hand).
Exits 0 with a note when the pages are not there (they are never part of the repository).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PAGES = ROOT.parent / "shared" / "realpages"


def run_clippings(raw: bytes, url: str, with_text: bool) -> tuple[dict, float]:
    from clippings.extract import html

    start = time.perf_counter()
    result = html.extract(raw, url, with_text=with_text)
    elapsed = time.perf_counter() - start
    rec = result.record
    return {"date": rec.get("date"), "title": rec.get("title"), "subtitle": rec.get("subtitle"),
            "site": rec.get("journaltitle"), "type": rec.type,
            "authors": [str(n) for n in rec.names.get("author", [])],
            "sources": result.sources}, elapsed


def run_trafilatura(raw: bytes, url: str) -> tuple[dict, float]:
    import trafilatura

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = trafilatura.extract_metadata(raw, default_url=url)
    elapsed = time.perf_counter() - start
    if doc is None:
        return {"date": None, "title": None, "site": None, "authors": []}, elapsed
    authors = [a.strip() for a in (doc.author or "").split(";") if a.strip()]
    return {"date": doc.date, "title": doc.title, "site": doc.sitename,
            "authors": authors}, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--show-misses", action="store_true", help="list wrong dates")
    parser.add_argument("--dump", type=Path, help="write per-page results as JSON")
    args = parser.parse_args()
    index = args.pages / "dates.json"
    if not index.is_file():
        print(f"no pages at {args.pages} (dates.json missing): nothing to measure")
        return 0
    gold = json.loads(index.read_text(encoding="utf-8"))
    # Warm up imports so the first page does not pay for them.
    first = next(iter(gold))
    run_clippings((args.pages / first).read_bytes(), gold[first]["url"], True)
    run_trafilatura((args.pages / first).read_bytes(), gold[first]["url"])

    rows = []
    times = {"clippings (metadata)": [], "clippings (metadata + text)": [], "trafilatura": []}
    for name, info in sorted(gold.items()):
        raw = (args.pages / name).read_bytes()
        ours, t_meta = run_clippings(raw, info["url"], with_text=False)
        _, t_full = run_clippings(raw, info["url"], with_text=True)
        theirs, t_traf = run_trafilatura(raw, info["url"])
        times["clippings (metadata)"].append(t_meta)
        times["clippings (metadata + text)"].append(t_full)
        times["trafilatura"].append(t_traf)
        rows.append({"page": name, "url": info["url"], "gold_date": info["date"],
                     "clippings": ours, "trafilatura": theirs})

    n = len(rows)

    def share(tool: str, test) -> float:
        return sum(1 for r in rows if test(r[tool], r)) / n

    figures = [
        ("date accuracy", lambda d, r: d["date"] == r["gold_date"]),
        ("date found", lambda d, r: bool(d["date"])),
        ("title found", lambda d, r: bool(d["title"])),
        ("author found", lambda d, r: bool(d["authors"])),
        ("site name found", lambda d, r: bool(d["site"])),
    ]
    print(f"{n} pages from {args.pages}\n")
    print(f"{'figure':<28}{'clippings':>12}{'trafilatura':>14}")
    for label, test in figures:
        print(f"{label:<28}{share('clippings', test):>12.3f}{share('trafilatura', test):>14.3f}")
    print()
    for label, values in times.items():
        print(f"median time, {label:<30}{statistics.median(values) * 1000:>8.1f} ms")
    if args.show_misses:
        print("\nwrong dates (page, annotated, clippings [source], trafilatura):")
        for r in rows:
            if r["clippings"]["date"] != r["gold_date"]:
                src = r["clippings"]["sources"].get("date", "")
                print(f"  {r['page']}  {r['gold_date']}  {r['clippings']['date']} [{src}]  "
                      f"{r['trafilatura']['date']}")
    if args.dump:
        args.dump.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
