"""Readers on a read-only URL (`search_read_url`: a streaming replica or a read-only role)
while `clippings index` writes to `search_backend`; `serve --backend`. Against the real
test server (`postgres_url`): a second database stands in for a standby that has not
replicated yet, a role with SELECT rights only for a read-only login."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from clippings.search import find, pg
from helpers import run, run_process
from test_search_pg import make_library


def _database(postgres_url: str, name: str) -> str:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres_url.rsplit("/", 1)[0] + "/" + name


def _count(url: str, schema: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(f'SELECT count(*) FROM "{schema}".doc').fetchone()[0]


def _configure(bib: Path, **settings: str) -> None:
    (bib.parent / "clippings.toml").write_text(
        "".join(f'{name} = "{value}"\n' for name, value in settings.items()), "utf-8")


@pytest.fixture
def standby(postgres_url, tmp_path):
    """A library whose readers query a 'standby' database, written by `index` in the
    primary; the standby holds an older copy until it is 'replicated' by hand."""
    bib = make_library(tmp_path / "team")
    standby_url = _database(postgres_url, f"standby_{tmp_path.name[-20:].lower()}")
    schema = f"t_{tmp_path.name[-40:]}"
    _configure(bib, search_backend=postgres_url, search_read_url=standby_url,
               search_schema=schema)
    assert run("index", "--backend", standby_url, library=bib).exit_code == 0
    return bib, postgres_url, standby_url, schema


def test_readers_query_the_read_url_and_index_writes_the_primary(standby):
    bib, primary, replica, schema = standby
    added = run("add", "--no-fetch", "--set", "title=Tschaikowski-Abend in Kaluga",
                library=bib)
    key = added.output.strip()
    built = run("index", library=bib)
    assert built.exit_code == 0 and built.output.startswith("built the index: 18 entries")
    assert _count(primary, schema) == 18 and _count(replica, schema) == 17
    # The standby has not replicated the new entry yet: readers see what it holds.
    assert run("search", "Tschaikowski", "--keys", library=bib).output == ""
    assert run("search", "Blasorchester", "--keys", library=bib).output.split() == \
        ["spremberg2016schlaegt"]
    exported = run("export", "--query", "Blasorchester", "--format", "bibtex", library=bib)
    assert exported.exit_code == 0 and "spremberg2016schlaegt" in exported.output
    # A flag names one backend for reading and writing.
    assert run("search", "Tschaikowski", "--keys", "--backend", primary,
               library=bib).output.split() == [key]
    # Once the standby has the change, readers find it.
    assert run("index", "--backend", replica, library=bib).exit_code == 0
    assert run("search", "Tschaikowski", "--keys", library=bib).output.split() == [key]


def test_a_stale_index_is_updated_in_the_primary_not_the_replica(standby):
    bib, primary, replica, schema = standby
    assert run("index", library=bib).exit_code == 0
    assert run("rm", "spremberg2016schlaegt", "--keep-snapshot", library=bib).exit_code == 0
    # `search` finds the index stale: it brings the primary up to date, reads the standby.
    found = run("search", "Blasorchester", "--keys", library=bib)
    assert found.exit_code == 0 and found.output.split() == ["spremberg2016schlaegt"]
    assert _count(primary, schema) == 16 and _count(replica, schema) == 17


@pytest.fixture
def reader_url(postgres_url):
    """A login that may only read: SELECT on every table the server's owner creates
    (schemas are rebuilt and swapped, so the grants are default privileges)."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'reader'").fetchone()
        if not exists:
            conn.execute("CREATE ROLE reader LOGIN")
            conn.execute("ALTER ROLE reader SET default_transaction_read_only = on")
            conn.execute("ALTER DEFAULT PRIVILEGES FOR ROLE postgres "
                         "GRANT USAGE ON SCHEMAS TO reader")
            conn.execute("ALTER DEFAULT PRIVILEGES FOR ROLE postgres "
                         "GRANT SELECT ON TABLES TO reader")
    return postgres_url.replace("postgres@", "reader@", 1)


def test_a_read_only_login_serves_readers_while_the_primary_is_kept_current(
        tmp_path, postgres_url, reader_url):
    bib = make_library(tmp_path / "office")
    schema = f"t_{tmp_path.name[-40:]}"
    _configure(bib, search_backend=postgres_url, search_read_url=reader_url,
               search_schema=schema)
    # No `index` first: the first search builds the index through the primary.
    assert run("search", "Blasorchester", "--keys", library=bib).output.split() == \
        ["spremberg2016schlaegt"]
    assert run("set", "gorzka2018annaeherung", "note=Mit einem Kapitel über Jaroslawl",
               library=bib).exit_code == 0
    assert run("search", "Jaroslawl", "--keys", library=bib).output.split() == \
        ["gorzka2018annaeherung"]
    with psycopg.connect(reader_url) as conn:   # the login really cannot write
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute(f'DELETE FROM "{schema}".doc')
    refused = run("index", "--rebuild", "--backend", reader_url, library=bib)
    assert refused.exit_code == 2 and "is read-only" in refused.output


def test_read_url_must_be_postgresql(tmp_path):
    bib = make_library(tmp_path / "bad")
    _configure(bib, search_read_url="whoosh")
    result = run("search", "Kaluga", library=bib)
    assert result.exit_code == 2
    assert "search_read_url 'whoosh' is not a URL postgresql://" in result.output


def test_the_environment_sets_the_read_url(standby):
    bib, primary, replica, schema = standby
    run("add", "--no-fetch", "--set", "title=Tschaikowski-Abend in Kaluga", library=bib)
    # The variable wins over clippings.toml: readers now query the primary.
    proc = run_process("search", "Tschaikowski", "--keys", cwd=bib.parent,
                       env={"CLIPPINGS_LIBRARY": str(bib),
                            "CLIPPINGS_SEARCH_READ_URL": primary})
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.split()) == 1


def test_the_web_interface_searches_the_read_url(standby):
    from webhelpers import make_client
    bib, primary, replica, schema = standby
    run("add", "--no-fetch", "--set", "title=Tschaikowski-Abend in Kaluga", library=bib)
    client = make_client(bib)
    headers = {"Accept": "application/json"}
    # The entry is in library.bib but not yet on the standby.
    assert client.get("/?q=Tschaikowski", headers=headers).json()["total"] == 0
    page = client.get("/?q=Blasorchester", headers=headers).json()
    assert [h["key"] for h in page["hits"]] == ["spremberg2016schlaegt"]
    assert _count(primary, schema) == 18   # the server kept the primary up to date


def test_serve_refuses_an_unknown_backend_or_a_database_that_is_down(tmp_path):
    bib = make_library(tmp_path / "srv")
    unknown = run_process("serve", "--port", "0", "--backend", "elastic://x",
                          cwd=bib.parent, env={"CLIPPINGS_LIBRARY": str(bib)})
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines() == [
        "clippings: error: search backend 'elastic://x' is not known: use 'whoosh' or a "
        "URL postgresql://user@host/database"]
    down = run_process("serve", "--port", "0", "--backend",
                       "postgresql://clip:s3cret-pw@127.0.0.1:9/clippings",
                       cwd=bib.parent, env={"CLIPPINGS_LIBRARY": str(bib)})
    assert down.returncode == 3
    lines = down.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("clippings: error: search database ")
    assert "s3cret-pw" not in down.stderr


def test_serve_backend_flag_reaches_every_worker_process(tmp_path, postgres_url,
                                                         monkeypatch):
    import json

    from clippings.web.app import SERVE_ENV, app_from_environment
    bib = make_library(tmp_path / "workers")
    monkeypatch.setenv(SERVE_ENV, json.dumps({
        "bib_path": str(bib), "read_only": True, "allowed_hosts": None, "page_cache": 0,
        "allow_private_addresses": True, "backend": postgres_url}))
    from starlette.testclient import TestClient
    client = TestClient(app_from_environment())
    page = client.get("/?q=Blasorchester", headers={"Accept": "application/json"}).json()
    assert [h["key"] for h in page["hits"]] == ["spremberg2016schlaegt"]
    # The index lives in the database, not in the library folder.
    assert not (bib.parent / "index" / "search").exists()
    assert pg.schema_name(bib.parent) == "clippings_workers"
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT to_regclass('clippings_workers.doc')").fetchone()[0]


def test_a_reader_without_a_writable_backend_searches_the_database_as_it_is(
        standby):
    bib, primary, replica, schema = standby
    _configure(bib, search_read_url=replica, search_schema=schema)   # no search_backend
    run("add", "--no-fetch", "--set", "title=Tschaikowski-Abend in Kaluga", library=bib)
    assert run("search", "Tschaikowski", "--keys", library=bib).output == ""
    assert run("search", "Blasorchester", "--keys", library=bib).output.split() == \
        ["spremberg2016schlaegt"]
    assert _count(replica, schema) == 17
    assert not (bib.parent / "index" / "search").exists()   # no Whoosh index either


def test_similar_clippings_come_from_the_database(tmp_path, postgres_url):
    from clippings.library import Library
    from webhelpers import make_client
    bib = make_library(tmp_path / "similar")
    _configure(bib, search_backend=postgres_url)
    client = make_client(bib)
    answer = client.get("/entry/gorzka2018annaeherung/similar",
                        headers={"Accept": "application/json"})
    assert answer.status_code == 200
    found = [hit["key"] for hit in answer.json()]
    assert found and "gorzka2018annaeherung" not in found
    assert len(found) <= 5
    # each shares a title word or a keyword with the entry (what "similar" means here)
    record = Library.load(bib).record("gorzka2018annaeherung")
    words = re.findall(r"[^\W\d_]{5,}", record.fields["title"])
    words += [k.strip() for k in record.fields.get("keywords", "").split(",") if k.strip()]
    sharing = {hit.key for hit in find(bib, " OR ".join(
        [f"title:{w}" for w in words] + [f'tag:"{k}"' for k in words]), None)}
    assert set(found) <= sharing
    assert not (bib.parent / "index" / "search").exists()   # no Whoosh index was made
