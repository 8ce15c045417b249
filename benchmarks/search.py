"""Search benchmark: 10,000 clippings with about 5 KB of German text each.

Generates a library (library.bib + snapshots/KEY/text.txt) in a temporary folder, then
prints: full index build time and MB/s of indexed text, index size, one incremental
update after a single `clippings add`, query latency p50/p95 over 100 varied queries
(in-process, snippets included), and the wall time of `clippings search` as a process.

    python benchmarks/search.py [--entries 10000] [--procs N] [--keep DIR]

Targets (issue 5): build >= 2 MB/s, single-entry update <= 1 s, p95 <= 50 ms,
`clippings search` <= 0.4 s wall.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NOUNS = ("Städtepartnerschaft Partnerschaftsvertrag Oberbürgermeister Bürgermeisterin "
         "Jugendaustausch Schüleraustausch Kulturzentrum Stadtverwaltung Gemeinderat "
         "Delegation Begegnung Freundschaft Versöhnung Zusammenarbeit Partnerstadt "
         "Konferenz Städtepartnerkonferenz Wirtschaftsförderung Zivilgesellschaft Verein "
         "Förderverein Feuerwehr Sportverein Kirchengemeinde Krankenhaus Hochschule "
         "Ausstellung Festakt Jahresempfang Grußwort Landesregierung Bundesregierung "
         "Generalkonsulat Botschaft Austauschprogramm Projektwoche Sommerlager Chor "
         "Blasorchester Theatergruppe Dolmetscherin Gastfamilie Erinnerungskultur "
         "Kriegsgräberstätte Gedenkstätte Friedensarbeit Entwicklung Umweltschutz "
         "Energiewende Stadtwerke Müllentsorgung Straßenbahn Bahnhof Hafen Universität "
         "Wissenschaft Kooperationsvertrag Absichtserklärung Memorandum Haushalt "
         "Finanzierung Stiftung Spende Hilfstransport Medikamente Ärztin Krankenschwester "
         "Schule Lehrerin Sprachkurs Deutschunterricht Russischunterricht Wörterbuch").split()
ADJECTIVES = ("deutsch-russische kommunale regionale langjährige neue erste gemeinsame "
              "herzliche offizielle kulturelle wirtschaftliche schwierige erfolgreiche "
              "ehrenamtliche städtische internationale europäische sibirische").split()
VERBS = ("unterzeichneten besuchten eröffneten feierten vereinbarten planten berichteten "
         "organisierten unterstützten diskutierten erinnerten begrüßten gründeten "
         "förderten verabschiedeten").split()
PLACES = ("Spremberg Schelesnogorsk Wolgograd Köln Kaluga Karlsruhe Baden-Baden "
          "Jekaterinburg Hamburg Rothenburg Uljanowsk Krasnodar Düren Kassel Erlangen "
          "Wladimir Nischni-Nowgorod Twer Jaroslawl Kostroma Pskow Nowgorod Potsdam "
          "Michendorf Düsseldorf Dortmund Leipzig Dresden Tula Rjasan Samara Kasan").split()
PEOPLE = ("Lohse Müller Schmidt Roters Rutz Gorzka Iwanow Petrowa Leitermann Loktjuschin "
          "Weiß Schäfer Krüger Smirnow Kusnezowa Popow Wolkow Sokolowa").split()
GIVEN = "Peggy Hans Anna Jürgen Michael Gabriele Ilja Olga Swetlana Dmitri Katrin".split()
PAPERS = ["Moskauer Deutsche Zeitung", "Lausitzer Rundschau", "Märkische Allgemeine",
          "Aachener Zeitung", "Russland Heute", "Süddeutsche Zeitung", "Rheinische Post"]
RUSSIAN = ("Партнёрство городов остаётся опорой диалога. Делегация из Германии посетила "
           "школы, больницы и музеи. Молодёжные обмены продолжаются уже много лет. "
           "Железногорск, Волгоград и Калуга поддерживают связи с немецкими городами. ")
TAGS = "städtepartnerschaft presse konferenz jugend kultur wirtschaft frieden".split()


def vocabulary(seed: int) -> tuple[list[str], list[float]]:
    """German nouns (the decompounder's dictionary) in a random order, with Zipf
    cumulative weights: a few words are everywhere, most are rare, as in real text."""
    import gzip
    import itertools
    data = Path(__file__).resolve().parent.parent / "clippings/search/data/de_nouns.txt.gz"
    with gzip.open(data, "rt", encoding="utf-8") as fh:
        words = [w.capitalize() for w in fh.read().split()]
    random.Random(seed).shuffle(words)
    return words, list(itertools.accumulate(1 / rank for rank in range(1, len(words) + 1)))


VOCAB: tuple[list[str], list[float]] = ([], [])


class Article:
    """What one article is about: a few topic nouns, two towns, one or two people; its
    sentences draw mostly on these, as a real article does, and on the whole language
    (Zipf-distributed) for the rest."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.topic = rng.sample(NOUNS, 12)
        self.places = rng.sample(PLACES, 2)
        self.people = rng.sample(PEOPLE, 2)

    def noun(self) -> str:
        if self.rng.random() < 0.5 or not VOCAB[0]:
            return self.rng.choice(self.topic)
        return self.rng.choices(VOCAB[0], cum_weights=VOCAB[1])[0]

    def place(self) -> str:
        return self.rng.choice(PLACES if self.rng.random() < 0.1 else self.places)

    def person(self) -> str:
        return self.rng.choice(PEOPLE if self.rng.random() < 0.1 else self.people)

    def sentence(self) -> str:
        rng = self.rng
        pattern = rng.randrange(5)
        n1, n2 = self.noun(), self.noun()
        adj, verb, place = rng.choice(ADJECTIVES), rng.choice(VERBS), self.place()
        year = rng.randint(1988, 2024)
        if pattern == 0:
            return (f"Im Jahr {year} {verb} Vertreter aus {place} und {self.place()} die "
                    f"{adj} {n1}.")
        if pattern == 1:
            return (f"Die {adj} {n1} mit {place} wurde nach Angaben von {rng.choice(GIVEN)} "
                    f"{self.person()} durch die {n2} gestärkt.")
        if pattern == 2:
            return (f"Bei der {n1} in {place} {verb} die Gäste über {n2}, über die "
                    f"{self.noun()} und über Pläne für das kommende Jahr.")
        if pattern == 3:
            return (f"„Die {n1} lebt von den Menschen“, sagte {self.person()} am "
                    f"{rng.randint(1, 28)}. {rng.choice(['Mai', 'Juni', 'Oktober', 'März'])} "
                    f"{year}.")
        return (f"Seit {year} gibt es eine {adj} {n1} zwischen {place} und "
                f"{self.place()}; dazu gehören {n2} und {self.noun()}.")


def article_text(rng: random.Random, size: int = 5000) -> str:
    article = Article(rng)
    bilingual = rng.random() < 0.1   # one article in ten quotes Russian sources
    parts, length = [], 0
    while length < size:
        paragraph = " ".join(article.sentence() for _ in range(rng.randint(3, 7)))
        if bilingual and rng.random() < 0.3:
            paragraph += " " + RUSSIAN
        parts.append(paragraph)
        length += len(paragraph) + 2
    return "\n\n".join(parts)


def entry(i: int, rng: random.Random) -> str:
    title = " ".join(rng.choice(NOUNS + PLACES) for _ in range(rng.randint(3, 7)))
    author = f"{rng.choice(PEOPLE)}, {rng.choice(GIVEN)}"
    date = f"{rng.randint(1990, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    tags = ", ".join(sorted(set(rng.sample(TAGS, 2))))
    return (f"@article{{c{i},\n  author       = {{{author}}},\n  title        = {{{title}}},\n"
            f"  journaltitle = {{{rng.choice(PAPERS)}}},\n  date         = {{{date}}},\n"
            f"  url          = {{https://www.example{i % 50}.de/artikel/{i}}},\n"
            f"  langid       = {{ngerman}},\n  keywords     = {{{tags}}},\n}}\n\n")


def generate(folder: Path, n: int, seed: int = 5) -> Path:
    rng = random.Random(seed)
    VOCAB[0][:], VOCAB[1][:] = vocabulary(seed)
    bib = folder / "library.bib"
    with bib.open("w", encoding="utf-8") as out:
        out.write("% generated search benchmark library\n\n")
        for i in range(n):
            out.write(entry(i, rng))
            snap = folder / "snapshots" / f"c{i}"
            snap.mkdir(parents=True)
            (snap / "text.txt").write_text(article_text(rng), encoding="utf-8")
    return bib


QUERIES = [
    "Partnerschaft", "Städtepartnerschaft", "Staedtepartnerschaft", "Konferenz",
    "Vertrag", "Wolgograd", "Volgograd", "Волгоград", "Zheleznogorsk", "Schelesnogorsk",
    '"deutsch-russische Städtepartnerschaft"', "Jugendaustausch AND Kaluga",
    "Bürgermeister OR Bürgermeisterin", "Feuerwehr NOT Spende", "author:Lohse",
    "title:Kaluga", "journal:\"Lausitzer Rundschau\"", "tag:frieden", "lang:de",
    "year:2015..2017", "date:2016-04..2016-06", "Wirtschafts*", "Jaroslaw?",
    "Kriegsgräbersätte~", "Michendorf~", "партнерство", "Schule Dolmetscherin",
    "Gedenkstätte year:2000..2010", "Energiewende AND Stadtwerke", "Festakt Grusswort",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def search_wall(bib: Path, query: str, repeat: int = 5) -> float:
    """Median wall time of `clippings search QUERY` as a fresh process, after one run
    that is not counted. Bytecode is written (as an installed package has it), even
    where PYTHONDONTWRITEBYTECODE is set: recompiling a changed module each time would
    be measured otherwise."""
    import os
    argv = [sys.executable, "-m", "clippings", "search", query]
    env = {**os.environ, "CLIPPINGS_LIBRARY": str(bib)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=bib.parent, capture_output=True, text=True,
                              env=env)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"search failed: {proc.stderr}")
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10000)
    parser.add_argument("--procs", type=int, default=None,
                        help="writer processes for the build (default: as `clippings index`)")
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it (a DIR "
                        "that already holds a generated library is reused)")
    parser.add_argument("--queries-only", action="store_true",
                        help="with --keep: measure queries on DIR's current index, no build "
                             "and no add")
    opts = parser.parse_args()

    from clippings.search import index as search_index

    folder = Path(opts.keep) if opts.keep else Path(tempfile.mkdtemp(prefix="clippings-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        bib = folder / "library.bib"
        if not (opts.keep and bib.exists()):
            bib = generate(folder, opts.entries)
        text_mb = sum(p.stat().st_size for p in (folder / "snapshots").rglob("text.txt")) / 1e6
        print(f"{'reused' if opts.keep and opts.queries_only else 'generated'} library: {text_mb:.1f} MB of snapshot text "
              f"in {time.perf_counter() - start:.1f} s")

        if opts.queries_only:
            if not (opts.keep and search_index.is_current(bib)):
                raise SystemExit("--queries-only needs --keep DIR with a current index")
            measure_queries(folder, bib)
            return
        start = time.perf_counter()
        report = search_index.update(bib, rebuild=True, procs=opts.procs)
        build = time.perf_counter() - start
        mb = report.text_bytes / 1e6
        print(f"full build:          {build:8.1f} s   {mb / build:6.2f} MB/s "
              f"({mb:.1f} MB of indexed text, procs={opts.procs or 'auto'})")
        print(f"index size:          {search_index.index_size(folder) / 1e6:8.1f} MB")

        checks = []
        for _ in range(5):
            start = time.perf_counter()
            current = search_index.is_current(bib)
            checks.append((time.perf_counter() - start) * 1000)
        print(f"staleness check:     {statistics.median(checks):8.1f} ms "
              f"(median of 5, current={current})")

        added = subprocess.run(
            [sys.executable, "-m", "clippings", "--library", str(bib), "add", "--no-fetch",
             "--type", "article", "--set", "title=Tschaikowski-Abend in Kaluga",
             "--set", "date=2024-05-02"], capture_output=True, text=True)
        if added.returncode != 0:
            raise SystemExit(f"add failed: {added.stderr}")
        start = time.perf_counter()
        report = search_index.update(bib)
        print(f"update after 1 add:  {time.perf_counter() - start:8.2f} s   "
              f"(added {report.added}, library.bib parsed)")

        measure_queries(folder, bib)
    finally:
        if not opts.keep:
            shutil.rmtree(folder, ignore_errors=True)


def measure_queries(folder: Path, bib: Path) -> None:
    """Query latency in-process (each query with no posting list decoded before, then
    again as a server has them), and `clippings search` as a process."""
    from clippings.search import index as search_index
    from clippings.search import postings
    from clippings.search import query as search_query
    ix = search_index.open_index(folder)
    queries = [QUERIES[i % len(QUERIES)] for i in range(100)]
    for q in QUERIES:  # analyzer caches warm, as in a process that has searched before
        search_query.search(ix, q, folder, 10)
    for label, forget in (("", True), ("repeated, postings decoded before: ", False)):
        times, hits = [], 0
        for q in queries:
            if forget:
                postings.forget_decoded()
            start = time.perf_counter()
            hits += len(search_query.search(ix, q, folder, 10))
            times.append((time.perf_counter() - start) * 1000)
        print(f"query latency:       {label}p50 {percentile(times, 50):6.1f} ms   "
              f"p95 {percentile(times, 95):6.1f} ms   max {max(times):6.1f} ms "
              f"({len(queries)} queries, limit 10, snippets included, {hits} hits)")
    wall = search_wall(bib, "Städtepartnerschaft Kaluga", repeat=9)
    print(f"clippings search:    {wall:8.2f} s wall (median of 9 processes)")
    walls = {q: search_wall(bib, q, repeat=5) for q in ("Partnerschaft", "Wolgograd",
                                                        "author:Lohse", "Michendorf~")}
    print("  by query (median of 5): " +
          ", ".join(f"{q} {w:.2f} s" for q, w in walls.items()))


if __name__ == "__main__":
    main()
