"""OpenGraph (`og:*`), its `article:*` extension, and Twitter cards as the weakest part."""

from __future__ import annotations

from .. import dates
from ..page import Candidates, Page


def extract(page: Page) -> Candidates:
    og_type = page.meta("og:type").lower()
    out: Candidates = {
        "title": page.meta("og:title") or page.meta("twitter:title"),
        "journaltitle": page.meta("og:site_name"),
        "abstract": page.meta("og:description") or page.meta("twitter:description"),
        "url": page.meta("og:url"),
        "date": dates.parse(page.meta("article:published_time", "og:published_time",
                                      "article:published", "og:article:published_time",
                                      "og:pubdate", "article.published"), page.tz),
        "modified": dates.parse(page.meta("article:modified_time", "og:updated_time",
                                          "og:article:modified_time", "article:modified"), page.tz),
        "lang": page.meta("og:locale"),
        # article:author is a profile URL by the spec, a name in practice; URLs are dropped.
        "author": [a for a in page.metas("article:author") if not a.startswith("http")],
    }
    if og_type in ("article", "news", "newsarticle", "blog"):
        out["kind"] = "article"
    return {k: v for k, v in out.items() if v}
