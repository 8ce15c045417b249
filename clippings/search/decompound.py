"""German compound splitting with a noun dictionary, in the manner of Lucene's
dictionary decompounder: the analyzer indexes a compound together with the
dictionary words found inside it, so `Partnerschaft` finds `Städtepartnerschaften`.

The splitter works right to left, the way German compounds are built (the head is
the last part): it looks for the longest dictionary word that ends the compound
(allowing an inflection ending after it), then splits what is left in front of it,
allowing a linking element (-s-, -es-, -n-, -en-, -ns-) or a dropped -e
(`Schulbuch`) at each seam. Every part must be at least `MIN_PART` letters long
(a few frequent three-letter nouns excepted), which keeps junk splits rare.

The dictionary is `data/de_nouns.txt.gz`: about 158,000 German noun forms (lemmas
and nominative plurals, names of people left out; place names also listed apart in
`data/de_places.txt.gz`) derived from
the german-nouns package's Wiktionary data, CC BY-SA 4.0, see `data/README.md`. It is shipped rather
than read from german-nouns at run time because that package pins lxml < 5. It is
loaded on first use (about 0.1 s) and only for indexing: query analysis never needs it.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

__all__ = ["DATA_FILE", "PLACES_FILE", "MIN_PART", "Decompounder", "load_wordlist", "load_places",
           "shared_decompounder", "build_wordlist", "umlaut_variants"]

DATA_FILE = Path(__file__).parent / "data" / "de_nouns.txt.gz"
# The words of DATA_FILE that are only place names (Wolgograd, not Essen).
PLACES_FILE = Path(__file__).parent / "data" / "de_places.txt.gz"

MIN_PART = 4
# Frequent short nouns that are common compound parts (Amtsgericht, Bahnhof, Stadtrat).
SHORT_PARTS = frozenset(
    "amt bad bau bus eis gas hof not ort rad rat see tag tal tor weg zug".split())
# Nouns that are also derivational suffixes: splitting them off (Wirt|schaft,
# Gesell|schaft) would make nonsense parts.
NEVER_PARTS = frozenset(
    "schaft schafte schaften schafts haft hafte haften heit keit ling tums nisse".split())
# Adjectives, adverbs and prepositions that begin many compounds (Alt|stadt,
# Mit|arbeiter, Zusammen|arbeit): allowed as the front, not indexed as parts.
PREFIXES = frozenset("""
    alt neu gross klein hoch tief fern nah fruh spat ost west nord sud mittel ober
    unter haupt zusammen gegen mit neben sonder fremd frei voll halb rot schwarz
    gruen grun weiss blau ur erst letzt""".split())
# Linking elements between a modifier and what follows (Partnerschaft-s-vertrag).
LINKS = ("s", "es", "n", "en", "ns", "er", "e")
# Inflection endings a head may carry beyond its dictionary form (Verträge-n).
ENDINGS = ("s", "es", "n", "en", "e", "er", "ern", "ns")

_PLAIN = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_TWO_LETTER = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def umlaut_variants(word: str) -> set[str]:
    """The spellings of a lower-case word without umlauts: `städte` → {stadte, staedte}."""
    return {word.translate(_PLAIN), word.translate(_TWO_LETTER)}


@lru_cache(maxsize=4)
def _load(path: Path) -> frozenset[str]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        words = fh.read().split()
    out: set[str] = set()
    for w in words:
        out.update((w,) if w.isascii() else umlaut_variants(w))
    return frozenset(out)


def load_wordlist(path: Path | None = None) -> frozenset[str]:
    """The dictionary as a set of lower-case words in both umlaut-free spellings."""
    return _load(Path(path) if path else DATA_FILE)


def load_places(path: Path | None = None) -> frozenset[str]:
    """The dictionary's words that are only place names (Wolgograd, Köln), not nouns."""
    return _load(Path(path) if path else PLACES_FILE)


@lru_cache(maxsize=1)
def shared_decompounder() -> Decompounder:
    """One splitter (and one memo) for every analyzer of the process."""
    return Decompounder(load_wordlist())


class Decompounder:
    """Split lower-case, umlaut-free German words into dictionary parts."""

    def __init__(self, words: Iterable[str], min_part: int = MIN_PART,
                 min_word: int = 2 * MIN_PART - 1):
        # The words that may be parts, checked with one set look-up.
        self.words = {w for w in words if (len(w) >= min_part or w in SHORT_PARTS)
                      and w not in NEVER_PARTS}
        self.min_part = min_part
        self.min_word = min_word
        self._memo: dict[str, list[str]] = {}
        self._front_memo: dict[tuple[str, int], list[str] | None] = {}

    def _is_word(self, s: str) -> bool:
        return s in self.words

    def _modifier(self, s: str, depth: int) -> list[str] | None:
        """Parts of the front of a compound, which may end in a linking element.

        A listed word wins over a split (Bundestag-s, not Bunde|stags)."""
        key = (s, depth)
        memo = self._front_memo
        if key not in memo:
            if len(memo) > 200_000:
                memo.clear()
            memo[key] = self._modifier_uncached(s, depth)
        return memo[key]

    def _modifier_uncached(self, s: str, depth: int) -> list[str] | None:
        if s in PREFIXES or self._is_word(s):
            return [s]
        bare = [s[: -len(link)] for link in LINKS if s.endswith(link) and len(s) > len(link)]
        if not s.endswith("e"):
            bare.append(s + "e")                       # Schul|buch: the -e was dropped
        for b in bare:
            if self._is_word(b):
                return [b]
        if depth <= 0:
            return None
        for b in [s, *bare]:
            parts = self._split(b, depth - 1, _bases(b))
            if parts:
                return parts
        return None

    def _split(self, s: str, depth: int, bases: list[str]) -> list[str] | None:
        words = self.words
        for i in range(3, len(s) - 2):                 # longest head first
            for base in bases:
                if base[i:] in words:
                    front = self._modifier(s[:i], depth)
                    if front:
                        # Keep the head as written (with its inflection ending).
                        return front + [s[i:]]
        return None

    def split(self, word: str) -> list[str]:
        """The dictionary parts inside `word`, without `word` itself; [] if none.

        For `stadtepartnerkonferenz`: stadte, partner, konferenz; a part that is
        itself a compound is split too (oberburgermeister → burgermeister, burger,
        meister). A leading adjective or particle (PREFIXES) is not a part.
        """
        if len(word) < self.min_word:
            return []
        memo = self._memo
        if word in memo:
            return memo[word]
        if len(memo) > 200_000:
            memo.clear()
        memo[word] = out = self._split_parts(word)
        return out

    def _split_parts(self, word: str) -> list[str]:
        parts = self._split(word, 3, _bases(word))
        if not parts:
            return []
        out: list[str] = []
        for part in parts:
            if part in PREFIXES:
                continue
            out.append(part)
            if len(part) >= self.min_word:
                out.extend(p for p in self.split(part) if p not in out)
        return out


def _bases(s: str) -> list[str]:
    """`s` and `s` without each inflection ending it carries."""
    if s[-1] not in "sner":                            # no ending: the usual case
        return [s]
    return [s] + [s[: -len(e)] for e in ENDINGS if s.endswith(e) and len(s) - len(e) >= 3]


def build_wordlist(csv_path: Path) -> tuple[list[str], list[str]]:
    """Nouns and place names (lemma and nominative forms) from german-nouns'
    `nouns.csv`, lower case, sorted, names of people and abbreviations left out;
    and, second, the words among them that are only place names.

    Used once by a developer to make `data/de_nouns.txt.gz`:
    python -m clippings.search.decompound PATH/TO/nouns.csv
    """
    import csv
    import re

    skip_pos = {"Vorname", "Nachname", "Abkürzung", "Buchstabe", "Symbol",
                "Affix", "Suffix", "Gebundenes Lexem", "Wortverbindung", "Redewendung",
                "Grußformel", "Partikel", "Geflügeltes Wort", "Zahlklassifikator",
                "Deklinierte Form", "Adjektiv", "Straßenname"}
    letters = re.compile(r"^[a-zäöüß]+$")
    nouns: set[str] = set()
    places: set[str] = set()
    with open(csv_path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            pos = set(row["pos"].split(","))
            if pos & skip_pos:
                continue
            target = places if "Toponym" in pos else nouns
            for col, value in row.items():
                if col == "lemma" or col.startswith("nominativ"):
                    w = (value or "").lower()
                    if letters.match(w) and (len(w) >= MIN_PART or w in SHORT_PARTS):
                        target.add(w)
    return sorted(nouns | places), sorted(places - nouns)


if __name__ == "__main__":                          # developer tool, see build_wordlist
    import sys

    DATA_FILE.parent.mkdir(parents=True, exist_ok=True)
    for out, lines in zip((DATA_FILE, PLACES_FILE), build_wordlist(Path(sys.argv[1]))):
        with gzip.GzipFile(out, "wb", compresslevel=9, mtime=0) as fh:
            fh.write(("\n".join(lines) + "\n").encode("utf-8"))
