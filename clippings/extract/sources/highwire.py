"""HighWire Press `citation_*` tags (Google Scholar's format: journals, repositories, reports)."""

from __future__ import annotations

import re

from .. import dates
from ..page import Candidates, Page


def extract(page: Page) -> Candidates:
    out: Candidates = {}
    if not any(k.startswith("citation_") for k in page.meta_keys()):
        return out
    out["title"] = page.meta("citation_title")
    authors = page.metas("citation_author")
    if not authors and page.meta("citation_authors"):
        authors = [a for a in re.split(r"\s*;\s*", page.meta("citation_authors")) if a]
    out["author"] = authors
    out["date"] = dates.parse(page.meta("citation_publication_date", "citation_date",
                                        "citation_cover_date", "citation_online_date",
                                        "citation_year"), page.tz)
    out["journaltitle"] = page.meta("citation_journal_title", "citation_conference_title")
    out["publisher"] = page.meta("citation_publisher")
    out["doi"] = page.meta("citation_doi").removeprefix("doi:").strip()
    out["abstract"] = page.meta("citation_abstract")
    out["lang"] = page.meta("citation_language")
    for key, name in (("citation_volume", "volume"), ("citation_issue", "number"),
                      ("citation_issn", "issn"), ("citation_isbn", "isbn")):
        out[name] = page.meta(key)
    first, last = page.meta("citation_firstpage"), page.meta("citation_lastpage")
    if first:
        out["pages"] = f"{first}--{last}" if last and last != first else first
    if page.meta("citation_technical_report_institution"):
        out["kind"] = "report"
        out["institution"] = page.meta("citation_technical_report_institution")
        out["number"] = page.meta("citation_technical_report_number") or out.get("number", "")
    elif page.meta("citation_dissertation_institution"):
        out["kind"] = "thesis"
        out["institution"] = page.meta("citation_dissertation_institution")
    elif out["journaltitle"]:
        out["kind"] = "journal"
    return {k: v for k, v in out.items() if v}
