"""Link checking against real HTTP servers on 127.0.0.1, one scenario each.

The servers come from tests/servers.py; the Wayback availability API and save endpoint are
played by a local server too. Pure parts (similarity, soft-404 text, redirect analysis,
fixes, durations) are tested directly.
"""

from __future__ import annotations

import gzip
import json
import re
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from clippings import links as L
from clippings import links_cache
from clippings.cli import main
from clippings.cli.check import check
from clippings.errors import UsageError
from helpers import REPO, run
from servers import (TestServer, never_answer, redirect, send, sequence, unused_port)

main.add_command(check)   # the lead registers it in cli.py; idempotent here

ARTICLE = ("Die Städtepartnerschaft zwischen Kassel und Jaroslawl besteht seit 1988 und "
           "gehört zu den lebendigsten deutsch-russischen Verbindungen. Jedes Jahr reisen "
           "Schülergruppen, Chöre und Sportvereine zwischen beiden Städten hin und her, "
           "und die Bürgermeister treffen sich regelmäßig zu Gesprächen über Kultur, "
           "Wirtschaft und Umweltschutz an der Wolga und an der Fulda.")
OTHER = ("Der Wetterbericht für das Wochenende verspricht Sonne an der Ostsee, Regen im "
         "Schwarzwald und kräftigen Wind auf den Nordseeinseln. Autofahrer sollten sich "
         "auf Staus rund um Hamburg einstellen, weil mehrere Baustellen die Autobahn "
         "verengen und die Ferien in drei Bundesländern beginnen.")


def page(body: str, title: str = "Artikel") -> bytes:
    return (f"<!doctype html><html><head><title>{title}</title></head><body>"
            f"<nav>Start Politik Kultur</nav><article><h1>{title}</h1><p>{body}</p>"
            f"</article></body></html>").encode("utf-8")


def make_library(bib: Path, entries: dict[str, dict[str, str]]) -> Path:
    """Write entries (key -> fields) into the library; returns library.bib."""
    parts = [bib.read_text(encoding="utf-8")]
    for key, fields in entries.items():
        body = "".join(f"  {name:<12} = {{{value}}},\n" for name, value in fields.items())
        parts.append(f"@online{{{key},\n  title        = {{Eintrag {key}}},\n{body}}}\n\n")
    bib.write_text("".join(parts), encoding="utf-8")
    return bib


def check_json(bib: Path, *args: str) -> tuple[dict[str, dict], int]:
    result = run("check", "--format", "json", *args, library=bib)
    data = json.loads(result.stdout)
    return {(r["key"] if r["field"] == "url" else r["key"] + ":" + r["field"]): r
            for r in data}, result.exit_code


def one(bib: Path, url: str, *args: str, **fields: str) -> tuple[dict, int]:
    make_library(bib, {"e": {"url": url, **fields}})
    results, code = check_json(bib, *args)
    return results["e"], code


CONTRACT_KEYS = {"key", "url", "status", "http_status", "final_url", "archive_url",
                 "message", "elapsed_ms"}


# --------------------------------------------------------------------------- statuses

def test_200_is_ok_with_the_contract_shape(library, http_server):
    url = http_server.route("/a", send(200, page(ARTICLE)))
    r, code = one(library, url)
    assert CONTRACT_KEYS <= set(r)
    assert (r["status"], r["http_status"], r["final_url"], code) == ("ok", 200, url, 0)


def test_404_is_broken_and_exits_1(library, http_server):
    r, code = one(library, http_server.url("/missing"))
    assert (r["status"], r["http_status"], code) == ("broken", 404, 1)


def test_410_is_broken(library, http_server):
    url = http_server.route("/removed", send(410, b"gone"))
    r, code = one(library, url)
    assert (r["status"], r["http_status"], code) == ("broken", 410, 1)
    assert "410" in r["message"]


@pytest.mark.parametrize("status", [301, 308])
def test_permanent_redirect_chain_is_redirected_to_its_end(library, http_server, status):
    end = http_server.route("/new/artikel", send(200, page(ARTICLE)))
    middle = http_server.route("/mid/artikel", redirect(end, status))
    start = http_server.route("/old/artikel", redirect(middle, status))
    r, code = one(library, start)
    assert r["status"] == "redirected"
    assert r["final_url"] == end and r["new_url"] == end
    assert [s for _u, s in r["redirects"]] == [status, status]
    assert code == 0   # a moved page is not a failure


def test_302_is_a_temporary_redirect_and_ok(library, http_server):
    end = http_server.route("/today", send(200, page(ARTICLE)))
    start = http_server.route("/current", redirect(end, 302))
    r, code = one(library, start)
    assert (r["status"], r["final_url"], r["new_url"], code) == ("ok", end, None, 0)
    assert "temporary" in r["message"]


def test_permanent_then_temporary_hop_keeps_only_the_permanent_part(library, http_server):
    end = http_server.route("/login", send(200, page(ARTICLE)))
    mid = http_server.route("/neu", redirect(end, 302))
    start = http_server.route("/alt", redirect(mid, 301))
    r, _ = one(library, start)
    assert (r["status"], r["new_url"], r["final_url"]) == ("redirected", mid, end)


def test_redirect_loop_is_reported_not_followed_forever(library, http_server):
    a, b = http_server.url("/loop-a"), http_server.url("/loop-b")
    http_server.route("/loop-a", redirect(b, 302))
    http_server.route("/loop-b", redirect(a, 302))
    r, code = one(library, a)
    assert r["status"] == "broken" and "loop" in r["message"]
    assert code == 1


def test_head_405_falls_back_to_get(library, http_server):
    def behaviour(h):
        if h.command == "HEAD":
            send(405, b"")(h)
        else:
            send(200, b"%PDF-1.4 report", "application/pdf")(h)
    url = http_server.route("/bericht.pdf", behaviour)
    r, code = one(library, url)
    assert (r["status"], r["http_status"], code) == ("ok", 200, 0)
    methods = [s.method for s in http_server.seen if s.path == "/bericht.pdf"]
    assert methods == ["HEAD", "GET"]


def test_document_with_working_head_needs_no_get(library, http_server):
    url = http_server.route("/plan.pdf", send(200, b"%PDF-1.4 plan", "application/pdf"))
    r, _ = one(library, url)
    assert r["status"] == "ok"
    assert [s.method for s in http_server.seen] == ["HEAD"]


def test_429_with_retry_after_then_200_is_ok(library, http_server):
    url = http_server.route("/busy", sequence(
        send(429, b"slow down", "text/plain", {"Retry-After": "1"}),
        send(200, page(ARTICLE))))
    r, code = one(library, url)
    assert (r["status"], r["http_status"], code) == ("ok", 200, 0)
    assert http_server.hits["/busy"] == 2


def test_429_beyond_the_cap_is_blocked_not_broken(library, http_server):
    url = http_server.route("/limited", send(429, b"", "text/plain",
                                             {"Retry-After": "3600"}))
    r, code = one(library, url)
    assert (r["status"], r["http_status"], code) == ("blocked", 429, 0)
    assert http_server.hits["/limited"] == 1   # an hour-long wait is not attempted


def test_403_bot_wall_is_blocked_and_only_a_warning(library, http_server):
    wall = b"<html><head><title>Just a moment...</title></head><body>Checking your browser"
    url = http_server.route("/protected", send(403, wall))
    r, code = one(library, url)
    assert (r["status"], r["http_status"], code) == ("blocked", 403, 0)


def test_server_that_never_answers_is_a_timeout(library, http_server):
    url = http_server.route("/hang", never_answer(20))
    r, code = one(library, url, "--timeout", "0.5")
    assert (r["status"], r["http_status"], code) == ("timeout", None, 0)


def test_closed_port_is_gone(library):
    r, code = one(library, f"http://127.0.0.1:{unused_port()}/artikel")
    assert (r["status"], code) == ("gone", 1)
    assert "refused" in r["message"]


def test_invalid_host_is_gone(library, wayback):
    wayback()   # a host that resolves (the archive on 127.0.0.1): DNS itself works
    r, code = one(library, "http://zeitung.invalid/2016/artikel.html")
    assert (r["status"], code) == ("gone", 1)


def test_self_signed_tls_is_tls_error(library, https_server):
    url = https_server.route("/secure", send(200, page(ARTICLE)))
    r, code = one(library, url)
    assert r["status"] == "tls_error" and code == 0
    assert "certificate" in r["message"].lower() or "tls" in r["message"].lower()


def test_german_not_found_page_with_200_is_soft_404(library, http_server):
    body = page("Die angeforderte Seite existiert leider nicht. Nutzen Sie die Suche.",
                title="Seite nicht gefunden - Märkische Allgemeine")
    url = http_server.route("/lokales/artikel-123.html", send(200, body))
    r, code = one(library, url)
    assert (r["status"], r["http_status"], code) == ("soft_404", 200, 1)
    assert "Seite nicht gefunden" in r["message"]


def test_russian_not_found_page_is_soft_404(library, http_server):
    body = page("Возможно, она была удалена или перемещена на другой адрес сайта.",
                title="Страница не найдена")
    url = http_server.route("/news/2016/", send(200, body))
    r, _ = one(library, url)
    assert r["status"] == "soft_404"


def test_almost_empty_page_is_soft_404(library, http_server):
    url = http_server.route("/leer", send(200, b"<html><body><div></div></body></html>"))
    r, _ = one(library, url)
    assert r["status"] == "soft_404" and "empty" in r["message"]


def test_deep_link_redirected_to_home_is_soft_404(library, http_server):
    http_server.route("/", send(200, page(ARTICLE, "Startseite")))
    url = http_server.route("/2016/05/partnerschaft.html", redirect(http_server.url("/"), 301))
    r, code = one(library, url)
    assert (r["status"], code) == ("soft_404", 1)
    assert "home page" in r["message"]


def test_home_page_redirected_to_home_page_is_not_soft_404(library, http_server):
    http_server.route("/de/", send(200, page(ARTICLE, "Startseite")))
    url = http_server.route("/", redirect(http_server.url("/de/"), 302))
    r, _ = one(library, url)
    assert r["status"] == "ok"


def test_short_path_that_is_not_the_home_page_is_not_soft_404(library, http_server):
    """/temp -> /ok is an ordinary redirect: the site's home page is elsewhere."""
    http_server.route("/", send(200, page(OTHER, "Startseite")))
    http_server.route("/ok", send(200, page(ARTICLE)))
    url = http_server.route("/temp", redirect(http_server.url("/ok"), 302))
    r, code = one(library, url)
    assert (r["status"], code) == ("ok", 0)


def test_deep_link_sent_where_the_home_page_leads_is_soft_404(library, http_server):
    """/2016/artikel -> /welcome/, and the root leads to /welcome/ too: the home page,
    whatever its path is called."""
    http_server.route("/welcome/", send(200, page(ARTICLE, "Startseite")))
    http_server.route("/", redirect(http_server.url("/welcome/"), 302))
    url = http_server.route("/2016/artikel", redirect(http_server.url("/welcome/"), 302))
    r, code = one(library, url)
    assert (r["status"], code) == ("soft_404", 1)
    assert "home page" in r["message"]


def test_changed_text_since_snapshot_is_drifted(library, http_server):
    url = http_server.route("/artikel", send(200, page(OTHER)))
    snap = library.parent / "snapshots" / "e"
    snap.mkdir(parents=True)
    (snap / "text.txt").write_text(ARTICLE, encoding="utf-8")
    r, code = one(library, url)
    assert r["status"] == "drifted" and code == 0
    assert r["similarity"] < 0.5 and f"{r['similarity']:.2f}" in r["message"]


def test_unchanged_text_since_snapshot_is_ok(library, http_server):
    url = http_server.route("/artikel", send(200, page(ARTICLE)))
    snap = library.parent / "snapshots" / "e"
    snap.mkdir(parents=True)
    (snap / "text.txt").write_text(ARTICLE, encoding="utf-8")
    r, _ = one(library, url)
    assert r["status"] == "ok" and r["similarity"] > 0.9
    assert r["changed"] is False and r["text_similarity"] == 1.0
    assert "changed" not in r["message"]


def test_a_small_change_of_meaning_is_reported_as_changed_text(library, http_server):
    """One sentence reversed: still the article (ok, not drifted), but `check`, its JSON
    and `show` say that the text changed and how much of it is the same."""
    kept = ARTICLE + " Die Stadt hält an der Partnerschaft fest."
    url = http_server.route("/artikel", send(200, page(
        ARTICLE + " Die Stadt kündigt die Partnerschaft.")))
    snap = library.parent / "snapshots" / "e"
    snap.mkdir(parents=True)
    (snap / "text.txt").write_text(kept, encoding="utf-8")
    r, code = one(library, url)
    assert (r["status"], code, r["changed"]) == ("ok", 0, True)
    assert 0.85 < r["text_similarity"] < 1.0
    percent = int(r["text_similarity"] * 100)
    assert f"text changed, {percent} % the same" in r["message"]
    table = run("check", library=library).stdout
    assert f"text changed, {percent} % the same" in table
    assert "1 with changed text" in table
    assert f"text changed, {percent} % the same" in run("show", "e", library=library).output


def test_an_older_extractors_text_is_no_change_of_the_page(library, http_server):
    """text.txt from an older extractor differs from today's extraction of the same page:
    the saved page is extracted again, and only a change of the page counts."""
    url = http_server.route("/artikel", send(200, page(ARTICLE)))
    snap = library.parent / "snapshots" / "e"
    snap.mkdir(parents=True)
    (snap / "page.html").write_bytes(page(ARTICLE))
    (snap / "text.txt").write_text("Startseite Politik " + ARTICLE.replace(
        "Jedes Jahr", "Jedes Jahr, Werbung,"), encoding="utf-8")
    r, _ = one(library, url)
    assert r["status"] == "ok" and r["changed"] is False
    http_server.route("/artikel", send(200, page(ARTICLE.replace("1988", "1989"))))
    r = check_json(library)[0]["e"]
    assert r["changed"] is True and "text changed" in r["message"]


def test_text_similarity_ignores_what_the_extractor_adds_around_the_article():
    assert L.text_similarity(ARTICLE, "Überschrift\n" + ARTICLE + "\nImpressum") == 1.0
    assert L.text_similarity(ARTICLE, ARTICLE.replace("1988", "1989")) < 1.0
    assert L.text_similarity(ARTICLE + " Ende.", ARTICLE) < 1.0   # text removed
    assert L.text_similarity(ARTICLE, OTHER) < 0.2


def test_gzip_page_is_decoded_before_it_is_judged(library, http_server):
    # The same bytes as a soft-404 page, but gzip-compressed: only a decoded body shows it.
    body = page("Diese Seite gibt es nicht mehr.", title="Seite nicht gefunden")
    url = http_server.route("/gz", send(200, gzip.compress(body), headers={
        "Content-Encoding": "gzip"}))
    ok_url = http_server.route("/gz-ok", send(200, gzip.compress(page(ARTICLE)), headers={
        "Content-Encoding": "gzip"}))
    snap = library.parent / "snapshots" / "ok"
    snap.mkdir(parents=True)
    (snap / "text.txt").write_text(ARTICLE, encoding="utf-8")
    make_library(library, {"bad": {"url": url}, "ok": {"url": ok_url}})
    results, _ = check_json(library)
    assert results["bad"]["status"] == "soft_404"
    assert results["ok"]["status"] == "ok" and results["ok"]["similarity"] > 0.9


def test_archiveurl_is_checked_too(library, http_server):
    url = http_server.route("/a", send(200, page(ARTICLE)))
    make_library(library, {"e": {"url": url, "archiveurl": http_server.url("/copy-gone")}})
    results, code = check_json(library)
    assert results["e"]["status"] == "ok"
    assert results["e:archiveurl"]["status"] == "broken" and code == 1


def test_same_url_in_two_entries_is_fetched_once(library, http_server):
    url = http_server.route("/shared", send(200, page(ARTICLE)))
    make_library(library, {"a": {"url": url}, "b": {"url": url}})
    results, _ = check_json(library)
    assert results["a"]["status"] == results["b"]["status"] == "ok"
    assert http_server.hits["/shared"] == 1


def test_only_the_given_keys_are_checked(library, http_server):
    a = http_server.route("/a", send(200, page(ARTICLE)))
    make_library(library, {"a": {"url": a}, "b": {"url": http_server.url("/b")}})
    results, code = check_json(library, "a")
    assert list(results) == ["a"] and code == 0
    assert run("check", "nosuchkey", library=library).exit_code == 2


# --------------------------------------------------------------------------- Wayback

class Wayback:
    """A stand-in of the availability API and the save endpoint of the Wayback Machine."""

    def __init__(self, server: TestServer, copies: dict[str, str]):
        self.server, self.copies, self.asked, self.saved = server, copies, [], []
        server.route("/wayback/available", self.available)

    def available(self, h) -> None:
        query = parse_qs(urlsplit(h.path).query)
        url, stamp = query["url"][0], query.get("timestamp", [""])[0]
        self.asked.append((url, stamp))
        closest = {}
        if url in self.copies:
            ts = self.copies[url]
            closest = {"closest": {"available": True, "status": "200", "timestamp": ts,
                                   "url": f"http://web.archive.org/web/{ts}/{url}"}}
        body = json.dumps({"url": url, "archived_snapshots": closest}).encode()
        send(200, body, "application/json")(h)

    def accept_save(self, url: str) -> None:
        def behaviour(h):
            self.saved.append(url)
            send(302, b"", "text/plain", {"Location": f"/web/20240501120000/{url}"})(h)
        self.server.route(f"/save/{url}", behaviour)
        self.server.route(f"/web/20240501120000/{url}", send(200, page(ARTICLE)))


@pytest.fixture
def wayback(monkeypatch):
    with TestServer() as server:
        monkeypatch.setenv("CLIPPINGS_WAYBACK_URL", server.url(""))
        monkeypatch.setenv("CLIPPINGS_WAYBACK_SAVE_URL", server.url(""))
        yield lambda copies=None: Wayback(server, copies or {})


def test_broken_link_gets_the_closest_archived_copy(library, http_server, wayback):
    dead = http_server.url("/2016/artikel.html")
    wb = wayback({dead: "20160702093000"})
    r, _ = one(library, dead, urldate="2016-07-01")
    assert r["status"] == "broken"
    assert r["archive_url"] == f"http://web.archive.org/web/20160702093000/{dead}"
    assert r["archive_date"] == "2016-07-02"
    assert wb.asked == [(dead, "20160701")]


def test_ok_links_are_not_looked_up_and_missing_copies_are_said(library, http_server,
                                                                  wayback):
    wb = wayback()
    ok = http_server.route("/ok", send(200, page(ARTICLE)))
    make_library(library, {"ok": {"url": ok}, "dead": {"url": http_server.url("/dead")}})
    results, _ = check_json(library)
    assert [u for u, _ in wb.asked] == [http_server.url("/dead")]
    assert results["dead"]["archive_url"] is None
    assert "no archived copy" in results["dead"]["message"]


def test_archive_flag_submits_live_links_without_a_copy(library, http_server, wayback):
    wb = wayback()
    ok = http_server.route("/ok", send(200, page(ARTICLE)))
    wb.accept_save(ok)
    r, _ = one(library, ok, "--archive")
    assert wb.saved == [ok]
    assert r["archive_url"].endswith(f"/web/20240501120000/{ok}")
    assert r["archive_date"] == "2024-05-01"


def test_fix_rewrites_only_the_affected_entries(library, http_server, wayback):
    new = http_server.route("/neu/artikel", send(200, page(ARTICLE)))
    old = http_server.route("/alt/artikel", redirect(new, 301))
    dead = http_server.url("/weg")
    fine = http_server.route("/fine", send(200, page(ARTICLE)))
    wayback({dead: "20170310101010"})
    library.write_text("% my comment stays\n@string{maz = {Märkische Allgemeine}}\n\n",
                       encoding="utf-8")
    make_library(library, {"moved": {"url": old}, "dead": {"url": dead},
                           "fine": {"url": fine, "note": "hand  edited   spacing"}})
    before = library.read_text(encoding="utf-8")
    results, code = check_json(library, "--fix")
    assert code == 1   # the dead link is still dead
    assert results["moved"]["fixed"] == ["origurl", "url"]
    after = library.read_text(encoding="utf-8")

    from clippings.library import Library
    lib = Library.load(library)
    moved, gone, kept = lib.record("moved"), lib.record("dead"), lib.record("fine")
    assert (moved.fields["url"], moved.fields["origurl"]) == (new, old)
    assert gone.fields["url"] == dead
    assert gone.fields["archiveurl"] == f"http://web.archive.org/web/20170310101010/{dead}"
    assert gone.fields["archivedate"] == "2017-03-10"
    assert "archiveurl" not in kept.fields and "origurl" not in kept.fields
    # Every byte outside the two changed entries is as it was.
    assert lib.entry_text("fine") in after and lib.entry_text("fine") in before
    head = before[:before.index("@online{moved")]
    assert after.startswith(head)
    # A second run finds nothing left to fix for the moved entry.
    results, _ = check_json(library, "--fix")
    assert results["moved"]["status"] == "ok" and results["moved"]["fixed"] == []


def test_fix_uses_the_configured_old_url_field(library, http_server, monkeypatch):
    new = http_server.route("/b", send(200, page(ARTICLE)))
    old = http_server.route("/a", redirect(new, 308))
    monkeypatch.setenv("CLIPPINGS_OLD_URL_FIELD", "previousurl")
    one(library, old, "--fix")
    from clippings.library import Library
    rec = Library.load(library).record("e")
    assert (rec.fields["url"], rec.fields["previousurl"]) == (new, old)
    assert "origurl" not in rec.fields


# --------------------------------------------------------------------------- cache, output

def test_max_age_reuses_recent_results_and_show_reads_them(library, http_server):
    url = http_server.route("/a", send(200, page(ARTICLE)))
    one(library, url)
    assert http_server.hits["/a"] == 1
    results, _ = check_json(library, "--max-age", "7d")
    assert results["e"]["status"] == "ok" and results["e"]["cached"] is True
    assert http_server.hits["/a"] == 1
    check_json(library)   # without --max-age everything is checked again
    assert http_server.hits["/a"] == 2
    status = links_cache.last_status(library.parent, "e", {"url": url})
    assert status["status"] == "ok" and status["url"] == url
    from helpers import run as run_cli
    shown = json.loads(run_cli("show", "e", "--json", library=library).output)
    assert shown["link"]["status"] == "ok"


def test_fix_can_use_a_cached_verdict(library, http_server):
    new = http_server.route("/b", send(200, page(ARTICLE)))
    old = http_server.route("/a", redirect(new, 301))
    one(library, old)
    hits = http_server.hits["/a"]
    results, _ = check_json(library, "--max-age", "1d", "--fix")
    assert results["e"]["cached"] is True and http_server.hits["/a"] == hits
    from clippings.library import Library
    assert Library.load(library).record("e").fields["url"] == new


def test_table_groups_by_status_and_markdown_has_a_section_per_status(library, http_server):
    ok = http_server.route("/ok", send(200, page(ARTICLE)))
    make_library(library, {"good": {"url": ok}, "bad": {"url": http_server.url("/x")}})
    table = run("check", library=library)
    assert table.exit_code == 1
    assert table.stdout.index("broken (1)") < table.stdout.index("ok (1)")
    assert table.stdout.index("bad") < table.stdout.index("good")
    assert "2 links checked: 1 broken, 1 ok" in table.stdout
    md = run("check", "--format", "markdown", library=library)
    assert "## broken (1)" in md.stdout and "## ok (1)" in md.stdout
    assert f"<{ok}>" in md.stdout


def test_ctrl_c_stops_and_prints_what_was_checked(library, http_server):
    ok = http_server.route("/ok", send(200, page(ARTICLE)))
    hang = http_server.route("/hang", never_answer(30))
    make_library(library, {"fast": {"url": ok}, "slow": {"url": hang}})
    code = ("import sys; from clippings.cli import main; "
            "from clippings.cli.check import check; main.add_command(check); "
            "sys.argv[0] = 'clippings'; main()")
    # As a shell starts a program: Ctrl-C neither ignored nor blocked. A child inherits
    # both from the process that starts it (an ignored or blocked SIGINT in the test
    # process, left by anything that ran before in it, made Python ignore the signal:
    # the check then ran on to the slow link's timeout and exited 0).
    parent_state = (signal.getsignal(signal.SIGINT),
                    signal.pthread_sigmask(signal.SIG_BLOCK, []))

    def as_from_a_shell():
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    proc = subprocess.Popen([sys.executable, "-c", code, "--library", str(library), "check",
                             "--format", "json", "--timeout", "25"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                            preexec_fn=as_from_a_shell)
    deadline = time.monotonic() + 60   # a busy machine starts Python slowly
    while not (http_server.hits["/hang"] and http_server.hits["/ok"]):
        assert time.monotonic() < deadline and proc.poll() is None, "no requests came"
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    # Longer than the slow link's timeout (25 s): a failure then means it never stopped.
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, err, parent_state)
    assert [r["key"] for r in json.loads(out)] == ["fast"]
    assert "interrupted: 1 of 2 links checked" in err


def test_bad_max_age_is_a_usage_error(library):
    make_library(library, {"e": {"url": "http://127.0.0.1:9/"}})
    assert run("check", "--max-age", "soon", library=library).exit_code == 2


# --------------------------------------------------------------------------- pure parts

def test_containment_is_high_for_the_same_text_in_a_bigger_page():
    assert L.containment(ARTICLE, "Menü Startseite " + ARTICLE + " Kommentare (3)") == 1.0
    assert L.containment(ARTICLE, OTHER) == 0.0
    half = " ".join(ARTICLE.split()[:25])
    assert 0.3 < L.containment(ARTICLE, half + " " + OTHER) < 0.7
    assert L.containment("", ARTICLE) is None


def test_drift_score_ignores_snapshots_too_short_to_judge():
    assert L.drift_score("Kurz.", page(OTHER).decode()) is None


@pytest.mark.parametrize("title", ["Page not found", "404 - Seite nicht gefunden",
                                   "Ошибка 404", "Fehlerseite | taz.de"])
def test_soft_404_titles(title):
    assert L.soft_404_reason(page(ARTICLE, title).decode())


@pytest.mark.parametrize("title", ["Die Funde im Keller", "Found in translation",
                                   "Nicht gefundene Schätze", "Artikel 404",
                                   "Die Ursache wurde bis heute nicht gefunden",
                                   "Причина аварии в Подмосковье не найдена"])
def test_real_articles_are_not_soft_404(title):
    assert L.soft_404_reason(page(ARTICLE, title).decode()) is None


REALPAGES = REPO.parent / "shared" / "realpages"


@pytest.mark.skipif(not REALPAGES.is_dir(), reason="../shared/realpages is not there")
def test_real_press_pages_are_neither_soft_404_nor_drifted_from_themselves():
    from clippings.http import decode_body
    pages = sorted(REALPAGES.glob("*.html"))[:40]
    texts = [decode_body(p.read_bytes(), None)[0] for p in pages]
    assert [p.name for p, t in zip(pages, texts) if L.soft_404_reason(t)] == []
    # A page's own main text is still in it; another page's is not.
    judged = [(t, L.main_text(t)) for t in texts]
    judged = [(t, m) for t, m in judged if len(m.split()) >= L.MIN_SNAPSHOT_WORDS]
    assert len(judged) >= 20
    same = [L.drift_score(m, t) for t, m in judged]
    other = [L.drift_score(judged[i - 1][1], t) for i, (t, _m) in enumerate(judged)]
    assert min(same) >= 0.9
    assert max(other) < L.DRIFT_THRESHOLD


def test_permanent_target_stops_at_the_first_temporary_hop():
    hops = [("http://a/1", 301), ("https://a/1", 308), ("https://a/2", 302)]
    assert L.permanent_target(hops, "https://a/3") == "https://a/2"
    assert L.permanent_target(hops[:2], "https://a/2") == "https://a/2"
    assert L.permanent_target([("http://a/1", 302)], "http://a/2") is None


@pytest.mark.parametrize("url,final,home", [
    ("http://a.de/2016/x.html", "http://a.de/", True),
    ("http://rbth.com/articles/1", "https://de.rbth.com/de/", True),
    ("http://a.de/?p=12", "http://a.de/index.php", True),
    ("http://a.de/", "https://a.de/", False),
    ("http://a.de/2016/x.html", "http://a.de/2016/x/", False),
    # Without the site's home page to compare with: real language codes only.
    ("http://a.de/2016/x.html", "http://a.de/en-us/", True),
    ("http://a.de/temp", "http://a.de/ok", False),
    ("http://a.de/temp", "http://a.de/tv", False),
])
def test_redirected_home(url, final, home):
    assert bool(L.redirected_home(url, final, [(url, 301)])) is home


def test_fixes_keep_an_earlier_original_url_and_skip_edited_entries():
    r = L.Result("k", "http://a/1", L.Status.REDIRECTED, new_url="http://a/2")
    fields = {"url": "http://a/1", "origurl": "http://first/"}
    assert L.fixes([r], current=lambda k: fields) == {"k": {"url": "http://a/2"}}
    assert L.fixes([r], current=lambda k: {"url": "http://elsewhere/"}) == {}


def test_parse_duration():
    assert links_cache.parse_duration("7d").total_seconds() == 7 * 86400
    assert links_cache.parse_duration("1d12h").total_seconds() == 36 * 3600
    assert links_cache.parse_duration("90").total_seconds() == 90
    with pytest.raises(UsageError):
        links_cache.parse_duration("7 days")


def test_wayback_timestamps():
    assert L.wayback_timestamp("2017-06-26") == "20170626"
    assert L.wayback_timestamp("2017") == "2017"
    assert L.wayback_timestamp("") == ""
    assert L.iso_from_timestamp("20160702093000") == "2016-07-02"


def test_unreachable_archive_does_not_stop_the_check(library, http_server,
                                                      monkeypatch):
    monkeypatch.setenv("CLIPPINGS_WAYBACK_URL", f"http://127.0.0.1:{unused_port()}")
    make_library(library, {"a": {"url": http_server.url("/a")},
                           "b": {"url": http_server.url("/b")}})
    results, code = check_json(library, "--concurrency", "1")
    assert [results[k]["status"] for k in "ab"] == ["broken", "broken"] and code == 1
    assert all("web archive lookup failed" in results[k]["message"] for k in "ab")


def test_offline_machine_is_a_network_error_not_rotten_links(library):
    from helpers import run as run_cli
    library.write_text("".join(
        f"@online{{e{i}, title = {{T}}, date = {{2020}}, url = {{https://h{i}.invalid/x}}}}\n"
        for i in range(3)), encoding="utf-8")
    (library.parent / "clippings.toml").write_text('wayback_url = "https://archive.invalid"\n')
    result = run_cli("check", library=library)
    assert result.exit_code == 3
    assert "network seems to be down" in result.stderr
    assert not (library.parent / "index" / "links.json").exists()
    # With one host that answers, the same dead hosts are ordinary rot (exit 1).
    from servers import TestServer, send
    with TestServer() as server:
        server.route("/ok", send(200, b"<html><title>Artikel</title><p>" + b"Text " * 300))
        with library.open("a", encoding="utf-8") as handle:
            handle.write(f"@online{{ok, title = {{T}}, date = {{2020}}, "
                         f"url = {{{server.url('/ok')}}}}}\n")
        result = run_cli("check", library=library)
    assert result.exit_code == 1 and "network" not in result.stderr


def test_spacing_between_requests_to_one_host(library):
    from helpers import run as run_cli
    from servers import TestServer, send
    with TestServer() as server:
        for i in range(3):
            server.route(f"/{i}", send(200, b"<html><title>Artikel</title><p>" + b"Wort " * 300))
        library.write_text("".join(
            f"@online{{e{i}, title = {{T}}, date = {{2020}}, url = {{{server.url(f'/{i}')}}}}}\n"
            for i in range(3)), encoding="utf-8")
        result = run_cli("check", "--spacing", "0.3", library=library)
        starts = sorted(seen.at for seen in server.seen)
    assert result.exit_code == 0, result.output
    assert all(b - a >= 0.28 for a, b in zip(starts, starts[1:]))


# --------------------------------------------------------------------------- ownership

def test_fix_writes_only_into_the_entry_that_owns_the_field(library, http_server, wayback):
    """A crossref child with its own working URL never gets its parent's archive copy;
    a broken URL the child inherits is checked and fixed at the parent."""
    wayback()
    fine = http_server.route("/kapitel", send(200, page(ARTICLE)))
    library.write_text(
        "@collection{buch, title = {Handbuch}, date = {2016},\n"
        f"  url = {{{http_server.url('/buch')}}},\n"
        "  archiveurl = {http://web.archive.org/web/2016/buch}}\n\n"
        f"@incollection{{kap, title = {{Kapitel}}, crossref = {{buch}}, url = {{{fine}}}}}\n\n"
        "@incollection{erbe, title = {Erbe}, crossref = {buch}}\n", encoding="utf-8")
    results, code = check_json(library, "--fix")
    assert results["kap"]["status"] == "ok"
    assert "erbe" not in results and results["buch"]["status"] == "broken"
    from clippings.library import Library
    lib = Library.load(library)
    assert "archiveurl" not in lib.record("kap", resolve=False).fields
    assert "archiveurl" not in lib.record("erbe", resolve=False).fields
    # Asking for the child that inherits its URL checks the parent's link.
    results, _ = check_json(library, "erbe")
    assert list(results) == ["buch", "buch:archiveurl"]


def test_show_reports_only_the_result_of_the_url_the_entry_has_now(library, http_server):
    dead = http_server.url("/weg")
    one(library, dead)
    assert json.loads(run("show", "e", "--json", library=library).output)["link"][
        "status"] == "broken"
    fine = http_server.route("/da", send(200, page(ARTICLE)))
    run("set", "e", f"url={fine}", library=library)
    shown = run("show", "e", library=library).output
    assert json.loads(run("show", "e", "--json", library=library).output)["link"] is None
    assert "broken" not in shown
    # Removed, and a new entry takes the key: the old entry's result is not the new one's.
    run("set", "e", f"url={dead}", library=library)
    check_json(library)
    run("rm", "e", library=library)
    run("add", "--no-fetch", "--key", "e", "--set", "title=Neu", "--set", f"url={fine}",
        library=library)
    assert json.loads(run("show", "e", "--json", library=library).output)["link"] is None


# --------------------------------------------------------------------------- offline

def _invalid_library(library: Path, n: int) -> None:
    library.write_text("".join(
        f"@online{{e{i}, title = {{T}}, date = {{2020}}, url = {{https://h{i}.invalid/x}}}}\n"
        for i in range(n)), encoding="utf-8")


@pytest.mark.parametrize("args", [(), ("e0",), ("--fix",)])
def test_one_link_offline_is_a_network_error_and_nothing_is_cached(library, args):
    """No host resolves, not even the web archive: exit 3 and one line, for one link too,
    and `show` does not learn that the link is gone."""
    _invalid_library(library, 1)
    (library.parent / "clippings.toml").write_text('wayback_url = "https://archive.invalid"\n')
    before = library.read_bytes()
    result = run("check", *args, library=library)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("clippings: error:")
    assert "network seems to be down" in result.stderr
    assert not (library.parent / "index" / "links.json").exists()
    assert library.read_bytes() == before
    assert "gone" not in run("show", "e0", library=library).output


def test_one_unknown_host_while_the_archive_resolves_is_gone(library, wayback):
    wayback()   # the archive answers on 127.0.0.1: DNS works, only this host is unknown
    _invalid_library(library, 1)
    results, code = check_json(library)
    assert results["e0"]["status"] == "gone" and code == 1
    assert "no archived copy" in results["e0"]["message"]


def test_current_results_leave_out_urls_the_entries_no_longer_have(library, http_server):
    dead = http_server.url("/weg")
    fine = http_server.route("/da", send(200, page(ARTICLE)))
    make_library(library, {"a": {"url": dead}, "b": {"url": fine}})
    check_json(library)
    now = links_cache.current_results(library.parent, [("a", {"url": fine}),
                                                       ("b", {"url": fine})])
    assert list(now) == ["b"] and now["b"]["status"] == "ok"
