"""Search finds every spelling a user types: the transliteration of citation keys,
scholarly and simplified transliterations, exonyms of Russian and German places, typos
with `~`, and the hint when more hits exist than are shown."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from clippings.cli import main
from clippings.cli.adding import add as add_command
from clippings.cli.search import search as search_command
from clippings.keys import make_key
from clippings.library import Library
from clippings.search import index as search_index
from clippings.search import places
from clippings.search import query as search_query
from clippings.search.analysis import latin_spellings
from helpers import run

main.add_command(search_command)
main.add_command(add_command)

ENTRIES = r"""
@article{jolkina2021twer,
  author       = {Ёлкина, Анна},
  title        = {Тверь и Оснабрюк},
  journaltitle = {Тверская жизнь},
  date         = {2021-05-12},
  langid       = {russian},
}

@article{ural2019,
  title        = {Партнёрство Железногорска и Екатеринбурга},
  journaltitle = {Уральский рабочий},
  date         = {2019-03-01},
  langid       = {russian},
}

@article{moskau2018,
  title        = {Besuch aus Moskau in Köln},
  journaltitle = {Kölner Stadt-Anzeiger},
  date         = {2018-09-01},
  langid       = {ngerman},
}

@article{piter2017,
  title        = {Делегация из Санкт-Петербурга},
  journaltitle = {Невское время},
  date         = {2017-06-01},
  langid       = {russian},
}

@article{volga2016,
  title        = {Jugendaustausch mit Wolgograd},
  journaltitle = {Kieler Nachrichten},
  date         = {2016-02-01},
  langid       = {ngerman},
}

@article{essen2015,
  title        = {Gemeinsames Essen im Rathaus},
  journaltitle = {Lokalzeitung},
  date         = {2015-01-01},
  langid       = {ngerman},
}
"""


@pytest.fixture(scope="module")
def lib(tmp_path_factory) -> Path:
    bib = tmp_path_factory.mktemp("spellings") / "library.bib"
    bib.write_text(ENTRIES.lstrip(), encoding="utf-8")
    search_index.update(bib)
    return bib


def found(bib: Path, text: str) -> set[str]:
    ix = search_index.open_index(bib.parent)
    return {hit.key for hit in search_query.search(ix, text, bib.parent, None)}


# -- the spelling the keys use --------------------------------------------------------

@pytest.mark.parametrize("spelling", ["Jolkina", "Jelkina", "Yolkina", "Yelkina", "Elkina",
                                      "Ёлкина", "Елкина", "jolkina"])
def test_every_spelling_of_a_name_with_yo_finds_it(lib, spelling):
    assert found(lib, spelling) == {"jolkina2021twer"}


def test_the_keys_transliteration_is_searchable(lib):
    record = Library.load(lib).record("jolkina2021twer")
    key = make_key(record, set(), "{auth}{year}{title}")
    assert key.startswith("jolkina2021")
    assert found(lib, key[: -len("2021twer")]) == {"jolkina2021twer"}
    assert found(lib, "Twer") == {"jolkina2021twer"}


# -- scholarly (ISO 9, ALA-LC) and simplified transliterations -------------------------

@pytest.mark.parametrize("spelling", ["Železnogorsk", "Zeleznogorsk", "Zheleznogorsk",
                                      "Schelesnogorsk", "Железногорск"])
def test_zheleznogorsk_in_every_scheme(lib, spelling):
    assert "ural2019" in found(lib, spelling)


@pytest.mark.parametrize("spelling", ["Ekaterinburg", "Yekaterinburg", "Jekaterinburg",
                                      "Екатеринбург"])
def test_yekaterinburg_in_every_scheme(lib, spelling):
    assert "ural2019" in found(lib, spelling)


def test_latin_spellings_come_from_the_schemes():
    spellings = latin_spellings("железногорск")
    assert {"Schelesnogorsk".lower(), "zheleznogorsk", "železnogorsk"} <= set(spellings)
    assert "ekaterinburg" in latin_spellings("екатеринбург")       # ISO 9, ALA-LC
    assert "yekaterinburg" in latin_spellings("екатеринбург")      # BGN/PCGN, Wikipedia
    assert "jolkina" in latin_spellings("ёлкина") and "jelkina" in latin_spellings("ёлкина")


# -- exonyms of places ----------------------------------------------------------------------

@pytest.mark.parametrize("query,key", [
    ("Moscow", "moskau2018"), ("Moskva", "moskau2018"), ("Москва", "moskau2018"),
    ("Cologne", "moskau2018"), ("Кёльн", "moskau2018"),
    ('"Saint Petersburg"', "piter2017"), ('"Sankt Petersburg"', "piter2017"),
    ("Leningrad", "piter2017"),
    ("Volgograd", "volga2016"), ("Stalingrad", "volga2016"), ("Волгоград", "volga2016"),
])
def test_exonyms_find_the_place(lib, query, key):
    assert found(lib, query) == {key}


def test_exonyms_add_nothing_to_other_entries(lib):
    assert found(lib, "Cologne") == {"moskau2018"}
    assert found(lib, "Moscow Leningrad") == set()
    assert found(lib, '"Saint Petersburg" Moskau') == set()


def test_shipped_place_names_are_rebuilt_from_geonames():
    with gzip.open(places.PLACES_DATA, "rt", encoding="utf-8") as fh:
        shipped = fh.read().splitlines()
    assert shipped == places.build_places()
    moscow = next(line.split("\t") for line in shipped if "Moskau" in line.split("\t"))
    assert {"Moscow", "Moskva", "Москва"} <= set(moscow)
    assert not any(name.isupper() and len(name) <= 4 for name in moscow)   # no "MOW"


def test_shipped_place_keys_are_those_the_analysis_makes():
    with gzip.open(places.PLACE_KEYS, "rt", encoding="utf-8") as fh:
        shipped = fh.read().splitlines()
    assert shipped == places.build_place_keys(list(places.load_place_names()))


def test_place_keys_of_another_analysis_are_not_used(tmp_path):
    stale = tmp_path / "keys.txt.gz"
    with gzip.open(stale, "wt", encoding="utf-8") as fh:
        fh.write("# analysis-0 pystemmer-0\nx\n")
    assert places.load_place_keys("analysis-2 pystemmer-3", stale) is None
    assert places.load_place_keys("anything", tmp_path / "missing.gz") is None


# -- `~` without a number -----------------------------------------------------------------

def test_fuzzy_distance_grows_with_the_word():
    assert search_query.fuzzy_distance("Lose") == 1
    assert search_query.fuzzy_distance("Wolgogard") == 2


def test_readme_fuzzy_example_finds_wolgograd(lib):
    assert found(lib, "Wolgogard~") == {"volga2016"}
    assert found(lib, "Wolgogard~1") == set()         # an explicit distance is kept
    assert found(lib, "Rathuas~") == {"essen2015"}    # 7 letters: two edits


# -- more hits than shown -------------------------------------------------------------------

def test_more_hits_than_shown_is_said_on_stderr(lib):
    result = run("search", "year:2015..2021", "--limit", "2", library=lib)
    assert result.exit_code == 0
    assert result.stderr == "2 of 6 hits; --limit for more\n"
    assert "hits;" not in result.stdout
    keys = run("search", "year:2015..2021", "--limit", "4", "--keys", library=lib)
    assert len(keys.stdout.splitlines()) == 4
    assert keys.stderr == "4 of 6 hits; --limit for more\n"
    shown_all = run("search", "year:2015..2021", "--limit", "6", library=lib)
    assert shown_all.stderr == ""
