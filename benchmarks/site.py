"""`clippings site` on a generated library: time of the whole command and of its parts.

The library holds N generated entries (export benchmark's generator) and a link-check
cache with made-up statuses (older pages rot more, as in link-rot studies) so that
`--health` has something to draw. Nothing touches the network.

    python benchmarks/site.py [--entries 5000] [--style din-iso-690] [--screenshots docs]

--screenshots DIR also saves PNGs of the site (the shipped library, a search typed in,
desktop and phone width) and of the generated library's link-rot chart, taken with
/usr/bin/chromium through Playwright, and times the in-page search on the generated site.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from export import make_records  # noqa: E402

from clippings import bibfile, links_cache  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
STATUSES = ["broken", "gone", "soft_404", "drifted", "blocked", "redirected"]


def make_library(folder: Path, n: int) -> Path:
    records = make_records(n)
    bib = folder / "library.bib"
    bib.write_text("".join(bibfile.format_entry(r, r.key) + "\n" for r in records),
                   encoding="utf-8")
    rnd = random.Random(9)
    results = []
    for r in records:
        if not r.fields.get("url"):
            continue
        age = 2026 - int(r.fields["date"][:4])
        roll = rnd.random()
        # about 1.5 % a year lost, some drift and some doubt; the rest fine
        if roll < 0.015 * age:
            status = rnd.choice(STATUSES[:3])
        elif roll < 0.02 * age:
            status = "drifted"
        elif roll < 0.02 * age + 0.06:
            status = rnd.choice(STATUSES[4:])
        else:
            status = "ok"
        results.append({"key": r.key, "field": "url", "url": r.fields["url"],
                        "status": status, "checked_at": "2026-11-30T01:00:00+00:00"})
    links_cache.save(folder, results)
    return bib


def timed(label: str, func):
    """Wall time, and CPU time (this process and its children) which a busy shared
    machine inflates far less."""
    start, cpu = time.perf_counter(), _cpu()
    value = func()
    print(f"{label:<54} {time.perf_counter() - start:8.2f} s wall {_cpu() - cpu:8.2f} s CPU")
    return value


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


# Types a query the way a user does (input event) and waits until the page has drawn the
# filtered list: the count line changed and the next frame is painted. The list is reset
# first and that state drawn, so its cost is not counted.
TYPE_AND_WAIT = """async (query) => {
  const input = document.getElementById("q"), count = document.getElementById("count");
  const frame = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  input.value = ""; input.dispatchEvent(new Event("input"));
  await new Promise(r => setTimeout(r, 150)); await frame(); await frame();
  const before = count.textContent, start = performance.now();
  input.value = query; input.dispatchEvent(new Event("input"));
  while (count.textContent === before) { await new Promise(r => setTimeout(r, 1)); }
  await frame();
  return performance.now() - start;
}"""


def screenshots(out: Path, chart_bib: Path, work: Path) -> None:
    from playwright.sync_api import sync_playwright
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    shipped = work / "shipped"
    shipped.mkdir()
    shutil.copy(REPO / "library.bib", shipped / "library.bib")
    subprocess.run([sys.executable, "-m", "clippings", "--library", str(shipped), "site",
                    "-o", str(shipped / "public")], check=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto((shipped / "public" / "index.html").as_uri() + "?q=staedtepartnerkonferenz")
        page.wait_for_selector("#q", state="visible")
        page.screenshot(path=str(out / "site-search.png"))
        phone = browser.new_page(viewport={"width": 390, "height": 844},
                                 device_scale_factor=2)
        phone.goto((shipped / "public" / "index.html").as_uri())
        phone.wait_for_selector("#q", state="visible")
        phone.screenshot(path=str(out / "site-phone.png"))
        big = chart_bib.parent / "public" / "index.html"
        page.goto(big.as_uri())
        page.wait_for_selector("#q", state="visible")
        for query in ("Wolgograd", "staedtepartnerschaft frieden", "Иванов", "zzz"):
            ms = page.evaluate(TYPE_AND_WAIT, query)
            shown = page.text_content("#count")
            print(f"in-page search {query!r:<32} {ms:8.1f} ms  ({shown}; incl. 60 ms pause)")
        svg = chart_bib.parent / "public" / "link-rot.svg"
        page.set_viewport_size({"width": 1000, "height": 600})
        page.goto(svg.as_uri())
        page.locator("svg").screenshot(path=str(out / "link-rot-chart.png"))
        browser.close()
    print(f"screenshots in {out}: site-search.png, site-phone.png, link-rot-chart.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--style", default="din-iso-690")
    parser.add_argument("--screenshots", type=Path, metavar="DIR")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clippings-site-") as tmp:
        work = Path(tmp)
        bib = make_library(work, args.entries)
        print(f"{args.entries} entries, style {args.style} (wall and CPU seconds)")
        cmd = [sys.executable, "-m", "clippings", "--library", str(bib), "site",
               "-o", str(work / "public"), "--style", args.style]
        timed("clippings site (process)", lambda: subprocess.run(cmd, check=True))
        timed("clippings site --health --group-by year (process)",
              lambda: subprocess.run(cmd + ["--health", "--group-by", "year"], check=True))
        from clippings.library import Library
        from clippings.static_site import render_page, render_references
        records = timed("in-process: load the library",
                        lambda: list(Library.load(bib).records()))
        refs = timed("in-process: references (pandoc citeproc)",
                     lambda: render_references(records, args.style, "de-DE"))
        timed("in-process: the page from them (groups, index, HTML)",
              lambda: render_page(records, style=args.style, locale="de-DE",
                                  references=refs))
        size = sum(p.stat().st_size for p in (work / "public").iterdir())
        print(f"{'site size':<54} {size / 1e6:8.2f} MB")
        if args.screenshots:
            args.screenshots.mkdir(parents=True, exist_ok=True)
            screenshots(args.screenshots, bib, work)


if __name__ == "__main__":
    main()
