"""Many editors at once through the web while the command line writes too: every change
lands or is refused with a clear message, nothing is lost; and a server killed in the
middle of saving never leaves a broken library.bib."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
import uuid

import httpx

from clippings.config import load_settings
from clippings.library import Library
from clippings.web.app import create_app
from clippings.web.users import Users
from webhelpers import ServerThread, csrf_of, http_login, make_library, serve_process

EDITORS = 20
ROUNDS = 2
CLI_ADDS = 8


def _page_html(title: str) -> str:
    return (f"<html lang='de'><head><meta property='og:title' content='{title}'>"
            f"<meta property='og:site_name' content='Zeitung {title[-6:]}'></head><body>"
            f"<article><h1>{title}</h1><p>Ein Bericht, der nur für diesen Test geschrieben "
            f"wurde und sonst nirgends steht: {title}.</p></article></body></html>")


def _editor(base: str, token: str, outcomes: list, errors: list) -> None:
    try:
        with httpx.Client(base_url=base, follow_redirects=False, timeout=120) as web:
            csrf = http_login(web)
            for _ in range(ROUNDS):
                title = f"Testbericht {uuid.uuid4().hex} {uuid.uuid4().hex[:6]}"
                clip = web.post("/clip", data={"token": token, "html": _page_html(title),
                                               "url": f"https://news.example/{uuid.uuid4().hex}"})
                assert clip.status_code == 303, clip.text
                proposal = web.get(clip.headers["location"])
                form = dict(re.findall(r'<input id="f-(\w+)" name="\w+" value="([^"]*)"',
                                       proposal.text))
                form.update(csrf=csrf, type="online")
                saved = web.post(clip.headers["location"], data=form)
                outcomes.append(("add", title, saved.status_code, saved.text[:300]))
                if saved.status_code != 303:
                    continue
                key = saved.headers["location"].split("/entry/")[1].split("?")[0]
                page = web.get(f"/entry/{key}/edit").text
                fields = dict(re.findall(r'<input id="f-(\w+)" name="\w+" value="([^"]*)"',
                                         page))
                note = f"Notiz {uuid.uuid4().hex}"
                fields.update(csrf=csrf_of(page), note=note,
                              version=re.search(r'name="version" value="(\w+)"',
                                                page).group(1))
                edited = web.post(f"/entry/{key}/edit", data=fields)
                outcomes.append(("edit", note, edited.status_code, edited.text[:300]))
    except Exception as exc:   # noqa: BLE001 - reported by the test
        errors.append(repr(exc))


def test_twenty_editors_and_the_cli_at_once(tmp_path):
    bib = make_library(tmp_path)
    token = Users.of(tmp_path).token("anna")
    settings = load_settings(tmp_path)
    app = create_app(bib, settings)
    outcomes, errors, cli = [], [], []

    def cli_writer():
        for i in range(CLI_ADDS):
            title = f"Kommandozeile {uuid.uuid4().hex}"
            done = subprocess.run(
                [sys.executable, "-m", "clippings", "--library", str(bib), "add",
                 "--no-fetch", "--type", "misc", "--set", f"title={title}"],
                capture_output=True, text=True, timeout=120)
            cli.append((title, done.returncode, done.stderr))

    with ServerThread(app) as base:
        threads = [threading.Thread(target=_editor, args=(base, token, outcomes, errors))
                   for _ in range(EDITORS)]
        threads.append(threading.Thread(target=cli_writer))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
    assert not errors, errors
    assert len(outcomes) >= EDITORS * ROUNDS
    text = bib.read_text(encoding="utf-8")
    Library.load(bib)   # still a valid library
    for kind, value, status, body in outcomes:
        # landed, or refused with a clear message (never a server error)
        assert status in (303, 409), (kind, status, body)
        if status == 303:
            assert value in text, f"{kind} {value} was confirmed but is not in library.bib"
        else:
            assert "clippings: error" not in body and ("changed" in body or "locked" in body)
    landed = sum(1 for _, _, status, _ in outcomes if status == 303)
    assert landed >= len(outcomes) * 0.9
    for title, code, stderr in cli:
        assert code == 0 or "error:" in stderr, stderr
        if code == 0:
            assert title in text
    assert sum(1 for _, code, _ in cli if code == 0) == CLI_ADDS


def test_killing_the_server_mid_save_never_breaks_the_library(tmp_path):
    bib = make_library(tmp_path)
    for attempt in range(3):
        server, base = serve_process(bib)
        try:
            stop = threading.Event()
            saves = []

            def edit_loop():
                try:
                    with httpx.Client(base_url=base, timeout=5) as web:
                        http_login(web)
                        n = 0
                        while not stop.is_set():
                            page = web.get("/entry/lohse2017dossier/edit").text
                            fields = dict(re.findall(
                                r'<input id="f-(\w+)" name="\w+" value="([^"]*)"', page))
                            n += 1
                            fields.update(csrf=csrf_of(page), note=f"Runde {attempt}.{n} "
                                          + "x" * 2000, version=re.search(
                                              r'name="version" value="(\w+)"', page).group(1))
                            saves.append(web.post("/entry/lohse2017dossier/edit",
                                                  data=fields).status_code)
                except httpx.HTTPError:
                    pass   # the server was killed under us: expected
            worker = threading.Thread(target=edit_loop)
            worker.start()
            deadline = time.monotonic() + 120
            while len(saves) < 2 and time.monotonic() < deadline:   # saving is under way
                time.sleep(0.02)
            time.sleep(0.05 + attempt * 0.11)   # then kill it at some point of a save
        finally:
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=10)
            stop.set()
            worker.join(timeout=10)
        assert saves, "no save happened before the kill"
        lib = Library.load(bib)          # parses: never half-written
        assert len(lib) == 17
