"""Shared pieces of the metadata benchmarks on ../shared/realpages.

The pages (saved German web pages with human-annotated first-publication dates in
`dates.json`) are development data only: they are read from beside the repository and
never copied into it. Both `eval_metadata_offline.py` (extractors called on the bytes)
and `eval_metadata.py` (pages served over HTTP to `clippings add`) score with these
helpers, so their figures mean the same thing.
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_PAGES = ROOT.parent / "shared" / "realpages"

# A tool's result on one page: {"date", "title", "site", "authors": [...], ...}.
Result = dict
Row = dict          # {"page", "url", "gold_date", TOOL: Result, ...}

GOLD_METADATA = ROOT / "benchmarks" / "gold_metadata.json"


def fold(text: str | None) -> str:
    """Text compared as a reader compares it: case, quotes, dashes and spacing ignored."""
    import re
    return re.sub(r"[\W_]+", "", (text or "").lower())


def title_ok(result: Result, row: Row) -> bool | None:
    gold = (row.get("gold") or {}).get("title")
    return None if gold is None else fold(result.get("title")) in {fold(g) for g in gold}


def site_ok(result: Result, row: Row) -> bool | None:
    gold = (row.get("gold") or {}).get("site")
    return None if gold is None else fold(result.get("site")) in {fold(g) for g in gold}


def _family_key(family: str) -> str:
    words = family.split()   # "von Ritter" and "Ritter" are the same person's family name
    return fold(words[-1]) if words else ""


def authors_ok(result: Result, row: Row) -> bool | None:
    """The persons of the byline, compared by family name (organisations left out)."""
    gold = (row.get("gold") or {}).get("authors")
    if gold is None:
        return None
    found = {_family_key(f) for f in result.get("persons") or []}
    return found == {_family_key(f) for f in gold}


def date_ok(result: Result, row: Row) -> bool | None:
    return result.get("date") == row["gold_date"]


# Fields judged against gold labels: (label, test). A test answers None where the page
# has no label for that field; such pages are left out of that field's figure.
JUDGED: list[tuple[str, Callable[[Result, Row], bool | None]]] = [
    ("date", date_ok), ("title", title_ok), ("authors", authors_ok), ("publication", site_ok)]


def load_gold_metadata() -> dict[str, dict]:
    """benchmarks/gold_metadata.json: hand-judged title, authors and publication per page."""
    if not GOLD_METADATA.is_file():
        return {}
    data = json.loads(GOLD_METADATA.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def judged_share(rows: list[Row], tool: str, test) -> tuple[float, int]:
    """(share of judged pages on which `tool` is right, number of judged pages)."""
    verdicts = [test(r[tool], r) for r in rows]
    judged = [v for v in verdicts if v is not None]
    return (sum(judged) / len(judged) if judged else 0.0), len(judged)


def site_of(url: str) -> str:
    from urllib.parse import urlsplit
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def failures(rows: list[Row], tool: str) -> list[str]:
    """One line per page and field where `tool` disagrees with the gold labels."""
    out = []
    for label, test in JUDGED:
        for r in rows:
            if test(r[tool], r) is False:
                gold = r["gold_date"] if label == "date" else (r.get("gold") or {}).get(
                    {"publication": "site"}.get(label, label))
                got = {"date": r[tool].get("date"), "title": r[tool].get("title"),
                       "authors": r[tool].get("persons"), "publication": r[tool].get("site")}[label]
                src = (r[tool].get("sources") or {}).get(
                    {"publication": "journaltitle", "authors": "author"}.get(label, label))
                out.append(f"  {label:<11} {r['page']}  got {got!r}"
                           + (f" [{src}]" if src else "") + f"  want {gold!r}")
    return out


FIGURES: list[tuple[str, Callable[[Result, Row], bool]]] = [
    ("date accuracy", lambda d, r: d["date"] == r["gold_date"]),
    ("date found", lambda d, r: bool(d["date"])),
    ("title found", lambda d, r: bool(d["title"])),
    ("author found", lambda d, r: bool(d["authors"])),
    ("site name found", lambda d, r: bool(d["site"])),
]


def load_gold(pages: Path) -> dict[str, dict] | None:
    """dates.json as {file name: {"url", "date"}}, or None when the pages are not there."""
    index = pages / "dates.json"
    if not index.is_file():
        return None
    return json.loads(index.read_text(encoding="utf-8"))


def add_common_arguments(parser) -> None:
    """--pages, --show-misses and --dump, which both evaluation scripts take."""
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--show-misses", action="store_true", help="list wrong dates")
    parser.add_argument("--dump", type=Path, help="write per-page results as JSON")


def gold_or_message(pages: Path) -> dict[str, dict] | None:
    """dates.json, or None after saying that there is nothing to measure."""
    gold = load_gold(pages)
    if gold is None:
        print(f"no pages at {pages} (dates.json missing): nothing to measure")
    return gold


def run_clippings(raw: bytes, url: str, with_text: bool, content_type: str | None = None,
                  rules: frozenset | None = None) -> tuple[Result, float]:
    """clippings' HTML chain on one page (with only `rules` of its optional rules, if
    given), and the seconds it took."""
    from clippings.extract import html

    start = time.perf_counter()
    kwargs = {} if rules is None else {"rules": rules}
    result = html.extract(raw, url, with_text=with_text, content_type=content_type, **kwargs)
    elapsed = time.perf_counter() - start
    rec = result.record
    return {"date": rec.get("date"), "title": rec.get("title"), "subtitle": rec.get("subtitle"),
            "site": rec.get("journaltitle"), "type": rec.type,
            "authors": [str(n) for n in rec.names.get("author", [])],
            "persons": [n.family for n in rec.names.get("author", []) if not n.literal],
            "sources": result.sources}, elapsed


def run_trafilatura(raw: bytes, url: str) -> tuple[Result, float]:
    """Plain trafilatura `extract_metadata` on one page, and the seconds it took."""
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
            "authors": authors, "persons": [a.split()[-1] for a in authors]}, elapsed


def share(rows: list[Row], tool: str, test: Callable[[Result, Row], bool]) -> float:
    """Fraction of pages on which `tool`'s result passes `test`."""
    return sum(1 for r in rows if test(r[tool], r)) / len(rows) if rows else 0.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): a value that was actually measured."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def format_table(header: list[str], body: list[list[str]]) -> str:
    """Plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def fmt(line: list[str]) -> str:
        cells = [line[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(line[1:], widths[1:])]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(line) for line in body)])
