"""The health of a library's links, and a chart of link rot by year of publication.

Built from the link-check results (`index/links.json`, see `links_cache`, or the
`Result`s of a run) and the library. Pure: no network, no printing. Two functions are
the API the command line, the static site and the web interface call:

- `health(records, results) -> Health`: for the entries' `url` links, the count of every
  status (`counts`, plus `unchecked` for links never checked), the links to act on
  (`problems`: broken, gone, soft-404, drifted, moved, also of `archiveurl` copies, each
  with its archive copy if one is known), and link rot by year of publication
  (`by_year`: per year the checked links and how many of them are broken, gone, soft
  404, drifted, unclear (blocked, timeout, TLS or other error), moved or fine).
  `records` is a `Library` or any iterable of `Record`s; `results` holds `links.Result`s
  or their dicts (`links_cache.load(folder).values()`). Only results for the URLs the
  entries hold now count, so a stale cache cannot report links that were since fixed.
  `Health.as_dict()` is its JSON form (`check --report FILE.json`).
- `rot_chart_svg(health, lang="de", title=None, ident="rot") -> str`: a self-contained SVG document,
  one 100 % stacked bar per year (rot at the bottom, where the eye compares), axes with
  labels, a legend, a `<title>` and a `<desc>` that reads the figures out for screen
  readers, and a `<title>` tooltip on every bar segment. Built with ElementTree, so every
  text is escaped. `lang` is "de" or "en".

`library_health(bib_path)` loads both from a library folder, `report(health, name, lang)`
renders a report file by its suffix (`.svg` the chart, `.json` the figures), and
`lang_for(locale)` picks the chart's language from a CSL locale.

Why a stacked share rather than counts: years hold very different numbers of links, and
link-rot studies compare the share that is lost per year of publication; the number of
links checked stands under each bar.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from .links import RECOVER, Result, Status
from .links_cache import STATUS_WORDS

# The bar segments, bottom to top: the losses first, then the doubtful, then the fine.
CATEGORIES = ("broken", "gone", "soft_404", "drifted", "unclear", "redirected", "ok")
_CATEGORY = {Status.BROKEN: "broken", Status.GONE: "gone", Status.SOFT_404: "soft_404",
             Status.DRIFTED: "drifted", Status.REDIRECTED: "redirected", Status.OK: "ok",
             Status.BLOCKED: "unclear", Status.TIMEOUT: "unclear",
             Status.TLS_ERROR: "unclear", Status.ERROR: "unclear"}
# Colour-blind-safe (ColorBrewer PuOr/RdBu family), dark for losses, pale for fine.
COLORS = {"broken": "#b2182b", "gone": "#e66101", "soft_404": "#fdb863",
          "drifted": "#5e3c99", "unclear": "#a6a6a6", "redirected": "#92c5de",
          "ok": "#e3ecf2"}
# Problems worth a line in a report: lost or changed pages, and moved ones to update.
PROBLEM_STATUSES = RECOVER | {Status.REDIRECTED}
NO_YEAR = ""

def status_words(lang: str) -> dict[str, str]:
    """status -> its words in `lang` ('de' or 'en')."""
    column = 1 if lang == "en" else 0
    return {status: words[column] for status, words in STATUS_WORDS.items()}


LABELS = {
    "de": {**status_words("de"), "broken": "nicht gefunden (404/410)",
           "unclear": "unklar (blockiert, Zeitüberschreitung, Fehler)",
           "title": "Linkverfall nach Erscheinungsjahr",
           "x": "Erscheinungsjahr", "y": "Anteil der Links",
           "n": "Links", "no_year": "o. J.", "empty": "Noch keine geprüften Links.",
           "summary": "{checked} von {total} Links geprüft; verloren (nicht gefunden, Server "
                      "weg, Fehlerseite): {lost} ({lost_pct}); Text verändert: {drifted}.",
           "year": "{year}: {n} Links, davon {parts}.",
           "segment": "{year}: {label}: {count} von {n} ({pct})"},
    "en": {**status_words("en"), "broken": "not found (404/410)",
           "unclear": "unclear (blocked, timeout, error)",
           "title": "Link rot by year of publication",
           "x": "Year of publication", "y": "Share of links",
           "n": "links", "no_year": "n.d.", "empty": "No checked links yet.",
           "summary": "{checked} of {total} links checked; lost (not found, server gone, "
                      "error page): {lost} ({lost_pct}); text changed: {drifted}.",
           "year": "{year}: {n} links, of which {parts}.",
           "segment": "{year}: {label}: {count} of {n} ({pct})"},
}


@dataclass
class Problem:
    """One link to act on, with what is known about a replacement."""

    key: str
    field: str                 # url or archiveurl
    url: str
    status: str
    http_status: int | None = None
    message: str = ""
    final_url: str | None = None
    new_url: str | None = None         # where a moved page lives now
    archive_url: str | None = None     # an archived copy (found by check, or the entry's)
    archive_date: str | None = None
    title: str = ""
    year: str = ""
    checked_at: str = ""


@dataclass
class YearRot:
    """The checked `url` links of the entries published in one year."""

    year: str                  # four digits, or "" for entries without a date
    links: int = 0             # checked links
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))

    def share(self, category: str) -> float:
        return self.counts.get(category, 0) / self.links if self.links else 0.0

    @property
    def lost(self) -> int:
        return self.counts["broken"] + self.counts["gone"] + self.counts["soft_404"]


@dataclass
class Health:
    total: int = 0             # entries' url links
    unchecked: int = 0         # of them never checked (or checked for another URL)
    counts: dict[str, int] = field(default_factory=dict)   # status -> links, every status
    problems: list[Problem] = field(default_factory=list)
    by_year: list[YearRot] = field(default_factory=list)   # oldest first, no year last
    last_checked: str = ""     # the newest checked_at among the results used

    @property
    def checked(self) -> int:
        return self.total - self.unchecked

    @property
    def lost(self) -> int:
        return sum(self.counts.get(s, 0) for s in ("broken", "gone", "soft_404"))

    def as_dict(self) -> dict:
        data = asdict(self)
        data["checked"] = self.checked
        data["lost"] = self.lost
        for year, item in zip(self.by_year, data["by_year"]):
            item["lost"] = year.lost
        return data


def _as_result(item) -> Result | None:
    if isinstance(item, Result):
        return item
    try:
        return Result.from_dict(item)
    except (KeyError, TypeError, ValueError):
        return None   # a record from another version of the cache: ignore it


def _records(records) -> Iterable:
    return records.records() if hasattr(records, "records") else records


def health(records, results: Iterable) -> Health:
    """The link health of `records` (a Library or Records) from check `results`."""
    latest: dict[tuple[str, str, str], Result] = {}
    for item in results:
        r = _as_result(item)
        if r is None:
            continue
        slot = (r.key, r.field, r.url)
        if slot not in latest or (r.checked_at or "") >= (latest[slot].checked_at or ""):
            latest[slot] = r
    out = Health(counts={s.value: 0 for s in Status})
    years: dict[str, YearRot] = {}
    for rec in _records(records):
        url = rec.fields.get("url", "").strip()
        archive = rec.fields.get("archiveurl", "").strip()
        year = rec.year or NO_YEAR
        title = rec.fields.get("title", "")
        if archive:
            r = latest.get((rec.key, "archiveurl", archive))
            if r is not None and r.status in PROBLEM_STATUSES:
                out.problems.append(_problem(r, title, year, None))
        if not url:
            continue
        out.total += 1
        r = latest.get((rec.key, "url", url))
        if r is None:
            out.unchecked += 1
            continue
        out.last_checked = max(out.last_checked, r.checked_at or "")
        out.counts[r.status.value] += 1
        bucket = years.setdefault(year, YearRot(year))
        bucket.links += 1
        bucket.counts[_CATEGORY[r.status]] += 1
        if r.status in PROBLEM_STATUSES:
            out.problems.append(_problem(r, title, year, rec.fields))
    out.by_year = sorted(years.values(), key=lambda y: (y.year == NO_YEAR, y.year))
    order = {s.value: i for i, s in enumerate((Status.BROKEN, Status.GONE, Status.SOFT_404,
                                               Status.DRIFTED, Status.REDIRECTED))}
    out.problems.sort(key=lambda p: (order.get(p.status, 99), p.key, p.field))
    return out


def _problem(r: Result, title: str, year: str, fields: dict | None) -> Problem:
    archive, archive_date = r.archive_url, r.archive_date
    if not archive and fields and fields.get("archiveurl"):
        archive, archive_date = fields["archiveurl"], fields.get("archivedate") or None
    return Problem(key=r.key, field=r.field, url=r.url, status=r.status.value,
                   http_status=r.http_status, message=r.message, final_url=r.final_url,
                   new_url=r.new_url, archive_url=archive, archive_date=archive_date,
                   title=title, year=year, checked_at=r.checked_at)


# --------------------------------------------------------------------------- the chart

def _pct(part: int, whole: int, lang: str) -> str:
    value = 100 * part / whole if whole else 0.0
    text = f"{value:.0f}" if value >= 10 or value == 0 else f"{value:.1f}"
    if lang == "de":
        text = text.replace(".", ",")
    return f"{text} %"


def _labels(lang: str) -> dict[str, str]:
    return LABELS.get(lang, LABELS["en"])


def _summary(health: Health, lang: str) -> str:
    return _labels(lang)["summary"].format(
        checked=health.checked, total=health.total, lost=health.lost,
        lost_pct=_pct(health.lost, health.checked, lang),
        drifted=health.counts.get("drifted", 0))


def chart_description(health: Health, lang: str = "de") -> str:
    """The chart's figures as sentences, for screen readers and as the SVG's <desc>."""
    t = _labels(lang)
    if not health.by_year:
        return t["empty"]
    lines = [_summary(health, lang)]
    for y in health.by_year:
        parts = ", ".join(f"{t[c]} {y.counts[c]} ({_pct(y.counts[c], y.links, lang)})"
                          for c in CATEGORIES if y.counts[c])
        lines.append(t["year"].format(year=y.year or t["no_year"], n=y.links, parts=parts))
    return " ".join(lines)


def _legend_layout(labels: list[str], width: float) -> tuple[list[tuple[float, int]], int]:
    """(x offset, row) of each legend item, wrapping rows at `width` (text width estimated:
    an SVG file cannot measure its own text)."""
    places, x, row = [], 0.0, 0
    for label in labels:
        w = 18 + 6.8 * len(label) + 22
        if x and x + w > width:
            x, row = 0.0, row + 1
        places.append((x, row))
        x += w
    return places, row + 1


SVG_NS = "http://www.w3.org/2000/svg"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
TEXT = "#1f2933"
MUTED = "#52606d"


def rot_chart_svg(health: Health, lang: str = "de", title: str | None = None,
                  ident: str = "rot") -> str:
    """The link-rot chart of `health` as a standalone SVG document (UTF-8 text); `ident`
    prefixes its element ids, for pages that show more than one chart."""
    t = _labels(lang)
    title = t["title"] if title is None else title
    years = health.by_year
    # Bars narrow down so that decades of years still fit a page (about 900 px of plot);
    # below 40 px per year only every k-th year is labelled and the counts go to the
    # tooltips and the description.
    slot = max(12.0, min(48.0, 900 / max(len(years), 1)))
    bar, gap = round(slot * 0.72, 1), round(slot * 0.28, 1)
    every = 1 if slot >= 40 else -(-40 // int(slot))
    left, right, top = 64, 24, 72
    plot_h = 260
    plot_w = round(max(len(years), 1) * slot + gap)
    summary = _summary(health, lang) if years else t["empty"]
    width = max(left + plot_w + right, 600, round(48 + 6.4 * len(summary)))
    legend_at, legend_rows = _legend_layout([t[c] for c in CATEGORIES], width - 48)
    height = top + plot_h + 62 + legend_rows * 22 + 10
    svg = ET.Element("svg", {"xmlns": SVG_NS, "width": str(width), "height": str(height),
                             "viewBox": f"0 0 {width} {height}", "role": "img",
                             "aria-labelledby": f"{ident}-title {ident}-desc", "lang": lang,
                             "font-family": FONT, "font-size": "12", "fill": TEXT})
    ET.SubElement(svg, "title", {"id": f"{ident}-title"}).text = title
    ET.SubElement(svg, "desc", {"id": f"{ident}-desc"}).text = chart_description(health, lang)
    ET.SubElement(svg, "rect", {"width": str(width), "height": str(height), "fill": "#fff"})
    ET.SubElement(svg, "text", {"x": "24", "y": "28", "font-size": "16",
                                "font-weight": "600"}).text = title
    ET.SubElement(svg, "text", {"x": "24", "y": "48", "fill": MUTED}).text = summary
    base = top + plot_h
    grid = ET.SubElement(svg, "g", {"aria-hidden": "true"})
    for step in range(0, 101, 25):
        y = base - plot_h * step / 100
        ET.SubElement(grid, "line", {"x1": str(left), "x2": str(left + plot_w),
                                     "y1": f"{y:.1f}", "y2": f"{y:.1f}",
                                     "stroke": "#cbd2d9" if step else "#52606d",
                                     "stroke-width": "1"})
        ET.SubElement(grid, "text", {"x": str(left - 8), "y": f"{y + 4:.1f}",
                                     "text-anchor": "end", "fill": MUTED}).text = \
            f"{step} %"
    ET.SubElement(svg, "text", {"transform": f"translate(18 {top + plot_h / 2:.0f}) rotate(-90)",
                                "text-anchor": "middle", "fill": MUTED}).text = t["y"]
    bars = ET.SubElement(svg, "g", {"class": "bars"})
    for i, y in enumerate(years):
        x = round(left + gap + i * slot, 1)
        label = y.year or t["no_year"]
        group = ET.SubElement(bars, "g", {"class": "year", "data-year": label,
                                          "data-links": str(y.links)})
        bottom = float(base)
        for c in CATEGORIES:
            count = y.counts[c]
            if not count:
                continue
            h = plot_h * count / y.links
            rect = ET.SubElement(group, "rect", {
                "x": str(x), "y": f"{bottom - h:.2f}", "width": str(bar), "height": f"{h:.2f}",
                "fill": COLORS[c], "data-category": c, "data-count": str(count)})
            ET.SubElement(rect, "title").text = t["segment"].format(
                year=label, label=t[c], count=count, n=y.links, pct=_pct(count, y.links, lang))
            bottom -= h
        if i % every == 0 or not y.year:
            ET.SubElement(group, "text", {"x": f"{x + bar / 2:.1f}", "y": str(base + 16),
                                          "text-anchor": "middle"}).text = label
        if every == 1:
            ET.SubElement(group, "text", {"x": f"{x + bar / 2:.1f}", "y": str(base + 30),
                                          "text-anchor": "middle", "fill": MUTED,
                                          "font-size": "10"}).text = f"n={y.links}"
    ET.SubElement(svg, "text", {"x": f"{left + plot_w / 2:.0f}", "y": str(base + 48),
                                "text-anchor": "middle", "fill": MUTED}).text = t["x"]
    legend = ET.SubElement(svg, "g", {"class": "legend"})
    for c, (col, row) in zip(CATEGORIES, legend_at):
        lx, ly = 24 + col, base + 64 + row * 22
        ET.SubElement(legend, "rect", {"x": str(lx), "y": str(ly), "width": "12",
                                       "height": "12", "fill": COLORS[c], "stroke": "#9aa5b1",
                                       "stroke-width": "0.5"})
        ET.SubElement(legend, "text", {"x": str(lx + 18), "y": str(ly + 10)}).text = t[c]
    return ET.tostring(svg, encoding="unicode", xml_declaration=False) + "\n"


# --------------------------------------------------------------------------- reports

REPORT_SUFFIXES = (".svg", ".json")


def lang_for(locale: str | None) -> str:
    """The chart's language for a locale such as de-DE or en-US (German unless English)."""
    return "en" if (locale or "").lower().startswith("en") else "de"


def check_report_name(name: str) -> str:
    """The report's suffix, or a UsageError naming the ones there are."""
    from pathlib import Path

    from .errors import UsageError
    suffix = Path(name).suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        raise UsageError(f"cannot write a report as {name!r}: name it .svg (the link-rot "
                         "chart) or .json (the figures)")
    return suffix


def report(health: Health, name: str, lang: str = "de") -> bytes:
    """The report file for `name`: the chart for .svg, the figures for .json."""
    import json
    if check_report_name(name) == ".json":
        return (json.dumps(health.as_dict(), ensure_ascii=False, indent=1) + "\n").encode()
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + rot_chart_svg(health, lang)).encode()


def library_health(bib_path, settings=None) -> Health:
    """The health of the library at `bib_path` from its cached check results."""
    from pathlib import Path

    from . import links_cache
    from .library import Library
    lib = Library.load(bib_path, settings)
    return health(lib, links_cache.load(Path(bib_path).parent).values())
