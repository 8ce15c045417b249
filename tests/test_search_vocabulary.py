"""The index's vocabulary (search/vocabulary.py): a search page marks a query's words in
its snippets from the words the index build noted (those indexed under a term the query
matched: for plain words, phrases, wildcards and fuzzy words the same words analysing
each text marks); it follows updates; a missing, cut-short, unreadable or oversized file
only means the words are analysed again."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, strategies as st

from clippings.library import Library
from clippings.search import index, query, results_page, vocabulary

TEXTS = {
    "rathaus": "Die Delegation aus Wolgograd besuchte das Rathaus. Im Rathaus sprach die "
               "Bürgermeisterin über die Städtepartnerschaften beider Städte.",
    "kaluga": "Калуга und Kaluga: die Partnerschaft mit Калуга begann 1991. Die Jugend "
              "der Partnerstädte traf sich zum Austausch.",
    "schule": "Die Schule in Rothenburg nahm Gäste auf; eine Dolmetscherin half. "
              "Partnerschaft heißt Austausch.",
}


def entry(key: str, title: str, year: int = 2015) -> str:
    return f"@article{{{key},\n  title = {{{title}}},\n  date = {{{year}}}\n}}\n"


def add_snapshot(folder, key: str, text: str) -> None:
    (folder / "snapshots" / key).mkdir(parents=True)
    (folder / "snapshots" / key / "text.txt").write_text(text, "utf-8")


@pytest.fixture
def library(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    bib = folder / "library.bib"
    bib.write_text("".join(entry(k, f"Bericht {k.capitalize()}") for k in TEXTS), "utf-8")
    for key, text in TEXTS.items():
        add_snapshot(folder, key, text)
    index.update(bib, rebuild=True)
    return bib


def add_and_update(bib, key: str, text: str) -> None:
    """A new entry with a snapshot, then an incremental index update."""
    with open(bib, "a", encoding="utf-8") as out:
        out.write(entry(key, "Sommer"))
    add_snapshot(bib.parent, key, text)
    index.update(bib)


def snippets(bib, text: str) -> dict[str, str]:
    records = {rec.key: rec for rec in Library.load(bib).records()}
    return {hit.key: hit.snippet for hit in results_page(bib, text, records=records).hits}


def analysed_snippets(bib, text: str) -> dict[str, str]:
    """The same hits' snippets cut by analysing every word of their texts."""
    folder = bib.parent
    with index.searching(folder) as searcher:
        marker = query.Marker(searcher.schema, query.parse(text, searcher.schema))
        return {key: query.hit_from(searcher.stored_fields(searcher.document_number(key=key)),
                                    0.0, marker, folder).snippet
                for key in snippets(bib, text)}


def vocabulary_of(bib):
    return vocabulary.load(index.index_dir(bib.parent))


@pytest.mark.parametrize("text", ["Partnerschaft", "Rathaus Delegation", "Austausch",
                                  "Bürgermeisterin", "Wolgograd", "Rath*", "Dolmetscherin~",
                                  '"das Rathaus"', '"Delegation aus Wolgograd"'])
def test_snippets_mark_the_words_analysis_marks(library, text):
    assert vocabulary_of(library) is not None
    found = snippets(library, text)
    assert found and all("**" in s for s in found.values())
    assert found == analysed_snippets(library, text)


def test_the_build_notes_each_word_with_its_terms(library):
    words = vocabulary_of(library)
    assert "partnerschaft" in words.forms("Städtepartnerschaften")[0]   # a compound's part
    assert "Städtepartnerschaften" in words.words_for(["partnerschaft"], 0)
    assert "kaluga" in words.forms("Калуга")[0]     # a Cyrillic word's Latin spelling
    assert words.forms("Wolgograd")[1]              # a name's transliteration key
    assert words.forms("nie gesehen") is None


def test_a_name_is_marked_in_either_script(library):
    """Kaluga finds the entry through the Latin spelling the index gave Калуга: the
    snippet marks both spellings (analysing the Cyrillic word as a query's would not)."""
    snippet = snippets(library, "Kaluga")["kaluga"]
    assert "**Калуга**" in snippet and "**Kaluga**" in snippet


def test_many_words_to_mark_are_found_by_listing_the_texts_words(library, monkeypatch):
    expected = {text: snippets(library, text) for text in ("Partnerschaft", "Rathaus")}
    monkeypatch.setattr(query, "FINDER_WORDS", 0)
    query._markers.clear()
    for text, found in expected.items():
        assert snippets(library, text) == found


def test_an_update_appends_the_new_words(library):
    path = index.index_dir(library.parent) / vocabulary.FILE
    before = path.stat().st_size
    assert snippets(library, "Feuerwehrfest") == {}
    add_and_update(library, "fest", "Das Feuerwehrfest in Michendorf war gut besucht.")
    assert path.stat().st_size > before
    assert "Feuerwehrfest" in vocabulary_of(library).words     # read from where it stopped
    assert snippets(library, "Feuerwehrfest") == {"fest": "Das **Feuerwehrfest** in "
                                                          "Michendorf war gut besucht."}


def test_a_batch_cut_short_is_ignored_and_written_over(library):
    path = index.index_dir(library.parent) / vocabulary.FILE
    add_and_update(library, "fest", "Das Feuerwehrfest in Michendorf.")
    os.truncate(path, path.stat().st_size - 5)      # as a crash in the middle of a write
    vocabulary._loaded.clear()
    words = vocabulary_of(library)
    assert "Feuerwehrfest" not in words.words and "Rathaus" in words.words
    add_and_update(library, "see", "Ein Seefest am Ufer.")
    vocabulary._loaded.clear()
    words = vocabulary_of(library)
    assert "Seefest" in words.words and words.size == path.stat().st_size
    assert snippets(library, "Seefest") == {"see": "Ein **Seefest** am Ufer."}


def test_without_a_vocabulary_words_are_analysed_and_none_is_begun(library):
    """An index built before the vocabulary existed: snippets analyse the words, and an
    update does not start a vocabulary that would lack the older documents' words."""
    path = index.index_dir(library.parent) / vocabulary.FILE
    path.unlink()
    assert vocabulary_of(library) is None
    assert "**Rathaus**" in snippets(library, "Rathaus")["rathaus"]
    add_and_update(library, "fest", "Das Feuerwehrfest in Michendorf.")
    assert not path.exists()
    assert "**Feuerwehrfest**" in snippets(library, "Feuerwehrfest")["fest"]
    index.update(library, rebuild=True)           # a full build begins one
    assert "Feuerwehrfest" in vocabulary_of(library).words


def test_a_vocabulary_that_would_grow_too_large_is_dropped(library, monkeypatch):
    path = index.index_dir(library.parent) / vocabulary.FILE
    monkeypatch.setattr(vocabulary, "MAX_WORDS", len(vocabulary_of(library).words) + 2)
    add_and_update(library, "fest", "Das Feuerwehrfest in Michendorf war ein Erfolg.")
    assert not path.exists()
    assert "**Feuerwehrfest**" in snippets(library, "Feuerwehrfest")["fest"]


@given(st.sets(st.text("abcäöß.-", min_size=1, max_size=6), min_size=1, max_size=30),
       st.text("abcäöß.- ", max_size=200))
def test_the_trie_finds_what_an_alternation_of_the_words_finds(words, text):
    """query._trie: one expression for the words to mark, as a trie; it must find the
    same words at the same places as the plain alternation, longest word first."""
    import re
    inside = query._INSIDE
    plain = re.compile("(?:" + "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
                       + f")(?![{inside}])")
    trie = re.compile(f"(?:{query._trie(words)})(?![{inside}])")
    assert [m.span() for m in trie.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_a_file_written_anew_in_place_is_read_from_its_start(library):
    """A new build's file may get the inode of the one a server process read: its own
    header tells them apart, and later updates go on noting words."""
    folder = index.index_dir(library.parent)
    assert "Rathaus" in vocabulary_of(library).words        # kept by this process
    # The same path written anew, longer than before (as a bigger library's build).
    vocabulary.note(folder, ["Seefest"] + [f"Wort{i}" for i in range(2000)], start=True)
    words = vocabulary_of(library).words
    assert "Seefest" in words and "Rathaus" not in words
    add_and_update(library, "fest", "Das Feuerwehrfest in Michendorf.")
    assert "Feuerwehrfest" in vocabulary_of(library).words


def test_a_vocabulary_in_use_never_changes(library):
    """Search threads read the vocabulary while an update appends: they keep the one they
    have, whole; the next load gives a new one with the new words."""
    before = vocabulary_of(library)
    count, terms = len(before.words), before.terms_from("", 0)
    add_and_update(library, "fest", "Das Feuerwehrfest in Michendorf.")
    after = vocabulary_of(library)
    assert after is not before
    assert len(before.words) == count and before.terms_from("", 0) == terms
    assert "Feuerwehrfest" in after.words and "feuerwehrf" in after.terms_from("feuer", 0)


def test_an_unreadable_vocabulary_is_removed_by_the_next_update(library):
    path = index.index_dir(library.parent) / vocabulary.FILE
    path.write_bytes(b"\x10\x00\x00\x00not a vocabulary")
    assert vocabulary_of(library) is None
    add_and_update(library, "fest", "Das Feuerwehrfest in Michendorf.")
    assert not path.exists()
    assert "**Feuerwehrfest**" in snippets(library, "Feuerwehrfest")["fest"]


@pytest.mark.parametrize("finder_words", [query.FINDER_WORDS, 0])
def test_a_number_is_marked_only_as_a_whole_token(library, monkeypatch, finder_words):
    """26.06.2017 is one token: a search for 2017 does not mark its end, nor repeat it."""
    monkeypatch.setattr(query, "FINDER_WORDS", finder_words)
    query._markers.clear()
    add_and_update(library, "datum", "Am 26.06.2017 unterzeichnet, im Jahr 2017 gefeiert.")
    assert snippets(library, "2017")["datum"] == \
        "Am 26.06.2017 unterzeichnet, im Jahr **2017** gefeiert."


def test_a_search_page_keeps_nothing_of_an_old_library_version(library):
    """A server makes a facet table per version of the library; the orders and counts
    kept for its searches go with it."""
    import gc
    import weakref

    from clippings.search import facet_rows, pages
    records = {rec.key: rec for rec in Library.load(library).records()}
    rows = facet_rows(records, {})
    results_page(library, "Rathaus", records=records, rows=rows)
    old = weakref.ref(pages.facet_table(records, rows, {}))
    newer_records, newer_rows = dict(records), dict(rows)
    results_page(library, "Rathaus", records=newer_records, rows=newer_rows)
    del records, rows
    gc.collect()
    assert old() is None
