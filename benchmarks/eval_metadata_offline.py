"""Metadata extraction on real pages, offline: clippings' chain vs plain trafilatura.

Reads ../shared/realpages (saved German pages with human-annotated publication dates in
dates.json), runs both extractors directly on each page's bytes with its original URL (no
HTTP), and prints date accuracy, title/author/site coverage and the median time per page.

    python benchmarks/eval_metadata_offline.py [--pages DIR] [--show-misses] [--dump FILE]

`--dump` writes every page's results as JSON (for judging title/authors/site by hand).
Exits 0 with a note when the pages are not there (they are never part of the repository).
See eval_metadata.py for the same figures through `clippings add` over HTTP.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _realpages import (FIGURES, add_common_arguments, date_misses,  # noqa: E402
                        gold_or_message, run_clippings, run_trafilatura, share)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    args = parser.parse_args()
    gold = gold_or_message(args.pages)
    if gold is None:
        return 0
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

    print(f"{len(rows)} pages from {args.pages}\n")
    print(f"{'figure':<28}{'clippings':>12}{'trafilatura':>14}")
    for label, test in FIGURES:
        print(f"{label:<28}{share(rows, 'clippings', test):>12.3f}"
              f"{share(rows, 'trafilatura', test):>14.3f}")
    print()
    for label, values in times.items():
        print(f"median time, {label:<30}{statistics.median(values) * 1000:>8.1f} ms")
    if args.show_misses:
        print("\nwrong dates (page, annotated, clippings [source], trafilatura):")
        print("\n".join(date_misses(rows, "clippings", ["trafilatura"])))
    if args.dump:
        args.dump.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
