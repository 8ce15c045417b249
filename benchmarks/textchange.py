"""What comparing a live page with its snapshot costs in `clippings check`, per page.

Takes the real pages in ../shared/realpages (or any folder of .html files), extracts
their main text as the snapshot would hold it, and times, per page: the extraction of
the live page's main text, the drift measure (shingle containment) and the changed-text
measure (word-level difflib) against a copy with one word changed. Also counts how many
unchanged pages compare as exactly equal (they all should).

    python benchmarks/textchange.py [--pages 60] [--folder ../shared/realpages]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from clippings import links as L
from clippings.http import decode_body

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=60)
    ap.add_argument("--folder", default=str(REPO.parent / "shared" / "realpages"))
    args = ap.parse_args()
    files = sorted(Path(args.folder).glob("*.html"))[:args.pages]
    htmls = [decode_body(p.read_bytes(), None)[0] for p in files]
    started = time.perf_counter()
    mains = [L.main_text(h) for h in htmls]
    extract_s = time.perf_counter() - started
    pairs = [(h, m) for h, m in zip(htmls, mains) if len(m.split()) >= L.MIN_SNAPSHOT_WORDS]
    edited = []
    for _, m in pairs:
        words = m.split()
        edited.append(" ".join(words[:len(words) // 2] + ["kündigt"] +
                               words[len(words) // 2 + 1:]))
    started = time.perf_counter()
    for (h, m), live in zip(pairs, edited):
        L.drift_score(m, h, live)
    drift_s = time.perf_counter() - started
    started = time.perf_counter()
    scores = [L.text_similarity(m, live) for (_, m), live in zip(pairs, edited)]
    diff_s = time.perf_counter() - started
    equal = sum(L.text_similarity(m, m) == 1.0 for _, m in pairs)
    words = sum(len(m.split()) for _, m in pairs) / max(1, len(pairs))
    print(f"{len(files)} pages, {len(pairs)} with a main text of >= "
          f"{L.MIN_SNAPSHOT_WORDS} words (mean {words:.0f} words)")
    print(f"main text extraction   {1000 * extract_s / max(1, len(files)):7.1f} ms/page")
    print(f"drift (containment)    {1000 * drift_s / max(1, len(pairs)):7.2f} ms/page")
    print(f"changed text (difflib) {1000 * diff_s / max(1, len(pairs)):7.2f} ms/page")
    print(f"one word changed: text_similarity {min(scores):.3f}..{max(scores):.3f}, "
          f"all < 1: {all(s < 1 for s in scores)}")
    print(f"unchanged pages equal to themselves: {equal}/{len(pairs)}")


if __name__ == "__main__":
    main()
