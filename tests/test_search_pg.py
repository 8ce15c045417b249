"""The PostgreSQL search backend against a real server (`postgres_url`): the same hits as
Whoosh, facets and paging, incremental updates, one schema per library, a database that
is down, another schema version, two `index` runs at once."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
import sys
from pathlib import Path

import psycopg
import pytest

from clippings.search import find, page
from clippings.search import update as search_update
from clippings.search import pg
from clippings.search.pages import SAMPLED_AT_LEAST
from helpers import run, run_process
from test_search import CASES
from test_search import make_library as _shipped


@pytest.fixture(scope="module")
def twins(tmp_path_factory, postgres_url):
    """The same library indexed by Whoosh and by PostgreSQL."""
    whoosh_bib = make_library(tmp_path_factory.mktemp("twin_whoosh"))
    pg_bib = make_library(tmp_path_factory.mktemp("twin_pg"))
    search_update(whoosh_bib, backend="whoosh")
    search_update(pg_bib, backend=postgres_url)
    return whoosh_bib, pg_bib, postgres_url


@pytest.fixture
def fresh_pg(tmp_path, postgres_url):
    bib = make_library(tmp_path / "lib")
    (tmp_path / "lib" / "clippings.toml").write_text(
        f'search_backend = "{postgres_url}"\nsearch_schema = "t_{tmp_path.name[-40:]}"\n',
        "utf-8")
    return bib


def make_library(folder: Path) -> Path:
    """The shipped library with the fixture snapshots in `folder` (made if need be)."""
    folder.mkdir(parents=True, exist_ok=True)
    return _shipped(folder)


@pytest.mark.parametrize("name", list(CASES))
def test_both_backends_give_the_same_hits(twins, name):
    whoosh_bib, pg_bib, url = twins
    query = CASES[name][0]
    assert {h.key for h in find(pg_bib, query, None, backend=url)} == \
        {h.key for h in find(whoosh_bib, query, None, backend="whoosh")}


def test_same_snippets_and_facets_as_whoosh(twins):
    whoosh_bib, pg_bib, url = twins
    a = page(whoosh_bib, "Partnerschaft", limit=None, backend="whoosh")
    b = page(pg_bib, "Partnerschaft", limit=None, backend=url)
    assert a.total == b.total == len(b.hits) > 3
    assert {h.key: h.snippet for h in a.hits} == {h.key: h.snippet for h in b.hits}
    assert a.facets == b.facets
    assert set(b.facets) == {"year", "type", "journal", "lang", "keyword", "link"}
    assert ("article", sum(1 for h in b.hits if h.type == "article")) in b.facets["type"]


def test_facets_count_every_match_not_only_the_page(twins):
    _, pg_bib, url = twins
    everything = page(pg_bib, "year:1900..2100", limit=None, backend=url)
    first = page(pg_bib, "year:1900..2100", limit=2, backend=url)
    assert len(first.hits) == 2 and first.total == everything.total == 17
    assert first.facets == everything.facets
    assert sum(n for _, n in first.facets["year"]) == 17
    by_year = dict(first.facets["year"])
    assert by_year[2016] == len(find(pg_bib, "year:2016", None, backend=url))


def test_paging_walks_the_ranked_list(twins):
    _, pg_bib, url = twins
    whole = [h.key for h in find(pg_bib, "Partnerschaft", None, backend=url)]
    pages = [h.key for offset in range(0, len(whole), 2)
             for h in page(pg_bib, "Partnerschaft", offset=offset, limit=2,
                           backend=url).hits]
    assert pages == whole


def test_index_and_search_commands_use_the_setting(fresh_pg):
    first = run("index", library=fresh_pg)
    assert first.exit_code == 0 and first.output.startswith("built the index: 17 entries")
    assert run("index", library=fresh_pg).output.startswith("the index is up to date")
    # Nothing was written to the Whoosh folder: the database holds the index.
    assert not (fresh_pg.parent / "index" / "search").exists()
    hits = run("search", "Blasorchester", "--keys", library=fresh_pg)
    assert hits.output.split() == ["spremberg2016schlaegt"]


def test_changes_are_incremental(fresh_pg):
    run("index", library=fresh_pg)
    assert run("set", "gorzka2018annaeherung", "note=Mit einem Kapitel über Jaroslawl",
               library=fresh_pg).exit_code == 0
    assert run("rm", "spremberg2016schlaegt", "--keep-snapshot",
               library=fresh_pg).exit_code == 0
    updated = run("index", library=fresh_pg)
    assert updated.output.startswith("updated the index: 0 added, 1 changed, 1 removed")
    assert run("search", "Jaroslawl", "--keys", library=fresh_pg).output.split() == \
        ["gorzka2018annaeherung"]
    assert run("search", "Blasorchester", "--keys", library=fresh_pg).output == ""


def test_an_index_built_before_gets_the_year_and_shard_index(fresh_pg, postgres_url):
    """Samples of a year range are read from a (year, shard) index: `index` adds it to a
    schema built without it, without a rebuild."""
    run("index", library=fresh_pg)
    schema = f"t_{fresh_pg.parent.parent.name[-40:]}"
    for built_before in ("DROP INDEX {}.doc_year_shard_idx",      # layout 4, as it was
                         "CREATE INDEX doc_year_idx ON {}.doc (year)"):   # both
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(built_before.format(f'"{schema}"'))
        assert run("index", library=fresh_pg).output.startswith("the index is up to date")
        with psycopg.connect(postgres_url) as conn:
            assert conn.execute("SELECT to_regclass(%s), to_regclass(%s)",
                                (f'"{schema}".doc_year_shard_idx', f'"{schema}".doc_year_idx')
                                ).fetchone()[0] is not None
            assert conn.execute("SELECT to_regclass(%s)", (f'"{schema}".doc_year_idx',)
                                ).fetchone()[0] is None     # the year index it replaces
    assert run("search", "year:2016", "--keys", library=fresh_pg).output.split()


def _sample_table_rows(url: str, schema: str) -> tuple[list, list]:
    """(`doc`'s rows in the sample table's shards, the sample table's rows), by key."""
    with psycopg.connect(url) as conn:
        held = conn.execute(f'SELECT value FROM "{schema}".meta WHERE name = %s',
                            ("sample_shards",)).fetchone()[0]
        return (conn.execute(f'SELECT * FROM "{schema}".doc WHERE shard < %s ORDER BY key',
                             (held,)).fetchall(),
                conn.execute(f'SELECT * FROM "{schema}".doc_sample ORDER BY key').fetchall())


def test_the_sample_table_follows_every_write(fresh_pg, postgres_url, monkeypatch):
    """`doc_sample` holds exactly `doc`'s rows of its shards after a build, an edit, a
    removal, an added entry, a change-key update and a rebuild (made in a schema of
    another name, then renamed) followed by an edit."""
    monkeypatch.setattr(pg, "SAMPLE_TABLE_SHARDS", 128)    # about half of 17 entries
    schema = f"t_{fresh_pg.parent.parent.name[-40:]}"

    def same() -> int:
        in_doc, in_sample = _sample_table_rows(postgres_url, schema)
        assert in_sample == in_doc
        return len(in_sample)

    run("index", library=fresh_pg)
    assert 3 < same() < 15
    with psycopg.connect(postgres_url) as conn:     # written shard by shard, as built
        on_disk = [n for n, in conn.execute(f'SELECT shard FROM "{schema}".doc')]
        assert on_disk == sorted(on_disk) and len(set(on_disk)) > 3
    assert run("set", "gorzka2018annaeherung", "note=Jaroslawl", library=fresh_pg) \
        .exit_code == 0
    assert run("rm", "spremberg2016schlaegt", "--keep-snapshot", library=fresh_pg) \
        .exit_code == 0
    with fresh_pg.open("a", encoding="utf-8") as out:     # a hand edit: an entry added
        out.write("\n".join(f"@article{{added{i},\n  title = {{Kaluga {i}}},\n}}\n"
                             for i in range(12)))
    run("index", library=fresh_pg)
    assert same() > 3
    with psycopg.connect(postgres_url) as conn:            # an update in place
        conn.execute(f'UPDATE "{schema}".doc SET change = %s', ("x",))
    assert same() > 3
    assert run("index", "--rebuild", library=fresh_pg).exit_code == 0
    assert run("set", "gorzka2018annaeherung", "note=Samara", library=fresh_pg) \
        .exit_code == 0
    run("index", library=fresh_pg)
    assert same() > 3
    assert run("search", "Samara", "--keys", library=fresh_pg).output.split() == \
        ["gorzka2018annaeherung"]
    with psycopg.connect(postgres_url) as conn:
        conn.execute(f'TRUNCATE "{schema}".doc')
    assert same() == 0


def test_an_index_built_before_gets_its_sample_table(fresh_pg, postgres_url):
    """A schema without `doc_sample` (built by an earlier version) is searched through
    `doc`, and `index` adds the table, filled, without a rebuild."""
    run("index", library=fresh_pg)
    schema = f"t_{fresh_pg.parent.parent.name[-40:]}"
    wanted = run("search", "Partnerschaft", "--keys", library=fresh_pg).output
    with psycopg.connect(postgres_url) as conn:
        before = _sample_table_rows(postgres_url, schema)[1]
        conn.execute(f'DROP TABLE "{schema}".doc_sample')
        conn.execute(f'DROP FUNCTION "{schema}".doc_sample_follows CASCADE')
        conn.execute(f'DELETE FROM "{schema}".meta WHERE name = %s', ("sample_shards",))
    assert run("search", "Partnerschaft", "--keys", library=fresh_pg).output == wanted
    assert run("index", library=fresh_pg).output.startswith("the index is up to date")
    in_doc, in_sample = _sample_table_rows(postgres_url, schema)
    assert in_sample == in_doc == before and before
    assert run("search", "Partnerschaft", "--keys", library=fresh_pg).output == wanted


def test_roles_granted_table_by_table_keep_writing_and_searching(fresh_pg, postgres_url):
    """A role given rights on the tables of a schema built before the sample table (no
    default privileges) still writes rows after `index` added it (the triggers run with
    their owner's rights) and searches it (its SELECT is copied); a role that may not
    read the copy searches through `doc`."""
    from urllib.parse import urlsplit, urlunsplit
    run("index", library=fresh_pg)
    schema = f"t_{fresh_pg.parent.parent.name[-40:]}"
    role = f"w_{schema[-20:]}"
    wanted = run("search", "Partnerschaft", "--keys", "--limit", "0", library=fresh_pg).output
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP TABLE "{schema}".doc_sample')
        conn.execute(f'DROP FUNCTION "{schema}".doc_sample_follows CASCADE')
        conn.execute(f'DELETE FROM "{schema}".meta WHERE name = %s', ("sample_shards",))
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        conn.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA '
                     f'"{schema}" TO "{role}"')
    assert run("index", library=fresh_pg).exit_code == 0          # the owner migrates
    parts = urlsplit(postgres_url)
    as_role = urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}"))
    with psycopg.connect(as_role) as conn:
        key, = conn.execute(f'SELECT key FROM "{schema}".doc WHERE shard < %s LIMIT 1',
                            (pg.SAMPLE_TABLE_SHARDS,)).fetchone()
        conn.execute(f'UPDATE "{schema}".doc SET change = %s WHERE key = %s', ("y", key))
    in_doc, in_sample = _sample_table_rows(postgres_url, schema)
    assert in_sample == in_doc and any(row[-2] == "y" for row in in_sample)
    backend = pg.PostgresBackend(fresh_pg.parent, as_role, _settings(fresh_pg))
    keys = [h.key for h in backend.query("Partnerschaft", limit=None).hits]
    assert sorted(keys) == sorted(wanted.split())
    first = [h.key for h in backend.query("Partnerschaft", limit=5).hits]
    with psycopg.connect(as_role) as conn:                # its SELECT was copied
        assert conn.execute(f'SELECT count(*) FROM "{schema}".doc_sample').fetchone()[0]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'REVOKE SELECT ON "{schema}".doc_sample FROM "{role}"')
    assert [h.key for h in backend.query("Partnerschaft", limit=5).hits] == first
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP OWNED BY "{role}"')
        conn.execute(f'DROP ROLE "{role}"')


def test_a_sample_of_few_shards_is_read_from_the_sample_table(tmp_path, postgres_url,
                                                              monkeypatch):
    """A search sampled on at most SAMPLE_TABLE_SHARDS shards reads `doc_sample`, and
    finds, ranks and counts exactly what it finds through `doc`."""
    monkeypatch.setattr(pg, "SAMPLE_TABLE_SHARDS", 64)
    bib = _large_library(tmp_path / "lib", 1000)
    search_update(bib, backend=postgres_url)
    monkeypatch.setattr(pg, "EXACT_UP_TO", 100)
    monkeypatch.setattr(pg, "SAMPLE_ROWS", 40)
    monkeypatch.setattr(pg, "RECHECK_BUDGET", 50)
    monkeypatch.setattr(pg, "MIN_SAMPLE", 20)
    backend = pg.PostgresBackend(bib.parent, postgres_url)
    queries = ("Kaluga", "Chor Tula", '"Kaluga nach Tula"', "Chronik NOT Samara",
               "lang:de", "Kaluga year:2001..2002")

    def pages() -> dict:
        return {q: (p.hits and [(h.key, round(h.score, 6)) for h in p.hits], p.total,
                    p.facets, p.estimated)
                for q in queries
                for p in [backend.query(q, limit=10)]}

    from clippings.search import query as wq
    from clippings.search.index import schema
    with backend.connection() as conn:
        for q in queries[:5]:
            sample = pg._sample(conn, backend.schema,
                                backend._translate(conn, wq.parse(q, schema())))
            assert sample.shards <= 64 and sample.table == "doc_sample", q
        conn.rollback()
    read = pages()
    assert all(estimated for *_, estimated in read.values())
    with psycopg.connect(postgres_url) as conn:
        # only shard 0 left, behind the triggers' back: the sampled page counts that
        conn.execute(f'ALTER TABLE "{backend.schema}".doc_sample RENAME TO kept')
        conn.execute(f'CREATE TABLE "{backend.schema}".doc_sample AS '
                     f'SELECT * FROM "{backend.schema}".kept WHERE shard = 0')
    in_first = sum(1 for i in range(1000) if pg.shard(f"e{i}") == 0)   # all hold Kaluga
    shards = -(-40 // in_first)
    assert backend.query("Kaluga", limit=10).total == pg.estimate(in_first,
                                                                  pg.SHARDS / shards)
    with psycopg.connect(postgres_url) as conn:
        conn.execute(f'DROP TABLE "{backend.schema}".doc_sample')
        conn.execute(f'ALTER TABLE "{backend.schema}".kept RENAME TO doc_sample')
        conn.execute(f'DELETE FROM "{backend.schema}".meta WHERE name = %s',
                     ("sample_shards",))
    assert pages() == read                                # the same, through `doc`


def test_the_web_page_sees_an_index_change_the_library_does_not_show(fresh_pg):
    """The web page keeps a search's matches with the library version and the index
    generation: a snapshot's text edited by hand and indexed is found by the next page,
    although library.bib did not change."""
    from webhelpers import make_client
    run("index", library=fresh_pg)
    client = make_client(fresh_pg)
    headers = {"Accept": "application/json"}
    assert client.get("/", params={"q": "Blasorchester"}, headers=headers).json()["total"] == 1
    text = fresh_pg.parent / "snapshots" / "grani2016uspecha" / "text.txt"
    text.write_text(text.read_text("utf-8") + " Blasorchester", "utf-8")
    assert "1 changed" in run("index", library=fresh_pg).output
    again = client.get("/", params={"q": "Blasorchester", "sort": "newest"}, headers=headers)
    assert again.json()["total"] == 2


def test_search_brings_the_database_up_to_date_by_itself(fresh_pg):
    run("index", library=fresh_pg)
    added = run("add", "--no-fetch", "--set", "title=Tschaikowski-Abend in Kaluga",
                library=fresh_pg)
    key = added.output.strip()
    assert run("search", "Tschaikowski", "--keys", library=fresh_pg).output.split() == [key]


def test_each_library_has_its_own_schema(tmp_path, postgres_url):
    a = make_library(tmp_path / "alpha")
    b = tmp_path / "beta"
    b.mkdir()
    (b / "library.bib").write_text("@article{solo,\n  title = {Blasorchester in Kaluga},\n}\n",
                                   "utf-8")
    for bib in (a, b / "library.bib"):
        search_update(bib, backend=postgres_url)
    assert [h.key for h in find(b / "library.bib", "Blasorchester", None,
                                backend=postgres_url)] == ["solo"]
    assert [h.key for h in find(a, "Blasorchester", None, backend=postgres_url)] == \
        ["spremberg2016schlaegt"]
    with psycopg.connect(postgres_url) as conn:
        schemas = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace")}
    assert {"clippings_alpha", "clippings_beta"} <= schemas


def test_another_schema_version_is_rebuilt_not_used(fresh_pg, postgres_url):
    run("index", library=fresh_pg)
    schema = pg.schema_name(fresh_pg.parent, _settings(fresh_pg))
    with psycopg.connect(postgres_url) as conn:
        conn.execute(f"UPDATE \"{schema}\".meta SET value = '\"pg0/old\"' "
                     "WHERE name = 'schema'")
        conn.execute(f'DELETE FROM "{schema}".doc')   # what an old version might hold
    assert run("search", "Blasorchester", "--keys", library=fresh_pg).output.split() == \
        ["spremberg2016schlaegt"]
    assert run("index", "--backend", postgres_url, library=fresh_pg).output.startswith(
        "the index is up to date")


def test_database_down_is_exit_3_in_one_line_without_the_password(fresh_pg):
    url = "postgresql://clip:s3cret-pw@127.0.0.1:9/clippings"   # port 9: nothing listens
    for args in (["search", "Kaluga"], ["index"]):
        proc = run_process(*args, "--backend", url, cwd=fresh_pg.parent,
                           env={"CLIPPINGS_LIBRARY": str(fresh_pg)})
        assert proc.returncode == 3, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("clippings: error: search database ")
        assert "s3cret-pw" not in proc.stderr + proc.stdout
        assert "Traceback" not in proc.stderr


def test_a_search_past_its_timeout_stops_in_one_line(fresh_pg, postgres_url):
    """`search_timeout` bounds each statement of a search, so one reader's expensive
    search cannot hold a shared server: past it the search stops with one line (exit 1),
    and the web page answers 503 with the same words. Another process holding the table
    makes the search wait, which the timeout counts (that process gives the lock up by
    itself after 20 s idle, so a search that no longer stops fails instead of hanging)."""
    from webhelpers import make_client
    run("index", library=fresh_pg)
    schema = _settings(fresh_pg).search_schema
    toml = fresh_pg.parent / "clippings.toml"
    plain = toml.read_text("utf-8")
    env = {"CLIPPINGS_LIBRARY": str(fresh_pg)}
    with psycopg.connect(postgres_url,
                         options="-c idle_in_transaction_session_timeout=20000") as other:
        other.execute(f'LOCK TABLE "{schema}".doc IN ACCESS EXCLUSIVE MODE')
        toml.write_text(plain + "search_timeout = 0.3\n", "utf-8")
        proc = run_process("search", "Kaluga", cwd=fresh_pg.parent, env=env)
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.strip().splitlines() == [
            "clippings: error: the search took longer than search_timeout (0.3 s) allows: "
            "narrow it (a rarer word, a field, a year range)"]
        client = make_client(fresh_pg)
        answer = client.get("/", params={"q": "Kaluga"}, headers={"Accept": "application/json"})
        assert answer.status_code == 503
        assert "search_timeout (0.3 s)" in answer.json()["error"]
        page = client.get("/", params={"q": "Kaluga"})        # German first, as the page is
        assert page.status_code == 503
        assert "Die Suche dauerte länger, als search_timeout (0.3 s) erlaubt" in page.text
        assert "took longer" not in page.text
        other.rollback()
    toml.write_text(plain, "utf-8")
    assert run("search", "Kaluga", "--keys", library=fresh_pg).output.split()


def test_what_the_database_stops_is_no_lost_server(fresh_pg, postgres_url):
    """A timeout the database's administrator sets (statement or lock timeout; here
    through PGOPTIONS) stops a search or an update with one line and exit 1: the server
    answered, so it is not reported as unreachable (exit 3). A shorter timeout of the
    server's wins over a longer `search_timeout`."""
    import time
    run("index", library=fresh_pg)
    schema = _settings(fresh_pg).search_schema
    (fresh_pg.parent / "clippings.toml").open("a", encoding="utf-8").write(
        "search_timeout = 30\n")
    env = {"CLIPPINGS_LIBRARY": str(fresh_pg)}
    with psycopg.connect(postgres_url,
                         options="-c idle_in_transaction_session_timeout=20000") as other:
        other.execute(f'LOCK TABLE "{schema}".doc IN ACCESS EXCLUSIVE MODE')
        started = time.monotonic()
        proc = run_process("search", "Kaluga", cwd=fresh_pg.parent,
                           env={**env, "PGOPTIONS": "-c statement_timeout=300"})
        assert time.monotonic() - started < 15      # the server's 0.3 s, not our 30 s
        assert proc.returncode == 1, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "stopped the search: " in lines[0], proc.stderr
        for options in ("-c statement_timeout=300", "-c lock_timeout=300"):
            # an update that must write the locked table
            text = fresh_pg.parent / "snapshots" / "grani2016uspecha" / "text.txt"
            text.write_text(text.read_text("utf-8") + " Nachtrag", "utf-8")
            proc = run_process("index", cwd=fresh_pg.parent, env={**env, "PGOPTIONS": options})
            assert proc.returncode == 1, proc.stderr
            lines = proc.stderr.strip().splitlines()
            assert len(lines) == 1 and "stopped the statement: " in lines[0], proc.stderr
            assert "not reachable" not in proc.stderr and "Traceback" not in proc.stderr
        other.rollback()
    assert "1 changed" in run("index", library=fresh_pg).output


def test_a_timeout_that_is_no_number_of_seconds_is_a_usage_error(tmp_path):
    """Checked when the settings are read, whichever backend and command."""
    bib = make_library(tmp_path / "lib")
    for value in ("-1", "soon", "1e9"):
        for args in (("search", "Kaluga"), ("list",)):
            result = run(*args, library=bib, env={"CLIPPINGS_SEARCH_TIMEOUT": value})
            assert result.exit_code == 2
            assert "search_timeout" in result.output and "Traceback" not in result.output


def test_unknown_backend_is_a_usage_error(fresh_pg):
    result = run("search", "Kaluga", "--backend", "elastic://x", library=fresh_pg)
    assert result.exit_code == 2
    assert "search backend 'elastic://x' is not known" in result.output


def test_environment_variable_chooses_the_backend(tmp_path, postgres_url):
    bib = make_library(tmp_path / "envlib")
    proc = run_process("search", "Blasorchester", "--keys", cwd=bib.parent,
                       env={"CLIPPINGS_LIBRARY": str(bib),
                            "CLIPPINGS_SEARCH_BACKEND": postgres_url})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["spremberg2016schlaegt"]
    assert not (bib.parent / "index" / "search").exists()


def test_two_index_runs_at_once_leave_one_consistent_index(fresh_pg, postgres_url):
    procs = [subprocess.Popen([sys.executable, "-m", "clippings", "index", "--rebuild"],
                              cwd=fresh_pg.parent, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env={**__import__("os").environ,
                                   "CLIPPINGS_LIBRARY": str(fresh_pg)})
             for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert out.startswith("built the index: 17 entries")
    schema = pg.schema_name(fresh_pg.parent, _settings(fresh_pg))
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute(f'SELECT count(*) FROM "{schema}".doc').fetchone()[0] == 17
    assert run("search", "Blasorchester", "--keys", library=fresh_pg).output.split() == \
        ["spremberg2016schlaegt"]


def test_a_search_keeps_the_planner_off_table_scans_for_its_own_transaction(twins):
    """A search tells the planner to match through the word index, never a table scan
    (which de-TOASTs every tsvector), and not to compile plans (JIT): for its own
    transaction only, so a writer later handed the same pooled connection plans as
    usual."""
    from clippings.search import query as wq
    from clippings.search.index import schema
    _, pg_bib, url = twins
    engine = pg.PostgresBackend(pg_bib.parent, url)
    with engine.connection() as conn:
        engine._translate(conn, wq.parse("Kaluga", schema()))
        assert conn.execute("SHOW enable_seqscan").fetchone()[0] == "off"
        assert conn.execute("SHOW jit").fetchone()[0] == "off"
        conn.rollback()
        assert conn.execute("SHOW enable_seqscan").fetchone()[0] == "on"
        conn.rollback()


def test_a_database_restarted_under_a_running_server_is_searched_again(tmp_path,
                                                                     monkeypatch):
    """A `serve` keeps its pooled connections while the database restarts (an update,
    a reboot of the database machine): the searches after it find the same, none of
    them told that the database cannot be reached. One that stopped is told at once."""
    import threading
    import time

    from clippings.errors import NetworkError
    from pgserver import PostgresServer
    server = PostgresServer()
    url = server.start()
    try:
        bib = make_library(tmp_path / "restarted")
        search_update(bib, backend=url)
        engine = pg.PostgresBackend(bib.parent, url)
        first = engine.query("Kaluga")
        assert first.total
        # several pooled connections, as a server's threads leave them
        threads = [threading.Thread(target=engine.query, args=("Kaluga",)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        server.restart()
        expected = [h.key for h in first.hits]
        for _ in range(6):
            assert [h.key for h in engine.query("Kaluga").hits] == expected
        # Threads share the pool: one that looked it up just before another thread
        # found a dropped connection and retired it takes the new pool (it was told
        # "not reachable" by the closed one).
        server.restart()
        real_pool, looked, go_on = pg.pool, threading.Event(), threading.Event()

        def pool_then_pause(url):
            found = real_pool(url)
            if threading.current_thread().name == "late":
                looked.set()
                go_on.wait(10)
            return found
        monkeypatch.setattr(pg, "pool", pool_then_pause)
        late: dict = {}

        def search_late():
            try:
                late["hits"] = [h.key for h in engine.query("Kaluga").hits]
            except Exception as exc:   # what the thread's user would be told
                late["error"] = exc
        thread = threading.Thread(target=search_late, name="late")
        thread.start()
        assert looked.wait(10)
        retired = pg._pools[url]
        assert [h.key for h in engine.query("Kaluga").hits] == expected
        assert retired.closed and pg._pools[url] is not retired
        go_on.set()
        thread.join(30)
        assert late == {"hits": expected}
        monkeypatch.setattr(pg, "pool", real_pool)
        # A database that went away is reported at once (exit 3), not after the pool
        # waited for a connection.
        server._run(str(server.bin / "pg_ctl"), "-D", str(server.data), "-m", "fast",
                    "-w", "stop")
        for _ in range(2):
            started = time.monotonic()
            with pytest.raises(NetworkError, match="is not reachable"):
                engine.query("Kaluga")
            assert time.monotonic() - started < 10
    finally:
        found = pg._pools.pop(url, None)
        if found is not None:
            found.close()
        server.stop()


def test_redact_hides_only_the_password():
    assert pg.redact("postgresql://ann:pw@db.example:5433/lib") == \
        "postgresql://ann@db.example:5433/lib"
    assert pg.redact("postgresql://ann@db/lib") == "postgresql://ann@db/lib"


def test_search_json_page_shape(twins):
    _, pg_bib, url = twins
    data = page(pg_bib, "Wolgograd", limit=2, backend=url).as_json()
    assert set(data) == {"total", "estimated", "offset", "limit", "hits", "facets"}
    assert len(data["hits"]) == 2 and data["total"] >= 3 and data["estimated"] is False
    json.dumps(data)


def _settings(bib: Path):
    from clippings.config import load_settings
    return load_settings(bib.parent)



def test_a_read_only_replica_is_searched_as_it_is(fresh_pg, postgres_url):
    # A standby refuses writes the way default_transaction_read_only does.
    replica = postgres_url + "?options=-c%20default_transaction_read_only%3Don"
    run("index", library=fresh_pg)
    assert run("set", "gorzka2018annaeherung", "note=Jaroslawl", library=fresh_pg) \
        .exit_code == 0
    found = run("search", "Blasorchester", "--keys", "--backend", replica, library=fresh_pg)
    assert found.exit_code == 0 and found.output.split() == ["spremberg2016schlaegt"]
    refused = run("index", "--backend", replica, library=fresh_pg)
    assert refused.exit_code == 2
    assert "is read-only (a replica)" in refused.output
    assert run("search", "Jaroslawl", "--keys", library=fresh_pg).output.split() == \
        ["gorzka2018annaeherung"]


def test_a_build_analysed_in_worker_processes_finds_the_same(tmp_path, postgres_url,
                                                             monkeypatch):
    bib = make_library(tmp_path / "parallel")
    search_update(bib, backend=postgres_url)
    serial = {q: {h.key for h in find(bib, q, None, backend=postgres_url)}
              for q in ("Partnerschaft", "Wolgograd", '"Rothenburg ob der Tauber"')}
    # Small batches over worker processes, as a large library is built.
    monkeypatch.setattr(pg, "PARALLEL_FROM", 2)
    monkeypatch.setattr(pg, "BATCH", 3)
    report = search_update(bib, rebuild=True, backend=postgres_url)
    assert report.total == 17 and len(report.added) == 17
    assert {q: {h.key for h in find(bib, q, None, backend=postgres_url)}
            for q in serial} == serial


def test_the_web_search_page_runs_on_postgresql_too(twins):
    from clippings.library import Library
    from clippings.search import results_page
    whoosh_bib, pg_bib, url = twins
    pages = []
    for bib, spec in ((whoosh_bib, "whoosh"), (pg_bib, url)):
        settings = _settings(bib)
        settings.search_backend = spec
        records = {rec.key: rec for rec in Library.load(bib).records()}
        pages.append(results_page(bib, "Partnerschaft", {"lang": ["de"]}, limit=3,
                                  records=records, settings=settings))
    whoosh_page, pg_page = pages
    assert pg_page.total == whoosh_page.total > 3
    assert set(pg_page.keys) == set(whoosh_page.keys)
    assert pg_page.facets == whoosh_page.facets
    assert len(pg_page.hits) == 3 and all(h.snippet for h in pg_page.hits)
    assert [h.key for h in pg_page.hits] == pg_page.keys[:3]


def _many_matches(folder: Path) -> Path:
    """Seven entries naming Kaluga: the oldest names it four times (it is prominent
    there), the six newer once each in passing."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = ["@article{old2001,\n  title = {Bericht aus der Partnerstadt},\n"
               "  date = {2001-05-01},\n  abstract = {Kaluga feiert. Kaluga baut. "
               "Kaluga lädt ein. Kaluga dankt.},\n  langid = {ngerman},\n}\n"]
    for year in range(2020, 2026):
        entries.append(f"@article{{new{year},\n  title = {{Notizen {year}}},\n"
                       f"  date = {{{year}-03-01}},\n  abstract = {{Ein Chor reiste "
                       f"über Kaluga nach Tula.}},\n  langid = {{ngerman}},\n}}\n")
    (folder / "library.bib").write_text("\n".join(entries), "utf-8")
    return folder / "library.bib"


@pytest.mark.parametrize("exact", [True, False])
def test_large_match_sets_rank_prominent_entries_first_and_page_through_all(
        tmp_path, postgres_url, monkeypatch, exact):
    """Above RANK_EXACT matches only candidates are ranked: the newest entries in which
    a query word is prominent and the newest of all; every other match follows, newest
    first. Paging still walks every match once, and total and facets count them all."""
    bib = _many_matches(tmp_path / "lib")
    search_update(bib, backend=postgres_url)
    if not exact:
        monkeypatch.setattr(pg, "RANK_EXACT", 3)
        monkeypatch.setattr(pg, "STRONG_WINDOW", 2)
        monkeypatch.setattr(pg, "RECENT_WINDOW", 2)
    first = page(bib, "Kaluga", limit=3, backend=postgres_url)
    assert first.total == 7
    assert first.hits[0].key == "old2001"        # ranked although it is the oldest
    assert sum(n for _, n in first.facets["year"]) == 7
    walked = [h.key for offset in range(0, 7, 3)
              for h in page(bib, "Kaluga", offset=offset, limit=3,
                            backend=postgres_url).hits]
    assert sorted(walked) == ["new2020", "new2021", "new2022", "new2023", "new2024",
                              "new2025", "old2001"]
    assert [h.key for h in find(bib, "Kaluga", None, backend=postgres_url)] == walked
    if not exact:
        # ranked: old2001 (prominent) and the two newest; then the rest, newest first
        assert walked[3:] == ["new2023", "new2022", "new2021", "new2020"]
        ranked, every, scale = pg.PostgresBackend(bib.parent, postgres_url).matches("Kaluga")
        scored = dict(ranked)
        assert "new2020" not in scored and scored["old2001"] > scored["new2025"] > 0
        assert sorted(every) == sorted(walked) and scale == 1


def _large_library(folder: Path, n: int) -> Path:
    """`n` entries that all name Kaluga (every tenth in its title), three Samara."""
    folder.mkdir(parents=True)
    entries = []
    for i in range(n):
        title = f"Kaluga Chronik {i}" if i % 10 == 0 else f"Chronik {i}"
        extra = " Samara." if i in (5, 500, 900) else ""
        keywords = "  keywords = {Chronik},\n" if i % 7 == 0 else ""
        entries.append(f"@article{{e{i},\n  title = {{{title}}},\n{keywords}  date = "
                       f"{{{2000 + i % 4}-0{1 + i % 9}-01}},\n  journal = {{Blatt "
                       f"{i % 3}}},\n  abstract = {{Ein Chor reiste über Kaluga nach Tula."
                       f"{extra}}},\n  langid = {{{'ngerman' if i % 2 else 'russian'}}},\n}}\n")
    (folder / "library.bib").write_text("\n".join(entries), "utf-8")
    return folder / "library.bib"


def test_a_large_result_is_counted_on_a_sample_and_says_so(tmp_path, postgres_url,
                                                           monkeypatch):
    """Past EXACT_UP_TO estimated matches, total and facet counts come from whole
    sample shards, scaled (Page.estimated); small results, every hit (limit None) and
    deep pages count every match."""
    n = 1000
    bib = _large_library(tmp_path / "lib", n)
    search_update(bib, backend=postgres_url)
    monkeypatch.setattr(pg, "EXACT_UP_TO", 100)
    monkeypatch.setattr(pg, "SAMPLE_ROWS", 200)
    keys = [f"e{i}" for i in range(n)]
    shard_of = {key: pg.shard(key) for key in keys}
    in_first = sum(1 for s in shard_of.values() if s == 0)
    assert in_first * pg.SHARDS > 100        # the library is large enough to sample
    shards = -(-200 // in_first)
    sampled = sum(1 for s in shard_of.values() if s < shards)

    got = page(bib, "Kaluga", limit=10, backend=postgres_url)
    assert got.estimated and len(got.hits) == 10
    assert got.total == pg.estimate(sampled, pg.SHARDS / shards)
    assert abs(got.total - n) < 0.25 * n
    years = dict(got.facets["year"])
    assert set(years) == {2000, 2001, 2002, 2003}
    assert abs(sum(years.values()) - got.total) < 0.05 * n
    # a year range alone is sampled through the shard column, to the same estimate
    years_only = page(bib, "year:2000..2003", limit=10, backend=postgres_url)
    assert years_only.estimated and years_only.total == got.total
    assert [h.key for h in years_only.hits] == sorted(
        (k for k in keys if shard_of[k] < shards), key=lambda k: k)[:10]
    # the prominent entries (Kaluga in the title) are among the ranked candidates
    assert got.hits[0].title.startswith("Kaluga Chronik")
    assert [h.key for h in page(bib, "Kaluga", limit=10, backend=postgres_url).hits] == \
        [h.key for h in got.hits]

    # A phrase re-checks positions in every entry holding its words: it is sampled by
    # that cost (RECHECK_BUDGET), and its sampled matches are the ranked candidates.
    monkeypatch.setattr(pg, "RECHECK_BUDGET", 50)
    monkeypatch.setattr(pg, "MIN_SAMPLE", 20)
    phrase = page(bib, '"Kaluga nach Tula"', limit=10, backend=postgres_url)
    # every entry holds the phrase's words and matches: shard 0 holds in_first of each
    phrase_shards = min(-(-200 // in_first), 50 // in_first)
    assert phrase.estimated and len(phrase.hits) == 10
    assert phrase.total == pg.estimate(
        sum(1 for s in shard_of.values() if s < phrase_shards), pg.SHARDS / phrase_shards)
    assert {h.key for h in phrase.hits} <= set(keys)
    # the page asked for does not change how the search is counted
    assert [h.key for h in page(bib, '"Kaluga nach Tula"', limit=40,
                                backend=postgres_url).hits][:10] == \
        [h.key for h in phrase.hits]
    # Its matches in shard 0 are re-checked once, when the sample is chosen, and taken
    # from there by key; with a sample of shard 0 alone, they are all of its matches.
    from clippings.search import query as wq
    from clippings.search.index import schema
    engine = pg.PostgresBackend(bib.parent, postgres_url)
    with engine.connection() as conn:
        sample = pg._sample(conn, engine.schema,
                            engine._translate(conn, wq.parse('"Kaluga nach Tula"', schema())))
        conn.rollback()
    assert sorted(sample.first) == sorted(k for k in keys if shard_of[k] == 0)
    monkeypatch.setattr(pg, "RECHECK_BUDGET", in_first)
    monkeypatch.setattr(pg, "MIN_SAMPLE", 1)
    alone = page(bib, '"Kaluga nach Tula"', limit=100,
                 backend=postgres_url)
    assert alone.estimated and alone.total == pg.estimate(in_first, pg.SHARDS)
    assert {h.key for h in alone.hits[:in_first]} == set(sample.first)
    monkeypatch.setattr(pg, "RECHECK_BUDGET", 50)
    monkeypatch.setattr(pg, "MIN_SAMPLE", 20)

    rare = page(bib, "Samara", limit=10, backend=postgres_url)
    assert not rare.estimated and rare.total == 3
    whole = page(bib, "Kaluga", limit=None, backend=postgres_url)
    assert not whole.estimated and whole.total == n == len(whole.hits)
    # Paging goes on past the sample's matches with the others, newest first: every
    # match once, and every page says the same estimated total (or the hits it reached).
    walked = []
    for offset in range(0, n, 90):
        part = page(bib, "Kaluga", offset=offset, limit=90, backend=postgres_url)
        walked += [h.key for h in part.hits]
        assert part.estimated and part.total == max(got.total, len(walked))
    assert sorted(walked) == sorted(keys)
    assert walked[:10] == [h.key for h in got.hits]
    outside = [k for k in walked if shard_of[k] >= shards]
    assert walked[-len(outside):] == outside       # the sample's matches come first
    # An OR with a year range is sampled as a whole (its parts are bracketed).
    either = page(bib, "year:2001 OR Samara", limit=10, backend=postgres_url)
    in_either = [k for k in keys if int(k[1:]) % 4 == 1 or k in ("e5", "e500", "e900")]
    assert abs(either.total - len(in_either)) < 0.3 * len(in_either)
    # An excluded phrase is no phrase to sample by: the same page as without it.
    assert [h.key for h in page(bib, 'Kaluga NOT "Tula nach Kaluga"', limit=10,
                                backend=postgres_url).hits] == [h.key for h in got.hits]
    assert page(bib, "Kaluga", limit=10, backend=postgres_url).as_json()["estimated"]

    result = run("search", "Kaluga", "--backend", postgres_url, library=bib)
    assert result.exit_code == 0
    assert result.stderr == f"10 of about {got.total:,} hits; --limit for more\n"



def test_a_search_sees_one_state_of_the_index_while_another_process_writes(
        tmp_path, postgres_url, monkeypatch):
    """A sampled phrase's matches in shard 0 are found by one statement and taken by key
    in the next: when another process re-indexes one of them in between, the search
    still shows the index as it was when it began (its statements see one snapshot),
    scores included, not a mix; the next search sees the change."""
    import psycopg
    # a schema of its own: the write below goes behind the index's back
    bib = _large_library(tmp_path / "written_behind", 1000)
    search_update(bib, backend=postgres_url)
    for name, value in (("EXACT_UP_TO", 100), ("SAMPLE_ROWS", 200),
                        ("RECHECK_BUDGET", 50), ("MIN_SAMPLE", 20)):
        monkeypatch.setattr(pg, name, value)
    engine = pg.PostgresBackend(bib.parent, postgres_url)
    phrase = '"Kaluga nach Tula"'
    before = engine.query(phrase, limit=300)
    real, changed = pg._sample, []

    def chosen_then_written(conn, schema, t):
        sample = real(conn, schema, t)
        if sample is not None and sample.first and not changed:
            with psycopg.connect(postgres_url, autocommit=True) as other:
                other.execute(f'UPDATE "{schema}".doc SET tsv = %s::tsvector WHERE key = %s',
                              (f"'{pg.SHARD_PREFIX}:0'", sample.first[0]))
            changed.append(sample.first[0])
        return sample
    monkeypatch.setattr(pg, "_sample", chosen_then_written)
    during = engine.query(phrase, limit=300)
    assert changed and before.estimated
    assert [(h.key, h.score) for h in during.hits] == [(h.key, h.score) for h in before.hits]
    assert (during.total, during.facets) == (before.total, before.facets)
    after = engine.query(phrase, limit=300)
    assert changed[0] not in {h.key for h in after.hits}
    with psycopg.connect(postgres_url, autocommit=True) as other:
        other.execute(f'DROP SCHEMA "{engine.schema}" CASCADE')


def test_the_web_page_counts_a_large_result_exactly_and_ranks_like_search(
        tmp_path, postgres_url, monkeypatch):
    """The web page filters, sorts and counts a search itself: it gets every match's key
    from the database, but ranks only the candidates `search` ranks (on a sample of a
    large result), so the best hits agree and the counts are exact."""
    from clippings.library import Library
    from clippings.search import results_page
    n = 1000
    bib = _large_library(tmp_path / "lib", n)
    search_update(bib, backend=postgres_url)
    monkeypatch.setattr(pg, "EXACT_UP_TO", 100)
    monkeypatch.setattr(pg, "SAMPLE_ROWS", 200)
    settings = _settings(bib)
    settings.search_backend = postgres_url
    records = {rec.key: rec for rec in Library.load(bib).records()}
    searched = page(bib, "Kaluga", limit=10, backend=postgres_url)
    assert searched.estimated                 # the same search is sampled on the CLI

    shown = results_page(bib, "Kaluga", {}, limit=10, records=records, settings=settings)
    assert shown.total == n and len(shown.keys) == n
    assert [h.key for h in shown.hits] == [h.key for h in searched.hits]
    assert dict(shown.facets["year"]) == {"2003": 250, "2002": 250, "2001": 250,
                                          "2000": 250}
    # a facet filter narrows every match, not the sample
    russian = results_page(bib, "Kaluga", {"lang": ["ru"], "year": ["2002"]}, limit=10,
                           records=records, settings=settings)
    assert russian.total == len(russian.keys) == 250          # i % 4 == 2
    assert all(int(k[1:]) % 4 == 2 for k in russian.keys)
    assert russian.hits[0].title.startswith("Kaluga Chronik")
    newest = results_page(bib, "Kaluga", {}, sort="newest", limit=5, records=records,
                          settings=settings)
    assert all(h.date.startswith("2003") for h in newest.hits)
    # The matches are kept with the library version: the next page, a facet or a sort
    # asks the database for snippets only.
    from clippings.search.pages import facet_rows
    rows = facet_rows(records, {})       # a server keeps them: its table is kept too
    results_page(bib, "Kaluga", {}, records=records, settings=settings, rows=rows)
    asked = []
    real = pg.PostgresBackend.matches
    monkeypatch.setattr(pg.PostgresBackend, "matches",
                        lambda self, *a, **k: asked.append(a) or real(self, *a, **k))
    for offset, chosen, order in ((10, {}, ""), (0, {"year": ["2000"]}, ""),
                                  (20, {"lang": ["ru"]}, ""), (0, {}, "oldest")):
        again = results_page(bib, "Kaluga", chosen, offset=offset, limit=10, sort=order,
                             records=records, settings=settings, rows=rows)
        assert len(again.hits) == 10
    assert asked == []
    assert results_page(bib, "Samara", {}, records=records, settings=settings,
                        rows=rows).total == 3
    assert asked == [("Samara",)]

    # A server whose library is older than the index (another process added and
    # indexed entries it has not read yet) lists the matches it holds, of a large
    # result as of a small one.
    older = {key: rec for key, rec in records.items() if int(key[1:]) % 10}
    for text, matching in (("Kaluga", set(older)), ("Samara", {"e5"})):
        shown = results_page(bib, text, {}, limit=10, records=older, settings=settings)
        assert set(shown.keys) == matching and shown.total == len(matching)


def test_a_common_phrase_on_the_web_page_is_counted_on_its_sample(tmp_path, postgres_url,
                                                                  monkeypatch):
    """Listing every match of a common phrase re-checks the positions of every entry
    holding its words: the web page lists the sample's matches, says "about", pages
    through them, and "all results" still takes every match."""
    from webhelpers import make_client
    n = 1000
    bib = _large_library(tmp_path / "lib", n)
    (tmp_path / "lib" / "clippings.toml").write_text(
        f'search_backend = "{postgres_url}"\n', "utf-8")
    search_update(bib, backend=postgres_url)
    for name, value in (("EXACT_UP_TO", 100), ("SAMPLE_ROWS", 200),
                        ("RECHECK_BUDGET", 50), ("MIN_SAMPLE", 20)):
        monkeypatch.setattr(pg, name, value)
    shard_of = {f"e{i}": pg.shard(f"e{i}") for i in range(n)}
    in_first = sum(1 for s in shard_of.values() if s == 0)
    shards = min(-(-200 // in_first), 50 // in_first)
    sampled = sorted(k for k, s in shard_of.items() if s < shards)

    client = make_client(bib)
    headers = {"Accept": "application/json"}
    phrase = '"Kaluga nach Tula"'
    shown = client.get("/", params={"q": phrase, "per_page": 10}, headers=headers).json()
    assert shown["estimated"]
    assert shown["total"] == pg.estimate(len(sampled), pg.SHARDS / shards)
    years = {f["value"]: f["count"] for f in shown["facets"]["year"]}
    in_sample = Counter(str(2000 + int(k[1:]) % 4) for k in sampled)
    assert years == {year: pg.estimate(count, pg.SHARDS / shards)      # scaled up
                     for year, count in in_sample.items() if count >= 2}
    walked = []
    for number in range(1, 20):
        part = client.get("/", params={"q": phrase, "per_page": 10, "page": number},
                          headers=headers).json()
        walked += [h["key"] for h in part["hits"]]
    assert sorted(walked) == sampled                  # each of the sample's matches once
    html = client.get("/", params={"q": phrase, "per_page": 10},
                      headers={"Accept-Language": "en"}).text
    assert f"of about {shown['total']}" in html and f"its {len(sampled)} hits" in html
    assert f"Page 1 / {-(-len(sampled) // 10)}<" in html      # pages of the sample
    # A facet that leaves fewer than SAMPLED_AT_LEAST of the sample's matches asks the
    # database for the matches within it (re-checking that year's entries only): a
    # sample of those when they are many, else every one. Either way no match of the
    # year is left out of what the page says, and no other year comes in.
    listings = []
    real = pg.PostgresBackend.matches
    monkeypatch.setattr(pg.PostgresBackend, "matches", lambda self, *a, **k: listings.append(
        (k.get("narrow"), (found := real(self, *a, **k)))) or found)
    narrow = client.get("/", params={"q": phrase, "year": "2001", "per_page": 100},
                        headers=headers).json()
    within, (_, listed, scale) = listings[-1]
    assert within == (("year", (2001,)),)
    # the year's own sample (250 matches, every entry holding the words): whole shards
    of_2001 = [f"e{i}" for i in range(n) if i % 4 == 1]
    in_shards = round(pg.SHARDS / scale)
    assert 1 < in_shards < pg.SHARDS and len(listed) >= SAMPLED_AT_LEAST
    assert sorted(listed) == sorted(k for k in of_2001 if shard_of[k] < in_shards)
    assert narrow["estimated"] and narrow["total"] == pg.estimate(len(listed), scale)
    assert {h["key"] for h in narrow["hits"]} <= set(listed)
    assert len(narrow["hits"]) == min(100, len(listed))
    # a facet the database cannot apply (keywords) and too few sampled matches in it:
    # every match is listed
    kept = client.get("/", params={"q": phrase, "keyword": "chronik"}, headers=headers).json()
    assert not kept["estimated"] and kept["total"] == len(range(0, n, 7))
    assert listings[-1][0] == () and listings[-1][1][2] == 1
    newest = client.get("/", params={"q": phrase, "sort": "newest"}, headers=headers).json()
    assert not newest["estimated"] and newest["total"] == n
    assert newest["hits"][0]["date"] == "2003-09-01"
    # "all results" (cite and export) takes every match, exactly
    cited = client.get("/cite.json", params={"q": phrase, "all": "1"}).json()
    assert cited["count"] == n
    # every match listed, its sample's candidates ranked as on the sampled page
    engine = pg.PostgresBackend(bib.parent, postgres_url)
    ranked, every, scale = real(engine, phrase, exact=True)
    assert scale == 1 and sorted(every) == sorted(f"e{i}" for i in range(n))
    assert ranked == real(engine, phrase)[0] and len(ranked) == min(pg.RANK_EXACT,
                                                                   len(sampled))
    # a word is listed whole: exact counts, as before
    word = client.get("/", params={"q": "Kaluga"}, headers=headers).json()
    assert not word["estimated"] and word["total"] == n


def test_the_database_applies_only_the_facets_that_cannot_lose_a_match():
    """`narrowing`: years and decades (as numbers, what the page's year always parses
    to), type in lower case, publication and language; never keywords (the page folds
    their case) nor link status (the page's is newer than the index's)."""
    assert pg.narrowing({}) == ()
    assert pg.narrowing({"year": ["2016", "2001"], "keyword": ["Frieden"],
                         "link": ["ok"]}) == (("year", (2001, 2016)),)
    assert pg.narrowing({"decade": ["2010s"], "year": ["2016", "1999"]}) == \
        (("year", (2016,)),)
    # a year the column's parser would not read (the page's year is any four characters
    # `isdigit` accepts: superscripts too) is left to the page
    assert pg.narrowing({"year": ["soon"]}) == ()
    assert pg.narrowing({"year": ["2016", "²⁰¹⁶"], "decade": ["2010s"]}) == \
        (("year", tuple(range(2010, 2020))),)
    assert pg.narrowing({"type": ["Article"], "journal": ["Die Zeit"],
                         "lang": ["ru", "de"]}) == (
        ("type", ("article",)), ("journal", ("Die Zeit",)), ("lang", ("de", "ru")))


def _odd_library(folder: Path) -> Path:
    """Entries whose facet values are written in unusual ways, all naming Kaluga."""
    folder.mkdir(parents=True)
    entries = [
        "@ARTICLE{upper, title = {Kaluga eins}, date = {2016-13}, journal = {Blatt },"
        " langid = {russian}, language = {german}}",
        "@article{legacy, title = {Kaluga zwei}, year = {2016}, month = {5},"
        " journal = {Blatt}, keywords = {Frieden, STADT}}",
        "@book{undated, title = {Kaluga drei}, publisher = {Verlag}}",
        "@misc{odd, title = {Kaluga vier}, date = {2019/20}, howpublished = {Blatt}}",
        "@article{plain, title = {Kaluga fünf}, date = {2011-02-03}, journal = {Blatt},"
        " url = {https://example.org/a}}",
        "@article{raised, title = {Kaluga sechs}, date = {²⁰¹⁶-05}}",
    ]
    (folder / "library.bib").write_text("\n\n".join(entries) + "\n", "utf-8")
    return folder / "library.bib"


@pytest.mark.parametrize("filters", [
    {"year": ["2016"]}, {"decade": ["2010s"]}, {"year": ["2019"]}, {"type": ["article"]},
    {"journal": ["Blatt"]}, {"lang": ["de"]}, {"lang": ["ru"], "year": ["2016"]},
    {"keyword": ["stadt"]}, {"link": ["unchecked"]}, {"decade": ["2010s"], "type": ["misc"]},
    {"year": ["²⁰¹⁶"]}, {"decade": ["²⁰¹0s"]}, {"year": ["2016", "²⁰¹⁶"]},
])
def test_a_narrowed_listing_keeps_every_match_whoosh_keeps(tmp_path, postgres_url, filters):
    """Sorted by date, the web page lists every match within the facets the database
    applies: on entries with odd dates, types and languages it lists what Whoosh does."""
    from clippings.library import Library
    from clippings.search import results_page
    listed = []
    for spec in ("whoosh", postgres_url):
        bib = _odd_library(tmp_path / spec.split(":")[0])
        settings = _settings(bib)
        settings.search_backend = spec
        search_update(bib, backend=spec)
        records = {rec.key: rec for rec in Library.load(bib).records()}
        shown = results_page(bib, "Kaluga", filters, sort="newest", records=records,
                             settings=settings)
        listed.append((shown.keys, shown.total, shown.facets))
    assert listed[0] == listed[1] and listed[0][1] > 0
