"""Export speed: 5,000 generated entries as din-1505-2 HTML and as each data format.

Targets (issue 6): CSL rendering of 5,000 entries in <= 5 s; data formats >= 20,000
entries/s. Run: python benchmarks/export.py [N]
"""

from __future__ import annotations

import random
import sys
import time

from clippings import export
from clippings.model import Name, Record

FAMILIES = ["Lohse", "Müller", "Roters", "Gorzka", "Иванов", "Schäfer", "van Dijk", "Rutz"]
GIVEN = ["Peggy", "Jürgen", "Anna", "Ilja", "Gabriele", "Michael", "Ольга"]
WORDS = ["Städtepartnerschaft", "Frieden", "Begegnung", "Wolgograd", "Konferenz", "Dialog",
         "Kommunen", "Jugendaustausch", "Brücke", "Russland", "Partnerschaft", "Zukunft"]
PAPERS = ["RBTH", "Moskauer Deutsche Zeitung", "Lausitzer Rundschau", "Aachener Zeitung"]


def make_records(n: int, seed: int = 6) -> list[Record]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        kind = rnd.choice(["article", "article", "online", "book", "misc"])
        fields = {"title": " ".join(rnd.sample(WORDS, 4)),
                  "date": f"{rnd.randint(1990, 2024)}-{rnd.randint(1, 12):02d}-"
                          f"{rnd.randint(1, 28):02d}",
                  "langid": "ngerman", "keywords": "städtepartnerschaft, presse"}
        if kind == "article":
            fields.update(journaltitle=rnd.choice(PAPERS), entrysubtype="newspaper",
                          pages=str(rnd.randint(1, 30)))
        if kind in ("article", "online"):
            fields.update(url=f"https://example.org/{i}", urldate="2024-03-01")
        if kind == "book":
            fields.update(publisher="OWC Verlag", location="Berlin")
        names = {"author": [Name(rnd.choice(FAMILIES), rnd.choice(GIVEN))
                            for _ in range(rnd.randint(1, 3))]}
        out.append(Record(kind, fields, names, key=f"entry{i}"))
    return out


def timed(label: str, n: int, func) -> None:
    start = time.perf_counter()
    text = func()
    elapsed = time.perf_counter() - start
    print(f"{label:<28} {elapsed:8.3f} s  {n / elapsed:10,.0f} entries/s  "
          f"{len(text) / 1e6:6.2f} MB")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    records = make_records(n)
    print(f"{n} entries")
    export.export(records[:2], "html", "din-1505-2", "de-DE")   # warm-up: pandoc's start
    timed("din-1505-2 html (pandoc)", n,
          lambda: export.export(records, "html", "din-1505-2", "de-DE"))
    timed("apa text (pandoc)", n, lambda: export.export(records, "text", "apa", "de-DE"))
    timed("plain text (pybtex)", n, lambda: export.export(records, "text", "plain"))
    for fmt in ("bibtex", "biblatex", "ris", "csljson"):
        timed(fmt, n, lambda fmt=fmt: export.export(records, fmt))


if __name__ == "__main__":
    main()
