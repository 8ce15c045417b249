"""Index terms and their positions, fast: what a full build needs, without Whoosh's
token stream.

The analyzers of `analysis` run as Whoosh chains: a generator per filter, a Token object
updated for every word, a tuple key per cache lookup. A build of a large library spends
most of its time there, not in the analysis itself (every word's terms are cached by the
filters). `term_positions` gives exactly the terms and positions the chain gives, for
the two analyzers of `analysis` (a tokenizer and one `_TermFilter`): it tokenises with
the tokenizer's own expression (`analysis.TOKEN_PATTERN`), asks the filter's cached
`terms()` once per distinct word, and numbers positions as the filter's loop does (stop
words leave no gap, a word without terms keeps its place); place names go through the
filter's own `_place_names`. Any other analyzer runs through its chain.

tests/test_search_terms.py proves the equality on random German and Russian text.
This module is separate from `analysis` on purpose: the digests of analysis.py and
schema.py are part of the Whoosh index's schema id, and a build path changes no term.
"""

from __future__ import annotations

import weakref
from collections import deque

from whoosh.analysis import RegexTokenizer

from .analysis import MixedLanguageFilter, _TermFilter

_CACHE_MAX = 500_000
# filter -> {word: its terms when indexing}: one dict look-up per word, no tuple key
_words: "weakref.WeakKeyDictionary[_TermFilter, dict]" = weakref.WeakKeyDictionary()


class _Spot:
    """What `MixedLanguageFilter._place_names` reads and writes of a token."""

    __slots__ = ("text", "pos")

    def __init__(self, pos: int):
        self.text = ""
        self.pos = pos


def term_positions(analyzer, text: str, start: int = 0) -> dict[str, list[int]]:
    """term -> its positions (in the order the analyzer yields them) for `text` analysed
    as when indexing: `analyzer(text, positions=True, mode="index", start_pos=start)`."""
    parts = getattr(analyzer, "items", None)
    if not (parts and len(parts) == 2 and type(parts[0]) is RegexTokenizer
            and not parts[0].gaps and isinstance(parts[1], _TermFilter)):
        return _chain_positions(analyzer, text, start)
    tokenizer, filt = parts
    words = _words.get(filt)
    if words is None or len(words) >= _CACHE_MAX:
        words = _words[filt] = {}
    places = isinstance(filt, MixedLanguageFilter) and filt.places
    out: dict[str, list[int]] = {}
    get = out.get
    pos = -1
    started = False
    recent: deque = deque(maxlen=3)
    last_pos: dict[str, int] = {}
    done: set[int] = set()
    ends = names = None
    for i, word in enumerate(tokenizer.expression.findall(text), start):
        try:
            terms = words[word]
        except KeyError:
            terms = words[word] = filt.terms(word, True)
        if terms is None:                    # a stop word: no term, no position
            continue
        if started:
            pos += 1
        else:                                # the first word keeps the tokenizer's place
            pos, started = i, True
        if not terms:
            continue
        for term in terms:
            found = get(term)
            if found is None:
                out[term] = [pos]
            else:
                found.append(pos)
        if not places:
            continue
        # MixedLanguageFilter.__call__'s `after`: other names of a place just named
        if not word[:1].isupper():
            if recent:
                recent.clear()
            continue
        recent.append((terms[0], pos, terms))
        if ends is None:
            names, _, ends = filt._places()
        if terms[0] in ends and not _named_before(names, recent, done):
            for spot in filt._place_names(_Spot(pos), list(recent), last_pos, done):
                found = get(spot.text)
                if found is None:
                    out[spot.text] = [spot.pos]
                else:
                    found.append(spot.pos)
    return out


def _named_before(names: dict, recent: deque, done: set[int]) -> bool:
    """True when `_place_names` would add nothing: the longest name the last words form
    is of places whose other names are in already (most mentions of a town)."""
    for n in (3, 2, 1):
        if len(recent) < n:
            continue
        found = names.get(recent[-1][0] if n == 1 else
                          " ".join(r[0] for r in list(recent)[-n:]))
        if found:
            return all(number in done for number in found)
    return True


def _chain_positions(analyzer, text: str, start: int = 0) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for token in analyzer(text, positions=True, mode="index", start_pos=start):
        out.setdefault(token.text, []).append(token.pos)
    return out
