"""RIS reading and writing: fixtures in Zotero's and Citavi's shape, errors, round trips."""

from __future__ import annotations


from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clippings import bibfile
from clippings.errors import BibSyntaxError
from clippings.formats import dates, ris
from clippings.model import Name, Record

from strategies import DAY, LETTERS, MODEL_DATE, date_text, name_lists, phrases

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
REALBIBS = Path(__file__).resolve().parents[2] / "shared" / "realbibs"

FORUM = Name(family="Deutsch-Russisches Forum e.V.", literal=True)


def read_fixture(name: str) -> str:
    # Decoded the way an importer would: UTF-8 with an optional BOM left in the text.
    return (FIXTURES / name).read_bytes().decode("utf-8")


# --- fixtures -----------------------------------------------------------------------

def test_zotero_export_with_bom_and_crlf():
    records = ris.parse(read_fixture("zotero.ris"), "zotero.ris")
    assert [r.type for r in records] == ["article", "online", "report", "book", "article",
                                         "incollection"]
    news, web, report, book, journal, chapter = records
    assert news == Record(
        type="article",
        fields={
            "entrysubtype": "newspaper",
            "title": "Spremberg schlägt Brücke nach Russland",
            "subtitle": "Partnerschaftsvertrag mit Schelesnogorsk bei Jahresempfang "
                        "unterzeichnet",
            "journaltitle": "Lausitzer Rundschau",
            "date": "2016-04-29",
            "urldate": "2024-01-15",
            "url": "https://www.lr-online.de/lausitz/spremberg/"
                   "spremberg-schlaegt-bruecke-nach-russland_aid-4125926",
            "langid": "ngerman",
            "note": "Lokalteil Spremberg, S. 15",
            "keywords": "Städtepartnerschaft, Russland",
        },
        names={"author": [Name("Hilbert", "René")]})
    assert web == Record(
        type="online",
        fields={"title": "Portal für deutsch-russische kommunale und regionale "
                         "Partnerschaften",
                "journaltitle": "russlandpartner.de", "date": "2017-10-04",
                "urldate": "2024-01-15", "url": "http://www.russlandpartner.de/",
                "langid": "ngerman"},
        names={"author": [FORUM]})
    assert report.fields == {
        "title": "Kommunale Partnerschaften zwischen Deutschland und Russland",
        "series": "Schriftenreihe Dialog", "date": "2018-03", "number": "7",
        "pages": "48", "institution": "Deutsch-Russisches Forum e.V.",
        "location": "Berlin", "type": "Arbeitspapier", "langid": "ngerman",
        "abstract": "Der Bericht untersucht kommunale Partnerschaften."}
    assert report.names == {"author": [Name("Müller", "Anna"), Name("Petrow", "Iwan")]}
    assert book.fields["isbn"] == "978-5-02-038412-3"
    assert book.fields["publisher"] == "Наука" and book.fields["location"] == "Москва"
    assert book.fields["langid"] == "russian" and book.fields["edition"] == "2"
    assert book.names == {"author": [Name("Иванова", "Мария Петровна")],
                          "editor": [Name("Goethe", "Johann Wolfgang", prefix="von")]}
    assert journal.fields == {
        "title": "Twinning Towns after 1990", "journaltitle": "Journal of Urban History",
        "shortjournal": "J. Urban Hist.", "date": "2018-05", "volume": "44",
        "number": "3", "pages": "512--530", "issn": "0096-1442",
        "doi": "10.1177/0096144217692987"}
    assert journal.names["author"] == [Name("Smith", "John", suffix="Jr."),
                                       Name("Berg", "Piet", prefix="van der")]
    assert chapter.fields["booktitle"] == "Handbuch Städtepartnerschaften"
    assert chapter.fields["pages"] == "101--120"
    assert chapter.names["editor"] == [Name("Schmidt", "Karl")]
    assert all(r.key is None for r in records)


def test_citavi_export_with_header_wrapped_lines_and_loose_spacing():
    records = ris.parse(read_fixture("citavi.ris"), "citavi.ris")
    assert [(r.type, r.get("entrysubtype")) for r in records] == [
        ("article", ""), ("thesis", ""), ("inproceedings", ""), ("booklet", ""),
        ("standard", ""), ("misc", "")]
    article, thesis, paper, booklet, standard, unknown = records
    assert article == Record(
        type="article", key="Lohse.2017",
        fields={
            "title": "Dossier Städtepartnerschaften",
            "journaltitle": "Blätter für deutsche und internationale Politik",
            "date": "2017", "urldate": "2017-06-26", "volume": "62", "number": "6",
            "pages": "45--52", "langid": "ngerman",
            "abstract": "Die kommunalen Beziehungen zwischen Deutschland und Russland\n"
                        "haben eine lange Geschichte.\n\nSeit 2014 stehen sie unter Druck.",
            "note": "Seitenzahlen laut\nInhaltsverzeichnis.",
            "keywords": "Partnerschaft, Kommunen"},
        names={"author": [Name("Lohse", "Eckart")]})
    assert thesis.fields["title"] == "Побратимство городов Германии и России"
    assert thesis.fields["institution"] == "Universität Leipzig"
    assert thesis.fields["type"] == "Dissertation"
    assert thesis.fields["langid"] == "russian"
    assert thesis.names["author"] == [Name("Кузнецова", "Ольга")]
    assert thesis.key == "Kusnezowa_2012"  # "Кузнецова 2012" made into a usable key
    assert paper.fields["date"] == "2014-09-12"
    assert paper.fields["booktitle"] == "Tagungsband Petersburger Dialog"
    assert booklet.names["author"] == [Name("Stadt Spremberg", literal=True)]
    assert standard.fields["organization"] == "Beuth"
    assert standard.fields["type"] == "DIN 1505-2"
    assert standard.fields["date"] == "1984-01"
    assert unknown.fields == {"title": "Ein Eintrag unbekannten Typs"}


# --- reading details -----------------------------------------------------------------

def test_empty_input_gives_no_records():
    assert ris.parse("") == []
    assert ris.parse("\ufeff\r\n\r\n") == []


def test_cr_only_line_ends():
    text = "TY  - BOOK\rTI  - Alt\rPY  - 1999\rER  - \r"
    assert ris.parse(text) == [Record("book", {"title": "Alt", "date": "1999"})]


@pytest.mark.parametrize("text, line, words", [
    ("TI  - No type\nER  - \n", 1, "outside a record"),
    ("TY  - JOUR\nTI  - ok\nER  - \n\nAU  - Lost, Author\n", 5, "outside a record"),
    ("TY  - JOUR\nTI  - First\n\nTY  - BOOK\nTI  - Second\nER  - \n", 1, "no ER"),
    ("junk\n\nTY  - JOUR\nTI  - Never closed\n", 3, "no ER"),
    ("This is not RIS at all.\nJust text.\n", 1, "no RIS records"),
])
def test_malformed_input_names_the_line(text, line, words):
    with pytest.raises(BibSyntaxError) as info:
        ris.parse(text, "in.ris")
    assert info.value.path == "in.ris"
    assert info.value.line == line
    assert words in info.value.message


@pytest.mark.parametrize("tags, expected", [
    ([("PY", "2017")], "2017"),
    ([("PY", "2017"), ("DA", "2017/06/26/")], "2017-06-26"),
    ([("Y1", "2017/06//Summer")], "2017-06"),
    ([("PY", "2017///")], "2017"),
    ([("DA", "26.06.2017")], "2017-06-26"),
    ([("DA", "June 26, 2017")], "2017-06-26"),
    ([("PY", "2016"), ("DA", "2016/2017")], "2016/2017"),
    ([("PY", "Spring 2017")], "2017"),
])
def test_dates(tags, expected):
    rec = ris.record_from_tags([("TY", "JOUR")] + tags)
    assert rec.fields["date"] == expected


@pytest.mark.parametrize("sn, rtype, expected", [
    ("978-3-16-148410-0", "BOOK", {"isbn": "978-3-16-148410-0"}),
    ("3-16-148410-X", "BOOK", {"isbn": "3-16-148410-X"}),
    ("0096-1442", "JOUR", {"issn": "0096-1442"}),
    ("0096-1442; 1552-6771", "JOUR", {"issn": "0096-1442"}),
    ("978-3-16-148410-0 0096-1442", "BOOK", {"isbn": "978-3-16-148410-0",
                                             "issn": "0096-1442"}),
    ("ISBN unbekannt", "BOOK", {"isbn": "ISBN unbekannt"}),
])
def test_isbn_and_issn_told_apart_by_shape(sn, rtype, expected):
    rec = ris.record_from_tags([("TY", rtype), ("SN", sn)])
    assert {k: v for k, v in rec.fields.items() if k in ("isbn", "issn")} == expected


@pytest.mark.parametrize("value, name", [
    ("Lohse, Eckart", Name("Lohse", "Eckart")),
    ("Deutsch-Russisches Forum e.V.", FORUM),
    ("Homer,", Name("Homer")),
    ("de la Fuente, María", Name("Fuente", "María", prefix="de la")),
    ("King, Martin Luther, Jr.", Name("King", "Martin Luther", suffix="Jr.")),
])
def test_names(value, name):
    rec = ris.record_from_tags([("TY", "BOOK"), ("AU", value)])
    assert rec.names["author"] == [name]
    assert ris.record_from_tags(ris.to_ris(rec)).names["author"] == [name]


@pytest.mark.parametrize("raw, key", [
    ("lohse2017dossier", "lohse2017dossier"),
    ("Müller 2018", "Mueller_2018"),
    ("12345/ABCD", None),
    ("4711", None),
])
def test_keys_from_id(raw, key):
    assert ris.record_from_tags([("TY", "GEN"), ("ID", raw)]).key == key


def test_doi_prefix_removed_and_doi_found_in_m3():
    rec = ris.record_from_tags([("TY", "JOUR"), ("DO", "https://doi.org/10.1000/xyz")])
    assert rec.fields["doi"] == "10.1000/xyz"
    rec = ris.record_from_tags([("TY", "JOUR"), ("M3", "10.1000/abc")])
    assert rec.fields == {"doi": "10.1000/abc"}


def test_unknown_language_kept_as_language():
    rec = ris.record_from_tags([("TY", "GEN"), ("LA", "Plattdüütsch")])
    assert rec.fields == {"language": "Plattdüütsch"}


# --- writing ------------------------------------------------------------------------

@pytest.mark.parametrize("rtype, subtype, ris_type", [
    ("article", "newspaper", "NEWS"), ("article", "magazine", "MGZN"),
    ("article", "", "JOUR"), ("online", "", "ELEC"), ("online", "blog", "BLOG"),
    ("report", "", "RPRT"), ("book", "", "BOOK"), ("incollection", "", "CHAP"),
    ("inproceedings", "", "CONF"), ("thesis", "", "THES"), ("booklet", "", "PAMP"),
    ("standard", "", "STAND"), ("misc", "", "GEN"), ("periodical", "", "JFULL"),
    ("collection", "", "EDBOOK"), ("unpublished", "", "UNPB"),
])
def test_types_both_ways(rtype, subtype, ris_type):
    fields = {"entrysubtype": subtype} if subtype else {}
    tags = ris.to_ris(Record(rtype, dict(fields)))
    assert tags[0] == ("TY", ris_type)
    back = ris.record_from_tags(tags)
    assert (back.type, back.get("entrysubtype")) == (rtype, subtype)


@pytest.mark.parametrize("rtype, ris_type, back", [
    ("inbook", "CHAP", "incollection"), ("mvbook", "BOOK", "book"),
    ("manual", "BOOK", "book"), ("phdthesis", "THES", "thesis"),
    ("customa", "GEN", "misc"),
])
def test_types_without_a_ris_twin_use_the_nearest(rtype, ris_type, back):
    tags = ris.to_ris(Record(rtype))
    assert tags[0] == ("TY", ris_type)
    assert ris.record_from_tags(tags).type == back


def test_dump_layout():
    rec = Record("article", {"title": "Tor", "journaltitle": "Zeit", "date": "2017-06-26",
                             "entrysubtype": "newspaper", "pages": "3--4"},
                 {"author": [Name("Lohse", "Eckart")]}, key="lohse2017tor")
    assert ris.dump([rec, Record("misc", {"title": "Zwei"})]) == (
        "TY  - NEWS\nID  - lohse2017tor\nAU  - Lohse, Eckart\nTI  - Tor\nT2  - Zeit\n"
        "PY  - 2017\nDA  - 2017/06/26/\nSP  - 3\nEP  - 4\nER  - \n\n"
        "TY  - GEN\nTI  - Zwei\nER  - \n\n")


def test_legacy_bibtex_fields_are_exported():
    rec = Record("article", {"journal": "Osteuropa", "year": "2016", "month": "aug",
                             "address": "Berlin"},
                 {"author": [Name("Meier", "Jan"), Name("others", literal=True)]})
    back = ris.parse(ris.dump([rec]))[0]
    assert back.fields == {"journaltitle": "Osteuropa", "date": "2016-08",
                           "location": "Berlin"}
    assert back.names == {"author": [Name("Meier", "Jan")]}


def test_continuation_line_that_looks_like_a_tag_survives():
    rec = Record("misc", {"abstract": "Zeile eins\nAU  - keine Autorin\n\nER  - auch nicht"})
    assert ris.parse(ris.dump([rec])) == [rec]


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
                    "series": "Werke", "volumes": "2"},
           {"author": [Name("Goethe", "Johann Wolfgang", prefix="von")],
            "editor": [Name("Müller", "Änne", suffix="Jr.")],
            "translator": [Name("Homer")]}, key="goethe1808faust"),
    Record("article", {"title": "Twinning", "journaltitle": "Journal of Urban History",
                       "shortjournal": "J. Urban Hist.", "volume": "44", "number": "3",
                       "pages": "512--530", "doi": "10.1177/0096144217692987",
                       "issn": "0096-1442", "date": "2017/2018", "langid": "american",
                       "note": "Peer reviewed."},
           {"author": [Name("Smith", "John"), Name("Berg", "Piet", prefix="van der")]}),
    Record("incollection", {"title": "Praxis", "booktitle": "Handbuch", "date": "2019~",
                            "pages": "101--120", "publisher": "Springer VS"},
           {"author": [Name("Lohse", "Eckart")], "editor": [Name("Schmidt", "Karl")]}),
    Record("misc", {"title": "Laufende Reihe", "date": "1988/"}),
]


@pytest.mark.parametrize("record", HAND_MADE, ids=lambda r: r.type)
def test_hand_made_round_trip(record):
    assert ris.parse(ris.dump([record])) == [record]


_word = st.text(LETTERS + "0123456789-.'&", min_size=1, max_size=8).filter(
    lambda w: w.strip("-.'&") == w or len(w) > 1)
_phrase = phrases(_word)
_names = name_lists(_phrase)
_day, _model_date, _date_text = DAY, MODEL_DATE, date_text
# Types RIS has a twin for, with the container field their T2 becomes.
_RIS_TYPES = [("article", "", "journaltitle"), ("article", "newspaper", "journaltitle"),
              ("article", "magazine", "journaltitle"), ("online", "", "journaltitle"),
              ("online", "blog", "journaltitle"), ("report", "", None), ("book", "", None),
              ("collection", "", None), ("incollection", "", "booktitle"),
              ("inreference", "", "booktitle"), ("inproceedings", "", "booktitle"),
              ("thesis", "", None), ("booklet", "", None), ("standard", "", None),
              ("misc", "", "journaltitle"), ("periodical", "", "journaltitle"),
              ("unpublished", "", "journaltitle"), ("patent", "", "journaltitle"),
              ("legislation", "", "journaltitle"), ("jurisdiction", "", "journaltitle"),
              ("software", "", "journaltitle"), ("dataset", "", "journaltitle")]
_ROLE = {"report": "institution", "thesis": "institution", "standard": "organization"}
_OPTIONAL = {
    "shortjournal": _phrase, "series": _phrase, "urldate": st.builds(
        _date_text, _day, st.just(10)),
    "volume": st.integers(1, 999).map(str), "number": st.integers(1, 99).map(str),
    "pages": st.one_of(st.integers(1, 999).map(str),
                       st.builds(lambda a, b: f"{a}--{a + b}", st.integers(1, 500),
                                 st.integers(1, 50)), st.just("xii--xv")),
    "edition": st.integers(1, 9).map(str), "location": _phrase,
    "volumes": st.integers(2, 9).map(str),
    "isbn": st.sampled_from(["978-3-16-148410-0", "3-540-12345-X", "9785020384123"]),
    "issn": st.sampled_from(["0096-1442", "1552-677X"]),
    "doi": st.builds(lambda s: f"10.1234/{s}", st.text("abc123.-", min_size=1)),
    "url": st.builds(lambda s: f"https://example.org/{s}", st.text("abc123_-", max_size=9)),
    "langid": st.sampled_from(["ngerman", "english", "american", "british", "russian",
                               "french", "ukrainian", "polish"]),
    "type": _phrase, "note": st.lists(_phrase, min_size=1, max_size=3).map("\n".join),
    "abstract": st.lists(_phrase, min_size=1, max_size=3).map("\n\n".join),
    "keywords": st.lists(_phrase, min_size=1, max_size=4).map(", ".join),
}


@st.composite
def ris_records(draw):
    rtype, subtype, container = draw(st.sampled_from(_RIS_TYPES))
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
    for name in draw(st.sets(st.sampled_from(sorted(_OPTIONAL)))):
        if name == "shortjournal" and container != "journaltitle":
            continue
        fields[name] = draw(_OPTIONAL[name])
    names = {role: draw(_names) for role in draw(st.sets(st.sampled_from(
        ["author", "editor", "translator"])))}
    key = draw(st.one_of(st.none(), st.from_regex(r"[A-Za-z][A-Za-z0-9_:.\-]{0,15}",
                                                  fullmatch=True)))
    return Record(rtype, fields, names, key)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ris_records(), min_size=1, max_size=3))
def test_round_trip_of_everything_ris_holds(records):
    assert ris.parse(ris.dump(records)) == records


# --- real files ---------------------------------------------------------------------

@pytest.mark.skipif(not (REALBIBS / "biblatex-examples.bib").exists(),
                    reason="../shared/realbibs not present")
def test_biblatex_examples_survive_export_and_import():
    blocks, _ = bibfile.parse((REALBIBS / "biblatex-examples.bib").read_text("utf-8"))
    records = [bibfile.block_record(b) for b in blocks if b.kind == "entry"]
    back = ris.parse(ris.dump(records))
    assert len(back) == len(records) > 50
    for orig, new in zip(records, back):
        f = dates.modern_fields(orig.fields)
        assert new.key == dates.clean_key(orig.key)  # "baez/article" is not a key here
        title = dates.join_title(new.get("title"), new.get("subtitle"))
        assert title == " ".join(dates.join_title(f.get("title", ""), f.get(
            "subtitle", ""), f.get("titleaddon", "")).split())
        authors = [n for n in orig.names.get("author", []) if n.family != "others"]
        assert [n.family for n in new.names.get("author", [])] == [
            " ".join(n.family.split()) for n in authors]
        if dates.parse_model_date(f.get("date", "")):
            assert new.fields["date"] == f["date"]
