"""`clippings add URL/DOI/ISBN`: fetched from real local servers, written with a snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clippings.errors import ConflictError
from clippings.library import Library

from helpers import run
from servers import TestServer, redirect, send

PAGES = Path(__file__).parent / "fixtures" / "pages"


def _settings(library: Path, server: TestServer) -> None:
    (library.parent / "clippings.toml").write_text(
        f'crossref_url = "{server.url("/crossref")}"\n'
        f'openlibrary_url = "{server.url("/ol")}"\ntimeout = 5\n', encoding="utf-8")


def test_add_url_writes_entry_and_snapshot(library):
    body = (PAGES / "de_news_jsonld.html").read_bytes()
    with TestServer() as server:
        server.route("/artikel", send(200, body))
        server.route("/kurz", redirect(server.url("/artikel"), 301))
        result = run("add", server.url("/kurz"), "--json", "--tag", "presse", library=library)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    entry = data["entry"]
    assert entry["title"] == "Stadtrat beschließt neues Radwegenetz"
    assert entry["type"] == "article" and entry["journaltitle"] == "Musterstädter Anzeiger"
    assert "Muster, Anna" in entry["author"] and "dpa" not in entry["author"]
    assert entry["keywords"] == "presse"
    snap = Path(data["snapshot"])
    assert (snap / "page.html").read_bytes() == body
    meta = json.loads((snap / "meta.json").read_text())
    assert meta["status"] == 200 and meta["redirects"][0][1] == 301
    assert meta["final_url"].endswith("/artikel")
    assert "Radwegenetz" in (snap / "text.txt").read_text()
    shown = json.loads(run("show", data["key"], "--json", library=library).output)
    assert shown["snapshot"]["path"] == str(snap)
    assert run("lint", library=library).exit_code in (0, 1)


def test_russian_cp1251_page_decodes(library):
    body = (PAGES / "ru_cp1251.html").read_bytes()
    with TestServer() as server:
        server.route("/ru", send(200, body, "text/html"))
        result = run("add", server.url("/ru"), "--json", library=library)
    assert result.exit_code == 0, result.output
    entry = json.loads(result.output)["entry"]
    assert any("\u0400" <= c <= "\u04ff" for c in entry["title"])
    assert entry.get("langid") == "russian"


def test_hostile_page_becomes_plain_data(library):
    body = (PAGES / "hostile.html").read_bytes()
    with TestServer() as server:
        server.route("/evil", send(200, body))
        result = run("add", server.url("/evil"), "--json", library=library)
    assert result.exit_code == 0, result.output
    key = json.loads(result.output)["key"]
    rec = Library.load(library).record(key)
    assert "\\input{/etc/passwd}" in rec.fields["title"]
    assert "\\input{" not in library.read_text().replace("\\textbackslash{}input", "")


def test_duplicate_url_refused_with_exit_1(library):
    body = (PAGES / "opengraph_only.html").read_bytes()
    with TestServer() as server:
        server.route("/a", send(200, body))
        assert run("add", server.url("/a"), library=library).exit_code == 0
        before = library.read_bytes()
        again = run("add", server.url("/a"), library=library)
    assert again.exit_code == 1 and "likely duplicate" in again.stderr
    assert library.read_bytes() == before


def test_network_failures_exit_3_missing_page_1_bad_input_2(library):
    before = library.read_bytes()
    with TestServer() as server:
        server.route("/gone", send(404, b"not here"))
        server.route("/bin", send(200, b"\x00\x01" * 100, "application/octet-stream"))
        missing = run("add", server.url("/gone"), library=library)
        binary = run("add", server.url("/bin"), library=library)
        refused = run("add", "http://127.0.0.1:9/", library=library)
    assert missing.exit_code == 1 and "not found (HTTP 404)" in missing.stderr
    assert binary.exit_code == 2
    assert refused.exit_code == 3
    assert run("add", "not a source", library=library).exit_code == 2
    assert run("add", "ftp://example.org/x", library=library).exit_code == 2
    assert library.read_bytes() == before


def test_doi_and_isbn_from_local_stand_ins(library):
    crossref = {"status": "ok", "message": {
        "DOI": "10.1234/abc", "type": "journal-article", "title": ["Twinning Towns"],
        "author": [{"family": "Smith", "given": "Jane"}],
        "container-title": ["Journal of Urban Studies"],
        "issued": {"date-parts": [[2018, 5]]}}}
    ol = {"ISBN:9783161484100": {"title": "Zwischen Annäherung und Distanz",
                                 "authors": [{"name": "Gabriele Gorzka"}],
                                 "publish_date": "2018",
                                 "publishers": [{"name": "Kassel University Press"}]}}
    with TestServer() as server:
        server.route("/crossref/works/10.1234/abc",
                     send(200, json.dumps(crossref).encode(), "application/json"))
        server.route("/ol/api/books", send(200, json.dumps(ol).encode(), "application/json"))
        _settings(library, server)
        doi = run("add", "10.1234/abc", "--json", library=library)
        isbn = run("add", "978-3-16-148410-0", "--json", library=library)
    assert doi.exit_code == 0, doi.output
    assert json.loads(doi.output)["entry"]["title"] == "Twinning Towns"
    assert json.loads(doi.output)["entry"]["doi"] == "10.1234/abc"
    assert isbn.exit_code == 0, isbn.output
    entry = json.loads(isbn.output)["entry"]
    assert entry["title"] == "Zwischen Annäherung und Distanz"
    assert entry["author"].startswith("Gorzka")


def test_fetch_fills_empty_fields_and_keeps_what_a_person_set(library):
    body = (PAGES / "de_news_jsonld.html").read_bytes()
    with TestServer() as server:
        server.route("/artikel", send(200, body))
        server.route("/weg", send(404, b"nope"))
        url = server.url("/artikel")
        assert run("add", "--no-fetch", "--key", "mine", "--set", f"url={url}",
                   "--set", "title=Mein eigener Titel", library=library).exit_code == 0
        assert run("add", "--no-fetch", "--key", "gone", "--set",
                   f"url={server.url('/weg')}", "--set", "title=Weg", library=library
                   ).exit_code == 0
        result = run("fetch", "--json", library=library)
        assert result.exit_code == 1          # one page is gone; the other was still done
        data = {r["key"]: r for r in json.loads(result.output)}
        assert "404" in data["gone"]["error"]
        assert "title" not in data["mine"]["changed"]
        assert {"author", "journaltitle", "date"} <= set(data["mine"]["changed"])
        assert data["mine"]["snapshot"]
        rec = Library.load(library).record("mine")
        assert rec.fields["title"] == "Mein eigener Titel"
        assert rec.fields["journaltitle"] == "Musterstädter Anzeiger"
        assert rec.fields["urldate"]
        # Complete now, with a snapshot: a plain fetch leaves it alone ...
        again = json.loads(run("fetch", "mine", "--json", library=library).output)
        assert again[0]["changed"] == {} and again[0]["snapshot"] is None
        # ... and only --refresh --overwrite replaces what a person set.
        assert run("fetch", "--overwrite", library=library).exit_code == 2
        assert run("fetch", "mine", "--refresh", "--overwrite", library=library
                   ).exit_code == 0
    assert Library.load(library).record("mine").fields["title"] == \
        "Stadtrat beschließt neues Radwegenetz"


def test_add_several_sources_goes_on_after_a_failure(library):
    with TestServer() as server:
        server.route("/a", send(200, (PAGES / "opengraph_only.html").read_bytes()))
        server.route("/b", send(500, b"oops"))
        result = run("add", server.url("/b"), server.url("/a"), library=library)
    assert result.exit_code == 1   # a server error is an answer: the source's problem
    assert len(Library.load(library)) == 1
    assert "/b" in result.stderr


def test_pdf_served_by_url_and_local_file(library, tmp_path):
    from test_extract_sources import make_pdf
    pdf = make_pdf("Handreichung für Akteure internationaler Städtepartnerschaften",
                   {"Title": "Städtepartnerschaften entwickeln, leben, ausbauen",
                    "Author": "Auslandsgesellschaft Deutschland e.V.",
                    "CreationDate": "D:20161104120000"})
    with TestServer() as server:
        server.route("/handreichung.pdf", send(200, pdf, "application/pdf"))
        result = run("add", server.url("/handreichung.pdf"), "--json", library=library)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["entry"]["title"].startswith("Städtepartnerschaften entwickeln")
    assert data["entry"]["date"].startswith("2016")
    # the report's biblatex field `type` does not hide the entry's type and key
    assert (data["entry"]["type"], data["entry"]["key"]) == ("report", data["key"])
    assert data["entry"]["field:type"] in ("Report", "Bericht")
    assert (Path(data["snapshot"]) / "document.pdf").read_bytes() == pdf
    assert "Handreichung" in (Path(data["snapshot"]) / "text.txt").read_text()
    local = tmp_path / "lokal.pdf"
    local.write_bytes(pdf)
    forced = run("add", str(local), "--force", "--json", library=library)
    assert forced.exit_code == 0, forced.output
    assert "url" not in json.loads(forced.output)["entry"]


def test_slow_server_times_out_with_exit_3(library):
    (library.parent / "clippings.toml").write_text("timeout = 1\n", encoding="utf-8")
    from servers import slow
    with TestServer() as server:
        server.route("/slow", slow(4, send(200, b"<html><title>spaet</title></html>")))
        result = run("add", server.url("/slow"), library=library)
    assert result.exit_code == 3
    assert "clippings: error:" in result.stderr and "Traceback" not in result.output


def test_latin1_german_page_without_declared_charset(library):
    body = ("<html><head><title>Grüße aus Düsseldorf | Städtepartner</title></head><body>"
            "<article><h1>Grüße aus Düsseldorf</h1><p>Von Jürgen Weiß</p>"
            + "<p>Die Städtepartnerschaft mit Moskau feiert ein Jubiläum. " * 20
            + "</p></article></body></html>").encode("latin-1")
    with TestServer() as server:
        server.route("/gruss", send(200, body, "text/html"))
        result = run("add", server.url("/gruss"), "--json", library=library)
    assert result.exit_code == 0, result.output
    entry = json.loads(result.output)["entry"]
    assert entry["title"] == "Grüße aus Düsseldorf"
    assert "Weiß" in entry.get("author", "")


def test_hostile_servers_give_one_clear_error(library):
    from servers import gzip_bomb, huge, reset, trickle
    (library.parent / "clippings.toml").write_text("timeout = 2\nmax_download_mb = 1\n",
                                                    encoding="utf-8")
    before = library.read_bytes()
    with TestServer() as server:
        server.route("/loop", redirect("/loop2", 301))
        server.route("/loop2", redirect("/loop", 301))
        server.route("/huge", huge(5 * 1024 * 1024, declare_length=False))
        server.route("/bomb", gzip_bomb(50 * 1024 * 1024))
        server.route("/endless", trickle(0.05, limit=30))
        server.route("/reset", reset())
        # The server answered (a loop, too much) -> the source's problem, exit 1;
        # no full answer came (a deadline, a reset) -> the network's, exit 3.
        for path, code in (("/loop", 1), ("/huge", 1), ("/bomb", 1), ("/endless", 3),
                           ("/reset", 3)):
            result = run("add", server.url(path), library=library)
            assert result.exit_code == code, (path, result.output)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("clippings: error:"), lines
    assert library.read_bytes() == before


ERROR_ANSWERS = {   # path -> (behaviour, what stderr says)
    "/error": (send(500, b"oops"), "server error (HTTP 500)"),
    "/busy": (send(503, b"later", "text/plain", {"Retry-After": "0"}),
              "busy (HTTP 503); try again later"),
    "/limit": (send(429, b"slow down", "text/plain", {"Retry-After": "0"}),
               "busy (HTTP 429); try again later"),
    "/loop": (redirect("/loop", 302), "redirect loop"),
}


@pytest.mark.parametrize("path", sorted(ERROR_ANSWERS))
def test_a_servers_error_answer_exits_1_not_3(library, path):
    """cli.md: exit 3 only when no answer came; 500, 503, 429 (after the client's
    retries) and a redirect loop are answers, so a problem with the source."""
    behaviour, says = ERROR_ANSWERS[path]
    (library.parent / "clippings.toml").write_text("timeout = 5\n", encoding="utf-8")
    before = library.read_bytes()
    with TestServer() as server:
        server.route(path, behaviour)
        result = run("add", server.url(path), library=library)
        hits = server.hits[path]
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("clippings: error:"), lines
    assert says in lines[0]
    assert library.read_bytes() == before
    if path in ("/busy", "/limit"):
        assert hits == 3   # retried twice before the answer counted


def test_fetch_of_an_erroring_page_exits_1_and_of_no_answer_3(library):
    (library.parent / "clippings.toml").write_text("timeout = 5\n", encoding="utf-8")
    with TestServer() as server:
        server.route("/error", send(500, b"oops"))
        server.route("/loop", redirect("/loop", 302))
        for key, url in (("err", server.url("/error")), ("loop", server.url("/loop"))):
            assert run("add", "--no-fetch", "--key", key, "--set", f"url={url}",
                       "--set", "title=T", library=library).exit_code == 0
        answered = run("fetch", "err", "loop", "--json", library=library)
    assert answered.exit_code == 1, answered.output
    errors = {r["key"]: r["error"] for r in json.loads(answered.output)}
    assert "HTTP 500" in errors["err"] and "redirect loop" in errors["loop"]
    assert run("add", "--no-fetch", "--key", "down", "--set", "url=http://127.0.0.1:9/",
               "--set", "title=T", library=library).exit_code == 0
    assert run("fetch", "down", library=library).exit_code == 3   # refused: no answer


@pytest.mark.parametrize("source,route,behaviour", [
    ("10.1234/abc", "/crossref/works/10.1234/abc", send(500, b"oops")),
    ("10.1234/abc", "/crossref/works/10.1234/abc", send(200, b"<html>", "application/json")),
    ("10.1234/abc", "/crossref/works/10.1234/abc", redirect("/crossref/works/10.1234/abc")),
    ("978-3-16-148410-0", "/ol/api/books",
     send(503, b"", "text/plain", {"Retry-After": "0"})),
])
def test_lookup_service_error_answers_exit_1(library, source, route, behaviour):
    with TestServer() as server:
        server.route(route, behaviour)
        _settings(library, server)
        result = run("add", source, library=library)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("clippings: error:"), lines


def test_unreachable_lookup_service_exits_3(library):
    (library.parent / "clippings.toml").write_text(
        'crossref_url = "http://127.0.0.1:9/"\ntimeout = 5\n', encoding="utf-8")
    assert run("add", "10.1234/abc", library=library).exit_code == 3


SOURCES = {   # fixture page -> what a reader of that page would cite
    "byline_only.html": ("online", "Warum der Feldhamster verschwindet", "2020-03-03",
                         "Krüger, Lena and Wendt, Tobias", "Natur im Blick", "ngerman"),
    "dublincore.html": ("online", "Jahresbericht Lawinenwarndienst 2019/20", "2020-09-30",
                        "Lawinenwarndienst Tirol", "Land Tirol", "ngerman"),
    "highwire_report.html": ("report", "Groundwater Nitrate Trends 2000-2020", "2022-05-17",
                             "Schmidt, Karin and Olsen, Per", "Institute Repository",
                             "english"),
    "microdata.html": ("article", "Ferry service resumes after storm", "2019-12-02",
                       "O'Neill, Mary and Baker, Tom", "The Harbour Times", "english"),
    "opengraph_only.html": ("online", "Wie Bienen überwintern", "2021-11-14", None,
                            "Der Gartenblog", "ngerman"),
    "ru_cp1251.html": ("online", "Новый мост через Волгу откроют весной", "2021-01-05",
                       "Петров, Иван and Сидорова, Мария", "Городские вести", "russian"),
}


@pytest.mark.parametrize("page", sorted(SOURCES))
def test_each_metadata_source_through_add_and_show(library, page):
    kind, title, date, author, journal, langid = SOURCES[page]
    body = (PAGES / page).read_bytes()
    content_type = "text/html" if page == "ru_cp1251.html" else "text/html; charset=utf-8"
    with TestServer() as server:
        server.route("/seite", send(200, body, content_type))
        added = run("add", server.url("/seite"), library=library)
    assert added.exit_code == 0, added.output
    key = added.output.strip()
    shown = json.loads(run("show", key, "--json", library=library).output)
    assert (shown["type"], shown["title"], shown["date"]) == (kind, title, date)
    assert shown.get("author") == author
    assert shown["journaltitle"] == journal and shown["langid"] == langid
    snap = Path(shown["snapshot"]["path"])
    assert (snap / "page.html").read_bytes() == body
    assert json.loads((snap / "meta.json").read_text())["sha256"] == \
        __import__("hashlib").sha256(body).hexdigest()


def test_several_sources_are_fetched_concurrently_but_politely(library):
    (library.parent / "clippings.toml").write_text("concurrency = 8\nper_host = 2\n",
                                                    encoding="utf-8")
    from servers import slow
    pages = ["de_news_jsonld.html", "opengraph_only.html", "byline_only.html",
             "microdata.html", "dublincore.html", "highwire_report.html"]
    with TestServer() as server:
        urls = []
        for i, page in enumerate(pages):
            server.route(f"/p{i}", slow(0.3, send(200, (PAGES / page).read_bytes())))
            urls.append(server.url(f"/p{i}"))
        result = run("add", *urls, library=library)
    assert result.exit_code == 0, result.output
    assert len(result.output.split()) == len(pages)
    assert server.max_active == 2   # concurrent, but never more than per_host at one host


def _long_word_page(word: str) -> bytes:
    return (f"<html><head><title>{word}</title></head><body><h1>{word}</h1>"
            "<p>Text.</p></body></html>").encode()


def test_a_title_word_longer_than_a_file_name_still_gets_a_key_and_snapshot(library):
    with TestServer() as server:
        server.route("/long.html", send(200, _long_word_page("Y" * 300), "text/html"))
        result = run("add", server.url("/long.html"), "--json", library=library)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["key"] == "y" * 32
    assert (Path(data["snapshot"]) / "page.html").is_file()


def test_a_snapshot_that_cannot_be_written_leaves_the_library_as_it_was(library):
    (library.parent / "snapshots" / "taken").write_text("not a folder", encoding="utf-8")
    before = library.read_bytes()
    body = (PAGES / "de_news_jsonld.html").read_bytes()
    with TestServer() as server:
        server.route("/artikel", send(200, body))
        result = run("add", server.url("/artikel"), "--key", "taken", library=library)
        assert result.exit_code == 1
        assert result.stderr.startswith("clippings: error: the snapshot of taken could "
                                        "not be saved")
        assert "entry was not saved either" in result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
        assert library.read_bytes() == before
        assert (library.parent / "snapshots" / "taken").read_text() == "not a folder"
        # in a batch the others are saved, each with its snapshot
        server.route("/other", send(200, _long_word_page("Zweiter Artikel")))
        (library.parent / "snapshots" / "stadtrat").write_text("", encoding="utf-8")
        (library.parent / "clippings.toml").write_text('key_pattern = "{title}"\n')
        result = run("add", server.url("/artikel"), server.url("/other"), library=library)
    assert result.exit_code == 1
    assert "the snapshot of stadtrat could not be saved" in result.stderr
    assert Library.load(library).keys() == ["artikel"]
    assert (library.parent / "snapshots" / "artikel" / "page.html").is_file()


def test_a_library_that_cannot_be_saved_keeps_no_snapshot_of_the_entry(library,
                                                                       monkeypatch):
    def disk_full(self, _locked=False):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Library, "save", disk_full)
    before = library.read_bytes()
    body = (PAGES / "de_news_jsonld.html").read_bytes()
    with TestServer() as server:
        server.route("/artikel", send(200, body))
        result = run("add", server.url("/artikel"), "--key", "neu", library=library)
    assert result.exit_code == 1 and "No space left" in result.stderr
    assert library.read_bytes() == before
    assert list((library.parent / "snapshots").iterdir()) == []


def _kept_snapshot(library, server) -> tuple[Path, dict]:
    """An entry added with its snapshot, then removed with `rm --keep-snapshot`:
    (its snapshot folder, the folder's files and their bytes)."""
    server.route("/erst", send(200, _long_word_page("Stadtratssitzung in Kaluga"),
                               "text/html"))
    key = json.loads(run("add", server.url("/erst"), "--json", library=library).stdout)["key"]
    assert run("rm", key, "--keep-snapshot", library=library).exit_code == 0
    folder = library.parent / "snapshots" / key
    return folder, {p.name: p.read_bytes() for p in folder.iterdir()}


def test_a_failed_add_gives_a_kept_snapshot_back(library, monkeypatch):
    """A snapshot `rm --keep-snapshot` left under the key is set aside while the add
    runs and comes back, untouched, when the entry cannot be saved."""
    with TestServer() as server:
        folder, files = _kept_snapshot(library, server)
        before = library.read_bytes()
        def disk_full(self, _locked=False):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(Library, "save", disk_full)
        server.route("/zweit", send(200, (PAGES / "de_news_jsonld.html").read_bytes()))
        result = run("add", server.url("/zweit"), "--key", folder.name, library=library)
    assert result.exit_code == 1 and "No space left" in result.stderr
    assert library.read_bytes() == before
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]   # nothing set aside


def test_a_generated_key_never_takes_a_kept_snapshots_folder(library):
    """Another page whose key would be the kept folder's gets the next key: the kept page
    is not overwritten by a page it has nothing to do with."""
    with TestServer() as server:
        folder, files = _kept_snapshot(library, server)
        server.route("/anders", send(200, _long_word_page("Stadtratssitzung in Kaluga"),
                                     "text/html"))
        added = json.loads(run("add", server.url("/anders"), "--json",
                               library=library).stdout)["key"]
    assert added == folder.name + "a"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files
    assert (library.parent / "snapshots" / added / "page.html").is_file()


def test_an_entry_saved_despite_an_error_keeps_its_snapshot(library, monkeypatch):
    """An error raised once library.bib was replaced (another program wrote to the old
    file during the save: its version is kept beside) leaves the entry saved, so its
    snapshot stays with it."""
    import clippings.library as library_module

    def raced(old, path, before):
        raise ConflictError(f"{path} was changed by another program during the save")

    monkeypatch.setattr(library_module, "_look_again", raced)
    with TestServer() as server:
        server.route("/artikel", send(200, (PAGES / "de_news_jsonld.html").read_bytes()))
        result = run("add", server.url("/artikel"), "--key", "neu", library=library)
    assert result.exit_code == 1 and "changed by another program" in result.stderr
    assert Library.load(library).keys() == ["neu"]
    assert (library.parent / "snapshots" / "neu" / "page.html").is_file()
