"""Throughput of the search analyzers on generated German text (no network).

Run:  .venv/bin/python benchmarks/analysis_speed.py [--mb 5] [--seed 1]

Prints the word-list load time, the analyzers' throughput in MB/s (index mode, i.e.
with compound splitting, and query mode) and how many distinct tokens the text had.
The text is made up here: sentences of German function words, inflected nouns with
umlauts, compounds glued with linking elements, numbers, dates and transliterated
Russian place names, so the vocabulary grows the way real clippings' does.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Nouns as (singular, plural); the compounds are built from these.
NOUNS = [
    ("Stadt", "Städte"), ("Partner", "Partner"), ("Partnerschaft", "Partnerschaften"),
    ("Konferenz", "Konferenzen"), ("Bürger", "Bürger"), ("Meister", "Meister"),
    ("Vertrag", "Verträge"), ("Rat", "Räte"), ("Haus", "Häuser"), ("Schule", "Schulen"),
    ("Straße", "Straßen"), ("Gemeinde", "Gemeinden"), ("Verwaltung", "Verwaltungen"),
    ("Jugend", "Jugenden"), ("Austausch", "Austausche"), ("Kultur", "Kulturen"),
    ("Wirtschaft", "Wirtschaften"), ("Freundschaft", "Freundschaften"), ("Reise", "Reisen"),
    ("Gruppe", "Gruppen"), ("Besuch", "Besuche"), ("Ausstellung", "Ausstellungen"),
    ("Kirche", "Kirchen"), ("Museum", "Museen"), ("Theater", "Theater"), ("Zeitung", "Zeitungen"),
    ("Krieg", "Kriege"), ("Frieden", "Frieden"), ("Geschichte", "Geschichten"),
    ("Erinnerung", "Erinnerungen"), ("Denkmal", "Denkmäler"), ("Flüchtling", "Flüchtlinge"),
    ("Hilfe", "Hilfen"), ("Gesundheit", "Gesundheiten"), ("Krankenhaus", "Krankenhäuser"),
    ("Arzt", "Ärzte"), ("Energie", "Energien"), ("Umwelt", "Umwelten"), ("Wasser", "Wasser"),
    ("Hafen", "Häfen"), ("Schiff", "Schiffe"), ("Bahn", "Bahnen"), ("Flug", "Flüge"),
    ("Hotel", "Hotels"), ("Markt", "Märkte"), ("Handel", "Handel"), ("Unternehmen", "Unternehmen"),
    ("Arbeit", "Arbeiten"), ("Platz", "Plätze"), ("Verein", "Vereine"), ("Sport", "Sporte"),
    ("Musik", "Musiken"), ("Chor", "Chöre"), ("Orchester", "Orchester"), ("Künstler", "Künstler"),
    ("Student", "Studenten"), ("Universität", "Universitäten"), ("Forschung", "Forschungen"),
    ("Sprache", "Sprachen"), ("Kurs", "Kurse"), ("Lehrer", "Lehrer"), ("Kind", "Kinder"),
    ("Garten", "Gärten"), ("Park", "Parks"), ("Wald", "Wälder"), ("Fluss", "Flüsse"),
    ("Brücke", "Brücken"), ("Bau", "Bauten"), ("Plan", "Pläne"), ("Projekt", "Projekte"),
    ("Förderung", "Förderungen"), ("Programm", "Programme"), ("Mittel", "Mittel"),
    ("Haushalt", "Haushalte"), ("Steuer", "Steuern"), ("Gebühr", "Gebühren"), ("Recht", "Rechte"),
    ("Gericht", "Gerichte"), ("Polizei", "Polizeien"), ("Feuerwehr", "Feuerwehren"),
    ("Bevölkerung", "Bevölkerungen"), ("Wahl", "Wahlen"), ("Partei", "Parteien"),
    ("Regierung", "Regierungen"), ("Minister", "Minister"), ("Präsident", "Präsidenten"),
    ("Botschaft", "Botschaften"), ("Delegation", "Delegationen"), ("Gast", "Gäste"),
    ("Feier", "Feiern"), ("Jubiläum", "Jubiläen"), ("Fest", "Feste"), ("Woche", "Wochen"),
]
LINKS = ["", "", "", "s", "es", "n", "en", "e"]
ADJECTIVES = ["neu", "alt", "groß", "klein", "deutsch", "russisch", "städtisch", "kulturell",
              "wichtig", "offiziell", "gemeinsam", "jährlich", "öffentlich", "schwierig",
              "früher", "weiter", "schön", "stark", "lang", "kurz", "historisch", "politisch"]
ENDINGS = ["e", "en", "er", "es", "em", ""]
VERBS = ["besuchte", "unterzeichnete", "eröffnete", "berichtete", "plant", "fördert", "feiert",
         "diskutierten", "erinnerte", "begrüßte", "organisiert", "unterstützen", "gründete",
         "beschloss", "erklärte", "veröffentlichte", "kritisierte", "stärkt", "sucht"]
FUNCTION = ["der", "die", "das", "den", "dem", "des", "ein", "eine", "einer", "und", "oder",
            "mit", "für", "über", "nach", "bei", "im", "am", "zum", "zur", "von", "auch",
            "nicht", "noch", "schon", "sehr", "mehr", "als", "wie", "auf", "aus", "seit"]
PLACES = ["Wolgograd", "Volgograd", "Jekaterinburg", "Nowosibirsk", "Uljanowsk", "Kasan",
          "Köln", "Düsseldorf", "Münster", "Göttingen", "Nürnberg", "Lüneburg", "Saarbrücken",
          "Schelesnogorsk", "Tscheljabinsk", "Krasnojarsk", "Sankt Petersburg", "Moskau"]
MONTHS = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
          "September", "Oktober", "November", "Dezember"]


def _compound(rng: random.Random) -> str:
    parts = rng.randint(2, 3)
    words = [rng.choice(NOUNS) for _ in range(parts)]
    out = ""
    for sing, plur in words[:-1]:
        out += (plur if rng.random() < 0.2 else sing).lower() + rng.choice(LINKS)
    sing, plur = words[-1]
    out += (plur if rng.random() < 0.3 else sing).lower()
    return out[0].upper() + out[1:]


def _noun(rng: random.Random) -> str:
    if rng.random() < 0.35:
        return _compound(rng)
    sing, plur = rng.choice(NOUNS)
    return plur if rng.random() < 0.4 else sing


def _sentence(rng: random.Random) -> str:
    words: list[str] = []
    for _ in range(rng.randint(6, 18)):
        r = rng.random()
        if r < 0.40:
            words.append(rng.choice(FUNCTION))
        elif r < 0.70:
            words.append(_noun(rng))
        elif r < 0.80:
            words.append(rng.choice(ADJECTIVES) + rng.choice(ENDINGS))
        elif r < 0.90:
            words.append(rng.choice(VERBS))
        elif r < 0.95:
            words.append(rng.choice(PLACES))
        else:
            words.append(f"{rng.randint(1, 28)}. {rng.choice(MONTHS)} {rng.randint(1950, 2025)}")
    words[0] = words[0][0].upper() + words[0][1:]
    return " ".join(words) + rng.choice([".", ".", ".", "?", "!"])


def generate_german_text(nbytes: int, seed: int = 1) -> list[str]:
    """Paragraphs of made-up German text, together about `nbytes` bytes of UTF-8."""
    rng = random.Random(seed)
    paragraphs: list[str] = []
    size = 0
    while size < nbytes:
        para = " ".join(_sentence(rng) for _ in range(rng.randint(3, 8)))
        paragraphs.append(para)
        size += len(para.encode("utf-8")) + 1
    return paragraphs


def _docs(paragraphs: list[str], size: int = 5000) -> list[str]:
    """Group paragraphs into documents of about `size` characters (a clipping)."""
    docs, cur, n = [], [], 0
    for p in paragraphs:
        cur.append(p)
        n += len(p) + 1
        if n >= size:
            docs.append("\n".join(cur))
            cur, n = [], 0
    return docs + (["\n".join(cur)] if cur else [])


def _time(fn) -> tuple[float, float]:
    """(wall, CPU of this process) seconds; CPU is steadier on a shared machine."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def _analyzer_rows(paragraphs: list[str], mb: float) -> list[tuple[str, str]]:
    from whoosh.analysis import LanguageAnalyzer

    from clippings.search import analysis

    rows = []
    for name, make, modes in (
            ("whoosh LanguageAnalyzer('de') (baseline)", lambda: LanguageAnalyzer("de"),
             ("index",)),
            ("text analyzer", analysis.make_analyzer, ("index", "query")),
            ("phonetic analyzer", analysis.make_phonetic_analyzer, ("index", "query"))):
        for mode in modes:
            ana = make()
            count = [0]

            def run():
                for p in paragraphs:
                    for _ in ana(p, mode=mode, positions=True):
                        count[0] += 1

            wall, cpu = _time(run)
            rows.append((f"{name}, {mode} mode",
                         f"{mb / cpu:.2f} MB/s CPU, {mb / wall:.2f} MB/s wall "
                         f"({count[0]:,} tokens)"))
    # What a build runs instead of the chain (search/terms.py), on whole clippings, its
    # word caches warmed on the first fifth of them as a build's worker warms them.
    from clippings.search.terms import term_positions
    ana = analysis.make_analyzer()
    docs = _docs(paragraphs)
    warm = len(docs) // 5
    for d in docs[:warm]:
        term_positions(ana, d, 1)
    part = sum(len(d.encode("utf-8")) for d in docs[warm:]) / 1_000_000
    wall, cpu = _time(lambda: [term_positions(ana, d, 1) for d in docs[warm:]])
    rows.append(("build's term positions (terms.py), warmed",
                 f"{part / cpu:.2f} MB/s CPU, {part / wall:.2f} MB/s wall"))
    return rows


def _index_rows(paragraphs: list[str], mb: float) -> list[tuple[str, str]]:
    """Build a real Whoosh index of the text (main field + key field)."""
    import shutil
    import tempfile

    from whoosh import fields, index

    from clippings.search import analysis

    docs = _docs(paragraphs)
    rows = []
    for procs in (1, 2):
        schema = fields.Schema(
            key=fields.ID(stored=True, unique=True),
            text=fields.TEXT(analyzer=analysis.make_analyzer()),
            keys=fields.TEXT(analyzer=analysis.make_phonetic_analyzer(),
                             multitoken_query="or"))
        tmp = tempfile.mkdtemp()
        try:
            ix = index.create_in(tmp, schema)

            def build():
                kw = {"procs": procs, "multisegment": True} if procs > 1 else {}
                w = ix.writer(limitmb=128, **kw)
                for i, d in enumerate(docs):
                    w.add_document(key=str(i), text=d, keys=d)
                w.commit()

            wall, _ = _time(build)
            size = sum(f.stat().st_size for f in Path(tmp).iterdir())
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        rows.append((f"whoosh index build, procs={procs}",
                     f"{mb / wall:.2f} MB/s wall ({wall:.1f} s, {len(docs):,} docs, "
                     f"index {size / 1e6:.1f} MB)"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=5.0, help="megabytes of text (default 5)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--index", action="store_true",
                    help="also build a real Whoosh index (1 and 2 processes)")
    args = ap.parse_args()

    paragraphs = generate_german_text(int(args.mb * 1_000_000), args.seed)
    mb = sum(len(p.encode("utf-8")) + 1 for p in paragraphs) / 1_000_000

    wall, _ = _time(lambda: __import__("clippings.search.analysis"))
    rows = [("import clippings.search.analysis", f"{wall * 1000:.0f} ms")]
    from clippings.search import decompound

    wall, _ = _time(decompound.load_wordlist)
    rows.append(("load compound word list",
                 f"{wall * 1000:.0f} ms ({len(decompound.load_wordlist()):,} spellings)"))
    rows.append(("text", f"{mb:.2f} MB in {len(paragraphs):,} paragraphs"))
    rows += _analyzer_rows(paragraphs, mb)
    if args.index:
        rows += _index_rows(paragraphs, mb)

    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k.ljust(width)}  {v}")


if __name__ == "__main__":
    main()
