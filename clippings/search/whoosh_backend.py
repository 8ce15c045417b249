"""The default backend: a Whoosh index in <library>/index/search/ (see `index`)."""

from __future__ import annotations

from pathlib import Path

from . import index, query
from .backend import Page


class WhooshBackend:
    name = "whoosh"

    def __init__(self, library_folder: Path, settings=None):
        self.folder = Path(library_folder)
        self.settings = settings
        self.encoding = index.encoding_of(settings)

    def is_current(self, bib_path: Path) -> bool:
        return index.is_current(Path(bib_path), self.encoding)

    def update(self, bib_path: Path, records=None, *, rebuild: bool = False, progress=None,
               settings=None, compare_all: bool = False) -> index.IndexReport:
        return index.update(Path(bib_path), records, rebuild=rebuild, progress=progress,
                            settings=settings, compare_all=compare_all)

    def query(self, text: str, *, offset: int = 0, limit: int | None = 10,
              facets: bool = True, bib_path: Path | None = None,
              rebuild_progress=None) -> Page:
        """An index damaged in a way its manifest could not tell is rebuilt once
        (`index.searched`; `Page.rebuilt` then says why)."""
        def search():
            return query.search_page(index.open_index(self.folder), text, self.folder,
                                     offset, limit, facets)
        if bib_path is None:
            (hits, total, counts), report = search(), None
        else:
            (hits, total, counts), report = index.searched(bib_path, search,
                                                           rebuild_progress, self.settings)
        return Page(hits=hits, total=total, offset=offset, limit=limit, facets=counts,
                    rebuilt=report)

    def stats(self) -> dict:
        entries = index.read_entries(self.folder) or {}
        return {"backend": self.name, "entries": len(entries),
                "bytes": index.index_size(self.folder), "where": str(index.index_dir(self.folder))}

    def close(self) -> None:
        pass
