"""Metadata extraction on real pages, offline: clippings' chain vs plain trafilatura.

Reads ../shared/realpages (saved German pages with human-annotated publication dates in
dates.json) and the hand-judged titles, bylines and publication names in
benchmarks/gold_metadata.json, runs both extractors directly on each page's bytes with its
original URL (no HTTP), and prints per-field accuracy (date, title, authors, publication),
coverage and the median time per page.

Leave-one-site-out: the optional rules of the chain (`clippings.extract.html.RULES`) are
switched off one at a time; for every site, each rule is kept only if it does not lower the
summed accuracy on all the *other* sites, and the site is scored with that choice. A rule
that only helps the page it was written for is dropped when that page is held out, so the
leave-one-site-out figure is what to expect on pages never seen.

    python benchmarks/eval_metadata_offline.py [--pages DIR] [--show-misses] [--dump FILE]
                                               [--no-loso]

`--show-misses` lists every page and field that disagrees with the labels. Exits 0 with a
note when the pages are not there (they are never part of the repository). See
eval_metadata.py for the same figures through `clippings add` over HTTP.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _realpages import (FIGURES, JUDGED, add_common_arguments, failures,  # noqa: E402
                        gold_or_message, judged_share, load_gold_metadata, run_clippings,
                        run_trafilatura, share, site_of)


def _chosen(page, cands, rules: frozenset) -> dict:
    """The fields `extract.html.choose` picks from one page's candidates under `rules`."""
    from clippings.extract import html
    page.rules = rules
    rec = html.choose(page, cands).record
    return {"date": rec.get("date"), "title": rec.get("title"), "site": rec.get("journaltitle"),
            "persons": [n.family for n in rec.names.get("author", []) if not n.literal]}


def leave_one_site_out(pages: Path, gold: dict, labels: dict) -> tuple[dict[str, float], dict]:
    """Per-field accuracy when each site is scored with the rules chosen on the others.

    The metadata sources run once per page; only the choosing step is repeated with every
    rule left out in turn.
    """
    from clippings.extract import html
    from clippings.extract.page import Page
    from clippings.extract.sources import CHAIN
    configs = {"all": html.RULES} | {f"-{r}": html.RULES - {r} for r in html.RULES}
    results: dict[str, dict[str, dict]] = {name: {} for name in configs}
    parsed = {}
    for page_name, info in gold.items():
        page = Page.from_text(html.decode((pages / page_name).read_bytes()), info["url"])
        page.rules = html.RULES
        cands = {name: (fn(page) if page.tree is not None else {}) for name, fn in CHAIN}
        parsed[page_name] = (page, cands)
        for name, rules in configs.items():
            results[name][page_name] = _chosen(page, cands, rules)

    def score(config: str, page: str) -> int:
        row = {"gold_date": gold[page]["date"], "gold": labels.get(page)}
        return sum(bool(test(results[config][page], row)) for _, test in JUDGED)

    effect = {}   # rule -> (page fields it gets right, page fields it gets wrong)
    for r in html.RULES:
        diffs = [score("all", p) - score(f"-{r}", p) for p in gold]
        effect[r] = (sum(d for d in diffs if d > 0), -sum(d for d in diffs if d < 0))
    per_site: dict[str, list[str]] = {}
    for page, info in gold.items():
        per_site.setdefault(site_of(info["url"]), []).append(page)
    chosen_rows, dropped = [], {}
    for site, held in per_site.items():
        others = [p for p in gold if p not in held]
        base = sum(score("all", p) for p in others)
        keep = {r for r in html.RULES if sum(score(f"-{r}", p) for p in others) <= base}
        for r in html.RULES - keep:
            dropped[r] = dropped.get(r, 0) + 1
        for page in held:
            chosen_rows.append({"page": page, "gold_date": gold[page]["date"],
                                "gold": labels.get(page),
                                "loso": _chosen(*parsed[page], frozenset(keep))})
    return ({label: judged_share(chosen_rows, "loso", test)[0] for label, test in JUDGED},
            {"dropped": dropped, "effect": effect})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--no-loso", action="store_true", help="skip leave-one-site-out")
    args = parser.parse_args()
    gold = gold_or_message(args.pages)
    if gold is None:
        return 0
    labels = load_gold_metadata()
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
                     "gold": labels.get(name), "clippings": ours, "trafilatura": theirs})

    loso, dropped = ({}, {}) if args.no_loso else leave_one_site_out(args.pages, gold, labels)
    print(f"{len(rows)} pages from {args.pages}, {len(labels)} with hand-judged labels\n")
    head = f"{'accuracy':<22}{'judged':>7}{'clippings':>11}{'leave-one-site-out':>20}{'trafilatura':>13}"
    print(head)
    for label, test in JUDGED:
        ours, n = judged_share(rows, "clippings", test)
        theirs, _ = judged_share(rows, "trafilatura", test)
        held = f"{loso[label]:.3f}" if loso else "-"
        print(f"{label:<22}{n:>7}{ours:>11.3f}{held:>20}{theirs:>13.3f}")
    if dropped:
        print("\noptional rule            fixes  breaks  dropped for held-out sites")
        for rule, (fixes, breaks) in sorted(dropped["effect"].items()):
            print(f"{rule:<24}{fixes:>6}{breaks:>8}{dropped['dropped'].get(rule, 0):>8}")
        print("(fixes/breaks: page fields right only with / only without the rule)")
    print(f"\n{'coverage':<28}{'clippings':>12}{'trafilatura':>14}")
    for label, test in FIGURES[1:]:
        print(f"{label:<28}{share(rows, 'clippings', test):>12.3f}"
              f"{share(rows, 'trafilatura', test):>14.3f}")
    print()
    for label, values in times.items():
        print(f"median time, {label:<30}{statistics.median(values) * 1000:>8.1f} ms")
    if args.show_misses:
        print("\nwhere clippings disagrees with the labels:")
        print("\n".join(failures(rows, "clippings")) or "  nowhere")
    if args.dump:
        args.dump.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
