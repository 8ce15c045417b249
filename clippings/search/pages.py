"""A page of results: the query (or none: browsing), facet filters, counts and paging.

`clippings search` returns the best N hits; a search page needs more: how many matched in
all ("12 of 57"), facet counts over every match, and snippets only for the hits shown.
The engine ranks every match (keys and scores only, cheap); filters and facet counts run
over the decoded records; snippets are cut for the page's hits alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..model import Record
from . import facets
from .query import SNIPPET_CHARS, Hit, _cut

SORTS = ("relevance", "newest", "oldest", "title")


@dataclass
class Page:
    query: str
    filters: dict[str, list[str]]
    sort: str
    offset: int
    limit: int
    total: int                  # matches after filtering
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)   # every match, in order

    def as_json(self) -> dict:
        return {"query": self.query, "filters": self.filters, "sort": self.sort,
                "offset": self.offset, "limit": self.limit, "total": self.total,
                "hits": [h.as_json() for h in self.hits],
                "facets": {name: [{"value": v, "count": n} for v, n in items]
                           for name, items in self.facets.items()}}


def _record_hit(rec: Record, score: float = 0.0) -> Hit:
    from .schema import display_authors, display_date
    text = rec.fields.get("abstract") or rec.fields.get("note") or ""
    return Hit(key=rec.key, score=score, type=rec.type, title=rec.fields.get("title", ""),
               authors=display_authors(rec), date=display_date(rec),
               snippet=_cut(text, 0, 0, SNIPPET_CHARS) if text else "",
               journal=rec.fields.get("journaltitle") or rec.fields.get("journal")
               or rec.fields.get("howpublished", ""))


_generation_keys: dict[tuple[str, int], dict[int, str]] = {}


def _keys_by_docnum(folder: Path, ix, searcher) -> dict[int, str]:
    """docnum -> key of the index's current generation (read once per generation)."""
    token = (str(folder), ix.latest_generation())
    keys = _generation_keys.get(token)
    if keys is None:
        _generation_keys.clear()
        keys = _generation_keys[token] = {
            docnum: stored["key"] for docnum, stored in searcher.reader().iter_docs()}
    return keys


def search_page(bib_path: Path, text: str = "", filters: Mapping[str, list[str]] | None = None,
                *, offset: int = 0, limit: int = 20, sort: str = "",
                records: Mapping[str, Record], statuses: Mapping[str, str] | None = None,
                settings=None, facet_limit: int | None = 30,
                rows: Mapping[str, dict] | None = None, check_index: bool = True) -> Page:
    """One page of matches for `text` ("" = every entry) narrowed by facet `filters`.

    `records` are the library's decoded records by key (the caller usually holds them);
    `statuses` the last link status by key (for the link facet and badges); `rows` each
    entry's facet values when the caller keeps them (a server does: `facet_rows`).
    With `check_index` false the caller has made sure the index is current.
    """
    from ..errors import UsageError
    statuses = statuses or {}
    filters = {name: list(v) for name, v in (filters or {}).items()
               if name in facets.FACETS and v}
    sort = sort or ("relevance" if text.strip() else "newest")
    if sort not in SORTS:
        raise UsageError(f"unknown sort {sort!r} (one of {', '.join(SORTS)})")
    folder = Path(bib_path).parent
    searcher = marker = q = engine = None
    scores: dict[str, float] = {}
    from .backend import is_postgres, reader_specs
    spec = reader_specs(settings)[0] if settings is not None else "whoosh"
    if text.strip() and is_postgres(spec):
        # The database ranks every match (keys and scores); the page's hits come from it.
        from . import query, reader
        query.prepare(text)
        engine = reader(Path(bib_path), settings, check_index=check_index)
        scores = dict(engine.scores(text))
        candidates = [(key, None) for key in scores]
    elif text.strip():
        from whoosh import scoring
        from . import index, query
        query.prepare(text)
        if check_index:
            index.ensure_current(Path(bib_path), settings=settings)
        ix = index.open_index(folder)
        q = query.parse(text, ix.schema)
        marker = query.Marker(ix.schema, q)
        searcher = ix.searcher(weighting=scoring.BM25F())
        by_docnum = _keys_by_docnum(folder, ix, searcher)
        # Every match, unscored (postings only): enough for the count and the facets.
        candidates = [(by_docnum[d], d) for d in sorted(searcher.docs_for_query(q))
                      if d in by_docnum]
    else:
        candidates = [(key, None) for key in records]
    try:
        matched, kept = [], []
        for key, docnum in candidates:
            rec = records.get(key)
            if rec is None:
                continue
            entry_values = rows.get(key) if rows is not None else None
            if entry_values is None:
                entry_values = facets.values(rec, statuses.get(key))
            if filters and not facets.matches(entry_values, filters):
                continue
            matched.append(entry_values)
            kept.append((key, docnum))
        offset = max(0, offset)
        end = offset + limit if limit else None
        if sort == "relevance" and engine is not None:
            kept.sort(key=lambda kd: -scores[kd[0]])   # `scores` is best first already
            shown = [(k, scores[k]) for k, _ in kept[offset:end]]
            order = [k for k, _ in kept]
        elif sort == "relevance" and searcher is not None:
            # Only the page needs ranking: the engine scores the allowed documents and
            # keeps the best `end` (skipping blocks that cannot make it).
            allowed = {d for _, d in kept}
            results = searcher.search(q, limit=end, filter=allowed if filters else None)
            ranked = [(by_docnum[d], s) for s, d in results.top_n]
            shown = ranked[offset:end]
            order = [k for k, _ in ranked]
            seen = set(order)
            order += [k for k, _ in kept if k not in seen]
        else:
            from .schema import display_date
            if sort == "newest":
                kept.sort(key=lambda kd: display_date(records[kd[0]]), reverse=True)
            elif sort == "oldest":
                kept.sort(key=lambda kd: display_date(records[kd[0]]) or "9999")
            elif sort == "title":
                kept.sort(key=lambda kd: records[kd[0]].fields.get("title", "").casefold())
            shown = [(k, 0.0) for k, _ in kept[offset:end]]
            order = [k for k, _ in kept]
        docnums = dict(kept)
        hits = engine.hits(text, shown) if engine is not None else []
        for key, score in shown if engine is None else ():
            if searcher is not None:
                hits.append(query.hit_from(searcher.stored_fields(docnums[key]), score,
                                           marker, folder))
            else:
                hits.append(_record_hit(records[key], score))
    finally:
        if searcher is not None:
            searcher.close()
        if engine is not None:
            engine.close()
    return Page(query=text, filters=filters, sort=sort, offset=offset, limit=limit,
                total=len(kept), hits=hits, facets=facets.count(matched, facet_limit),
                keys=order)


def facet_rows(records: Mapping[str, Record], statuses: Mapping[str, str]
               ) -> dict[str, dict]:
    """Every entry's facet values, to keep between searches of an unchanged library."""
    return {key: facets.values(rec, statuses.get(key)) for key, rec in records.items()}


_SIGNIFICANT = re.compile(r"[^\W\d_]{5,}")
SIMILAR_TERMS = 6


def similar(bib_path: Path, rec: Record, limit: int = 5, settings=None,
            check_index: bool = True) -> list[Hit]:
    """Entries sharing the most title words and keywords with `rec` (itself left out)."""
    from whoosh import query as wq
    from whoosh import scoring
    from . import index
    words = _SIGNIFICANT.findall(" ".join([rec.fields.get("title", ""),
                                           rec.fields.get("subtitle", ""),
                                           rec.fields.get("keywords", "")]))
    if not words:
        return []
    from .backend import is_postgres, reader_specs
    if settings is not None and is_postgres(reader_specs(settings)[0]):
        return _similar_in_database(bib_path, rec, words, limit, settings, check_index)
    if check_index:
        index.ensure_current(Path(bib_path), settings=settings)
    folder = Path(bib_path).parent
    ix = index.open_index(folder)
    with ix.searcher(weighting=scoring.BM25F()) as searcher:
        # The rarest of its title words and keywords say most about an entry; common
        # ones would match half the library and cost a scan of it.
        candidates = set()
        for fieldname in ("title", "tag"):
            analyzer = ix.schema[fieldname].analyzer
            for word in dict.fromkeys(words):
                for token in analyzer(word, mode="query"):
                    df = searcher.doc_frequency(fieldname, token.text)
                    if df > 1:
                        candidates.add((df, fieldname, token.text))
        terms = [wq.Term(f, t) for _, f, t in sorted(candidates)[:SIMILAR_TERMS]]
        if not terms:
            return []
        results = searcher.search(wq.Or(terms), limit=limit + 1)
        return [_stored_hit(r.fields(), float(r.score)) for r in results
                if r.fields().get("key") != rec.key][:limit]


def _similar_in_database(bib_path: Path, rec: Record, words: list[str], limit: int,
                         settings, check_index: bool) -> list[Hit]:
    from . import reader
    from .index import schema
    terms = [(fieldname, token.text) for fieldname in ("title", "tag")
             for word in dict.fromkeys(words)
             for token in schema()[fieldname].analyzer(word, mode="query")]
    engine = reader(Path(bib_path), settings, check_index=check_index)
    try:
        found = engine.similar(terms, rec.key, limit, SIMILAR_TERMS)
    finally:
        engine.close()
    return [_stored_hit({"key": key, "meta": meta}, score) for key, score, meta in found]


def _stored_hit(stored: dict, score: float) -> Hit:
    """A Hit from the index's stored fields alone (no snippet: nothing to read)."""
    meta = stored.get("meta") or {}
    return Hit(key=stored["key"], score=score, type=meta.get("type", ""),
               title=meta.get("title", ""), authors=list(meta.get("authors", [])),
               date=meta.get("date", ""), snippet="", journal=meta.get("journal", ""))
