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
from collections import defaultdict, deque

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


def _tokenizer_and_filter(analyzer) -> tuple[RegexTokenizer, _TermFilter] | None:
    """The two parts of one of `analysis`'s analyzers; None for any other analyzer."""
    parts = getattr(analyzer, "items", None)
    if parts and len(parts) == 2 and type(parts[0]) is RegexTokenizer \
            and not parts[0].gaps and isinstance(parts[1], _TermFilter):
        return parts[0], parts[1]
    return None


def word_terms(analyzer, index: bool = False):
    """word -> its terms as a query's word is analysed (`index`: as when indexing; none
    for a stop word): one of the word's own cached terms, without the chain's tokens (a
    third of the cost of a search's snippets). `word` is one token of the analyzer's
    tokenizer."""
    parts = _tokenizer_and_filter(analyzer)
    if parts is not None:
        terms = parts[1].terms
        return lambda word: terms(word, index) or ()
    mode = "index" if index else "query"
    return lambda word: [t.text for t in analyzer(word, mode=mode, removestops=False)
                         if not t.stopped]


def term_positions(analyzer, text: str, start: int = 0) -> dict[str, list[int]]:
    """term -> its positions (in the order the analyzer yields them) for `text` analysed
    as when indexing: `analyzer(text, positions=True, mode="index", start_pos=start)`."""
    parts = _tokenizer_and_filter(analyzer)
    if parts is None:
        return _chain_positions(analyzer, text, start)
    tokenizer, filt = parts
    places = isinstance(filt, MixedLanguageFilter) and filt.places
    ends, alone = _name_ends(filt) if places else (frozenset(), frozenset())
    words = _words.get(filt)
    if words is None or len(words) >= _CACHE_MAX:
        words = _words[filt] = {}
    out: defaultdict[str, list[int]] = defaultdict(list)
    pos = -1
    started = False
    recent: deque = deque(maxlen=3)
    last_pos: dict[str, int] = {}
    done: set[int] = set()
    named: set[str] = set()                   # one-word names looked up already
    for i, word in enumerate(tokenizer.expression.findall(text), start):
        entry = words.get(word)
        if entry is None:
            entry = words[word] = _entry(filt, word, places, ends, alone)
        terms, kind = entry
        if terms is None:                    # a stop word: no term, no position
            continue
        if started:
            pos += 1
        else:                                # the first word keeps the tokenizer's place
            pos, started = i, True
        if not terms:
            continue
        for term in terms:
            out[term].append(pos)
        if kind == _PLAIN:
            if recent:
                recent.clear()
            continue
        # MixedLanguageFilter.__call__'s `after`: other names of a place just named
        recent.append((terms[0], pos, terms))
        if kind == _NAME_ALONE:
            # Only a one-word name ends with this word: once its places are done (after
            # its first mention) `_named_before` is true for every later mention.
            if terms[0] in named:
                continue
            named.add(terms[0])
        if kind != _CAPITAL and not _named_before(filt._places()[0], recent, done):
            for spot in filt._place_names(_Spot(pos), list(recent), last_pos, done):
                out[spot.text].append(spot.pos)
    return dict(out)


# What a word is to the place-name step: nothing (not capitalised, or no places: it
# ends a run of capitalised words), a capitalised word, one that can end a name of
# several words, or one that ends one-word names only (a town's name, most often).
_PLAIN, _CAPITAL, _NAME_END, _NAME_ALONE = 0, 1, 2, 3

# filter -> (keys that end a place name, those of them that end no name of several words)
_ends: "weakref.WeakKeyDictionary[_TermFilter, tuple]" = weakref.WeakKeyDictionary()


def _name_ends(filt) -> tuple[frozenset, frozenset]:
    found = _ends.get(filt)
    if found is None:
        names, _, ends = filt._places()
        longer = frozenset(key.rsplit(" ", 1)[-1] for key in names if " " in key)
        found = _ends[filt] = (ends, ends - longer)
    return found


def _entry(filt, word: str, places: bool, ends: frozenset, alone: frozenset) -> tuple:
    terms = filt.terms(word, True)
    if not places or not terms or not word[:1].isupper():
        return terms, _PLAIN
    key = terms[0]
    return terms, _NAME_ALONE if key in alone else _NAME_END if key in ends else _CAPITAL


def _named_before(names: dict, recent: deque, done: set[int]) -> bool:
    """True when `_place_names` would add nothing: the longest name the last words form
    is of places whose other names are in already (most mentions of a town)."""
    keys = [r[0] for r in recent]
    for n in (3, 2, 1):
        if len(keys) < n:
            continue
        found = names.get(keys[-1] if n == 1 else " ".join(keys[-n:]))
        if found:
            return all(number in done for number in found)
    return True


def _chain_positions(analyzer, text: str, start: int = 0) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for token in analyzer(text, positions=True, mode="index", start_pos=start):
        out.setdefault(token.text, []).append(token.pos)
    return out
