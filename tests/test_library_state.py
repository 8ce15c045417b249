"""The library as a server holds it (`web.library_state`) follows every change: after
clippings' own writes it decodes only the entries the journal names, after a hand edit
it compares every entry; either way it holds what a fresh load holds, and unchanged
entries keep their objects (the facet table is then updated, not built anew)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clippings import journal
from clippings.config import load_settings
from clippings.library import Library
from clippings.search import pages
from clippings.web.library_state import LibraryState
from helpers import run
from servers import send


def _library(folder: Path, n: int = 30) -> Path:
    folder.mkdir(parents=True)
    entries = [f"@article{{e{i},\n  title = {{Chronik {i}}},\n  date = {{{2000 + i % 7}-05-01}},"
               f"\n  journal = {{Blatt {i % 3}}},\n  url = {{https://example.org/{i}}},\n}}\n"
               for i in range(n)]
    (folder / "library.bib").write_text("\n".join(entries), "utf-8")
    return folder / "library.bib"


def _fresh(bib: Path):
    return LibraryState(bib, load_settings(bib.parent)).current()


def _same_as_fresh(snap, bib: Path) -> None:
    fresh = _fresh(bib)
    assert list(snap.records) == list(fresh.records)
    assert {k: (r.type, r.fields) for k, r in snap.records.items()} == \
        {k: (r.type, r.fields) for k, r in fresh.records.items()}
    assert snap.rows == fresh.rows and snap.statuses == fresh.statuses
    assert snap.links == fresh.links


@pytest.fixture
def state(tmp_path):
    bib = _library(tmp_path / "lib")
    return LibraryState(bib, load_settings(bib.parent))


def test_own_writes_decode_only_the_entries_the_journal_names(state, monkeypatch):
    bib = state.path
    before = state.current()
    compared = []
    real = Library.entry_digest
    monkeypatch.setattr(Library, "entry_digest",
                        lambda self, key, *more: compared.append(key) or real(self, key, *more))
    assert run("set", "e3", "title=Neue Chronik", library=bib).exit_code == 0
    assert run("add", "--no-fetch", "--set", "title=Abend in Kaluga", "--set",
               "date=2024-05-02", "--type", "article", "--key", "kaluga2024",
               library=bib).exit_code == 0
    assert run("rm", "e7", library=bib).exit_code == 0
    after = state.current()
    assert set(compared) <= {"e3", "kaluga2024"}  # only what was written is read again
    assert after.records["e3"].fields["title"] == "Neue Chronik"
    assert "kaluga2024" in after.records and "e7" not in after.records
    assert "e7" not in after.rows and after.rows["kaluga2024"]["year"] == ("2024",)
    unchanged = [k for k in after.records if k not in ("e3", "kaluga2024")]
    assert all(after.records[k] is before.records[k] for k in unchanged)
    assert all(after.rows[k] is before.rows[k] for k in unchanged)
    _same_as_fresh(after, bib)


def test_a_hand_edit_compares_every_entry(state, monkeypatch):
    bib = state.path
    before = state.current()
    text = bib.read_text("utf-8").replace("Chronik 5}", "Chronik fünf}")
    bib.write_text(text + "\n@book{hand, title = {Von Hand}, date = {1999}}\n", "utf-8")
    compared = []
    real = Library.entry_digest
    monkeypatch.setattr(Library, "entry_digest",
                        lambda self, key, *more: compared.append(key) or real(self, key, *more))
    after = state.current()
    assert compared                                   # the journal could not tell
    assert after.records["e5"].fields["title"] == "Chronik fünf"
    assert after.records["e6"] is before.records["e6"]
    _same_as_fresh(after, bib)


def test_a_link_check_and_then_an_edit(state, http_server):
    """Link statuses come in with a check (every row then made anew) and stay with their
    entries through a later edit (rows made anew for the edited entry only)."""
    bib = state.path
    url = http_server.route("/gone", send(404, b"not here"))
    assert run("set", "e1", f"url={url}", library=bib).exit_code == 0
    state.current()
    run("check", "e1", library=bib)
    checked = state.current()
    assert checked.statuses["e1"] == "broken"
    _same_as_fresh(checked, bib)
    assert run("set", "e2", "title=Anders", library=bib).exit_code == 0
    edited = state.current()
    assert edited.statuses == checked.statuses
    assert edited.rows["e1"] is checked.rows["e1"]
    _same_as_fresh(edited, bib)


def test_the_facet_table_follows_without_being_built_anew(state, monkeypatch):
    bib = state.path
    snap = state.current()
    first = pages.facet_table(snap.records, snap.rows, snap.statuses)
    assert run("add", "--no-fetch", "--set", "title=Zuletzt", "--set", "date=2030-01-01",
               "--type", "article", "--key", "last", library=bib).exit_code == 0
    built, told = [], []
    real = pages.FacetTable.__init__
    monkeypatch.setattr(pages.FacetTable, "__init__",
                        lambda self, *a: built.append(a) or real(self, *a))
    update = pages.FacetTable.updated.__func__
    monkeypatch.setattr(pages.FacetTable, "updated", classmethod(
        lambda cls, *a: told.append(a[-1]) or update(cls, *a)))
    snap = state.current()
    table = pages.facet_table(snap.records, snap.rows, snap.statuses)
    assert built == [] and table is not first
    assert told == [frozenset({"last"})]      # the server said which entry changed
    assert table.keys[-1] == "last" and table.orders["newest"][0] == len(table) - 1


def test_a_key_removed_and_added_again_takes_its_new_place(state):
    bib = state.path
    state.current()
    assert run("rm", "e4", library=bib).exit_code == 0
    assert run("add", "--no-fetch", "--set", "title=Wieder da", "--type", "article",
               "--key", "e4", library=bib).exit_code == 0
    after = state.current()
    assert list(after.records)[-1] == "e4"
    _same_as_fresh(after, bib)


def test_a_write_while_a_link_check_is_read_is_not_lost(state, monkeypatch):
    """Only the link results changed: the records kept are of the version read before,
    and so are the journal's stats kept with them; a `set` landing meanwhile shows on
    the next request."""
    bib = state.path
    state.current()
    links = bib.parent / "index" / "links.json"
    links.parent.mkdir(exist_ok=True)
    links.write_text("{}", "utf-8")
    from clippings.web import library_state
    real, done = library_state._stamp, []

    def stamp(path):
        found = real(path)
        if path == links and not done:   # a `set` lands just after the files are statted
            done.append(1)
            assert run("set", "e3", "title=Dazwischen", library=bib).exit_code == 0
        return found
    monkeypatch.setattr(library_state, "_stamp", stamp)
    assert state.current().records["e3"].fields["title"] != "Dazwischen"
    assert done
    assert state.current().records["e3"].fields["title"] == "Dazwischen"
    _same_as_fresh(state.current(), bib)


def test_a_hand_edit_while_the_library_is_read_is_not_lost(state, monkeypatch):
    """A hand edit (no journal line) landing between the journal's stats and the read:
    the version read is not the one the stats describe, so every entry is compared."""
    bib = state.path
    state.current()
    assert run("set", "e1", "title=Eins", library=bib).exit_code == 0
    real, done = journal.stats, []

    def stats(path):
        found = real(path)
        if not done:
            done.append(1)
            bib.write_text(bib.read_text("utf-8").replace("Chronik 5}", "Chronik fünf}"),
                           "utf-8")
        return found
    monkeypatch.setattr(journal, "stats", stats)
    state.current()
    monkeypatch.setattr(journal, "stats", real)
    _same_as_fresh(state.current(), bib)


def test_once_no_entry_inherits_only_changed_entries_are_read_again(state, monkeypatch):
    bib = state.path
    assert run("set", "e2", "crossref=e1", library=bib).exit_code == 0
    assert state.current().inheriting
    assert run("unset", "e2", "crossref", library=bib).exit_code == 0
    assert not state.current().inheriting
    compared = []
    real = Library.entry_digest
    monkeypatch.setattr(Library, "entry_digest",
                        lambda self, key, *more: compared.append(key) or real(self, key, *more))
    assert run("set", "e9", "title=Neun", library=bib).exit_code == 0
    after = state.current()
    assert set(compared) <= {"e9"}
    _same_as_fresh(after, bib)
