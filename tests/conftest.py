from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """An empty library in a temporary folder; returns the path of its library.bib."""
    bib = tmp_path / "library.bib"
    bib.write_text("% test library\n", encoding="utf-8")
    (tmp_path / "snapshots").mkdir()
    return bib


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """A copy of the shipped example library.bib in a temporary folder."""
    bib = tmp_path / "library.bib"
    shutil.copy(REPO / "library.bib", bib)
    return bib


# ---------------------------------------------------------------------------
# HTTP test servers (owner: clippings/http.py; helpers live in tests/servers.py)
# ---------------------------------------------------------------------------

import sys  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))   # lets tests `import servers`

from servers import TestServer, make_self_signed_cert, tls_context  # noqa: E402


@pytest.fixture
def http_server():
    """A fresh threaded HTTP server on 127.0.0.1; add routes with `http_server.route()`."""
    with TestServer() as server:
        yield server


@pytest.fixture(scope="session")
def self_signed_cert(tmp_path_factory):
    """(cert, key) paths of a certificate for 127.0.0.1 made at test time."""
    made = make_self_signed_cert(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("neither the openssl command nor the cryptography package is available")
    return made


@pytest.fixture
def https_server(self_signed_cert):
    """Like http_server, over TLS with a self-signed certificate."""
    with TestServer(tls=tls_context(*self_signed_cert)) as server:
        yield server


# ---------------------------------------------------------------------------
# A real PostgreSQL server for the search backend (owner: clippings/search/pg.py)
# ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres_url():
    """URL of a PostgreSQL server started for this session. Skips when PostgreSQL is not
    installed, unless CLIPPINGS_CI=1 (set by .ci/run): there it fails."""
    import os

    from pgserver import PostgresServer
    try:
        server = PostgresServer()
        url = server.start()
    except (RuntimeError, OSError, KeyError) as exc:
        if os.environ.get("CLIPPINGS_CI") == "1":
            pytest.fail(f"cannot start PostgreSQL for the tests: {exc}")
        pytest.skip(f"PostgreSQL not available: {exc}")
    yield url
    from clippings.search import pg
    for found in list(pg._pools.values()):
        found.close()
    pg._pools.clear()
    server.stop()
