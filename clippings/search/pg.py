"""The PostgreSQL backend: one schema per library in a shared database.

Our own analysis (`analysis`, via the Whoosh schema's analyzers) turns each entry into
terms; they are stored as a `tsvector` whose lexemes carry their field as a prefix
(`t:` title, `x:` text, `p:` transliteration keys, `a:` author, `j:` journal, `b:`
abstract, `n:` note, `k:` key, `y:` type, `g:` tag, `l:` language) and their word
position, so phrases are `<->`; `s:` lexemes (no positions) name the words an entry's
text uses most. The engine never analyses text itself (the 'simple' configuration is
never applied: lexemes go in as they are). A query is parsed as for Whoosh and its tree
translated (`tsquery`) into one tsquery plus SQL for year/date ranges; wildcards and
fuzzy words expand against a table of the lexemes (`vocab`).

Tables in the schema: `meta` (schema version, signatures of library.bib and snapshots/,
entry count), `doc` (one narrow row per entry: fingerprint, snapshot stamp, change key,
facet columns, tsvector), `shown` (what a hit shows, the snapshot text for snippets),
`vocab`.

Matches come from the GIN index alone. Ranking is `ts_rank_cd` with field weights (title
A, text B, author/journal/... C, transliteration D) on candidates: every match up to
RANK_EXACT, else the newest matches in which a query word is prominent and the newest of
all (docs/decisions.md, "Ranking: candidates, not every match"). A first statement
counts the matches in one sample shard (`r:` lexemes, `shard`); a large result is then
counted on a few shards and its total and facets scaled (`_sample`; docs/decisions.md,
"Large results counted on a sample"). Facet counts, the total and the page of hits
come from one statement. Updates read the journal of clippings' own
writes when it can tell what changed (`_journaled`), else compare every entry.

Writers take a transaction-level advisory lock on the schema, so two `clippings index`
runs never interleave. A schema written by another version is rebuilt in a new schema
and swapped in within one transaction: readers see the old index or the new one.
"""

from __future__ import annotations

import heapq
import json
import math
import os
import re
import threading
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import combinations
from operator import itemgetter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ..errors import ClippingsError, NetworkError, UsageError
from . import index as files
from .backend import DatabaseStopped, Page, ReadOnlyDatabase
from .backend import estimate, scaled_counts
from .schema import FACETS, document, facet_values
from .terms import term_positions

# Lexeme prefixes of the indexed fields (query field name -> prefix).
PREFIX = {"title": "t", "text": "x", "translit": "p", "author": "a", "journal": "j",
          "abstract": "b", "note": "n", "key": "k", "type": "y", "tag": "g", "lang": "l"}
# tsvector weight of each field's lexemes (what ts_rank_cd's weights apply to).
WEIGHT = {"title": "A", "text": "B", "author": "C", "journal": "C", "abstract": "C",
          "note": "C", "translit": "D"}
# ts_rank_cd weights in the order {D, C, B, A}: like FIELD_WEIGHTS and the title's boost.
RANK_WEIGHTS = "{0.1, 0.2, 0.33, 1.0}"
ANALYSED = ("title", "text", "translit", "author", "journal", "abstract", "note")
MAX_POS = 16383          # tsvector positions stop there
MAX_POSITIONS = 255      # positions kept per lexeme (PostgreSQL keeps at most 256)
STRONG_PREFIX = "s"      # lexemes of the words a text uses most (no positions)
SHARD_PREFIX = "r"       # every entry's sample shard: r:0 ... r:255 (`shard`)
SHARDS = 256
SAMPLE_TABLE_SHARDS = 16  # the first shards' rows, copied into a table of their own
STRONG_TERMS = 20        # ... at most this many per entry, each used at least twice
RANK_EXACT = 200         # up to this many matches, every one is ranked
EXACT_UP_TO = 4096       # estimated matches up to which total and facets are counted
SAMPLE_ROWS = 1000       # beyond: counted on about this many matches (whole shards)
MIN_SAMPLE = 50          # ... and on at least this many, else on every match
RECHECK_BUDGET = 4000    # entries a phrase may re-check (25-50 us each) unsampled
STRONG_WINDOW = 160      # beyond: the newest matches in which a query word is prominent
RECENT_WINDOW = 40       # ... and the newest matches of all are ranked (docs/decisions.md)
SIMILAR_COUNT_CAP = 5000  # "similar clippings": entries counted per candidate word
SIMILAR_BATCH = 16        # ... sets of its words looked up per statement (`_similar_candidates`)
FACET_VALUES = 50
BATCH = 500              # documents per analysis task in a full build
PARALLEL_FROM = 1000     # entries from which a full build analyses in worker processes
LOCK_SALT = 0x636C6970   # advisory locks: this number plus a hash of the schema name

_pools: dict[str, object] = {}
_pools_lock = threading.Lock()


def redact(url: str) -> str:
    """The URL without its password (what may be printed)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://…"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def schema_name(library_folder: Path, settings=None) -> str:
    """`search_schema`, else 'clippings_' + the library folder's name (letters, digits, _)."""
    name = getattr(settings, "search_schema", "") or ""
    if not name:
        stem = re.sub(r"[^a-z0-9_]+", "_", Path(library_folder).resolve().name.lower())
        name = "clippings_" + stem.strip("_")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise UsageError(f"search_schema {name!r} is not a valid schema name (letters, "
                         "digits and _, at most 63)")
    return name


def pool(url: str):
    """One connection pool per URL and process (a web server's threads share it). The
    first connection is made directly, so a database that is down is reported at once
    (NetworkError) instead of after the pool's retries."""
    with _pools_lock:
        found = _pools.get(url)
        if found is None:
            import logging

            import psycopg
            from psycopg_pool import ConnectionPool
            try:
                psycopg.connect(url, connect_timeout=10).close()
            except psycopg.Error as exc:
                raise _unreachable(url, exc) from None
            # Its retries would print a warning each; our error says it once.
            logging.getLogger("psycopg.pool").addHandler(logging.NullHandler())
            logging.getLogger("psycopg.pool").propagate = False
            found = ConnectionPool(url, min_size=1, max_size=int(os.environ.get(
                "CLIPPINGS_PG_POOL", "16")), open=False, timeout=30,
                kwargs={"autocommit": False, "connect_timeout": 10})
            found.open(wait=False)
            _pools[url] = found
        return found


# SQLSTATEs of a statement the server stopped, though psycopg raises them as
# OperationalError like a lost connection: a cancel or statement timeout (57014), a lock
# timeout (55P03), a deadlock or serialization failure, a replica's recovery conflict (40).
_STOPPED = ("57014", "55P03", "40")


def _stopped_by_server(exc) -> bool:
    state = getattr(exc, "sqlstate", None) or ""
    return any(state.startswith(code) for code in _STOPPED)


def _stopped(url: str, exc: Exception, search: bool, timeout_ms: int,
             took_ms: float) -> DatabaseStopped:
    """What the user is told of a statement the database stopped. A search that ran
    as long as `search_timeout` ran into it (told by the time taken, not by the
    server's message, which is in the server's language)."""
    if search and timeout_ms and took_ms >= timeout_ms and \
            getattr(exc, "sqlstate", None) == "57014":
        return DatabaseStopped(f"the search took longer than search_timeout "
                               f"({timeout_ms / 1000:g} s) allows: narrow it (a rarer word, "
                               "a field, a year range)",
                               german=f"Die Suche dauerte länger, als search_timeout "
                                      f"({timeout_ms / 1000:g} s) erlaubt: bitte eingrenzen "
                                      "(ein selteneres Wort, ein Feld, ein Zeitraum)")
    what, was = ("the search", "die Suche") if search else ("the statement", "den Befehl")
    return DatabaseStopped(f"search database {redact(url)} stopped {what}: "
                           f"{_first_line(url, exc)}",
                           german=f"Die Suchdatenbank {redact(url)} hat {was} abgebrochen: "
                                  f"{_first_line(url, exc)}")


def _retire(url: str, stale) -> None:
    """Forget and close `stale` as the pool of `url`, unless another thread has already
    put a new one in its place. Connections still lent are closed when returned."""
    with _pools_lock:
        if _pools.get(url) is not stale:
            return
        del _pools[url]
    stale.close(timeout=0)


def _first_line(url: str, exc: Exception) -> str:
    """The first line of what the server or libpq said, for a one-line error."""
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    # libpq's messages name host and port, never the password; redact anyway.
    password = urlsplit(url).password
    return reason.replace(password, "***") if password else reason


def _unreachable(url: str, exc: Exception) -> NetworkError:
    return NetworkError(f"search database {redact(url)} is not reachable: "
                        f"{_first_line(url, exc)}",
                        german=f"Die Suchdatenbank {redact(url)} ist nicht erreichbar: "
                               f"{_first_line(url, exc)}")


class PostgresBackend:
    name = "postgresql"

    def __init__(self, library_folder: Path, url: str, settings=None):
        self.folder = Path(library_folder)
        self.url = url
        self.schema = schema_name(self.folder, settings)
        # ms a search statement may run (0: no limit of ours; the server's may apply)
        timeout = float(getattr(settings, "search_timeout", 0) or 0)
        self.timeout_ms = max(1, round(1000 * timeout)) if timeout > 0 else 0
        self.settings = settings
        self.encoding = files.encoding_of(settings)   # library.bib's, as the index records it

    # -- connections ----------------------------------------------------------------

    def connection(self, search: bool = False):
        """A pooled connection; an unreachable database is a NetworkError (exit 3), a
        statement the database stopped a DatabaseStopped (exit 1), worded for a
        `search` (a transaction begun by `_use_the_word_index`) or for any other."""
        import contextlib
        import time

        import psycopg

        @contextlib.contextmanager
        def connect():
            cm, conn = self._checked_out()
            started = time.monotonic()
            try:
                yield conn
            except psycopg.errors.ReadOnlySqlTransaction as exc:
                cm.__exit__(type(exc), exc, exc.__traceback__)
                raise ReadOnlyDatabase(f"search database {redact(self.url)} is read-only "
                                       "(a replica): run `clippings index` against the "
                                       "primary",
                                       german=f"Die Suchdatenbank {redact(self.url)} ist nur "
                                              "lesbar (eine Replik): `clippings index` "
                                              "gegen den Primärserver ausführen") from None
            except psycopg.OperationalError as exc:
                if _stopped_by_server(exc):
                    cm.__exit__(type(exc), exc, exc.__traceback__)
                    took_ms = 1000 * (time.monotonic() - started)
                    raise _stopped(self.url, exc, search, self.timeout_ms, took_ms) \
                        from None
                cm.__exit__(type(exc), exc, exc.__traceback__)
                raise _unreachable(self.url, exc) from None
            except psycopg.Error as exc:
                cm.__exit__(type(exc), exc, exc.__traceback__)
                raise ClippingsError(f"search database {redact(self.url)}: "
                                     f"{_first_line(self.url, exc)}",
                                     german=f"Suchdatenbank {redact(self.url)}: "
                                            f"{_first_line(self.url, exc)}") from None
            except BaseException as exc:
                cm.__exit__(type(exc), exc, exc.__traceback__)
                raise
            else:
                cm.__exit__(None, None, None)
        return connect()

    def _checked_out(self, again: bool = True):
        """(context, connection): a pooled connection that answers (one empty statement,
        as psycopg_pool's own check). One the server dropped (it restarted, or went
        away) means the pool's others are dropped too: the pool starts afresh, whose
        first connection is made directly, so the searches after a restart find what
        they found before, and a server that is gone is reported at once (exit 3),
        not after the pool's wait for a connection. Threads share the pool: one retires
        only the pool its own connection came from, and one whose pool was retired
        meanwhile takes the new one."""
        import psycopg
        from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout
        current = pool(self.url)
        try:
            cm = current.connection()
            conn = cm.__enter__()
        except PoolClosed as exc:      # an OperationalError too: caught first
            if again:
                return self._checked_out(again=False)
            raise _unreachable(self.url, exc) from None
        except (psycopg.OperationalError, PoolTimeout) as exc:
            _retire(self.url, current)
            raise _unreachable(self.url, exc) from None
        try:
            ConnectionPool.check_connection(conn)
        except psycopg.Error as exc:
            cm.__exit__(type(exc), exc, exc.__traceback__)   # the pool drops it
            if not again:
                raise _unreachable(self.url, exc) from None
            _retire(self.url, current)
            return self._checked_out(again=False)
        return cm, conn

    def close(self) -> None:
        pass   # the pool lives as long as the process (a server reuses it)

    def version(self) -> str:
        """Changes whenever the index does (a generation drawn at each update that
        changes a row, and the files the index was made from): what a caller keeps
        results of this index with (`pages._database_order`)."""
        with self.connection() as conn:
            meta = self._meta(conn) or {}
            conn.rollback()
        return json.dumps([meta.get(name) for name in ("generation", "schema", "bib",
                                                       "snapshots", "entries")],
                          sort_keys=True)

    # -- state ----------------------------------------------------------------------

    def _meta(self, conn) -> dict | None:
        """The schema's meta rows, or None when the schema or its tables are missing."""
        row = conn.execute("SELECT to_regclass(%s)", (f"{self.schema}.meta",)).fetchone()
        if row[0] is None:
            return None
        return dict(conn.execute(f'SELECT name, value FROM "{self.schema}".meta').fetchall())

    def is_current(self, bib_path: Path) -> bool:
        with self.connection() as conn:
            meta = self._meta(conn)
            conn.rollback()
        if not meta or meta.get("schema") != schema_id():
            return False
        return files.signatures_match(Path(bib_path), meta.get("bib"), meta.get("snapshots"),
                                      lambda: self._stamps(), encoding=self.encoding)

    def _stamps(self) -> dict:
        with self.connection() as conn:
            rows = conn.execute(f'SELECT key, stamp FROM "{self.schema}".doc').fetchall()
            conn.rollback()
        return {key: [None, stamp] for key, stamp in rows}

    def stats(self) -> dict:
        with self.connection() as conn:
            meta = self._meta(conn) or {}
            count = size = 0
            if meta:
                count = conn.execute(f'SELECT count(*) FROM "{self.schema}".doc').fetchone()[0]
                size = conn.execute(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
                    "AND c.relkind IN ('r', 'm')", (self.schema,)).fetchone()[0]
            conn.rollback()
        return {"backend": self.name, "entries": count, "bytes": int(size),
                "where": f"{redact(self.url)} schema {self.schema}"}

    # -- writing --------------------------------------------------------------------

    def update(self, bib_path: Path, records=None, *, rebuild: bool = False, progress=None,
               settings=None, compare_all: bool = False) -> files.IndexReport:
        """Bring the schema up to date with library.bib and the snapshots: from the
        journal's touched entries when it can tell (`_journaled`), unless `compare_all`;
        else only entries whose change key (`changes`) differs from the recorded one are
        decoded and fingerprinted; `records` (decoded, when the caller holds them) spare
        even that."""
        bib_path = Path(bib_path)
        with self.connection() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                         (LOCK_SALT, self.schema))
            meta = self._meta(conn)
            reason = "asked for" if rebuild else (
                "no index yet" if meta is None else
                "made by another version" if meta.get("schema") != schema_id() else "")
            if not reason:
                _year_index(conn, self.schema)
                _sample_table(conn, self.schema)
            # one reading of library.bib for both ways of updating
            settings = settings or self.settings
            report = None if reason or compare_all else \
                self._journaled(conn, bib_path, meta, progress, files.encoding_of(settings))
            if report is None:
                report = self._compare_all(conn, bib_path, meta, reason, records, progress,
                                           settings)
            conn.commit()
        return report

    def _compare_all(self, conn, bib_path: Path, meta, reason: str, records, progress,
                     settings) -> files.IndexReport:
        """The update that compares every entry's change key with the recorded one (or
        rebuilds, for `reason`)."""
        from ..config import load_settings
        from ..library import Library
        from . import changes
        folder = bib_path.parent
        snapshots_stat = files.snapshots_signature(folder)
        settings = settings or load_settings(folder)
        bib = files.read_bib(bib_path, files.encoding_of(settings))
        lib = Library(bib_path, bib.raw, settings)
        given = None if records is None else {rec.key: rec for rec in records}
        links = files.link_statuses(folder)
        # One stat per snapshot (kernel time, the GIL released) beside the hashing.
        with ThreadPoolExecutor(1) as stat_thread:
            statting = stat_thread.submit(changes.snapshot_stamps, folder, lib.keys())
            keys = changes.change_keys(lib.entry_digests(), links)
            stamps = statting.result()

        def decode(todo: list[str]) -> dict:
            return _decode(lib, given, todo)
        known: dict[str, tuple] = {} if reason else {
            key: (change, fp, stamp) for key, change, fp, stamp in conn.execute(
                f'SELECT key, change, fp, stamp FROM "{self.schema}".doc').fetchall()}
        current, recorded, decoded = changes.current_state(keys, stamps, known, decode,
                                                           links)
        report = files.IndexReport(total=len(keys), rebuilt=reason)
        if reason:
            state = {key: [*current[key], recorded[key]] for key in keys}
            self._rebuild(conn, folder, decoded, links, state, report, progress)
        else:
            files.diff({key: [fp, stamp] for key, (_, fp, stamp) in known.items()},
                       current, report)
            todo = report.added + report.updated
            decoded.update(decode([key for key in todo if key not in decoded]))
            state = {key: [*current[key], recorded[key]] for key in todo}
            self._apply(conn, folder, decoded, links, state, report, progress)
            # entries fingerprinted anew but unchanged (an edit of spacing only)
            done = set(todo)
            self._set_change_keys(conn, [
                (recorded[key], key) for key, old in known.items()
                if key in recorded and key not in done and old[0] != recorded[key]])
        inheriting = sum(1 for change in recorded.values() if change == changes.INHERITS)
        self._set_meta(conn, self.schema, bib.signature, snapshots_stat,
                       entries=len(keys), inheriting=inheriting, changed=report.changed)
        return report

    def _journaled(self, conn, bib_path: Path, meta: dict, progress, encoding: str
                   ) -> files.IndexReport | None:
        """The update from the journal (`clippings.journal`): only the entries that
        clippings' own writers touched since the recorded state are read, so an update
        after one `add` costs the same at any library size. None when the journal cannot
        tell: hand edits, links checked since, a snapshot changed alone, or entries that
        inherit fields from others (a parent's change reaches them unnoted)."""
        from . import changes
        if "entries" not in meta:
            return None
        found = changes.from_journal(bib_path, meta.get("bib"), meta.get("snapshots"),
                                     meta.get("inheriting"), encoding)
        if found is None:
            return None
        folder = bib_path.parent
        links = files.link_statuses(folder)
        link_parts = changes.links_by_key(links)
        touched = [*found.records, *found.removed]
        known = {key: (change, fp, stamp) for key, change, fp, stamp in conn.execute(
            f'SELECT key, change, fp, stamp FROM "{self.schema}".doc WHERE key = ANY(%s)',
            (touched,)).fetchall()}
        report = files.IndexReport()
        report.removed = [key for key in found.removed if key in known]
        state, renewed = {}, []
        for key, (fp, stamp) in found.current(folder, links).items():
            change = found.digests[key] + link_parts.get(key, "")
            old = known.get(key)
            if old is None:
                report.added.append(key)
            elif (old[1], old[2]) != (fp, stamp):
                report.updated.append(key)
            elif old[0] != change:
                renewed.append((change, key))
            state[key] = [fp, stamp, change]
        self._apply(conn, folder, found.records, links, state, report, progress)
        self._set_change_keys(conn, renewed)
        report.total = meta["entries"] + len(report.added) - len(report.removed)
        self._set_meta(conn, self.schema, found.bib, found.snapshots, entries=report.total,
                       inheriting=0, changed=report.changed)
        return report

    def _set_change_keys(self, conn, pairs: list[tuple[str, str]]) -> None:
        if pairs:
            with conn.cursor() as cur:
                cur.executemany(f'UPDATE "{self.schema}".doc SET change = %s WHERE key = %s',
                                pairs)

    def _set_meta(self, conn, schema: str, bib_signature: dict, snapshots_stat, *,
                  entries: int, inheriting: int, changed: bool = True) -> None:
        rows = {"schema": schema_id(), "bib": bib_signature, "snapshots": snapshots_stat,
                "entries": entries, "inheriting": inheriting}
        if changed:   # a new generation whenever a row changes (`version`)
            rows["generation"] = uuid.uuid4().hex
        for name, value in rows.items():
            _put_meta(conn, schema, name, value)

    def _rebuild(self, conn, folder, records, links, current, report, progress) -> None:
        """Build into a new schema, then swap it in (one transaction)."""
        new = f"{self.schema[:57]}__new"
        conn.execute(f'DROP SCHEMA IF EXISTS "{new}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{new}"')
        _create_tables(conn, new)
        vocab: set[str] = set()
        # Rows written shard by shard: a sample's rows then stand together on disk (in
        # `doc_sample` too, which the triggers fill in this order), and a common word's
        # sample is read from a few dozen pages, not from one page per match.
        keys = sorted(current, key=shard)
        done = 0
        for rows, shown, terms, nbytes in _analysed_batches(folder, records, links, current,
                                                            keys):
            # one COPY per table and batch: a connection runs one COPY at a time
            with conn.cursor().copy(f'COPY "{new}".doc ({DOC_COLUMNS}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            with conn.cursor().copy(f'COPY "{new}".shown (key, meta, body) FROM STDIN'
                                    ) as copy:
                for row in shown:
                    copy.write_row(row)
            vocab |= terms
            report.text_bytes += nbytes
            done += len(rows)
            if progress:
                progress(done, len(keys))
        with conn.cursor().copy(f'COPY "{new}".vocab (term) FROM STDIN') as copy:
            for term in vocab:
                copy.write_row((term,))
        _create_indexes(conn, new)
        conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        conn.execute(f'ALTER SCHEMA "{new}" RENAME TO "{self.schema}"')
        report.added = keys

    def _apply(self, conn, folder, records, links, current, report, progress) -> None:
        s = self.schema
        todo = report.added + report.updated
        for table in ("doc", "shown"):
            if report.removed or todo:
                conn.execute(f'DELETE FROM "{s}".{table} WHERE key = ANY(%s)',
                             (report.removed + todo,))
        if not todo:
            return
        vocab: set[str] = set()
        for done, key in enumerate(sorted(todo, key=shard), 1):   # as a build writes them
            row, shown, terms, nbytes = analyse(folder, records[key], links, current[key])
            conn.execute(f'INSERT INTO "{s}".doc ({DOC_COLUMNS}) VALUES (%s, %s, %s, %s, %s, '
                         "%s, %s, %s, %s, %s, %s::tsvector, %s, %s)", row)
            conn.execute(f'INSERT INTO "{s}".shown VALUES (%s, %s, %s)', shown)
            vocab |= terms
            report.text_bytes += nbytes
            if progress:
                progress(done, len(todo))
        with conn.cursor() as cur:
            cur.executemany(f'INSERT INTO "{s}".vocab VALUES (%s) ON CONFLICT DO NOTHING',
                            [(t,) for t in vocab])

    # -- reading --------------------------------------------------------------------

    def query(self, text: str, *, offset: int = 0, limit: int | None = 10,
              facets: bool = True, bib_path=None, rebuild_progress=None) -> Page:
        from . import query as wq
        from .index import schema
        q = wq.parse(text, schema())
        marker = wq.Marker(schema(), q)
        with self.connection(search=True) as conn:
            t = self._translate(conn, q)
            sample = _sample(conn, self.schema, t) if limit is not None else None
            sql, params = _page_sql(self.schema, t, facets, offset, limit, sample)
            rows = sorted(conn.execute(sql, params).fetchall(),
                          key=lambda row: row[5] or 0)    # hits in their order
            sampled = next((int(r[2]) for r in rows if r[0] == "total"), 0)
            found = [(r[1], float(r[2]), r[3], r[4]) for r in rows if r[0] == "hit"]
            if sample and offset + limit > sampled:
                # past the sample's matches: the others, newest first
                start = max(offset, sampled)
                found += conn.execute(*_beyond_sql(self.schema, t, sample, start - sampled,
                                                   offset + limit - start)).fetchall()
            conn.rollback()
        scale = SHARDS / sample.shards if sample else 1
        hits = [wq.make_hit(key, score, meta, lambda b=body: b, marker)
                for key, score, meta, body in found]
        counts: dict[str, list] = {}
        for kind, value, number, *_ in rows:
            if kind not in ("hit", "total"):
                counts.setdefault(kind, []).append(
                    (int(value) if kind == "year" else value, number))
        counts = {kind: scaled_counts(items, scale) for kind, items in counts.items()}
        if facets:
            counts = {name: wq.top_counts(dict(counts.get(name, [])))
                      for name in FACETS}
        return Page(hits=hits, total=max(estimate(sampled, scale), offset + len(hits)),
                    offset=offset, limit=limit, facets=counts,
                    estimated=sample is not None)

    @staticmethod
    def narrowing(filters) -> tuple:
        """The part of a page's facet filters the database applies itself when listing
        every match (`matches`): see `narrowing`."""
        return narrowing(filters)

    def matches(self, text: str, exact: bool = False, narrow: tuple = ()
                ) -> tuple[list[tuple[str, float]], list[str], float]:
        """What the web page needs to filter, sort and page a search itself: the ranked
        candidates as (key, score), best first, the key of every match (unordered), and
        by how much its counts are to be scaled (1: they are exact).

        The candidates are chosen as `query` chooses them (on a sample of a large
        result), so that the key list, not ranking every match, is the cost: about 0.5 s
        for a word in half of 1,000,000 entries. Listing every match of a common phrase
        re-checks the positions of every entry holding its words (13 s for one in 10,000
        of 1,000,000 entries): unless `exact`, such a phrase lists the matches of its
        sample, and the scale says so.

        `narrow` (`narrowing`: facet filters) leaves out matches the page's filters would
        drop anyway, so that a narrow facet's page re-checks only its own entries."""
        from . import query as wq
        from .index import schema
        q = wq.parse(text, schema())
        with self.connection(search=True) as conn:
            t = _narrowed(self._translate(conn, q), narrow)
            sample = _sample(conn, self.schema, t)
            sampled = sample is not None and sample.rank_all and not exact
            # Every match of a sampled phrase: listed in the statement that ranks its
            # sample's candidates, which are taken from it (positions re-checked once).
            whole = exact and sample is not None and sample.rank_all
            ctes, params = _ranking_ctes(self.schema, t, sample, every=whole)
            # The listed keys come with the candidates: every match (`m` when there is
            # no sample), or a sampled phrase's. A sample of a word ranks its own
            # candidates; every match is then listed apart, from the word index.
            listing = "m" if sample is None or sampled else "every" if whole else None
            rows = conn.execute(f"WITH {ctes} SELECT key, score, ord FROM best"
                                + (f" UNION ALL SELECT key, NULL, NULL FROM {listing}"
                                   if listing else ""), params).fetchall()
            if listing:
                keys = [key for key, _, ord_ in rows if ord_ is None]
            else:
                # One array in binary, not a row per key: a word in half of 1,000,000
                # entries is listed in 0.3 s instead of 0.6-0.9 s.
                keys = conn.execute(f'SELECT {_KEYS} FROM "{self.schema}".doc '
                                    f"WHERE ({t.where})", t.params, binary=True
                                    ).fetchone()[0]
            conn.rollback()
        ranked = sorted((ord_, key, float(score)) for key, score, ord_ in rows
                        if ord_ is not None)
        return ([(key, score) for _, key, score in ranked], keys,
                SHARDS / sample.shards if sampled else 1)

    def hits(self, text: str, shown: list[tuple[str, float]]) -> list:
        """Hits (with snippets) for (key, score) pairs, in their order."""
        from . import query as wq
        from .index import schema
        marker = wq.Marker(schema(), wq.parse(text, schema()))
        with self.connection() as conn:
            rows = {key: (meta, body) for key, meta, body in conn.execute(
                f'SELECT key, meta, body FROM "{self.schema}".shown WHERE key = ANY(%s)',
                ([k for k, _ in shown],)).fetchall()}
            conn.rollback()
        return [wq.make_hit(key, score, rows[key][0], lambda b=rows[key][1]: b, marker)
                for key, score in shown if key in rows]

    def similar(self, terms: list[tuple[str, str]], exclude: str, limit: int,
                most: int = 6) -> list[tuple[str, float, dict]]:
        """(key, score, what a hit shows) of the entries sharing the rarest of `terms`
        ((field, analysed term) pairs) that more than one entry has, `exclude` left
        out, best first: what the Whoosh backend's `pages.similar` does.

        Scoring reads a tsvector per entry, so only candidates are scored
        (`_similar_candidates`): scoring every match of six common title words took
        6-12 s at 1,000,000 clippings."""
        from .tsquery import lexeme
        if limit <= 0:
            return []
        s = self.schema
        with self.connection(search=True) as conn:
            _use_the_word_index(conn, self.timeout_ms)
            counted = []
            for fieldname, text in dict.fromkeys(terms):
                # How many entries have it: a common word is estimated from its sample
                # shard 0 (GIN intersects it with one lexeme: 2.5 ms, not 30 ms for
                # reading 5,000 rows); a rarer one is counted, up to a cap.
                word = lexeme(fieldname, text)
                found = conn.execute(f'SELECT count(*) FROM "{s}".doc WHERE tsv @@ %s::tsquery',
                                     (f"{word} & {_shards(1)}",)).fetchone()[0] * SHARDS
                if found <= SIMILAR_COUNT_CAP:
                    found = conn.execute(
                        f'SELECT count(*) FROM (SELECT 1 FROM "{s}".doc WHERE tsv @@ '
                        "%s::tsquery LIMIT %s) x", (word, SIMILAR_COUNT_CAP)).fetchone()[0]
                if found > 1:
                    counted.append((found, fieldname, text))
            chosen = sorted(counted)[:most]
            if not chosen:
                conn.rollback()
                return []
            # Each shared term counts by its rarity, log(1 + N/df), as an idf does in
            # the Whoosh backend's ranking of the same terms.
            total = (self._meta(conn) or {}).get("entries") or conn.execute(
                f'SELECT count(*) FROM "{s}".doc').fetchone()[0]
            score = " + ".join(["CASE WHEN tsv @@ %s::tsquery THEN %s ELSE 0 END"]
                               * len(chosen))
            weights = [v for df, f, t in chosen
                       for v in (lexeme(f, t), math.log(1 + total / df))]
            candidates = self._similar_candidates(
                conn, list(zip(weights[::2], weights[1::2])), exclude, limit)
            rows = conn.execute(
                f'''SELECT d.key, {score} AS score, w.meta FROM "{s}".doc d
                JOIN "{s}".shown w ON w.key = d.key WHERE d.key = ANY(%s)
                ORDER BY score DESC, d.key LIMIT %s''',
                [*weights, list(candidates), limit]).fetchall()
            conn.rollback()
        return [(key, float(score), meta) for key, score, meta in rows]

    def _similar_candidates(self, conn, weighted: list[tuple[str, float]], exclude: str,
                            limit: int) -> set[str]:
        """The entries worth scoring for `similar`, found by the GIN index without
        reading a tsvector. An entry scores the weight of the set of chosen words it
        holds, so the sets are tried heaviest first (`weighted`: (lexeme, weight)); the
        entries holding a set score at least its weight. Once `limit` entries are known
        to score at least the weight of the next set, no entry not yet found can score
        more: a max-score search over the 2^n - 1 sets of n <= 6 words. The scores are
        those of scoring every entry; among entries of equal score, those found are the
        ones the index returns first (ordering each set's matches by key would sort
        every match of a common word)."""
        sets = sorted(((sum(w for _, w in chosen), [lex for lex, _ in chosen])
                       for size in range(1, len(weighted) + 1)
                       for chosen in combinations(weighted, size)),
                      key=lambda item: -item[0])
        find = (f'(SELECT %s::int AS i, key FROM "{self.schema}".doc '
                "WHERE tsv @@ %s::tsquery AND key <> %s LIMIT %s)")
        at_least: dict[str, float] = {}
        for start in range(0, len(sets), SIMILAR_BATCH):
            batch = sets[start:start + SIMILAR_BATCH]
            known = sorted(at_least.values(), reverse=True)
            if len(known) >= limit and known[limit - 1] >= batch[0][0]:
                break
            params = [v for i, (_, words) in enumerate(batch)
                      for v in (i, " & ".join(words), exclude, limit + 1)]
            for i, key in conn.execute(" UNION ALL ".join([find] * len(batch)), params):
                at_least[key] = max(at_least.get(key, 0.0), batch[i][0])
        return set(at_least)

    def _translate(self, conn, q):
        """The parsed query as SQL (`tsquery.translate`), wildcards expanded against the
        vocabulary; the transaction then plans matches through the word index."""
        from .tsquery import translate
        _use_the_word_index(conn, self.timeout_ms)
        return translate(q, lambda pattern, test: self._expand(conn, pattern, test))

    def _expand(self, conn, like: str, test) -> list[str]:
        """Lexemes of the vocabulary matching a LIKE pattern (a literal prefix first, so
        the B-tree narrows it) and then `test`."""
        rows = conn.execute(f'SELECT term FROM "{self.schema}".vocab WHERE term LIKE %s',
                            (like,)).fetchall()
        return [t for (t,) in rows if test(t)]


# -- facet filters applied in the database ---------------------------------------------

_YEAR = re.compile(r"\d{4}")
_DECADE = re.compile(r"(\d{3})0s")


def narrowing(filters) -> tuple:
    """The web page's facet filters (`facets.values`, by name) that the database can
    apply itself, as ((column, values), ...): only those that never leave out an entry
    the page's own filter keeps, since the page filters the matches again, exactly.
    - year and decade: the page's year is the first four digits of the date (or year)
      field, which is what the `year` column was parsed from (when they are digits to
      `\\d`, not only to `str.isdigit`);
    - type (stored in lower case), publication and language: the same values.
    Keywords (the page compares them casefolded) and link status (the page's comes from
    the last link check, the column's from the last `index`) stay with the page."""
    out: list[tuple[str, tuple]] = []
    years: set[int] | None = None
    for name in ("year", "decade"):
        if name in filters:
            pattern = _YEAR if name == "year" else _DECADE
            found = [pattern.fullmatch(v) for v in filters[name]]
            if not all(found):
                # A value the column's parser does not read as a year (the page's year is
                # any four `isdigit` characters: ²⁰¹⁶ too) is left to the page.
                continue
            chosen = {int(m.group(1 if name == "decade" else 0)) for m in found}
            if name == "decade":
                chosen = {d * 10 + i for d in chosen for i in range(10)}
            years = chosen if years is None else years & chosen
    if years is not None:
        out.append(("year", tuple(sorted(years))))
    for name, column, fold in (("type", "type", str.lower), ("journal", "journal", None),
                               ("lang", "lang", None)):
        if name in filters:
            values = filters[name] if fold is None else map(fold, filters[name])
            out.append((column, tuple(sorted(set(values)))))
    return tuple(out)


def _narrowed(t, narrow: tuple):
    """The translated query `t`, its matches (and prominent matches) within `narrow`."""
    if not narrow:
        return t
    conditions, params = [], []
    for column, values in narrow:
        conditions.append("lang && %s::text[]" if column == "lang" else
                          f"{column} = ANY(%s)")
        params.append(list(values))     # lists: `_sample` rewrites only string params
    where = " AND ".join(conditions)
    return replace(t, where=f"({t.where}) AND {where}", params=[*t.params, *params],
                   strong_where=t.strong_where and f"({t.strong_where}) AND {where}",
                   strong_params=t.strong_where and [*t.strong_params, *params],
                   by_year=any(column == "year" for column, _ in narrow))


def _decode(lib, given: dict | None, todo: list[str]) -> dict:
    """The decoded records of the entries `todo`: from `given` (the caller's) where it
    has them, one by one when few, else from the library's decoded-records cache."""
    out = {}
    if given is not None:
        out = {key: given[key] for key in todo if key in given}
        todo = [key for key in todo if key not in out]
    if len(todo) > DECODE_ONE_BY_ONE:
        every = {rec.key: rec for rec in lib.records()}
        out.update((key, every[key]) for key in todo)
    else:
        out.update((key, lib.record(key)) for key in todo)
    return out


DECODE_ONE_BY_ONE = 500   # more changed entries than this: decode through the cache


# -- schema ---------------------------------------------------------------------------

def schema_id() -> str:
    """Changes whenever the rows would be analysed or laid out differently."""
    return f"pg{PG_LAYOUT}/{files.schema_id()}"


PG_LAYOUT = 4   # bump when the tables or the lexeme encoding change (2: doc.change,
                # 3: what a hit shows in `shown`, prominent words as s: lexemes,
                # 4: sample shards as r: lexemes)


DOC_COLUMNS = ("key, fp, stamp, type, year, date, journal, lang, tag, link, tsv, change, "
               "shard")


def _create_tables(conn, schema: str) -> None:
    conn.execute(f'''
        CREATE TABLE "{schema}".meta (name text PRIMARY KEY, value jsonb NOT NULL);
        CREATE TABLE "{schema}".doc (
            key text PRIMARY KEY, fp text NOT NULL, stamp text NOT NULL,
            type text NOT NULL, year int, date int, journal text NOT NULL,
            lang text[] NOT NULL, tag text[] NOT NULL, link text NOT NULL,
            tsv tsvector NOT NULL, change text NOT NULL DEFAULT '',
            shard smallint NOT NULL);
        -- what a hit shows, apart: matching and facets read narrow rows
        CREATE TABLE "{schema}".shown (key text PRIMARY KEY, meta jsonb NOT NULL, body text);
        CREATE TABLE "{schema}".vocab (term text COLLATE "C" PRIMARY KEY);
    ''')
    _create_sample_table(conn, schema)


def _create_sample_table(conn, schema: str) -> None:
    """`doc_sample`: the rows of the first SAMPLE_TABLE_SHARDS sample shards again, kept
    by triggers on `doc`, with a word index of its own. A sampled search reads its few
    shards there: a common word's posting list in that index is a sixteenth as long as
    in `doc`'s, and intersecting it with a shard's lexeme (`_sample`) was most of the
    time of a common word's page at 1,000,000 (docs/decisions.md). The bound is in
    `meta`, written in the same transaction, so a query knows what the table holds."""
    conn.execute(f'''
        CREATE TABLE "{schema}".doc_sample (LIKE "{schema}".doc INCLUDING DEFAULTS,
                                            PRIMARY KEY (key));
        -- the schema by name at each call: a rebuild renames the schema it is made in
        -- with its owner's rights: a role that may write `doc` need not know the copy
        CREATE FUNCTION "{schema}".doc_sample_follows() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                EXECUTE format('TRUNCATE %I.doc_sample', TG_TABLE_SCHEMA);
                RETURN NULL;
            END IF;
            -- a row that stays (a change key set anew): updated in place, so that an
            -- unchanged tsvector is not indexed again
            IF TG_OP = 'UPDATE' AND OLD.key = NEW.key AND OLD.shard = NEW.shard THEN
                EXECUTE format('UPDATE %I.doc_sample SET ({DOC_COLUMNS}) = '
                               '(SELECT ($1).*) WHERE key = $2', TG_TABLE_SCHEMA)
                    USING NEW, NEW.key;
                RETURN NULL;
            END IF;
            IF TG_OP <> 'INSERT' THEN
                EXECUTE format('DELETE FROM %I.doc_sample WHERE key = $1',
                               TG_TABLE_SCHEMA) USING OLD.key;
            END IF;
            IF TG_OP <> 'DELETE' AND NEW.shard < {SAMPLE_TABLE_SHARDS} THEN
                EXECUTE format('INSERT INTO %I.doc_sample SELECT ($1).*', TG_TABLE_SCHEMA)
                    USING NEW;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER doc_sample_insert AFTER INSERT ON "{schema}".doc FOR EACH ROW
            WHEN (NEW.shard < {SAMPLE_TABLE_SHARDS})
            EXECUTE FUNCTION "{schema}".doc_sample_follows();
        CREATE TRIGGER doc_sample_update AFTER UPDATE ON "{schema}".doc FOR EACH ROW
            WHEN (OLD.shard < {SAMPLE_TABLE_SHARDS} OR NEW.shard < {SAMPLE_TABLE_SHARDS})
            EXECUTE FUNCTION "{schema}".doc_sample_follows();
        CREATE TRIGGER doc_sample_delete AFTER DELETE ON "{schema}".doc FOR EACH ROW
            WHEN (OLD.shard < {SAMPLE_TABLE_SHARDS})
            EXECUTE FUNCTION "{schema}".doc_sample_follows();
        CREATE TRIGGER doc_sample_truncate AFTER TRUNCATE ON "{schema}".doc
            FOR EACH STATEMENT EXECUTE FUNCTION "{schema}".doc_sample_follows();
    ''')
    _put_meta(conn, schema, "sample_shards", SAMPLE_TABLE_SHARDS)


def _put_meta(conn, schema: str, name: str, value) -> None:
    conn.execute(f'INSERT INTO "{schema}".meta VALUES (%s, %s) ON CONFLICT (name) '
                 "DO UPDATE SET value = excluded.value", (name, json.dumps(value)))


def _create_indexes(conn, schema: str) -> None:
    conn.execute(f'''
        CREATE INDEX ON "{schema}".doc USING gin (tsv) WITH (fastupdate = off);
        CREATE INDEX ON "{schema}".doc (date);
    ''')
    _year_index(conn, schema)
    conn.execute(f'ANALYZE "{schema}".doc')
    _index_sample_table(conn, schema)


def _index_sample_table(conn, schema: str) -> None:
    """The sample table's word index and statistics, once its rows are in."""
    conn.execute(f'CREATE INDEX ON "{schema}".doc_sample USING gin (tsv) '
                 "WITH (fastupdate = off)")
    conn.execute(f'ANALYZE "{schema}".doc_sample')


def _sample_table(conn, schema: str) -> bool:
    """The sample table made from `doc`, in shard order, where a schema built before
    lacks it (39 s at 1,000,000 entries, once); whether it was made."""
    if conn.execute("SELECT to_regclass(%s)", (f'"{schema}".doc_sample',)).fetchone()[0]:
        return False
    import psycopg
    try:
        with conn.transaction():
            _create_sample_table(conn, schema)
            conn.execute(f'INSERT INTO "{schema}".doc_sample SELECT * FROM "{schema}".doc '
                         "WHERE shard < %s ORDER BY shard", (SAMPLE_TABLE_SHARDS,))
            _index_sample_table(conn, schema)
            # whoever may read `doc` may read its copy (a reader's role, granted alone)
            for (grantee,) in conn.execute(
                    "SELECT DISTINCT grantee FROM information_schema.role_table_grants "
                    "WHERE table_schema = %s AND table_name = 'doc' "
                    "AND privilege_type = 'SELECT' AND grantee <> current_user",
                    (schema,)).fetchall():
                conn.execute(f'GRANT SELECT ON "{schema}".doc_sample TO "{grantee}"')
    except psycopg.errors.InsufficientPrivilege:
        return False   # a role that may write rows but not own the table: samples read `doc`
    return True


def _year_index(conn, schema: str) -> None:
    """Year ranges, and a sample of one (`shard < k`) read from the index alone: through
    a year index only, the sample of a three-year range visited 85,000 rows of 1,000,000
    (145 ms; now 2 ms). Made where a schema of this layout lacks it (built before)."""
    new, old = conn.execute(   # a replica is read-only: ask first
        "SELECT to_regclass(%s), to_regclass(%s)",
        (f'"{schema}".doc_year_shard_idx', f'"{schema}".doc_year_idx')).fetchone()
    if new is not None and old is None:
        return
    import psycopg
    try:
        with conn.transaction():
            if new is None:
                conn.execute(f'CREATE INDEX doc_year_shard_idx ON "{schema}".doc '
                             "(year, shard)")
            conn.execute(f'DROP INDEX IF EXISTS "{schema}".doc_year_idx')   # it serves both
    except psycopg.errors.InsufficientPrivilege:
        pass   # a role that may write rows but not own the table: slower year samples


# -- analysis -------------------------------------------------------------------------

def analyse(folder: Path, rec, links: dict, state: list[str]
            ) -> tuple[tuple, tuple, set, int]:
    """One entry -> (its doc row, its shown row, its lexemes, bytes of text analysed);
    `state`: [fingerprint, snapshot stamp, change key]."""
    from .. import snapshots
    from .index import schema
    body = snapshots.text(folder, rec.key)
    link = files.link_status(links, rec)
    doc = document(rec, body, link)
    facets = facet_values(rec, link)
    fields = schema()
    lexemes: set[str] = set()
    parts = []
    strong: set[str] = set()
    for name in ANALYSED:
        value = doc.get(name)
        if not value:
            continue
        known = _lexemes[name]
        if len(known) > 500_000:
            known.clear()
        weight = WEIGHT[name]
        sep = weight + ","
        # The analyzer's terms without its token stream (terms.py); positions from 1.
        found_terms = term_positions(fields[name].analyzer, value, 1)
        # Per term only what cannot be done in C: most terms (three in four) stand
        # once in a text, and a long text has hundreds of them.
        entries = list(map(known.get, found_terms))
        if None in entries:
            for i, term in enumerate(found_terms):
                if entries[i] is None:
                    lexeme = PREFIX[name] + ":" + term
                    entries[i] = known[term] = (lexeme, _quote(lexeme) + ":")
        lexemes.update(map(itemgetter(0), entries))
        for (_, head), found in zip(entries, found_terms.values()):
            if len(found) == 1:
                at = found[0]
                parts.append(f"{head}{at if at <= MAX_POS else MAX_POS}{weight}")
                continue
            if len(found) > MAX_POSITIONS:
                found = found[:MAX_POSITIONS]
            if found[-1] > MAX_POS or found[0] > MAX_POS:   # place names: not sorted
                found = [min(p, MAX_POS) for p in found]
            parts.append(f"{head}{sep.join(map(str, found))}{weight}")
        if name == "text":
            strong = _prominent(found_terms)
    sample_shard = shard(rec.key)
    exact = {"k:" + rec.key, "y:" + rec.type.lower(), f"{SHARD_PREFIX}:{sample_shard}"}
    exact |= strong
    exact |= {"g:" + t.text for t in fields["tag"].analyzer(doc.get("tag", ""))}
    exact |= {"l:" + t.text for t in fields["lang"].analyzer(doc.get("lang", ""))}
    exact -= lexemes
    parts += [_quote(lex) for lex in exact]
    row = (rec.key, state[0], state[1], facets["type"], facets["year"], doc.get("date"),
           facets["journal"], facets["lang"], facets["keyword"], facets["link"], " ".join(parts),
           state[2], sample_shard)
    shown = (rec.key, json.dumps(doc["meta"], ensure_ascii=False), body)
    nbytes = len((doc.get("title", "") + doc.get("text", "")).encode("utf-8"))
    return row, shown, lexemes | exact, nbytes


def shard(key: str) -> int:
    """The entry's sample shard: a fixed 1/SHARDS of the library by a hash of its key, so
    a count over some shards, scaled, estimates a count over all (`_sample`). Kept twice:
    as an `r:` lexeme, for the GIN index to intersect with words, and as a column, to
    filter matches found through another index (a year range)."""
    return zlib.crc32(key.encode("utf-8")) % SHARDS


def _prominent(text_terms: dict[str, list[int]]) -> set[str]:
    """The `s:` lexemes of the STRONG_TERMS words the text uses most (at least twice):
    a champion list kept in the tsvector, so the GIN index finds the entries in which a
    word is prominent without reading one tsvector (`tsquery._strong`)."""
    counted = [(min(len(found), MAX_POSITIONS), term) for term, found in text_terms.items()
               if len(found) > 1]
    if len(counted) > STRONG_TERMS:
        counted = heapq.nlargest(STRONG_TERMS, counted)
    return {STRONG_PREFIX + ":" + term for _, term in counted}


# field -> term -> (its lexeme, its quoted head "'x:term':"): what repeats in tsvectors
_lexemes: dict[str, dict[str, tuple[str, str]]] = {name: {} for name in ANALYSED}


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _analyse_batch(args) -> tuple[list, list, set, int]:
    folder, records, links, states = args
    rows, shown, terms, total = [], [], set(), 0
    for rec in records:
        row, shows, lexemes, nbytes = analyse(folder, rec, links, states[rec.key])
        rows.append(row)
        shown.append(shows)
        terms |= lexemes
        total += nbytes
    return rows, shown, terms, total


def _analysed_batches(folder, records, links, current, keys):
    """Rows in batches; a large build analyses in worker processes (one per core) while
    this process COPYs into the database."""
    def batch(part: list[str]) -> tuple:
        recs = [records[k] for k in part]
        mine = {(r.key, r.fields.get("url")): links[(r.key, r.fields.get("url"))]
                for r in recs if (r.key, r.fields.get("url")) in links}
        return folder, recs, mine, {k: current[k] for k in part}
    size = BATCH if len(keys) >= PARALLEL_FROM else len(keys) or 1
    batches = (batch(keys[i:i + size]) for i in range(0, len(keys), size))
    procs = min(os.cpu_count() or 1, 4)
    if len(keys) < PARALLEL_FROM or procs < 2:
        for batch in batches:
            yield _analyse_batch(batch)
        return
    import multiprocessing
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with context.Pool(procs) as workers:
        yield from workers.imap(_analyse_batch, batches)


def _use_the_word_index(conn, timeout_ms: int = 0) -> None:
    """Begin a search's transaction (its first statement). Its statements see one
    snapshot (REPEATABLE READ): a sampled phrase's matches in shard 0 are found by the
    first and taken by key in the next, so an entry re-indexed in between by another
    process must not be taken as it is now.

    Matches come from the GIN index, never from a scan of the table: the planner does
    not know that testing a row means reading (and de-TOASTing) its whole tsvector, which
    made a word in a third of 100,000 clippings take 2 s instead of 50 ms. Nor is JIT
    compiled: the ranking's per-candidate look-up is estimated as if every match were a
    candidate, and compiling that plan cost up to a second."""
    # One round trip: SET LOCAL of the options by function, after the isolation level
    # (which must come before any query). `timeout_ms` (an int: no parameters in a
    # statement of two) limits each statement of the search (`search_timeout`), unless
    # the server's own statement_timeout is shorter. Two statements cannot be prepared
    # (nor sent in a pipeline): prepare=False.
    limit = ""
    if timeout_ms:
        ours = int(timeout_ms)
        limit = (", set_config('statement_timeout', (SELECT (CASE WHEN server_ms = 0 THEN "
                 f"{ours} ELSE least(server_ms, {ours}) END)::bigint::text FROM (SELECT "
                 "extract(epoch FROM current_setting('statement_timeout')::interval) "
                 "* 1000 AS server_ms) t), true)")
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; "
                 "SELECT set_config('enable_seqscan', 'off', true), "
                 f"set_config('jit', 'off', true){limit}", prepare=False)


@dataclass(frozen=True)
class Sample:
    """A large result counted on whole sample shards (the `r:` lexemes of `shard`):
    its matches in shards 0 .. `shards`-1 give the total and the facet counts (scaled
    by SHARDS / shards); its candidates for ranking are the prominent ones among them
    and the newest."""
    shards: int
    rank_all: bool = False   # a phrase: its sampled matches are the candidates
    table: str = "doc"       # where its shards' matches are read: `doc_sample` if it holds them
    first: tuple | None = None  # a phrase's: the keys of its matches in shard 0 (re-checked)


def _shards(count: int, start: int = 0) -> str:
    return " | ".join(f"'{SHARD_PREFIX}:{i}'" for i in range(start, count))


def _sample(conn, schema: str, t) -> Sample | None:
    """How a search is counted: None (every match) when its matches in shard 0 say it
    has at most about EXACT_UP_TO and a phrase would re-check at most about
    RECHECK_BUDGET entries. Else the first shards holding about SAMPLE_ROWS matches,
    fewer where a phrase's words are common (its positions are re-checked in the
    tsvector of every entry holding all of them), but at least MIN_SAMPLE. Decided by
    the query alone, so every page of a search is cut from the same order.

    Counting in one shard is an AND of the query with one lexeme in the GIN index,
    which skips through a common word's long posting list: it costs about the same for
    a word in 500 entries as for one in 500,000. A phrase's matches in shard 0 are
    listed rather than counted (`Sample.first`): the page takes them by key instead of
    re-checking their positions again (the phrase of common words at 1,000,000:
    109-162 -> 87-127 ms a query)."""
    if t.where == "false":
        return None
    # What the schema's sample table holds (none in a schema not yet migrated, or one
    # this role may not read).
    held = conn.execute(f'SELECT value FROM "{schema}".meta WHERE name = %s AND '
                        "has_table_privilege(to_regclass(%s), 'SELECT')",
                        ("sample_shards", f'"{schema}".doc_sample')).fetchone()
    held = int(held[0]) if held else 0
    table = "doc_sample" if held else "doc"
    one = f'(SELECT {{}} FROM "{schema}".{table} WHERE ({{}}) AND tsv @@ %s::tsquery)'
    counts, params = [one.format("count(*)", t.where)], [*t.params, _shards(1)]
    # A phrase the query looks for (one it excludes is no candidate): the entries
    # holding all its words are those whose positions are re-checked.
    phrase = bool(t.rank and _PHRASE.search(t.rank))
    if phrase:
        # Its matches in shard 0 themselves: their positions are re-checked here, and a
        # sample takes them from here instead of re-checking them again.
        counts = [one.format(_KEYS, t.where), one.format("count(*)", t.where)]
        params += [_PHRASE.sub("&", p) if isinstance(p, str) else p for p in t.params]
        params.append(_shards(1))
    found, *more = conn.execute(f"SELECT {', '.join(counts)}", params).fetchone()
    first = None
    if phrase:
        first, found = tuple(found), len(found)
    holding = more[0] if phrase else 0
    if found * SHARDS <= EXACT_UP_TO and holding * SHARDS <= RECHECK_BUDGET:
        return None
    shards = -(-SAMPLE_ROWS // max(found, 1))
    if phrase:
        shards = min(shards, max(1, RECHECK_BUDGET // max(holding, 1)))
    if shards >= SHARDS or found * shards < MIN_SAMPLE:
        return None
    # a phrase's candidates: its newest sampled matches (no positions re-checked again)
    return Sample(shards, rank_all=phrase, table=table if shards <= held else "doc",
                  first=first)


_PHRASE = re.compile(r"<(?:-|\d+)>")


def _beyond_sql(schema: str, t, sample: Sample, skip: int, take: int
                ) -> tuple[str, list]:
    """The matches outside the sample's shards, newest first, from `skip`: what follows
    the sample's own matches when a search is paged past them (scored 0)."""
    return (f'''
        SELECT p.key, 0::float8, w.meta, w.body FROM (
            SELECT key, date FROM "{schema}".doc WHERE ({t.where}) AND shard >= %s
            ORDER BY date DESC NULLS LAST, key OFFSET %s LIMIT %s) p
        JOIN "{schema}".shown w ON w.key = p.key
        ORDER BY p.date DESC NULLS LAST, p.key''', [*t.params, sample.shards, skip, take])


def _ranking_ctes(schema: str, t, sample: Sample | None = None, every: bool = False
                  ) -> tuple[str, list]:
    """CTEs `m` (every match's small columns; with a `sample`, those of its shards),
    `total`, `ranked` (candidates with their ts_rank_cd) and `ordered` (every match: the
    ranked ones best first, then the others newest first, numbered by `ord`), with their
    parameters in order.

    Ranking reads a match's whole tsvector, so it runs on candidates only: every match
    when there are at most RANK_EXACT; else the STRONG_WINDOW newest matches in which a
    query word is prominent (`t.strong_where`, answered by the GIN index alone) and the
    RECENT_WINDOW newest matches of all (docs/decisions.md, "Ranking: candidates, not
    every match").

    `every` (with a sampled phrase's `sample`): a CTE `every` of every match too, from
    which `m` is taken, so that no entry's positions are re-checked twice."""
    s = schema
    params = list(t.params)
    in_sample = ""
    source = f'"{s}".doc WHERE ({t.where})'
    if every:
        source, in_sample = "every WHERE true", " AND shard < %s"
        params.append(sample.shards)
    elif sample and ("tsv @@" in t.where or t.where == "true") and not t.by_year:
        source = f'"{s}".{sample.table} WHERE ({t.where})'
        if sample.first is None:
            in_sample = " AND tsv @@ %s::tsquery"
            params.append(_shards(sample.shards))
        else:
            # a phrase's: shard 0's matches as `_sample` found them, the others' here
            in_sample = " AND tsv @@ %s::tsquery" if sample.shards > 1 else " AND false"
            params += [_shards(sample.shards, start=1)] if sample.shards > 1 else []
            in_sample += (f' UNION ALL SELECT {_SMALL} FROM "{s}".{sample.table} '
                          "WHERE key = ANY(%s)")
            params.append(list(sample.first))
    elif sample:
        in_sample = " AND shard < %s"
        params.append(sample.shards)
    if not t.rank:
        # Nothing to rank by (a year range, say): every match scores 0, ordered by key
        # as in Whoosh, and no tsvector is read.
        parts, score = ["SELECT key FROM m"], "0::float8"
    elif sample and sample.rank_all:
        # a phrase: its sampled matches, the newest RANK_EXACT of them
        parts = ["(SELECT key FROM m ORDER BY date DESC NULLS LAST, key LIMIT %s)"]
        params.append(RANK_EXACT)
    elif sample:
        # The sample's prominent matches and its newest.
        parts = []
        if t.strong_where:
            parts.append(f'(SELECT key FROM "{s}".{sample.table} WHERE ({t.strong_where}) '
                         "AND tsv @@ %s::tsquery ORDER BY date DESC NULLS LAST, key LIMIT %s)")
            params += [*t.strong_params, _shards(sample.shards), STRONG_WINDOW]
        parts.append("(SELECT key FROM m ORDER BY date DESC NULLS LAST, key LIMIT %s)")
        params.append(RECENT_WINDOW)
    else:
        parts = ["SELECT key FROM m WHERE (SELECT n FROM total) <= %s"]
        params.append(RANK_EXACT)
        if t.strong_where:
            parts.append(f'(SELECT key FROM "{s}".doc WHERE (SELECT n FROM total) > %s AND '
                         f"{t.strong_where} ORDER BY date DESC NULLS LAST, key LIMIT %s)")
            params += [RANK_EXACT, *t.strong_params, STRONG_WINDOW]
        parts.append("(SELECT key FROM m WHERE (SELECT n FROM total) > %s "
                     "ORDER BY date DESC NULLS LAST, key LIMIT %s)")
        params += [RANK_EXACT, RECENT_WINDOW]
    if t.rank:
        # one index look-up per candidate (the planner expects far more candidates
        # than the windows let through and would hash the whole table)
        score = (f"(SELECT ts_rank_cd('{RANK_WEIGHTS}', d.tsv, %s::tsquery, 1)::float8 "
                 f'FROM "{s}".doc d WHERE d.key = c.key)')
        params.append(t.rank)
    every_cte = ""
    if every:
        every_cte = f'''
        every AS MATERIALIZED (
            SELECT {_SMALL}, shard FROM "{s}".doc WHERE ({t.where})),'''
    ctes = f'''{every_cte}
        m AS MATERIALIZED (SELECT {_SMALL} FROM {source}{in_sample}),
        total AS (SELECT count(*) AS n FROM m),
        cand AS ({" UNION ".join(parts)}),
        ranked AS MATERIALIZED (SELECT c.key, {score} AS score FROM cand c),
        best AS (
            SELECT key, score, row_number() OVER (ORDER BY score DESC, key) AS ord
            FROM ranked),
        rest AS (
            SELECT key, 0::float8 AS score, (SELECT count(*) FROM ranked)
                + row_number() OVER (ORDER BY date DESC NULLS LAST, key) AS ord
            FROM m WHERE NOT EXISTS (SELECT 1 FROM ranked r WHERE r.key = m.key)),
        ordered AS (SELECT * FROM best UNION ALL SELECT * FROM rest)'''
    return ctes, params


# A match's small columns: what paging, the total and the facets read.
_SMALL = "key, date, year, type, journal, lang, tag, link"
# The matches' keys as one array (read in binary: no Python object per row)
_KEYS = "coalesce(array_agg(key), '{}')"

# GROUPING(year, type, journal, link, lang, tag) of each grouping set: a bit for each
# column not grouped, the first column highest.
_SETS = {"year": 0b011111, "type": 0b101111, "journal": 0b110111, "link": 0b111011,
         "lang": 0b111101, "keyword": 0b111110}


def _page_sql(schema: str, t, facets: bool, offset: int, limit: int | None,
              sample: Sample | None = None) -> tuple[str, list]:
    """One statement: the page of hits (with what they show), the total, the facets
    (one pass over the matches' small columns, `GROUPING SETS`); with a `sample`, the
    total and the facets are those of the sampled matches (`query` scales them)."""
    ctes, params = _ranking_ctes(schema, t, sample)
    # The other matches are numbered only when the page reaches past the ranked ones.
    end = 2 ** 62 if limit is None else offset + limit
    page = ("SELECT key, score, ord FROM best WHERE ord > %s AND ord <= %s "
            "UNION ALL SELECT key, score, ord FROM rest WHERE ord > %s AND ord <= %s "
            "AND (SELECT count(*) FROM ranked) < %s")
    params += [offset, end, offset, end, end]
    facet_sql = ""
    if facets:
        single = " ".join(f"WHEN {_SETS[name]} THEN '{name}'"
                          for name in ("year", "type", "journal", "link"))
        facet_sql = f'''
        UNION ALL
        SELECT name, value, n::float8, NULL, NULL, NULL FROM (
            SELECT name, value, n, row_number() OVER (PARTITION BY name
                                                      ORDER BY n DESC, value) AS r
            FROM (
                SELECT CASE g {single} END AS name,
                       coalesce(year::text, type, journal, link) AS value, n
                FROM f WHERE g IN ({_SETS["year"]}, {_SETS["type"]}, {_SETS["journal"]},
                                   {_SETS["link"]})
                UNION ALL
                SELECT 'lang', v, sum(n) FROM f, unnest(lang) v
                WHERE g = {_SETS["lang"]} GROUP BY v
                UNION ALL
                SELECT 'keyword', v, sum(n) FROM f, unnest(tag) v
                WHERE g = {_SETS["keyword"]} GROUP BY v) fv
            WHERE value IS NOT NULL AND value <> '') x
        WHERE r <= {FACET_VALUES}'''
        ctes += ''',
        f AS (
            SELECT GROUPING(year, type, journal, link, lang, tag) AS g,
                   year, type, journal, link, lang, tag, count(*) AS n
            FROM m GROUP BY GROUPING SETS ((year), (type), (journal), (link), (lang),
                                           (tag)))'''
    sql = f'''
        WITH {ctes},
        page AS ({page})
        SELECT 'hit', p.key, p.score, w.meta, w.body, p.ord
            FROM page p JOIN "{schema}".shown w ON w.key = p.key
        UNION ALL SELECT 'total', NULL, n::float8, NULL, NULL, NULL FROM total
        {facet_sql}'''
    return sql, params
