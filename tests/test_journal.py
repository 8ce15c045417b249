"""The journal of clippings' own writes (`clippings.journal`) and the index updates that
read it, Whoosh and PostgreSQL: after `add`, `set`, `rename` and `rm` only the touched
entries are read, and the index ends as a full comparison would leave it; what the
journal cannot vouch for (a hand edit, entries that inherit fields, a snapshot changed
alone) takes the full comparison."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from clippings import journal
from clippings.library import Library
from clippings.search import find, pg
from clippings.search import index as whoosh_index
from clippings.search import update as search_update
from helpers import run, small_library

BIB = """@article{alpha,
  title = {Blasorchester in Kaluga},
  date = {2016-05-01},
}

@article{beta,
  title = {Jugendaustausch mit Jaroslawl},
  date = {2017-03-02},
}

@book{gamma,
  title = {Partnerstädte im Osten},
  date = {2018},
}
"""


@pytest.fixture(params=["whoosh", "postgresql"])
def plain(request, tmp_path):
    """A library without crossrefs, indexed by each backend."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    bib = small_library(tmp_path / "jl", BIB, url)
    search_update(bib)
    return bib


@pytest.fixture
def comparisons(monkeypatch):
    """Counts the updates that compared every entry (either backend)."""
    calls = []

    def counting(owner, name):
        original = getattr(owner, name)

        def counted(*args, **kwargs):
            calls.append(name)
            return original(*args, **kwargs)
        monkeypatch.setattr(owner, name, counted)
    counting(pg.PostgresBackend, "_compare_all")
    counting(whoosh_index, "current_state")     # fingerprints every entry
    return calls


def rows(bib: Path) -> list:
    """What the index recorded of every entry."""
    settings = Library.load(bib).settings
    if not settings.search_backend.startswith("postgresql"):
        return sorted(whoosh_index.read_entries(bib.parent).items())
    schema = pg.schema_name(bib.parent, settings)
    with psycopg.connect(settings.search_backend) as conn:
        return conn.execute(f'SELECT key, fp, stamp, change FROM "{schema}".doc '
                            "ORDER BY key").fetchall()


def keys(bib: Path, query: str) -> set[str]:
    return {hit.key for hit in find(bib, query, None)}


def test_commands_are_caught_up_from_the_journal_alone(plain, comparisons):
    added = run("add", "--no-fetch", "--set", "title=Tschaikowski-Abend in Kaluga",
                library=plain).output.strip()
    assert run("set", "gamma", "title=Partnerstädte an der Wolga", library=plain).exit_code == 0
    assert run("rename", "alpha", "alpha2016", library=plain).exit_code == 0
    assert run("rm", "beta", library=plain).exit_code == 0
    report = search_update(plain)
    assert not comparisons                         # nothing but the touched entries read
    assert sorted(report.added) == sorted([added, "alpha2016"])
    assert report.updated == ["gamma"]
    assert sorted(report.removed) == ["alpha", "beta"]
    assert report.total == 3
    assert keys(plain, "Kaluga") == {added, "alpha2016"}
    assert keys(plain, "Wolga") == {"gamma"} and keys(plain, "Rathaus") == set()
    # the same rows, fingerprints, stamps and change keys as a full comparison makes
    caught_up = rows(plain)
    search_update(plain, rebuild=True)
    assert rows(plain) == caught_up
    assert run("index", library=plain).output.startswith("the index is up to date")


def test_a_hand_edit_is_compared_in_full_and_the_journal_resumes_after(plain, comparisons):
    with open(plain, "a", encoding="utf-8") as out:
        out.write("\n@article{delta,\n  title = {Ein Chor aus Twer},\n}\n")
    assert run("set", "gamma", "note=Mit Karten", library=plain).exit_code == 0
    report = search_update(plain)       # the hand edit broke the chain
    assert (sorted(report.added), report.updated) == (["delta"], ["gamma"])
    assert len(comparisons) == 1
    assert run("set", "delta", "title=Ein Chor aus Tula", library=plain).exit_code == 0
    assert search_update(plain).updated == ["delta"]
    assert len(comparisons) == 1        # from the recorded state on, the journal holds
    assert keys(plain, "Tula") == {"delta"} and keys(plain, "Twer") == set()


def test_entries_that_inherit_take_the_full_comparison(plain, comparisons):
    with open(plain, "a", encoding="utf-8") as out:
        out.write("\n@inbook{delta,\n  title = {Ein Kapitel},\n  crossref = {gamma},\n}\n")
    search_update(plain)
    assert run("set", "gamma", "publisher=Aufbau Verlag", library=plain).exit_code == 0
    report = search_update(plain)
    assert sorted(report.updated) == ["delta", "gamma"]   # the child follows its parent
    assert len(comparisons) == 2
    assert keys(plain, "Aufbau") == {"gamma", "delta"}


def test_a_snapshot_written_alone_is_compared_in_full(plain, comparisons):
    from clippings.adding import Fetched, write_snapshot
    from clippings.model import Record
    write_snapshot(plain, "gamma", Fetched(Record("book", {}), text="Ein Besuch in Kostroma.",
                                           raw=b"<p>x</p>", filename="page.html", meta={}))
    assert search_update(plain).updated == ["gamma"]
    assert len(comparisons) == 1
    assert keys(plain, "Kostroma") == {"gamma"}


def test_the_chain_breaks_on_changes_it_did_not_note_and_when_too_long(tmp_path,
                                                                       monkeypatch):
    bib = tmp_path / "library.bib"
    bib.write_text(BIB, "utf-8")
    start = journal.stats(bib)
    with Library.update(bib) as lib:
        lib.set_fields("alpha", {"note": "{eins}"})
    noted = journal.since(bib, start)
    assert list(noted) == ["alpha"] and noted["alpha"][0] == \
        Library.load(bib).entry_digest("alpha").hex()
    assert journal.since(bib, journal.stats(bib)) == {}
    (tmp_path / "snapshots" / "copied").mkdir(parents=True)     # by hand: not noted
    assert journal.since(bib, start) is None
    monkeypatch.setattr(journal, "MAX_LINES", 2)
    middle = journal.stats(bib)
    for word in ("zwei", "drei", "vier"):
        with Library.update(bib) as lib:
            lib.set_fields("beta", {"note": "{" + word + "}"})
    assert journal.since(bib, middle) is None     # its first line was dropped


def test_the_index_command_compares_everything_and_finds_a_snapshot_edited_by_hand(
        plain, comparisons):
    assert run("set", "gamma", "note=Mit Karten", library=plain).exit_code == 0
    text = plain.parent / "snapshots" / "beta" / "text.txt"
    text.write_text("Die Delegation besuchte das Theater in Kostroma.", "utf-8")
    st = text.stat()
    os.utime(text, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert run("index", library=plain).output.startswith(
        "updated the index: 0 added, 2 changed, 0 removed")
    assert comparisons
    assert keys(plain, "Kostroma") == {"beta"}


def test_a_hand_edit_during_a_save_is_not_taken_for_the_save(tmp_path, monkeypatch):
    """An editor replacing library.bib between our rename and the journal line: the line
    is not written, so the next update compares everything and finds the hand edit."""
    import clippings.library as library
    bib = tmp_path / "library.bib"
    bib.write_text(BIB, "utf-8")
    start = journal.stats(bib)
    real = library.atomic_write

    def and_then_an_editor(path, data, expected=None):
        written = real(path, data, expected)
        Path(path).write_text(data.decode("utf-8").replace("Kaluga", "Wolgograd"), "utf-8")
        return written
    monkeypatch.setattr(library, "atomic_write", and_then_an_editor)
    with Library.update(bib) as lib:
        lib.set_fields("beta", {"note": "{eins}"})
    assert journal.since(bib, start) is None


@pytest.mark.parametrize("key", ["gamma", "beta"])   # a new folder, an existing one
def test_a_snapshot_written_into_any_folder_reaches_the_index(plain, key):
    from clippings.adding import Fetched, write_snapshot
    from clippings.model import Record
    search_update(plain)
    write_snapshot(plain, key, Fetched(Record("book", {}), text="Ein Besuch in Kostroma.",
                                       raw=b"<p>x</p>", filename="page.html", meta={}))
    # a search notices by itself (its staleness check looks at snapshots/)
    assert keys(plain, "Kostroma") == {key}


def test_a_damaged_whoosh_index_is_rebuilt_even_when_the_journal_could_tell(tmp_path):
    bib = small_library(tmp_path / "dm", BIB)
    search_update(bib)
    assert run("set", "gamma", "note=Mit Karten", library=bib).exit_code == 0
    for toc in (bib.parent / "index" / "search").glob("_MAIN_*.toc"):
        toc.write_bytes(b"garbage")
    assert search_update(bib).rebuilt
    assert keys(bib, "Karten") == {"gamma"}
