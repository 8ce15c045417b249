"""Incremental updates of the PostgreSQL index by change keys (`search.changes`): an
entry whose text, macros and link results are as recorded keeps its fingerprint without
being decoded; everything that can change what an entry is indexed as still reaches the
index: its text, an @string it uses, a crossref parent, a link check, its snapshot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clippings.library import Library
from clippings.search import find, page
from clippings.search import update as search_update
from helpers import run, small_library

BIB = """@string{paper = {Lausitzer Rundschau}}

@article{alpha,
  title = {Blasorchester in Kaluga},
  journaltitle = paper,
  url = {https://example.org/alpha},
  date = {2016-05-01},
}

@string{paper = {Moskauer Deutsche Zeitung}}

@article{beta,
  title = {Jugendaustausch mit Jaroslawl},
  journaltitle = paper,
  date = {2017-03-02},
}

@book{gamma,
  title = {Partnerstädte im Osten},
  publisher = {Ch. Links},
  date = {2018},
}

@inbook{delta,
  title = {Ein Kapitel über Twer},
  crossref = {gamma},
  date = {2018},
}
"""


@pytest.fixture
def lib(tmp_path, postgres_url):
    bib = small_library(tmp_path / "upd", BIB, postgres_url)
    assert search_update(bib).rebuilt == "no index yet"
    return bib


def keys(bib: Path, query: str) -> set[str]:
    return {hit.key for hit in find(bib, query, None)}


def edit(bib: Path, old: str, new: str) -> None:
    text = bib.read_text("utf-8")
    assert old in text
    bib.write_text(text.replace(old, new, 1), "utf-8")


def test_entry_digests_equal_entry_digest_with_string_macros(lib):
    library = Library.load(lib)
    assert library.entry_digests() == {k: library.entry_digest(k) for k in library.keys()}
    # the two entries see different values of `paper`
    assert keys(lib, '"Lausitzer Rundschau"') == {"alpha"}
    assert keys(lib, '"Moskauer Deutsche Zeitung"') == {"beta"}


def test_one_added_entry_is_the_only_change(lib):
    with open(lib, "a", encoding="utf-8") as out:
        out.write("\n@article{epsilon,\n  title = {Tschaikowski-Abend in Kaluga},\n}\n")
    report = search_update(lib)
    assert (report.added, report.updated, report.removed) == (["epsilon"], [], [])
    assert keys(lib, "Kaluga") == {"alpha", "epsilon"}


def test_a_changed_string_macro_reaches_the_entries_using_it(lib):
    edit(lib, "@string{paper = {Moskauer Deutsche Zeitung}}",
         "@string{paper = {Märkische Allgemeine}}")
    report = search_update(lib)
    assert report.updated == ["beta"] and not report.added and not report.removed
    assert keys(lib, '"Märkische Allgemeine"') == {"beta"}
    assert keys(lib, '"Moskauer Deutsche Zeitung"') == set()


def test_a_crossref_parent_change_reaches_its_child(lib):
    assert keys(lib, "Links") == {"gamma", "delta"}   # the child inherits the publisher
    edit(lib, "publisher = {Ch. Links}", "publisher = {Aufbau Verlag}")
    report = search_update(lib)
    assert sorted(report.updated) == ["delta", "gamma"]
    assert keys(lib, "Aufbau") == {"gamma", "delta"}
    assert keys(lib, "Links") == set()


def test_a_spacing_only_edit_changes_nothing_and_is_recorded(lib):
    edit(lib, "title = {Jugendaustausch mit Jaroslawl},",
         "title   =   {Jugendaustausch mit Jaroslawl},")
    assert not search_update(lib).changed
    assert run("index", library=lib).output.startswith("the index is up to date")
    assert keys(lib, "Jaroslawl") == {"beta"}


def test_a_link_check_result_reaches_the_link_facet(lib):
    from clippings.links_cache import save
    before = page(lib, "Kaluga", limit=None).facets["link"]
    assert before == [("unchecked", 1)]
    save(lib.parent, [{"key": "alpha", "field": "url", "url": "https://example.org/alpha",
                       "status": "broken", "http_status": 404}])
    report = search_update(lib)
    assert report.updated == ["alpha"]
    assert page(lib, "Kaluga", limit=None).facets["link"] == [("broken", 1)]


def test_a_snapshot_edited_in_place_is_picked_up_by_index(lib):
    text = lib.parent / "snapshots" / "beta" / "text.txt"
    text.write_text("Die Delegation besuchte das Theater in Kostroma.", "utf-8")
    st = text.stat()
    os.utime(text, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    report = search_update(lib)
    assert report.updated == ["beta"]
    assert keys(lib, "Kostroma") == {"beta"}
    assert keys(lib, "Rathaus") == set()


def test_an_edit_through_the_commands_is_found(lib):
    assert run("set", "gamma", "title=Partnerstädte an der Wolga", library=lib).exit_code == 0
    assert run("rm", "alpha", library=lib).exit_code == 0
    updated = run("index", library=lib)
    assert updated.output.startswith("updated the index: 0 added, 2 changed, 1 removed")
    assert keys(lib, "Wolga") == {"gamma", "delta"}   # delta: its booktitle
    assert keys(lib, "Blasorchester") == set()
