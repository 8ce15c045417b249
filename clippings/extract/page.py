"""A parsed HTML page: the tree plus the lookups every metadata source needs, built once.

Sources are pure functions `Page -> Candidates`; parsing, `<meta>` collection and JSON-LD
decoding happen here a single time so that the chain stays fast (tens of milliseconds).
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

# A source's answer: biblatex-ish field -> value. Values are plain text except
# `author` (list of raw name strings, or ("org", name) tuples for organisations).
Candidates = dict


def clean(text: str | None) -> str:
    """Collapse whitespace; strip invisible characters pages leave in metadata."""
    if not text:
        return ""
    text = text.replace("\u00ad", "").replace("\u200b", "").replace("\ufeff", "")
    return re.sub(r"\s+", " ", text).strip()


_ZONES = {"de": "Europe/Berlin", "at": "Europe/Vienna", "ch": "Europe/Zurich",
          "li": "Europe/Vaduz", "lu": "Europe/Luxembourg", "ru": "Europe/Moscow",
          "by": "Europe/Minsk", "ua": "Europe/Kyiv", "uk": "Europe/Kyiv", "fr": "Europe/Paris",
          "it": "Europe/Rome", "nl": "Europe/Amsterdam", "pl": "Europe/Warsaw"}

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


def parse_html(text: str) -> etree._Element | None:
    """An lxml tree for any text that looks like HTML; None when nothing is parseable."""
    text = _XML_DECL.sub("", text, count=1)   # lxml refuses str input with an encoding declaration
    if not text.strip():
        return None
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return None


@dataclass
class Page:
    url: str
    html: str
    tree: etree._Element | None
    content_language: str | None = None
    _metas: list[tuple[str, str]] = field(default_factory=list)
    rules: frozenset = frozenset()   # optional extraction rules in force (extract.html.RULES)

    @classmethod
    def from_text(cls, html: str, url: str, content_language: str | None = None) -> "Page":
        page = cls(url=url, html=html, tree=parse_html(html), content_language=content_language)
        page._metas = page._collect_metas()
        return page

    def _collect_metas(self) -> list[tuple[str, str]]:
        out = []
        if self.tree is None:
            return out
        for el in self.tree.iter("meta"):
            key = el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv")
            value = el.get("content")
            if key and value is not None:
                out.append((key.strip().lower(), clean(value)))
        return out

    def metas(self, *keys: str) -> list[str]:
        """Non-empty contents of `<meta>` tags whose name/property is one of `keys` (lower case)."""
        wanted = set(keys)
        return [v for k, v in self._metas if k in wanted and v]

    def meta(self, *keys: str) -> str:
        """The first non-empty content among `keys`, in the order of `keys`."""
        for key in keys:
            for k, v in self._metas:
                if k == key and v:
                    return v
        return ""

    def meta_keys(self) -> list[str]:
        return [k for k, _ in self._metas]

    @cached_property
    def jsonld(self) -> list[dict]:
        """Every JSON-LD object on the page: `@graph`s and lists flattened, nested kept."""
        out: list[dict] = []
        if self.tree is None:
            return out
        for el in self.tree.iter("script"):
            if (el.get("type") or "").strip().lower() != "application/ld+json":
                continue
            raw = (el.text or "").strip()
            if not raw:
                continue
            data = _loads_lenient(raw)
            _flatten(data, out)
        return out

    @cached_property
    def lang(self) -> str:
        if self.tree is None:
            return ""
        return (self.tree.get("lang") or self.tree.get("{http://www.w3.org/XML/1998/namespace}lang")
                or "").strip()

    @cached_property
    def tz(self) -> datetime.tzinfo | None:
        """The publication's time zone, guessed from the host's country or the page language
        (dates are what its readers saw on the calendar); None when unknown."""
        host = (urlsplit(self.url).hostname or "").lower()
        tld = host.rsplit(".", 1)[-1]
        lang = self.lang.lower()[:2]
        zone = _ZONES.get(tld) or _ZONES.get(lang)
        if not zone:
            return None
        try:
            from zoneinfo import ZoneInfo
            return ZoneInfo(zone)
        except Exception:   # noqa: BLE001 -- no tz database: keep dates as written
            return None

    @cached_property
    def body(self) -> etree._Element | None:
        if self.tree is None:
            return None
        found = self.tree.find("body")
        return found if found is not None else self.tree

    @cached_property
    def title_tag(self) -> str:
        if self.tree is None:
            return ""
        el = self.tree.find(".//title")
        return clean(el.text_content()) if el is not None else ""


def _loads_lenient(raw: str):
    """JSON-LD as sites write it: CDATA wrappers, trailing commas, raw newlines in strings."""
    raw = re.sub(r"^\s*(?://\s*)?<!\[CDATA\[|(?://\s*)?\]\]>\s*$", "", raw)
    for attempt in (raw, re.sub(r",\s*([}\]])", r"\1", raw)):
        try:
            return json.loads(attempt, strict=False)
        except ValueError:
            continue
    return None


def _flatten(data, out: list[dict]) -> None:
    if isinstance(data, list):
        for item in data:
            _flatten(item, out)
    elif isinstance(data, dict):
        graph = data.get("@graph")
        if isinstance(graph, list):
            _flatten(graph, out)
        if data.get("@type") or len(data) > 1 and "@graph" not in data:
            out.append(data)


_SKIP = {"script", "style", "noscript", "template"}


def text_of(el) -> str:
    """Visible text of an element (scripts, styles and comments left out)."""
    if el is None:
        return ""
    parts: list[str] = []

    def walk(node) -> None:
        if isinstance(node.tag, str) and node.tag not in _SKIP:
            if node.text:
                parts.append(node.text)
            for child in node:
                walk(child)
                if child.tail:
                    parts.append(child.tail)
        elif node is not el:
            return

    walk(el)
    return clean(" ".join(parts))
