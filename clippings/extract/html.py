"""The HTML chain: run every metadata source on a page, then choose each field
(titles in `titles`, the publication's name in `sitename`).

Simple fields go to the first source (in `sources.CHAIN` order) that has them. Title,
authors, site name and date are chosen with the reader in mind: the headline as displayed,
the people in the visible byline, the publication's own name, the date of first
publication (published over modified; metadata, then the visible date, then the URL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..model import Name, Record
from . import dates, language, people, urls
from .page import Candidates, Page
from .sitename import choose_site
from .sources import CHAIN
from .sources.heuristics import page_text
from .titles import choose_title, fold, host_label


@dataclass
class Extraction:
    """What extraction found: the record, the main text, and which source won each field."""

    record: Record
    text: str = ""
    sources: dict[str, str] = field(default_factory=dict)
    candidates: dict[str, Candidates] = field(default_factory=dict)


_SIMPLE = ("doi", "abstract", "volume", "number", "pages", "issn", "isbn", "institution")
_NEWS_HOSTS = re.compile(r"zeitung|news|nachrichten|tagesschau|presse|kurier|anzeiger|blatt|"
                         r"rundschau|allgemeine|morgenpost|abendzeitung|tagblatt|bote|echo|"
                         r"journal|times|post\b|merkur|stimme|spiegel|zeit\.de|focus|welt|"
                         r"taz|mdr|ndr|wdr|swr|br\.de|zdf|orf|srf|heute|stern|bild", re.I)


# Rules that read what a reader sees where metadata is missing or misleading. Each can be
# switched off (`extract(..., rules=...)`), so benchmarks/eval_metadata_offline.py can
# measure every one of them leave-one-site-out.
RULES = frozenset({
    "generic_title",         # a <title> like "Home" or the site's own name names no article
    "section_affix",         # "Site » Blog Archiv » Headline": section names go with the site
    "headline_class",        # <h1> in a breadcrumb: the element styled as headline
    "headline_over_title",   # the one visible headline beats a <title> that says otherwise
    "bold_headline",         # no <h1>: a bold or large first line is the headline
    "byline_after_heading",  # "von Andreas Kürten" right below the headline
    "byline_after_date",     # "29. Juni 2017 · von Tobi"
    "inner_byline",          # the tightest byline element
    "end_byline",            # "(Christian P. Stadtfeld)" / "von Jens Steglich" at the end
    "site_named_person",     # "OÖ Volksblatt" on volksblatt.at is no person
    "site_name_cleanup",     # ".:: NMB-MEDIA ::.", "Osthessen|News", "www.kas.de" as weak
    "logo_alt",              # the logo's alt text names the publication
    "host_as_spelled",       # "Ökolandbau.de" as the page writes it, not "oekolandbau.de"
    "copyright",             # "© 2016 Lausitzer Rundschau" in the footer
})


def decode(content: bytes | str, content_type: str | None = None) -> str:
    if isinstance(content, str):
        return content
    from ..http import decode_body   # header charset, <meta charset>, then detection
    return decode_body(content, content_type)[0]


def is_pdf(content: bytes | str, content_type: str | None) -> bool:
    if content_type and "pdf" in content_type.lower():
        return True
    head = content[:1024] if isinstance(content, bytes) else b""
    return head.lstrip().startswith(b"%PDF-")


def extract(content: bytes | str, url: str, *, text: str | None = None,
            content_type: str | None = None, content_language: str | None = None,
            with_text: bool = True, rules: frozenset[str] = RULES) -> Extraction:
    """Metadata and main text of a fetched document (HTML; PDFs are handed to `pdf`).

    `rules` switches the optional rules (`RULES`) on; the benchmarks leave them out one
    at a time to check that each holds on sites it was not written for.
    """
    if is_pdf(content, content_type):
        from . import pdf
        return pdf.extract(content if isinstance(content, bytes) else content.encode("latin-1"),
                           url, text=text)
    page = Page.from_text(decode(content, content_type), url, content_language)
    page.rules = frozenset(rules)
    cands = {name: (fn(page) if page.tree is not None else {}) for name, fn in CHAIN}
    result = choose(page, cands)
    if with_text:
        result.text = text if text is not None else _main_text(page)
    result.candidates = cands
    return result


def _main_text(page: Page) -> str:
    from .maintext import main_text
    return main_text(page.tree if page.tree is not None else page.html, page.url)


def _first(cands: dict[str, Candidates], key: str) -> tuple[object, str]:
    for name, _ in CHAIN:
        value = cands.get(name, {}).get(key)
        if value:
            return value, name
    return None, ""


def choose(page: Page, cands: dict[str, Candidates]) -> Extraction:
    fields: dict[str, str] = {}
    won: dict[str, str] = {}

    def put(key: str, value, source: str) -> None:
        if value:
            fields[key] = value
            won[key] = source

    for key in _SIMPLE:
        put(key, *_first(cands, key))
    site, site_src = choose_site(page, cands)
    title, subtitle, title_src = choose_title(page, cands, site)
    put("title", title, title_src)
    put("subtitle", subtitle, title_src)
    put("journaltitle", site, site_src)
    put("date", *choose_date(page, cands))
    declared = [cands.get("heuristics", {}).get("url"), cands.get("opengraph", {}).get("url"),
                cands.get("jsonld", {}).get("url")]
    put("url", urls.canonical(page.url, [d for d in declared if d]), "canonical")
    put(*_langid(page, cands))
    names, names_src = choose_authors(page, cands, site)
    if fields.get("abstract") and len(fields["abstract"]) < 20:
        del fields["abstract"]
    entry_type, subtype = choose_type(page, cands, fields)
    if subtype:
        fields["entrysubtype"] = subtype
    record = Record(type=entry_type, fields=fields, names={"author": names} if names else {})
    if names:
        won["author"] = names_src
    return Extraction(record=record, sources=won)


# ------------------------------------------------------------------------------ language

def _langid(page: Page, cands: dict[str, Candidates]) -> tuple[str, str, str]:
    detected = language.detect(page_text(page))
    for name in ("heuristics", "highwire", "jsonld", "dublincore", "opengraph"):
        babel = language.from_code(cands.get(name, {}).get("lang"))
        if babel:
            # Themes ship `lang="en-US"` / `og:locale` defaults: the words on the page win.
            if detected and language.base(babel) != language.base(detected):
                return "langid", detected, "detected"
            return "langid", babel, name
    return "langid", detected or "", "detected" if detected else ""


# ---------------------------------------------------------------------------------- type

def choose_type(page: Page, cands: dict[str, Candidates], fields: dict) -> tuple[str, str]:
    kinds = [c.get("kind") for c in cands.values() if c.get("kind")]
    if "report" in kinds:
        return "report", ""
    if "thesis" in kinds:
        return "thesis", ""
    if "journal" in kinds:
        return "article", ""
    host = urlsplit(page.url).hostname or ""
    newsy = bool(page.meta("news_keywords") or page.meta("article:section")
                 or _NEWS_HOSTS.search(host) or _NEWS_HOSTS.search(fields.get("journaltitle", "")))
    if "newspaper" in kinds or ("article" in kinds and newsy and "date" in fields):
        return "article", "newspaper"
    return "online", ""


# --------------------------------------------------------------------------------- dates

def _consistent(found: list[str]) -> bool:
    """A page's own date repeats (header, footer, meta box); a list of events does not."""
    return len(set(found[:4])) <= 2


def _htmldate(page: Page) -> str:
    """htmldate's deeper search, for pages that state no date where we look."""
    if not hasattr(page, "_htmldate"):   # once per page, however often fields are chosen
        page._htmldate = _htmldate_search(page)
    return page._htmldate


def _htmldate_search(page: Page) -> str:
    try:
        from htmldate import find_date
    except ImportError:
        return ""
    try:
        found = find_date(page.html, url=page.url or None, original_date=True,
                          extensive_search=True, outputformat="%Y-%m-%d")
    except Exception:   # noqa: BLE001 -- a heuristic helper must never break extraction
        return ""
    return dates.parse(found) or ""


def choose_date(page: Page, cands: dict[str, Candidates]) -> tuple[str, str]:
    """Published over modified: stated metadata, then the page's visible date, then the URL."""
    h = cands.get("heuristics", {})
    spots = h.get("date_spots", {})
    url_day = h.get("url_date")
    structured = [(c.get("date"), name) for name, c in cands.items() if c.get("date")]
    visible = [(spots[k][0], k) for k in ("time_pub", "time", "classed", "labelled")
               if spots.get(k) and _consistent(spots[k])]
    if url_day:   # a date in the path is set once, at first publication
        return url_day, "url"
    if visible and (not structured or visible[0][0] not in [v for v, _ in structured]):
        # What the page shows beside the headline beats metadata that disagrees with it:
        # CMSs fill meta dates with import, re-index or first-draft dates.
        return visible[0]
    if structured:
        return structured[0]
    if url_day:
        return url_day, "url"
    guessed = _htmldate(page)
    if guessed:
        return guessed, "htmldate"
    modified = [c.get("modified") for c in cands.values() if c.get("modified")]
    if modified:
        return modified[0], "modified"
    for key in ("modified", "stand", "text"):
        if spots.get(key):
            return spots[key][0], key
    if h.get("url_month"):
        return h["url_month"], "url"
    return "", ""


# ------------------------------------------------------------------------------- authors

def _visible(name: Name, text: str) -> bool:
    return bool(name.family) and name.family.lower() in text


def choose_authors(page: Page, cands: dict[str, Candidates],
                   site: str = "") -> tuple[list[Name], str]:
    """Persons the page names in its byline; stated metadata when the page shows it."""
    names, src = _authors(page, cands)
    sites = [fold(s) for s in (site, cands.get("opengraph", {}).get("journaltitle", ""),
                                 cands.get("jsonld", {}).get("publisher", "")) if s]
    label = fold(host_label(page.url))
    # A "person" that is the site's own name ("Bernau LIVE") is the publisher, not an author.
    kept = [n for n in names if n.literal or not any(
        fold(f"{n.given}{n.family}") in s or fold(f"{n.family}{n.given}") in s for s in sites)
        and not (label and fold(n.family + n.given) in label)]
    if "site_named_person" in page.rules:
        # "OÖ Volksblatt" on volksblatt.at: a name part that is the host's name is no person.
        kept = [n for n in kept if n.literal or not label or
                label not in {fold(n.family), fold(n.given)}]
    return (kept, src) if kept else ([], "")


def _parse_byline(line: str, rules: frozenset) -> list[Name]:
    names = people.parse_byline(line)
    if not names and "byline_after_date" in rules:
        # "29. Juni 2017, 23:39 · von Tobi": the dateline comes first, the name after it.
        found = dates.find(line)
        if found:
            rest = re.sub(r"^[\s,]*(?:\d{1,2}:\d{2}(?:\s*uhr)?)?[\s·|•,/–-]*", "",
                          line[found[-1][1]:].split(" ", 3)[-1], flags=re.I)
            if rest and rest != line:
                names = people.parse_byline(rest)
    return names


def _authors(page: Page, cands: dict[str, Candidates]) -> tuple[list[Name], str]:
    text = page_text(page).lower()
    h = cands.get("heuristics", {})
    for name, _ in CHAIN:
        raw = cands.get(name, {}).get("author")
        if not raw:
            continue
        names = people.from_raw(raw)
        persons = [n for n in names if not n.literal and (name == "highwire" or _visible(n, text))]
        if persons:
            return persons, name
    rules = page.rules
    lines = list(h.get("bylines", []))
    if "byline_after_heading" in rules and h.get("heading_byline") and \
            h["heading_byline"] not in lines:
        lines.append(h["heading_byline"])
    parsed = [[n for n in _parse_byline(line, rules) if not n.literal] for line in lines]
    for i, persons in enumerate(parsed):
        if not persons:
            continue
        if "inner_byline" in rules:
            # A byline box holding a tighter byline element ("A, B & C" inside
            # "A, B & C Energie & Umwelt 26. Oktober"): the tighter text is the byline.
            inner = [p for j, p in enumerate(parsed) if p and j != i
                     and lines[j] in lines[i] and len(lines[j]) < len(lines[i])]
            if inner:
                return inner[0], "byline"
        return persons, "byline"
    for line in h.get("end_bylines", []) if "end_byline" in rules else []:
        persons = [n for n in people.parse_byline(line) if not n.literal]
        if persons:
            return persons, "end-byline"
    if h.get("meta_author"):
        persons = [n for n in people.from_raw(h["meta_author"])
                   if not n.literal and _visible(n, text)]
        if persons:
            return persons, "meta-author"
    # No person: an institution stated as creator of a document (reports, repositories).
    for name in ("highwire", "dublincore"):
        orgs = [n for n in people.from_raw(cands.get(name, {}).get("author") or []) if n.literal]
        if orgs:
            return orgs[:1], name
    # No person: an agency named in the byline is the author of record.
    for line in h.get("bylines", []):
        orgs = [n for n in people.parse_byline(line) if n.literal and people.is_agency(n.family)]
        if orgs:
            return orgs[:1], "byline"
    return [], ""
