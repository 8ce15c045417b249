"""Bulk query evaluation: every match of a query found and scored at once.

Whoosh's searcher walks the postings one document at a time through a tree of Python
matcher objects: a word found in half of a 100,000-entry library costs a second, and a
page of results needs every match (the count, the facets). Here each term's postings are
read a block at a time (document numbers and weights decoded by C code: unpickling,
`itertools.accumulate`, `array`), scored through a table keyed by (weight, length byte)
that fills as it goes, so the per-posting pipeline stays in C (`map`, `zip`, `dict`), and
And / Or / Not combine dicts of scores: 10-20 times less work per match, and no numpy
import for a one-shot `clippings search`.

The scores are Whoosh's BM25F (same idf, average field length, length encoding, B and K1)
and ties go to the lower document number, as in `searcher.search`, so the order of hits
is the same. Wildcards, prefixes and fuzzy words score as one word matched (constant, as
in Lucene). Queries that need word positions (phrases, spans) are matched by Whoosh's own
matcher: they are rare and narrow.

    matches = evaluate(searcher, q)     # Matches: {document number: score}
    matches.top(20)                     # the best 20 document numbers, best first
"""

from __future__ import annotations

import heapq
import threading
import weakref
import zlib
from array import array
from collections import Counter, OrderedDict
from dataclasses import dataclass
from itertools import accumulate, chain, repeat
from operator import add, neg
from pickle import loads

# BM25F's free parameters, as whoosh.scoring.BM25F() has them.
B, K1 = 0.75, 1.2


@dataclass
class Matches:
    """Every matching document number and its score."""

    scores: dict[int, float]

    @property
    def total(self) -> int:
        return len(self.scores)

    def top(self, n: int | None) -> list[int]:
        """The best `n` document numbers (None = all), best first; equal scores in
        document order."""
        pairs = zip(self.scores.values(), map(neg, self.scores.keys()))
        best = sorted(pairs, reverse=True) if n is None else heapq.nlargest(n, pairs)
        return [-negdoc for _, negdoc in best]


# Open reader -> {query: expanded terms}; dropped with the reader.
_EXPANSIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _BM25(dict):
    """(weight, length byte) -> BM25F score of one term in one field, computed the first
    time a pair is met: a posting list has few distinct pairs."""

    def __init__(self, idf: float, avgfl: float, boost: float, lengths: list[float]):
        super().__init__()
        self.idf, self.avgfl, self.boost, self.lengths = idf, avgfl, boost, lengths

    def __missing__(self, key):
        weight, byte = key
        length = self.lengths[byte]
        score = self.boost * self.idf * ((weight * (K1 + 1)) / (
            weight + K1 * ((1 - B) + B * length / self.avgfl)))
        self[key] = score
        return score


class Evaluator:
    """Evaluates queries against one open Whoosh searcher (all of its segments)."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.schema = searcher.schema
        self.reader = searcher.reader()
        self.size = searcher.doc_count_all()
        subs = searcher.subsearchers if not searcher.is_atomic() else [(searcher, 0)]
        self.segments = [(sub.reader(), offset) for sub, offset in subs]
        self.deleted = [(sorted(reader.deleted_docs_set), offset)
                        for reader, offset in self.segments if reader.has_deletions()]
        self._lengths: dict[tuple[int, str], bytes] = {}

    # -- leaves --------------------------------------------------------------------------

    def term(self, fieldname: str, text, boost: float = 1.0) -> Matches:
        """One term's postings, scored (BM25F for scorable fields, else the weight)."""
        field = self.schema[fieldname] if fieldname in self.schema else None
        if field is None:
            return Matches({})
        try:
            btext = field.to_bytes(text)
        except ValueError:
            return Matches({})
        if (fieldname, btext) not in self.reader:
            return Matches({})
        scores: dict[int, float] = {}
        if field.scorable:
            idf = self.searcher.idf(fieldname, btext)
            avgfl = self.searcher.avg_field_length(fieldname) or 1
        for number, (reader, offset) in enumerate(self.segments):
            if (fieldname, btext) not in reader:
                continue
            ids, weights = _postings(reader, fieldname, btext)
            if field.scorable:
                table = _BM25(idf, avgfl, boost, _LENGTH_OF_BYTE)
                lengths = self._length_bytes(number, reader, fieldname)
                values = map(table.__getitem__, zip(weights, map(lengths.__getitem__, ids)))
            else:
                values = (w * boost for w in weights)
            scores.update(zip(map(offset.__add__, ids) if offset else ids, values))
        return Matches(self._drop_deleted(scores))

    def _expanded(self, q) -> list[bytes]:
        """The index's terms a wildcard, prefix, fuzzy word or range stands for, kept
        per open reader: a fuzzy word compares every term of its first letters by edit
        distance (tens of milliseconds), and paging asks again."""
        known = _EXPANSIONS.setdefault(self.reader, {})
        key = (type(q).__name__, repr(q))
        words = known.get(key)
        if words is None:
            if len(known) > 1000:
                known.clear()
            words = known[key] = [word for word in q._btexts(self.reader) if word]
        return words

    def phrase(self, q) -> Matches:
        """Documents with the words in order, each within `slop` positions of the one
        before (Whoosh's SpanNear2, ordered): the words' postings are intersected in
        bulk first, then positions are decoded for those documents alone. Scored as the
        words' scores summed, as Whoosh does."""
        field = self.schema[q.fieldname]
        words = []
        for word in q.words:
            try:
                words.append(field.to_bytes(word))
            except ValueError:
                return Matches({})
        if any((q.fieldname, word) not in self.reader for word in words):
            return Matches({})
        both = _and([self.term(q.fieldname, word) for word in words])
        if not both.scores:
            return both
        from whoosh.formats import Positions
        decode = _decode_positions if type(field.format) is Positions else \
            field.format.decode_positions
        found: dict[int, float] = {}
        for reader, offset in self.segments:
            inside = [d - offset for d in both.scores
                      if offset <= d < offset + reader.doc_count_all()]
            if not inside:
                continue
            values = [_positions(reader, q.fieldname, word) for word in words]
            for docnum in inside:
                if _in_order([decode(v[docnum]) for v in values], q.slop):
                    found[docnum + offset] = both.scores[docnum + offset] * q.boost
        return Matches(found)

    def _drop_deleted(self, scores: dict) -> dict:
        for dead, offset in self.deleted:
            for docnum in dead:
                scores.pop(docnum + offset, None)
        return scores

    def _length_bytes(self, number: int, reader, fieldname: str) -> bytes:
        key = (number, fieldname)
        lengths = self._lengths.get(key)
        if lengths is None:
            lengths = self._lengths[key] = _length_bytes(reader, fieldname)
        return lengths

    def _ids(self, fieldname: str, btexts: list[bytes], score: float) -> Matches:
        """Documents having any of the terms (in the field's byte form), one score."""
        from whoosh.reading import TermNotFound
        found: dict[int, float] = {}
        for reader, offset in self.segments:
            for btext in btexts:
                try:   # one lookup, not a membership test and then another
                    ids = _postings(reader, fieldname, btext)[0]
                except TermNotFound:
                    continue
                found.update(dict.fromkeys(map(offset.__add__, ids) if offset else ids,
                                           score))
        return Matches(self._drop_deleted(found))

    def whoosh(self, q) -> Matches:
        """Whoosh's own matcher, for what needs positions (phrases, spans)."""
        scores = {}
        matcher = q.matcher(self.searcher)
        while matcher.is_active():
            scores[matcher.id()] = matcher.score()
            matcher.next()
        return Matches(self._drop_deleted(scores))

    # -- the query tree ------------------------------------------------------------------

    def run(self, q) -> Matches:
        from whoosh import query as wq
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return Matches({})
        if isinstance(q, wq.Term):
            return self.term(q.fieldname, q.text, q.boost)
        if isinstance(q, wq.Phrase) and q.words and q.fieldname in self.schema and \
                self.schema[q.fieldname].format.supports("positions"):
            return self.phrase(q)
        if isinstance(q, wq.And):
            return _boosted(_and([self.run(s) for s in q.subqueries]), q.boost)
        if isinstance(q, wq.Or) and not getattr(q, "scale", None):
            return _boosted(_or([self.run(s) for s in q.subqueries]), q.boost)
        if isinstance(q, wq.DisjunctionMax):
            return _boosted(_dismax([self.run(s) for s in q.subqueries],
                                    getattr(q, "tiebreak", 0.0)), q.boost)
        if isinstance(q, (wq.AndNot, wq.Require, wq.AndMaybe)):
            a, b = self.run(q.a), self.run(q.b)
            if isinstance(q, wq.AndNot):
                return Matches({d: s for d, s in a.scores.items() if d not in b.scores})
            if isinstance(q, wq.Require):
                return Matches({d: s for d, s in a.scores.items() if d in b.scores})
            other = b.scores.get
            return Matches({d: s + other(d, 0.0) for d, s in a.scores.items()})
        if isinstance(q, wq.Not):
            # Every live document but the child's, scored by the boost (as Whoosh's
            # inverse matcher does: inside an And it adds the same to every match).
            inner = self.run(q.query).scores
            return Matches(self._drop_deleted(
                {d: q.boost for d in range(self.size) if d not in inner}))
        if isinstance(q, wq.ConstantScoreQuery):
            return Matches(dict.fromkeys(self.run(q.child).scores, q.score))
        if isinstance(q, wq.Every):
            if q.fieldname not in (None, "", "*"):
                return self.whoosh(q)
            return Matches(self._drop_deleted(dict.fromkeys(range(self.size), q.boost)))
        if isinstance(q, wq.NumericRange):   # also DateRange
            return self.run(q._compile_query(self.reader))
        if isinstance(q, wq.MultiTerm):
            words = self._expanded(q)
            if getattr(q, "constantscore", False):
                # Wildcards, prefixes and fuzzy words score like one word matched (the
                # query's boost), as in Lucene: a document is not better for matching
                # many spellings of it. Only the postings' ids are read.
                return self._ids(q.field(), words, q.boost)
            return _or([self.term(q.field(), word, q.boost) for word in words])
        return self.whoosh(q)


def _boosted(m: Matches, boost: float) -> Matches:
    return m if boost == 1.0 else Matches({d: s * boost for d, s in m.scores.items()})


def _and(parts: list[Matches]) -> Matches:
    """Documents in every part, their scores summed (in the parts' order). The per-
    document work runs in C: set intersection, `map` over `dict.__getitem__`, `zip`."""
    if not parts:
        return Matches({})
    common = set(min((p.scores for p in parts), key=len))
    for part in parts:
        common.intersection_update(part.scores.keys())
    total = map(part_scores.__getitem__, common) if (part_scores := parts[0].scores) \
        else iter(())
    for part in parts[1:]:
        total = map(add, total, map(part.scores.__getitem__, common))
    return Matches(dict(zip(common, total)))


def _or(parts: list[Matches]) -> Matches:
    """Documents in any part, their scores summed (in the parts' order), in C as `_and`."""
    if not parts:
        return Matches({})
    if len(parts) == 1:
        return parts[0]
    docs = set().union(*(part.scores.keys() for part in parts))
    total = map(parts[0].scores.get, docs, repeat(0.0))
    for part in parts[1:]:
        total = map(add, total, map(part.scores.get, docs, repeat(0.0)))
    return Matches(dict(zip(docs, total)))


def _decode_positions(value: bytes):
    """whoosh.formats.Positions' encoding (a 4-byte count, then the pickled position
    deltas) decoded with C-level `accumulate`."""
    if not value.endswith(b"."):
        value += b"."
    return accumulate(loads(value[4:]))


def _in_order(positions: list[list[int]], slop: int) -> bool:
    """A chain p1 < p2 < ... with each p(i+1) - p(i) between 1 and `slop`."""
    reached = set(positions[0])
    for following in positions[1:]:
        if slop == 1:
            reached = {p for p in following if p - 1 in reached}
        else:
            reached = {p for p in following if any(0 < p - r <= slop for r in reached)}
        if not reached:
            return False
    return True


def _dismax(parts: list[Matches], tiebreak: float) -> Matches:
    docs = set().union(*(p.scores.keys() for p in parts))
    scores = {}
    for docnum in docs:
        values = [p.scores[docnum] for p in parts if docnum in p.scores]
        best = max(values)
        scores[docnum] = best + tiebreak * (sum(values) - best)
    return Matches(scores)


def segments_token(searcher) -> tuple:
    """What the searcher's document numbers depend on: its segments, in order (each has
    a random id; an update or a rebuild that renumbers documents writes new segments).
    Caches of per-document data key on it, not on the index's latest generation, which
    may already be newer than this searcher."""
    subs = searcher.subsearchers if not searcher.is_atomic() else [(searcher, 0)]
    return tuple((getattr(getattr(sub.reader(), "_segment", None), "segment_id",
                          lambda: id(sub.reader()))(), offset) for sub, offset in subs)


def evaluate(searcher, q) -> Matches:
    """Every document `q` matches in `searcher`'s index, with its BM25F score."""
    return Evaluator(searcher).run(q)


class FieldFacets:
    """Every document's values of some fields (what Whoosh's own field facets give), so a
    query's facet counts are one C-level Counter pass over its matches.
    `facets`: name -> (field, several values per document)."""

    def __init__(self, searcher, facets: dict[str, tuple[str, bool]]):
        from whoosh import query as wq
        from whoosh import sorting
        groupedby = {name: sorting.FieldFacet(fieldname, allow_overlap=multi,
                                              maptype=sorting.UnorderedList)
                     for name, (fieldname, multi) in facets.items()}
        results = searcher.search(wq.Every(), limit=1, scored=False, groupedby=groupedby)
        size = searcher.doc_count_all()
        self.by_doc: dict[str, list[tuple]] = {}
        for name in facets:
            by_doc: list[tuple] = [()] * size
            for value, docs in results.groups(name).items():
                for docnum in docs:
                    by_doc[docnum] += (value,)
            self.by_doc[name] = by_doc

    def counts(self, name: str, docnums) -> Counter:
        """value -> how many of `docnums` have it."""
        return Counter(chain.from_iterable(map(self.by_doc[name].__getitem__, docnums)))


# -- reading Whoosh's files in bulk ---------------------------------------------------------

def _length_of_byte() -> list[float]:
    from whoosh.util.numeric import byte_to_length
    table = [float(byte_to_length(b)) for b in range(256)]
    table[0] = 1.0   # no length recorded: Whoosh's scorer falls back to 1
    return table


_LENGTH_OF_BYTE = _length_of_byte()


def _length_bytes(reader, fieldname: str) -> bytes:
    """The length byte of a field in every document of one segment (0 where none)."""
    count = reader.doc_count_all()
    perdoc = getattr(reader, "_perdoc", None)
    column = None
    if perdoc is not None and hasattr(perdoc, "_cached_reader"):
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
        column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is not None and getattr(column, "_fixedlen", None) == 1 and \
            hasattr(column, "_dbfile"):
        stored = min(column._count, count)
        raw = bytes(column._dbfile.get(column._basepos, stored)) if stored else b""
        return raw + bytes(count - stored)
    from whoosh.util.numeric import length_to_byte
    return bytes(length_to_byte(reader.doc_field_length(d, fieldname, 0) or 0)
                 for d in range(count))


class _DecodedPostings:
    """Posting lists already decoded, by (segment, field, term), the least recently used
    dropped beyond POSTINGS_KEPT postings (12 bytes each): a server answering page 2 of
    a search, or another search with a word in common, does not unpickle the same
    blocks again. Segments never change once written (deletions are kept apart), so a
    decoded list stays right for as long as its segment exists."""

    def __init__(self, limit: int):
        self.limit = limit
        self.lists: OrderedDict = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            found = self.lists.get(key)
            if found is not None:
                self.lists.move_to_end(key)
            return found

    def put(self, key, postings: tuple[array, array]) -> None:
        count = len(postings[0])
        if count > self.limit // 4:
            return
        with self.lock:
            if key not in self.lists:
                self.lists[key] = postings
                self.size += count
            while self.size > self.limit:
                _, (ids, _) = self.lists.popitem(last=False)
                self.size -= len(ids)


POSTINGS_KEPT = 2_000_000
_decoded = _DecodedPostings(POSTINGS_KEPT)


def forget_decoded() -> None:
    """Drop every decoded posting list (benchmarks measure a first search with it)."""
    global _decoded
    _decoded = _DecodedPostings(POSTINGS_KEPT)


def _postings(reader, fieldname: str, btext: bytes) -> tuple[array, array]:
    """Document numbers (in the segment) and weights of one term's postings, deleted
    documents included (the evaluator drops them)."""
    segment = getattr(reader, "_segment", None)
    key = (segment.segment_id(), fieldname, btext) if hasattr(segment, "segment_id") \
        else None
    found = _decoded.get(key) if key else None
    if found is None:
        found = _read_postings(reader, fieldname, btext)
        if key:
            _decoded.put(key, found)
    return found


def _read_postings(reader, fieldname: str, btext: bytes) -> tuple[array, array]:
    matcher = reader.postings(fieldname, btext)
    ids, weights = array("q"), array("f")
    blocks = _w3_blocks(matcher)
    if blocks is None:   # not Whoosh 3's on-disk postings: one posting at a time
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        return ids, weights
    for count, block_ids, block_weights, _ in blocks:
        ids.extend(block_ids)
        if block_weights is None:
            weights.extend([1.0] * count)
        elif isinstance(block_weights, float):
            weights.extend([block_weights] * count)
        else:
            weights.extend(block_weights)
    return ids, weights


def _positions(reader, fieldname: str, btext: bytes) -> dict:
    """Document number (in the segment) -> the encoded positions of a term there."""
    matcher = reader.postings(fieldname, btext)
    values: dict = {}
    blocks = _w3_blocks(matcher)
    if blocks is None:
        while matcher.is_active():
            values[matcher.id()] = matcher.value()
            matcher.next()
        return values
    for _, block_ids, _, block_values in blocks:
        values.update(zip(block_ids, block_values))
    return values


def _w3_blocks(matcher):
    """The blocks of a Whoosh 3 posting list as (count, document numbers, weights,
    values), each block's pickle decoded in C (zlib, pickle, accumulate), not one
    posting at a time; None for any other matcher. Deleted documents are included
    (the segment's reader wraps the list in a filter, which is looked through)."""
    child = getattr(matcher, "child", None)
    leaf = child if child is not None and hasattr(child, "_nextoffset") else matcher
    if not (hasattr(leaf, "_nextoffset") and hasattr(leaf, "_dataoffset")):
        return None

    def blocks():
        get = leaf._postfile.get
        while not leaf._atend:
            raw = get(leaf._dataoffset, leaf._nextoffset - leaf._dataoffset)
            if leaf._compression:
                raw = zlib.decompress(raw)
            ids, weights, values = loads(raw)
            yield (leaf._blocklength, ids if leaf._byteids else accumulate(ids),
                   weights, values)
            leaf._next_block()
    return blocks()
