"""A server's facet table brought up to a changed library (`FacetTable.updated`) is the
table built anew: the same entries in the same places, the same facet values, counts,
filters and orders, after adds, edits, removals, renamed keys and link checks."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clippings.library import Library
from clippings.model import Record
from clippings.search import facets
from clippings.search.pages import FacetTable, facet_rows

DATES = ["2016-04-05", "2016-04", "2016", "2015-12-31", "", "2016-13", "1999", "2016-04-05"]
TITLES = ["Kaluga", "kaluga", "Ärzte", "Zeitung", "", "Abend", "abend"]
JOURNALS = ["Blatt", "Die Zeit", "", "Blatt"]
KEYWORDS = ["", "Frieden", "frieden, Stadt", "STADT"]

record = st.builds(
    lambda kind, date, title, journal, keywords, lang, url: Record(kind, {
        k: v for k, v in (("date", date), ("title", title), ("journal", journal),
                          ("keywords", keywords), ("langid", lang), ("url", url)) if v}),
    st.sampled_from(["article", "book", "misc"]), st.sampled_from(DATES),
    st.sampled_from(TITLES), st.sampled_from(JOURNALS), st.sampled_from(KEYWORDS),
    st.sampled_from(["", "ngerman", "russian"]),
    st.sampled_from(["", "https://example.org/a"]))

change = st.one_of(
    st.tuples(st.just("add"), record),
    st.tuples(st.just("edit"), st.integers(0, 10 ** 6), record),
    st.tuples(st.just("remove"), st.integers(0, 10 ** 6)),
    st.tuples(st.just("rename"), st.integers(0, 10 ** 6)),
    st.tuples(st.just("link"), st.integers(0, 10 ** 6), st.sampled_from(["ok", "gone"])),
)


def _apply(records: dict, statuses: dict, step, serial: list[int]) -> dict:
    """The library after one change, as a server holds it: unchanged entries keep their
    record objects, in the library's order (a renamed entry keeps its place)."""
    records = dict(records)
    kind, *args = step
    keys = list(records)
    if kind == "add":
        serial[0] += 1
        records[f"new{serial[0]}"] = args[0]
    elif keys and kind == "edit":
        records[keys[args[0] % len(keys)]] = args[1]
    elif keys and kind == "remove":
        del records[keys[args[0] % len(keys)]]
    elif keys and kind == "rename":
        old = keys[args[0] % len(keys)]
        serial[0] += 1
        records = {(f"renamed{serial[0]}" if k == old else k): r for k, r in records.items()}
    elif keys and kind == "link":
        statuses[keys[args[0] % len(keys)]] = args[1]
    return records


def _rows(records: dict, statuses: dict, old_rows: dict, old_statuses: dict) -> dict:
    """Facet rows as the server keeps them: the unchanged entries' row objects reused."""
    rows = {}
    for key, rec in records.items():
        row = old_rows.get(key)
        if row is None or statuses.get(key) != old_statuses.get(key) or \
                row != facets.values(rec, statuses.get(key)):
            row = facets.values(rec, statuses.get(key))
        rows[key] = row
    return rows


def _same(a: FacetTable, b: FacetTable) -> None:
    assert a.keys == b.keys and a.position == b.position
    for name in facets.FACETS:
        pairs = [sorted(zip(t.pairs[name][0].tolist(),
                            (t.values[name][v] for v in t.pairs[name][1].tolist())))
                 for t in (a, b)]
        assert pairs[0] == pairs[1], name
    for sort in b.orders:
        assert a.orders[sort].tolist() == b.orders[sort].tolist(), sort
    everything = np.ones(len(b.keys), dtype=bool)
    assert a.counts(everything, None) == b.counts(everything, None)
    for filters in ({"year": ["2016"]}, {"keyword": ["stadt"], "type": ["article"]},
                    {"link": ["ok", "unchecked"]}):
        assert a.allowed(filters).tolist() == b.allowed(filters).tolist()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(record, max_size=30), st.lists(change, min_size=1, max_size=6))
def test_an_updated_table_is_the_table_built_anew(first, steps):
    records = {f"e{i}": rec for i, rec in enumerate(first)}
    statuses: dict = {}
    rows = facet_rows(records, statuses)
    table = FacetTable(records, rows)
    serial = [0]
    for step in steps:
        old_statuses = dict(statuses)
        new_records = _apply(records, statuses, step, serial)
        new_rows = _rows(new_records, statuses, rows, old_statuses)
        updated = FacetTable.updated(table, records, rows, new_records, new_rows)
        fresh = FacetTable(new_records, new_rows)
        assert updated is not None
        _same(updated, fresh)
        # the same, told which entries changed (as the server tells it)
        told = frozenset(k for k in new_records if new_records[k] is not records.get(k)
                         or new_rows[k] is not rows.get(k))
        _same(FacetTable.updated(table, records, rows, new_records, new_rows, told), fresh)
        records, rows, table = new_records, new_rows, updated


def test_a_hint_that_leaves_out_an_added_entry_is_not_believed():
    records = {f"e{i}": Record("article", {"title": str(i)}) for i in range(5)}
    rows = facet_rows(records, {})
    table = FacetTable(records, rows)
    more = {**records, "new": Record("book", {"title": "x", "date": "2020"})}
    more_rows = {**rows, **facet_rows({"new": more["new"]}, {})}
    assert FacetTable.updated(table, records, rows, more, more_rows, frozenset()) is None


def test_a_changed_order_of_the_library_is_built_anew():
    records = {f"e{i}": Record("article", {"title": str(i)}) for i in range(5)}
    rows = facet_rows(records, {})
    table = FacetTable(records, rows)
    turned = dict(reversed(records.items()))
    assert FacetTable.updated(table, records, rows, turned, dict(rows)) is None


def test_many_changes_are_built_anew(monkeypatch):
    from clippings.search import pages
    monkeypatch.setattr(pages, "UPDATED_AT_MOST", 10)
    records = {f"e{i}": Record("article", {"title": str(i)}) for i in range(100)}
    rows = facet_rows(records, {})
    table = FacetTable(records, rows)
    edited = {k: Record("book", {"title": "x"}) for k in records}
    assert FacetTable.updated(table, records, rows, edited, facet_rows(edited, {})) is None


def test_the_document_map_of_an_updated_whoosh_index_is_the_one_read_anew(tmp_path):
    """Each Whoosh document's entry (`pages._entries_of_docs`) after adds, edits (which
    delete documents in older segments) and removals: only new segments' stored keys
    are read, and the map is the one read from every stored document."""
    from clippings.search import index, pages
    from clippings.search import update as search_update
    from helpers import run
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "library.bib").write_text("".join(
        f"@article{{e{i}, title = {{Chronik {i}}}, date = {{200{i % 9}}}}}\n"
        for i in range(40)), "utf-8")
    bib = folder / "library.bib"
    for change in ([], ["set", "e3", "title=Neu"], ["rm", "e5"],
                   ["add", "--no-fetch", "--set", "title=Dazu", "--key", "dazu"],
                   ["set", "dazu", "date=2030"]):
        if change:
            assert run(*change, library=bib).exit_code == 0
        search_update(bib, backend="whoosh")
        records = {rec.key: rec for rec in Library.load(bib).records()}
        table = FacetTable(records, facet_rows(records, {}))
        with index.searching(folder) as searcher:
            kept = pages._entries_of_docs(folder, searcher, table)
            segments = len(searcher.reader().leaf_readers())
            pages._generation_docs.clear()
            pages._segment_keys.clear()
            fresh = pages._entries_of_docs(folder, searcher, table)
            assert kept.tolist() == fresh.tolist()
            stored = {docnum: fields["key"] for docnum, fields in
                      searcher.reader().iter_docs()}
        assert {d: table.keys[e] for d, e in enumerate(fresh.tolist()) if e >= 0} == stored
        assert sorted(stored.values()) == sorted(records)
    assert segments > 1            # the older segments' keys came from what was kept
