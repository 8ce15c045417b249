"""The search backend interface: what `search`, `export --query` and `serve` need from an
engine, and how the `search_backend` setting picks one.

A backend keeps an index of one library up to date and answers queries:

- `is_current(bib_path)`: cheap check before a search (a few milliseconds);
- `update(bib_path, records=None, rebuild=False, progress=None, settings=None,
  compare_all=False)`: bring the index up to date (changed and removed entries only: from
  the journal of clippings' own writes when it can tell, unless `compare_all`) ->
  `IndexReport`;
- `query(text, offset=0, limit=10, facets=True)` -> `Page`: hits best first with
  snippets, the total number of matches and facet counts, from one parsed query;
- `stats()`: what the index holds (entries, size, engine);
- `close()`.

Both engines read the same query language (`query.parse`) and index the same analysed
terms (`analysis`, `schema.document`), so they find the same entries. Another engine is one
more module with these methods and a line in `open_backend`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ClippingsError, UsageError

if TYPE_CHECKING:
    from .index import IndexReport

WHOOSH = "whoosh"


class ReadOnlyDatabase(ClippingsError):
    """The URL leads to a read-only server (a streaming replica): it can be searched,
    not updated."""


class DatabaseStopped(ClippingsError):
    """The database answered but stopped the statement: a search past `search_timeout`,
    a timeout its administrator set (statement or lock), a cancel, a deadlock or a
    replica's recovery conflict. The command ran and gave up (exit 1); the web page
    answers 503. Not a lost server (exit 3), although psycopg raises these as
    OperationalError too."""

    exit_code = 1


@dataclass
class Page:
    """One page of results: `hits` (query.Hit, best first) from `offset`, `total` matches,
    and `facets`: name -> [(value, count)], most frequent first (see schema.FACETS)."""

    hits: list
    total: int
    offset: int = 0
    limit: int | None = 10
    facets: dict[str, list[tuple]] = field(default_factory=dict)
    # total and facet counts estimated from a sample of the matches (PostgreSQL, a
    # large result: pg.Sample)
    estimated: bool = False
    # the rebuild of a damaged index this search needed, else None (Whoosh: index.searched)
    rebuilt: IndexReport | None = None

    def as_json(self) -> dict:
        return {"total": self.total, "estimated": self.estimated,
                "offset": self.offset, "limit": self.limit,
                "hits": [hit.as_json() for hit in self.hits],
                "facets": {name: [[value, count] for value, count in values]
                           for name, values in self.facets.items()}}


def estimate(number, scale: float) -> int:
    """A count scaled up from a sample, to three significant digits (exact if not)."""
    value = int(number)
    if scale == 1 or value == 0:
        return value
    value = round(value * scale)
    cut = 10 ** max(0, len(str(value)) - 3)
    return max(1, round(value / cut) * cut)


def scaled_counts(items, scale: float) -> list[tuple]:
    """(value, count) pairs counted on a sample, as estimates of the whole result's: a
    value seen once in a sample says little about its count and is left out."""
    return [(value, estimate(n, scale)) for value, n in items if scale == 1 or n >= 2]


def describe(spec: str) -> str:
    """The backend setting as it may be shown: a URL without its password."""
    if not is_postgres(spec):
        return spec
    from .pg import redact
    return redact(spec)


def is_postgres(spec: str) -> bool:
    return spec.startswith(("postgresql://", "postgres://"))


def spec_of(settings, override: str | None = None) -> str:
    """The chosen backend: a flag, else the setting (CLIPPINGS_SEARCH_BACKEND or
    clippings.toml), else Whoosh."""
    spec = (override or getattr(settings, "search_backend", "") or WHOOSH).strip()
    if spec != WHOOSH and not is_postgres(spec):
        raise UsageError(f"search backend {describe(spec)!r} is not known: use 'whoosh' or "
                         "a URL postgresql://user@host/database")
    return spec


def reader_specs(settings, override: str | None = None) -> tuple[str, str | None]:
    """What a reader (`search`, `export --query`, `serve`) queries, and which backend it
    brings up to date first when the index is stale (None: search it as it is).

    A flag names one backend for both. Else `search_read_url` (a read replica, or a
    read-only role on the primary) is queried while `search_backend` stays the one
    written to: `index` always writes there, and a reader that finds the index stale
    updates it there first (when it is PostgreSQL; a replica shows the change once it
    has replicated, usually well under a second later)."""
    if override:
        spec = spec_of(settings, override)
        return spec, spec
    writer = spec_of(settings)
    read = (getattr(settings, "search_read_url", "") or "").strip()
    if not read:
        return writer, writer
    if not is_postgres(read):
        raise UsageError(f"search_read_url {describe(read)!r} is not a URL "
                         "postgresql://user@host/database")
    return read, writer if is_postgres(writer) else None


def use_backend(settings, override: str | None = None) -> None:
    """Apply a `--backend` flag to `settings` (it replaces search_backend and
    search_read_url) and make sure the backend readers will query can be reached:
    a long-running server says at its start that the setting or the database is wrong
    (UsageError, NetworkError)."""
    if override:
        settings.search_backend = spec_of(settings, override)
        settings.search_read_url = ""
    read, _ = reader_specs(settings)
    if is_postgres(read):
        from .pg import pool
        pool(read)


def open_backend(library_folder: Path, spec: str, settings=None):
    """The backend named by `spec` ('whoosh' or a postgresql:// URL) for one library."""
    if is_postgres(spec):
        from .pg import PostgresBackend
        return PostgresBackend(library_folder, spec, settings)
    from .whoosh_backend import WhooshBackend
    return WhooshBackend(library_folder, settings)
