"""Several server processes on one library (`serve --workers N`, or two servers): failed
logins are counted once for all of them (an attacker must not get N times the tries),
accounts changed on the command line count at once, and a proposal or batch started in
one worker is shown and confirmed by any other."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time

import httpx
import pytest

from clippings.web.throttle import Throttle, logins_path
from webhelpers import PASSWORD, csrf_of, login, make_client, make_library, serve_process


@pytest.fixture
def bib(tmp_path):
    return make_library(tmp_path)


def test_two_app_instances_share_the_failed_login_count(bib):
    with make_client(bib) as one, make_client(bib) as two:
        assert login(one, password="wrong password").status_code == 401
        assert login(two, password="wrong password").status_code == 401
        assert login(one, password="wrong password").status_code == 401
        # the fourth try waits, whichever process answers it; so does the right password
        assert login(two, password="wrong password").status_code == 429
        assert login(one).status_code == 429
    assert logins_path(bib.parent).is_file()


def test_counts_are_per_address_and_per_user_name(bib):
    from starlette.testclient import TestClient
    from clippings.config import load_settings
    from clippings.web.app import create_app
    from clippings.web.users import Users
    Users.of(bib.parent).add("ben", PASSWORD)
    app = create_app(bib, load_settings(bib.parent))

    def client(address):
        return TestClient(app, client=(address, 50000), follow_redirects=False)
    with client("10.0.0.1") as first:
        for _ in range(3):
            assert login(first, password="wrong password").status_code == 401
        assert login(first, "ben").status_code == 429          # this address waits
    with client("10.0.0.2") as other:
        assert login(other).status_code == 429                  # anna's name waits
        assert login(other, "ben").status_code == 303           # ben from elsewhere: fine


def test_a_successful_login_clears_the_count(bib):
    with make_client(bib) as c:
        for _ in range(2):
            assert login(c, password="wrong password").status_code == 401
        assert login(c).status_code == 303
        for _ in range(3):   # three free tries again
            assert login(c, password="wrong password").status_code == 401


def _at_once(throttles, check):
    start = threading.Barrier(len(throttles))
    outcomes = []

    def attempt(throttle):
        start.wait()
        outcomes.append(throttle.attempt(("ip:10.9.9.9", "user:anna"), check))
    threads = [threading.Thread(target=attempt, args=(t,)) for t in throttles]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_parallel_guesses_cannot_all_slip_through(tmp_path):
    """Guesses sent at the same moment to different processes: only FREE are checked."""
    checked = []

    def wrong_password():
        checked.append(1)
        time.sleep(0.02)   # as long as a password hash takes, roughly
        return False
    outcomes = _at_once([Throttle(logins_path(tmp_path)) for _ in range(8)], wrong_password)
    assert len(checked) == Throttle.FREE
    assert sorted(wait == 0 for wait, _ in outcomes).count(True) == Throttle.FREE
    assert all(0 < wait <= 2 for wait, _ in outcomes if wait)


def test_people_logging_in_at_once_from_one_address_all_get_in(tmp_path):
    outcomes = _at_once([Throttle(logins_path(tmp_path)) for _ in range(8)], lambda: True)
    assert outcomes == [(0.0, True)] * 8


def test_the_count_survives_a_deleted_index_folder(bib):
    import shutil
    with make_client(bib) as c:
        shutil.rmtree(bib.parent / "index", ignore_errors=True)
        assert login(c, password="wrong password").status_code == 401
        assert logins_path(bib.parent).is_file()


def _try_login(base: str, password: str, name: str = "anna", headers=None) -> int:
    # A new connection each time: with several workers, each may land on another one.
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30,
                      headers=headers or {}) as web:
        token = csrf_of(web.get("/login").text)
        return web.post("/login", data={"csrf": token, "name": name,
                                        "password": password, "next": "/"}).status_code


def test_two_server_processes_on_one_library_share_the_count(bib):
    servers = [serve_process(bib), serve_process(bib)]
    try:
        (_, a), (_, b) = servers
        assert [_try_login(base, "wrong password") for base in (a, b, a)] == [401] * 3
        assert _try_login(b, "wrong password") == 429
        assert _try_login(a, PASSWORD) == 429
    finally:
        for server, _ in servers:
            server.terminate()
            server.wait(timeout=20)


def test_serve_with_two_workers_gives_three_tries_in_all(bib):
    server, base = serve_process(bib, "--workers", "2")
    try:
        codes = [_try_login(base, "wrong password") for _ in range(5)]
        assert codes == [401] * Throttle.FREE + [429] * 2
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_accounts_changed_on_the_command_line_count_at_once(bib):
    """`clippings user rm` ends a running server's sessions of that user; `user add`
    lets the new user log in without a restart."""
    from click.testing import CliRunner
    from clippings.cli import main
    with make_client(bib) as c:
        assert login(c).status_code == 303
        token = csrf_of(c.get("/add").text)
        removed = CliRunner().invoke(main, ["--library", str(bib), "user", "rm", "anna"])
        assert removed.exit_code == 0, removed.output
        answer = c.post("/entry/lohse2017dossier/keywords",
                        data={"csrf": token, "keywords": "weg"})
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
        assert "weg" not in bib.read_text(encoding="utf-8")
        added = CliRunner().invoke(main, ["--library", str(bib), "user", "add", "ben"],
                                   input="another password\n")
        assert added.exit_code == 0, added.output
        assert login(c, "ben", "another password").status_code == 303
        assert "Abmelden" in c.get("/").text


def _pair(bib):
    """Two app instances on one library, as two worker processes, with one session."""
    from starlette.testclient import TestClient
    from clippings.config import load_settings
    from clippings.web.app import create_app

    def app():
        settings = load_settings(bib.parent)
        settings.allow_private_addresses = True   # the test pages are on 127.0.0.1
        return create_app(bib, settings)
    one = TestClient(app(), follow_redirects=False)
    two = TestClient(app(), follow_redirects=False)
    return one, two


ARTICLE = ("<html lang='de'><head><meta property='og:title' content='{title}'>"
           "<meta property='og:site_name' content='HNA'></head><body><article><h1>{title}</h1>"
           "<p>Ein Bericht über die Partnerschaft, der nur für diesen Test geschrieben wurde.</p>"
           "</article></body></html>")


def test_a_proposal_fetched_by_one_worker_is_confirmed_by_another(bib, http_server):
    from servers import send
    url = http_server.route("/artikel", send(200, ARTICLE.format(
        title="Partnerschaft mit Jaroslawl").encode()))
    one, two = _pair(bib)
    with one, two:
        assert login(one).status_code == 303
        two.cookies.update(one.cookies)          # the browser's cookie, sent to either
        token = csrf_of(two.get("/add").text)
        fetched = one.post("/add", data={"csrf": token, "sources": url})
        assert fetched.status_code == 303, fetched.text
        proposal = two.get(fetched.headers["location"])
        assert proposal.status_code == 200 and "Partnerschaft mit Jaroslawl" in proposal.text
        form = dict(re.findall(r'<input id="f-(\w+)" name="\w+" value="([^"]*)"',
                               proposal.text))
        form.update(csrf=token, type="online")
        saved = two.post(fetched.headers["location"], data=form)
        assert saved.status_code == 303, saved.text
        assert "Partnerschaft mit Jaroslawl" in bib.read_text(encoding="utf-8")
        # taken: neither worker offers it again; asking again leads to the saved entry
        again = one.get(fetched.headers["location"])
        assert again.status_code == 303
        assert again.headers["location"].endswith("?message=already_saved")


def test_a_batch_started_by_one_worker_shows_its_progress_in_another(bib, http_server):
    from servers import send
    urls = [http_server.route(f"/b{i}", send(200, ARTICLE.format(
        title=f"Bericht Nummer {i}").encode())) for i in range(2)]
    one, two = _pair(bib)
    with one, two:
        login(one)
        two.cookies.update(one.cookies)
        token = csrf_of(one.get("/add").text)
        started = one.post("/add", data={"csrf": token, "sources": "\n".join(urls)})
        assert started.status_code == 303
        for _ in range(400):
            state = two.get(started.headers["location"] + ".json").json()
            if state["finished"]:
                break
            time.sleep(0.05)
        assert state["total"] == 2 and all(d["key"] for d in state["done"])


def test_a_changed_pending_file_is_never_read(bib, http_server):
    from servers import send
    from clippings.web.pending import PENDING_DIR
    url = http_server.route("/c", send(200, ARTICLE.format(title="Ein Bericht").encode()))
    one, _ = _pair(bib)
    with one:
        login(one)
        token = csrf_of(one.get("/add").text)
        location = one.post("/add", data={"csrf": token, "sources": url}).headers["location"]
        path = bib.parent / PENDING_DIR / (location.rsplit("/", 1)[1] + ".pickle")
        raw = bytearray(path.read_bytes())
        raw[-5] ^= 1
        path.write_bytes(bytes(raw))
        assert one.get(location).status_code == 404
        assert one.get("/add/proposal/..%2F..%2Fweb-users").status_code == 404


def test_a_proposal_older_than_an_hour_expires_and_is_removed(bib, http_server):
    """The README's "pruned after an hour": an old proposal is refused (404 with the
    expiry message) and its file goes with the next fetch."""
    from servers import send
    from clippings.web.pending import PENDING_DIR, Pending
    url = http_server.route("/alt", send(200, ARTICLE.format(title="Ein alter Bericht")
                                         .encode()))
    one, _ = _pair(bib)
    with one:
        login(one)
        token = csrf_of(one.get("/add").text)
        location = one.post("/add", data={"csrf": token, "sources": url}).headers["location"]
        assert one.get(location).status_code == 200
        path = bib.parent / PENDING_DIR / (location.rsplit("/", 1)[1] + ".pickle")
        old = time.time() - Pending.TTL - 60
        os.utime(path, (old, old))
        expired = one.get(location, headers={"Accept-Language": "en"})
        assert expired.status_code == 404 and "expired" in expired.text
        assert one.post("/add", data={"csrf": token, "sources": url}).status_code == 303
        assert not path.exists()


def test_behind_a_proxy_the_users_own_addresses_are_counted(bib):
    """`serve --proxy ADDRESS`: X-Forwarded-For from that proxy names the user's address,
    so one office's failed logins do not lock out another's."""
    server, base = serve_process(bib, "--proxy", "127.0.0.1")
    try:
        office = {"X-Forwarded-For": "203.0.113.5"}
        other = {"X-Forwarded-For": "198.51.100.7"}
        assert [_try_login(base, "wrong password", "mallory", office)
                for _ in range(3)] == [401] * 3
        assert _try_login(base, "wrong password", "mallory2", office) == 429
        assert _try_login(base, PASSWORD, "anna", other) == 303
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_proxy_must_be_an_address(bib):
    done = subprocess.run([sys.executable, "-m", "clippings", "--library", str(bib), "serve",
                           "--proxy", "nginx.local"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "clippings: error: --proxy" in done.stderr


def test_serve_reads_allow_private_addresses_as_every_setting_is(tmp_path, monkeypatch):
    """A quoted "false" in clippings.toml keeps the protection on (it once read as true)."""
    from clippings.cli.web import _private_allowed
    monkeypatch.delenv("CLIPPINGS_ALLOW_PRIVATE_ADDRESSES", raising=False)
    assert _private_allowed(tmp_path) is False
    (tmp_path / "clippings.toml").write_text('allow_private_addresses = "false"\n', "utf-8")
    assert _private_allowed(tmp_path) is False
    (tmp_path / "clippings.toml").write_text("allow_private_addresses = true\n", "utf-8")
    assert _private_allowed(tmp_path) is True
    monkeypatch.setenv("CLIPPINGS_ALLOW_PRIVATE_ADDRESSES", "no")
    assert _private_allowed(tmp_path) is False


def test_a_starting_server_prepares_its_searches_before_anyone_searches(bib):
    """`clippings serve` brings the index up to date and prepares the search pages as it
    starts, in the background: the first search does not wait for a build."""
    from clippings.search import index
    folder = index.index_dir(bib.parent)
    assert not folder.exists()
    server, base = serve_process(bib)
    try:
        deadline = time.monotonic() + 30
        while not (folder / "vocabulary.marshal").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (folder / "vocabulary.marshal").exists()      # built with no search asked
        answer = httpx.get(base + "/", params={"q": "Partnerschaft"}, timeout=30)
        assert answer.status_code == 200 and "<mark>" in answer.text
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_at_most_two_searches_compute_at_once_and_all_are_answered(bib):
    """A worker's searches take turns for the GIL anyway: the others wait in the event
    loop (views.SEARCH_THREADS), none is refused."""
    import asyncio

    from clippings.config import load_settings
    from clippings.web import views
    from clippings.web.app import create_app
    running, most = 0, 0
    lock = threading.Lock()
    compute = views.run_search

    def counted(request, params):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.05)          # long enough for the others to arrive
            return compute(request, params)
        finally:
            with lock:
                running -= 1

    app = create_app(bib, load_settings(bib.parent), page_cache=0)

    async def ask_at_once():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return await asyncio.gather(*(c.get("/", params={"q": word}) for word in
                                          ["Partnerschaft", "Wolgograd", "Kaluga",
                                           "Rathaus", "Jugend", "Frieden", "Lohse",
                                           "Spremberg"]))

    views.run_search = counted
    try:
        answers = asyncio.run(ask_at_once())
    finally:
        views.run_search = compute
    assert [a.status_code for a in answers] == [200] * 8
    assert most == views.SEARCH_THREADS
