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
