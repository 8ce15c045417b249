"""Main text (the article without navigation, ads and comments), by trafilatura.

trafilatura is imported lazily: commands that never extract should not pay for it.
"""

from __future__ import annotations

import warnings


def main_text(html: str | object, url: str | None = None) -> str:
    """The article's text as plain paragraphs ("" when nothing article-like is found).

    `html` is markup text or an lxml tree (which trafilatura may modify)."""
    try:
        import trafilatura
    except ImportError:   # trafilatura 2.3 with lxml 6 also needs lxml_html_clean
        return ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            text = trafilatura.extract(html, url=url, include_comments=False,
                                       include_tables=True, favor_precision=False,
                                       deduplicate=False, with_metadata=False)
        except Exception:   # noqa: BLE001 -- a broken page yields no text, never a crash
            return ""
    return text or ""
