"""Full-text search: a table of queries over the shipped library plus fixture snapshots,
the commands' contract, and the life of the index (incremental, stale, corrupt).

The queries and the commands' contract run against both backends (Whoosh and a real
PostgreSQL server, `postgres_url` in conftest.py) and must give the same hits."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from clippings.cli import main
from clippings.cli.search import _bold
from clippings.cli.search import index as index_command
from clippings.cli.search import search as search_command
from clippings.errors import UsageError
from clippings.search import find
from clippings.search import index as search_index
from clippings.search import update as search_update
from helpers import REPO, run

main.add_command(index_command)
main.add_command(search_command)

SNAPSHOTS = Path(__file__).parent / "fixtures" / "snapshots"


def make_library(folder: Path) -> Path:
    """The shipped library.bib with the fixture snapshots beside it."""
    shutil.copy(REPO / "library.bib", folder / "library.bib")
    shutil.copytree(SNAPSHOTS, folder / "snapshots",
                    ignore=shutil.ignore_patterns("README.md"))
    return folder / "library.bib"


BACKENDS = ["whoosh", "postgresql"]


def use_backend(bib: Path, backend: str, request) -> None:
    """Point the library at a backend the way a user does: in clippings.toml."""
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_url")
        (bib.parent / "clippings.toml").write_text(f'search_backend = "{url}"\n', "utf-8")


@pytest.fixture(scope="module", params=BACKENDS)
def clipped(request, tmp_path_factory) -> Path:
    """One indexed library per backend shared by the query table (queries do not change
    it)."""
    bib = make_library(tmp_path_factory.mktemp(f"clipped_{request.param}"))
    use_backend(bib, request.param, request)
    search_update(bib)
    return bib


@pytest.fixture
def fresh(tmp_path) -> Path:
    """A library of its own, not indexed yet, for tests that change things."""
    return make_library(tmp_path)


def keys(bib: Path, text: str, limit: int | None = None) -> list[str]:
    return [hit.key for hit in find(bib, text, limit)]


# (query, keys it must return, keys it must not return)
CASES = {
    # -- German: umlauts, ae/oe/ue, plain vowels, ß/ss
    "umlaut": ("Nähkästchen", {"staedtepartner2017naehkaestchen"}, {"lohse2017dossier"}),
    "umlaut-ae": ("Naehkaestchen", {"staedtepartner2017naehkaestchen"}, {"lohse2017dossier"}),
    "umlaut-plain": ("Nahkastchen", {"staedtepartner2017naehkaestchen"},
                     {"lohse2017dossier"}),
    "ue-in-place": ("Duesseldorf", {"staedtepartnerschaften2016entwickeln"},
                    {"gorzka2018annaeherung"}),
    "u-in-place": ("Dusseldorf", {"staedtepartnerschaften2016entwickeln"},
                   {"gorzka2018annaeherung"}),
    "eszett": ("Grußwort", {"spremberg2016schlaegt", "grani2016uspecha"},
               {"michendorfer2015entspannungspolitik"}),
    "eszett-as-ss": ("Grusswort", {"spremberg2016schlaegt", "grani2016uspecha"},
                     {"michendorfer2015entspannungspolitik"}),
    "ss-in-compound": ("Hauptstrasse", {"spremberg2016schlaegt"},
                       {"michendorfer2015entspannungspolitik"}),
    # -- stemming and stop words
    "stemming": ("Begegnung", {"spremberg2016schlaegt", "michendorfer2015entspannungspolitik"},
                 {"kreis2016dueren", "lohse2017dossier"}),
    "stop-word-ignored": ("jener Blasorchester", {"spremberg2016schlaegt"},
                          {"michendorfer2015entspannungspolitik"}),
    # -- compounds, with linking elements -s-, -es-, -n-, -en-
    "compound-part": ("Partnerschaft", {"roters2016staedtepartnerschaften",
                                        "spremberg2016schlaegt"},
                      {"kreis2016dueren", "loktjuschin2011austausch"}),
    "compound-s": ("Vertrag", {"spremberg2016schlaegt"}, {"lohse2017dossier"}),
    "compound-konferenz": ("Konferenz", {"kreis2016dueren", "portal2017deutsch"},
                           {"gorzka2018annaeherung", "lohse2017dossier"}),
    "compound-es": ("Regierung", {"michendorfer2015entspannungspolitik"},
                    {"spremberg2016schlaegt"}),
    "compound-n": ("Fest", {"spremberg2016schlaegt"}, {"michendorfer2015entspannungspolitik"}),
    "compound-en": ("Verein", {"michendorfer2015entspannungspolitik"}, {"lohse2017dossier"}),
    # -- Russian: stemming, ё = е
    "russian-stem": ("конференция", {"grani2016uspecha"}, {"moskauer2011deutsche"}),
    "russian-yo": ("партнерство", {"moskauer2011deutsche"}, {"lohse2017dossier"}),
    # -- transliteration: German and English conventions, and Cyrillic
    "translit-de": ("Wolgograd", {"portal2017deutsch", "grani2016uspecha",
                                  "moskauer2011deutsche"}, {"spremberg2016schlaegt"}),
    "translit-en": ("Volgograd", {"portal2017deutsch", "grani2016uspecha",
                                  "moskauer2011deutsche"}, {"spremberg2016schlaegt"}),
    "translit-cyr": ("Волгоград", {"portal2017deutsch", "grani2016uspecha",
                                   "moskauer2011deutsche"}, {"spremberg2016schlaegt"}),
    "translit-de-2": ("Schelesnogorsk", {"spremberg2016schlaegt", "moskauer2011deutsche"},
                      {"grani2016uspecha"}),
    "translit-en-2": ("Zheleznogorsk", {"spremberg2016schlaegt", "moskauer2011deutsche"},
                      {"grani2016uspecha"}),
    "translit-cyr-2": ("Железногорск", {"spremberg2016schlaegt", "moskauer2011deutsche"},
                       {"grani2016uspecha"}),
    # -- only in a snapshot's text
    "snapshot-only": ("Blasorchester", {"spremberg2016schlaegt"},
                      {"michendorfer2015entspannungspolitik"}),
    # -- words (all must match), phrases, AND / OR / NOT, groups
    "all-words": ("Michendorf Frieden", {"michendorfer2015entspannungspolitik"},
                  {"roters2016staedtepartnerschaften"}),
    "phrase": ('"Rothenburg ob der Tauber"', {"loktjuschin2011austausch", "grani2016uspecha"},
               {"lohse2017dossier"}),
    "phrase-order": ('"Tauber Rothenburg"', set(), {"loktjuschin2011austausch"}),
    "or": ("Frieden OR Versöhnung", {"roters2016staedtepartnerschaften",
                                      "erlanger2016erklaerung", "rutz2011geschenk"},
           {"lohse2017dossier"}),
    "and": ("Frieden AND Köln", {"roters2016staedtepartnerschaften"},
            {"erlanger2016erklaerung"}),
    "not": ("Frieden NOT Köln", {"erlanger2016erklaerung"},
            {"roters2016staedtepartnerschaften"}),
    "group": ("(Frieden OR Versöhnung) AND year:2011", {"rutz2011geschenk"},
              {"roters2016staedtepartnerschaften", "erlanger2016erklaerung"}),
    # -- field:term
    "author": ("author:Lohse", {"lohse2017dossier"}, {"staedte2018regionen"}),
    "title": ("title:Frieden", {"roters2016staedtepartnerschaften", "erlanger2016erklaerung"},
              {"michendorfer2015entspannungspolitik"}),
    "journal": ('journal:"Russland Heute"', {"loktjuschin2011austausch", "rutz2011geschenk"},
                {"lohse2017dossier"}),
    "type": ("type:periodical", {"grani2016uspecha", "east2011west", "moskauer2011deutsche"},
             {"rutz2011geschenk"}),
    "tag": ("tag:presse", {"lohse2017dossier", "kreis2016dueren"}, {"gorzka2018annaeherung"}),
    "tag-folded": ("tag:staedtepartnerkonferenz", {"kreis2016dueren",
                                                   "loktjuschin2011austausch"},
                   {"roters2016staedtepartnerschaften"}),
    "lang-name": ("lang:russian", {"grani2016uspecha", "moskauer2011deutsche"},
                  {"lohse2017dossier"}),
    "lang-german": ("lang:german", {"lohse2017dossier", "grani2016uspecha"}, set()),
    "lang-ngerman": ("lang:ngerman", {"lohse2017dossier", "grani2016uspecha"}, set()),
    "lang-code": ("lang:ru", {"grani2016uspecha", "moskauer2011deutsche"},
                  {"lohse2017dossier"}),
    # -- years and dates
    "year-range": ("year:2015..2016", {"michendorfer2015entspannungspolitik",
                                       "spremberg2016schlaegt", "grani2016uspecha"},
                   {"lohse2017dossier", "rutz2011geschenk"}),
    "year-whoosh-syntax": ("year:[2015 TO 2016]", {"michendorfer2015entspannungspolitik",
                                                   "spremberg2016schlaegt"},
                           {"lohse2017dossier", "rutz2011geschenk"}),
    "year-after": ("year:>2017", {"staedte2018regionen", "gorzka2018annaeherung"},
                   {"lohse2017dossier"}),
    "date-range": ("date:2016-04..2016-06", {"spremberg2016schlaegt", "kreis2016dueren",
                                             "roters2016staedtepartnerschaften"},
                   {"erlanger2016erklaerung", "grani2016uspecha"}),
    "date-month": ("date:2011-05", {"rutz2011geschenk", "loktjuschin2011austausch"},
                   {"east2011west"}),
    # -- wildcards and fuzzy words
    "wildcard-star": ("Michendorf*", {"michendorfer2015entspannungspolitik"},
                      {"lohse2017dossier"}),
    "wildcard-qmark": ("Wol?ograd", {"portal2017deutsch", "grani2016uspecha"},
                       {"spremberg2016schlaegt"}),
    "fuzzy": ("Sprenberg~", {"spremberg2016schlaegt"},
              {"michendorfer2015entspannungspolitik"}),
    "fuzzy-field": ("author:Lohze~", {"lohse2017dossier"}, {"roters2016staedtepartnerschaften"}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_query_table(clipped, name):
    query, must, must_not = CASES[name]
    found = set(keys(clipped, query))
    assert must <= found, f"{query!r} missed {must - found}"
    assert not (must_not & found), f"{query!r} wrongly found {must_not & found}"


def test_umlaut_spellings_find_the_same_entries(clipped):
    results = [set(keys(clipped, q)) for q in ("Städte", "Staedte", "Stadte")]
    assert "staedte2018regionen" in results[0]
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize("query, message, german", [
    ("year:abc", "not a year", "ist keine Jahreszahl"),
    ("date:2016-13", "not a valid date", "ist kein gültiges Datum"),
    ("date:16.4.2016", "is not a date", "ist kein Datum (JJJJ"),
    ("year:2017..2015", "empty range", "ist ein leerer Bereich"),
    ("year:..", "needs at least one end", "braucht mindestens ein Ende"),
    ("year:>2015..2017", "mixes > with a range", "mischt > mit einem Bereich"),
    ('"Städte Partner', "unbalanced", "fehlt ein \""),
    ("(Frieden OR Köln", "without a matching ')'", "ohne passende ')'"),
    ("Frieden)", "without a matching '('", "ohne passende '('"),
    ("Frieden AND", "both sides", "auf beiden Seiten ein Wort"),
    ("colour:blue", "unknown field 'colour:'", "unbekanntes Feld 'colour:'"),
    ("   ", "empty", "Die Suche ist leer"),
    ("title:", "title: needs a value", "title: braucht einen Wert"),
    ("Frieden year:", "year: needs a value", "year: braucht einen Wert"),
])
def test_bad_queries_say_what_is_wrong(clipped, query, message, german):
    """In English on the command line, in German too for the web pages (German first)."""
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")) \
            as raised:
        keys(clipped, query)
    assert german in raised.value.line_for("de")
    assert raised.value.line_for("en") == str(raised.value)


def test_bad_query_on_the_command_line_is_one_line_and_exit_2(clipped):
    result = run("search", "year:abc", library=clipped)
    assert result.exit_code == 2
    assert result.output.startswith("clippings: error: year:abc is not a year")
    assert "Traceback" not in result.output


# -- results ----------------------------------------------------------------------------

def test_title_match_ranks_above_a_match_in_the_text(clipped):
    # "Frieden" is in two titles and once in the Michendorf snapshot's text.
    order = keys(clipped, "Frieden")
    assert order.index("michendorfer2015entspannungspolitik") > max(
        order.index("roters2016staedtepartnerschaften"), order.index("erlanger2016erklaerung"))


def test_json_has_the_contract_shape_best_first(clipped):
    result = run("search", "Partnerschaftsvertrag", "--json", library=clipped)
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits and hits[0]["key"] == "spremberg2016schlaegt"
    for hit in hits:
        assert {"key", "score", "type", "title", "authors", "date", "snippet"} <= set(hit)
        assert isinstance(hit["authors"], list)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert hits[0]["title"] == "Spremberg schlägt Brücke nach Russland"
    assert hits[0]["date"] == "2016-04-29"
    assert "**Partnerschaftsvertrag**" in hits[0]["snippet"]


def test_snippet_comes_from_the_snapshot_and_marks_matches(clipped):
    hits = run("search", "Blasorchester", "--json", library=clipped)
    [hit] = json.loads(hits.output)
    assert "**Blasorchester**" in hit["snippet"]
    assert len(hit["snippet"]) < 400


def test_snippet_marks_a_compound_found_through_its_part(clipped):
    hits = json.loads(run("search", "Vertrag", "--json", library=clipped).output)
    assert hits[0]["key"] == "spremberg2016schlaegt"
    assert "**Partnerschaftsvertrag**" in hits[0]["snippet"]


def test_snippet_marks_a_name_in_another_script(clipped):
    hits = json.loads(run("search", "Volgograd", "--json", library=clipped).output)
    by_key = {hit["key"]: hit for hit in hits}
    assert "**Волгоград**" in by_key["moskauer2011deutsche"]["snippet"]
    assert "**Wolgograd**" in by_key["portal2017deutsch"]["snippet"]


def test_snippet_does_not_mark_words_under_not(clipped):
    # The note of this entry names Wolgograd, just not in its title.
    hits = json.loads(run("search", "Jekaterinburg NOT title:Wolgograd", "--json",
                          library=clipped).output)
    [snippet] = [hit["snippet"] for hit in hits if hit["key"] == "portal2017deutsch"]
    assert "**Jekaterinburg**" in snippet and "Wolgograd" in snippet
    assert "**Wolgograd**" not in snippet


def test_a_phrase_snippet_shows_the_phrase_not_its_words_apart():
    """A phrase's words stand together in the snippet where the text has them together
    (stop words between them allowed), even after a denser window of them apart; plain
    words still take the densest window."""
    from clippings.search import query
    from clippings.search.index import schema
    text = ("Kaluga ist deutsch, die Partnerschaft russisch, die Städtepartnerschaft alt. "
            * 3 + "Viel Text über Feuerwehr und Chöre. " * 8 +
            "Seit 1990 besteht die deutsch-russische Städtepartnerschaft mit Suhl. "
            "Auch Rothenburg ob der Tauber. " + "Noch mehr über Feuerwehr. " * 8)

    def cut(q: str) -> str:
        return query.snippet(text, query.Marker(schema(), query.parse(q, schema())))

    assert "**deutsch**-**russische** **Städtepartnerschaft**" in \
        cut('"deutsch-russische Städtepartnerschaft"')
    assert "**Rothenburg** ob der **Tauber**" in cut('"Rothenburg ob der Tauber" OR Kaluga')
    apart = cut("deutsch russisch Städtepartnerschaft")
    assert "**russisch**, die **Städtepartnerschaft** alt" in apart and "1990" not in apart
    # A phrase whose words never stand together: looked for in the first PHRASE_READ
    # characters only, then the densest window of them is shown.
    marker = query.Marker(schema(), query.parse('"Stadt Partnerschaft"', schema()))
    read = []
    spans = marker.spans
    marker.spans = lambda text, lo=0, hi=None: read.append(hi) or spans(text, lo, hi)
    long = "Die Partnerschaft wächst. Eine Stadt mit Geschichte. " * 20_000
    assert "**Partnerschaft**" in query.snippet(long, marker)
    assert max(read) < query.PHRASE_READ + 2 * query.SNIPPET_PART


def test_matches_are_bold_on_a_terminal():
    assert _bold("die **Partnerstadt** grüßt", tty=True) == \
        f"die {click.style('Partnerstadt', bold=True)} grüßt"
    assert _bold("die **Partnerstadt** grüßt", tty=False) == "die Partnerstadt grüßt"


def test_snippet_falls_back_to_the_abstract(clipped):
    hits = json.loads(run("search", "Jury", "--json", library=clipped).output)
    assert hits[0]["key"] == "staedte2018regionen"
    assert "**Jury**" in hits[0]["snippet"]


def test_keys_and_limit(clipped):
    result = run("search", "Frieden", "--keys", "--limit", "2", library=clipped)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == keys(clipped, "Frieden", limit=2)
    # more hits than shown: said on stderr, so the keys stay clean for pipes
    assert result.stderr == "2 of 3 hits; --limit for more\n"
    everything = run("search", "Frieden", "--keys", "--limit", "0", library=clipped)
    assert len(everything.stdout.splitlines()) == 3 and everything.stderr == ""
    as_json = run("search", "Frieden", "--json", "--limit", "2", library=clipped)
    assert len(json.loads(as_json.stdout)) == 2 and as_json.stderr == ""


def test_plain_output_without_a_terminal_has_no_markup(clipped):
    result = run("search", "Blasorchester", library=clipped)
    assert result.exit_code == 0
    assert "spremberg2016schlaegt" in result.output
    assert "Blasorchester" in result.output
    assert "**" not in result.output and "\x1b[" not in result.output


def test_title_words_are_marked_in_bold_on_a_terminal_only(clipped):
    from clippings.search import query
    assert query.marked_pieces("Spremberg schlägt Brücke", [(18, 24)]) == \
        [("Spremberg schlägt ", False), ("Brücke", True)]
    text = clipped.read_text(encoding="utf-8")
    clipped.write_text(text + "\n@article{stars,\n  title = {2**10 Gründe für Russland},\n}\n",
                       encoding="utf-8")
    hits = {h["key"]: h for h in json.loads(run("search", "Russland", "--json", "--limit",
                                                "0", library=clipped).output)}
    assert hits["spremberg2016schlaegt"]["title"] == "Spremberg schlägt Brücke nach Russland"
    assert hits["stars"]["title"] == "2**10 Gründe für Russland"     # JSON: as it is
    plain = run("search", "Russland", "--limit", "0", library=clipped).output
    assert "Spremberg schlägt Brücke nach Russland" in plain        # no markup in a pipe
    assert "2**10 Gründe für Russland" in plain and "\x1b[" not in plain


def test_title_and_snippet_words_are_bold_on_a_terminal(capsys, monkeypatch):
    from clippings.cli.search import _print
    from clippings.search.query import Hit
    hit = Hit(key="k", score=1.0, type="article", title="2**10 Gründe für Russland",
              authors=[], date="2016", snippet="über **Russland**", title_spans=((17, 25),))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    _print([hit])
    out = capsys.readouterr().out
    bold = click.style("Russland", bold=True)
    assert f"2**10 Gründe für {bold}" in out and f"über {bold}" in out


def test_no_hits_is_not_an_error(clipped):
    result = run("search", "Quantenchromodynamik", "--json", library=clipped)
    assert result.exit_code == 0
    assert json.loads(result.output) == []


# -- the life of the index ------------------------------------------------------------------

def test_search_builds_a_missing_index_by_itself(fresh):
    assert not search_index.index_dir(fresh.parent).exists()
    result = run("search", "Blasorchester", "--keys", library=fresh)
    assert result.output.split() == ["spremberg2016schlaegt"]
    assert search_index.is_current(fresh)


def test_added_entry_is_found_without_running_index(fresh):
    assert run("search", "Tschaikowski", "--keys", library=fresh).output == ""
    added = run("add", "--no-fetch", "--type", "article", "--set",
                "title=Tschaikowski-Abend in der Partnerstadt", "--set", "date=2019-05-02",
                library=fresh)
    assert added.exit_code == 0, added.output
    key = added.output.strip()
    assert run("search", "Tschaikowski", "--keys", library=fresh).output.split() == [key]


def test_changed_and_removed_entries_follow(fresh):
    run("index", library=fresh)
    assert run("set", "gorzka2018annaeherung", "note=Mit einem Kapitel über Jaroslawl",
               library=fresh).exit_code == 0
    assert run("search", "Jaroslawl", "--keys", library=fresh).output.split() == \
        ["gorzka2018annaeherung"]
    assert run("rm", "spremberg2016schlaegt", "--keep-snapshot", library=fresh).exit_code == 0
    assert run("search", "Blasorchester", "--keys", library=fresh).output == ""


def test_a_new_snapshot_is_indexed(fresh):
    run("index", library=fresh)
    folder = fresh.parent / "snapshots" / "rutz2011geschenk"
    folder.mkdir()
    (folder / "text.txt").write_text("Ein Chor aus Nischni Nowgorod sang im Dom.", "utf-8")
    assert run("search", "Nowgorod", "--keys", library=fresh).output.split() == \
        ["rutz2011geschenk"]


def test_update_is_incremental(fresh):
    first = search_index.update(fresh)
    assert first.rebuilt and first.total == 17
    assert not search_index.update(fresh).changed
    added = run("add", "--no-fetch", "--set", "title=Kaliningrader Notizen", library=fresh)
    key = added.output.strip()
    report = search_index.update(fresh)
    assert (report.added, report.updated, report.removed, report.rebuilt) == ([key], [], [], "")


def test_index_command_reports_build_then_up_to_date(fresh):
    first = run("index", library=fresh)
    assert first.exit_code == 0 and first.output.startswith("built the index: 17 entries")
    second = run("index", library=fresh)
    assert second.output.startswith("the index is up to date")
    assert run("index", "--rebuild", library=fresh).output.startswith("built the index")


def test_progress_is_reported(fresh):
    seen = []
    search_index.update(fresh, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (17, 17)
    assert [d for d, _ in seen] == list(range(1, 18))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_change_of_the_encoding_setting_is_a_change_of_the_library(tmp_path, backend,
                                                                      request):
    """The same bytes read as latin-1 or as UTF-8 are different entries: the index
    records the setting it read library.bib with, and is not current under another."""
    bib = tmp_path / "library.bib"
    bib.write_bytes("@article{k1,\n  author = {A, B},\n  title = {Besuch in Köln},\n"
                    "  journaltitle = {J},\n  date = {2017},\n}\n".encode("utf-8"))
    use_backend(bib, backend, request)
    toml = tmp_path / "clippings.toml"
    plain = toml.read_text("utf-8") if toml.exists() else ""
    toml.write_text(plain + 'encoding = "latin-1"\n', "utf-8")
    assert keys(bib, "Köln") == []              # "KÃ¶ln" as latin-1 reads it
    assert keys(bib, "KÃ¶ln") == ["k1"]
    toml.write_text(plain, "utf-8")             # the setting removed, the bytes unchanged
    assert keys(bib, "Köln") == ["k1"]
    assert keys(bib, "KÃ¶ln") == []
    toml.write_text(plain + 'encoding = "latin-1"\n', "utf-8")
    assert keys(bib, "Köln") == []


def test_an_index_read_with_an_encoding_setting_stays_current(fresh):
    """The check before the web pages' searches knows the setting too: an index built
    with `encoding` set is current, not updated before every page."""
    from clippings.config import load_settings
    (fresh.parent / "clippings.toml").write_text('encoding = "utf-8"\n', "utf-8")
    settings = load_settings(fresh.parent)
    search_index.ensure_current(fresh, settings=settings)
    assert search_index.ensure_current(fresh, settings=settings) is None
    assert search_index.ensure_current(fresh) is None


def test_corrupt_index_is_rebuilt_not_crashed_on(fresh):
    search_index.update(fresh)
    for path in search_index.index_dir(fresh.parent).iterdir():
        if path.name != search_index.MANIFEST:
            path.write_bytes(b"\x00garbage")
    result = run("search", "Blasorchester", "--keys", library=fresh)
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["spremberg2016schlaegt"]
    assert result.stderr == "rebuilt the search index: 17 entries (unreadable (corrupt))\n"


def test_corrupt_index_reason(fresh):
    search_index.update(fresh)
    for path in search_index.index_dir(fresh.parent).glob("*.toc"):
        path.write_bytes(b"nonsense")
    assert search_index.update(fresh).rebuilt == "unreadable (corrupt)"


def test_index_of_another_schema_version_is_rebuilt(fresh):
    search_index.update(fresh)
    manifest_path = search_index.index_dir(fresh.parent) / search_index.MANIFEST
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["schema"] = "0/old"
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    assert not search_index.is_current(fresh)
    assert search_index.update(fresh).rebuilt == "made by another version"
    assert keys(fresh, "Blasorchester") == ["spremberg2016schlaegt"]


def test_foreign_files_in_the_index_folder_are_replaced(fresh):
    folder = search_index.index_dir(fresh.parent)
    folder.mkdir(parents=True)
    (folder / "something.dat").write_text("not ours", "utf-8")
    assert search_index.update(fresh).rebuilt == "not a clippings search index"
    assert not (folder / "something.dat").exists()


def test_interrupted_update_leads_to_a_rebuild(fresh):
    search_index.update(fresh)
    manifest_path = search_index.index_dir(fresh.parent) / search_index.MANIFEST
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest_path.write_text(json.dumps({**manifest, "complete": False}), "utf-8")
    assert search_index.update(fresh).rebuilt == "an earlier update was interrupted"


def test_touching_library_bib_does_not_make_the_index_stale(fresh):
    search_index.update(fresh)
    fresh.write_bytes(fresh.read_bytes())
    assert search_index.is_current(fresh)


def test_search_in_a_real_process(fresh):
    # The commands as cli.py registers them (registered here too, should it not yet).
    code = ("import sys; from clippings.cli import main; "
            "from clippings.cli.search import index, search; "
            "main.commands.setdefault('index', index); "
            "main.commands.setdefault('search', search); "
            "sys.argv[0] = 'clippings'; main()")
    env = {k: v for k, v in os.environ.items() if k != "CLIPPINGS_LIBRARY"}
    proc = subprocess.run([sys.executable, "-c", code, "search", "Wolgograd", "--keys"],
                          cwd=fresh.parent, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "moskauer2011deutsche" in proc.stdout.split()
    assert search_index.is_current(fresh)


def test_index_suggests_postgresql_for_a_large_library(fresh, monkeypatch):
    import importlib
    search_cli = importlib.import_module("clippings.cli.search")   # the module, not the command
    assert "PostgreSQL" not in run("index", library=fresh).stderr
    monkeypatch.setattr(search_cli, "WHOOSH_CEILING_NEAR", 17)
    result = run("index", library=fresh)
    assert result.exit_code == 0
    assert "use PostgreSQL" in result.stderr and "17 entries" in result.stderr


def test_a_page_with_facets_has_only_its_hits(clipped):
    from clippings.search import page
    first = page(clipped, "Partnerschaft", limit=2)
    assert len(first.hits) == 2 and first.total > 2
    assert sum(n for _, n in first.facets["type"]) == first.total
    second = page(clipped, "Partnerschaft", offset=2, limit=2)
    assert not {h.key for h in first.hits} & {h.key for h in second.hits}


def test_a_snapshot_of_a_key_with_a_slash_is_indexed(fresh):
    """DBLP keys keep their `/`; their snapshot folder writes it as %2F, and the index's
    stamps must look there too."""
    from clippings import snapshots
    from clippings.search import changes
    key = "conf/acl/Smith20"
    with open(fresh, "a", encoding="utf-8") as out:
        out.write(f"\n@online{{{key},\n  title = {{Tagung}},\n  url = {{https://a.example/t}}\n}}\n")
    folder = snapshots.folder(fresh.parent, key)
    folder.mkdir(parents=True)
    (folder / "text.txt").write_text("Ein Bericht über Schneeglöckchenwiesen.", "utf-8")
    assert keys(fresh, "Schneeglöckchenwiesen") == [key]
    stamp = search_index.snapshot_stamp(fresh.parent, key)
    assert stamp and changes.snapshot_stamps(fresh.parent, [key]) == {key: stamp}
    (folder / "text.txt").write_text("Nun über Märzenbecherhänge und mehr.", "utf-8")
    search_update(fresh)
    assert keys(fresh, "Märzenbecherhänge") == [key]
