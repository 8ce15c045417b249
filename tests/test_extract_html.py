"""The HTML chain on hand-written pages: one per metadata source, encodings, hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest

from clippings.extract import html
from clippings.model import Name

PAGES = Path(__file__).parent / "fixtures" / "pages"


def run(name: str, url: str = "https://example.de/artikel/seite.html", **kw):
    return html.extract((PAGES / name).read_bytes(), url, **kw)


def authors(result) -> list[str]:
    return [str(n) for n in result.record.names.get("author", [])]


def test_german_news_article_with_jsonld():
    result = run("de_news_jsonld.html")
    rec = result.record
    assert (rec.type, rec.get("entrysubtype")) == ("article", "newspaper")
    # The displayed headline, its kicker as subtitle; not <title> with the site suffix.
    assert rec.get("title") == "Stadtrat beschließt neues Radwegenetz"
    assert rec.get("subtitle") == "Verkehrswende"
    assert rec.get("journaltitle") == "Musterstädter Anzeiger"
    # Persons in "Family, Given" form with the particle kept; dpa is not a person.
    assert rec.names["author"] == [Name(family="Muster", given="Anna"),
                                   Name(family="Beispiel", given="Jan-Peter", prefix="von")]
    # 23:30 UTC is already the 1st of March in Germany; the sidebar's old date is ignored.
    assert rec.get("date") == "2023-03-01"
    assert rec.get("url") == "https://www.anzeiger.example.de/lokales/radwege-beschlossen-12345.html"
    assert rec.get("langid") == "ngerman"
    assert rec.get("abstract").startswith("Nach zweijähriger Debatte")
    assert result.sources["author"] == "jsonld"
    assert "Radwegenetz für die" in result.text and "Meistgelesen" not in result.text


def test_opengraph_only_page():
    rec = run("opengraph_only.html").record
    assert rec.get("title") == "Wie Bienen überwintern"
    assert rec.get("journaltitle") == "Der Gartenblog"
    assert rec.get("date") == "2021-11-14"
    # fbclid is tracking; the page parameter is part of the address.
    assert rec.get("url") == "https://gartenblog.example.org/2021/11/bienen-im-winter/?page=2"
    assert rec.get("langid") == "ngerman"
    assert "author" not in rec.names


def test_highwire_report():
    result = run("highwire_report.html")
    rec = result.record
    assert rec.type == "report"
    assert rec.get("title") == "Groundwater Nitrate Trends 2000-2020"
    assert authors(result) == ["Schmidt, Karin", "Olsen, Per"]
    assert rec.get("date") == "2022-05-17"
    assert rec.get("doi") == "10.5555/wr.2022.07"
    assert rec.get("institution") == "Institute for Water Research"
    assert rec.get("number") == "WR-2022-07"
    assert rec.get("langid") == "english"


def test_russian_page_in_windows_1251():
    result = run("ru_cp1251.html")
    rec = result.record
    assert rec.get("title") == "Новый мост через Волгу откроют весной"
    assert rec.get("journaltitle") == "Городские вести"
    assert authors(result) == ["Петров, Иван", "Сидорова, Мария"]
    assert rec.get("date") == "2021-01-05"
    assert rec.get("langid") == "russian"


def test_russian_page_decoded_from_header_charset_too():
    raw = (PAGES / "ru_cp1251.html").read_bytes().replace(b"charset=windows-1251", b"")
    rec = html.extract(raw, "https://example.ru/a", content_type="text/html; charset=cp1251").record
    assert rec.get("title") == "Новый мост через Волгу откроют весной"


def test_byline_only_page():
    result = run("byline_only.html")
    rec = result.record
    assert rec.type == "online"
    assert rec.get("title") == "Warum der Feldhamster verschwindet"
    assert rec.get("journaltitle") == "Natur im Blick"
    # Academic titles are not part of the name; "und" joins two authors.
    assert authors(result) == ["Krüger, Lena", "Wendt, Tobias"]
    # The labelled publication date, not the footer's comment date.
    assert rec.get("date") == "2020-03-03"
    assert rec.get("langid") == "ngerman"   # no lang attribute: detected from the words


def test_dublin_core_document():
    result = run("dublincore.html")
    rec = result.record
    assert rec.get("date") == "2020-09-30"   # issued, not modified
    assert rec.get("doi") == "10.5555/lwd.2020"
    assert rec.names["author"] == [Name(family="Lawinenwarndienst Tirol", literal=True)]
    assert rec.get("langid") == "ngerman"


def test_microdata_article():
    result = run("microdata.html")
    rec = result.record
    assert rec.get("title") == "Ferry service resumes after storm"
    assert rec.get("journaltitle") == "The Harbour Times"
    assert authors(result) == ["O'Neill, Mary", "Baker, Tom"]
    assert rec.get("date") == "2019-12-02"
    assert rec.get("entrysubtype") == "newspaper"


def test_hostile_markup_is_kept_as_plain_data():
    result = run("hostile.html")
    rec = result.record
    assert rec.get("title") == r"Evil {title} \input{/etc/passwd} 100% <script>alert(1)</script>"
    assert "date" not in rec.fields          # "not-a-date" / "yesterday" are not dates
    assert "author" not in rec.names


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02binary\xff", "   ", "<html",
                                     b"<html><head><title>x</title>" * 2000])
def test_garbage_never_raises(content):
    result = html.extract(content, "https://example.de/x")
    assert result.record.type in ("online", "article")


def test_url_date_beats_a_reindexed_meta_date():
    page = ("<html lang=de><head><meta property='article:published_time' "
            "content='2021-06-30T10:00:00+02:00'><title>T</title></head><body><h1>T</h1>"
            "<p class='date'>12.03.2017</p></body></html>")
    rec = html.extract(page, "https://blog.example.de/2017/03/12/t/").record
    assert rec.get("date") == "2017-03-12"


def test_visible_date_beats_disagreeing_metadata():
    page = ("<html lang=de><head><meta name='DCTERMS.date' content='2022-01-21T09:43+01:00'>"
            "<title>T</title></head><body><article><h1>T</h1>"
            "<time datetime='2022-01-25T08:00:00+01:00'>25.01.2022</time></article></body></html>")
    assert html.extract(page, "https://example.de/t").record.get("date") == "2022-01-25"


def test_without_text_extraction():
    result = run("de_news_jsonld.html", with_text=False)
    assert result.text == "" and result.record.get("title")


def test_given_text_is_kept():
    assert run("opengraph_only.html", text="saved text").text == "saved text"
