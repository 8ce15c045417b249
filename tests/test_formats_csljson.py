"""CSL-JSON reading and writing: Zotero's and pandoc's shapes, errors, round trips."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clippings import bibfile
from clippings.errors import BibSyntaxError
from clippings.formats import csljson, dates
from clippings.model import Name, Record

from strategies import LETTERS, MODEL_DATE, name_lists, phrases

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
REALBIBS = Path(__file__).resolve().parents[2] / "shared" / "realbibs"
FORUM = Name(family="Deutsch-Russisches Forum e.V.", literal=True)


# --- fixtures -----------------------------------------------------------------------

def test_zotero_export():
    news, web, journal = csljson.parse((FIXTURES / "zotero.json").read_text("utf-8"))
    assert news == Record(
        type="article", key="maz2015michendorf",  # from "Citation Key:" in the note
        fields={"entrysubtype": "newspaper", "title": "Michendorfer Entspannungspolitik",
                "journaltitle": "Märkische Allgemeine",
                "url": "https://www.maz-online.de/Lokales/Potsdam-Mittelmark/"
                       "Michendorfer-Entspannungspolitik",
                "date": "2015-04-20", "urldate": "2024-01-15", "langid": "ngerman"})
    assert web == Record(
        type="online", key=None,  # a Zotero item URI is no citation key
        fields={"title": "Portal für deutsch-russische kommunale und regionale "
                         "Partnerschaften",
                "journaltitle": "russlandpartner.de", "url": "http://www.russlandpartner.de/",
                "date": "2017-10-04", "urldate": "2024-01-15"},
        names={"author": [FORUM]})
    assert journal == Record(
        type="article", key=None,
        fields={"title": "Twinning Towns after 1990", "subtitle": "Urban Diplomacy",
                "journaltitle": "Journal of Urban History",
                "shortjournal": "J. Urban Hist.", "volume": "44", "number": "3",
                "pages": "512--530", "doi": "10.1177/0096144217692987",
                "issn": "0096-1442", "date": "2018-05", "langid": "english"},
        names={"author": [Name("Smith", "John", suffix="Jr."),
                          Name("Berg", "Piet", prefix="van der")]})


def test_pandoc_export():
    book, report, chapter, paper = csljson.parse((FIXTURES / "pandoc.json").read_text())
    assert book == Record(
        type="book", key="ivanova2015gorod",
        fields={"title": "Город и мир", "edition": "2", "isbn": "978-5-02-038412-3",
                "date": "2015", "langid": "russian", "publisher": "Наука",
                "location": "Москва"},
        names={"author": [Name("Иванова", "Мария Петровна")],
               "editor": [Name("Goethe", "Johann Wolfgang", prefix="von")]})
    assert report == Record(
        type="report", key="mueller2018kommunale",
        fields={"title": "Kommunale Partnerschaften zwischen Deutschland und Russland",
                "series": "Schriftenreihe Dialog", "type": "Arbeitspapier",
                "date": "2018-03", "number": "7",
                "institution": "Deutsch-Russisches Forum e.V.", "location": "Berlin"},
        names={"author": [Name("Müller", "Anna")]})
    assert chapter.type == "incollection"
    assert chapter.fields["booktitle"] == "Handbuch Städtepartnerschaften"
    assert chapter.fields["pages"] == "101--120"  # from "101–120"
    assert chapter.fields["date"] == "2019"  # from "raw"
    assert paper.fields["date"] == "2014-09-12/2014-09-14"
    assert paper.fields["urldate"] == "2017-06-26"  # from a German "literal"
    assert paper.fields["eventtitle"] == "Petersburger Dialog"


# --- reading details ----------------------------------------------------------------

def test_single_object_and_zotero_api_shape():
    item = {"id": "a1", "type": "book", "title": "Eins"}
    expected = [Record("book", {"title": "Eins"}, key="a1")]
    assert csljson.parse(json.dumps(item)) == expected
    assert csljson.parse(json.dumps({"items": [item]})) == expected
    assert csljson.parse("\ufeff" + json.dumps([item])) == expected
    assert csljson.parse("  \n") == []


@pytest.mark.parametrize("text, line, col, words", [
    ('[\n  {"id": "a", "type": "book",}\n]', 2, 30, "invalid JSON"),
    ('[{"id": "a"', 1, 12, "invalid JSON"),
    ('{"name": "not csl"}', 1, 1, "not CSL-JSON"),
    ('"just a string"', 1, 1, "not CSL-JSON"),
    ('[\n  {"id": "a", "type": "book"},\n  42\n]', 3, 3, "item 2 is not an object"),
    ('[\n  {"id": "a", "type": "book"},\n  {"foo": 1}\n]', 3, 3, "item 2 is not a CSL"),
])
def test_malformed_input_names_line_and_column(text, line, col, words):
    with pytest.raises(BibSyntaxError) as info:
        csljson.parse(text, "refs.json")
    assert (info.value.path, info.value.line, info.value.col) == ("refs.json", line, col)
    assert words in info.value.message


@pytest.mark.parametrize("value, expected", [
    ({"date-parts": [[2017, 6, 26]]}, "2017-06-26"),
    ({"date-parts": [["2017", "6"]]}, "2017-06"),
    ({"date-parts": [[2016], [2017]]}, "2016/2017"),
    ({"date-parts": [[2017]], "circa": True}, "2017~"),
    ({"raw": "2017-06-26"}, "2017-06-26"),
    ({"raw": "1988/.."}, "1988/"),
    ({"date-parts": [[1988], [0]]}, "1988/"),
    ({"date-parts": [[1988, 5], []]}, "1988-05/"),
    ({"literal": "Sommer 2017"}, "2017"),
    ({"date-parts": [[2017, 13]]}, None),
    ("2017-06", "2017-06"),
])
def test_dates(value, expected):
    rec = csljson.record_from_csl({"type": "book", "issued": value})
    assert rec.fields.get("date") == expected


@pytest.mark.parametrize("issue, field", [("3", "number"), ("1-2", "number"),
                                          ("Spring", "issue"), ("IV", "number")])
def test_article_issue_numbers_and_names(issue, field):
    rec = csljson.record_from_csl({"type": "article-journal", "issue": issue})
    assert rec.fields == {field: issue}


@pytest.mark.parametrize("raw, key, source_key", [
    ({"id": "lohse2017"}, "lohse2017", "lohse2017"),
    ({"id": "12345/ABCD"}, None, None),
    ({"id": 17}, None, None),
    ({"id": "x", "citation-key": "better"}, "better", "better"),
    ({"id": "Lohse 2017"}, "Lohse_2017", "Lohse 2017"),
    ({"id": ".."}, None, ".."),         # no key, but `import` names what it replaced
    ({"id": "12/3", "citation-key": "#"}, None, "#"),
])
def test_keys(raw, key, source_key):
    rec = csljson.record_from_csl({"type": "book", **raw})
    assert (rec.key, rec.source_key) == (key, source_key)


def test_rich_text_and_numbers_become_plain_text():
    rec = csljson.record_from_csl({"type": "article-journal", "volume": 12,
                                   "title": 'Über <span class="nocase">iPhone</span> &amp; '
                                            "<i>Co</i>"})
    assert rec.fields == {"title": "Über iPhone & Co", "volume": "12"}


def test_names_in_all_shapes():
    rec = csljson.record_from_csl({"type": "book", "author": [
        {"literal": "Stadt Spremberg"}, {"family": "von Goethe", "given": "J. W."},
        {"given": "Homer"}, "Ein Verein", {"family": "Beethoven", "given": "Ludwig",
                                           "non-dropping-particle": "van"}, {}]})
    assert rec.names["author"] == [
        Name("Stadt Spremberg", literal=True), Name("Goethe", "J. W.", prefix="von"),
        Name("Homer"), Name("Ein Verein", literal=True),
        Name("Beethoven", "Ludwig", prefix="van")]


def test_title_with_a_colon_is_not_cut_without_a_matching_short_title():
    rec = csljson.record_from_csl({"type": "book", "title": "Teil 2: Zitierregeln"})
    assert rec.fields == {"title": "Teil 2: Zitierregeln"}


# --- writing ------------------------------------------------------------------------

@pytest.mark.parametrize("rtype, subtype, csl", [
    ("article", "newspaper", "article-newspaper"),
    ("article", "magazine", "article-magazine"), ("article", "", "article-journal"),
    ("online", "", "webpage"), ("online", "blog", "post-weblog"), ("report", "", "report"),
    ("book", "", "book"), ("incollection", "", "chapter"),
    ("inproceedings", "", "paper-conference"), ("thesis", "", "thesis"),
    ("booklet", "", "pamphlet"), ("periodical", "", "periodical"),
    ("misc", "", "document"), ("unpublished", "", "manuscript"),
    ("legislation", "", "legislation"), ("standard", "", "standard"),
    ("inreference", "", "entry-encyclopedia"),
])
def test_types_both_ways(rtype, subtype, csl):
    fields = {"entrysubtype": subtype} if subtype else {}
    item = csljson.to_csl(Record(rtype, dict(fields), key="k"))
    assert item["type"] == csl
    back = csljson.record_from_csl(item)
    assert (back.type, back.get("entrysubtype")) == (rtype, subtype)


def test_output_is_an_array_of_items_with_id_and_type():
    records = [Record("article", {"title": "Tor", "entrysubtype": "newspaper",
                                  "journaltitle": "Die Zeit", "date": "2017-06-26",
                                  "urldate": "2024-01-15", "pages": "3--4",
                                  "langid": "ngerman"},
                      {"author": [Name("Lohse", "Eckart"), FORUM]}, key="lohse2017tor"),
               Record("misc", {"title": "Ohne Schlüssel"})]
    data = json.loads(csljson.dump(records))
    assert data == [
        {"id": "lohse2017tor", "type": "article-newspaper", "citation-key": "lohse2017tor",
         "author": [{"family": "Lohse", "given": "Eckart"},
                    {"literal": "Deutsch-Russisches Forum e.V."}],
         "title": "Tor", "container-title": "Die Zeit",
         "issued": {"date-parts": [[2017, 6, 26]]},
         "accessed": {"date-parts": [[2024, 1, 15]]}, "page": "3-4", "language": "de-DE"},
        {"id": "item2", "type": "document", "title": "Ohne Schlüssel"}]
    assert '"date-parts": [[2017, 6, 26]]' in csljson.dump(records)


def test_subtitle_is_joined_and_split_back():
    rec = Record("book", {"title": "Faust", "subtitle": "Eine Tragödie",
                          "titleaddon": "Erster Teil"}, key="g")
    item = csljson.to_csl(rec)
    assert item["title"] == "Faust: Eine Tragödie. Erster Teil"
    assert item["title-short"] == "Faust"
    assert csljson.record_from_csl(item).fields == {"title": "Faust",
                                                    "subtitle": "Eine Tragödie. Erster Teil"}


def test_open_and_uncertain_dates():
    item = csljson.to_csl(Record("misc", {"date": "1988/", "origdate": "1900~",
                                          "eventdate": "Frühjahr"}))
    assert item["issued"] == {"date-parts": [[1988], [0]]}  # pandoc's open range
    assert item["original-date"] == {"date-parts": [[1900]], "circa": True}
    assert item["event-date"] == {"literal": "Frühjahr"}


# --- round trips --------------------------------------------------------------------

HAND_MADE = [
    Record("article", {"title": "Spremberg schlägt Brücke nach Russland",
                       "subtitle": "Partnerschaftsvertrag unterzeichnet",
                       "journaltitle": "Lausitzer Rundschau", "entrysubtype": "newspaper",
                       "date": "2016-04-29", "url": "https://www.lr-online.de/a",
                       "urldate": "2024-01-15", "langid": "ngerman",
                       "keywords": "Spremberg, Russland"},
           {"author": [Name("Hilbert", "René")]}, key="hilbert2016spremberg"),
    Record("online", {"title": "Portal für deutsch-russische Partnerschaften",
                      "journaltitle": "russlandpartner.de", "date": "2017-10-04",
                      "url": "http://www.russlandpartner.de/", "urldate": "2024-01-15"},
           {"author": [FORUM]}, key="forum2017portal"),
    Record("report", {"title": "Побратимство городов", "institution": "Форум",
                      "location": "Москва", "date": "2018-03", "number": "7",
                      "type": "Рабочий документ", "langid": "russian",
                      "abstract": "Первый абзац.\n\nВторой абзац."},
           {"author": [Name("Кузнецова", "Ольга"), Name("Петров", "Иван")]}, key="k2018"),
    Record("book", {"title": "Faust", "publisher": "Cotta", "location": "Tübingen",
                    "date": "1808", "edition": "2", "isbn": "978-3-16-148410-0",
                    "series": "Werke", "number": "4", "volumes": "2", "pagetotal": "350"},
           {"author": [Name("Goethe", "Johann Wolfgang", prefix="von")],
            "editor": [Name("Müller", "Änne", suffix="Jr.")],
            "translator": [Name("Homer")]}, key="goethe1808faust"),
    Record("article", {"title": "Twinning", "journaltitle": "Journal of Urban History",
                       "shortjournal": "J. Urban Hist.", "volume": "44", "issue": "Spring",
                       "pages": "512--530", "doi": "10.1177/0096144217692987",
                       "issn": "0096-1442", "date": "2017/2018", "langid": "american",
                       "note": "Peer reviewed."},
           {"author": [Name("Smith", "John"), Name("Berg", "Piet", prefix="van der")]},
           key="smith2017"),
    Record("inproceedings", {"title": "Praxis", "booktitle": "Tagungsband",
                             "date": "2019~", "eventtitle": "Petersburger Dialog",
                             "eventdate": "2019-09-12/2019-09-14", "venue": "Sankt Petersburg",
                             "pages": "101--120", "publisher": "Springer VS"},
           {"author": [Name("Lohse", "Eckart")], "editor": [Name("Schmidt", "Karl")]},
           key="lohse2019"),
    Record("misc", {"title": "Laufende Reihe", "date": "1988/", "howpublished": "Flugblatt",
                    "origdate": "1900-05"}, key="reihe"),
]


@pytest.mark.parametrize("record", HAND_MADE, ids=lambda r: r.type)
def test_hand_made_round_trip(record):
    assert csljson.parse(csljson.dump([record])) == [record]


_word = st.text(LETTERS + "0123456789-.'&\"\\/", min_size=1, max_size=8)
_phrase = phrases(_word)
# CSL keeps an organisation in one "literal" string: commas and all.
_names = name_lists(st.lists(_word, min_size=1, max_size=4).map(", ".join))
_model_date = MODEL_DATE
_CSL_TYPES = [("article", "", "journaltitle"), ("article", "newspaper", "journaltitle"),
              ("article", "magazine", "journaltitle"), ("online", "", "journaltitle"),
              ("online", "blog", "journaltitle"), ("report", "", None), ("book", "", None),
              ("incollection", "", "booktitle"), ("inreference", "", "booktitle"),
              ("inproceedings", "", "booktitle"), ("thesis", "", None),
              ("booklet", "", None), ("standard", "", None), ("misc", "", "journaltitle"),
              ("periodical", "", "journaltitle"), ("unpublished", "", None),
              ("patent", "", None), ("legislation", "", "journaltitle"),
              ("jurisdiction", "", "journaltitle"), ("software", "", None),
              ("dataset", "", None), ("review", "", "journaltitle"), ("letter", "", None),
              ("movie", "", None), ("audio", "", None), ("artwork", "", None)]
_ROLE = {"report": "institution", "thesis": "institution", "standard": "organization"}
_ISSUE_TYPES = {"article", "periodical", "review"}
_OPTIONAL = {
    "shortjournal": _phrase, "series": _phrase, "location": _phrase,
    "urldate": _model_date, "origdate": _model_date, "eventdate": _model_date,
    "volume": st.integers(1, 999).map(str), "edition": _phrase, "version": _phrase,
    "volumes": st.integers(2, 9).map(str), "pagetotal": st.integers(2, 999).map(str),
    "pages": st.one_of(st.integers(1, 999).map(str),
                       st.builds(lambda a, b: f"{a}--{a + b}", st.integers(1, 500),
                                 st.integers(1, 50)), st.just("xii--xv, 3")),
    "isbn": _phrase, "issn": _phrase, "doi": _phrase, "url": _phrase,
    "langid": st.sampled_from(["ngerman", "english", "american", "british", "russian",
                               "french", "ukrainian", "polish", "brazilian"]),
    "type": _phrase, "howpublished": _phrase, "eventtitle": _phrase, "venue": _phrase,
    "pubstate": _phrase, "note": st.lists(_phrase, min_size=1, max_size=3).map("\n".join),
    "abstract": st.lists(_phrase, min_size=1, max_size=3).map("\n\n".join),
    "keywords": st.lists(_phrase, min_size=1, max_size=4).map(", ".join),
}


@st.composite
def csl_records(draw):
    rtype, subtype, container = draw(st.sampled_from(_CSL_TYPES))
    fields = {"title": draw(_phrase)}
    if subtype:
        fields["entrysubtype"] = subtype
    extra = draw(st.sampled_from(["", "subtitle", "shorttitle"]))
    if extra:
        fields[extra] = draw(_phrase)
    if container and draw(st.booleans()):
        fields[container] = draw(_phrase)
    if draw(st.booleans()):
        fields["date"] = draw(_model_date)
    if draw(st.booleans()):
        fields[_ROLE.get(rtype, "publisher")] = draw(_phrase)
    # Articles: a number (read back from CSL "issue" as number) or a named issue.
    if rtype in _ISSUE_TYPES:
        kind = draw(st.sampled_from(["", "number", "issue"]))
        if kind:
            fields[kind] = draw(st.integers(1, 99).map(str) if kind == "number"
                                else st.sampled_from(["Spring", "Herbst", "Sonderheft"]))
    else:
        for kind in draw(st.sets(st.sampled_from(["number", "issue"]))):
            fields[kind] = draw(_phrase)
    for name in draw(st.sets(st.sampled_from(sorted(_OPTIONAL)))):
        if name == "shortjournal" and container != "journaltitle":
            continue
        fields[name] = draw(_OPTIONAL[name])
    names = {role: draw(_names) for role in draw(st.sets(st.sampled_from(
        ["author", "editor", "translator", "bookauthor"])))}
    key = draw(st.from_regex(r"[A-Za-z][A-Za-z0-9_:.\-]{0,15}", fullmatch=True))
    return Record(rtype, fields, names, key)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(csl_records(), min_size=1, max_size=3))
def test_round_trip_of_everything_csl_holds(records):
    assert csljson.parse(csljson.dump(records)) == records


# --- real files and real readers -----------------------------------------------------

@pytest.mark.skipif(not (REALBIBS / "biblatex-examples.bib").exists(),
                    reason="../shared/realbibs not present")
def test_biblatex_examples_survive_export_and_import():
    blocks, _ = bibfile.parse((REALBIBS / "biblatex-examples.bib").read_text("utf-8"))
    records = [bibfile.block_record(b) for b in blocks if b.kind == "entry"]
    items = json.loads(csljson.dump(records))
    assert all(item["id"] and item["type"] for item in items)
    assert len({item["id"] for item in items}) == len(items)
    back = csljson.parse(csljson.dump(records))
    assert len(back) == len(records) > 50
    for orig, new in zip(records, back):
        f = dates.modern_fields(orig.fields)
        title = " ".join(dates.join_title(f.get("title", ""), f.get("subtitle", ""),
                                          f.get("titleaddon", "")).split())
        assert " ".join(dates.join_title(new.get("title"), new.get("subtitle")).split()) \
            == title
        authors = [n for n in orig.names.get("author", []) if n.family != "others"]
        assert new.names.get("author", []) == authors
        if dates.parse_model_date(f.get("date", "")):
            assert new.fields["date"] == f["date"]


def test_pandoc_reads_the_output(tmp_path):
    import pypandoc   # pypandoc-binary, a dependency, ships the pandoc binary
    out = tmp_path / "refs.json"
    out.write_text(csljson.dump(HAND_MADE), encoding="utf-8")
    result = subprocess.run([pypandoc.get_pandoc_path(), "-f", "csljson", "-t", "csljson", str(out)],
                            capture_output=True, text=True, check=True)
    read = json.loads(result.stdout)
    assert [i["id"] for i in read] == [r.key for r in HAND_MADE]
    assert read[0]["title"] == "Spremberg schlägt Brücke nach Russland: " \
                               "Partnerschaftsvertrag unterzeichnet"
