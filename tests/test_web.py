"""The web interface through its ASGI app: pages, JSON, editing, adding, citing, and the
attacks it must refuse. Network fetches go to real servers on 127.0.0.1."""

from __future__ import annotations

import json
import re
import threading
from html import unescape

import pytest
from click.testing import CliRunner

from clippings.cli import main
from servers import redirect, send
from webhelpers import PASSWORD, csrf_of, login, make_client, make_library

KEY = "lohse2017dossier"


@pytest.fixture
def bib(tmp_path):
    return make_library(tmp_path)


@pytest.fixture
def client(bib):
    with make_client(bib) as c:
        yield c


@pytest.fixture
def editor(bib):
    with make_client(bib) as c:
        assert login(c).status_code == 303
        yield c


def entry_text(bib, key=KEY) -> str:
    text = bib.read_text(encoding="utf-8")
    start = text.index("{" + key + ",")
    return text[start:text.index("\n}", start)]


# -- reading ----------------------------------------------------------------------------

def test_search_page_shows_hits_count_and_highlighted_snippet(client):
    page = client.get("/", params={"q": "Wolgograd"})
    assert page.status_code == 200
    found = client.get("/.json", params={"q": "Wolgograd"}).json()
    assert found["total"] > 0
    assert f"{min(20, found['total'])} von {found['total']}" in page.text
    assert "<mark>" in page.text
    assert found["hits"][0]["key"] in page.text


def test_search_page_marks_the_title_words_the_query_matched(client):
    page = client.get("/", params={"q": "Brücke"}).text
    assert '<a href="/entry/spremberg2016schlaegt">Spremberg schlägt <mark>Brücke</mark> ' \
        'nach Russland</a>' in page
    found = client.get("/.json", params={"q": "Brücke"}).json()
    assert found["hits"][0]["title"] == "Spremberg schlägt Brücke nach Russland"


def library_with(tmp_path, entry: str):
    """The test library with `entry` (BibTeX) appended."""
    bib = make_library(tmp_path)
    with bib.open("a", encoding="utf-8") as out:
        out.write(entry)
    return bib


def test_a_marked_title_is_escaped_and_keeps_its_own_stars(tmp_path):
    bib = library_with(tmp_path, "\n@article{hostile,\n  title = {<img src=x onerror=alert(1)> "
                       "Kaluga **fett** & 2**10},\n  date = {2020},\n}\n")
    with make_client(bib) as c:
        page = c.get("/", params={"q": "Kaluga onerror"}).text
    assert "<img" not in page
    assert ">&lt;img src=x <mark>onerror</mark>=alert(1)&gt; <mark>Kaluga</mark> **fett** " \
        "&amp; 2**10</a>" in page


def test_search_json_has_the_cli_hit_shape(client, bib):
    hits = client.get("/", params={"q": "Wolgograd"},
                      headers={"Accept": "application/json"}).json()["hits"]
    result = CliRunner().invoke(main, ["--library", str(bib), "search", "Wolgograd",
                                       "--json", "--limit", "0"])
    cli = json.loads(result.output)
    assert [h["key"] for h in hits] == [h["key"] for h in cli]
    assert set(cli[0]) <= set(hits[0])


def test_facets_narrow_combine_and_count(client):
    everything = client.get("/.json").json()
    assert everything["total"] == 17
    types = dict((f["value"], f["count"]) for f in everything["facets"]["type"])
    articles = client.get("/.json", params={"type": "article"}).json()
    assert articles["total"] == types["article"]
    assert {h["type"] for h in articles["hits"]} == {"article"}
    russian = client.get("/.json", params={"type": "article", "lang": "ru"}).json()
    assert russian["total"] < articles["total"]
    # within one facet, values are alternatives
    either = client.get("/.json", params=[("type", "article"), ("type", "book")]).json()
    assert either["total"] == types["article"] + types.get("book", 0)


def test_years_are_offered_once_the_decade_says_nothing(client, bib):
    # the shipped library is all 2010s: years narrow it, the one decade would not
    html = client.get("/").text
    assert '<summary>Jahr</summary>' in html and 'href="/?year=2017"' in html
    assert '<summary>Jahrzehnt</summary>' not in html
    text = bib.read_text(encoding="utf-8")
    bib.write_text(re.sub(r"date(\s*)= \{2011-05-02\}", r"date\1= {1998-05-02}", text),
                   encoding="utf-8")
    html = client.get("/").text
    assert '<summary>Jahrzehnt</summary>' in html and '<summary>Jahr</summary>' not in html
    assert '<span class="fv">1990er</span>' in html     # decades read as words too
    narrowed = client.get("/", params={"decade": "2010s"}).text
    assert '<summary>Jahr</summary>' in narrowed and "year=2017" in narrowed


def test_browsing_without_query_is_newest_first_and_pages(client):
    first = client.get("/.json", params={"per_page": 5}).json()
    second = client.get("/.json", params={"per_page": 5, "page": 2}).json()
    dates = [h["date"] for h in first["hits"] + second["hits"]]
    assert dates == sorted(dates, reverse=True)
    assert not {h["key"] for h in first["hits"]} & {h["key"] for h in second["hits"]}
    keywords = client.get("/browse/keyword.json").json()
    assert {"value": "städtepartnerschaft", "count": 15} in keywords


def test_later_pages_count_their_range_and_link_their_json(client):
    total = client.get("/.json").json()["total"]
    html = client.get("/", params={"per_page": 5, "page": 2}).text
    assert f"6–10 von {total}" in html
    first = client.get("/", params={"q": "Partnerschaft", "type": "article"}).text
    assert re.search(r"<strong>\d+ von \d+</strong>", first)
    # the page's JSON link asks for the same search, not for everything
    link = re.search(r'<a href="([^"]+)">JSON</a>', first).group(1).replace("&amp;", "&")
    assert link == "/.json?q=Partnerschaft&type=article"
    assert client.get(link).json()["filters"] == {"type": ["article"]}


def test_a_page_past_the_end_goes_to_the_last_page(client):
    total = client.get("/.json").json()["total"]
    last = -(-total // 5)
    answer = client.get("/", params={"per_page": 5, "page": 99, "q": ""})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/?per_page=5&q=&page={last}"
    assert f"Seite {last} / {last}" in client.get(answer.headers["location"]).text
    nothing = client.get("/", params={"q": "xyzzyquux", "page": 3})
    assert nothing.status_code == 303 and nothing.headers["location"] == "/?q=xyzzyquux"
    # a program paging on gets an empty page with the total, not a redirect
    data = client.get("/.json", params={"per_page": 5, "page": 99}).json()
    assert data["hits"] == [] and data["total"] == total


def test_every_json_link_answers_json(editor):
    """The footer's JSON link is offered where the page has a JSON answer, and only
    there (forms have none)."""
    for path in ["/", "/?q=Partnerschaft", f"/entry/{KEY}", "/browse/year", "/links",
                 f"/cite?key={KEY}", f"/entry/{KEY}/similar"]:
        link = re.search(r'<a href="([^"]+)">JSON</a>', editor.get(path).text)
        assert link, path
        answer = editor.get(link.group(1).replace("&amp;", "&"))
        assert answer.headers["content-type"].startswith("application/json"), path
    for path in ["/add", f"/entry/{KEY}/edit", f"/entry/{KEY}/remove"]:
        assert ">JSON</a>" not in editor.get(path).text, path


def test_entry_page_and_json(client):
    page = client.get(f"/entry/{KEY}")
    assert page.status_code == 200
    assert "Dossier: Deutsch-russische Städtepartnerschaften" in page.text
    assert "@article{lohse2017dossier" in page.text.replace("&#64;", "@")
    data = client.get(f"/entry/{KEY}.json").json()
    assert data["key"] == KEY and data["author"] == "Lohse, Peggy"


def test_similar_clippings(client):
    similar = client.get(f"/entry/{KEY}/similar.json").json()
    assert similar and KEY not in [h["key"] for h in similar]
    fragment = client.get(f"/entry/{KEY}/similar", headers={"X-Fragment": "1"}).text
    assert "<html" not in fragment and similar[0]["key"] in fragment
    assert 'data-similar="/entry/lohse2017dossier/similar"' in client.get(
        f"/entry/{KEY}").text


def test_form_labels_are_translated_with_the_field_name_beside(editor):
    german = editor.get(f"/entry/{KEY}/edit").text
    assert re.search(r'<label for="f-journaltitle">Zeitung oder Zeitschrift <span '
                     r'class="field-name" aria-hidden="true">journaltitle</span></label>', german)
    assert '<input id="f-journaltitle" name="journaltitle"' in german
    english = editor.get(f"/entry/{KEY}/edit", headers={"Accept-Language": "en"}).text
    assert re.search(r'<label for="f-journaltitle">Newspaper or journal <span', english)
    assert re.search(r'<label for="f-type">Entry type <span', english)
    html = editor.get(f"/entry/{KEY}").text   # the entry page names its fields the same way
    assert "<dt>Zeitung oder Zeitschrift" in html and "<dt>Titel" in html
    assert '<dd>Deutsch <span class="field-name">ngerman</span></dd>' in html


def test_types_statuses_and_languages_read_as_words(client):
    german = client.get("/").text
    assert re.search(r'<span class="fv">Artikel</span>', german)
    assert re.search(r'<span class="fv">Russisch</span>', german)
    assert '<span class="type" title="article">Artikel</span>' in german
    english = client.get("/", headers={"Accept-Language": "en"}).text
    assert '<span class="fv">Periodical issue</span>' in english
    # the address still carries the value itself, so links keep working in any language
    assert 'href="/?type=article"' in english


def test_german_first_english_on_request(client):
    assert 'lang="de"' in client.get("/").text
    english = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9,de;q=0.5"})
    assert 'lang="en"' in english.text and "Search" in english.text
    assert 'lang="de"' in client.get("/", headers={"Accept-Language": "fr, de;q=0.3"}).text


def test_bad_requests_get_error_pages_with_fitting_status(client):
    unknown = client.get("/entry/nosuchkey")
    assert unknown.status_code == 404 and "Traceback" not in unknown.text
    assert "unbekannter Schlüssel &#39;nosuchkey&#39;" in unknown.text
    assert "unknown key &#39;nosuchkey&#39;" in client.get(
        "/entry/nosuchkey", headers={"Accept-Language": "en"}).text
    assert "unbekanntes Download-Format" in client.get(
        "/export", params={"key": KEY, "format": "exe"}).text
    assert client.get("/", params={"q": '"unclosed'}).status_code == 400
    assert client.get("/entry/nosuchkey.json").json()["status"] == 404
    assert client.get("/browse/nonsense").status_code == 404
    assert client.get("/export", params={"key": KEY, "format": "exe"}).status_code == 400


def test_a_broken_library_is_a_clear_error_page_not_a_server_error(client, bib):
    """A merge left conflict markers in library.bib: every page names the line, as the
    command line does, in the page's language and as JSON (it was a 500: the error's
    own `message` string hid the method that picks the page's line)."""
    text = bib.read_text(encoding="utf-8")
    bib.write_text("<<<<<<< HEAD\n" + text + "=======\n>>>>>>> other\n", encoding="utf-8")
    page = client.get(f"/entry/{KEY}")
    assert page.status_code == 400 and "unresolved merge conflict marker" in page.text
    data = client.get(f"/entry/{KEY}.json")
    assert data.status_code == 400 and "unresolved merge conflict marker" in data.json()["error"]


def test_a_users_mistake_is_answered_not_raised_as_a_server_error(bib):
    """Invalid queries, unknown keys, bad formats are handled where they are answered:
    they never reach the server's error log as a stack trace."""
    from starlette.testclient import TestClient
    from clippings.config import load_settings
    from clippings.web.app import create_app
    app = create_app(bib, load_settings(bib.parent))
    with TestClient(app, raise_server_exceptions=True) as c:   # a logged crash would raise
        # said in the page's language (German first); a program's JSON gets English
        answer = c.get("/", params={"q": "title:("})
        assert answer.status_code == 400 and "ohne passende ')'" in unescape(answer.text)
        english = c.get("/", params={"q": "title:("}, headers={"Accept-Language": "en"})
        assert english.status_code == 400
        assert "without a matching ')'" in unescape(english.text)
        data = c.get("/", params={"q": "title:("}, headers={"Accept": "application/json"})
        assert data.status_code == 400 and "without a matching ')'" in data.json()["error"]
        assert c.get("/entry/nosuchkey").status_code == 404
        assert c.get("/export", params={"key": KEY, "format": "exe"}).status_code == 400
        assert c.get("/cite.json", params={"key": "nosuchkey"}).status_code == 404


# -- snapshots: sandboxed, no escape from snapshots/ ---------------------------------

def hostile_snapshot(bib, key=KEY):
    folder = bib.parent / "snapshots" / key
    folder.mkdir(parents=True)
    (folder / "page.html").write_text(
        "<html><body><h1>Artikel</h1><script>parent.document.title='pwned'</script>"
        "</body></html>", encoding="utf-8")
    (folder / "text.txt").write_text("Artikeltext <script>alert(1)</script>", "utf-8")
    (folder / "meta.json").write_text(json.dumps({"requested_url": "https://x.example/a",
                                                  "fetched_at": "2024-01-01T00:00:00"}))


def test_snapshot_is_served_sandboxed_and_its_text_escaped(client, bib):
    hostile_snapshot(bib)
    raw = client.get(f"/snapshot/{KEY}/page.html")
    assert raw.status_code == 200
    assert raw.headers["content-security-policy"].startswith("sandbox")
    page = client.get(f"/entry/{KEY}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert re.search(r'<iframe[^>]*sandbox[^>]*src="/snapshot/', page)
    # provenance in words, with meta.json's own names beside them
    assert re.search(r"<dt>Angefragte Adresse <span[^>]*>requested_url</span></dt>", page)
    english = client.get(f"/entry/{KEY}", headers={"Accept-Language": "en"}).text
    assert "<dt>Fetched on <span" in english
    (bib.parent / "snapshots" / KEY / "meta.json").unlink()   # text only: no empty heading
    page = client.get(f"/entry/{KEY}").text
    assert "Artikeltext" in page and "Herkunft" not in page


def test_a_huge_snapshot_text_is_cut_on_the_entry_page_and_linked(client, bib):
    folder = bib.parent / "snapshots" / KEY
    folder.mkdir(parents=True)
    paragraph = "Ein Absatz über die Partnerschaft der Städte. " * 20 + "\n\n"
    (folder / "text.txt").write_text("ANFANG " + paragraph * 2000 + "ENDE", "utf-8")
    page = client.get(f"/entry/{KEY}").text
    assert len(page) < 100_000 and "ANFANG" in page and "ENDE" not in page
    assert "Hier steht nur der Anfang des Textes." in page
    shown = re.search(r'<div class="snaptext">(.*?)</div>', page, re.S).group(1)
    assert shown.endswith("Städte.")   # cut after a paragraph, not inside a word
    full = client.get(re.search(r'href="(/snapshot/[^"]+/text.txt)"', page).group(1))
    assert full.status_code == 200 and full.text.endswith("ENDE")


def test_the_full_text_link_reaches_a_key_with_a_slash(tmp_path):
    from clippings import snapshots
    key = "DBLP:journals/corr/Roters16"
    bib = library_with(tmp_path, "\n@article{" + key + ",\n  title = {Zwergpinguin},\n"
                       "  date = {2016},\n}\n")
    folder = snapshots.folder(bib.parent, key)
    folder.mkdir(parents=True)
    (folder / "text.txt").write_text("Wort " * 10_000 + "ENDE", "utf-8")
    with make_client(bib) as c:
        page = c.get("/entry/DBLP:journals%2Fcorr%2FRoters16").text
        link = re.search(r'href="(/snapshot/[^"]+/text.txt)"', page).group(1)
        full = c.get(link)
    assert full.status_code == 200 and full.text.endswith("ENDE")


def test_a_configured_style_file_serves_the_cite_page_and_its_downloads(tmp_path):
    """The server's own `style` may be a path to a .csl file: its pages and their links
    (which carry it back) work; a request still cannot name any other path."""
    from clippings.export.csl import SHIPPED_DIR
    bib = make_library(tmp_path)
    style = tmp_path / "team.csl"
    style.write_bytes((SHIPPED_DIR / "din-iso-690.csl").read_bytes())
    (tmp_path / "clippings.toml").write_text(f'style = "{style}"\n', "utf-8")
    with make_client(bib) as c:
        page = c.get("/cite", params={"key": KEY})
        assert page.status_code == 200
        links = [unescape(u) for u in re.findall(r'href="(/export\?[^"]+)"', page.text)]
        assert links and all(c.get(u).status_code == 200 for u in links)
        other = c.get("/cite", params={"key": KEY, "style": str(tmp_path / "other.csl")})
        assert other.status_code == 400


@pytest.mark.parametrize("path", [
    "/snapshot/..%2F..%2Fetc/passwd", "/snapshot/%2E%2E/library.bib",
    f"/snapshot/{KEY}/..%2F..%2Flibrary.bib", f"/snapshot/{KEY}/meta.json",
    "/snapshot/nosuchkey/page.html", "/snapshot/..%5C..%5Clibrary.bib/page.html"])
def test_snapshot_paths_cannot_escape(client, bib, path):
    hostile_snapshot(bib)
    answer = client.get(path)
    assert answer.status_code == 404
    assert "@article" not in answer.text


def test_pages_have_a_csp_without_inline_scripts(client):
    csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert "<script>" not in client.get("/").text


def test_javascript_urls_in_the_library_never_become_links(editor, bib):
    text = bib.read_text(encoding="utf-8")
    bib.write_text(text.replace("@article{lohse2017dossier,",
                                "@article{lohse2017dossier,\n  doi = {javascript:alert(1)},"),
                   encoding="utf-8")
    page = editor.get(f"/entry/{KEY}").text
    assert 'href="javascript' not in page
    assert "javascript:alert(1)" in page   # shown as text


# -- security: who may change what -----------------------------------------------------

def test_read_only_without_login(client, bib):
    before = bib.read_bytes()
    token = csrf_of(client.get("/login").text)
    for path in (f"/entry/{KEY}/edit", f"/entry/{KEY}/remove", f"/entry/{KEY}/rename",
                 f"/entry/{KEY}/keywords", "/add"):
        answer = client.post(path, data={"csrf": token, "new_key": "x", "keywords": "x",
                                         "title": "x", "sources": "https://a.example/"})
        assert answer.status_code in (303, 401) and "/login" in answer.headers.get(
            "location", "/login")
    assert client.post(f"/entry/{KEY}/remove.json", data={"csrf": token}).status_code == 401
    assert bib.read_bytes() == before


def test_a_style_or_locale_never_reads_a_file_of_the_server(client, bib, monkeypatch):
    """The cite and export pages take a style's name, never a path: a path (or a bare
    name of a file in the server's working folder) read that file, and pandoc's error
    quoted it, the accounts file's signing secret with it (audit)."""
    secret = "S3CRET-signing-key-xyz"
    monkeypatch.chdir(bib.parent)
    (bib.parent / "web-users.json").write_text('{"secret": "%s"}' % secret, "utf-8")
    (bib.parent / "LICENSE").write_text(secret, "utf-8")
    for style in ("web-users.json", str(bib.parent / "web-users.json"), "LICENSE",
                  "../" + bib.parent.name + "/web-users.json", "/etc/passwd", "x.csl"):
        for path, extra in (("/cite.json", {}), ("/cite", {}),
                            ("/export", {"format": "html"})):
            answer = client.get(path, params={"key": KEY, "style": style, **extra})
            assert answer.status_code == 400, (style, path)
            assert secret not in answer.text and "root:" not in answer.text, (style, path)
    for locale in ("../../etc/passwd", "de-DE/../x"):
        assert client.get("/cite.json", params={"key": KEY, "locale": locale}
                          ).status_code == 400
    good = client.get("/cite.json", params={"key": KEY, "style": "apa", "locale": "en-US"})
    assert good.status_code == 200 and good.json()["style"] == "apa"


def test_state_changes_need_post_and_a_csrf_token(editor, bib):
    before = bib.read_bytes()
    assert editor.get(f"/entry/{KEY}/rename").status_code == 405
    assert editor.post(f"/entry/{KEY}/remove", data={}).status_code == 403
    assert editor.post(f"/entry/{KEY}/remove", data={"csrf": "forged"}).status_code == 403
    assert bib.read_bytes() == before


def test_session_cookie_is_signed_httponly_samesite(bib):
    with make_client(bib) as c:
        answer = login(c)
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        # a forged cookie claiming to be anna is not a session
    with make_client(bib) as other:
        import base64
        forged = base64.b64encode(json.dumps({"user": "anna"}).encode()).decode()
        other.cookies.set("clippings_session", forged)
        assert "Abmelden" not in other.get("/").text


def test_secure_cookies_behind_https(bib):
    from starlette.testclient import TestClient
    from clippings.config import load_settings
    from clippings.web.app import create_app
    app = create_app(bib, load_settings(bib.parent), secure_cookies=True)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        answer = login(c)
        assert answer.status_code == 303
        cookie = answer.headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie
        assert "Abmelden" in c.get("/").text
    with make_client(bib) as c:   # plain http on 127.0.0.1 must still work
        assert "secure" not in login(c).headers["set-cookie"].lower()


def test_failed_logins_are_slowed_down(bib):
    with make_client(bib) as c:
        codes = [login(c, password="wrong password").status_code for _ in range(4)]
        assert codes[:3] == [401, 401, 401] and codes[3] == 429
        # even the right password must wait now
        assert login(c).status_code == 429


def test_logout_ends_the_session(editor):
    assert "Abmelden" in editor.get("/").text
    editor.post("/logout", data={"csrf": csrf_of(editor.get("/").text)})
    assert "Abmelden" not in editor.get("/").text


def test_read_only_server_refuses_editors(bib):
    with make_client(bib, read_only=True) as c:
        login(c)
        assert c.get(f"/entry/{KEY}/edit").status_code == 403


def test_serve_refuses_other_hosts_without_accounts(tmp_path, shipped):
    result = CliRunner().invoke(main, ["--library", str(shipped), "serve", "--host",
                                       "0.0.0.0"])
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.output


def test_foreign_host_header_is_refused_on_loopback(bib):
    with make_client(bib, allowed_hosts=["127.0.0.1", "localhost"]) as c:
        assert c.get("/", headers={"Host": "evil.example"}).status_code == 400


def test_upload_size_and_type_are_limited(bib):
    with make_client(bib, max_upload_mb=0.01) as c:
        login(c)
        token = csrf_of(c.get("/add").text)
        big = c.post("/add", data={"csrf": token},
                     files={"file": ("a.pdf", b"%PDF-" + b"x" * 50_000, "application/pdf")})
        assert big.status_code == 413
        fake = c.post("/add", data={"csrf": token},
                      files={"file": ("a.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")})
        assert fake.status_code == 400 and "Die Datei ist kein PDF" in fake.text
        exe = c.post("/add", data={"csrf": token}, headers={"Accept-Language": "en"},
                     files={"file": ("a.exe", b"MZ", "application/octet-stream")})
        assert exe.status_code == 400 and "only PDF and HTML files" in exe.text


def test_user_accounts_are_stored_hashed(tmp_path, shipped):
    runner = CliRunner()
    result = runner.invoke(main, ["--library", str(shipped), "user", "add", "bernd"],
                           input="s3cret-passphrase\n")
    assert result.exit_code == 0, result.output
    stored = (shipped.parent / "web-users.json").read_text()
    assert "s3cret-passphrase" not in stored and "scrypt$" in stored
    assert oct((shipped.parent / "web-users.json").stat().st_mode)[-3:] == "600"
    assert runner.invoke(main, ["--library", str(shipped), "user", "list"]).output == "bernd\n"
    short = runner.invoke(main, ["--library", str(shipped), "user", "add", "c"], input="x\n")
    assert short.exit_code == 2 and "at least" in short.output


# -- server-side fetching never reaches private networks -------------------------------

@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://169.254.169.254/latest/",
                                 "http://10.1.2.3/", "http://[::1]/", "http://localhost/",
                                 "http://0.0.0.0/"])
def test_add_refuses_private_addresses(bib, url):
    with make_client(bib, allow_private=False) as c:
        login(c)
        answer = c.post("/add", data={"csrf": csrf_of(c.get("/add").text), "sources": url},
                        headers={"Accept-Language": "en"})
        assert answer.status_code == 400
        assert "private, loopback or link-local" in answer.text


def test_redirect_into_private_network_is_refused(http_server):
    """The first hop's host is checked as well as every redirect target."""
    from clippings.errors import UsageError
    from clippings.http import HttpClient, HttpSettings, check_public_host
    target = http_server.route("/a", redirect("http://10.0.0.1/admin"))
    with pytest.raises(UsageError, match="private"):
        check_public_host("http://10.0.0.1/admin")
    with HttpClient(HttpSettings(allow_private_addresses=False)) as client:
        with pytest.raises(UsageError, match="private"):
            client.get(target)
    assert http_server.hits["/a"] == 0   # not even the first request went out


# -- adding -----------------------------------------------------------------------------

ARTICLE = """<html lang="de"><head><title>Neue Partnerschaft</title>
<meta property="og:title" content="Neue Partnerschaft zwischen Kassel und Jaroslawl">
<meta name="author" content="Erika Muster">
<meta property="article:published_time" content="2019-05-04">
<meta property="og:site_name" content="Hessische Allgemeine">
</head><body><article><h1>Neue Partnerschaft zwischen Kassel und Jaroslawl</h1>
<p>Die Stadt Kassel und Jaroslawl haben am Samstag eine neue Partnerschaft
besiegelt, die den Austausch von Schulklassen und Vereinen fördern soll.</p>
<p>Weitere Einzelheiten folgen in den kommenden Wochen.</p></article></body></html>"""


def test_add_by_url_proposes_then_saves_on_confirm(editor, bib, http_server):
    url = http_server.route("/artikel", send(200, ARTICLE.encode()))
    token = csrf_of(editor.get("/add").text)
    answer = editor.post("/add", data={"csrf": token, "sources": url})
    assert answer.status_code == 303
    proposal = editor.get(answer.headers["location"])
    assert "Neue Partnerschaft zwischen Kassel und Jaroslawl" in proposal.text
    assert "Schulklassen" in proposal.text                # the first paragraph
    assert "Kassel und Jaroslawl" not in bib.read_text()  # nothing saved yet
    form = dict(re.findall(r'<input id="f-(\w+)" name="\w+" value="([^"]*)"', proposal.text))
    form.update(csrf=csrf_of(proposal.text), type="article", keywords="partnerschaft")
    saved = editor.post(answer.headers["location"], data=form)
    assert saved.status_code == 303
    key = saved.headers["location"].split("/entry/")[1].split("?")[0]
    assert "Kassel und Jaroslawl" in entry_text(bib, key)
    assert (bib.parent / "snapshots" / key / "page.html").is_file()
    # the same URL again: the duplicate verdict is shown, saving is refused
    again = editor.post("/add", data={"csrf": token, "sources": url})
    second = editor.get(again.headers["location"])
    assert key in second.text and "Duplikat" in second.text
    refused = editor.post(again.headers["location"], data=dict(form, csrf=token))
    assert refused.status_code == 409
    # the first proposal posted again (the back button): it leads to the saved entry
    repost = editor.post(answer.headers["location"], data=form)
    assert repost.headers["location"] == f"/entry/{key}?message=already_saved"
    assert "Dieser Vorschlag war schon gespeichert" in editor.get(repost.headers["location"]).text
    assert editor.post(answer.headers["location"] + ".json", data=form).json()["key"] == key


def test_keywords_of_the_add_form_go_into_a_single_proposal(editor, http_server):
    url = http_server.route("/artikel", send(200, ARTICLE.encode()))
    token = csrf_of(editor.get("/add").text)
    for data, files in [({"sources": url}, None),
                        ({}, {"file": ("artikel.html", ARTICLE.encode(), "text/html")})]:
        answer = editor.post("/add", data=dict(data, csrf=token, tags="testtag, presse"),
                             files=files)
        assert answer.status_code == 303
        proposal = editor.get(answer.headers["location"]).text
        keywords = re.search(r'<input id="f-keywords" name="keywords" value="([^"]*)"',
                             proposal).group(1)
        assert "testtag" in keywords and "presse" in keywords


def test_batch_of_urls_reports_progress(editor, bib, http_server):
    urls = [http_server.route(f"/a{i}", send(200, ARTICLE.replace(
        "Jaroslawl", f"Stadt{i}").encode())) for i in range(3)]
    token = csrf_of(editor.get("/add").text)
    answer = editor.post("/add", data={"csrf": token,
                                       "sources": "\n".join(urls + ["not a source"])})
    assert answer.status_code == 303
    for _ in range(200):
        state = editor.get(answer.headers["location"] + ".json").json()
        if state["finished"]:
            break
        threading.Event().wait(0.05)
    assert state["total"] == 4 and len(state["done"]) == 4
    assert sum(1 for d in state["done"] if d["key"]) == 3
    assert [d for d in state["done"] if d["error"]][0]["source"] == "not a source"


def test_add_never_reads_files_of_the_server(editor, bib, monkeypatch):
    """`clippings add FILE` reads a local file; a web user's source must not: it would
    show the server's files (the accounts file, /etc/passwd) in the proposal."""
    monkeypatch.chdir(bib.parent)
    before = bib.read_text(encoding="utf-8")
    token = csrf_of(editor.get("/add").text)
    secret_file = str(bib.parent / "web-users.json")
    for source in [secret_file, "web-users.json", "/etc/passwd", str(bib)]:
        answer = editor.post("/add", data={"csrf": token, "sources": source})
        assert answer.status_code == 400, source
        assert "keine URL, DOI oder ISBN" in answer.text
    batch = editor.post("/add", data={"csrf": token, "sources": f"{secret_file}\n/etc/passwd"})
    for _ in range(200):
        state = editor.get(batch.headers["location"] + ".json").json()
        if state["finished"]:
            break
        threading.Event().wait(0.05)
    assert [d["key"] for d in state["done"]] == [None, None]
    assert all("not a URL, DOI or ISBN" in d["error"] for d in state["done"])
    assert bib.read_text(encoding="utf-8") == before


def test_bookmarklet_posts_page_html_with_the_user_token(editor, bib):
    from clippings.web.users import Users
    token = Users.of(bib.parent).token("anna")
    assert token in editor.get("/add").text
    with make_client(bib) as stranger:   # another site's form: no session, no CSRF token
        refused = stranger.post("/clip", data={"token": "guess", "url": "https://a.de/x",
                                               "html": ARTICLE})
        assert refused.status_code == 403
        answer = stranger.post("/clip", data={"token": token, "url": "https://www.hna.de/x",
                                              "html": ARTICLE})
        assert answer.status_code == 303
    proposal = editor.get(answer.headers["location"])
    assert "Kassel und Jaroslawl" in proposal.text


# -- editing ------------------------------------------------------------------------------

def edit_form(editor, key=KEY) -> dict:
    page = editor.get(f"/entry/{key}/edit").text
    form = dict(re.findall(r'<input id="f-(\w+)" name="\w+" value="([^"]*)"', page))
    form["csrf"] = csrf_of(page)
    form["version"] = re.search(r'name="version" value="(\w+)"', page).group(1)
    return form


@pytest.mark.parametrize("field, value, message, german", [
    ("date", "26.06.2017", "invalid date", "Kein gültiges Datum."),
    ("type", "newspaperarticle", "unknown entry type", "Unbekannte Art des Eintrags."),
    ("author", "Lohse, Peggy and", "invalid name list",
     "Diese Namensliste ist nicht lesbar."),
    ("url", "javascript:alert(1)", "invalid URL", "Keine gültige Webadresse.")])
def test_edit_shows_the_error_next_to_the_field_and_writes_nothing(editor, bib, field,
                                                                   value, message, german):
    before = bib.read_bytes()
    form = edit_form(editor)
    form[field] = value
    form["title"] = "Geänderter Titel"
    answer = editor.post(f"/entry/{KEY}/edit", data=form)
    assert answer.status_code == 422
    # in German first, with the checker's exact words after it
    assert re.search(rf'id="e-{field}">[^<]*{german} <span class="detail" lang="en">'
                     rf'[^<]*{message}', answer.text)
    english = editor.post(f"/entry/{KEY}/edit", data=form,
                          headers={"Accept-Language": "en"}).text
    assert re.search(rf'id="e-{field}">[^<]*{message}', english)
    assert "--force" not in answer.text           # advice for the command line only
    assert "Geänderter Titel" in answer.text      # the input is kept
    assert bib.read_bytes() == before


def test_edit_saves_only_that_entry(editor, bib):
    before = bib.read_text(encoding="utf-8")
    form = edit_form(editor)
    form["date"] = "2017-06-27"
    answer = editor.post(f"/entry/{KEY}/edit", data=form)
    assert answer.status_code == 303
    after = bib.read_text(encoding="utf-8")
    assert "2017-06-27" in entry_text(bib)
    assert after.replace("2017-06-27", "2017-06-26", 1) == before


def test_a_field_named_type_is_edited_beside_the_entry_type(editor, bib):
    result = CliRunner().invoke(main, ["--library", str(bib), "set", KEY,
                                       "type=Dossier", "key=Lohse"])
    assert result.exit_code == 0
    data = editor.get(f"/entry/{KEY}", headers={"Accept": "application/json"}).json()
    assert (data["key"], data["type"]) == (KEY, "article")
    assert (data["field:type"], data["field:key"]) == ("Dossier", "Lohse")
    page = editor.get(f"/entry/{KEY}/edit").text
    extras = dict(re.findall(r'name="extra_name" value="([^"]*)">\s*<label[^>]*>.*?'
                             r'</label>\s*<input [^>]*name="extra_value" value="([^"]*)"',
                             page, re.S))
    assert (extras["type"], extras["key"]) == ("Dossier", "Lohse")
    form = edit_form(editor)
    extras["type"] = "Themendossier"
    answer = editor.post(f"/entry/{KEY}/edit", headers={"Accept": "application/json"},
                         data={**form, "extra_name": list(extras),
                               "extra_value": list(extras.values())})
    assert answer.status_code == 200, answer.text
    assert answer.json()["changed"] == ["field:type"]
    text = entry_text(bib)
    assert text.startswith("{" + KEY + ",") and "@article" in bib.read_text()
    assert re.search(r"\n  type *= {Themendossier},", text)
    assert re.search(r"\n  key *= {Lohse},", text)
    assert "field:" not in text


def test_a_concurrent_change_is_shown_and_input_kept(editor, bib):
    form = edit_form(editor)
    result = CliRunner().invoke(main, ["--library", str(bib), "set", KEY, "note=vom CLI"])
    assert result.exit_code == 0
    form["title"] = "Mein neuer Titel"
    answer = editor.post(f"/entry/{KEY}/edit", data=form)
    assert answer.status_code == 409
    assert "Mein neuer Titel" in answer.text and "vom CLI" in answer.text
    assert "Mein neuer Titel" not in bib.read_text(encoding="utf-8")


def test_saving_again_after_a_conflict_succeeds_unless_changed_again(editor, bib):
    form = edit_form(editor)
    CliRunner().invoke(main, ["--library", str(bib), "set", KEY, "note=vom CLI"])
    form["title"] = "Mein neuer Titel"
    answer = editor.post(f"/entry/{KEY}/edit", data=form)
    assert answer.status_code == 409
    # the page now carries the version of the entry it shows beside the form
    form["version"] = re.search(r'name="version" value="(\w+)"', answer.text).group(1)
    CliRunner().invoke(main, ["--library", str(bib), "set", KEY, "note=noch einmal"])
    third = editor.post(f"/entry/{KEY}/edit", data=form)   # changed again meanwhile
    assert third.status_code == 409 and "noch einmal" in third.text
    form["version"] = re.search(r'name="version" value="(\w+)"', third.text).group(1)
    assert editor.post(f"/entry/{KEY}/edit", data=form).status_code == 303
    assert "Mein neuer Titel" in entry_text(bib)


def test_rename_remove_keywords_through_the_web(editor, bib):
    token = csrf_of(editor.get(f"/entry/{KEY}").text)
    assert editor.post(f"/entry/{KEY}/keywords", data={"csrf": token,
                                                       "keywords": "presse, dossier"}
                       ).status_code == 303
    assert "presse, dossier" in entry_text(bib)
    assert editor.post(f"/entry/{KEY}/rename", data={"csrf": token, "new_key": "bad key!"}
                       ).status_code == 400
    assert editor.post(f"/entry/{KEY}/rename", data={"csrf": token, "new_key": "lohse2017"}
                       ).status_code == 303
    assert "@article{lohse2017," in bib.read_text(encoding="utf-8")
    assert "Wirklich" in editor.get("/entry/lohse2017/remove").text.replace("wirklich",
                                                                             "Wirklich")
    removed = editor.post("/entry/lohse2017/remove", data={"csrf": token})
    assert removed.status_code == 303
    assert removed.headers["location"] == "/"
    assert "Eintrag lohse2017 entfernt." in editor.get(removed.headers["location"]).text
    assert "entfernt." not in editor.get("/").text   # shown once
    assert "lohse2017" not in bib.read_text(encoding="utf-8")


def test_no_notice_is_taken_from_the_address(editor):
    page = editor.get("/", params={"removed": "Ihr Konto wurde gesperrt"}).text
    assert "gesperrt entfernt" not in page and 'class="flash"' not in page
    # `message` is a fixed id (saved): other text is never shown
    page = editor.get(f"/entry/{KEY}", params={"message": "Ihr Konto wurde gesperrt"}).text
    assert 'class="flash"' not in page


def test_remove_answers_json_and_keeps_a_parent_that_others_need(editor, bib):
    CliRunner().invoke(main, ["--library", str(bib), "add", "--no-fetch", "--type",
                              "incollection", "--key", "kapitel", "--set", "title=Kapitel",
                              "--set", "author=Rutz, Anna", "--set", f"crossref={KEY}"])
    token = csrf_of(editor.get(f"/entry/{KEY}").text)
    refused = editor.post(f"/entry/{KEY}/remove.json", data={"csrf": token})
    assert refused.status_code == 409 and "kapitel" in refused.text
    assert f"{{{KEY}," in bib.read_text(encoding="utf-8")
    done = editor.post("/entry/kapitel/remove.json", data={"csrf": token})
    assert done.status_code == 200
    assert done.json() == [{"key": "kapitel", "snapshot_removed": False}]


def test_check_this_link_now(editor, bib, http_server):
    url = http_server.route("/gone", send(404, b"not here"))
    CliRunner().invoke(main, ["--library", str(bib), "set", KEY, f"url={url}"])
    token = csrf_of(editor.get(f"/entry/{KEY}").text)
    assert editor.post(f"/entry/{KEY}/check", data={"csrf": token}).status_code == 303
    assert editor.get(f"/entry/{KEY}.json").json()["link"]["status"] == "broken"
    assert "link-bad" in editor.get("/", params={"q": "Dossier"}).text
    # The verdict was about that URL: a new URL has none until it is checked.
    CliRunner().invoke(main, ["--library", str(bib), "set", KEY,
                              "url=https://example.org/neu"])
    assert editor.get(f"/entry/{KEY}.json").json()["link"] is None


# -- citing and exporting ----------------------------------------------------------------

def test_cite_selected_entries_with_the_export_rendering(client, bib):
    from clippings.export import cite, export
    from clippings.library import Library
    data = client.get("/cite.json", params={"key": [KEY], "style": "apa",
                                             "locale": "en-US"}).json()
    rec = Library.load(bib).record(KEY)
    assert data["citation"] == cite([rec], "apa", "en-US")
    assert data["references"] == export([rec], "text", "apa", "en-US")


def test_all_results_of_a_search_are_exported(client):
    found = client.get("/.json", params={"q": "Partnerschaft", "type": "article"}).json()
    ris = client.get("/export", params={"q": "Partnerschaft", "type": "article",
                                        "all": "1", "format": "ris"})
    assert ris.status_code == 200
    assert "attachment" in ris.headers["content-disposition"]
    assert ris.text.count("TY  -") == found["total"]
    page = client.get("/export", params={"key": KEY, "format": "html"}).text
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page


def test_nothing_selected_is_a_clear_error(client):
    answer = client.get("/cite")
    assert answer.status_code == 400 and "Nichts ausgewählt" in answer.text


def test_worker_processes_build_the_same_app(bib, monkeypatch):
    """`serve --workers N`: each uvicorn worker builds the app from the environment."""
    from starlette.testclient import TestClient
    from clippings.web.app import SERVE_ENV, app_from_environment
    monkeypatch.setenv(SERVE_ENV, json.dumps({
        "bib_path": str(bib), "read_only": True, "allowed_hosts": ["testserver"],
        "page_cache": 0, "allow_private_addresses": False}))
    app = app_from_environment()
    assert app.state.config.read_only and app.state.config.pages.size == 0
    assert not app.state.config.settings.allow_private_addresses
    with TestClient(app) as c:
        assert c.get(f"/entry/{KEY}.json").json()["key"] == KEY
        assert c.get("/", headers={"Host": "evil.example"}).status_code == 400


def test_link_health_page_chart_and_json(editor, bib, http_server):
    gone = http_server.route("/gone", send(404, b"not here"))
    fine = http_server.route("/fine", send(200, ARTICLE.encode()))
    runner = CliRunner()
    runner.invoke(main, ["--library", str(bib), "set", KEY, f"url={gone}"])
    runner.invoke(main, ["--library", str(bib), "set", "rutz2011geschenk", f"url={fine}"])
    assert "Noch keine Linkprüfung" in editor.get("/links").text
    token = csrf_of(editor.get(f"/entry/{KEY}").text)
    for key in (KEY, "rutz2011geschenk"):
        assert editor.post(f"/entry/{key}/check", data={"csrf": token}).status_code == 303
    page = editor.get("/links")
    assert page.status_code == 200
    assert '<img class="chart" src="/links/rot.svg"' in page.text
    assert "Dossier: Deutsch-russische Städtepartnerschaften" in page.text   # to act on
    data = editor.get("/links.json").json()
    assert data["counts"]["broken"] == 1 and data["counts"]["ok"] == 1
    assert [p["key"] for p in data["problems"]] == [KEY]
    assert {y["year"] for y in data["by_year"] if y["links"]} == {"2011", "2017"}
    chart = editor.get("/links/rot.svg")
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert chart.headers["content-security-policy"].startswith("sandbox")
    assert "<svg" in chart.text and "2017" in chart.text
    # the link facet narrows the search to the broken one
    assert [h["key"] for h in editor.get("/.json", params={"link": "broken"}).json()[
        "hits"]] == [KEY]


# -- keys with `/`, `?`, letters beyond ASCII: every route reaches them ------------------

def links_of(html: str, prefix: str) -> list[str]:
    return [unescape(u) for u in re.findall(r'(?:href|action|src|data-similar)="(' + prefix
                                           + r'[^"]*)"', html)]


@pytest.mark.parametrize("key", ["DBLP:journals/corr/Roters16", "east?2011", "Müller2016",
                                 "Железногорск2020", "lohse/edit", "a&b+c"])
def test_every_route_reaches_a_key_with_url_characters(editor, bib, key):
    from urllib.parse import quote, unquote

    from clippings import snapshots
    token = csrf_of(editor.get(f"/entry/{KEY}").text)
    moved = editor.post(f"/entry/{KEY}/rename", data={"csrf": token, "new_key": key})
    assert moved.status_code == 303
    entry = moved.headers["location"]
    assert entry == "/entry/" + quote(key, safe=":@") + "?message=saved"
    page = editor.get(entry)
    assert page.status_code == 200 and "Dossier" in page.text
    assert editor.get(entry.split("?")[0] + ".json").json()["key"] == key
    # the search page links to it
    hits = editor.get("/", params={"q": "Dossier"}).text
    assert entry.split("?")[0] in links_of(hits, "/entry/")
    for href in links_of(hits, "/entry/"):
        assert editor.get(href).status_code == 200, href
    # the entry page's own links: edit, remove, similar, snapshot files
    folder = snapshots.folder(bib.parent, key)
    folder.mkdir(parents=True)
    (folder / "page.html").write_text("<p>Seite</p>", encoding="utf-8")
    (folder / "document.pdf").write_bytes(b"%PDF-1.4\n")
    html = editor.get(entry).text
    gets = [u for u in links_of(html, "/(?:entry|snapshot)/") if "/similar" in u
            or u.endswith(("/edit", "/remove", ".html", ".pdf"))]
    assert len(gets) == 6, gets
    for href in gets:
        assert editor.get(href).status_code == 200, href
    pdf = editor.get(next(u for u in gets if u.endswith(".pdf")))
    assert unquote(pdf.headers["content-disposition"].split("''")[1]) == key + ".pdf"
    form = edit_form(editor, quote(key, safe=":@"))
    form["note"] = "bearbeitet"
    assert editor.post(entry.split("?")[0] + "/edit", data=form).status_code == 303
    assert "bearbeitet" in entry_text(bib, key)
    actions = {u.rsplit("/", 1)[1]: u for u in links_of(html, "/entry/")
               if u.endswith(("/keywords", "/rename", "/remove"))}
    assert editor.post(actions["keywords"], data={"csrf": token, "keywords": "x"}
                       ).status_code == 303
    back = editor.post(actions["rename"], data={"csrf": token, "new_key": "back2017"})
    assert back.headers["location"] == "/entry/back2017?message=saved"
    editor.post("/entry/back2017/rename", data={"csrf": token, "new_key": key})
    removed = editor.post(actions["remove"], data={"csrf": token})
    assert removed.status_code == 303
    assert f"Eintrag {key} entfernt." in unescape(editor.get(removed.headers["location"]).text)
    assert "{" + key + "," not in bib.read_text(encoding="utf-8")


@pytest.mark.parametrize("bad", ["a#b", "a%2Fb", "a b"])
def test_a_key_the_library_refuses_is_refused_on_the_web(editor, bad):
    token = csrf_of(editor.get(f"/entry/{KEY}").text)
    assert editor.post(f"/entry/{KEY}/rename", data={"csrf": token, "new_key": bad}
                       ).status_code == 400


# -- error lines in the page's language ---------------------------------------------------

def _three_ways(c, method, url, **kw):
    """The German page, the English page and the JSON answer of one request."""
    answers = [c.request(method, url, headers={"Accept-Language": lang}, **kw)
               for lang in ("de", "en")]
    answers.append(c.request(method, url, headers={"Accept": "application/json",
                                                   "Accept-Language": "de"}, **kw))
    return answers


@pytest.mark.parametrize("method, url, data, status, german, english, json_line", [
    ("POST", f"/entry/{KEY}/keywords", {"csrf": "stale"}, 403,
     "Sicherheitsmerkmal des Formulars fehlt", "security token is missing or expired",
     "the form's security token is missing or expired; reload the page and try again"),
    ("GET", "/browse/foo", None, 404, "Keine solche Facette: „foo“", "No such facet: “foo”",
     "no such facet 'foo'"),
    ("GET", f"/snapshot/{KEY}/page.html", None, 404, "Keine solche Datei",
     "No such snapshot file", "no such snapshot file"),
    ("GET", "/export?format=bibtex", None, 400, "Nichts ausgewählt", "nothing selected",
     "nothing selected"),
    ("POST", f"/entry/{KEY}/rename", {"new_key": "spremberg2016schlaegt"}, 409,
     "Der Schlüssel 'spremberg2016schlaegt' ist schon vergeben",
     "key 'spremberg2016schlaegt' is already used", "key 'spremberg2016schlaegt' is already used"),
    ("POST", f"/entry/{KEY}/rename", {"new_key": "bad key"}, 400,
     "ungültiger Schlüssel 'bad key': ein Schlüssel kann ' ' nicht enthalten",
     "invalid key 'bad key': a key cannot contain", "invalid key 'bad key'"),
    ("GET", f"/cite?key={KEY}&style=nonexistent-style", None, 400,
     "unbekannter Zitierstil 'nonexistent-style'", "unknown style 'nonexistent-style'",
     "unknown style 'nonexistent-style'"),
    ("POST", "/add", {"sources": "nicht eine url"}, 400, "keine URL, DOI oder ISBN: 'nicht eine url'",
     "not a URL, DOI or ISBN: 'nicht eine url'", "not a URL, DOI or ISBN: 'nicht eine url'"),
])
def test_error_lines_speak_the_pages_language(editor, method, url, data, status, german,
                                              english, json_line):
    if data is not None and "csrf" not in data:
        data = dict(data, csrf=csrf_of(editor.get("/add").text))
    de, en, js = _three_ways(editor, method, url, data=data)
    assert de.status_code == en.status_code == js.status_code == status
    assert german in unescape(de.text) and english not in unescape(de.text)
    assert english in unescape(en.text) and german not in unescape(en.text)
    assert json_line in js.json()["error"]
    assert "clippings styles" not in de.text + en.text   # no command to run on the web


def test_read_only_error_speaks_the_pages_language(bib):
    with make_client(bib, read_only=True) as c:
        login(c)
        de, en, js = _three_ways(c, "GET", f"/entry/{KEY}/edit")
    assert "Dieser Server ist schreibgeschützt." in de.text
    assert "This server is read-only." in en.text
    assert js.json()["error"] == "this server is read-only"


def test_private_address_error_has_no_server_setting_advice_on_the_web(bib):
    with make_client(bib, allow_private=False) as c:
        login(c)
        token = csrf_of(c.get("/add").text)
        de, en, js = _three_ways(c, "POST", "/add",
                                 data={"csrf": token, "sources": "http://127.0.0.1:9/x"})
    assert "Loopback- oder Link-lokale Adresse" in de.text
    assert "refusing to fetch http://127.0.0.1:9/x" in en.text
    assert "allow_private_addresses" not in de.text + en.text
    assert js.json()["error"].startswith("refusing to fetch")   # English, as the CLI's


def test_too_large_upload_gets_a_page_in_the_layout_and_language(bib):
    with make_client(bib, max_upload_mb=0.01) as c:
        login(c)
        token = csrf_of(c.get("/add").text)
        body = {"file": ("a.pdf", b"%PDF-" + b"x" * 50_000, "application/pdf")}
        de = c.post("/add", data={"csrf": token}, files=body)
        en = c.post("/add", data={"csrf": token}, files=body,
                    headers={"Accept-Language": "en"})
        js = c.post("/add.json", data={"csrf": token}, files=body)
    assert de.status_code == en.status_code == js.status_code == 413
    assert '<html lang="de"' in de.text and "Die hochgeladene Datei ist zu groß" in de.text
    assert 'href="/add"' in de.text and "/static/app.css" in de.text
    assert '<html lang="en"' in en.text and "The upload is too large (at most 0" in en.text
    assert js.json()["error"] == "the upload is too large"


def test_many_authors_read_et_al_in_english(tmp_path):
    bib = library_with(tmp_path, "\n@article{viele,\n  title = {Zwergpinguin Quappe},\n  "
                       "author = {A, Anna and B, Bert and C, Carl and D, Dora},\n"
                       "  date = {2020},\n}\n")
    with make_client(bib) as c:
        de = c.get("/", params={"q": "Zwergpinguin"}).text
        en = c.get("/", params={"q": "Zwergpinguin"}, headers={"Accept-Language": "en"}).text
    assert "u. a." in de and "et al." not in de
    assert "et al." in en and "u. a." not in en


@pytest.mark.parametrize("facet, raw, word", [("type", "article", "Artikel"),
                                              ("lang", "ru", "Russisch"),
                                              ("decade", "2010s", "2010er")])
def test_browse_shows_facet_values_as_words(client, facet, raw, word):
    page = client.get(f"/browse/{facet}").text
    assert re.search(rf'<a href="/\?{facet}={raw}">{word} <span class="fc">', page)
    english = client.get(f"/browse/{facet}", headers={"Accept-Language": "en"}).text
    assert f'<a href="/?{facet}={raw}">' in english and f">{word} " not in english


def test_addresses_in_cited_references_are_links(client):
    page = client.get("/cite", params={"key": "portal2017deutsch"}).text
    assert ('<a href="http://www.russlandpartner.de/" rel="noopener noreferrer">'
            in page)


def test_references_keep_only_http_and_mailto_links():
    from clippings.web.views import _clean_html
    html = _clean_html('<div><a href="javascript:alert(1)">j</a> <a href=" JaVaScript:x">k</a>'
                       ' <a href="data:text/html,x">d</a> <a href="file:///etc/passwd">f</a>'
                       ' <a href="/relative">r</a> <a href="mailto:a@example.org">m</a>'
                       ' <a href="https://example.org/" onclick="x">h</a></div>')
    assert html.count("href=") == 2
    assert 'href="mailto:a@example.org" rel="noopener noreferrer"' in html
    assert '<a href="https://example.org/" rel="noopener noreferrer">h</a>' in html
    assert "javascript" not in html.lower() and "onclick" not in html


def test_link_check_is_offered_only_for_entries_with_an_address(editor):
    assert "Link jetzt prüfen" in editor.get(f"/entry/{KEY}").text
    assert "Link jetzt prüfen" not in editor.get("/entry/kreis2016dueren").text
