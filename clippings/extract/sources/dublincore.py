"""Dublin Core `<meta name="DC.title">` / `dcterms.*` tags (libraries, agencies, repositories)."""

from __future__ import annotations

import re

from .. import dates
from ..page import Candidates, Page

_PREFIX = re.compile(r"^(?:dc|dcterms|dct)[.:]")


def extract(page: Page) -> Candidates:
    dc: dict[str, list[str]] = {}
    for key in page.meta_keys():
        if _PREFIX.match(key):
            name = _PREFIX.sub("", key)
            dc.setdefault(name, [])
    if not dc:
        return {}
    for name in dc:
        dc[name] = page.metas(f"dc.{name}", f"dcterms.{name}", f"dc:{name}", f"dct.{name}",
                              f"dcterms:{name}")

    def first(*names: str) -> str:
        for n in names:
            if dc.get(n):
                return dc[n][0]
        return ""

    out: Candidates = {
        "title": first("title"),
        "author": dc.get("creator", []),
        "date": dates.parse(first("date.issued", "issued", "date.created", "created",
                                  "date", "available"), page.tz),
        "modified": dates.parse(first("date.modified", "modified"), page.tz),
        "publisher": first("publisher"),
        "abstract": first("description", "abstract"),
        "lang": first("language"),
    }
    for ident in dc.get("identifier", []):
        m = re.search(r"\b(10\.\d{4,9}/\S+)", ident)
        if m:
            out["doi"] = m.group(1)
    return {k: v for k, v in out.items() if v}
