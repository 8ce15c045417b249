"""schema.org microdata (`itemprop` attributes), scoped to an Article item when there is one."""

from __future__ import annotations

from .. import dates
from ..page import Candidates, Page, clean, text_of
from .jsonld import ARTICLES, NEWS, ORG_TYPES


def _value(el) -> str:
    for attr in ("content", "datetime", "value"):
        if el.get(attr):
            return clean(el.get(attr))
    if el.tag == "meta":
        return ""
    if el.tag in ("a", "link") and el.get("href") and not text_of(el):
        return clean(el.get("href"))
    return text_of(el)


def _itemtype(el) -> set[str]:
    return {t.rstrip("/").rsplit("/", 1)[-1].lower() for t in (el.get("itemtype") or "").split()}


def extract(page: Page) -> Candidates:
    if page.body is None:
        return {}
    scope = None
    kind = ""
    for el in page.tree.iter():
        if isinstance(el.tag, str) and el.get("itemscope") is not None:
            t = _itemtype(el)
            if t & ARTICLES:
                scope = el
                kind = "newspaper" if t & NEWS else ""
                break
    root = scope if scope is not None else page.tree
    props: dict[str, list] = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        name = el.get("itemprop")
        if name:
            for n in name.split():
                props.setdefault(n, []).append(el)
    if not props:
        return {}

    def first(name: str) -> str:
        for el in props.get(name, []):
            if (v := _value(el)):
                return v
        return ""

    authors: list = []
    for el in props.get("author", []) + props.get("creator", []):
        if el.get("itemscope") is not None:
            inner = [c for c in el.iter() if c is not el and c.get("itemprop") == "name"]
            name = _value(inner[0]) if inner else ""
            if name:
                authors.append(("org", name) if _itemtype(el) & ORG_TYPES else name)
        elif (v := _value(el)) and not v.startswith("http"):
            authors.append(v)
    out: Candidates = {
        "author": authors,
        "date": dates.parse(first("datePublished") or first("dateCreated"), page.tz),
        "modified": dates.parse(first("dateModified"), page.tz),
        "abstract": first("description") if scope is not None else "",
        "kind": kind,
    }
    if scope is not None:
        out["title"] = first("headline") or first("name")
        out["subtitle"] = first("alternativeHeadline")
    else:
        out["title"] = first("headline")
    return {k: v for k, v in out.items() if v}
