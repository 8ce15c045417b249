"""Compact posting files (search/postings.py): written by `index` beside each segment,
read instead of Whoosh's blocks, the same matches and scores as Whoosh's own searcher,
and never trusted when damaged or left over from a segment that is gone."""

from __future__ import annotations

import shutil

import pytest
from whoosh import scoring

from clippings.search import bulk, index, postings, query
from test_search_bulk import QUERIES, assert_evaluates_like_whoosh, indexed  # noqa: F401


def compact_files(folder):
    return sorted(index.index_dir(folder).glob("*" + postings.SUFFIX))


def segment_ids(folder):
    ix = index.open_index(folder)
    with ix.reader() as reader:
        return sorted(leaf._segment.segment_id() for leaf, _ in reader.leaf_readers())


def fresh_reads():
    """Nothing decoded or opened before: the next search reads the files again."""
    postings.forget_decoded()
    postings.forget_compact_files()


@pytest.fixture(scope="module")
def every_term_compact(indexed, tmp_path_factory):  # noqa: F811
    """A copy of the bulk tests' index (several segments, deleted documents) whose
    compact files hold every term, however short its list."""
    folder = tmp_path_factory.mktemp("compact") / "lib"
    shutil.copytree(indexed, folder)
    for path in compact_files(folder):
        path.unlink()
    assert postings.write_missing(index.open_index(folder), long=1) == \
        len(segment_ids(folder)) > 1
    fresh_reads()
    yield folder
    fresh_reads()


@pytest.fixture()
def own_copy(every_term_compact, tmp_path):
    folder = tmp_path / "lib"
    shutil.copytree(every_term_compact, folder)
    fresh_reads()
    yield folder
    fresh_reads()


def test_index_writes_one_compact_file_per_segment(indexed):  # noqa: F811
    assert [p.name.removesuffix(postings.SUFFIX) for p in compact_files(indexed)] == \
        segment_ids(indexed)
    ix = index.open_index(indexed)
    fresh_reads()
    with ix.reader() as reader:
        # A segment with words of both kinds: which one holds the shipped library's rare
        # words depends on how the two writer processes shared the documents.
        for leaf in sorted((leaf for leaf, _ in reader.leaf_readers()),
                           key=lambda r: -r.doc_count_all()):
            texts = [(btext, info.doc_frequency()) for (field, btext), info
                     in leaf._terms.items() if field == "text"]
            long_terms = [btext for btext, n in texts if n >= postings.LONG]
            short_terms = [btext for btext, n in texts if n < postings.LONG]
            if long_terms and short_terms:
                break
        long_term, short_term = long_terms[0], short_terms[0]
        assert postings.postings(leaf, "text", long_term).codes is not None
        assert postings.postings(leaf, "text", short_term).codes is None
        assert postings.postings(leaf, "text", b"nosuchwordanywhere") is None


@pytest.mark.parametrize("text", QUERIES)
def test_compact_postings_score_like_whoosh(every_term_compact, text):
    assert_evaluates_like_whoosh(every_term_compact, text)


def every_posting(folder) -> dict:
    ix = index.open_index(folder)
    with ix.reader() as reader:
        return {(leaf._segment.segment_id(), field, btext):
                (list(found.ids), list(found.weight_values()))
                for leaf, _ in reader.leaf_readers()
                for (field, btext) in leaf.all_terms()
                if (found := postings.postings(leaf, field, btext)) is not None}


def test_a_damaged_compact_file_is_ignored_then_rewritten(own_copy):
    folder = own_copy
    expected = every_posting(folder)
    fresh_reads()
    damaged = compact_files(folder)[0]
    data = damaged.read_bytes()
    damaged.write_bytes(data[:len(data) // 2])   # cut short, as by a full disk
    fresh_reads()
    assert every_posting(folder) == expected     # from Whoosh's blocks instead
    # Bytes garbled inside a list (the directory intact): that list is read from
    # Whoosh's blocks, the others still from the file.
    damaged.write_bytes(data[:len(postings.MAGIC)] + b"\xff" * 64 +
                        data[len(postings.MAGIC) + 64:])
    fresh_reads()
    assert every_posting(folder) == expected
    damaged.write_bytes(data[:len(data) // 2])
    assert postings.write_missing(index.open_index(folder)) == 1
    fresh_reads()
    assert every_posting(folder) == expected


def test_compact_files_go_with_their_segments(own_copy):
    folder = own_copy
    before = compact_files(folder)
    index.open_index(folder).optimize()   # merges the segments: new files, old deleted
    assert not set(compact_files(folder)) & set(before)
    bib = folder / "library.bib"
    bib.write_text(bib.read_text("utf-8") + "\n@misc{late, title = {Kaluga}}\n", "utf-8")
    index.update(bib)
    assert [p.name.removesuffix(postings.SUFFIX) for p in compact_files(folder)] == \
        segment_ids(folder)
    fresh_reads()
    ix = index.open_index(folder)
    q = query.parse("Kaluga", ix.schema)
    with ix.searcher(weighting=scoring.BM25F()) as searcher:
        assert set(bulk.evaluate(searcher, q).scores) == \
            {hit.docnum for hit in searcher.search(q, limit=None)}


def test_writing_compact_files_reports_progress(own_copy):
    for path in compact_files(own_copy):
        path.unlink()
    seen = []
    written = postings.write_missing(index.open_index(own_copy), long=1,
                                     progress=lambda done, total: seen.append((done, total)))
    assert written == len(segment_ids(own_copy))
    with index.open_index(own_copy).reader() as reader:
        documents = sum(leaf.doc_count_all() for leaf, _ in reader.leaf_readers())
    assert seen[-1] == (documents, documents)   # counted in documents, to the end
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)   # never backwards
    assert len(seen) > written                                   # within segments too
