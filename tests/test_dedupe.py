"""Tests for clippings.dedupe: URL/DOI/ISBN/title normalisation and duplicate finding."""


import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from clippings.dedupe import (DuplicateIndex, find_duplicate_groups, has_tracking,
                              normalize_doi, normalize_isbn, normalize_title, normalize_url,
                              strip_tracking)
from clippings.model import Name, Record

MDZ = "http://mdz-moskau.eu/stadtepartner-nahkastchen/"


@pytest.mark.parametrize("a, b", [
    ("http://example.com/page", "https://example.com/page"),
    ("HTTP://EXAMPLE.COM/page", "http://example.com/page"),
    ("http://www.example.com/page", "http://example.com/page"),
    ("http://example.com:80/page", "http://example.com/page"),
    ("https://example.com:443/page", "https://example.com/page"),
    ("http://example.com/page/", "http://example.com/page"),
    ("http://example.com/", "http://example.com"),
    ("http://example.com/page#section-2", "http://example.com/page"),
    ("http://example.com/page?b=2&a=1", "http://example.com/page?a=1&b=2"),
    ("http://example.com/%7Euser", "http://example.com/~user"),
    ("http://example.com/a%2fb", "http://example.com/a%2Fb"),
    ("http://example.com/städte", "http://example.com/st%C3%A4dte"),
    ("http://example.com/st%c3%a4dte", "http://example.com/st%C3%A4dte"),
    ("http://example.com/a/./b/../c", "http://example.com/a/c"),
    ("http://bücher.de/", "http://xn--bcher-kva.de/"),
    ("http://example.com./x", "http://example.com/x"),
    ("  http://example.com/x  ", "http://example.com/x"),
    ("www.example.com/x", "http://example.com/x"),
    (MDZ + "?utm_source=newsletter&utm_medium=email&utm_campaign=x", MDZ),
    ("https://de.rbth.com/articles/2011/05/02/geschenk_der_versoehnung_06620?fbclid=IwAR0x",
     "https://de.rbth.com/articles/2011/05/02/geschenk_der_versoehnung_06620"),
    ("https://example.com/a?id=5&gclid=abc&_ga=2.1&mc_cid=1&mc_eid=2",
     "https://example.com/a?id=5"),
    ("https://example.com/a?UTM_SOURCE=x&id=5", "https://example.com/a?id=5"),
])
def test_same_url(a, b):
    assert normalize_url(a) == normalize_url(b)


@pytest.mark.parametrize("a, b", [
    ("http://example.com/page", "http://example.com/other"),
    ("http://example.com/Page", "http://example.com/page"),      # paths are case-sensitive
    ("http://example.com/a?id=1", "http://example.com/a?id=2"),
    ("http://example.com/a?id=1", "http://example.com/a"),
    ("http://example.com:8080/a", "http://example.com/a"),
    ("http://example.com/a%2Fb", "http://example.com/a/b"),      # %2F is not a separator
    ("http://blog.example.com/a", "http://example.com/a"),
    ("http://example.com/#!/one", "http://example.com/#!/two"),  # hash-bang routes count
    ("https://de.russiabeyond.com/politik/2017/06/26/x_788620",
     "https://de.rbth.com/politik/2017/06/26/x_788620"),
])
def test_different_url(a, b):
    assert normalize_url(a) != normalize_url(b)


def test_normalize_url_shape():
    assert normalize_url("HTTP://WWW.Example.COM:80/a/?b=2&a=1&utm_source=x#top") == \
        "https://example.com/a?a=1&b=2"


def test_normalize_url_not_a_url():
    assert normalize_url("  not a url ") == "not a url"
    assert normalize_url("http://[::1") == "http://[::1"


URLS = st.builds(
    lambda scheme, www, host, port, path, query, frag: (
        f"{scheme}://{www}{host}{port}{path}{query}{frag}"),
    st.sampled_from(["http", "https", "HTTP", "Https"]),
    st.sampled_from(["", "www.", "WWW.", "www.www."]),
    st.sampled_from(["example.com", "Example.ORG", "de.rbth.com", "bücher.de", "a.b.c.de"]),
    st.sampled_from(["", ":80", ":443", ":8080"]),
    st.lists(st.text(alphabet="aZ09-._~%/äé?+", max_size=6), max_size=4).map(
        lambda segs: "".join("/" + s for s in segs)),
    st.lists(st.tuples(st.sampled_from(["a", "B", "utm_source", "fbclid", "id", "q%20x"]),
                       st.text(alphabet="ab1%=+é", max_size=4)), max_size=4).map(
        lambda pairs: ("?" + "&".join(f"{k}={v}" for k, v in pairs)) if pairs else ""),
    st.sampled_from(["", "#top", "#!/route", "#"]),
)


@given(URLS)
def test_normalize_url_is_idempotent(url):
    once = normalize_url(url)
    assert normalize_url(once) == once


@given(URLS)
def test_normalize_url_ignores_scheme_case_www_and_tracking(url):
    assume(":80" not in url and ":443" not in url)   # a port's meaning depends on the scheme
    variant = strip_tracking(url).replace("https://", "http://", 1)
    assert normalize_url(variant) == normalize_url(url)


@given(st.sampled_from(["http://", "https://", "HTTP://www.", "//", ""]),
       st.text(alphabet="aw.:/?#&=%[]@!2Fx~ä\u00a0 ", max_size=30) | st.text(max_size=30))
def test_normalize_url_is_idempotent_on_odd_input(prefix, rest):
    once = normalize_url(prefix + rest)
    assert normalize_url(once) == once
    stripped = strip_tracking(prefix + rest)
    assert strip_tracking(stripped) == stripped


@pytest.mark.parametrize("url, expected", [
    (MDZ + "?utm_source=a&utm_medium=b", MDZ),
    (MDZ + "?utm_source=a&id=7&utm_medium=b", MDZ + "?id=7"),
    (MDZ + "?id=7&fbclid=x#comments", MDZ + "?id=7#comments"),
    ("HTTP://WWW.Example.com/A/?B=2&a=1", "HTTP://WWW.Example.com/A/?B=2&a=1"),
    ("https://x.de/a?ref_src=twsrc&igshid=1&yclid=2&dclid=3&msclkid=4", "https://x.de/a"),
    ("https://x.de/a?pk_campaign=x&mtm_source=y&xtor=RSS-1", "https://x.de/a"),
    ("https://x.de/a#utm_source=feed&utm_medium=rss", "https://x.de/a"),
    ("https://x.de/a#section", "https://x.de/a#section"),
    ("https://x.de/a?ref=main", "https://x.de/a?ref=main"),       # "ref" can be real
    ("https://x.de/a?utm=1", "https://x.de/a?utm=1"),
])
def test_strip_tracking(url, expected):
    assert strip_tracking(url) == expected
    assert has_tracking(url) is (url != expected)


@given(URLS)
def test_strip_tracking_is_idempotent_and_keeps_the_page(url):
    stripped = strip_tracking(url)
    assert strip_tracking(stripped) == stripped
    assert not has_tracking(stripped)
    assert normalize_url(stripped) == normalize_url(url)


@pytest.mark.parametrize("text, expected", [
    ("10.1000/182", "10.1000/182"),
    ("doi:10.1000/182", "10.1000/182"),
    ("DOI: 10.1000/ABC.def", "10.1000/abc.def"),
    ("https://doi.org/10.1000/182", "10.1000/182"),
    ("http://dx.doi.org/10.1000/182", "10.1000/182"),
    ("HTTPS://DOI.ORG/10.1000/XYZ", "10.1000/xyz"),
    ("doi.org/10.1000/182", "10.1000/182"),
    ("https://doi.org/10.1002%2F%28SICI%291097", "10.1002/(sici)1097"),
    ("  10.1000/182\n", "10.1000/182"),
    ("10.1000", None),
    ("11.1000/182", None),
    ("10.12/182", None),
    ("https://example.com/10.1000/182", None),
    ("", None),
])
def test_normalize_doi(text, expected):
    assert normalize_doi(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("978-3-16-148410-0", "9783161484100"),
    ("9783161484100", "9783161484100"),
    ("ISBN 978-3-16-148410-0", "9783161484100"),
    ("ISBN-13: 978 3 16 148410 0", "9783161484100"),
    ("3-16-148410-X", "9783161484100"),       # ISBN-10 becomes ISBN-13
    ("316148410x", "9783161484100"),
    ("0-306-40615-2", "9780306406157"),
    ("ISBN-10: 0306406152", "9780306406157"),
    ("979-10-90636-07-1", "9791090636071"),
    ("978-3-16-148410-1", None),              # wrong check digit
    ("0-306-40615-3", None),
    ("3-16-148410", None),
    ("977-3-16-148410-0", None),
    ("not an isbn", None),
    ("", None),
])
def test_normalize_isbn(text, expected):
    assert normalize_isbn(text) == expected


@pytest.mark.parametrize("a, b", [
    ("Städtepartnerschaften entwickeln", "Staedtepartnerschaften entwickeln"),
    ("Dossier: Deutsch-russische Städtepartnerschaften",
     "DOSSIER – deutsch russische Städte­partnerschaften"),
    ("Geschenk der Versöhnung", "Geschenk der Versoehnung."),
    ("Café  Crème", "cafe creme"),
    ("Грани успеха", "Grani uspecha"),
    ("Straße", "STRASSE"),
])
def test_same_title(a, b):
    assert normalize_title(a) == normalize_title(b)


@pytest.mark.parametrize("a, b", [
    ("Geschenk der Versöhnung", "Geschenk der Versuchung"),
    ("Partnerschaften 2011", "Partnerschaften 2012"),
])
def test_different_title(a, b):
    assert normalize_title(a) != normalize_title(b)


def rec(title="", date="", url="", authors=(), **fields):
    f = {k: v for k, v in {"title": title, "date": date, "url": url, **fields}.items() if v}
    names = {"author": [Name(a) for a in authors]} if authors else {}
    return Record("online", f, names)


LOHSE = rec("Dossier: Deutsch-russische Städtepartnerschaften", "2017-06-26",
            "https://de.russiabeyond.com/politik/2017/06/26/"
            "dossier-deutsch-russische-stadtepartnerschaften_788620", ["Lohse"])
MDZ_REC = rec("Aus dem Städtepartner-Nähkästchen", "2017-07", MDZ)
ROTERS = rec("Städtepartnerschaften für den Frieden", "2016-06", authors=["Roters"])
BOOK = rec("Zwischen Annäherung und Distanz", "2018", authors=["Gorzka"],
           isbn="978-3-16-148410-0")
ARTICLE = rec("A study of twinned towns", "2015", doi="10.1000/Twin.1", authors=["Smith"])


@pytest.fixture
def index():
    return DuplicateIndex([("lohse2017dossier", LOHSE), ("mdz2017", MDZ_REC),
                           ("roters2016", ROTERS), ("gorzka2018", BOOK),
                           ("smith2015", ARTICLE)])


@pytest.mark.parametrize("record, expected", [
    (rec("Anything", url=MDZ + "?utm_source=x"), [("mdz2017", "same URL")]),
    (rec("Anything", url="https://www.mdz-moskau.eu/stadtepartner-nahkastchen"),
     [("mdz2017", "same URL")]),
    (rec("Other", doi="https://doi.org/10.1000/TWIN.1"), [("smith2015", "same DOI")]),
    (rec("Other", url="https://doi.org/10.1000/twin.1"), [("smith2015", "same DOI")]),
    (rec("Other", isbn="3-16-148410-X"), [("gorzka2018", "same ISBN")]),
    (rec("Other", isbn="0-306-40615-2, 978-3-16-148410-0"), [("gorzka2018", "same ISBN")]),
    (rec("Staedtepartnerschaften fuer den Frieden", "2016"),
     [("roters2016", "same title, year 2016")]),
    (rec("Städtepartnerschaften für den Frieden", "2017", authors=["Roters"]),
     [("roters2016", "same title, year 2017 vs 2016")]),
    (rec("Städtepartnerschaften für den Frieden"), [("roters2016", "same title")]),
    (rec("Städtepartnerschaften für den Frieden", "2018"), []),          # two years apart
    (rec("Städtepartnerschaften für den Frieden", "2016", authors=["Maier"]), []),
    (rec("A study of twinned towns", "2015", doi="10.1000/other"), []),  # DOIs differ
    (rec("Something else entirely", "2016"), []),
])
def test_find(index, record, expected):
    assert index.find(record) == expected


def test_find_reports_every_reason_for_one_key(index):
    again = rec("Dossier: Deutsch-russische Städtepartnerschaften", "2017",
                LOHSE.fields["url"].replace("https://", "http://"))
    assert index.find(again) == [("lohse2017dossier", "same URL; same title, year 2017")]


def test_find_orders_strong_signals_first(index):
    record = rec("Städtepartnerschaften für den Frieden", "2016", MDZ)
    assert [k for k, _ in index.find(record)] == ["mdz2017", "roters2016"]


def test_short_titles_never_match_on_title_alone():
    index = DuplicateIndex([("a", rec("Dossier", "2017")), ("b", rec("Editorial", "2017")),
                            ("c", rec("Das Ende", "2017"))])
    assert index.find(rec("Dossier", "2017")) == []
    assert index.find(rec("Editorial", "2017")) == []
    assert index.find(rec("Das Ende", "2017")) == []        # two words but under 10 letters
    assert index.find(rec("Dossier", "2017", MDZ)) == []    # nothing shared


SPREMBERG = "Spremberg schlägt Brücke nach Russland"


@pytest.mark.parametrize("separator", [": ", " – ", " — ", " - ", ". "])
def test_subtitle_written_into_the_title_is_left_out_for_a_match(separator):
    with_subtitle = rec(SPREMBERG + separator + "Partnerschaft mit Kaluga", "2016-04-29",
                        authors=["Steglich"])
    without = rec(SPREMBERG, "2016-04-29", authors=["Steglich"])
    assert DuplicateIndex([("long", with_subtitle)]).find(without) == \
        [("long", "same title, year 2016")]
    assert DuplicateIndex([("short", without)]).find(with_subtitle) == \
        [("short", "same title, year 2016")]
    groups = find_duplicate_groups([("long", with_subtitle), ("short", without)])
    assert [g.keys for g in groups] == [["long", "short"]]


def test_a_subtitle_field_and_one_written_into_the_title_match():
    split = Record("article", {"title": SPREMBERG, "subtitle": "Partnerschaft mit Kaluga",
                               "date": "2016"})
    assert DuplicateIndex([("a", split)]).find(rec(SPREMBERG + ": Die Vorgeschichte",
                                                   "2016")) == [("a", "same title, year 2016")]


@pytest.mark.parametrize("title, other", [
    ("Interview: Matthias Platzeck", "Interview"),                  # a rubric, one word
    ("Neue Studie: Städtepartnerschaften", "Neue Studie"),         # two words
    ("Die Woche in Moskau: Schnee", "Die Woche in Moskau: Hitze"),  # both cut off
    ("Das 3. Jahrhundert der Partnerschaft", "Das 3"),             # an ordinal, no separator
    ("Dr. Müller über Kaluga und Spremberg", "Dr"),
])
def test_rubrics_and_shared_main_titles_are_not_duplicates(title, other):
    a, b = rec(title, "2016", authors=["Steglich"]), rec(other, "2016", authors=["Steglich"])
    assert DuplicateIndex([("a", a)]).find(b) == []
    assert DuplicateIndex([("b", b)]).find(a) == []
    assert find_duplicate_groups([("a", a), ("b", b)]) == []


def test_add_refuses_and_lint_finds_a_title_without_its_subtitle(tmp_path):
    from helpers import run
    library = tmp_path / "library.bib"
    library.write_text("", encoding="utf-8")
    common = ("add", "--no-fetch", "--type", "article", "--set", "author=Steglich, Jens",
              "--set", "date=2016-04-29", "--set", "journaltitle=Lausitzer Rundschau")
    first = run(*common, "--set", f"title={SPREMBERG}: Partnerschaft mit Kaluga",
                library=library)
    assert first.exit_code == 0, first.output
    again = run(*common, "--set", f"title={SPREMBERG}", library=library)
    assert again.exit_code == 1 and "steglich2016spremberg " in again.stderr
    assert run(*common, "--force", "--set", f"title={SPREMBERG}", library=library) \
        .exit_code == 0
    lint = run("lint", library=library)
    assert "steglich2016spremberga: likely duplicate of 'steglich2016spremberg'" in lint.output


def test_an_index_stored_before_main_titles_were_cut_is_recomputed(tmp_path):
    import json
    import sqlite3
    from helpers import run
    library = tmp_path / "library.bib"
    library.write_text("", encoding="utf-8")
    common = ("add", "--no-fetch", "--set", "author=Steglich, Jens", "--set", "date=2016")
    assert run(*common, "--set", f"title={SPREMBERG}: Partnerschaft mit Kaluga",
               library=library).exit_code == 0
    # What the previous version stored: schema 3, seven signals, no cut-off main title.
    db = sqlite3.connect(tmp_path / "index" / "duplicates.sqlite")
    with db:
        db.execute("UPDATE meta SET value = '3' WHERE name = 'schema'")
        for folded, signals in db.execute("SELECT folded, signals FROM entry").fetchall():
            db.execute("UPDATE entry SET signals = ? WHERE folded = ?",
                       (json.dumps(json.loads(signals)[:7]), folded))
        db.execute("DELETE FROM signal WHERE value = ?", (normalize_title(SPREMBERG),))
    db.close()
    again = run(*common, "--set", f"title={SPREMBERG}", library=library)
    assert again.exit_code == 1 and "likely duplicate" in again.stderr


def test_chapters_share_their_books_isbn_without_being_duplicates():
    isbn = "978-3-16-148410-0"
    book = Record("collection", {"title": "Städtepartnerschaften in Europa", "isbn": isbn})
    chapter = Record("incollection", {"title": "Kassel und Jaroslawl", "isbn": isbn})
    other = Record("incollection", {"title": "Erlangen und Wladimir", "isbn": isbn})
    index = DuplicateIndex([("book", book), ("chapter", chapter)])
    assert index.find(other) == []
    assert index.find(Record("book", {"title": "x", "isbn": isbn})) == [("book", "same ISBN")]
    assert index.find(Record("inbook", {"title": "Kassel und Jaroslawl", "isbn": isbn})) \
        == [("chapter", "same ISBN; same title")]


def test_archiveurl_is_not_a_signal():
    wayback = "https://web.archive.org/web/2017/" + MDZ
    index = DuplicateIndex([("a", rec("Eins", archiveurl=wayback))])
    assert index.find(rec("Zwei", archiveurl=wayback)) == []


def test_exclude_key_and_remove(index):
    assert index.find(MDZ_REC, exclude_key="MDZ2017") == []
    assert index.find(MDZ_REC) == [("mdz2017", "same URL; same title, year 2017")]
    index.remove("mdz2017")
    assert index.find(MDZ_REC) == []
    index.remove("no-such-key")
    assert len(index) == 4


def test_add_replaces_a_key(index):
    index.add("mdz2017", rec("Ganz anderer Titel hier", url="https://other.example/"))
    assert index.find(MDZ_REC) == []
    assert index.find(rec("x", url="https://other.example")) == [("mdz2017", "same URL")]


def test_find_duplicate_groups():
    pairs = [
        ("lohse2017", LOHSE),
        ("mdz2017", MDZ_REC),
        ("lohse2017a", rec("Dossier", url=LOHSE.fields["url"] + "?utm_source=tg")),
        ("roters2016", ROTERS),
        ("mdz2017b", rec("Städtepartner-Nähkästchen", url=MDZ.replace("http:", "https:"))),
        ("other", rec("Michendorfer Entspannungspolitik", "2015")),
        ("roters2016b", rec("Staedtepartnerschaften fuer den Frieden", "2016")),
    ]
    groups = find_duplicate_groups(pairs)
    assert [g.keys for g in groups] == [["lohse2017", "lohse2017a"], ["mdz2017", "mdz2017b"],
                                        ["roters2016", "roters2016b"]]
    assert groups[0].reasons == [("lohse2017", "lohse2017a", "same URL")]
    assert groups[2].reasons == [("roters2016", "roters2016b", "same title, year 2016")]


def test_find_duplicate_groups_joins_chains():
    pairs = [("a", rec("Eins", url="https://x.de/1")),
             ("b", rec("Zwei", url="https://x.de/1", doi="10.1000/2")),
             ("c", rec("Drei", doi="doi:10.1000/2"))]
    groups = find_duplicate_groups(pairs)
    assert [g.keys for g in groups] == [["a", "b", "c"]]


def test_no_groups_in_a_clean_library():
    assert find_duplicate_groups([("lohse", LOHSE), ("mdz", MDZ_REC), ("roters", ROTERS)]) == []


def test_index_of_50000_records_finds_the_right_one():
    pairs = [(f"k{i}", rec(f"Artikel Nummer {i} über Städte", str(1900 + i % 120),
                           f"https://example.com/artikel/{i}")) for i in range(50_000)]
    index = DuplicateIndex(pairs)
    assert index.find(rec("Neu", url="http://www.example.com/artikel/31337/")) == \
        [("k31337", "same URL")]
    year = 1900 + 4711 % 120
    assert index.find(rec("Artikel Nummer 4711 ueber Staedte", str(year + 1))) == \
        [("k4711", f"same title, year {year + 1} vs {year}")]


from helpers import real_records  # noqa: E402  (shared loader of ../shared/realbibs)


def test_real_bib_records_are_found_again_and_groups_are_consistent():
    pairs = real_records()
    index = DuplicateIndex(pairs)
    with_identifier = 0
    for key, record in pairs:
        hits = dict(index.find(record))
        assert all(reason for reason in hits.values())
        assert key not in dict(index.find(record, exclude_key=key))
        # A record with a URL, DOI or ISBN is found again by it.
        if (record.get("url") or normalize_doi(record.get("doi"))
                or normalize_isbn(record.get("isbn"))):
            with_identifier += 1
            assert key in hits
    assert with_identifier >= 10
    for group in find_duplicate_groups(pairs):
        assert len(group.keys) == len(set(group.keys)) >= 2
        linked = {k for a, b, _ in group.reasons for k in (a, b)}
        assert linked == set(group.keys)


def test_cut_off_main_titles_add_no_pairs_in_real_files(monkeypatch):
    """Real titles with ": " or ". " in them (Nietzsche, Wilde, Averroës, Baez ...) are
    not made duplicates of anything by their main title alone."""
    from clippings import dedupe
    pairs = real_records()
    flagged = {(a, b) for g in find_duplicate_groups(pairs) for a, b, _ in g.reasons}
    monkeypatch.setattr(dedupe, "_cut_main_titles", lambda title: set())
    assert flagged == {(a, b) for g in find_duplicate_groups(pairs) for a, b, _ in g.reasons}
    assert sum(bool(dedupe._SUBTITLE_SEPARATOR.search(r.get("title"))) for _, r in pairs) >= 10
