"""The fast analysis (`search.terms`) gives exactly the terms and positions of the Whoosh
analyzer chains (`search.analysis`), on random German and Russian text with compounds,
place names, stop words, umlaut spellings, numbers and marks: a build's terms, and a
snippet's terms of each word."""

from __future__ import annotations

import re
from functools import lru_cache

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from clippings.search.analysis import TOKEN_PATTERN, make_analyzer
from clippings.search.index import schema
from clippings.search.terms import term_positions, word_terms

WORDS = (
    # German: compounds, umlauts and their two-letter spellings, inflections
    "Städtepartnerschaft Staedtepartnerschaften Stadtepartnerschaft Partnerschaftsvertrag "
    "Oberbürgermeisterin Bürgermeister Jugendaustausch Kriegsgräberstätte Gedenkstätte "
    "Straße Strasse Grußwort Frauen neue Quelle Café Ärztin Schüleraustausch "
    "deutsch-russische kommunale Zusammenarbeit Wirtschaftsförderung Feuerwehr "
    # stop words of both languages
    "der die das und in im am zum ob von den und oder nicht и в на не что это как "
    # Russian, with ё and inflections
    "Партнёрство партнерство городов Делегация Германии посетила школы Железногорск "
    "Железногорска Волгоград Волгограда Калуга Калуге Ёлкина ёлка Молодёжные обмены "
    # names and transliterations
    "Schelesnogorsk Zheleznogorsk Wolgograd Volgograd Jekaterinburg Yekaterinburg "
    "Tschaikowski Chaikovsky Lohse Gorzka Iwanow Petrowa "
    # places of one to three words, German and Russian
    "Köln Cologne Kaluga Spremberg Rothenburg Tauber Baden-Baden Moskau Москва Москве "
    "Sankt Petersburg Санкт-Петербург Нижний Новгород Nischni Nowgorod Frankfurt Oder Main "
    # numbers, marks, soft hyphens, stress marks, apostrophes
    "1.000 3,5 2016 12 Bür\u00adger\u00admeister Москва\u0301 Ma\u0308dchen d'Artagnan"
).split()

SEPARATORS = [" ", " ", " ", ", ", ". ", "\n", " – ", " (", ") ", "; ", ": ", "\"", "?! "]

word = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(WORDS).map(str.lower),
    st.sampled_from(WORDS).map(str.upper),
    st.text("abcdefghijklmnopqrstuvwxyzäöüßАБВГДабвгдеёжзийклмнопрстуфхцчшщъыьэюя\u0301",
            min_size=1, max_size=12),
    st.builds(lambda a, b: a + b.lower(), st.sampled_from(WORDS), st.sampled_from(WORDS)),
)
texts = st.lists(st.tuples(word, st.sampled_from(SEPARATORS)), max_size=80).map(
    lambda pairs: "".join(w + s for w, s in pairs))


def chain_positions(analyzer, text: str, start: int = 0) -> dict[str, list[int]]:
    """What the Whoosh chain yields: term -> positions, in its order."""
    out: dict[str, list[int]] = {}
    for token in analyzer(text, positions=True, mode="index", start_pos=start):
        out.setdefault(token.text, []).append(token.pos)
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.sampled_from([0, 1]))
def test_text_fields_match_the_analyzer_chain(text, start):
    analyzer = schema()["text"].analyzer
    assert term_positions(analyzer, text, start) == chain_positions(analyzer, text, start)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_transliteration_keys_match_the_analyzer_chain(text):
    analyzer = schema()["translit"].analyzer
    assert term_positions(analyzer, text) == chain_positions(analyzer, text)


@settings(max_examples=100, deadline=None)
@given(texts)
def test_without_compounds_or_places_too(text):
    analyzer = make_analyzer(decompound=False)
    assert term_positions(analyzer, text) == chain_positions(analyzer, text)


def test_place_names_and_compounds_are_indexed_as_the_chain_does():
    text = ("Die Städtepartnerschaft zwischen Köln und Wolgograd. In Sankt Petersburg "
            "und in Rothenburg ob der Tauber; Делегация из Санкт-Петербурга посетила "
            "Нижний Новгород. Köln Köln")
    analyzer = schema()["text"].analyzer
    fast = term_positions(analyzer, text)
    assert fast == chain_positions(analyzer, text)
    # and the things a user searches for are there: the compound's parts, the
    # other names of the places, the transliterations
    assert {"stadt", "partnerschaft", "cologn", "volgograd", "leningrad", "novgorod",
            "новгород", "rothenburg"} <= set(fast)
    assert "partnerschaft" in fast and fast["partnerschaft"] == fast["stadtepartnerschaft"]


def test_another_analyzer_runs_through_its_chain():
    analyzer = schema()["tag"].analyzer
    assert term_positions(analyzer, "Städtepartnerschaft, Presse") == \
        chain_positions(analyzer, "Städtepartnerschaft, Presse")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_a_words_query_terms_match_the_analyzer_chain(text):
    for field in ("text", "translit", "tag"):
        analyzer = schema()[field].analyzer
        terms = word_terms(analyzer)
        for token in re.findall(TOKEN_PATTERN, text):
            assert sorted(terms(token)) == sorted(
                t.text for t in analyzer(token, mode="query", removestops=False)
                if not t.stopped), (field, token)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))
@example("Am 26.06.2016 kam 2016 Köln 12,2016 und 2016.", ["2016"])
@example("Kalugas Kaluga-Stadt Kaluga Калуга", ["Kaluga"])
def test_a_snippets_marked_words_are_exactly_the_texts_tokens_that_match(text, asked):
    """`Marker.spans` gives exactly the spans of the text's tokens whose words match: the
    contract any faster way of finding them must keep (an expression of the marked words,
    tried, missed a word glued to a number: `1.000städtepartnerschaft`)."""
    from clippings.search import query
    q = query.parse(" OR ".join(f'"{w}"' for w in asked), schema())
    marker = query.Marker(schema(), q)
    tokens = [(m.span(), m.group()) for m in re.finditer(TOKEN_PATTERN, text)]
    assert marker.spans(text) == [span for span, w in tokens if marker.matches(w)]
    # A snippet reads a text a part at a time, cut at a space: the parts' spans are
    # the text's, at the text's offsets.
    cut = text.find(" ", len(text) // 2)
    if cut > 0:
        assert marker.spans(text, 0, cut) + marker.spans(text, cut) == marker.spans(text)


def _levenshtein(a: str, b: str) -> int:
    """The edit distance by its definition (the distance of the prefixes)."""
    @lru_cache(maxsize=None)
    def distance(i: int, j: int) -> int:
        if not i or not j:
            return i + j
        return min(distance(i - 1, j) + 1, distance(i, j - 1) + 1,
                   distance(i - 1, j - 1) + (a[i - 1] != b[j - 1]))
    return distance(len(a), len(b))


@settings(max_examples=2000, deadline=None)
@given(st.text("abcdeä", max_size=8), st.text("abcdeä", max_size=8), st.integers(0, 3))
@example("ab", "cd", 2)
@example("michendorf", "michendorff", 1)
def test_a_fuzzy_words_distance_is_decided_as_levenshtein_does(a, b, limit):
    """A fuzzy word (`Michendorf~`) marks the words within its edit distance: the quick
    rejections before the distance table (lengths, sets of letters) reject no word the
    table would accept."""
    from clippings.search.query import _within
    assert _within(a, b, limit) == (_levenshtein(a, b) <= limit)
