"""Canonical URLs: the page's own declared address, without tracking parameters."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_TRACKING = re.compile(
    r"^(?:utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|igshid|"
    r"_hsenc|_hsmi|hsctatracking|mkt_tok|oly_anon_id|oly_enc_id|vero_id|wt_mc|wt\.mc_id|"
    r"wt_zmc|cmpid|ocid|icid|ref_src|xtor|at_medium|"
    r"at_campaign|at_\w+|ito|smid|ns_mchannel|ns_source|ns_campaign|ns_linkname|"
    r"ns_fee|sr_share|dmcid|s_cid|trk|trkcampaign|__twitter_impression|"
    r"piano_\w+|pk_\w+|mtm_\w+|matomo_\w+|_ga|_gl|spm|ved|ei)$", re.I)


def strip_tracking(url: str) -> str:
    """`url` without utm_*, fbclid, and similar campaign parameters (and without #fragment)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _TRACKING.match(k)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, doseq=True), ""))


def canonical(page_url: str, declared: list[str]) -> str:
    """The first declared canonical address that is an absolute http(s) URL on a plausible
    host; else the page's own URL. Tracking parameters are removed either way."""
    for value in declared:
        if not value:
            continue
        absolute = urljoin(page_url, value.strip()) if page_url else value.strip()
        parts = urlsplit(absolute)
        if parts.scheme in ("http", "https") and parts.hostname and "." in parts.hostname:
            # A canonical pointing at the home page of an article is a CMS mistake.
            if parts.path in ("", "/") and urlsplit(page_url).path not in ("", "/"):
                continue
            return strip_tracking(absolute)
    return strip_tracking(page_url) if page_url else ""
