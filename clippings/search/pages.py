"""A page of results: the query (or none: browsing), facet filters, counts and paging.

`clippings search` returns the best N hits; a search page needs more: how many matched in
all ("12 of 57"), facet counts over every match, and snippets only for the hits shown.
The engine finds and scores every match at once (`bulk`: arrays over the index's
documents); the facet values of every entry are a `FacetTable` of arrays, built once per
version of the library, so filtering, counting and sorting a page are array operations;
snippets are cut for the page's hits alone.
"""

from __future__ import annotations

import contextlib
import re
import threading
from array import array
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

import numpy as np

from ..lru import LRU
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
    # total and facet counts estimated from a sample (PostgreSQL, a common phrase):
    # the page lists the sample's matches alone (`listed` of them)
    estimated: bool = False
    # Every match in order, as positions in `_all_keys`: listed only when asked for
    # ("select all results"), not for every page shown.
    _order: list[int] | np.ndarray = field(default_factory=list, repr=False)
    _all_keys: list[str] = field(default_factory=list, repr=False)

    @property
    def keys(self) -> list[str]:
        """Every match, in order (every one listed, when `estimated`)."""
        return [self._all_keys[i] for i in self._order]

    @property
    def listed(self) -> int:
        """How many matches the pages can show: `total`, unless it is estimated."""
        return len(self._order) if self.estimated else self.total

    def as_json(self) -> dict:
        return {"query": self.query, "filters": self.filters, "sort": self.sort,
                "offset": self.offset, "limit": self.limit, "total": self.total,
                "estimated": self.estimated, "listed": self.listed,
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


# At most this many matches in the orders a facet table keeps (`_kept`).
ORDERS_KEPT = 1_000_000


class FacetTable:
    """Every entry's facet values (`facets.values`) as (entry, value) pairs of arrays,
    and the entries' orders for each sort: a page's filters, counts and order are then
    array operations, not a loop over the library."""

    def __init__(self, records: Mapping[str, Record], rows: Mapping[str, dict]):
        from .schema import display_date
        self._start(list(records))
        entry_rows = [rows[key] for key in self.keys]
        for name in facets.FACETS:
            codes: dict[str, int] = {}
            entries, values = array("q"), array("q")
            for i, row in enumerate(entry_rows):
                for value in row.get(name, ()):
                    code = codes.get(value)
                    if code is None:
                        code = codes[value] = len(codes)
                    entries.append(i)
                    values.append(code)
            self.codes[name] = codes
            self.values[name] = list(codes)
            self.pairs[name] = (_array(entries), _array(values))
        self._dates = [display_date(records[key]) for key in self.keys]
        self._titles = [records[key].fields.get("title", "").casefold() for key in self.keys]
        every = range(len(self.keys))
        # Python's sort is stable also in reverse: equal dates keep the library's order.
        # (`_sort_keys` orders as these do, for entries put in by `updated`.)
        dates, titles = self._dates, self._titles
        self.orders = {
            "newest": _array(sorted(every, key=dates.__getitem__, reverse=True)),
            "oldest": _array(sorted(every, key=lambda i: dates[i] or "9999")),
            "title": _array(sorted(every, key=titles.__getitem__)),
        }

    def _start(self, keys: list[str], position: dict[str, int] | None = None) -> None:
        self.keys = keys
        self.position = position if position is not None else dict(zip(keys, range(len(keys))))
        self._meta: dict[int, dict] = {}
        # The last searches' orders and facet counts over this version of the library
        # (`_kept`), gone with it.
        self.kept = LRU(ORDERS_KEPT, weigh=lambda found: len(found.order) + 1,
                        largest=ORDERS_KEPT // 4)
        # The database's matches of the last searches (`_database_order`), as
        # `_ranked_matches` keeps Whoosh's: (order, scores in that order, scale).
        self.matches = LRU(RANKED_KEPT, weigh=lambda found: len(found[0]) + 1,
                           largest=RANKED_KEPT // 4)
        self.values: dict[str, list[str]] = {}
        self.codes: dict[str, dict[str, int]] = {}
        self.pairs: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _sort_keys(self) -> dict:
        """Sort -> the key of entry i in that order: what `__init__`'s sorts order by,
        then the entry's place in the library (their stable ties)."""
        dates, titles = self._dates, self._titles
        return {"newest": lambda i: (_Descending(dates[i]), i),
                "oldest": lambda i: (dates[i] or "9999", i),
                "title": lambda i: (titles[i], i)}

    @classmethod
    def updated(cls, old: "FacetTable", old_records: Mapping[str, Record],
                old_rows: Mapping[str, dict], records: Mapping[str, Record],
                rows: Mapping[str, dict], told: frozenset[str] | None = None
                ) -> "FacetTable | None":
        """`old` (the table of `old_records`, `old_rows`) brought up to `records` and
        `rows`: the entries whose record or facet row is another object than before (an
        edit, an add: a server keeps the others' objects) are taken out and put in again
        at their places; the others keep theirs. A server's table after one `add` to
        1,000,000 clippings costs half a second this way, half a minute built anew. None
        when many entries changed or the library's order did (then build it anew).
        `told`: the keys whose record or row changed, when the caller knows them (the
        server does: `note_changes`); else each entry's objects are compared."""
        from .schema import display_date
        keys = list(records)
        count = len(old.keys)
        limit = max(UPDATED_AT_MOST, len(keys) // 100)
        if told is not None and len(told) > limit:
            return None
        appended = keys[:count] == old.keys           # added at the end (or none)
        if appended:                                  # (copying a dict is fast, filling
            position = dict(old.position)             # one with a million keys is not)
            position.update((keys[i], i) for i in range(count, len(keys)))
        else:
            position = dict(zip(keys, range(len(keys))))
        if told is not None:
            changed = sorted(position[key] for key in told if key in position)
        else:
            previous, get_row = old_records.get, old_rows.get
            changed = [i for i, (key, rec) in enumerate(records.items())
                       if rec is not previous(key) or rows[key] is not get_row(key)]
        if len(changed) > limit:
            return None
        drop = np.zeros(count, dtype=bool)           # old positions taken out
        drop[[old.position[keys[i]] for i in changed if keys[i] in old.position]] = True
        if appended:
            remap = None
            added = [""] * (len(keys) - count)        # filled in below, as changed
            dates, titles = old._dates + added, old._titles + added
        else:                                         # removed or renamed
            remap = np.fromiter(map(position.get, old.keys, repeat(-1)), np.int64, count)
            drop |= remap < 0
            kept = ~drop
            if np.any(np.diff(remap[kept]) <= 0):    # the others' order changed
                return None
            dates, titles = [], []
            for known, out in ((old._dates, dates), (old._titles, titles)):
                moved = np.empty(len(keys), dtype=object)
                moved[remap[kept]] = np.array(known, dtype=object)[kept]
                out += moved.tolist()                 # the changed: filled in below
        if len(keys) != int(np.count_nonzero(~drop)) + len(changed):
            return None           # an entry neither kept nor said to be changed: a wrong hint
        table = cls.__new__(cls)
        table._start(keys, position)
        for i in changed:
            dates[i] = display_date(records[keys[i]])
            titles[i] = records[keys[i]].fields.get("title", "").casefold()
        table._dates, table._titles = dates, titles
        table._put_pairs(old, rows, changed, drop, remap)
        table._put_orders(old, changed, drop, remap)
        return table

    def _put_pairs(self, old: "FacetTable", rows: Mapping[str, dict], changed: list[int],
                   drop: np.ndarray, remap: np.ndarray | None) -> None:
        """`old`'s (entry, value) pairs less those of the entries dropped, renumbered,
        plus the changed entries' (the pairs' order means nothing to counts and filters)."""
        for name in facets.FACETS:
            entries, values = old.pairs[name]
            kept = ~drop[entries]
            entries, values = entries[kept], values[kept]
            if remap is not None:
                entries = remap[entries]
            codes, names = dict(old.codes[name]), list(old.values[name])
            new_entries, new_values = [], []
            for i in changed:
                for value in rows[self.keys[i]].get(name, ()):
                    code = codes.get(value)
                    if code is None:
                        code = codes[value] = len(names)
                        names.append(value)
                    new_entries.append(i)
                    new_values.append(code)
            self.codes[name], self.values[name] = codes, names
            self.pairs[name] = (np.concatenate([entries, _array(new_entries)]),
                                np.concatenate([values, _array(new_values)]))

    def _put_orders(self, old: "FacetTable", changed: list[int], drop: np.ndarray,
                    remap: np.ndarray | None) -> None:
        """Each of `old`'s orders less the entries dropped, renumbered, with the changed
        entries put in by bisection on the key the full build sorts by."""
        self.orders = {}
        for sort, key_of in self._sort_keys().items():
            base = old.orders[sort]
            base = base[~drop[base]]
            if remap is not None:
                base = remap[base]
            listed = base.tolist()
            put = sorted(changed, key=key_of)
            at = [bisect_left(listed, key_of(i), key=key_of) for i in put]
            self.orders[sort] = np.insert(base, at, put).astype(np.int64)

    def __len__(self) -> int:
        return len(self.keys)

    def hit_meta(self, records: Mapping[str, Record], i: int) -> dict:
        """What a hit shows of entry `i`, worked out once per library version (from the
        records: no stored fields to read from the index)."""
        meta = self._meta.get(i)
        if meta is None:
            from .schema import hit_meta
            meta = self._meta[i] = hit_meta(records[self.keys[i]])
        return meta

    def allowed(self, filters: Mapping[str, list[str]]) -> np.ndarray:
        """Entries matching every facet filter (any of the chosen values within one)."""
        mask = np.ones(len(self.keys), dtype=bool)
        for name, wanted in filters.items():
            entries, values = self.pairs[name]
            codes = [self.codes[name][v] for v in wanted if v in self.codes[name]]
            ok = np.zeros(len(self.keys), dtype=bool)
            ok[entries[np.isin(values, codes)]] = True
            mask &= ok
        return mask

    def counts(self, mask: np.ndarray, limit: int | None) -> dict[str, list[tuple[str, int]]]:
        """{facet: [(value, count), ...]} over the entries in `mask`, ordered as
        `facets.count` orders them."""
        out = {}
        for name in facets.FACETS:
            entries, values = self.pairs[name]
            tally = np.bincount(values[mask[entries]], minlength=len(self.values[name]))
            items = [(self.values[name][i], int(tally[i])) for i in np.flatnonzero(tally)]
            if name in ("year", "decade"):
                items.sort(reverse=True)
            else:
                items.sort(key=lambda kv: (-kv[1], kv[0]))
            out[name] = items[:limit] if limit else items
        return out


# `FacetTable.updated` takes up to this many changed entries (or 1 %); more: built anew.
UPDATED_AT_MOST = 2000


class _Descending:
    """A string that sorts in reverse (the newest-first order's dates)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __lt__(self, other: "_Descending") -> bool:
        return other.text < self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and other.text == self.text


def _array(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64) if not isinstance(values, array) else \
        (np.frombuffer(values, dtype=np.int64) if len(values) else np.zeros(0, np.int64))


_table: tuple | None = None   # (records, rows, table) of the last library version seen
# A server's threads ask for the new version's table (or document map) at once: one
# builds it, the others wait for it rather than build it too.
_building = threading.Lock()


# What the server said changed between its last two versions (`note_changes`):
# (records, rows, old records, old rows, changed keys), or None.
_changes: tuple | None = None


def note_changes(old_records: Mapping[str, Record], old_rows: Mapping[str, dict],
                 records: Mapping[str, Record], rows: Mapping[str, dict],
                 changed) -> None:
    """A caller that keeps records and rows between library versions (the server) says
    which entries' record or row changed from the old version to the new: the facet
    table is then brought up to date without comparing every entry (3 s at 1,000,000)."""
    global _changes
    _changes = (records, rows, old_records, old_rows, frozenset(changed))


def facet_table(records: Mapping[str, Record], rows: Mapping[str, dict] | None,
                statuses: Mapping[str, str]) -> FacetTable:
    """The table of `records`; a caller that keeps `rows` between searches of one library
    version (the server) gets it built once."""
    global _table
    if rows is None:
        return FacetTable(records, facet_rows(records, statuses))
    with _building:
        table = None
        if _table is not None:
            known_records, known_rows, known = _table
            if known_records is records and known_rows is rows:
                return known
            # The previous version's table, brought up to this one; the server's note of
            # what changed counts when it is about these very objects (comparing a
            # million records' contents is what it spares).
            said, versions = _changes, (records, rows, known_records, known_rows)
            told = said[4] if said is not None and all(
                a is b for a, b in zip(said, versions)) else None
            table = FacetTable.updated(known, known_records, known_rows, records, rows,
                                       told)
        if table is None:
            table = FacetTable(records, rows)
        _table = (records, rows, table)
        return table


_generation_docs = LRU(1)   # the last index version's document -> entry map


def _entries_of_docs(folder: Path, searcher, table: FacetTable) -> np.ndarray:
    """For the index's current generation: each document's entry position in `table`
    (-1 for none)."""
    from .bulk import segments_token
    token = (str(folder), segments_token(searcher), id(table))
    found = _generation_docs.get(token)
    if found is None:
        with _building:
            found = _generation_docs.get(token)
            if found is None:
                position = table.position
                entry_of_doc = np.full(searcher.doc_count_all(), -1, dtype=np.int64)
                for reader, offset in searcher.reader().leaf_readers():
                    keys = _stored_keys(folder, reader)
                    live = np.fromiter(reader.all_doc_ids(), np.int64)
                    at = np.fromiter(map(position.get, keys, repeat(-1)), np.int64,
                                     len(keys))
                    entry_of_doc[offset + live] = at[live]
                found = (entry_of_doc, table)   # the table kept alive with its id
                _generation_docs.put(token, found)
    return found[0]


# Each segment's entry keys by document number ("" for a document deleted when read). A
# segment never changes once written (a deletion only marks a document), so after an
# update only the new segment's stored fields are read: 2 s at 100,000 entries for all.
_segment_keys = LRU(4_000_000, weigh=len)


def _stored_keys(folder: Path, reader) -> list[str]:
    segment = reader.segment()
    token = (str(folder), segment.segment_id()) if segment is not None else None
    keys = _segment_keys.get(token) if token is not None else None
    if keys is None:
        keys = [""] * reader.doc_count_all()
        for docnum, stored in reader.iter_docs():
            keys[docnum] = stored["key"]
        if token is not None:
            _segment_keys.put(token, keys)
    return keys


def prepare(bib_path: Path, *, records: Mapping[str, Record], rows: Mapping[str, dict],
            statuses: Mapping[str, str], settings=None) -> None:
    """Build what every search page of this library version needs (the facet table; on
    Whoosh an open searcher, the document -> entry map and the vocabulary): a server does
    it as it starts, so that its first searches do not wait for it."""
    table = facet_table(records, rows, statuses)
    from .backend import is_postgres, reader_specs
    if settings is not None and is_postgres(reader_specs(settings)[0]):
        return
    from . import index, vocabulary
    folder = Path(bib_path).parent

    def read_entries_of_docs():
        with index.searching(folder) as searcher:
            _entries_of_docs(folder, searcher, table)
    index.searched(bib_path, read_entries_of_docs, settings=settings)
    vocabulary.load(index.index_dir(folder))


def search_page(bib_path: Path, text: str = "", filters: Mapping[str, list[str]] | None = None,
                *, offset: int = 0, limit: int = 20, sort: str = "",
                records: Mapping[str, Record], statuses: Mapping[str, str] | None = None,
                settings=None, facet_limit: int | None = 30,
                rows: Mapping[str, dict] | None = None, check_index: bool = True,
                exact: bool = False) -> Page:
    """One page of matches for `text` ("" = every entry) narrowed by facet `filters`.

    `records` are the library's decoded records by key (the caller usually holds them);
    `statuses` the last link status by key (for the link facet and badges); `rows` each
    entry's facet values when the caller keeps them (a server does: `facet_rows`; the
    arrays made from them are then kept too). With `check_index` false the caller has made
    sure the index is current. On PostgreSQL a common phrase is counted on a sample
    (`Page.estimated`) unless `exact` (every match listed, as "select all" needs).
    """
    from ..errors import UsageError
    statuses = statuses or {}
    filters = {name: list(v) for name, v in (filters or {}).items()
               if name in facets.FACETS and v}
    sort = sort or ("relevance" if text.strip() else "newest")
    if sort not in SORTS:
        raise UsageError(f"unknown sort {sort!r} (one of {', '.join(SORTS)})",
                         german=f"unbekannte Sortierung {sort!r} (eine von "
                                f"{', '.join(SORTS)})")
    folder = Path(bib_path).parent
    table = facet_table(records, rows, statuses)
    from .backend import is_postgres, reader_specs
    spec = reader_specs(settings)[0] if settings is not None else "whoosh"
    offset = max(0, offset)
    end = offset + limit if limit else None
    with contextlib.ExitStack() as borrowed:
        if text.strip() and is_postgres(spec):
            from . import query, reader
            query.prepare(text)
            engine = borrowed.enter_context(contextlib.closing(
                reader(Path(bib_path), settings, check_index=check_index)))
            found = _database_order(table, engine, text, exact, filters, sort, facet_limit)
            hits = engine.hits(text, list(zip(
                [table.keys[i] for i in found.order[offset:end].tolist()],
                found.scores[offset:end].tolist())))
        elif text.strip():
            from . import index, query
            query.prepare(text)
            if check_index:
                index.ensure_current(Path(bib_path), settings=settings)
            (found, marker), _ = index.searched(bib_path, lambda: _whoosh_search(
                folder, text, table, filters, sort, facet_limit), settings=settings)
            hits = [query.hit_from({"key": table.keys[i], "meta": table.hit_meta(records, i)},
                                   float(score), marker, folder)
                    for i, score in zip(found.order[offset:end].tolist(),
                                        found.scores[offset:end].tolist())]
        else:
            found = _kept(("",), table, filters, sort, facet_limit,
                          lambda: _order(table, filters, sort, facet_limit))
            hits = [_record_hit(records[table.keys[i]])
                    for i in found.order[offset:end].tolist()]
    return Page(query=text, filters=filters, sort=sort, offset=offset, limit=limit,
                total=found.total, hits=hits, facets=found.facets,
                estimated=found.estimated, _order=found.order, _all_keys=table.keys)


@dataclass
class _Ordered:
    """A search's matches after its filters, in the order asked for: what every page of
    it shares (its facet counts too). `scores` lines up with `order`."""
    order: np.ndarray
    total: int
    facets: dict[str, list[tuple[str, int]]]
    scores: np.ndarray
    estimated: bool = False


def _scaled(found: _Ordered, scale: float) -> _Ordered:
    """A sample's counts scaled up to estimates of the whole result's (`backend.estimate`);
    a facet value seen once in a sample says little about its count and is left out."""
    from .backend import estimate, scaled_counts
    facets = {name: scaled_counts(items, scale) for name, items in found.facets.items()}
    total = max(estimate(found.total, scale), len(found.order))
    return _Ordered(found.order, total, facets, found.scores, estimated=True)


def _kept(version: tuple, table: FacetTable, filters: Mapping[str, list[str]], sort: str,
          facet_limit: int | None, compute) -> _Ordered:
    """The search's order and counts as `table.kept` holds them, else `compute()`d and
    kept: page 2 of a search, or page 1 again, is page 1's order sliced again."""
    key = (version, tuple(sorted((k, tuple(v)) for k, v in filters.items())), sort,
           facet_limit)
    found = table.kept.get(key)
    if found is None:
        found = compute()
        table.kept.put(key, found)
    return found


def _order(table: FacetTable, filters: Mapping[str, list[str]], sort: str,
           facet_limit: int | None, ranked: np.ndarray | None = None,
           scores: np.ndarray | None = None) -> _Ordered:
    """The entries of `ranked` (best first; None: every entry) that pass `filters`, in
    `sort` order, with their facet counts; `scores`, by entry, for relevance."""
    mask = np.ones(len(table), dtype=bool) if ranked is None else np.zeros(len(table), bool)
    if ranked is not None:
        mask[ranked] = True
    if filters:
        mask &= table.allowed(filters)
    if sort == "relevance" and ranked is not None:
        order = ranked[mask[ranked]]
    else:
        by = table.orders.get(sort, table.orders["newest"])
        order = by[mask[by]]
    return _Ordered(order, int(np.count_nonzero(mask)), table.counts(mask, facet_limit),
                    scores[order] if scores is not None else np.zeros(len(order)))


# A sampled phrase's page is cut from its sample only while at least this many sampled
# matches pass the page's filters; with fewer (a narrow facet) the database is asked
# again within the facets (`_database_order`).
SAMPLED_AT_LEAST = 50


def _database_order(table: FacetTable, engine, text: str, exact: bool,
                    filters: Mapping[str, list[str]], sort: str, facet_limit: int | None
                    ) -> _Ordered:
    """The search's matches from the database, then filtered, sorted and counted here.
    The matches are kept with the library version's table and the index version, as
    Whoosh's ranked matches are (`_ranked`): the next page, a facet chosen or another
    sort ask no query again (1.4 s for a word in half of 1,000,000 entries).

    A phrase of common words comes as its sample's matches (scaled counts) unless
    `exact`. Sorting them by date or title would leave out matches a reader expects, so
    then every match is listed. A facet that leaves fewer than SAMPLED_AT_LEAST of the
    sample's matches asks the database again, for the matches within the facets it can
    apply itself (`engine.narrowing`): sampled again when even those are many (a phrase's
    year or decade at 1,000,000: "about 312" or "about 3,160" in 0.7-0.9 s, where listing
    the decade's every match re-checked 100,000 entries in 8 s), else every one (its year
    at 100,000: 39 matches); and when a facet the database cannot apply still leaves too
    few, every match within the others."""
    version = engine.version()
    narrow = engine.narrowing(filters)

    def matched(every: bool, narrowed: bool) -> tuple:
        # Kept by what they are: every match (which serves any view), or every match or
        # a sample within a narrowing.
        within = narrow if every or narrowed else ()
        keys = [(text, True, version, ())]
        keys += [(text, True, version, within)] if within else []
        keys += [] if every else [(text, False, version, within)]
        for key in keys:
            found = table.matches.get(key)
            if found is not None:
                return found
        ranked, listed, scale = engine.matches(text, exact=every, narrow=within)
        order, scores = _database_ranked(table, ranked, listed)
        found = (order, scores[order], scale)
        table.matches.put((text, scale == 1, version, within), found)
        return found

    def ordered(every: bool, narrowed: bool = False) -> _Ordered:
        order, ordered_scores, scale = matched(every or sort != "relevance", narrowed)
        scores = np.zeros(len(table))
        scores[order] = ordered_scores
        found = _order(table, filters, sort, facet_limit, order, scores)
        if scale == 1:
            return found
        if filters and found.total < SAMPLED_AT_LEAST:
            return ordered(narrowed or not narrow, narrowed=True)
        return _scaled(found, scale)
    return _kept(("database", text, exact, version), table, filters, sort, facet_limit,
                 lambda: ordered(exact))


def _database_ranked(table: FacetTable, ranked: list[tuple[str, float]], every: list[str]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(every match best first, scores by entry) from what the database ranked (its
    candidates, best first, as `query` ranks them) and the key of every match: the
    others follow newest first. (`query` lists a sampled result's other sampled matches
    before the rest; a page that lists every match needs no such seam.)"""
    position = table.position
    matched = np.zeros(len(table), dtype=bool)
    # -1: an entry the library no longer holds (or not yet). Straight into an array:
    # a list of half a million positions, then checked and converted, cost as much again.
    found = np.fromiter(map(position.get, every, repeat(-1)), dtype=np.int64,
                        count=len(every))
    matched[found[found >= 0]] = True
    known = [(position[key], score) for key, score in ranked if key in position]
    best = _array([i for i, _ in known])
    scores = np.zeros(len(table))
    scores[best] = [score for _, score in known]
    matched[best] = False
    newest = table.orders["newest"]
    return np.concatenate([best, newest[matched[newest]]]), scores


def _whoosh_search(folder: Path, text: str, table: FacetTable,
                   filters: Mapping[str, list[str]], sort: str, facet_limit: int | None
                   ) -> tuple[_Ordered, object]:
    """The search's order and counts, and the marker of its words in snippets."""
    from . import index, query, vocabulary
    with index.searching(folder) as searcher:
        q = query.parse(text, searcher.schema)
        found = _whoosh_order(folder, searcher, text, q, table, filters, sort, facet_limit)
        return found, query.marker_for(searcher.schema, q,
                                       vocabulary.load(index.index_dir(folder)))


def _whoosh_order(folder: Path, searcher, text: str, q, table: FacetTable,
                  filters: Mapping[str, list[str]], sort: str, facet_limit: int | None
                  ) -> _Ordered:
    from .bulk import segments_token
    version = (str(folder), segments_token(searcher), searcher.doc_count(), text)

    def compute() -> _Ordered:
        docs, doc_scores = _ranked(folder, searcher, text, q)
        entries = _entries_of_docs(folder, searcher, table)[docs]
        known = entries >= 0           # not an entry gone from the library
        docs, doc_scores, entries = docs[known], doc_scores[known], entries[known]
        score_of_entry = np.zeros(len(table))
        score_of_entry[entries] = doc_scores
        # Best first, equal scores in document order (as Whoosh ranks them).
        ranked = entries[np.lexsort((docs, -doc_scores))]
        return _order(table, filters, sort, facet_limit, ranked, score_of_entry)
    return _kept(version, table, filters, sort, facet_limit, compute)


def facet_rows(records: Mapping[str, Record], statuses: Mapping[str, str]
               ) -> dict[str, dict]:
    """Every entry's facet values, to keep between searches of an unchanged library."""
    return {key: facets.values(rec, statuses.get(key)) for key, rec in records.items()}


# Every match of the last searches, ranked (document numbers and scores as arrays), per
# index version: paging through a search, narrowing it by a facet or sorting it otherwise
# ranks it once, as Solr's query result cache does. At most this many matches in all.
RANKED_KEPT = 4_000_000
_ranked_matches = LRU(RANKED_KEPT, weigh=lambda found: len(found[0]),
                      largest=RANKED_KEPT // 4)


def _ranked(folder: Path, searcher, text: str, q) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers, scores) of every match of `q`. The version is the searcher's
    segments and its count of live documents: an update writes a new segment, a removal
    lowers the count, so no version's matches are ever taken for another's."""
    from . import bulk
    key = (str(folder), bulk.segments_token(searcher), searcher.doc_count(), text)
    found = _ranked_matches.get(key)
    if found is None:
        scores = bulk.evaluate(searcher, q).scores
        found = (np.fromiter(scores.keys(), np.int64, len(scores)),
                 np.fromiter(scores.values(), np.float64, len(scores)))
        _ranked_matches.put(key, found)
    return found


_SIGNIFICANT = re.compile(r"[^\W\d_]{5,}")
SIMILAR_TERMS = 6


def similar(bib_path: Path, rec: Record, limit: int = 5, settings=None,
            check_index: bool = True) -> list[Hit]:
    """Entries sharing the most title words and keywords with `rec` (itself left out)."""
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
    return index.searched(bib_path, lambda: _similar_in_index(folder, rec, words, limit),
                          settings=settings)[0]


def _similar_in_index(folder: Path, rec: Record, words: list[str], limit: int) -> list[Hit]:
    from whoosh import query as wq
    from . import index
    with index.searching(folder) as searcher:
        # The rarest of its title words and keywords say most about an entry; common
        # ones would match half the library and cost a scan of it.
        candidates = set()
        for fieldname in ("title", "tag"):
            analyzer = searcher.schema[fieldname].analyzer
            for word in dict.fromkeys(words):
                for token in analyzer(word, mode="query"):
                    df = searcher.doc_frequency(fieldname, token.text)
                    if df > 1:
                        candidates.add((df, fieldname, token.text))
        terms = [wq.Term(f, t) for _, f, t in sorted(candidates)[:SIMILAR_TERMS]]
        if not terms:
            return []
        from .bulk import evaluate
        found = evaluate(searcher, wq.Or(terms))
        hits = (_stored_hit(searcher.stored_fields(d), found.scores[d])
                for d in found.top(limit + 1))
        return [hit for hit in hits if hit.key != rec.key][:limit]


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
