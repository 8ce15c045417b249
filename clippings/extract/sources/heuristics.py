"""What a reader sees when the markup states nothing: headings, bylines, visible dates,
`<title>` affixes, the canonical link, plain `<meta name=...>` tags.

Returns raw material (several headings, several dated spots) rather than one answer: the
chain in `extract.html` weighs it against the structured sources.
"""

from __future__ import annotations

import re

from .. import dates
from ..page import Candidates, Page, clean, text_of

# Class/id words of page furniture whose dates and names are not the article's.
_FURNITURE = re.compile(
    r"comment|kommentar|sidebar|related|teaser|footer|widget|recent|popular|weitere|"
    r"navigation|nav\b|menu|breadcrumb|cookie|share|social|newsletter|archive|calendar|"
    r"aside|promo|advert|anzeige|ticker|tags?-?cloud|most-?read|meistgelesen|reply|"
    r"author-?bio|post-?navigation|pagination|next|prev", re.I)
_FURNITURE_TAGS = {"footer", "nav", "aside", "form", "select", "button"}

_DATE_CLASS = re.compile(r"date|datum|time|zeit|posted|publish|meta|byline|stand|info|"
                         r"created|entry-?head|article-?head|dateline", re.I)
_MODIFIED_CLASS = re.compile(r"modif|update|aktualisier|changed|edited", re.I)

_PUBLISHED_LABEL = re.compile(
    r"(?:\b(?:ver(?:ö|oe)ffentlicht|erschienen|publiziert|eingestellt|erstellt|geschrieben|"
    r"gepostet|published|posted|written|created)(?:\s+(?:am|on|den|at))?\s*:?|"
    r"\b(?:datum|date|publication date|publikationsdatum)\s*:|"
    r"опубликовано|дата публикации\s*:?|размещено)\s*", re.I)
_MODIFIED_LABEL = re.compile(
    r"(?:zuletzt\s+)?(?:aktualisiert|geändert|bearbeitet|letzte\s+änderung|"
    r"last\s+(?:modified|updated)|updated|modified|обновлено|изменено)"
    r"(?:\s+(?:am|on|um))?\s*[:,]?\s*", re.I)
_STAND_LABEL = re.compile(r"\bStand(?:\s+vom)?\s*:?\s*", re.I)

_META_DATE_KEYS = ("date", "pubdate", "publishdate", "publish-date", "publish_date",
                   "publication_date", "publication-date", "published_time", "published-date",
                   "datepublished", "release_date", "sailthru.date", "parsely-pub-date",
                   "article.published", "article_date_original", "original-publish-date",
                   "og:published_time", "created", "creation_date", "date.created",
                   "displaydate", "dc.date.created", "cxenseparse:recs:publishtime",
                   "article.created", "publish-time", "pub_date", "originalpublicationdate")
_META_MODIFIED_KEYS = ("last-modified", "lastmod", "revised", "date.modified", "dateModified",
                       "modified", "article.updated", "last-updated")


def _classes(el) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''} {el.get('itemprop') or ''}"


def in_furniture(el, stop=None) -> bool:
    """Inside a comment list, sidebar, footer, navigation... (checked up the tree)."""
    node = el
    while node is not None and node is not stop:
        if node.tag == "aside" and _DATE_CLASS.search(_classes(node)):
            pass   # an article's own meta box, not a sidebar
        elif node.tag in _FURNITURE_TAGS or node.tag == "header" and node.getparent() is not None \
                and node.getparent().tag == "body":
            return True
        if node.tag in ("article", "main"):
            return False
        cls = _classes(node)
        if cls.strip() and _FURNITURE.search(cls):
            return True
        node = node.getparent()
    return False


# ----------------------------------------------------------------------------- headings

_KICKER = re.compile(r"kicker|dachzeile|topline|overline|roofline|supertitle|super-title|"
                     r"ueberschrift|spitzmarke|pretitle|pre-title|eyebrow|label|rubrik|zeile",
                     re.I)
_SUBTITLE = re.compile(r"subtitle|sub-title|subheadline|sub-headline|untertitel|subline|"
                       r"strapline|second-?line|zweitzeile", re.I)


def headings(page: Page) -> list[dict]:
    """Visible `<h1>`s (then `<h2>`s if the page has no h1), with kicker/second line split off."""
    out = []
    if page.body is None:
        return out
    found = list(page.body.iter("h1"))
    if not found:
        found = list(page.body.iter("h2"))[:5]
    for h in found[:8]:
        text = text_of(h)
        if not text or len(text) > 300:
            continue
        item = {"text": text, "title": text, "kicker": "", "furniture": in_furniture(h),
                "logo": h.find(".//img") is not None and len(text) < 40, "lines": _lines(h)}
        parts = [c for c in h if isinstance(c.tag, str) and text_of(c)]
        kickers = [c for c in parts if _KICKER.search(_classes(c))]
        if kickers and len(parts) >= 2:
            kicker = text_of(kickers[0])
            rest = clean(" ".join(text_of(c) for c in parts if c is not kickers[0]))
            if rest:
                item.update(title=rest, kicker=kicker.rstrip(":"))
        if not item["kicker"]:
            item["kicker"] = _sibling_line(h, _KICKER, before=True)
        item["second"] = _sibling_line(h, _SUBTITLE, before=False)
        out.append(item)
    return out


_HEADLINE_CLASS = re.compile(r"(?:^|[\s_-])(?:headline|head-?line|article-?title|entry-?title|"
                             r"post-?title|story-?title|article-?header__title|title--article)"
                             r"(?:$|[\s_-])", re.I)


def styled_headlines(page: Page) -> list[str]:
    """Texts of elements whose class calls them the headline ("article-headline", "entry-title"),
    outside navigation and teasers: where sites put the headline readers see when their `<h1>`
    is a breadcrumb or missing."""
    out: list[str] = []
    if page.body is None:
        return out
    for el in page.body.iter("h1", "h2", "h3", "span", "div", "p", "strong"):
        if not _HEADLINE_CLASS.search(el.get("class") or "") or in_furniture(el):
            continue
        text = text_of(el)
        if 10 <= len(text) <= 250 and text not in out:
            out.append(text)
        if len(out) >= 4:
            break
    return out


_STYLE_BIG = re.compile(r"font-size\s*:\s*(?:(\d+(?:\.\d+)?)px|(\d+(?:\.\d+)?)pt|"
                        r"(\d+(?:\.\d+)?)em|(x+-large|large))", re.I)
_STYLE_BOLD = re.compile(r"font-weight\s*:\s*(?:bold|[6-9]00)", re.I)


def _prominent(el) -> bool:
    """Set off as a headline by its markup: bold, large type or `<font size>`."""
    if el.tag in ("b", "strong") or el.tag == "font" and (el.get("size") or "").lstrip("+") \
            .isdigit() and int((el.get("size") or "0").lstrip("+")) >= 4:
        return True
    style = el.get("style") or ""
    m = _STYLE_BIG.search(style)
    if m:
        px, pt, em, word = m.groups()
        if word or px and float(px) >= 18 or pt and float(pt) >= 14 or em and float(em) >= 1.2:
            return True
    return bool(_STYLE_BOLD.search(style))


def prominent_line(page: Page) -> str:
    """The headline of a page without `<h1>`-`<h3>`: the first line set in bold or large type
    that stands alone (nothing but it in its paragraph) and is followed by running text."""
    if page.body is None:
        return ""
    seen_text = 0
    for el in page.body.iter():
        if not isinstance(el.tag, str) or el.tag in ("script", "style", "noscript"):
            continue
        if el.tag in ("p", "div", "td") and not len(el) and el.text and len(el.text.strip()) > 80:
            seen_text += 1   # running text before any headline: the page has none
            if seen_text > 2:
                return ""
        if not _prominent(el) or in_furniture(el):
            continue
        text = text_of(el)
        if not 8 <= len(text) <= 200 or len(text.split()) < 2 or dates.find(text):
            continue
        holder = el.getparent()
        while holder is not None and holder.tag in ("b", "strong", "font", "span", "em", "i"):
            holder = holder.getparent()
        if holder is not None and clean(text_of(holder)) != text and holder.tag not in ("body",):
            continue   # bold words inside a sentence, not a line of their own
        return text.rstrip(":")
    return ""


def _lines(h) -> list[str]:
    """A heading's visual lines: split at `<br>` and at its child elements."""
    lines, current = [], [h.text or ""]
    for child in h:
        if not isinstance(child.tag, str):
            current.append(child.tail or "")
            continue
        if child.tag == "br":
            lines.append(clean("".join(current)))
            current = [child.tail or ""]
            continue
        if child.tag in ("span", "div", "p", "small", "strong", "em", "b", "i", "a") and \
                clean(text_of(child)) and child.tag not in ("a",):
            lines.append(clean("".join(current)))
            lines.append(text_of(child))
            current = [child.tail or ""]
        else:
            current.append(text_of(child) + (child.tail or ""))
    lines.append(clean("".join(current)))
    return [line for line in lines if line]


def _sibling_line(h, pattern: re.Pattern, before: bool) -> str:
    sib = h.getprevious() if before else h.getnext()
    for _ in range(2):
        if sib is None or not isinstance(sib.tag, str):
            return ""
        if sib.tag in ("p", "span", "div", "h2", "h3", "h4", "strong") and pattern.search(_classes(sib)):
            text = text_of(sib)
            return text.rstrip(":") if 0 < len(text) <= (80 if before else 300) else ""
        sib = sib.getprevious() if before else sib.getnext()
    return ""


# -------------------------------------------------------------------------------- bylines

_BYLINE_CLASS = re.compile(r"author|byline|autor|verfasser|writer|reporter|creator|"
                           r"article-?meta|post-?meta|entry-?meta|meta-?info|credit", re.I)
_BYLINE_PREFIX = re.compile(
    r"^(?:(?:ein\s+)?(?:beitrag|artikel|kommentar|gastbeitrag|interview|analyse)\s+)?"
    r"(?:von|by|autor(?:in|en|innen)?\s*:|verfasst\s+von|text\s*:|text\s+von|"
    r"geschrieben\s+von|written\s+by|posted\s+by|автор(?:ы)?\s*:|текст\s*:)\s*", re.I)


def bylines(page: Page) -> list[str]:
    """Texts of the visible byline(s), best first: "Von Anna Muster und Jan Beispiel"."""
    out: list[str] = []
    body = page.body
    if body is None:
        return out
    for el in body.iter():
        if not isinstance(el.tag, str) or el.tag in ("script", "style", "body", "html",
                                                      "article", "main", "section"):
            continue
        cls = _classes(el)
        hit = el.get("rel") == "author" or (cls.strip() and _BYLINE_CLASS.search(cls))
        if not hit:
            continue
        text = text_of(el)
        if not text or len(text) > 160 or in_furniture(el):
            continue
        if text not in out:
            out.append(text)
        if len(out) >= 6:
            break
    # "Von Anna Muster" in a short paragraph without a telling class.
    for el in body.iter("p", "span", "div", "strong", "em", "address", "li"):
        text = text_of(el)
        if 4 < len(text) <= 100 and _BYLINE_PREFIX.match(text) and not in_furniture(el):
            if text not in out:
                out.append(text)
            break
    return out


def byline_after_heading(page: Page) -> str:
    """ "von Andreas Kürten" in the first short element after the `<h1>`, even inside boxes
    whose class looks like furniture (teasers, meta rows)."""
    if page.body is None:
        return ""
    h1 = next((h for h in page.body.iter("h1") if not in_furniture(h)), None)
    if h1 is None:
        return ""
    after = False
    checked = 0
    for el in page.body.iter():
        if el is h1:
            after = True
            continue
        if not after or not isinstance(el.tag, str) or el.tag in ("script", "style") or \
                h1 in el.iterancestors():
            continue
        text = text_of(el)
        if not text:
            continue
        checked += 1
        if checked > 25:
            break
        if len(text) <= 100 and _BYLINE_PREFIX.match(text):
            return text
    return ""


# "… bleibt spannend. (Christian P. Stadtfeld)", "Text: Jens Steglich", "von Jens Steglich"
_END_PAREN = re.compile(r"\(([A-ZÄÖÜ][\w.'’-]+(?:\s+[A-ZÄÖÜ][\w.'’-]*){1,3})\)\W{0,4}$")


def end_bylines(page: Page) -> list[str]:
    """Bylines written at the end of the article: a last short paragraph "von Jens Steglich"
    or "Text: ...", or a name in parentheses closing the last paragraph."""
    body = page.body
    if body is None:
        return []
    root = next((el for el in body.iter("article") if not in_furniture(el)), None)
    root = root if root is not None else next(
        (el for el in body.iter("main")), body)
    paragraphs = [p for p in root.iter("p", "address") if text_of(p) and not in_furniture(p)]
    out: list[str] = []
    for p in reversed(paragraphs[-4:]):
        text = text_of(p)
        if len(text) <= 80 and _BYLINE_PREFIX.match(text):
            out.append(text)
        m = _END_PAREN.search(text)
        if m and len(text) > 40:   # a name closing a paragraph of text, not a caption
            out.append("von " + m.group(1))
    return out


# ---------------------------------------------------------------------------------- dates

def _date_spots(page: Page) -> dict[str, list[str]]:
    spots: dict[str, list[str]] = {"time": [], "time_pub": [], "labelled": [], "classed": [],
                                   "modified": [], "stand": [], "text": []}
    body = page.body
    if body is None:
        return spots
    for el in body.iter("time"):
        if in_furniture(el):
            continue
        iso = dates.parse(el.get("datetime"), page.tz) or (dates.find(text_of(el)) or [(None, 0)])[0][0]
        if not iso:
            continue
        cls = _classes(el)
        if _MODIFIED_CLASS.search(cls):
            spots["modified"].append(iso)
        elif el.get("pubdate") is not None or re.search(r"publish|creat|posted", cls, re.I):
            spots["time_pub"].append(iso)
        else:
            spots["time"].append(iso)
    n = 0
    for el in body.iter():
        if not isinstance(el.tag, str) or el.tag in ("script", "style", "body", "time"):
            continue
        cls = _classes(el)
        if not cls.strip() or not _DATE_CLASS.search(cls):
            continue
        text = text_of(el)
        if not text or len(text) > 200 or in_furniture(el):
            continue
        found = dates.find(text)
        if found:
            (spots["modified"] if _MODIFIED_CLASS.search(cls) else spots["classed"]).append(
                found[0][0])
            n += 1
            if n > 10:
                break
    text = page_text(page)
    for label, key in ((_PUBLISHED_LABEL, "labelled"), (_MODIFIED_LABEL, "modified"),
                       (_STAND_LABEL, "stand")):
        found_here = []
        for m in label.finditer(text):
            window = text[m.end():m.end() + 60]
            found = dates.find(window)
            if found and found[0][1] <= 12:
                found_here.append(found[0][0])
        # The same label before many different dates is a list of other articles.
        if len(set(found_here)) <= 2:
            spots[key].extend(found_here)
    spots["text"] = [iso for iso, _ in dates.find(text[:20000])[:5]]
    return spots


_LOGO = re.compile(r"logo|brand|site-?name|wordmark", re.I)


def logo_names(page: Page) -> list[str]:
    """alt/title text of the site's own logo: an image in the page header, or one marked
    as logo, that links to the site's home page (not a partner's, not inside the article)."""
    from urllib.parse import urljoin, urlsplit
    if page.body is None:
        return []
    host = (urlsplit(page.url).hostname or "").lower().removeprefix("www.")
    for img in page.body.iter("img"):
        alt = clean(img.get("alt") or img.get("title") or "")
        if not alt:
            continue
        ancestors = list(img.iterancestors())
        if any(a.tag in ("article", "main", "footer", "aside") for a in ancestors):
            continue
        link = next((a for a in ancestors if a.tag == "a"), None)
        target = urlsplit(urljoin(page.url, (link.get("href") or "").strip())) \
            if link is not None else None
        home = target is not None and (target.hostname or "").lower().removeprefix("www.") \
            == host and re.fullmatch(r"/?(?:index\.\w+|home|startseite|de|de/)?/?",
                                     target.path or "/") is not None
        marked = any(_LOGO.search(f"{el.get('class') or ''} {el.get('id') or ''}")
                     for el in [img, *ancestors[:3]]) or _LOGO.search(img.get("src") or "")
        in_header = any(a.tag == "header" or re.search(r"header|masthead", a.get("class") or "",
                                                       re.I) for a in ancestors)
        if home and (marked or in_header):
            return [alt]
    return []


_COPYRIGHT = re.compile(r"(?:©|\(c\)|copyright)\s*(?:©\s*)?(?:\d{4}(?:\s*[-–]\s*\d{2,4})?\s*[,:]?\s*)?"
                        r"(?:by\s+)?([^|•·©\n]{2,60}?)"
                        r"(?=\s*(?:\d{4}\b|[|•·©]|[-–]\s|all rights|alle rechte|(?<!\b[a-zA-Z])\.\s|$|impressum|"
                        r"datenschutz|kontakt))", re.I)


def copyright_names(page: Page) -> list[str]:
    """The holder named in the site's copyright line ("© 2016 Lausitzer Rundschau"), taken
    only from footers, where the line is the site's and not a picture credit."""
    out: list[str] = []
    if page.body is None:
        return out
    for el in page.body.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag != "footer" and not re.search(r"footer|copyright", f"{el.get('class') or ''} "
                                                                   f"{el.get('id') or ''}", re.I):
            continue
        for m in _COPYRIGHT.finditer(text_of(el)):
            name = m.group(1)
            legal = re.search(r"\b(?:e\.\s?V\.|(?:GmbH|mbH|AG)\b)", name)
            name = (name[:legal.end()] if legal else name).strip(" ,-–")
            if name and name not in out:
                out.append(name)
        if len(out) >= 2:
            break
    return out


def page_text(page: Page) -> str:
    """Visible text of the page without obvious furniture (computed once per page)."""
    cached = getattr(page, "_heuristic_text", None)
    if cached is None:
        cached = text_of(page.body) if page.body is not None else ""
        page._heuristic_text = cached
    return cached


# ----------------------------------------------------------------------------------- main

def extract(page: Page) -> Candidates:
    out: Candidates = {}
    out["headings"] = headings(page)
    out["title_tag"] = page.title_tag
    out["bylines"] = bylines(page)
    # Material for the optional rules of `extract.html` (which decide whether to use it).
    out["heading_byline"] = byline_after_heading(page)
    out["end_bylines"] = end_bylines(page)
    out["styled_heads"] = styled_headlines(page)
    out["prominent"] = prominent_line(page)
    out["has_h1"] = page.body is not None and next(page.body.iter("h1"), None) is not None
    out["logos"] = logo_names(page)
    out["copyright"] = copyright_names(page)
    out["meta_author"] = [a for a in page.metas("author", "sailthru.author", "parsely-author",
                                                "byl", "dc.creator") if not a.startswith("http")]
    out["date"] = next((d for d in (dates.parse(v, page.tz) for v in page.metas(*_META_DATE_KEYS)) if d),
                       None)
    out["modified"] = next((d for d in (dates.parse(v, page.tz) for v in page.metas(
        *(k.lower() for k in _META_MODIFIED_KEYS))) if d), None)
    out["date_spots"] = _date_spots(page)
    out["url_date"], out["url_month"] = dates.from_url(page.url)
    out["abstract"] = page.meta("description")
    out["journaltitle"] = page.meta("application-name", "apple-mobile-web-app-title")
    out["publisher"] = page.meta("publisher", "copyright")
    out["lang"] = page.lang or page.meta("language", "content-language") or (
        page.content_language or "")
    if page.tree is not None:
        for link in page.tree.iter("link"):
            if (link.get("rel") or "").lower().split() == ["canonical"] and link.get("href"):
                out["url"] = link.get("href").strip()
                break
    m = re.search(r"\b(?:doi\.org/|doi:\s*)(10\.\d{4,9}/[^\s\"'<>&]+)", page.html[:300000], re.I)
    if m:
        out["doi"] = m.group(1).rstrip(".,;)")
    return {k: v for k, v in out.items() if v}
