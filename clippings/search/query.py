"""Queries: parse the user's text, run it (BM25F), and cut snippets around the matches.

Syntax: words (all must match), "phrases", AND / OR / NOT and parentheses, field:term
for author, title, journal, type, tag, lang, abstract, note, key and text (everything
but the title: persons, journal, tags, abstract, note and the snapshot's text),
year:2015..2017 and date:2016-04..2016-06 (also year:>2015, date:<=2017-06), wildcards
(Städtepartner*, Wol?ograd) and fuzzy words (Wolgogard~, Wolgogard~2).
A query that cannot be understood raises UsageError with one clear sentence.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from ..errors import UsageError
from ..lru import LRU
from .schema import DEFAULT_FIELDS, FIELD_WEIGHTS, PHONETIC_FIELDS, QUERY_FIELDS, TEXT_FIELDS

# Other names people type for a field.
FIELD_ALIASES = {
    "authors": "author", "editor": "author", "person": "author", "autor": "author",
    "site": "journal", "journaltitle": "journal", "newspaper": "journal",
    "publisher": "journal", "zeitung": "journal",
    "tags": "tag", "keyword": "tag", "keywords": "tag",
    "language": "lang", "langid": "lang", "sprache": "lang",
    "entrytype": "type", "jahr": "year", "titel": "title",
    "content": "text", "fulltext": "text", "snapshot": "text",
}
_FIELD = re.compile(r"(?<![\w\-.])([A-Za-z_]\w*):(?=\S)")
# year:/date: values in our syntax; Whoosh's own year:[2015 TO 2017] passes as it is.
_RANGE_VALUE = re.compile(r"(?<![\w\-.])(year|date):(?![\[{])(<=|>=|<|>)?([^\s()\[\]{}\"]*)")
_BARE_FIELD = re.compile(r"(?<![\w\-.])([A-Za-z_]\w*):(?=\s|\)|$)")
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_EXAMPLES = {"year": "2015..2017", "date": "2016-04..2016-06", "lang": "ru",
             "type": "article", "tag": "presse", "author": "Lohse"}
SNIPPET_CHARS = 220
SNIPPET_PART = 1500   # characters of a text read at a time for its snippet
PHRASE_READ = 20_000  # ... and up to where a phrase's words are looked for together
FUZZY_PREFIX = 2
MIN_PART = 4   # shortest query term highlighted inside a longer word


@dataclass
class Hit:
    key: str
    score: float
    type: str
    title: str
    authors: list[str]
    date: str
    snippet: str
    journal: str = ""
    # where the title's matched words are (start, end): marked on the web page and a
    # terminal from the title's own text, which may hold ** itself; not in the JSON
    title_spans: tuple[tuple[int, int], ...] = ()

    def as_json(self) -> dict:
        return {"key": self.key, "score": round(self.score, 4), "type": self.type,
                "title": self.title, "authors": self.authors, "date": self.date,
                "snippet": self.snippet, "journal": self.journal}


# -- parsing ------------------------------------------------------------------------------

def _outside_quotes(text: str) -> list[tuple[int, int]]:
    """Spans of `text` that are not inside "double quotes"; raises on an odd quote."""
    if text.count('"') % 2:
        raise UsageError('the query has an unbalanced " (phrases need a closing quote)',
                         german='Der Suche fehlt ein " (eine Wortgruppe steht zwischen zwei '
                                'Anführungszeichen)')
    spans, pos = [], 0
    for match in re.finditer(r'"[^"]*"', text):
        spans.append((pos, match.start()))
        pos = match.end()
    spans.append((pos, len(text)))
    return spans


def _bounds(fieldname: str, value: str) -> tuple[int, int]:
    """The smallest and largest number a year or date value stands for."""
    if fieldname == "year":
        if not re.fullmatch(r"\d{1,4}", value):
            raise UsageError(f"year:{value} is not a year (use e.g. year:2016 or "
                             "year:2015..2017)",
                             german=f"year:{value} ist keine Jahreszahl (z. B. year:2016 "
                                    "oder year:2015..2017)")
        return int(value), int(value)
    match = _DATE.match(value)
    if not match:
        raise UsageError(f"date:{value} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD, "
                         "e.g. date:2016-04..2016-06)",
                         german=f"date:{value} ist kein Datum (JJJJ, JJJJ-MM oder "
                                "JJJJ-MM-TT, z. B. date:2016-04..2016-06)")
    year, month, day = match.group(1), match.group(2), match.group(3)
    if month and not 1 <= int(month) <= 12 or day and not 1 <= int(day) <= 31:
        raise UsageError(f"date:{value} is not a valid date",
                         german=f"date:{value} ist kein gültiges Datum")
    base = int(year) * 10000
    if not month:
        return base, base + 9999
    base += int(month) * 100
    if not day:
        return base, base + 99
    return base + int(day), base + int(day)


def _range(fieldname: str, op: str, value: str) -> str:
    """year:/date: value in our syntax -> a Whoosh range over the numeric field."""
    if value.startswith(("[", "{")):
        return f"{fieldname}:{op}{value}"
    if not value:
        raise UsageError(f"{fieldname}: needs a value, e.g. {fieldname}:2016",
                         german=f"{fieldname}: braucht einen Wert, z. B. {fieldname}:2016")
    if ".." in value:
        if op:
            raise UsageError(f"{fieldname}:{op}{value} mixes {op} with a range",
                             german=f"{fieldname}:{op}{value} mischt {op} mit einem Bereich")
        lo_text, _, hi_text = value.partition("..")
        if not lo_text and not hi_text:
            raise UsageError(f"{fieldname}:.. needs at least one end",
                             german=f"{fieldname}:.. braucht mindestens ein Ende")
        lo = _bounds(fieldname, lo_text)[0] if lo_text else None
        hi = _bounds(fieldname, hi_text)[1] if hi_text else None
        if lo is not None and hi is not None and lo > hi:
            raise UsageError(f"{fieldname}:{value} is an empty range (the start is after "
                             "the end)",
                             german=f"{fieldname}:{value} ist ein leerer Bereich (der Anfang "
                                    "liegt nach dem Ende)")
        return f"{fieldname}:[{'' if lo is None else lo} TO {'' if hi is None else hi}]"
    lo, hi = _bounds(fieldname, value)
    if op == ">":
        return f"{fieldname}:{{{hi} TO]"
    if op == ">=":
        return f"{fieldname}:[{lo} TO]"
    if op == "<":
        return f"{fieldname}:[TO {lo}}}"
    if op == "<=":
        return f"{fieldname}:[TO {hi}]"
    return f"{fieldname}:[{lo} TO {hi}]"


def _field_name(typed: str) -> str:
    name = typed.lower()
    return FIELD_ALIASES.get(name, name)


def _rewrite(segment: str) -> str:
    """Field names checked and normalised, year/date values turned into ranges."""
    def fieldname(match: re.Match) -> str:
        name = _field_name(match.group(1))
        if name not in QUERY_FIELDS:
            raise UsageError(f"unknown field '{match.group(1)}:' (fields: "
                             f"{', '.join(QUERY_FIELDS)}); put the text in quotes to "
                             "search for it as it is",
                             german=f"unbekanntes Feld '{match.group(1)}:' (Felder: "
                                    f"{', '.join(QUERY_FIELDS)}); in Anführungszeichen wird "
                                    "der Text so gesucht, wie er dasteht")
        return f"{name}:"
    segment = _FIELD.sub(fieldname, segment)
    return _RANGE_VALUE.sub(lambda m: _range(m.group(1), m.group(2) or "", m.group(3)),
                           segment)


def prepare(text: str) -> str:
    """The user's query in Whoosh's syntax, or UsageError for what cannot be parsed."""
    if not text.strip():
        raise UsageError("the query is empty", german="Die Suche ist leer")
    parts, depth, pos = [], 0, 0
    for start, end in _outside_quotes(text):
        parts.append(text[pos:start])          # a quoted phrase, as it is
        segment = text[start:end]
        for char in segment:
            depth += (char == "(") - (char == ")")
            if depth < 0:
                raise UsageError("the query has a ')' without a matching '('",
                                 german="Die Suche hat eine ')' ohne passende '('")
        bare = _BARE_FIELD.search(segment)
        if bare and _field_name(bare.group(1)) in QUERY_FIELDS and \
                (start + bare.end() >= len(text) or text[start + bare.end()] != '"'):
            name = _field_name(bare.group(1))
            example = f"{name}:{_EXAMPLES.get(name, 'word')}"
            raise UsageError(f"{bare.group(1)}: needs a value after it, e.g. {example}",
                             german=f"{bare.group(1)}: braucht einen Wert dahinter, "
                                    f"z. B. {example}")
        parts.append(_rewrite(segment))
        pos = end
    if depth:
        raise UsageError("the query has a '(' without a matching ')'",
                         german="Die Suche hat eine '(' ohne passende ')'")
    prepared = "".join(parts)
    words = re.findall(r'"[^"]*"|\S+', prepared.replace("(", " ").replace(")", " "))
    if words and (words[0] in ("AND", "OR", "ANDNOT", "ANDMAYBE")
                  or words[-1] in ("AND", "OR", "NOT", "ANDNOT", "ANDMAYBE")):
        op = words[0] if words[0] in ("AND", "OR", "ANDNOT", "ANDMAYBE") else words[-1]
        raise UsageError(f"{op} needs a word on both sides (write it in lowercase to "
                         "search for the word itself)",
                         german=f"{op} braucht auf beiden Seiten ein Wort (klein "
                                "geschrieben wird das Wort selbst gesucht)")
    return prepared


def fuzzy_distance(word: str) -> int:
    """The edit distance of `word~` without a number: 1 for short words, 2 from 6 letters
    (Wolgogard~ finds Wolgograd: two letters swapped are two edits)."""
    return 2 if len(word) >= 6 else 1


def _fuzzy_plugin_class():
    from whoosh import qparser

    class FuzzyPlugin(qparser.FuzzyTermPlugin):
        """Whoosh's `~`, with no number meaning "by the word's length" (decided in _adjust)."""
        def create(self, parser, match):
            node = super().create(parser, match)
            if not match.group("maxdist"):
                node.maxdist = None
            return node

    return FuzzyPlugin


def _FuzzyPlugin():
    return _fuzzy_plugin_class()()


def make_parser(schema):
    from whoosh import qparser
    parser = qparser.MultifieldParser(list(DEFAULT_FIELDS), schema, fieldboosts=FIELD_WEIGHTS,
                                      group=qparser.AndGroup)
    parser.add_plugin(_FuzzyPlugin())
    parser.add_plugin(qparser.GtLtPlugin())
    return parser


_parsed = LRU(256)   # (schema id, text) -> (schema, query)


def parse(text: str, schema):
    """The Whoosh query for the user's text; UsageError when it cannot be understood.
    The last queries' parses are kept (a server pages through the same search; Whoosh's
    parser takes 2 ms): nothing changes a parsed query, so one can be shared."""
    key = (id(schema), text)
    kept = _parsed.get(key)
    if kept is not None and kept[0] is schema:
        return kept[1]
    q = _parse(text, schema)
    _parsed.put(key, (schema, q))
    return q


def _parse(text: str, schema):
    prepared = prepare(text)
    try:
        q = make_parser(schema).parse(prepared)
    except Exception as exc:  # the parser's own errors carry no user-facing message
        raise UsageError(f"cannot understand the query {text!r}: {exc}",
                         german=f"Die Suche {text!r} ist nicht zu verstehen: {exc}") from None
    for node in _nodes(q):
        error = getattr(node, "error", None)
        if error:
            raise UsageError(f"cannot understand the query {text!r}: {error}",
                             german=f"Die Suche {text!r} ist nicht zu verstehen: {error}")
    return q.accept(_adjust).normalize()


def _adjust(node):
    """Phrases are matched in the word fields only: the transliteration-key field keeps
    no positions (and its keys are too coarse for word order). Fuzzy words keep their
    first two letters (typos there are rare), which spares scanning the whole term
    list; the transliteration keys, already a fuzzy spelling, are not made fuzzier."""
    from whoosh import query as wq
    if isinstance(node, wq.Phrase) and node.fieldname in PHONETIC_FIELDS:
        return wq.NullQuery
    if isinstance(node, wq.FuzzyTerm):
        if node.fieldname in PHONETIC_FIELDS:
            return wq.NullQuery
        node.prefixlength = max(node.prefixlength, FUZZY_PREFIX)
        if node.maxdist is None:
            node.maxdist = fuzzy_distance(node.text)
    return node


def _nodes(q):
    yield q
    for child in q.children():
        yield from _nodes(child)


# -- running ------------------------------------------------------------------------------

class Hits(list):
    """The hits shown, best first; `total` counts every document that matched."""
    total: int = 0


def search(ix, text: str, library_folder: Path, limit: int | None = 10) -> Hits:
    """The best `limit` hits for `text` (None = all), best first, each with a snippet."""
    found, total, _ = search_page(ix, text, library_folder, limit=limit, facets=False)
    hits = Hits(found)
    hits.total = total
    return hits


# Facet name -> (Whoosh field, whether an entry has several values).
WHOOSH_FACETS = {"year": ("year", False), "type": ("etype", False),
                 "journal": ("venue", False), "lang": ("lang", True),
                 "keyword": ("facet_tag", True), "link": ("link", False)}
FACET_VALUES = 50   # most frequent values reported per facet


def search_page(ix, text: str, library_folder: Path, offset: int = 0,
                limit: int | None = 10, facets: bool = True
                ) -> tuple[list[Hit], int, dict[str, list[tuple]]]:
    """Hits offset..offset+limit (limit None = all), the total number of matches and, with
    `facets`, the facet counts of all matches. Every match is found and scored in bulk
    (`bulk`); only the page's hits are read and get snippets."""
    from whoosh import scoring
    from . import bulk
    q = parse(text, ix.schema)
    marker = Marker(ix.schema, q)
    with ix.searcher(weighting=scoring.BM25F()) as searcher:
        matches = bulk.evaluate(searcher, q)
        end = None if limit is None else offset + limit
        shown = matches.top(end)[offset:]
        hits = [hit_from(searcher.stored_fields(int(d)), float(matches.scores[d]), marker,
                         library_folder) for d in shown]
        counts = {}
        if facets:
            table = _facet_table(ix, searcher)
            counts = {name: top_counts(table.counts(name, matches.scores))
                      for name in WHOOSH_FACETS}
        return hits, matches.total, counts


_facet_tables = LRU(1)   # the last index version's facet values


def _facet_table(ix, searcher):
    """The facet values of every document of the index's current generation (built once
    per generation: a long-running server counts each query's facets from it)."""
    from . import bulk
    token = (str(getattr(ix.storage, "folder", id(ix))), bulk.segments_token(searcher))
    table = _facet_tables.get(token)
    if table is None:
        table = bulk.FieldFacets(searcher, WHOOSH_FACETS)
        _facet_tables.put(token, table)
    return table


def top_counts(groups: dict) -> list[tuple]:
    """{value: count} -> the most frequent values first (ties by value), no empty value."""
    pairs = [(v, n) for v, n in groups.items() if v not in (None, "")]
    pairs.sort(key=lambda p: (-p[1], str(p[0])))
    return pairs[:FACET_VALUES]


def hit_from(stored: dict, score: float, marker: "Marker", library_folder: Path) -> Hit:
    """A Hit from a document's stored fields: title, persons, date and a snippet."""
    from .. import snapshots
    meta = stored.get("meta") or {}
    key = stored["key"]
    return make_hit(key, float(score), meta,
                    lambda: snapshots.text(library_folder, key), marker)


def make_hit(key: str, score: float, meta: dict, body, marker: "Marker") -> Hit:
    """A hit with its snippet: from the snapshot text (`body()`), else the abstract, else
    the note; the text's start when no word is marked."""
    sources = [body, lambda: meta.get("abstract"), lambda: meta.get("note")]
    text_snippet, first = "", ""
    for source in sources:
        text = source()
        if not text:
            continue
        first = first or text
        text_snippet = snippet(text, marker)
        if text_snippet:
            break
    if not text_snippet and first:
        text_snippet = _cut(first, 0, 0, SNIPPET_CHARS)
    title = meta.get("title", "")
    return Hit(key=key, score=score, type=meta.get("type", ""),
               title=title, authors=list(meta.get("authors", [])),
               date=meta.get("date", ""), snippet=text_snippet,
               journal=meta.get("journal", ""),
               title_spans=tuple(marker.spans(title)) if title else ())


def marked_pieces(text: str, spans) -> list[tuple[str, bool]]:
    """`text` cut at `spans`: (piece, whether it is a matched word), in order."""
    pieces, pos = [], 0
    for start, end in spans:
        pieces += [(text[pos:start], False), (text[start:end], True)]
        pos = end
    pieces.append((text[pos:], False))
    return [(piece, matched) for piece, matched in pieces if piece]


# -- snippets -----------------------------------------------------------------------------

class Marker:
    """Tells which words of a text the query matched, for highlighting.

    With the index's `vocabulary` (the server's search pages), the words to mark are
    known before any text is read: those the index holds under the query's terms (and
    under the terms its wildcard and fuzzy words stand for); a text is searched for
    them with one expression. Without it (`clippings search`: loading the vocabulary
    costs about what analysing ten texts does, and more in a large library), each
    distinct word of a text is analysed once per process, the way a query is (no
    compound splitting: its dictionary takes a tenth of a second to load), and its
    terms compared with the query's: exact terms by set lookup or, for compounds, as a
    part inside the word's term (`partnerschaft` in `stadtepartnerschaft`); wildcards
    and fuzzy words by pattern; transliteration keys by the phonetic analyzer. Words
    under NOT are not highlighted.
    """

    _forms: dict[tuple[str, int], frozenset] = {}

    def __init__(self, schema, q, vocabulary=None):
        from .analysis import TOKEN_PATTERN
        self.schema = schema
        self.vocabulary = vocabulary
        self.word = re.compile(TOKEN_PATTERN)
        self.split = re.compile(f"({TOKEN_PATTERN})").split
        from .terms import word_terms
        self.term_functions = (word_terms(schema["text"].analyzer),
                               word_terms(schema["translit"].analyzer))
        self.exact: tuple[set, set] = (set(), set())
        self.tests: tuple[list, list] = ([], [])
        self.phrase = 0     # words of the query's longest phrase: a snippet shows them together
        self._collect(q)
        # Terms long enough to be recognised inside a compound.
        self.parts = [t for t in self.exact[0] if len(t) >= MIN_PART]
        self.empty = not any(self.exact) and not any(self.tests)
        # Matched words a snippet should show: one per word of the query (its terms in
        # the text fields; a compound's parts and other spellings count once).
        self.wanted = max(1, min(3, len(self.exact[0]) + len(self.tests[0])))
        self._verdicts: dict[str, bool] = {}
        # With the index's vocabulary the words to mark are known before a text is read:
        # those indexed under the query's terms, or under the terms a wildcard or fuzzy
        # word stands for. A text is then searched for them, not read word by word.
        self.known: frozenset | None = None
        self.finder: re.Pattern | None = None
        if vocabulary is not None:
            terms = [set(self.exact[0]), set(self.exact[1])]
            for kind, tests in enumerate(self.tests):
                for test in tests:   # a wildcard or fuzzy word: the terms it stands for
                    terms[kind].update(filter(test, vocabulary.terms_from(test.prefix, kind)))
            self.known = frozenset(vocabulary.words_for(terms[0], 0)
                                   | vocabulary.words_for(terms[1], 1))
            if 0 < len(self.known) <= FINDER_WORDS and \
                    max(map(len, self.known)) <= FINDER_LONGEST:
                self.finder = re.compile(f"(?:{_trie(self.known)})(?![{_INSIDE}])")

    def _collect(self, node) -> None:
        from whoosh import query as wq
        if isinstance(node, wq.Not):
            return
        if isinstance(node, wq.AndNot):
            self._collect(node.a)
            return
        if not node.is_leaf():
            for child in node.children():
                self._collect(child)
            return
        fieldname = getattr(node, "fieldname", None)
        kind = 0 if fieldname in TEXT_FIELDS else 1 if fieldname in PHONETIC_FIELDS \
            else None
        if kind is None:
            return
        test = _term_test(node)
        if test is not None:
            self.tests[kind].append(test)
        elif isinstance(node, wq.Phrase):   # its words, wherever they stand
            self.exact[kind].update(node.words)
            self.phrase = max(self.phrase, len(node.words))
        else:
            self.exact[kind].update(t for _, t in node.terms() if isinstance(t, str))

    def forms(self, word: str, kind: int) -> frozenset:
        """The terms `word` has in the text fields (kind 0) or as a transliteration
        key (kind 1), as the query's words were analysed; kept per process."""
        if self.vocabulary is not None:
            indexed = self.vocabulary.forms(word)
            if indexed is not None:
                return frozenset(indexed[kind])
        key = (word, kind)
        forms = self._forms.get(key)
        if forms is None:
            if len(self._forms) > 200_000:
                self._forms.clear()
            # Only capitalised words were given transliteration keys in the index (the
            # keys are for names), so only they can have matched through one.
            forms = self._forms[key] = frozenset(self.term_functions[kind](word)) \
                if kind == 0 or word[:1].isupper() else frozenset()
        return forms

    def matches(self, word: str) -> bool:
        for kind in (0, 1):
            if not self.exact[kind] and not self.tests[kind]:
                continue
            terms = self.forms(word, kind)
            if terms & self.exact[kind]:
                return True
            if kind == 0 and any(part in term for term in terms for part in self.parts):
                return True
            if self.tests[kind] and any(test(t) for t in terms for test in self.tests[kind]):
                return True
        return False

    def adjacent(self, text: str, end: int, start: int) -> bool:
        """Whether nothing but punctuation and stop words stands in text[end:start],
        between two marked words: they can be neighbours in a phrase (stop words leave
        no gap in the index's positions)."""
        return all(not self.forms(word, 0) for word in self.word.findall(text, end, start))

    def spans(self, text: str, lo: int = 0, hi: int | None = None) -> list[tuple[int, int]]:
        """Character spans of the matched words of `text` (of text[lo:hi], which must
        not cut a word)."""
        if self.empty:
            return []
        hi = len(text) if hi is None else hi
        if self.finder is not None:
            return [m.span() for m in self.finder.finditer(text, lo, hi)
                    if _whole_token(text, m.start(), m.end())]
        if self.known is not None and not self.known:
            return []
        # One pass of the token expression: the words and what stands between them
        # (a Python loop over match objects cost as much again).
        parts = self.split(text[lo:hi] if lo or hi < len(text) else text)
        words = parts[1::2]
        if self.known is None:
            # Texts repeat their words: decide each distinct word once per query.
            verdicts = self._verdicts
            distinct = set(words)
            for word in distinct.difference(verdicts):
                verdicts[word] = self.matches(word)
            marked = {word for word in distinct if verdicts[word]}
        else:
            marked = self.known.intersection(words)
        if not marked:
            return []
        # parts alternate gap, word, gap, ...: word i spans ends[2i+1]:ends[2i+2]
        ends = list(accumulate(map(len, parts), initial=lo))
        return [(ends[2 * i + 1], ends[2 * i + 2]) for i, word in enumerate(words)
                if word in marked]


# A word of the text is a token of analysis.TOKEN_PATTERN: not inside a longer token.
_INSIDE = r"\w\u00ad\u0300-\u036f"
_INSIDE_CHAR = re.compile(f"[{_INSIDE}]")
# Up to this many words to mark, one expression finds them in a text faster than the
# text's words are listed (a 5 KB text: 317 words 0.09 ms, listing its words 0.48 ms;
# the expression takes 18 ms to compile, once per query).
FINDER_WORDS = 400
FINDER_LONGEST = 100   # the expression nests a group per letter


def _trie(words) -> str:
    """A regular expression matching any of `words`, shaped as a trie (each common prefix
    once): Python's engine then follows one branch per letter instead of trying every
    word at every position of the text. Longer words are preferred, as in an
    alternation of the words longest first."""
    root: dict = {}
    for word in words:
        node = root
        for letter in word:
            node = node.setdefault(letter, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        branches = [re.escape(letter) + pattern(child)
                    for letter, child in sorted(node.items()) if letter]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body
    return pattern(root)


def _whole_token(text: str, start: int, end: int) -> bool:
    """text[start:end] is a whole token of analysis.TOKEN_PATTERN (what `Marker.finder`
    matched ends at a token's end): not the end of a longer word, nor a part of a number
    such as 26.06.2017."""
    if start and _INSIDE_CHAR.match(text, start - 1):
        return False
    if text[start].isdigit() and start >= 2 and text[start - 1] in ".," \
            and text[start - 2].isdigit():
        return False
    return not (text[end - 1].isdigit() and end + 1 < len(text) and text[end] in ".,"
                and text[end + 1].isdigit())


_markers = LRU(64)   # (schema id, query) -> Marker


def marker_for(schema, q, vocabulary=None) -> Marker:
    """The Marker of a query, kept for the last queries: a server asked for page 2 of
    a search (or for it again) decides each word of the texts once, not per request.
    `vocabulary`: the index's (`vocabulary.load`), when it has one."""
    key = (id(schema), repr(q), id(vocabulary), vocabulary and vocabulary.size)
    marker = _markers.get(key)
    if marker is None or marker.schema is not schema or marker.vocabulary is not vocabulary:
        marker = Marker(schema, q, vocabulary)
        _markers.put(key, marker)
    return marker


def _term_test(node):
    """A predicate on indexed terms for a wildcard/prefix/regex/fuzzy leaf, else None.
    Its `prefix` is what every term it accepts begins with ("" when unknown)."""
    from whoosh import query as wq
    if isinstance(node, wq.FuzzyTerm):
        text, dist, prefix = node.text, node.maxdist, node.prefixlength

        def test(term):
            return term[:prefix] == text[:prefix] and _within(term, text, dist)
        test.prefix = text[:prefix]
        return test
    if isinstance(node, wq.Prefix):
        text = node.text

        def test(term):
            return term.startswith(text)
        test.prefix = text
        return test
    if isinstance(node, wq.PatternQuery):
        try:
            pattern = re.compile(node._get_pattern())
        except (AttributeError, NotImplementedError, re.error):
            return None

        def test(term):
            return pattern.match(term) is not None
        test.prefix = re.split(r"[*?\[]", node.text)[0] if isinstance(node, wq.Wildcard) \
            else ""
        return test
    return None


def _within(a: str, b: str, limit: int) -> bool:
    """Levenshtein distance of a and b is at most `limit`."""
    if abs(len(a) - len(b)) > limit:
        return False
    # An edit adds or removes at most one letter to each word's set of letters: most
    # words of a text are told apart here, without the table below.
    if len(set(a).symmetric_difference(b)) > 2 * limit:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return False
        previous = current
    return previous[-1] <= limit


def snippet(text: str, marker: Marker, width: int = SNIPPET_CHARS) -> str:
    """About `width` characters of `text` around a dense cluster of matched words, each
    matched word wrapped in ** **; "" when no word matches.

    The text is read a part at a time (SNIPPET_PART characters, cut between words) and
    reading stops once a window holds as many matched words as the query has: a 5 KB
    text is then rarely read (and its words analysed) to the end."""
    spans: list[tuple[int, int]] = []
    run: list[int] = []     # marked words standing together, ending with each span
    best, best_count, whole, lo = 0, 0, True, 0
    while lo < len(text):
        hi = text.find(" ", lo + SNIPPET_PART)
        hi = len(text) if hi < 0 else hi
        for span in marker.spans(text, lo, hi):
            together = marker.phrase > 1 and spans and \
                marker.adjacent(text, spans[-1][1], span[0])
            run.append(run[-1] + 1 if together else 1)
            spans.append(span)
        lo = hi
        best, best_count, whole = _densest(spans, width, marker.phrase, run)
        # A phrase's words together are looked for in the first PHRASE_READ characters.
        if best_count >= marker.wanted and (whole or lo >= PHRASE_READ):
            break
    if not spans:
        return ""
    start = spans[best][0]
    inside = [(s, e) for s, e in spans[best:] if e - start <= width]
    # Centre the window on the matched words.
    slack = max(0, width - (inside[-1][1] - start))
    lo = max(0, start - slack // 2)
    hi = min(len(text), lo + width)
    lo = max(0, min(lo, hi - width))
    return _cut(text, lo, hi, width, inside)


def _densest(spans: list[tuple[int, int]], width: int, phrase: int = 0,
             run: list[int] | None = None) -> tuple[int, int, bool]:
    """(index of the first span, number of spans, whether it holds the phrase) of the
    window of `width` characters holding the most spans (the earliest of equals); with
    a query `phrase` of that many words, a window where that many marked words stand
    together (`run[k]`: how many do, ending with span k) comes before any without."""
    ends = [k for k, n in enumerate(run) if n >= phrase] if phrase > 1 and run else None
    best, best_key, j = 0, (False, 0), 0
    for i, (start, _) in enumerate(spans):
        while j < len(spans) and spans[j][1] - start <= width:
            j += 1
        whole = True
        if ends is not None:    # a run of `phrase` spans from i on, ending before j
            x = bisect_left(ends, i + phrase - 1)
            whole = x < len(ends) and ends[x] < j
        if (whole, j - i) > best_key:
            best, best_key = i, (whole, j - i)
    return best, best_key[1], best_key[0]


def _cut(text: str, lo: int, hi: int, width: int,
         spans: list[tuple[int, int]] = ()) -> str:
    """text[lo:hi] widened/narrowed to word boundaries, spans marked, whitespace squeezed,
    with … where the text goes on."""
    hi = hi or min(len(text), lo + width)
    if lo > 0:
        space = text.rfind(" ", max(0, lo - 20), lo + 1)
        lo = space + 1 if space >= 0 and (not spans or space < spans[0][0]) else lo
    if hi < len(text):
        space = text.find(" ", hi - 20 if hi - 20 > lo else hi, hi + 20)
        if space > 0 and (not spans or space >= spans[-1][1]):
            hi = space
    pieces, pos = [], lo
    for s, e in spans:
        if s < lo or e > hi:
            continue
        pieces += [text[pos:s], "**", text[s:e], "**"]
        pos = e
    pieces.append(text[pos:hi])
    body = re.sub(r"\s+", " ", "".join(pieces)).strip()
    return ("…" if lo > 0 else "") + body + ("…" if hi < len(text) else "")
