"""Bulk query evaluation (search/bulk.py) against Whoosh's own searcher: the same matches,
the same BM25F scores and the same order, on a real index with several segments and
deleted documents; and the facet counts Whoosh's field facets give."""

from __future__ import annotations

import random

import pytest
from whoosh import scoring, sorting

from clippings.library import Library
from clippings.search import bulk, index, query
from test_search import CASES, make_library

WORDS = ("Städtepartnerschaft Partnerschaft Wolgograd Kaluga Frieden Versöhnung Jugend "
         "Austausch Feuerwehr Spende Konferenz Schule Dolmetscherin Bürgermeister "
         "Bürgermeisterin Rothenburg Tauber Michendorf Волгоград Калуга дружба").split()

# Beyond the search table's queries: every kind of node the evaluator handles.
QUERIES = [case[0] for case in CASES.values()] + [
    "Partnerschaft", "Städtepartnerschaft Kaluga", "Feuerwehr NOT Spende", "NOT Feuerwehr",
    "Feuerwehr ANDMAYBE Spende", "(Kaluga OR Wolgograd) AND NOT Spende",
    "Bürgermeister OR Bürgermeisterin", "type:article", "year:>2015 Kaluga",
    '"Rothenburg ob der Tauber" OR Kaluga', "Kal*", "Wolgogard~", "key:gen1*",
    "tag:presse OR tag:jugend", "lang:de Frieden", "nothingmatchesthis",
]
# Wildcards and fuzzy words score as one word matched (constant, as in Lucene), where
# Whoosh scores some of them term by term: only their matches are compared.
CONSTANT = ("*", "?", "~")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """The shipped library with snapshots plus generated entries, indexed in two writer
    processes (two segments), then changed so that the index holds deleted documents."""
    folder = tmp_path_factory.mktemp("bulk")
    bib = make_library(folder)
    rng = random.Random(5)
    entries = []
    for i in range(1200):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 40)))
        title = " ".join(rng.choice(WORDS) for _ in range(3))
        entries.append(f"@article{{gen{i},\n  title = {{{title}}},\n  abstract = {{{words}}},"
                       f"\n  date = {{{rng.randrange(1990, 2025)}-0{rng.randrange(1, 9)}}},"
                       f"\n  keywords = {{{rng.choice(['presse', 'jugend', 'kultur'])}}},"
                       f"\n  langid = {{{rng.choice(['german', 'russian'])}}}\n}}\n")
    with open(bib, "a", encoding="utf-8") as out:
        out.write("\n" + "\n".join(entries))
    index.update(bib, rebuild=True, procs=2)
    # Change and remove some entries: their old documents stay in the segments, deleted.
    text = bib.read_text("utf-8")
    text = text.replace("@article{gen7,", "@article{gen7x,").replace(
        "title = {Frieden", "title = {Versöhnung", 5)
    bib.write_text(text, "utf-8")
    report = index.update(bib)
    assert report.removed and report.updated
    ix = index.open_index(folder)
    with ix.searcher() as searcher:
        assert not searcher.is_atomic() or searcher.reader().has_deletions()
        assert searcher.reader().has_deletions()
    return folder


def assert_evaluates_like_whoosh(folder, text: str) -> None:
    """bulk.evaluate gives Whoosh's own searcher's matches, scores and order for `text`
    on the index of `folder` (wildcards and fuzzy words: the matches only)."""
    ix = index.open_index(folder)
    q = query.parse(text, ix.schema)
    with ix.searcher(weighting=scoring.BM25F()) as searcher:
        expected = [(hit.docnum, hit.score) for hit in searcher.search(q, limit=None)]
        found = bulk.evaluate(searcher, q)
        deleted = set(searcher.reader().all_doc_ids()) ^ set(range(searcher.doc_count_all()))
    assert set(found.scores) == {d for d, _ in expected}
    assert not deleted & set(found.scores)
    assert found.total == len(expected)
    if any(c in text for c in CONSTANT):
        return
    for docnum, score in expected:
        assert found.scores[docnum] == pytest.approx(score, rel=1e-9, abs=1e-9)
    assert found.top(None) == [d for d, _ in expected]
    assert found.top(10) == [d for d, _ in expected][:10]


@pytest.mark.parametrize("text", QUERIES)
def test_bulk_evaluation_matches_whoosh(indexed, text):
    assert_evaluates_like_whoosh(indexed, text)


def test_wildcards_score_every_match_alike(indexed):
    ix = index.open_index(indexed)
    with ix.searcher(weighting=scoring.BM25F()) as searcher:
        found = bulk.evaluate(searcher, query.parse("title:Kal*", ix.schema))
    assert found.total > 10
    assert len(set(found.scores.values())) == 1
    # Equal scores: document order.
    assert found.top(5) == sorted(found.scores)[:5]


def test_facet_counts_are_whooshs(indexed):
    ix = index.open_index(indexed)
    groupedby = {name: sorting.FieldFacet(field, allow_overlap=multi, maptype=sorting.Count)
                 for name, (field, multi) in query.WHOOSH_FACETS.items()}
    with ix.searcher(weighting=scoring.BM25F()) as searcher:
        table = bulk.FieldFacets(searcher, query.WHOOSH_FACETS)
        for text in ("Kaluga", "tag:presse", "Frieden NOT Spende"):
            q = query.parse(text, ix.schema)
            results = searcher.search(q, limit=None, groupedby=groupedby)
            found = bulk.evaluate(searcher, q)
            for name in query.WHOOSH_FACETS:
                assert query.top_counts(table.counts(name, found.scores)) == \
                    query.top_counts(results.groups(name)), (text, name)


def test_a_search_page_counts_and_ranks_like_the_engine(indexed):
    """The web page's path (pages.search_page) over the same matches: total, order of
    the first page, facet counts over every match."""
    from clippings.search import results_page
    bib = indexed / "library.bib"
    records = {rec.key: rec for rec in Library.load(bib).records()}
    page = results_page(bib, "Kaluga", records=records, limit=7)
    ix = index.open_index(indexed)
    with ix.searcher(weighting=scoring.BM25F()) as searcher:
        expected = [hit["key"] for hit in searcher.search(
            query.parse("Kaluga", ix.schema), limit=None)]
    assert page.total == len(expected)
    assert [hit.key for hit in page.hits] == expected[:7]
    assert page.keys == expected
    assert sum(n for _, n in page.facets["type"]) == len(expected)
    narrowed = results_page(bib, "Kaluga", {"keyword": ["presse"]}, records=records,
                            limit=5, sort="newest")
    assert narrowed.total == dict(page.facets["keyword"])["presse"]
    dates = [hit.date for hit in narrowed.hits]
    assert dates == sorted(dates, reverse=True)


def test_a_reused_searcher_never_answers_from_an_old_index(tmp_path):
    """A server reuses open searchers (index.searching); after an update, and after a
    rebuild (whose generations start again), searches see the new index."""
    from clippings.search import results_page
    bib = make_library(tmp_path)
    index.update(bib)

    def found(text):
        records = {rec.key: rec for rec in Library.load(bib).records()}
        return {hit.key for hit in results_page(bib, text, records=records, limit=50).hits}

    assert "lohse2017dossier" in found("Lohse")
    assert not found("Zauberwort")
    text = bib.read_text("utf-8").replace("@article{lohse2017dossier,",
                                          "@article{lohse2017dossier,\n  note = {Zauberwort},", 1)
    assert text != bib.read_text("utf-8")
    bib.write_text(text, "utf-8")
    index.update(bib)
    assert found("Zauberwort") == {"lohse2017dossier"}
    bib.write_text(text.replace("Zauberwort", "Hexenwort"), "utf-8")
    index.update(bib, rebuild=True)
    assert not found("Zauberwort")
    assert found("Hexenwort") == {"lohse2017dossier"}

    # A removal alone adds no segment, yet changes every score (fewer documents):
    # the server's kept rankings must not be used for the new version.
    def scores(text):
        records = {rec.key: rec for rec in Library.load(bib).records()}
        return {h.key: h.score for h in results_page(bib, text, records=records,
                                                     limit=50).hits}

    before = scores("Städtepartnerschaft")
    gone = next(k for k in before if k != "lohse2017dossier")
    lib = Library.load(bib)
    lib.remove(gone)
    lib.save()
    index.update(bib)
    after = scores("Städtepartnerschaft")
    ix = index.open_index(tmp_path)
    with ix.searcher(weighting=scoring.BM25F()) as searcher:
        fresh = {searcher.stored_fields(hit.docnum)["key"]: hit.score for hit in
                 searcher.search(query.parse("Städtepartnerschaft", ix.schema), limit=None)}
    assert gone not in after and set(after) == set(fresh)
    assert after == pytest.approx(fresh, rel=1e-9)


def test_the_index_version_follows_every_commit(tmp_path):
    """index.version is kept while the index folder is unchanged (no listing of it per
    search), and found again after a commit, also one right after the last look."""
    import time
    bib = make_library(tmp_path)
    index.update(bib)
    time.sleep(index.RACY_NS / 1e9 + 0.05)     # the folder is no longer "racy"
    first = index.version(tmp_path)
    assert index.version(tmp_path) == first and index._versions   # kept
    for word in ("Zauberwort", "Hexenwort"):
        text = bib.read_text("utf-8").replace("@article{lohse2017dossier,",
                                              "@article{lohse2017dossier,\n  note = {"
                                              + word + "},", 1)
        bib.write_text(text, "utf-8")
        index.update(bib)
        latest = index.version(tmp_path)       # at once: the folder just changed
        assert latest != first
        first = latest


def test_the_facet_table_counts_and_filters_like_the_records_do(indexed):
    """pages.FacetTable (arrays) against facets.count / facets.matches (per record)."""
    import numpy as np

    from clippings.search import facets
    from clippings.search.pages import FacetTable, facet_rows
    records = {rec.key: rec for rec in Library.load(indexed / "library.bib").records()}
    statuses = {key: "broken" for key in list(records)[::7]}
    rows = facet_rows(records, statuses)
    table = FacetTable(records, rows)
    everything = np.ones(len(table), dtype=bool)
    assert table.counts(everything, None) == facets.count(rows.values())
    for filters in ({"keyword": ["presse"]}, {"lang": ["ru"], "link": ["broken"]},
                    {"year": ["2016", "2017"], "type": ["article"]},
                    {"keyword": ["no such keyword"]}):
        kept = [key for key, row in rows.items() if facets.matches(row, filters)]
        mask = table.allowed(filters)
        assert [table.keys[i] for i in np.flatnonzero(mask)] == kept
        assert table.counts(mask, 5) == facets.count([rows[k] for k in kept], 5)
