"""Text analysis for the search index: German and Russian, mixed in one text.

Two analyzers, each usable as `whoosh.fields.TEXT(analyzer=...)`:

`make_analyzer()` (the main text fields) looks at each word's script:

- Latin words go through the German chain: lower case; umlauts folded to the plain
  vowel (ä→a, ß→ss), other accents dropped, and the two-letter spellings folded too
  (ae→a, oe→o, ue→u, but not after a vowel or q: Frauen, neue, Quelle stay), so
  `Städte`, `Staedte` and `Stadte` become one word; German stop words; Snowball
  German stemming (PyStemmer). The folding comes before stemming on both the index and the
  query side, so the stemmer always sees the same spelling. When indexing, a
  compound also yields its dictionary parts (`decompound`), each stemmed the same
  way: `Städtepartnerschaften` is indexed as itself plus `stadt`, `partnerschaft`.
- Cyrillic words go through the Russian chain: lower case, ё→е, stress marks
  dropped, Russian stop words, Snowball Russian stemming. When indexing, the word is
  also indexed in Latin letters, each through the German chain: German (Duden, the
  spelling of citation keys) and English transliteration (`clippings.textnorm`), and
  the schemes of the `iuliia` package: ISO 9 / GOST 7.79 and the scholarly system
  (`Železnogorsk`, also found as `Zeleznogorsk`, since accents are dropped), ALA-LC
  (`Ekaterinburg`), BGN/PCGN and Wikipedia's (`Yekaterinburg`). A word with ё is
  transliterated with ё and with е (`Ёлкина`: `Jolkina` and `Jelkina`), since
  writers often leave the dots off. `Волгоград` is found by `Wolgograd` and
  `Volgograd`.
- Place names, when indexing: a name of a Russian or German town (one to three words,
  capitalised) also yields every other name of that place in GeoNames, at the same
  positions, at its first mention in a text (`places`): `Köln` is found by `Cologne`
  and `Кёльн`, `Москва` by `Moskau` and `Moscow`, `Sankt Petersburg` by
  `"Saint Petersburg"`.

At query time every word gives exactly one term (no splitting, no transliteration),
so phrases and AND queries work as written: compounds are split only in the index,
which is Lucene's habit.

`make_phonetic_analyzer()` (one extra field holding the same text) maps names, Latin
or Cyrillic, to a coarse "transliteration key" in which the spelling variants of
Russian names written in German or English fall together (sch/sh/zh, tsch/ch, w/v,
j/y, z/ts/s, ch/kh/h, doubled letters, o/e after hissing sounds) and common case
endings are cut: `Schelesnogorsk`, `Zheleznogorsk` and `Железногорске` share the key
`shelesnogorsk`. When indexing, only capitalised words that are not German nouns get
a key (about a tenth of the words); at query time every word does. Querying this
field as well finds names across scripts and conventions (Latin to Latin too); give
it a lower weight than the main field, since keys are coarse, and declare it with
`multitoken_query="or"` (a Cyrillic word whose two transliterations differ in key
gives both).

English words get no English stemming: a word's language is not known per token,
and the German stemmer only trims English plurals and a few endings harmlessly.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator

import Stemmer  # PyStemmer: Snowball 3 in C, faster and better (-erin/-innen) than whoosh's
from whoosh.analysis import Filter, RegexTokenizer, Token
from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.lang import stopwords_for_language

from clippings.textnorm import transliterate_ru

__all__ = ["make_analyzer", "make_phonetic_analyzer", "analysis_signature", "ANALYZER_VERSION",
           "TOKEN_PATTERN", "german_fold", "phonetic_key", "MixedLanguageFilter",
           "PhoneticKeyFilter"]

# Bump when a change to this module or decompound.py changes the terms of any text;
# analysis_signature() adds the stemmer's and the word lists' versions to it.
ANALYZER_VERSION = 2

# A run of letters and digits (with soft hyphens and combining marks inside, which
# are removed later), or a number with inner dots/commas (1.000, 3,5).
TOKEN_PATTERN = r"\d+(?:[.,]\d+)+|[^\W_][\w\u00ad\u0300-\u036f]*"

_CYRILLIC = re.compile("[\u0400-\u04ff]")
_TOKEN_RE = re.compile(TOKEN_PATTERN)
_SIGNS = re.compile("[\u02b9\u02ba\u02bc\u2019\u201d'\"`]")
_MARKS = re.compile("[\u00ad\u0300-\u036f]")
_PLAIN = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss", "ẞ": "ss"})
_TWO_LETTER = re.compile(r"(?<![aeiouq])(?:ae|oe|ue)")
_CACHE_MAX = 500_000


def _clean(word: str) -> str:
    """Lower case, NFC, no soft hyphens or stress marks; Latin accents other than
    the German ones stripped (Café → cafe)."""
    w = word.lower()
    if w.isascii():
        return w
    w = _MARKS.sub("", unicodedata.normalize("NFC", w))
    if _CYRILLIC.search(w):
        return w.replace("ё", "е")
    w = w.translate(_PLAIN)
    if not w.isascii():
        w = "".join(c for c in unicodedata.normalize("NFKD", w)
                    if not unicodedata.combining(c))
    return w


def german_fold(word: str) -> str:
    """`word` (lower case, umlauts already plain) with ae/oe/ue as a/o/u: staedte → stadte."""
    if "e" not in word:
        return word
    return _TWO_LETTER.sub(lambda m: m.group()[0], word)


def _cached(fn: Callable[[str], str]) -> Callable[[str], str]:
    """`fn` with a dict cache: compound parts repeat far more often than words."""
    cache: dict[str, str] = {}

    def call(word: str) -> str:
        try:
            return cache[word]
        except KeyError:
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            out = cache[word] = fn(word)
            return out

    return call


def _fold_stops(words: Iterable[str]) -> frozenset[str]:
    return frozenset(german_fold(_clean(w)) for w in words)


class _TermFilter(Filter):
    """Base: maps each token to a tuple of terms through a cached function, keeps
    positions consecutive over removed stop words, and pickles without its caches
    (Whoosh stores the schema, analyzers included, in the index)."""

    _config: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._cache: dict[tuple[str, bool], tuple[str, ...] | None] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._config}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__getstate__() == other.__getstate__()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.__getstate__().items())
        return f"{type(self).__name__}({args})"

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.__getstate__().items()))))

    def terms(self, word: str, index: bool) -> tuple[str, ...] | None:
        """The terms for one token; None for a stop word. Cached."""
        key = (word, index)
        cache = self._cache
        try:
            return cache[key]
        except KeyError:
            pass
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        out = cache[key] = self._terms(word, index)
        return out

    def _terms(self, word: str, index: bool) -> tuple[str, ...] | None:
        raise NotImplementedError

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        return self._filter(tokens)

    def _filter(self, tokens: Iterable[Token],
                after: Callable[[Token, str, tuple[str, ...]], Iterator[Token]] | None = None,
                ) -> Iterator[Token]:
        """The loop; `after(token, word, terms)` runs once a word's terms are out."""
        pos: int | None = None                         # starts where the tokenizer did
        for t in tokens:
            word = t.text
            terms = self.terms(word, t.mode == "index")
            if terms is None:                          # stop word
                if not t.removestops:
                    t.text = _clean(t.text)
                    t.stopped = True
                    yield t
                continue
            if t.positions:
                pos = t.pos if pos is None else pos + 1
                t.pos = pos
            if not terms:                              # a word with no term keeps its place
                continue
            t.stopped = False
            for term in terms:
                t.text = term
                yield t
            if after is not None:
                yield from after(t, word, terms)


@lru_cache(maxsize=1)
def _iuliia_schemas() -> list[Any]:
    """Loaded when indexing needs them: `search` never does."""
    import iuliia

    return [iuliia.GOST_779, iuliia.SCIENTIFIC, iuliia.ALA_LC, iuliia.BGN_PCGN,
            iuliia.WIKIPEDIA]


def latin_spellings(word: str) -> list[str]:
    """A lower-case Cyrillic word in every Latin spelling search knows (module doc), with
    and without ё; raw (accents kept), duplicates removed, German first."""
    forms = [word] if "ё" not in word else [word, word.replace("ё", "е")]
    out: list[str] = []
    for form in forms:
        for scheme in ("de", "en"):
            out.append(transliterate_ru(form, scheme))
        for schema in _iuliia_schemas():
            out.append(schema.translate(form))
    # iuliia writes ь/ъ as modifier letters (ʹ ʺ) in some schemes: not part of a word
    out = [unicodedata.normalize("NFC", _SIGNS.sub("", w)) for w in out]
    return [w for w in dict.fromkeys(out) if not _CYRILLIC.search(w)]



class MixedLanguageFilter(_TermFilter):
    """German chain for Latin words, Russian chain (+ Latin transliterations when
    indexing) for Cyrillic ones; German compounds split when indexing; other names of
    the places named in the text added when indexing (`places`)."""

    _config = ("decompound", "places")

    def __init__(self, decompound: bool = True, places: bool = True) -> None:
        super().__init__()
        self.decompound = decompound
        self.places = places
        self._place_index: Any = None
        self._place_terms: dict[int, list[tuple[int, str]]] = {}
        self._stem_de = _cached(Stemmer.Stemmer("german").stemWord)
        self._stem_ru = _cached(Stemmer.Stemmer("russian").stemWord)
        self._stops_de = _fold_stops(stopwords_for_language("de"))
        self._stops_ru = _fold_stops(stopwords_for_language("ru"))
        self._splitter: Any = None

    def _split(self, word: str) -> list[str]:
        if self._splitter is None:
            # Loaded on the first long word seen while indexing: queries never need it.
            from clippings.search.decompound import shared_decompounder

            self._splitter = shared_decompounder()
        return self._splitter.split(word)

    def _latin(self, plain: str, index: bool, split: bool) -> tuple[str, ...] | None:
        folded = german_fold(plain)
        if folded in self._stops_de:
            return None
        stem = self._stem_de(folded)
        if not (index and split and self.decompound) or len(plain) < 7 or not plain.isalpha():
            return (stem,)
        out = [stem]
        for part in self._split(plain):
            s = self._stem_de(german_fold(part))
            if s not in out:
                out.append(s)
        return tuple(out)

    def _terms(self, word: str, index: bool) -> tuple[str, ...] | None:
        w = _clean(word)
        if not w:
            return ()
        if not _CYRILLIC.search(w):
            return self._latin(w, index, split=True)
        if w in self._stops_ru:
            return None
        stem = self._stem_ru(w)
        out = [stem]
        if index:
            # from the word as written: ё kept (Ёлкина -> Jolkina as well as Jelkina);
            # and from its stem, so an inflected name meets its Latin base form
            # (Железногорска -> Zheleznogorsk, since the German stemmer keeps the -a)
            raw = _MARKS.sub("", unicodedata.normalize("NFC", word.lower()))
            spellings = latin_spellings(raw)
            if stem != w and len(stem) >= 4:
                spellings += latin_spellings(stem)
            for spelling in spellings:
                latin = self._latin(_clean(spelling), False, split=False)
                if latin and latin[0] not in out:
                    out.append(latin[0])
        return tuple(out)

    # -- place names -------------------------------------------------------------------

    def _places(self) -> tuple[dict[str, tuple[int, ...]], tuple[tuple[str, ...], ...],
                               frozenset[str]]:
        """Loaded on first use (indexing only): name key -> places, the places, and the
        keys of the last words of names."""
        if self._place_index is None:
            from clippings.search.places import load_place_keys, load_place_names

            places = load_place_names()
            # Stemming 80,000 names takes a second: the keys ship precomputed and are
            # used when they were made by this analysis (else computed here).
            keys = load_place_keys(self.place_key_signature())
            if keys is None or len(keys) != len(places):
                keys = tuple(self.place_keys(names) for names in places)
            index: dict[str, set[int]] = {}
            for number, place_keys in enumerate(keys):
                for key in place_keys:
                    index.setdefault(key, set()).add(number)
            ends = frozenset(k.rsplit(" ", 1)[-1] for k in index)
            self._place_index = ({k: tuple(sorted(v)) for k, v in index.items()}, places,
                                 ends)
        return self._place_index

    @staticmethod
    def place_key_signature() -> str:
        from importlib.metadata import version

        return f"analysis-{ANALYZER_VERSION} pystemmer-{version('pystemmer')}"

    def place_keys(self, names: Iterable[str]) -> tuple[str, ...]:
        """The lookup keys of one place's names (stems of the words, stop words out)."""
        return tuple(dict.fromkeys(k for k in map(self._place_key, names) if k))

    def _key_word(self, word: str) -> str | None:
        """A word as place names are looked up: its stem (Петербурга and Петербург,
        Kölns and Köln meet); None for stop words."""
        w = _clean(word)
        if _CYRILLIC.search(w):
            return None if w in self._stops_ru else self._stem_ru(w)
        w = german_fold(w)
        return None if w in self._stops_de else self._stem_de(w)

    def _place_key(self, name: str) -> str:
        words = [self._key_word(m.group()) for m in _TOKEN_RE.finditer(name)]
        return " ".join(w for w in words if w)

    def _name_terms(self, word: str) -> tuple[str, ...]:
        """A word of a place name as indexed, without compound parts (Rothenburg is not
        indexed as Roth + Burg for every mention of the town)."""
        w = _clean(word)
        if not w:
            return ()
        if _CYRILLIC.search(w):   # its Latin forms are among the place's names already
            return () if w in self._stops_ru else (self._stem_ru(w),)
        return self._latin(w, False, split=False) or ()

    def _place_terms_of(self, number: int) -> list[tuple[int, str]]:
        """(word offset in its name, term) for every name of place `number`, once each."""
        terms = self._place_terms.get(number)
        if terms is None:
            seen: set[tuple[int, str]] = set()
            terms = []
            for name in self._places()[1][number]:
                words = [m.group() for m in _TOKEN_RE.finditer(name)
                         if self._key_word(m.group())]
                for offset, word in enumerate(words):
                    for term in self._name_terms(word):
                        if (offset, term) not in seen:
                            seen.add((offset, term))
                            terms.append((offset, term))
            self._place_terms[number] = terms
        return terms

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        """The base filter's loop, plus: after each word, the other names of a place
        whose name (of one to three words) ends with it, when indexing."""
        if not self.places:
            yield from super().__call__(tokens)
            return
        # the last three capitalised words: (key, position, terms); a word's key is its
        # first term (the stem), so a name's words are looked up without more work
        recent: deque[tuple[str, int, tuple[str, ...]]] = deque(maxlen=3)
        last_pos: dict[str, int] = {}          # an added term's last position: never back
        done: set[int] = set()                 # places whose other names are in already
        ends: frozenset[str] | None = None

        def after(t: Token, word: str, terms: tuple[str, ...]) -> Iterator[Token]:
            nonlocal ends
            if t.mode != "index":
                return
            if not word[:1].isupper():         # names are capitalised (stop words aside)
                recent.clear()
                return
            recent.append((terms[0], t.pos if t.positions else 0, terms))
            if ends is None:
                ends = self._places()[2]
            if terms[0] in ends:               # the last word of some place's name
                yield from self._place_names(t, list(recent), last_pos, done)

        yield from self._filter(tokens, after)

    def _place_names(self, t: Token, recent: list[tuple[str, int, tuple[str, ...]]],
                     last_pos: dict[str, int], done: set[int]) -> Iterator[Token]:
        """The other names of the place(s) named by the last words, at their positions;
        once per text and place (enough to be found; the text's own spelling keeps its
        frequency for ranking, and a long text full of "Moskau" stays cheap)."""
        index = self._places()[0]
        for n in (3, 2, 1):
            if len(recent) < n:
                continue
            found = index.get(recent[-1][0] if n == 1 else
                              " ".join(r[0] for r in recent[-n:]))
            if not found:
                continue
            todo = [number for number in found if number not in done]
            if not todo:
                return
            done.update(todo)
            starts = [r[1] for r in recent[-n:]]
            own: dict[str, int] = {}           # the text's own terms are there already
            for _, at, terms in recent[-n:]:
                for term in terms:
                    own[term] = at
            pos = t.pos
            for number in todo:
                for offset, term in self._place_terms_of(number):
                    at = starts[min(offset, n - 1)]
                    if own.get(term, -1) >= at or last_pos.get(term, -1) >= at:
                        continue
                    last_pos[term] = at
                    t.text, t.pos = term, at
                    yield t
            t.pos = pos
            return


# Spelling classes, longest first. "S" stands for the sh sound (ш, ж: sch/sh/zh),
# "C" for ч and х (tsch/ch/kh/h), which German and English spell crosswise.
_KEY_RULES = [
    ("schtsch", "SC"), ("shtch", "SC"), ("shch", "SC"), ("tsch", "C"), ("sch", "S"),
    ("tch", "C"), ("zh", "S"), ("sh", "S"), ("ch", "C"), ("kh", "C"), ("ck", "k"),
    ("ph", "f"), ("th", "t"), ("tz", "s"), ("ts", "s"), ("qu", "kv"), ("x", "ks"),
    ("q", "k"), ("c", "k"), ("h", "C"), ("w", "v"), ("z", "s"), ("y", "j"),
]
_KEY_RE = re.compile("|".join(re.escape(a) for a, _ in _KEY_RULES))
_KEY_MAP = dict(_KEY_RULES)
_DOUBLE = re.compile(r"(.)\1+")
_J_NOT_BEFORE_VOWEL = re.compile(r"j(?![aeiou])")
_O_AFTER_HISSING = re.compile(r"(?<=[SC])o")
_JO_AFTER_CONSONANT = re.compile(r"(?<=[^aeiouj])jo")
# Case endings (Russian) and -s (German genitive), written in key letters; the
# longest that leaves at least 4 letters is cut, once.
_KEY_ENDINGS = sorted(
    """evimi ovimi evim ovim evoi ovoi evom ovom eva ova evu ovu eve ove evs ovs ev ov
    imi ami jami jam jaC aC om em oi ei im am ju ja s a e i o u""".split(),
    key=len, reverse=True)
_KEY_MIN = 4


def phonetic_key(latin: str) -> str:
    """The transliteration key of a lower-case ASCII word (see the module doc)."""
    k = _KEY_RE.sub(lambda m: _KEY_MAP[m.group()], latin)
    k = _DOUBLE.sub(r"\1", k)
    k = _J_NOT_BEFORE_VOWEL.sub("i", k)
    k = _DOUBLE.sub(r"\1", k)
    k = _O_AFTER_HISSING.sub("e", k)
    k = _JO_AFTER_CONSONANT.sub("e", k)
    for end in _KEY_ENDINGS:
        if k.endswith(end) and len(k) - len(end) >= _KEY_MIN:
            k = k[: -len(end)]
            break
    return k.replace("S", "sh").replace("C", "ch")


class PhoneticKeyFilter(_TermFilter):
    """Words of three or more letters to their transliteration key(s).

    The keys are for names, so when indexing only capitalised words get one, and
    of the Latin ones only those the German noun dictionary does not know as a noun
    or a compound of nouns (place names it knows do get one): that leaves about a
    tenth of the words. At query time every word gets its key (people type names
    in lower case, and a German noun's key simply finds nothing extra)."""

    _config = ()

    def __init__(self) -> None:
        super().__init__()
        self._stops = _fold_stops(stopwords_for_language("de")) | _fold_stops(
            stopwords_for_language("ru"))
        self._nouns: Any = None

    def _is_german_noun(self, w: str) -> bool:
        if self._nouns is None:
            from clippings.search.decompound import (load_places, load_wordlist,
                                                     shared_decompounder)

            self._nouns = (load_wordlist(), load_places(), shared_decompounder())
        words, places, splitter = self._nouns
        if w in words:
            return w not in places
        return bool(splitter.split(w))

    def _terms(self, word: str, index: bool) -> tuple[str, ...] | None:
        w = _clean(word)
        if german_fold(w) in self._stops:
            return None
        if len(w) < 3 or not w.isalpha() or (index and not word[0].isupper()):
            return ()
        if not _CYRILLIC.search(w):
            if not w.isascii() or (index and self._is_german_noun(w)):
                return ()
            return (phonetic_key(w),)
        keys: list[str] = []
        raw = _MARKS.sub("", unicodedata.normalize("NFC", word.lower()))
        for form in dict.fromkeys((raw, w)):          # with ё (Jolkina) and without
            for scheme in ("de", "en"):
                latin = _clean(transliterate_ru(form, scheme))
                if latin.isascii():
                    k = phonetic_key(latin)
                    if k not in keys:
                        keys.append(k)
        return tuple(keys)


def make_analyzer(decompound: bool = True) -> CompositeAnalyzer:
    """The analyzer for text fields (title, abstract, note, full text)."""
    return RegexTokenizer(TOKEN_PATTERN) | MixedLanguageFilter(decompound=decompound)


def make_phonetic_analyzer() -> CompositeAnalyzer:
    """The analyzer for the transliteration-key field (see the module doc)."""
    return RegexTokenizer(TOKEN_PATTERN) | PhoneticKeyFilter()


def analysis_signature() -> str:
    """Everything that decides the terms: this code's version, the stemmer library's
    version and the compound dictionary. Store it with an index; rebuild on change."""
    from importlib.metadata import version

    from clippings.search.decompound import DATA_FILE, PLACES_FILE
    from clippings.search.places import PLACES_DATA

    return (f"analysis-{ANALYZER_VERSION};pystemmer-{version('pystemmer')};"
            f"iuliia-{version('iuliia')};"
            f"nouns-{DATA_FILE.stat().st_size}-{PLACES_FILE.stat().st_size};"
            f"places-{PLACES_DATA.stat().st_size}")
