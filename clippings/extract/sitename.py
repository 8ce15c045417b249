"""Choosing the publication's name: what the page says about itself before the host name."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .page import Candidates, Page
from .sources.heuristics import page_text
from .titles import SEPARATORS, fold, host_label, strip_site

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
        order = [(src, strip_site(v, [], page.url)[1] if v and len(SEPARATORS.split(v)) > 1
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
    if "host_as_spelled" in rules:   # looked up only when reached (it reads the page text)
        order.append(("host-spelled", lambda: _host_as_spelled(page, h)))
    if "copyright" in rules:
        order += [("copyright", v) for v in h.get("copyright", []) if not _COMPANY.search(v)]
    weak: list[tuple[str, str]] = []
    label = fold(host_label(page.url))
    host = (urlsplit(page.url).hostname or "").lower().removeprefix("www.")
    stated = ("title", "application-name", "jsonld-publisher", "dublincore")
    for src, value in order:
        value = _clean_site((value() if callable(value) else value) or "", page.url, cleanup)
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
    label = host_label(page.url)
    wanted = [_host_fold(host), _host_fold(label) if len(_host_fold(label)) >= 3 else None]
    text = page_text(page)
    texts = [h.get("title_tag", ""), *(x["text"] for x in h.get("headings", [])),
             *h.get("logos", []), text[:5000], text[-3000:]]
    for target in wanted:
        if not target:
            continue
        for chunk in texts:
            if target not in _host_fold(chunk):
                continue
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
    pieces = SEPARATORS.split(title_tag)
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
    pieces = (_SPACED_SEPARATORS if cleanup else SEPARATORS).split(value)
    if len(pieces) > 1:   # "Tegernseer Stimme - Nachrichten aus dem Tal": keep the name part
        label = fold(host_label(url))
        named = [p for p in pieces if label and (label in fold(p) or fold(p) in label)]
        value = named[0] if named else pieces[0]
    return value.strip()
