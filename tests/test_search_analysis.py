"""The search analyzers: what a query word finds in a document's text.

A query word "finds" a text when its query-time term is among the text's index-time
terms in the main field, or one of its transliteration keys is among the text's keys
(the extra field the schema queries beside the main one).
"""

from __future__ import annotations

import csv
import pickle
import unicodedata

import pytest

from clippings.search.analysis import (
    analysis_signature,
    make_analyzer,
    make_phonetic_analyzer,
    phonetic_key,
)
from clippings.search.decompound import (
    Decompounder,
    build_wordlist,
    load_places,
    load_wordlist,
)
from clippings.textnorm import transliterate_ru

TEXT = make_analyzer()
KEYS = make_phonetic_analyzer()


def terms(analyzer, text: str, mode: str) -> list[str]:
    return [t.text for t in analyzer(text, mode=mode, positions=True)]


def finds(query_word: str, doc: str) -> bool:
    doc_terms = set(terms(TEXT, doc, "index"))
    doc_keys = set(terms(KEYS, doc, "index"))
    q_terms = terms(TEXT, query_word, "query")
    q_keys = terms(KEYS, query_word, "query")
    return bool(set(q_terms) & doc_terms) or bool(set(q_keys) & doc_keys)


MUST_FIND = [
    # German normalisation: umlauts, their two-letter spellings, plain vowels, ß/ss
    ("Städte", "Die Staedte an der Wolga"),
    ("Staedte", "Die Städte an der Wolga"),
    ("Stadte", "Die Städte an der Wolga"),
    ("Städte", "Die Stadte an der Wolga"),
    ("Straße", "Die Strasse nach Süden"),
    ("Strasse", "Die Straße nach Süden"),
    ("Bürger", "Buerger und Buergerinnen"),
    # Snowball stemming
    ("Vertrag", "Die Verträge wurden unterzeichnet"),
    ("Partnerschaften", "eine Partnerschaft"),
    ("Lehrer", "Lehrerinnen und Lehrer"),
    # compounds: head, modifier, inner part, linking elements -s- -es- -n- -en-
    ("Partnerschaft", "Städtepartnerschaften mit Wolgograd"),
    ("Partnerschaft", "Der Partnerschaftsvertrag wurde 1988 geschlossen"),
    ("Vertrag", "Der Partnerschaftsvertrag wurde 1988 geschlossen"),
    ("Konferenz", "Die Städtepartnerkonferenz in Köln"),
    ("Partner", "Die Städtepartnerkonferenz in Köln"),
    ("Städte", "Die Städtepartnerkonferenz in Köln"),
    ("Bürgermeister", "Oberbürgermeister Fritz Schramma"),
    ("Land", "Das Bundesland Nordrhein-Westfalen"),
    ("Bahn", "Mit der Straßenbahn zum Rathaus"),
    ("Straße", "Mit der Straßenbahn zum Rathaus"),
    ("Frau", "Die Frauenbewegung in Russland"),
    ("Arbeit", "Die Zusammenarbeit der Städte"),
    ("Gericht", "Vor dem Amtsgericht"),
    ("Schule", "Ein Schulbuch aus Jekaterinburg"),
    ("Partnerschaft", "STAEDTEPARTNERSCHAFTEN"),
    # Russian: stemming, ё→е, stress marks
    ("Волгоград", "в Волгограде и Волгограда"),
    ("Королев", "Сергей Королёв"),
    ("Волгоград", "Волгогра\u0301д"),
    # transliteration both ways and between the German and English conventions
    ("Wolgograd", "Волгоград"),
    ("Volgograd", "Волгоград"),
    ("Волгоград", "Wolgograd"),
    ("Волгоград", "Volgograd"),
    ("Wolgograd", "Volgograd"),
    ("Volgograd", "Wolgograd"),
    ("Wolgograd", "в Волгограде"),
    ("Schelesnogorsk", "Железногорск"),
    ("Zheleznogorsk", "Железногорск"),
    ("Железногорск", "Schelesnogorsk"),
    ("Железногорск", "Zheleznogorsk"),
    ("Schelesnogorsk", "Zheleznogorsk"),
    ("Zheleznogorsk", "Schelesnogorsk"),
    ("Jekaterinburg", "Екатеринбург"),
    ("Yekaterinburg", "Екатеринбург"),
    ("Jekaterinburg", "Yekaterinburg"),
    ("Екатеринбург", "Jekaterinburg"),
    ("Uljanowsk", "Ульяновск"),
    ("Ulyanovsk", "Ульяновск"),
    ("Uljanowsk", "Ulyanovsk"),
    ("Ульяновск", "Ulyanovsk"),
    ("Gorbatschow", "Михаил Горбачёв"),
    ("Gorbachev", "Gorbatschows Reformen"),
    ("Chruschtschow", "Khrushchev"),
    ("tschaikowski", "Tchaikovsky"),
    # digits are kept
    ("1988", "Seit 1988 Partnerstadt"),
    ("G20", "Der G20-Gipfel"),
]

MUST_NOT_FIND = [
    ("Partnerschaft", "Die Partei tagte"),
    ("Partei", "Städtepartnerschaften mit Wolgograd"),
    ("Stadt", "Der Staat und seine Bürger"),
    ("Konferenz", "Die Konfession der Bürger"),
    ("Wirt", "Die Wirtschaft wächst"),          # no junk split Wirt|schaft
    ("Wolgograd", "Wolgast an der Ostsee"),
    ("Jekaterinburg", "Katharina die Große"),
    ("Volgograd", "Новгород"),
    ("und", "Köln und Wolgograd"),               # a stop word finds nothing
]


@pytest.mark.parametrize(("query", "doc"), MUST_FIND)
def test_query_word_finds_text(query, doc):
    assert finds(query, doc), (terms(TEXT, query, "query"), terms(TEXT, doc, "index"),
                               terms(KEYS, query, "query"), terms(KEYS, doc, "index"))


@pytest.mark.parametrize(("query", "doc"), MUST_NOT_FIND)
def test_query_word_does_not_find_text(query, doc):
    assert not finds(query, doc)


def test_query_gives_one_term_per_word_and_no_parts():
    # Compounds are split only in the index; a query word stays one term, so
    # phrases and AND queries mean what was typed.
    assert terms(TEXT, "Städtepartnerschaften Волгоград", "query") == [
        "stadtepartnerschaft", "волгоград"]
    index_terms = terms(TEXT, "Städtepartnerschaften", "index")
    assert index_terms[0] == "stadtepartnerschaft"
    assert {"stadt", "partnerschaft"} <= set(index_terms)


def test_extra_terms_share_the_position_and_stop_words_leave_no_gap():
    toks = [(t.text, t.pos) for t in TEXT("die Städtepartnerschaft und Волгоград",
                                          mode="index", positions=True)]
    positions = {text: pos for text, pos in toks}
    first = positions["stadtepartnerschaft"]
    assert positions["partnerschaft"] == positions["stadt"] == first
    assert positions["волгоград"] == positions["wolgograd"] == positions["volgograd"] == first + 1


def test_chars_point_at_the_original_word_for_highlighting():
    text = "Die Städtepartnerschaften"
    for t in TEXT(text, mode="index", chars=True):
        assert text[t.startchar:t.endchar] == "Städtepartnerschaften"


def test_stop_words_are_kept_marked_when_asked():
    toks = [(t.text, t.stopped) for t in TEXT("Köln und Wolgograd", mode="query",
                                              removestops=False)]
    assert toks == [("koln", False), ("und", True), ("wolgograd", False)]


def test_unicode_variants_of_one_word_give_one_term():
    decomposed = unicodedata.normalize("NFD", "Städte")
    soft_hyphen = "Städte\u00adpartnerschaft"
    assert terms(TEXT, decomposed, "query") == terms(TEXT, "Städte", "query")
    assert terms(TEXT, soft_hyphen, "query") == terms(TEXT, "Städtepartnerschaft", "query")


def test_analyzers_pickle_small_and_work_after_unpickling():
    # Whoosh stores the schema, analyzers included, in the index's table of contents.
    list(TEXT("Oberbürgermeister", mode="index"))            # fill caches, load the list
    data = pickle.dumps(TEXT)
    assert len(data) < 2000                                  # no word list, no caches inside
    copy = pickle.loads(data)
    assert copy == TEXT
    assert terms(copy, "Städtepartnerkonferenz", "index") == terms(
        TEXT, "Städtepartnerkonferenz", "index")
    assert pickle.loads(pickle.dumps(KEYS)) == KEYS


def test_decompound_can_be_switched_off():
    plain = make_analyzer(decompound=False)
    assert terms(plain, "Städtepartnerschaften", "index") == ["stadtepartnerschaft"]


def test_signature_names_the_parts_that_decide_terms():
    sig = analysis_signature()
    assert sig.startswith("analysis-") and "pystemmer-" in sig and "nouns-" in sig


# --- transliteration keys ---------------------------------------------------------

RUSSIAN_NAMES = ["Волгоград", "Железногорск", "Екатеринбург", "Ульяновск", "Горбачёв",
                 "Хрущёв", "Толстой", "Достоевский", "Чайковский", "Ельцин", "Медведев",
                 "Навальный", "Сочи", "Москва", "Юрий", "Фёдор", "Челябинск", "Ярославль",
                 "Новосибирск", "Казань", "Чехов", "Михаил", "Ильич", "Щукин", "Жуков",
                 "Шостакович", "Царицын", "Воронеж", "Наталья", "Ходорковский"]


@pytest.mark.parametrize("name", RUSSIAN_NAMES)
def test_german_and_english_transliterations_share_a_key(name):
    de = transliterate_ru(name, "de").lower()
    en = transliterate_ru(name, "en").lower()
    assert de != en or name == "Сочи" or de.isascii()
    assert phonetic_key(de) == phonetic_key(en)
    # ... and the Cyrillic word itself is indexed under that key
    assert phonetic_key(de) in terms(KEYS, name, "index")


def test_key_field_indexes_names_not_german_nouns():
    # Partnerstadt and Oberbürgermeister are German nouns (a compound, a listed
    # word); the place and the person get keys.
    text = "die neue Partnerstadt Wolgograd und Oberbürgermeister Schramma"
    assert terms(KEYS, text, "index") == [phonetic_key("wolgograd"), phonetic_key("schramma")]
    assert terms(KEYS, "wolgograd", "query") == ["volgograd"]
    # A skipped lower-case word keeps its place, so a phrase cannot jump over it;
    # a stop word does not (as in the main field).
    toks = [(t.text, t.pos) for t in KEYS("Wolgograd am schönen Main", mode="index",
                                          positions=True)]
    assert toks == [("volgograd", 0), ("main", 2)]


# --- the compound splitter --------------------------------------------------------

@pytest.fixture(scope="module")
def splitter():
    return Decompounder(load_wordlist())


@pytest.mark.parametrize(("word", "parts"), [
    ("stadtepartnerschaften", {"stadte", "partnerschaften"}),
    ("staedtepartnerschaften", {"staedte", "partnerschaften"}),
    ("partnerschaftsvertrag", {"partnerschaft", "vertrag"}),
    ("stadtepartnerkonferenz", {"stadte", "partner", "konferenz"}),
    ("oberburgermeister", {"burgermeister"}),
    ("bundestagsabgeordneter", {"bundestag", "abgeordneter"}),
    ("amtsgericht", {"amt", "gericht"}),
    ("strassenbahn", {"strassen", "bahn"}),
    ("frauenbewegung", {"frauen", "bewegung"}),
    ("sonnenschein", {"sonnen", "schein"}),
    ("schulbuch", {"schule", "buch"}),
])
def test_splitter_finds_the_parts(splitter, word, parts):
    assert parts <= set(splitter.split(word))


@pytest.mark.parametrize("word", ["wirtschaft", "gesellschaft", "verwaltung", "unternehmen",
                                  "bevolkerung", "entwicklung", "verantwortung", "partei",
                                  "konferenz", "wolgograd"])
def test_splitter_leaves_simple_words_alone(splitter, word):
    assert splitter.split(word) == []


def test_splitter_never_returns_parts_shorter_than_the_minimum(splitter):
    for word in ["stadtepartnerkonferenz", "bahnhofsvorsteher", "eisenbahnbrucke"]:
        for part in splitter.split(word):
            assert len(part) >= 4 or part in {"amt", "hof", "tag", "rat", "bau"}


def test_wordlist_holds_both_umlaut_spellings_and_knows_places():
    words = load_wordlist()
    assert {"partnerschaft", "stadte", "staedte", "konferenz", "wolgograd"} <= words
    assert "wolgograd" in load_places() and "stadt" not in load_places()


def test_build_wordlist_from_a_german_nouns_csv(tmp_path):
    path = tmp_path / "nouns.csv"
    rows = [
        {"lemma": "Stadt", "pos": "Substantiv", "nominativ singular": "Stadt",
         "nominativ plural": "Städte"},
        {"lemma": "Anna", "pos": "Substantiv,Vorname", "nominativ singular": "Anna",
         "nominativ plural": ""},
        {"lemma": "Straße", "pos": "Substantiv", "nominativ singular": "Straße",
         "nominativ plural": "Straßen"},
        {"lemma": "Rotes Kreuz", "pos": "Substantiv,Wortverbindung",
         "nominativ singular": "Rotes Kreuz", "nominativ plural": ""},
        {"lemma": "Wolgograd", "pos": "Substantiv,Toponym",
         "nominativ singular": "Wolgograd", "nominativ plural": ""},
        {"lemma": "Essen", "pos": "Substantiv,Toponym", "nominativ singular": "Essen",
         "nominativ plural": ""},
        {"lemma": "Essen", "pos": "Substantiv", "nominativ singular": "Essen",
         "nominativ plural": ""},
    ]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    # Names of people are left out; place names that are nothing else are listed apart.
    words, places = build_wordlist(path)
    assert words == ["essen", "stadt", "straße", "straßen", "städte", "wolgograd"]
    assert places == ["wolgograd"]


# --- a real Whoosh index ----------------------------------------------------------

def test_whoosh_index_finds_documents_through_the_analyzers(tmp_path):
    from whoosh import fields, index, qparser

    schema = fields.Schema(
        key=fields.ID(stored=True, unique=True),
        text=fields.TEXT(analyzer=make_analyzer()),
        keys=fields.TEXT(analyzer=make_phonetic_analyzer(), multitoken_query="or"),
    )
    docs = {
        "koeln": "Die Städtepartnerschaft zwischen Köln und Wolgograd besteht seit 1988.",
        "vertrag": "Der Partnerschaftsvertrag wurde vom Oberbürgermeister unterzeichnet.",
        "konf": "Zur Städtepartnerkonferenz kamen Gäste aus Jekaterinburg.",
        "ru": "Делегация из Волгограда и Железногорска посетила Ульяновск.",
        "partei": "Die Partei tagte in der Stadt der Zukunft.",
    }
    ix = index.create_in(str(tmp_path), schema)
    with ix.writer() as w:
        for key, text in docs.items():
            w.add_document(key=key, text=text, keys=text)

    ix = index.open_dir(str(tmp_path))                      # schema unpickled from disk
    parser = qparser.MultifieldParser(["text", "keys"], ix.schema)

    def hits(q):
        with ix.searcher() as s:
            return {h["key"] for h in s.search(parser.parse(q), limit=None)}

    assert hits("Partnerschaft") == {"koeln", "vertrag"}
    assert hits("Konferenz") == {"konf"}
    assert hits("Bürgermeister") == {"vertrag"}
    assert hits("Staedte") == {"koeln", "konf", "partei"}     # Städte, Stadt: one stem
    assert hits("Volgograd") == {"koeln", "ru"}
    assert hits("Zheleznogorsk") == {"ru"}
    assert hits("Ulyanovsk") == {"ru"}
    assert hits("Екатеринбург") == {"konf"}
    assert hits("Волгоград") == {"koeln", "ru"}
    assert hits('"Stadt der Zukunft"') == {"partei"}
    assert hits('"Städtepartnerschaft zwischen Köln"') == {"koeln"}
    assert hits("Partei") == {"partei"}


def test_positions_continue_from_start_pos():
    # Whoosh passes start_pos for the second value of a multi-valued field.
    toks = [(t.text, t.pos) for t in TEXT("Köln und Wolgograd", mode="query",
                                          positions=True, start_pos=100)]
    assert toks == [("koln", 100), ("wolgograd", 101)]
