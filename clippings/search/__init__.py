"""Full-text search. Every `whoosh` import of the project lives in this package.

- `analysis`: the analyzers (German, Russian, transliteration keys);
- `decompound`: German compound splitting with a shipped noun dictionary;
- `schema` (fields, record -> document, facets), `query` (parsing, ranking, snippets);
- `backend`: the engine interface and the `search_backend` setting; `whoosh_backend` with
  `index` (incremental, self-repairing index in index/search/), and `pg` (PostgreSQL);
- `find` and `page`: the calls the commands and the web interface use.

Package API (stable):

    page(bib_path, text, *, offset=0, limit=10, facets=True, settings=None,
         backend=None, progress=None, rebuild_progress=None) -> backend.Page

        One page of hits for the query `text`: `Page.hits` (query.Hit: key, score, type,
        title, authors, date, journal, snippet with matched words as **word**), best
        first, from `offset`, at most `limit` (None = all); `Page.total` matches in all;
        `Page.facets` = {"year"|"type"|"journal"|"lang"|"keyword"|"link":
        [(value, count), ...]} over all matches, most frequent first (with facets=True).
        `Page.estimated`: on PostgreSQL, a search with more than about 4,000 matches has
        its total and facet counts estimated from a fixed sample of the archive
        (`pg._sample`); `limit=None` counts exactly.
        The index is brought up to date first (a cheap check when nothing changed);
        a damaged one is rebuilt, once, and `Page.rebuilt` (an IndexReport, else None)
        says so.
        `backend`: 'whoosh' or a postgresql:// URL, overriding settings.search_backend
        (and search_read_url). Without it, a `search_read_url` setting is queried while
        a stale index is brought up to date in search_backend (`reader`).
        Raises UsageError (bad query or setting), NetworkError (database unreachable),
        index.DamagedIndex (an index unreadable even right after its rebuild).

    find(bib_path, text, limit=10, **same keywords) -> list[query.Hit]

        `page(...).hits` without facets: what `search` and `export --query` use.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path


def _defer_english_variations() -> None:
    """Whoosh's query module imports its English word-variation rules when it loads:
    12 ms of regular expressions compiled in every `clippings search`, for a query type
    (Variations) that clippings never builds. A stand-in takes their place and loads
    the real module the first time anything of it is used."""
    name = "whoosh.lang.morph_en"
    if name in sys.modules:
        return

    def real():
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        import importlib
        return importlib.import_module(name)

    def attribute(wanted: str):
        if wanted.startswith("__"):   # the import system asks for __path__ and the like
            raise AttributeError(wanted)
        return getattr(real(), wanted)

    stand_in = types.ModuleType(name)
    stand_in.variations = lambda word: real().variations(word)
    stand_in.__getattr__ = attribute
    sys.modules[name] = stand_in


_defer_english_variations()


def page(bib_path: Path, text: str, *, offset: int = 0, limit: int | None = 10,
         facets: bool = True, settings=None, backend: str | None = None, progress=None,
         rebuild_progress=None):
    """See the module docstring. The query is checked before any indexing."""
    from . import query
    if settings is None:
        from ..config import load_settings
        settings = load_settings(Path(bib_path).parent)
    query.prepare(text)   # a bad query is reported before any indexing
    bib_path = Path(bib_path)
    engine, updated = _reader(bib_path, settings, backend, progress)
    try:
        found = engine.query(text, offset=offset, limit=limit, facets=facets,
                             bib_path=bib_path, rebuild_progress=rebuild_progress)
    finally:
        engine.close()
    if found.rebuilt is None and updated is not None:
        from .index import UNREADABLE
        if updated.rebuilt == UNREADABLE:   # the update before the search met the damage
            found.rebuilt = updated
    return found


def reader(bib_path: Path, settings, backend: str | None = None, progress=None,
           records=None, check_index: bool = True):
    """The backend a reader queries (`backend.reader_specs`: the flag, else
    search_read_url, else search_backend), with the index brought up to date first
    through the backend written to, when it is stale. The caller closes it."""
    return _reader(bib_path, settings, backend, progress, records, check_index)[0]


def _reader(bib_path: Path, settings, backend: str | None = None, progress=None,
            records=None, check_index: bool = True):
    """(`reader(...)`, the IndexReport of the update it made first, or None)."""
    from .backend import open_backend, reader_specs
    bib_path = Path(bib_path)
    read, write = reader_specs(settings, backend)
    engine = open_backend(bib_path.parent, read, settings)
    report = None
    try:
        if check_index and write is not None and not engine.is_current(bib_path):
            writer = engine if write == read else open_backend(bib_path.parent, write,
                                                               settings)
            try:
                report = _update_if_writable(writer, bib_path, progress, settings, records)
            finally:
                if writer is not engine:
                    writer.close()
    except BaseException:
        engine.close()
        raise
    return engine, report


def _update_if_writable(engine, bib_path: Path, progress, settings, records=None):
    """Bring the index up to date -> IndexReport; a read replica is searched as it is
    (its primary is kept up to date by `clippings index` elsewhere): None."""
    from .backend import ReadOnlyDatabase
    try:
        return engine.update(bib_path, records, progress=progress, settings=settings)
    except ReadOnlyDatabase:
        return None


def find(bib_path: Path, text: str, limit: int | None = 10, **options):
    """Hits for `text`, best first (see `page`)."""
    return page(bib_path, text, limit=limit, facets=False, **options).hits


def update(bib_path: Path, *, rebuild: bool = False, settings=None, backend: str | None = None,
           progress=None, compare_all: bool = False):
    """Bring the chosen backend's index up to date -> IndexReport; `compare_all` (as
    `clippings index` does) compares every entry and snapshot instead of reading what
    the journal noted, so it also finds a snapshot's text.txt edited by hand."""
    from .backend import open_backend, spec_of
    if settings is None:
        from ..config import load_settings
        settings = load_settings(Path(bib_path).parent)
    engine = open_backend(Path(bib_path).parent, spec_of(settings, backend), settings)
    try:
        return engine.update(Path(bib_path), rebuild=rebuild, progress=progress,
                             settings=settings, compare_all=compare_all)
    finally:
        engine.close()


def results_page(bib_path: Path, text: str = "", filters=None, **options):
    """One page of a search (or of browsing, with no text) narrowed by facet filters,
    sorted, with hits, total and facet counts: the web interface's search page.
    See `pages.search_page`."""
    from .pages import search_page
    return search_page(bib_path, text, filters, **options)


def similar(bib_path: Path, record, limit: int = 5, settings=None, check_index=True):
    """Clippings like `record` (by title words and keywords), best first."""
    from .pages import similar as find_similar
    return find_similar(bib_path, record, limit, settings, check_index)


def prepare_pages(bib_path: Path, **library) -> None:
    """Build what search pages of this library version need (see `pages.prepare`)."""
    from .pages import prepare
    prepare(bib_path, **library)


def note_changes(old_records, old_rows, records, rows, changed) -> None:
    """Which entries changed between two versions a server holds (`pages.note_changes`)."""
    from .pages import note_changes as note
    note(old_records, old_rows, records, rows, changed)


def facet_rows(records, statuses):
    """Each entry's facet values (see `pages.facet_rows`)."""
    from .pages import facet_rows as rows
    return rows(records, statuses)


def ensure_index(bib_path: Path, settings=None, backend: str | None = None,
                 records=None) -> None:
    """Bring the index readers use up to date if library.bib or a snapshot changed (see
    `reader`); `records` (the library's decoded records, when the caller holds them, as
    the web server does) spare loading it again."""
    bib_path = Path(bib_path)
    if settings is None:
        from ..config import load_settings
        settings = load_settings(bib_path.parent)
    reader(bib_path, settings, backend, records=records).close()
