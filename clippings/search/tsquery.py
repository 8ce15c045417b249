"""A parsed query (`query.parse`, a Whoosh query tree over our analysed terms) as SQL
for the PostgreSQL backend: one tsquery over the `tsv` column where it can be, SQL for
year and date ranges, wildcards and fuzzy words expanded against the lexeme table.

`translate(q, expand)` -> `Translated`: `where` is an SQL condition on the `doc` table
with %s placeholders for `params`; `rank` is a tsquery of the query's positive words (for
ts_rank_cd), or None; `strong_where`/`strong_params` narrow `where` to the matches in
which a positive word is prominent (in the title, author, venue, abstract or note, or
among the words its text uses most: the `s:` lexemes of `pg.analyse`), or None. `expand(like,
test)` returns the indexed lexemes matching an SQL LIKE pattern and a Python predicate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from ..errors import UsageError
from .pg import PREFIX, STRONG_PREFIX
from .query import _within

MAX_EXPANSION = 2000   # lexemes a wildcard or fuzzy word may stand for
NONE, ALL = ("none",), ("all",)


def lexeme(fieldname: str, text: str) -> str:
    return _quoted(PREFIX[fieldname] + ":" + text)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class Translated:
    where: str
    params: list
    rank: str | None
    strong_where: str | None = None
    strong_params: list | None = None
    # the matches are narrowed by year: a sample's shards come from the (year, shard)
    # index, not from an OR of their lexemes in the word index
    by_year: bool = False


# Fields whose every word is prominent in an entry (their lexemes serve as they are);
# the text's prominent words are its `s:` lexemes. Transliteration keys and the exact
# fields (key, type, tag, lang) make no entry stand out.
_PROMINENT = ("title", "author", "journal", "abstract", "note")


def translate(q, expand: Callable[[str, Callable[[str], bool]], list[str]]) -> Translated:
    positive: list[str] = []
    result = _node(q, expand, positive, negated=False)
    rank = " | ".join(f"({p})" for p in positive) or None
    where, params = _as_sql(result)
    strong = _strong(positive)
    if strong is None or result is NONE:
        return Translated(where, params, rank)
    # One tsquery where it can be, so the GIN index answers without reading a tsvector.
    strong_where, strong_params = _as_sql(_and([result, ("ts", strong)]))
    return Translated(where, params, rank, strong_where, strong_params)


_LEXEME = re.compile(r"'((?:[^']|'')*)'(:\*)?")


def _strong(positive: list[str]) -> str | None:
    """A tsquery matching the entries in which one of the positive parts' lexemes is
    prominent (an OR of their prominent forms), or None when no lexeme can be."""
    fields = {PREFIX[name]: name for name in _PROMINENT}
    forms = []
    for part in positive:
        for quoted, star in _LEXEME.findall(part):
            text = quoted.replace("''", "'").replace("\\\\", "\\")
            head, _, word = text.partition(":")
            if head in fields:
                forms.append(_quoted(text) + star)
            elif head == PREFIX["text"]:
                forms.append(_quoted(STRONG_PREFIX + ":" + word) + star)
    return " | ".join(dict.fromkeys(forms)) or None


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _as_sql(result) -> tuple[str, list]:
    if result is NONE:
        return "false", []
    if result is ALL:
        return "true", []
    if result[0] == "ts":
        return "tsv @@ %s::tsquery", [result[1]]
    return result[1], list(result[2])


def _node(node, expand, positive, negated: bool):
    from whoosh import query as wq
    if node is wq.NullQuery or isinstance(node, type(wq.NullQuery)):
        return NONE
    if isinstance(node, wq.Every):
        return ALL
    if isinstance(node, wq.AndNot):
        return _and([_node(node.a, expand, positive, negated),
                     _not(_node(node.b, expand, positive, not negated))])
    if isinstance(node, wq.AndMaybe):
        _node(node.b, expand, positive, negated)   # ranks, does not filter
        return _node(node.a, expand, positive, negated)
    if isinstance(node, wq.Not):
        return _not(_node(node.query, expand, positive, not negated))
    if isinstance(node, wq.And):
        return _and([_node(c, expand, positive, negated) for c in node.children()])
    if isinstance(node, wq.Or):
        return _or([_node(c, expand, positive, negated) for c in node.children()])
    result = _leaf(node, expand)
    if result[0] == "ts" and not negated:
        positive.append(result[1])
    return result


def _operands(parts, absorbing, neutral):
    """`absorbing` if a part is it, else the parts other than `neutral` (or `neutral`)."""
    if any(p is absorbing for p in parts):
        return absorbing
    return [p for p in parts if p is not neutral] or neutral


def _and(parts):
    parts = _operands(parts, NONE, ALL)
    if parts is NONE or parts is ALL:
        return parts
    ts = [p[1] for p in parts if p[0] == "ts"]
    sql = [p for p in parts if p[0] == "sql"]
    if not sql:
        return ("ts", " & ".join(f"({t})" for t in ts))
    conditions, params = [], []
    if ts:
        conditions.append("tsv @@ %s::tsquery")
        params.append(" & ".join(f"({t})" for t in ts))
    for _, condition, values in sql:
        conditions.append(f"({condition})")
        params.extend(values)
    return ("sql", " AND ".join(conditions), params)


def _or(parts):
    parts = _operands(parts, ALL, NONE)
    if parts is NONE or parts is ALL:
        return parts
    if all(p[0] == "ts" for p in parts):
        return ("ts", " | ".join(f"({p[1]})" for p in parts))
    conditions, params = [], []
    for part in parts:
        condition, values = _as_sql(part)
        conditions.append(f"({condition})")
        params.extend(values)
    return ("sql", " OR ".join(conditions), params)


def _not(part):
    if part is NONE:
        return ALL
    if part is ALL:
        return NONE
    if part[0] == "ts":
        return ("ts", f"!({part[1]})")
    return ("sql", f"NOT ({part[1]})", part[2])


def _leaf(node, expand):
    from whoosh import query as wq
    fieldname = getattr(node, "fieldname", None)
    if isinstance(node, wq.NumericRange):
        if fieldname not in ("year", "date"):
            raise UsageError(f"{fieldname}: takes words, not a range",
                             german=f"{fieldname}: nimmt Wörter, keinen Bereich")
        conditions, params = [], []
        if node.start is not None:
            conditions.append(f"{fieldname} {'>' if node.startexcl else '>='} %s")
            params.append(int(node.start))
        if node.end is not None:
            conditions.append(f"{fieldname} {'<' if node.endexcl else '<='} %s")
            params.append(int(node.end))
        if not conditions:
            return ("sql", f"{fieldname} IS NOT NULL", [])
        return ("sql", " AND ".join(conditions), params)
    if fieldname not in PREFIX:
        raise UsageError(f"the PostgreSQL backend cannot search {fieldname}: this way",
                         german=f"Die PostgreSQL-Suche kann {fieldname}: so nicht "
                                "durchsuchen")
    if isinstance(node, wq.Phrase):
        words = [w for w in node.words if w]
        if not words:
            return NONE
        return ("ts", " <-> ".join(lexeme(fieldname, w) for w in words))
    if isinstance(node, wq.Prefix):
        return ("ts", lexeme(fieldname, node.text) + ":*")
    if isinstance(node, wq.FuzzyTerm):
        text, dist, keep = node.text, node.maxdist, node.prefixlength
        prefix = PREFIX[fieldname] + ":"
        terms = expand(_like(prefix + text[:keep]) + "%",
                       lambda t: _within(t[len(prefix):], text, dist))
        return _terms(fieldname, [t[len(prefix):] for t in terms], text)
    if isinstance(node, (wq.Wildcard, wq.Regex)):
        return _pattern(node, fieldname, expand)
    if isinstance(node, wq.Term):
        if not isinstance(node.text, str):
            return NONE
        return ("ts", lexeme(fieldname, node.text))
    raise UsageError(f"the PostgreSQL backend cannot run this part of the query: {node}",
                     german="Die PostgreSQL-Suche kann diesen Teil der Anfrage nicht "
                            f"ausführen: {node}")


def _pattern(node, fieldname: str, expand):
    from whoosh import query as wq
    prefix = PREFIX[fieldname] + ":"
    try:
        pattern = re.compile(node._get_pattern())
    except (AttributeError, NotImplementedError, re.error):
        return NONE
    if isinstance(node, wq.Wildcard):
        literal = re.split(r"[*?]", node.text, maxsplit=1)[0]
        like = _like(prefix + literal) + "%"
    else:
        like = _like(prefix) + "%"
    terms = expand(like, lambda t: pattern.match(t[len(prefix):]) is not None)
    return _terms(fieldname, [t[len(prefix):] for t in terms], node.text)


def _terms(fieldname: str, terms: list[str], typed: str):
    if not terms:
        return NONE
    if len(terms) > MAX_EXPANSION:
        raise UsageError(f"{typed!r} stands for more than {MAX_EXPANSION} words; make it "
                         "longer",
                         german=f"{typed!r} steht für mehr als {MAX_EXPANSION} Wörter; "
                                "bitte länger schreiben")
    return ("ts", " | ".join(lexeme(fieldname, t) for t in sorted(terms)))
