"""`clippings add` on pages without metadata: what a reader sees becomes the entry.

Each fixture in tests/fixtures/pages is a small hand-written page (our own text) served
by a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path

from clippings.library import Library

from helpers import run
from servers import TestServer, send

PAGES = Path(__file__).parent / "fixtures" / "pages"


def _add(library: Path, fixture: str, path: str = "/artikel", *args: str):
    with TestServer() as server:
        server.route(path, send(200, (PAGES / fixture).read_bytes(), "text/html; charset=utf-8"))
        return run("add", server.url(path), *args, library=library)


def test_untitled_page_is_refused_with_a_hint_and_nothing_saved(library):
    before = library.read_bytes()
    result = _add(library, "untitled.html")
    assert result.exit_code == 1
    assert "no title could be read" in result.stderr and "--set title=" in result.stderr
    assert "nothing was saved" in result.stderr
    assert library.read_bytes() == before
    assert not any((library.parent / "snapshots").glob("*/page.html"))


def test_untitled_page_is_saved_with_its_snapshot_when_the_user_gives_a_title(library):
    result = _add(library, "untitled.html", "/artikel", "--set", "title=Gastfamilien gesucht",
                  "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["entry"]["title"] == "Gastfamilien gesucht"
    assert (Path(data["snapshot"]) / "page.html").read_bytes() == \
        (PAGES / "untitled.html").read_bytes()
    assert "Gastfamilien" in (Path(data["snapshot"]) / "text.txt").read_text()
    assert "saved with the title you gave and with its snapshot" in result.stderr
    assert Library.load(library).record(data["key"]).fields["title"] == "Gastfamilien gesucht"


def test_visible_headline_beats_a_title_tag_naming_the_site_and_end_byline_is_read(library):
    result = _add(library, "headline_not_title.html", "/lokales/besuch", "--json")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["entry"]
    assert entry["title"] == "Brückenbauer aus Wolgograd besuchen die Partnerstadt"
    assert entry["author"] == "Mustermann, Jens"
    assert entry["journaltitle"] == "Rheinischer Bote"       # from the logo in the header
    assert entry["date"] == "2016-05-14"


def test_page_with_only_a_bold_headline_is_added(library):
    result = _add(library, "bold_headline.html", "/aktuelles/sommerfest", "--json")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["entry"]
    assert entry["title"] == "Sommerfest mit Gästen aus Twer"
    assert entry["author"] == "Beispiel, Anna"


def test_name_in_parentheses_closing_the_article_is_its_author(library):
    result = _add(library, "end_byline_paren.html", "/kreis/buslinie", "--json")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["entry"]
    assert entry["author"] == "Beispielfrau, Marie"
    assert entry["journaltitle"] == "Kreisblatt"


def test_doi_record_keeps_article_number_and_series(library):
    from test_adding import _settings
    article = {"status": "ok", "message": {
        "DOI": "10.1234/eid.5", "type": "journal-article", "title": ["Partnerstädte im Vergleich"],
        "author": [{"family": "Beispiel", "given": "Lena"}], "container-title": ["Urban Studies"],
        "volume": "7", "article-number": "e0412", "issued": {"date-parts": [[2021, 3, 2]]}}}
    chapter = {"status": "ok", "message": {
        "DOI": "10.1234/lncs.9", "type": "proceedings-article", "title": ["Städte im Netz"],
        "author": [{"family": "Muster", "given": "Jan"}], "volume": "9233",
        "container-title": ["Lecture Notes in Computer Science", "Euro-Par 2015"],
        "issued": {"date-parts": [[2015]]}}}
    with TestServer() as server:
        for doi, answer in (("10.1234/eid.5", article), ("10.1234/lncs.9", chapter)):
            server.route(f"/crossref/works/{doi}",
                         send(200, json.dumps(answer).encode(), "application/json"))
        _settings(library, server)
        first = run("add", "10.1234/eid.5", "--json", library=library)
        second = run("add", "https://doi.org/10.1234/lncs.9", "--json", library=library)
    assert first.exit_code == 0, first.output
    entry = json.loads(first.stdout)["entry"]
    assert entry["eid"] == "e0412" and entry["journaltitle"] == "Urban Studies"
    assert second.exit_code == 0, second.output
    entry = json.loads(second.stdout)["entry"]
    assert entry["series"] == "Lecture Notes in Computer Science"
    assert entry["booktitle"] == "Euro-Par 2015" and entry["number"] == "9233"
    text = library.read_text(encoding="utf-8")
    assert "eid" in text and "series" in text


def test_a_missing_page_on_fetch_is_the_sources_problem(library):
    with TestServer() as server:
        server.route("/weg", send(404, b"nope"))
        assert run("add", "--no-fetch", "--key", "weg", "--set", f"url={server.url('/weg')}",
                   "--set", "title=Weg", library=library).exit_code == 0
        result = run("fetch", "weg", library=library)
    assert result.exit_code == 1 and "not found (HTTP 404)" in result.stderr
