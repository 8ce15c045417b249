"""Choosing the title: the headline as the page shows it, weighed against the titles that
metadata and `<title>` state, with the site's name and section labels taken off.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from . import dates
from .page import Candidates, Page
from .sources import CHAIN

SEPARATORS = re.compile(r"\s+[|–—·•»«:~/\\-]{1,2}\s+|\s*::\s*|\s*\|\s*")


def fold(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def host_label(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    parts = [p for p in host.split(".") if p not in ("www", "m", "de", "at", "ch", "com", "org",
                                                     "net", "info", "eu", "ru", "blog", "co",
                                                     "uk", "gv", "blogspot")]
    return max(parts, key=len) if parts else host


def is_site(piece: str, sites: list[str], url: str) -> bool:
    f = fold(piece)
    if not f:
        return True
    label = fold(host_label(url))
    for s in sites:
        fs = fold(s)
        if fs and (f == fs or len(f) >= 4 and (f in fs or fs in f) and abs(len(f) - len(fs)) < 12):
            return True
    return bool(label) and len(label) >= 3 and (label in f or f in label and len(f) >= 4) \
        and len(piece.split()) <= 5


# Section names that CMSs put into `<title>` beside the site ("Site » Blog Archiv » Headline").
_SECTION_WORDS = {"blogarchiv", "archiv", "archive", "blog", "news", "aktuelles", "aktuell",
                  "startseite", "home", "detail", "details", "presse", "pressemitteilungen",
                  "pressemitteilung", "nachrichten", "artikel", "meldungen", "magazin",
                  "medienmitteilungen"}


def strip_site(title: str, sites: list[str], url: str,
               sections: bool = False) -> tuple[str, str]:
    """("headline", "site affix") from a `<title>` / og:title like "Headline | Site".

    With `sections`, section names beside the site ("Blog Archiv", "News") go too.
    """
    pieces = SEPARATORS.split(title)
    seps = SEPARATORS.findall(title)
    if len(pieces) < 2:
        return title, ""

    def affix_piece(piece: str) -> bool:
        return is_site(piece, sites, url) or sections and fold(piece) in _SECTION_WORDS

    # Remove affixes from the ends while they look like the site (or a section of it).
    start, end = 0, len(pieces)
    affix = ""
    while end - start > 1 and affix_piece(pieces[end - 1]):
        if is_site(pieces[end - 1], sites, url):
            affix = affix or pieces[end - 1]
        end -= 1
    while end - start > 1 and affix_piece(pieces[start]):
        if is_site(pieces[start], sites, url):
            affix = affix or pieces[start]
        start += 1
    if (start, end) == (0, len(pieces)) and "|" in seps[-1] and len(pieces[-1].split()) <= 5:
        # "Headline | Anything short": a pipe nearly always introduces the site.
        affix, end = pieces[-1], end - 1
    core = title
    if (start, end) != (0, len(pieces)):
        core = pieces[start]
        for sep, piece in zip(seps[start:end - 1], pieces[start + 1:end]):
            core += sep + piece
    return core.strip(), affix.strip()


def similar(a: str, b: str) -> bool:
    fa, fb = fold(a), fold(b)
    if not fa or not fb:
        return False
    if fa == fb:
        return True
    short, long_ = sorted((fa, fb), key=len)
    if len(short) >= 12 and short in long_ and len(short) >= 0.4 * len(long_):
        return True
    wa, wb = set(re.findall(r"\w+", a.lower())), set(re.findall(r"\w+", b.lower()))
    return len(wa & wb) >= 0.7 * min(len(wa), len(wb)) and min(len(wa), len(wb)) >= 3


_GENERIC_TITLES = {"home", "startseite", "index", "detail", "details", "willkommen", "welcome",
                   "untitled", "ohnetitel", "news", "blog", "aktuelles", "artikel", "beitrag",
                   "pressemitteilung", "pressemitteilungen", "meldung", "veranstaltung", "seite"}


def _generic(title: str, sites: list[str]) -> bool:
    """A `<title>` or og:title that names no article: "Home", "Detail", the site's own name."""
    f = fold(title)
    return f in _GENERIC_TITLES or any(f == fold(s) for s in sites if s)


def choose_title(page: Page, cands: dict[str, Candidates], site: str) -> tuple[str, str, str]:
    h = cands.get("heuristics", {})
    rules = page.rules
    sites = [s for s in (site, cands.get("opengraph", {}).get("journaltitle"),
                         cands.get("jsonld", {}).get("journaltitle"),
                         cands.get("jsonld", {}).get("publisher"), h.get("journaltitle")) if s]
    sections = "section_affix" in rules
    metas: list[tuple[str, str]] = []
    for name, _ in CHAIN:
        t = cands.get(name, {}).get("title")
        if t:
            metas.append((strip_site(t, sites, page.url, sections)[0], name))
    if h.get("title_tag"):
        metas.append((strip_site(h["title_tag"], sites, page.url, sections)[0], "title"))
    if "generic_title" in rules:
        metas = [(t, src) for t, src in metas if not _generic(t, sites)]
    subtitle = next((cands[n].get("subtitle") for n, _ in CHAIN
                     if cands.get(n, {}).get("subtitle")), "")
    heads = [x for x in h.get("headings", []) if not x["logo"]
             and not is_site(x["title"], sites, page.url)]
    if "headline_class" in rules and not any(not x["furniture"] for x in heads):
        # The <h1> is a breadcrumb or missing: the element styled as headline is what
        # readers see, when the metadata names it.
        for text in h.get("styled_heads", []):
            if any(similar(text, meta) for meta, _ in metas):
                return _tidy(text), _sub(subtitle, text, sites), "headline"
    for head in sorted(heads, key=lambda x: x["furniture"]):
        for meta, _src in metas:
            lines = head.get("lines", [])
            if len(lines) >= 2 and not head["kicker"]:
                # "Headline<br>second line": the line the metadata names is the title.
                named = [line for line in lines if fold(line) == fold(meta)]
                if named:
                    rest = " ".join(line for line in lines if line is not named[0])
                    return _tidy(named[0]), _sub(rest, named[0], sites), "heading"
            if similar(head["title"], meta) or similar(head["text"], meta):
                title = _tidy(strip_site(head["title"], sites, page.url)[0])
                sub = head["kicker"] or head.get("second") or subtitle
                if not sub and fold(meta).endswith(fold(title)) and ":" in meta:
                    sub = meta.split(":", 1)[0].strip() if len(meta.split(":", 1)[0]) < 60 else ""
                return title, _sub(sub, title, sites), "heading"
    main = [x for x in heads if not x["furniture"]]
    if "headline_over_title" in rules and len(main) == 1 and metas:
        # One headline in the article that the metadata does not name: what the reader
        # sees wins over a `<title>` (or og:title) that says something else.
        only_title_tag = all(src == "title" for _, src in metas)
        words = len(main[0]["title"].split())
        if words >= (2 if only_title_tag else 3) and not _generic(main[0]["title"], sites):
            return (_tidy(main[0]["title"]), _sub(main[0]["kicker"], main[0]["title"], sites),
                    "heading")
    if "bold_headline" in rules and h.get("prominent") and not main and \
            not is_site(h["prominent"], sites, page.url):
        # No headline element (or only the site's name as <h1>): a line set in bold or
        # large type before the text is the headline. Over a <title> only when the page
        # has no <h1> at all; otherwise only when the metadata names that line.
        line = h["prominent"]
        if not metas or not h.get("has_h1") and all(src == "title" for _, src in metas) or \
                any(similar(line, meta) for meta, _ in metas):
            return _tidy(line), "", "prominent"
    if metas:
        return _tidy(metas[0][0]), _sub(subtitle, metas[0][0], sites), metas[0][1]
    if main:
        return (_tidy(main[0]["title"]), _sub(main[0]["kicker"], main[0]["title"], sites),
                "heading")
    return "", "", ""


def _tidy(title: str) -> str:
    return title.strip(" :|-–—·•").strip()


def _sub(sub: str, title: str, sites: list[str]) -> str:
    """A kicker or second line, unless it is really a dateline, byline or the site name."""
    sub = _tidy(sub or "")
    if not sub or fold(sub) == fold(title) or fold(sub) in fold(title) or len(sub) > 200:
        return ""
    if dates.find(sub) or re.search(r"\d{1,2}:\d{2}|[|•]", sub) or \
            re.match(r"(?:von|by|от|autor)\b", sub, re.I):
        return ""
    if any(fold(sub) == fold(s) for s in sites):
        return ""
    return sub


