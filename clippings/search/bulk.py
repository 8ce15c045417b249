"""Bulk query evaluation: every match of a query found and scored at once.

Whoosh's searcher walks the postings one document at a time through a tree of Python
matcher objects: a word found in half of a 100,000-entry library costs a second, and a
page of results needs every match (the count, the facets). Here each term's postings
come as whole lists (`postings`: a segment's compact file, else Whoosh's blocks decoded
by C code) and are scored through a table keyed by (weight, length byte) that fills as
it goes, so the per-posting pipeline stays in C (`map`, `zip`, `dict`). A disjunction
sums its parts into one dict; a conjunction runs its likely smallest part first and the
others only among the documents it matched; phrases read word positions only for the
documents that have every word. No numpy: a one-shot `clippings search` cannot afford
its import.

The scores are Whoosh's BM25F (same idf, average field length, length encoding, B and K1)
and ties go to the lower document number, as in `searcher.search`, so the order of hits
is the same. Wildcards, prefixes and fuzzy words score as one word matched (constant, as
in Lucene). Queries of other kinds (spans, scaled disjunctions) go through Whoosh's own
matcher.

    matches = evaluate(searcher, q)     # Matches: {document number: score}
    matches.top(20)                     # the best 20 document numbers, best first
"""

from __future__ import annotations

import heapq
import weakref
from collections import Counter, deque
from dataclasses import dataclass
from itertools import accumulate, chain, compress, repeat
from operator import add, neg
from pickle import loads

from .postings import LENGTH_OF_BYTE, length_bytes, positions, postings

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
    """(weight, length byte), or its code weight * 256 + byte, -> BM25F score of one term
    in one field, computed the first time a pair is met: a list has few distinct pairs."""

    def __init__(self, idf: float, avgfl: float, boost: float, lengths: list[float]):
        super().__init__()
        self.idf, self.avgfl, self.boost, self.lengths = idf, avgfl, boost, lengths

    def __missing__(self, key):
        # A compact file's code (weight << 8 | length byte) or a (weight, byte) pair.
        weight, byte = divmod(key, 256) if type(key) is int else key
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
        self._marked: tuple[dict, bytearray] | None = None

    # -- leaves --------------------------------------------------------------------------

    def term(self, fieldname: str, text, boost: float = 1.0,
             into: dict | None = None, within: dict | None = None) -> Matches:
        """One term's postings, scored (BM25F for scorable fields, else the weight),
        only of the documents in `within` when given. With `into`, the scores are
        added to that dict's (a disjunction summing its parts in their order, without
        a dict for each part)."""
        scores: dict[int, float] = {} if into is None else into
        field = self.schema[fieldname] if fieldname in self.schema else None
        if field is None:
            return Matches(scores)
        try:
            btext = field.to_bytes(text)
        except ValueError:
            return Matches(scores)
        if (fieldname, btext) not in self.reader:
            return Matches(scores)
        if field.scorable:
            table = _BM25(self.searcher.idf(fieldname, btext),
                          self.searcher.avg_field_length(fieldname) or 1, boost,
                          LENGTH_OF_BYTE)
        for number, (reader, offset) in enumerate(self.segments):
            found = postings(reader, fieldname, btext)
            if found is None:
                continue
            if not field.scorable:
                values = (w * boost for w in found.weight_values())
            elif found.codes is not None:
                values = map(table.__getitem__, found.codes)
            else:
                lengths = self._length_bytes(number, reader, fieldname)
                values = map(table.__getitem__,
                             zip(found.weights, map(lengths.__getitem__, found.ids)))
            ids = found.ids
            keys = list(map(offset.__add__, ids)) if offset else ids
            if within is not None:
                mask = bytes(map(self._marks(within).__getitem__, keys))
                keys, values = list(compress(keys, mask)), compress(values, mask)
            _add_scores(scores, keys, values)
        return Matches(scores if into is not None else self._drop_deleted(scores))

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

    def phrase(self, q, within: dict | None = None) -> Matches:
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
        both = _intersect([self.term(q.fieldname, word, within=within) for word in words])
        if not both.scores:
            return both
        from whoosh.formats import Positions
        decode = _decode_positions if type(field.format) is Positions else \
            field.format.decode_positions
        found: dict[int, float] = {}
        for reader, offset in self.segments:
            end = offset + reader.doc_count_all()
            inside = [d - offset for d in both.scores if offset <= d < end]
            if not inside:
                continue
            values = [positions(reader, q.fieldname, word) for word in words]
            for docnum in inside:
                # A word's positions are decoded only while the chain still holds.
                if _in_order((decode(v[docnum]) for v in values), q.slop):
                    found[docnum + offset] = both.scores[docnum + offset] * q.boost
        return Matches(found)

    def _drop_deleted(self, scores: dict) -> dict:
        for dead, offset in self.deleted:
            for docnum in dead:
                scores.pop(docnum + offset, None)
        return scores

    def _marks(self, within: dict) -> bytearray:
        """`within`'s documents as one byte per document (1 = in it). Looking a document
        number up there reads contiguous memory; a dict lookup chases the int objects
        of its keys, five times slower on a 100,000-entry index."""
        if self._marked is None or self._marked[0] is not within:
            marks = bytearray(self.size)
            deque(map(marks.__setitem__, within, repeat(1)), maxlen=0)   # in C
            self._marked = (within, marks)
        return self._marked[1]

    def _length_bytes(self, number: int, reader, fieldname: str) -> bytes:
        key = (number, fieldname)
        lengths = self._lengths.get(key)
        if lengths is None:
            lengths = self._lengths[key] = length_bytes(reader, fieldname)
        return lengths

    def _ids(self, fieldname: str, btexts: list[bytes], score: float,
             within: dict | None = None) -> Matches:
        """Documents having any of the terms (in the field's byte form), one score."""
        found: dict[int, float] = {}
        for reader, offset in self.segments:
            for btext in btexts:
                listed = postings(reader, fieldname, btext)
                if listed is None:
                    continue
                ids = map(offset.__add__, listed.ids) if offset else listed.ids
                if within is not None:
                    ids = filter(self._marks(within).__getitem__, ids)
                found.update(dict.fromkeys(ids, score))
        return Matches(self._drop_deleted(found))

    def whoosh(self, q, within: dict | None = None) -> Matches:
        """Whoosh's own matcher, for what needs positions (phrases, spans)."""
        scores = {}
        matcher = q.matcher(self.searcher)
        while matcher.is_active():
            if within is None or matcher.id() in within:
                scores[matcher.id()] = matcher.score()
            matcher.next()
        return Matches(self._drop_deleted(scores))

    # -- the query tree ------------------------------------------------------------------

    def run(self, q, within: dict | None = None) -> Matches:
        """Every document `q` matches, scored; with `within`, only those among its keys
        (a conjunction's later parts look only at what its earlier parts matched)."""
        from whoosh import query as wq
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return Matches({})
        if isinstance(q, wq.Term):
            return self.term(q.fieldname, q.text, q.boost, within=within)
        if isinstance(q, wq.Phrase) and q.words and q.fieldname in self.schema and \
                self.schema[q.fieldname].format.supports("positions"):
            return self.phrase(q, within)
        if isinstance(q, wq.And):
            return _boosted(self.conjunction(q.subqueries, within), q.boost)
        if isinstance(q, wq.Or) and not getattr(q, "scale", None):
            scores: dict[int, float] = {}
            for sub in q.subqueries:
                if isinstance(sub, wq.Term):
                    self.term(sub.fieldname, sub.text, sub.boost, into=scores,
                              within=within)
                else:
                    part = self.run(sub, within).scores
                    _add_scores(scores, part.keys(), part.values())
            return _boosted(Matches(self._drop_deleted(scores)), q.boost)
        if isinstance(q, wq.DisjunctionMax):
            return _boosted(_dismax([self.run(s, within) for s in q.subqueries],
                                    getattr(q, "tiebreak", 0.0)), q.boost)
        if isinstance(q, (wq.AndNot, wq.Require, wq.AndMaybe)):
            a = self.run(q.a, within)
            b = self.run(q.b, a.scores)
            if isinstance(q, wq.AndNot):
                return Matches({d: s for d, s in a.scores.items() if d not in b.scores})
            if isinstance(q, wq.Require):
                return Matches({d: s for d, s in a.scores.items() if d in b.scores})
            other = b.scores.get
            return Matches({d: s + other(d, 0.0) for d, s in a.scores.items()})
        if isinstance(q, wq.Not):
            # Every live document but the child's, scored by the boost (as Whoosh's
            # inverse matcher does: inside an And it adds the same to every match).
            inner = self.run(q.query, within).scores
            docs = range(self.size) if within is None else within
            return Matches(self._drop_deleted(
                {d: q.boost for d in docs if d not in inner}))
        if isinstance(q, wq.ConstantScoreQuery):
            return Matches(dict.fromkeys(self.run(q.child, within).scores, q.score))
        if isinstance(q, wq.Every):
            if q.fieldname not in (None, "", "*"):
                return self.whoosh(q, within)
            docs = range(self.size) if within is None else within
            return Matches(self._drop_deleted(dict.fromkeys(docs, q.boost)))
        if isinstance(q, wq.NumericRange):   # also DateRange
            return self.run(q._compile_query(self.reader), within)
        if isinstance(q, wq.MultiTerm):
            words = self._expanded(q)
            if getattr(q, "constantscore", False):
                # Wildcards, prefixes and fuzzy words score like one word matched (the
                # query's boost), as in Lucene: a document is not better for matching
                # many spellings of it. Only the postings' ids are read.
                return self._ids(q.field(), words, q.boost, within)
            scores = {}
            for word in words:
                self.term(q.field(), word, q.boost, into=scores, within=within)
            return Matches(self._drop_deleted(scores))
        return self.whoosh(q, within)

    def conjunction(self, parts, within: dict | None = None) -> Matches:
        """Documents every part matches, their scores summed in the parts' order. The
        part likely to match fewest runs first, and each next one only among the
        documents all before it matched: a part's scores do not depend on the others,
        so the result is the same, and a common word costs a membership test per
        posting instead of a scored posting."""
        if not parts:
            return Matches({})
        found: list = [None] * len(parts)
        candidates = within
        for i in sorted(range(len(parts)), key=lambda i: self.estimate(parts[i])):
            found[i] = self.run(parts[i], candidates).scores
            candidates = found[i]   # within every part run so far
            if not candidates:
                return Matches({})
        docs = list(candidates)
        total = map(found[0].__getitem__, docs)
        for scores in found[1:]:
            total = map(add, total, map(scores.__getitem__, docs))
        return Matches(dict(zip(docs, total)))

    def estimate(self, q) -> int:
        """About how many documents `q` matches (from the terms' document counts), to
        order a conjunction's parts; the index's size when it cannot tell."""
        from whoosh import query as wq
        if isinstance(q, wq.Term):
            field = self.schema[q.fieldname] if q.fieldname in self.schema else None
            try:
                return self.reader.doc_frequency(q.fieldname, field.to_bytes(q.text)) \
                    if field is not None else 0
            except ValueError:
                return 0
        if isinstance(q, (wq.Or, wq.DisjunctionMax)):
            return min(self.size, sum(self.estimate(s) for s in q.subqueries))
        if isinstance(q, wq.And):
            return min((self.estimate(s) for s in q.subqueries), default=0)
        if isinstance(q, (wq.AndNot, wq.Require, wq.AndMaybe)):
            return self.estimate(q.a)
        return self.size


def _boosted(m: Matches, boost: float) -> Matches:
    return m if boost == 1.0 else Matches({d: s * boost for d, s in m.scores.items()})


def _intersect(parts: list[Matches]) -> Matches:
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


def _add_scores(scores: dict, keys, values) -> None:
    """scores[k] += v for each pair, an absent k counting 0.0, so a document's score is
    the sum of the parts that have it, in the order they were added (as Whoosh sums).
    `keys` is iterated twice; each key at most once per call. In C: one `get`, one
    `add` and one store per posting, 2.5 times less work than joining separate dicts."""
    if not scores:
        scores.update(zip(keys, values))
    else:
        scores.update(zip(keys, map(add, map(scores.get, keys, repeat(0.0)), values)))


def _decode_positions(value: bytes):
    """whoosh.formats.Positions' encoding (a 4-byte count, then the pickled position
    deltas) decoded with C-level `accumulate`."""
    if not value.endswith(b"."):
        value += b"."
    return accumulate(loads(value[4:]))


def _in_order(positions, slop: int) -> bool:
    """A chain p1 < p2 < ... with each p(i+1) - p(i) between 1 and `slop`; `positions`
    (of each word in turn) is read only as far as needed."""
    positions = iter(positions)
    reached = set(next(positions, ()))
    for following in positions:
        if slop == 1:   # the positions right after those reached, in C
            reached = set(map((1).__add__, reached)).intersection(following)
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


