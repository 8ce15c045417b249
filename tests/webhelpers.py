"""Shared pieces of the web tests: a library with an editor account, a logged-in client,
the CSRF token of a page."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from starlette.testclient import TestClient

from clippings.config import load_settings
from clippings.web.app import create_app
from clippings.web.users import Users

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"


def make_library(folder: Path, allow_private: bool = True) -> Path:
    bib = folder / "library.bib"
    shutil.copy(REPO / "library.bib", bib)
    (folder / "snapshots").mkdir(exist_ok=True)
    Users.of(folder).add("anna", PASSWORD)
    return bib


def make_client(bib: Path, allow_private: bool = True, **options) -> TestClient:
    settings = load_settings(bib.parent)
    settings.allow_private_addresses = allow_private
    app = create_app(bib, settings, **options)
    return TestClient(app, raise_server_exceptions=False, follow_redirects=False)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def login(client: TestClient, name: str = "anna", password: str = PASSWORD):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"csrf": token, "name": name, "password": password,
                                       "next": "/"})


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_process(bib: Path, *args: str, timeout: float = 60):
    """`clippings serve` on `bib` as a real process on a free loopback port, once it
    answers: (process, its http://127.0.0.1:PORT address). The caller stops it."""
    import os
    import subprocess
    import sys
    import time

    import httpx
    port = free_port()
    env = dict(os.environ, CLIPPINGS_LIBRARY=str(bib))
    server = subprocess.Popen([sys.executable, "-m", "clippings", "serve", "--port",
                               str(port), *args], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/login", timeout=1)
            return server, base
        except httpx.HTTPError:
            assert server.poll() is None, server.stderr.read().decode()
            time.sleep(0.05)
    server.kill()
    raise AssertionError("the server did not start")


class ServerThread:
    """The app under uvicorn on a free loopback port, in a thread: `with ServerThread(app)
    as base:` gives its http://127.0.0.1:PORT address."""

    def __init__(self, app):
        import uvicorn
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning"))

    def __enter__(self) -> str:
        import threading
        import time
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        for _ in range(400):
            if self.server.started:
                break
            time.sleep(0.025)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def http_login(client, name: str = "anna", password: str = PASSWORD):
    """Log an httpx client in against a running server."""
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"csrf": token, "name": name, "password": password,
                                          "next": "/"})
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/add").text)
