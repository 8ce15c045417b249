"""Full-text search. Every `whoosh` import of the project lives in this package, so
the engine (whoosh3) can be replaced without touching the rest.

- `analysis`: the analyzers (German, Russian, transliteration keys) for the schema;
- `decompound`: German compound splitting with a shipped noun dictionary;
- `schema`, `index` (incremental, self-repairing index in index/search/), `query`
  (parsing, ranking, snippets);
- `find`: the one call the commands use.
"""

from __future__ import annotations

from pathlib import Path


def find(bib_path: Path, text: str, limit: int | None = 10, *, settings=None,
         progress=None, rebuild_progress=None):
    """Hits for `text`, best first: the query is checked first, then the index is brought
    up to date; an index damaged in a way its manifest could not tell is rebuilt once."""
    from . import index, query
    query.prepare(text)   # a bad query is reported before any indexing
    index.ensure_current(bib_path, progress=progress, settings=settings)
    folder = Path(bib_path).parent
    try:
        return query.search(index.open_index(folder), text, folder, limit)
    except index.read_errors():
        index.update(bib_path, rebuild=True, progress=rebuild_progress)
        return query.search(index.open_index(folder), text, folder, limit)


def page(bib_path: Path, text: str = "", filters=None, **options):
    """One page of a search (or of browsing, with no text): hits, total, facet counts.
    See `pages.search_page`."""
    from .pages import search_page
    return search_page(bib_path, text, filters, **options)


def similar(bib_path: Path, record, limit: int = 5, settings=None, check_index=True):
    """Clippings like `record` (by title words and keywords), best first."""
    from .pages import similar as find_similar
    return find_similar(bib_path, record, limit, settings, check_index)


def facet_rows(records, statuses):
    """Each entry's facet values (see `pages.facet_rows`)."""
    from .pages import facet_rows as rows
    return rows(records, statuses)


def ensure_index(bib_path: Path, settings=None, records=None):
    """Bring the index up to date if library.bib or a snapshot changed; `records` (the
    library's decoded records, when the caller holds them) spare loading it again."""
    from . import index
    if index.is_current(Path(bib_path)):
        return None
    return index.update(Path(bib_path), records, settings=settings)
