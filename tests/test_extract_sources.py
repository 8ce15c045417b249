"""PDFs, Crossref and Open Library answers, language and URL helpers."""

from __future__ import annotations

import pytest

from clippings.errors import UsageError
from clippings.extract import crossref, language, openlibrary, pdf, urls
from clippings.extract import html as html_extract
from clippings.dedupe import normalize_doi, normalize_isbn
from clippings.model import Name


def make_pdf(text: str, info: dict[str, str]) -> bytes:
    """A one-page PDF with `text` on it and an info dictionary, built by hand."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    info_entries = " ".join(f"/{k} ({v})" for k, v in info.items())
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< {info_entries} >>".encode("latin-1"),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def test_pdf_report_metadata_and_text():
    raw = make_pdf("Der Bericht ist fertig und die Ergebnisse sind gut und wichtig für die Stadt.",
                   {"Title": "Jahresbericht Wasserqualitaet 2021", "Author": "Karin Schmidt",
                    "CreationDate": "D:20220317120000+01'00'"})
    result = pdf.extract(raw, "https://example.de/bericht.pdf")
    rec = result.record
    assert rec.type == "report"
    assert rec.get("title") == "Jahresbericht Wasserqualitaet 2021"
    assert rec.names["author"] == [Name(family="Schmidt", given="Karin")]
    assert rec.get("date") == "2022-03-17"
    assert "Ergebnisse sind gut" in result.text
    assert rec.get("langid") == "ngerman"


def test_pdf_handbook_is_a_manual_and_login_names_are_not_authors():
    raw = make_pdf("Kapitel eins", {"Title": "Handbuch Notfallplanung", "Author": "jdoe"})
    rec = pdf.extract(raw).record
    assert rec.type == "manual" and "author" not in rec.names


def test_pdf_is_recognised_by_the_html_entry_point():
    raw = make_pdf("Text", {"Title": "Leitfaden Barrierefreiheit"})
    assert html_extract.extract(raw, "https://example.de/x").record.type == "manual"


def test_broken_pdf_is_a_usage_error():
    with pytest.raises(UsageError):
        pdf.extract(b"%PDF-1.4\nnot really a pdf")


CROSSREF = {"status": "ok", "message": {
    "DOI": "10.1000/XYZ123", "type": "journal-article",
    "title": ["Nitrate in <i>Groundwater</i>"], "subtitle": ["A Review"],
    "container-title": ["Journal of Water"], "volume": "12", "issue": "3", "page": "45-67",
    "publisher": "Water Press", "URL": "https://doi.org/10.1000/xyz123",
    "author": [{"given": "Karin", "family": "Schmidt"}, {"name": "Water Research Group"}],
    "published-print": {"date-parts": [[2020, 5, 4]]},
    "issued": {"date-parts": [[2020]]}, "language": "en"}}


def test_crossref_answer_maps_to_article():
    rec = crossref.to_record(CROSSREF)
    assert rec.type == "article"
    assert rec.fields["title"] == "Nitrate in Groundwater"
    assert rec.fields["subtitle"] == "A Review"
    assert rec.fields["journaltitle"] == "Journal of Water"
    assert rec.fields["pages"] == "45--67"
    assert rec.fields["number"] == "3"
    assert rec.fields["date"] == "2020-05-04"
    assert rec.fields["doi"] == "10.1000/xyz123"
    assert rec.fields["langid"] == "english"
    assert rec.names["author"] == [Name(family="Schmidt", given="Karin"),
                                   Name(family="Water Research Group", literal=True)]


def test_crossref_year_only_and_chapter():
    rec = crossref.to_record({"type": "book-chapter", "title": ["Ch"], "container-title": ["Book"],
                              "issued": {"date-parts": [[2011]]}})
    assert (rec.type, rec.fields["date"], rec.fields["booktitle"]) == ("incollection", "2011",
                                                                        "Book")


def test_crossref_article_number_becomes_eid():
    rec = crossref.to_record({"type": "journal-article", "title": ["Twinning"],
                              "container-title": ["Scientific Reports"], "volume": "9",
                              "article-number": "12345", "issued": {"date-parts": [[2019]]}})
    assert rec.fields["eid"] == "12345" and rec.fields["volume"] == "9"
    assert "pages" not in rec.fields


def test_crossref_chapter_keeps_series_and_book():
    rec = crossref.to_record({
        "type": "proceedings-article", "title": ["Fast Suffix Arrays"], "volume": "9233",
        "container-title": ["Lecture Notes in Computer Science", "Euro-Par 2015"],
        "issued": {"date-parts": [[2015]]}})
    assert rec.fields["series"] == "Lecture Notes in Computer Science"
    assert rec.fields["booktitle"] == "Euro-Par 2015"
    assert rec.fields["number"] == "9233" and "volume" not in rec.fields


def test_crossref_book_container_is_its_series():
    rec = crossref.to_record({"type": "monograph", "title": ["Städtepartnerschaften"],
                              "container-title": ["Studien zur Kommunalpolitik"],
                              "issued": {"date-parts": [[2016]]}})
    assert rec.type == "book" and rec.fields["series"] == "Studien zur Kommunalpolitik"
    alone = crossref.to_record({"type": "book-chapter", "title": ["Ch"],
                                "container-title": ["Lecture Notes in Physics"]})
    assert alone.fields["series"] == "Lecture Notes in Physics" and "booktitle" not in alone.fields


@pytest.mark.parametrize("value, doi", [("https://doi.org/10.1000/ABC.1", "10.1000/abc.1"),
                                        ("doi:10.1000/abc.1.", "10.1000/abc.1"),
                                        ("no doi here", None)])
def test_normalise_doi(value, doi):
    assert normalize_doi(value) == doi


OPENLIBRARY = {"ISBN:9783161484100": {
    "title": "Die Stadt am Fluss", "subtitle": "Eine Geschichte",
    "authors": [{"name": "Karl Müller"}, {"name": "Deutscher Alpenverein"}],
    "publishers": [{"name": "Beispielverlag"}], "publish_places": [{"name": "München"}],
    "publish_date": "März 2015", "number_of_pages": 312,
    "url": "https://openlibrary.org/books/OL1M/Die_Stadt_am_Fluss"}}


def test_openlibrary_answer_maps_to_book():
    rec = openlibrary.to_record(OPENLIBRARY, "9783161484100")
    assert rec.type == "book"
    assert rec.fields["title"] == "Die Stadt am Fluss"
    assert rec.fields["publisher"] == "Beispielverlag"
    assert rec.fields["location"] == "München"
    assert rec.fields["date"] == "2015-03"
    assert rec.fields["pagetotal"] == "312"
    assert rec.names["author"][0] == Name(family="Müller", given="Karl")
    assert rec.names["author"][1].literal


def test_openlibrary_unknown_book():
    assert openlibrary.to_record({}, "9783161484100") is None


@pytest.mark.parametrize("value, isbn", [("978-3-16-148410-0", "9783161484100"),
                                         ("ISBN 3-16-148410-X", "9783161484100"),
                                         ("978-3-16-148410-1", None), ("12345", None)])
def test_normalise_isbn(value, isbn):
    assert normalize_isbn(value) == isbn


@pytest.mark.parametrize("code, babel", [("de-DE", "ngerman"), ("de_AT", "ngerman"),
                                         ("ru", "russian"), ("en-US", "american"),
                                         ("en", "english"), ("xx", None), ("", None)])
def test_language_codes(code, babel):
    assert language.from_code(code) == babel


def test_language_detection():
    assert language.detect("Der Hund und die Katze sind nicht mit dem Auto auf der Straße") == \
        "ngerman"
    assert language.detect("Собака и кошка не были на улице, но они уже дома, это так") == "russian"
    assert language.detect("short") is None


def test_tracking_parameters_removed():
    url = "https://x.de/a?id=5&utm_source=tw&utm_medium=s&fbclid=abc#top"
    assert urls.strip_tracking(url) == "https://x.de/a?id=5"


def test_canonical_ignores_home_page_canonicals():
    assert urls.canonical("https://x.de/a/b.html", ["https://x.de/"]) == "https://x.de/a/b.html"
    assert urls.canonical("https://x.de/a/b.html", ["/a/c.html"]) == "https://x.de/a/c.html"
