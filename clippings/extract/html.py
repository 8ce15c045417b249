"""The HTML chain: run every metadata source on a page, then choose each field.

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
from .sources import CHAIN
from .sources.heuristics import page_text


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


# --------------------------------------------------------------------------------- titles

_SEPARATORS = re.compile(r"\s+[|–—·•»«:~/\\-]{1,2}\s+|\s*::\s*|\s*\|\s*")


def fold(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def _host_label(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    parts = [p for p in host.split(".") if p not in ("www", "m", "de", "at", "ch", "com", "org",
                                                     "net", "info", "eu", "ru", "blog", "co",
                                                     "uk", "gv", "blogspot")]
    return max(parts, key=len) if parts else host


def _is_site(piece: str, sites: list[str], url: str) -> bool:
    f = fold(piece)
    if not f:
        return True
    label = fold(_host_label(url))
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
    pieces = _SEPARATORS.split(title)
    seps = _SEPARATORS.findall(title)
    if len(pieces) < 2:
        return title, ""

    def affix_piece(piece: str) -> bool:
        return _is_site(piece, sites, url) or sections and fold(piece) in _SECTION_WORDS

    # Remove affixes from the ends while they look like the site (or a section of it).
    start, end = 0, len(pieces)
    affix = ""
    while end - start > 1 and affix_piece(pieces[end - 1]):
        if _is_site(pieces[end - 1], sites, url):
            affix = affix or pieces[end - 1]
        end -= 1
    while end - start > 1 and affix_piece(pieces[start]):
        if _is_site(pieces[start], sites, url):
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


def _similar(a: str, b: str) -> bool:
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
             and not _is_site(x["title"], sites, page.url)]
    if "headline_class" in rules and not any(not x["furniture"] for x in heads):
        # The <h1> is a breadcrumb or missing: the element styled as headline is what
        # readers see, when the metadata names it.
        for text in h.get("styled_heads", []):
            if any(_similar(text, meta) for meta, _ in metas):
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
            if _similar(head["title"], meta) or _similar(head["text"], meta):
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
            not _is_site(h["prominent"], sites, page.url):
        # No headline element (or only the site's name as <h1>): a line set in bold or
        # large type before the text is the headline. Over a <title> only when the page
        # has no <h1> at all; otherwise only when the metadata names that line.
        line = h["prominent"]
        if not metas or not h.get("has_h1") and all(src == "title" for _, src in metas) or \
                any(_similar(line, meta) for meta, _ in metas):
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


# ---------------------------------------------------------------------------- site names

def choose_site(page: Page, cands: dict[str, Candidates]) -> tuple[str, str]:
    """The publication's own name: stated metadata, the `<title>` affix, the logo, the host
    name as the page spells it, the copyright line; the bare host name only as a last resort."""
    h = cands.get("heuristics", {})
    rules = page.rules
    cleanup = "site_name_cleanup" in rules
    order = [("highwire", cands.get("highwire", {}).get("journaltitle")),
             ("opengraph", cands.get("opengraph", {}).get("journaltitle")),
             ("jsonld", cands.get("jsonld", {}).get("journaltitle"))]
    if cleanup and h.get("title_tag"):
        # og:site_name filled with the page's own title ("Headline | MLUK"): keep the affix.
        whole = fold(h["title_tag"])
        order = [(src, strip_site(v, [], page.url)[1] if v and len(_SEPARATORS.split(v)) > 1
                  and len(fold(v)) >= 0.8 * len(whole) and fold(v) in whole else v)
                 for src, v in order]
    if h.get("title_tag"):
        known = [v for _, v in order if v]
        affix = strip_site(h["title_tag"], known, page.url)[1] or _affix_beside_heading(
            h["title_tag"], h.get("headings", []))
        order.append(("title", affix))
    order += [("application-name", h.get("journaltitle")),
              ("jsonld-publisher", cands.get("jsonld", {}).get("publisher")),
              ("dublincore", cands.get("dublincore", {}).get("publisher"))]
    if "logo_alt" in rules:
        order += [("logo", _clean_logo(v)) for v in h.get("logos", [])]
    if "host_as_spelled" in rules:
        order.append(("host-spelled", _host_as_spelled(page, h)))
    if "copyright" in rules:
        order += [("copyright", v) for v in h.get("copyright", []) if not _COMPANY.search(v)]
    weak: list[tuple[str, str]] = []
    label = fold(_host_label(page.url))
    host = (urlsplit(page.url).hostname or "").lower().removeprefix("www.")
    stated = ("title", "application-name", "jsonld-publisher", "dublincore")
    for src, value in order:
        value = _clean_site(value or "", page.url, cleanup)
        address = value.lower().removeprefix("www.") == host
        if cleanup and value and (value.lower().startswith("www.") or address and not weak):
            # "www.bike-magazin.de", "die-tagespost.de": an address where the page may
            # also state its name ("BIKE", "Die Tagespost").
            weak.append((value, src))
            continue
        if value and weak and (address or not (label and (label in fold(value)
                                                          or fold(value) in label))):
            continue   # after an address, only a name that goes with it
        if value and weak and not weak[0][0].lower().startswith("www.") and (
                src not in stated or fold(value) != label):
            continue   # a bare address the site chose yields only to its own name stated
        if value:
            return value, src
    if weak:
        return weak[0]
    host = (urlsplit(page.url).hostname or "").lower()
    return (host[4:] if host.startswith("www.") else host), "host"


_COMPANY = re.compile(r"verlag|medien|media|holding|group|gruppe|limited|inc\b|ltd|gmbh|"
                      r"\bag\b|cc[ -]by|creative commons|rights|wordpress|phpbb|theme", re.I)
_LOGO_WORDS = re.compile(r"^(?:(?:das\s+)?logo(?:\s+(?:der|des|von|vom))?|zur startseite|"
                         r"startseite|home(?:page)?)\s*[:\-–]?\s*|\s*[:\-–]?\s*(?:logo|"
                         r"\(link zur (?:start|home)seite\)|[-–]\s*(?:zur\s+)?startseite|"
                         r"zur startseite|weblogo)$", re.I)


def _clean_logo(alt: str) -> str:
    """A logo's alt text as a name: "Logo der Konrad Adenauer Stiftung" -> the name."""
    prev = None
    while prev != alt:
        prev = alt
        alt = _LOGO_WORDS.sub("", alt).strip()
    if len(alt.split()) > 8 or re.search(r"\b(?:foto|bild|photo|icon|image|banner|grafik)\b",
                                         alt, re.I):
        return ""
    return alt


_GERMAN_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _host_fold(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower().translate(_GERMAN_FOLD))


def _host_as_spelled(page: Page, h: dict) -> str:
    """The host name as the page itself writes it: "Ökolandbau.de" for oekolandbau.de,
    "Berliner Feuerwehr" for berliner-feuerwehr.de; "" when the page never writes it."""
    host = (urlsplit(page.url).hostname or "").lower()
    host = host[4:] if host.startswith("www.") else host
    label = _host_label(page.url)
    wanted = [_host_fold(host), _host_fold(label) if len(_host_fold(label)) >= 3 else None]
    text = page_text(page)
    texts = [h.get("title_tag", ""), *(x["text"] for x in h.get("headings", [])),
             *h.get("logos", []), text[:5000], text[-3000:]]
    for target in wanted:
        if not target:
            continue
        for chunk in texts:
            words = re.findall(r"[\w.&'’-]+", chunk)
            for i in range(len(words)):
                for n in range(1, 5):
                    piece = " ".join(words[i:i + n]).strip(".-")
                    f = _host_fold(piece)
                    if f == target:
                        return piece
                    if len(f) > len(target):
                        break
    return ""


_LEGAL_FORM = re.compile(r",?\s+(?:GmbH(?:\s*&\s*Co\.?\s*KG)?|mbH|AG|KG|e\.\s?V\.|Ltd\.?|Inc\.?|"
                         r"LLC|S\.A\.|SE|ООО|АО)$")


def _affix_beside_heading(title_tag: str, heads: list[dict]) -> str:
    """ "Headline :: Site" where the page's heading is "Headline": the rest is the site."""
    pieces = _SEPARATORS.split(title_tag)
    if len(pieces) < 2:
        return ""
    for head in heads:
        f = fold(head["title"])
        if f and fold(pieces[0]) == f and len(pieces[-1].split()) <= 6:
            return pieces[-1]
        if f and fold(pieces[-1]) == f and len(pieces[0].split()) <= 6:
            return pieces[0]
    return ""


_SPACED_SEPARATORS = re.compile(r"\s+[|–—·•»«:~/\\-]{1,2}\s+|\s*::\s*")


def _clean_site(value: str, url: str, cleanup: bool = False) -> str:
    value = _LEGAL_FORM.sub("", value.strip(" -|:")).strip()
    prev = None
    while cleanup and prev != value:   # ".:: NMB-MEDIA ::." -> "NMB-MEDIA"
        prev = value
        value = re.sub(r"^[^\w(\"„«]+", "", value)
        value = re.sub(r"(?<=\W)\.+$|[^\w.)!?\"“»]+$", "", value)
    if not value or len(value) > 80 or fold(value) in ("home", "startseite", "index", "blog") \
            or not re.search(r"\w{2}", value) or "@" in value:
        return ""
    # "Osthessen|News" is a name; "Tegernseer Stimme - Nachrichten aus dem Tal" a name and
    # a slogan: split only at separators with spaces around them.
    pieces = (_SPACED_SEPARATORS if cleanup else _SEPARATORS).split(value)
    if len(pieces) > 1:   # "Tegernseer Stimme - Nachrichten aus dem Tal": keep the name part
        label = fold(_host_label(url))
        named = [p for p in pieces if label and (label in fold(p) or fold(p) in label)]
        value = named[0] if named else pieces[0]
    return value.strip()


# ------------------------------------------------------------------------------- authors

def _visible(name: Name, text: str) -> bool:
    return bool(name.family) and name.family.lower() in text


def choose_authors(page: Page, cands: dict[str, Candidates],
                   site: str = "") -> tuple[list[Name], str]:
    """Persons the page names in its byline; stated metadata when the page shows it."""
    names, src = _authors(page, cands)
    sites = [fold(s) for s in (site, cands.get("opengraph", {}).get("journaltitle", ""),
                                 cands.get("jsonld", {}).get("publisher", "")) if s]
    label = fold(_host_label(page.url))
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
