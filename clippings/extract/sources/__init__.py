"""Metadata sources: each a pure function `Page -> Candidates`, listed in priority order.

A source reports only what its markup states; judging and merging is `extract.html`'s job.
"""

from __future__ import annotations

from . import dublincore, heuristics, highwire, jsonld, microdata, opengraph

# (name, function) in the order the chain trusts them.
CHAIN = (
    ("highwire", highwire.extract),
    ("jsonld", jsonld.extract),
    ("opengraph", opengraph.extract),
    ("dublincore", dublincore.extract),
    ("microdata", microdata.extract),
    ("heuristics", heuristics.extract),
)
