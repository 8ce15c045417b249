"""The words of the indexed texts and the terms each was indexed under, so that a
snippet can mark a query's words without analysing the text again.

A search page cuts twenty snippets. Deciding which words of a text the query matched
means knowing each word's terms; analysing them (stemming, transliteration, compound
splitting) was half the CPU of a page the first time its words were seen, and reading
every token of the text was most of the rest. The index build already tokenises each
text: it notes every new word here with its terms, once. A query then looks its terms up
the other way round (term -> the words that make it) and finds those words in a text with
one regular expression.

The file, `vocabulary.marshal` in the index folder, is append-only: a header (the
index's schema id and the build's own token), then batches of new words, each with its
terms and the reverse lists (term -> words), as flat lists of strings that load fast.
A word's terms depend only on the analysis, so a batch never goes stale; a full build
starts the file afresh with the index. Readers keep what they loaded and read only the
batches appended since. A batch cut short by a crash is ignored, and written over by
the next writer (the crash also kept its documents out of the index: the update that
follows indexes them again). Without a readable file, snippets analyse their words.
"""

from __future__ import annotations

import marshal
import os
import struct
import threading
from bisect import bisect_left
from collections.abc import Iterable
from pathlib import Path

FILE = "vocabulary.marshal"
MAGIC = "clippings vocabulary 3"
MAX_WORDS = 1_000_000   # about 280 bytes each in every server process; beyond: no file
_LENGTH = struct.Struct("<I")   # each record: its length, then the marshalled value


def note(index_folder: Path, words: Iterable[str], *, start: bool = False) -> int:
    """Append the words not in the vocabulary yet, with their terms; the number noted.
    Call under the index lock, before the commit that makes their documents visible.

    `start`: a full build, whose index is new; it starts the file. Otherwise words are
    only added to a vocabulary the index already has: one begun later would lack the
    words of the documents before it, and snippets would miss them. The file is removed
    when it would pass MAX_WORDS (snippets then analyse their texts' words)."""
    from .index import schema_id
    path = Path(index_folder) / FILE
    known = None if start else load(index_folder)
    header = b""
    if known is None:
        if not start:
            # A file that cannot be read (damaged, another schema) would be read as
            # covering the index: without it snippets analyse their texts.
            path.unlink(missing_ok=True)
            return 0
        # The build's own token: a reader that kept an earlier file (maybe with the same
        # inode number) sees a new header and reads the file from its start.
        known, header = Vocabulary(), _record((MAGIC, schema_id(), os.urandom(8).hex()))
    elif path.stat().st_size > known.size:
        # A batch cut short by a crash: written again below, so no reader stops there.
        os.truncate(path, known.size)
    new = [w for w in set(words) if w and w not in known.words]
    if len(known.words) + len(new) > MAX_WORDS:
        path.unlink(missing_ok=True)
        return 0
    if not new and not header:
        return 0
    from .index import schema
    from .terms import word_terms
    text_terms = word_terms(schema()["text"].analyzer, index=True)
    keys = word_terms(schema()["translit"].analyzer, index=True)
    forms = [(tuple(text_terms(w)), tuple(keys(w)) if w[:1].isupper() else ()) for w in new]
    # Flat lists of strings, and the reverse maps written too: a reader builds its
    # dicts with dict(zip()) instead of inverting 100,000 words in every server process.
    reverse: tuple[dict, dict] = ({}, {})
    for word, kinds in zip(new, forms):
        for kind, terms in enumerate(kinds):
            for term in terms:
                reverse[kind].setdefault(term, []).append(word)
    batch = (new, [" ".join(t) + "\t" + " ".join(k) for t, k in forms],
             *((list(r), ["\t".join(words) for words in r.values()]) for r in reverse))
    with open(path, "wb" if header else "ab") as out:
        out.write(header + _record(batch))
        out.flush()
        os.fsync(out.fileno())
    return len(new)


class Vocabulary:
    """word -> its terms, and the reverse: term -> the words indexed under it."""

    def __init__(self) -> None:
        self.words: dict[str, str] = {}   # word -> "text terms\ttransliteration keys"
        self.by_term: tuple[dict[str, str], dict[str, str]] = ({}, {})   # -> "w1\tw2"
        self._sorted: tuple[list[str], list[str]] | None = None
        self.size = 0     # bytes of the file read
        self.ino = 0      # the file's inode number
        self.head = b""   # its header, with the build's token

    def copy(self) -> "Vocabulary":
        """A new vocabulary with this one's words, to add batches to."""
        other = Vocabulary()
        other.words = dict(self.words)
        other.by_term = (dict(self.by_term[0]), dict(self.by_term[1]))
        other.size, other.ino, other.head = self.size, self.ino, self.head
        return other

    def add(self, batch: tuple) -> None:
        """Add a batch read from the file (only before the vocabulary is published)."""
        words, forms, *reverse = batch
        first = not self.words
        self.words.update(zip(words, forms))
        for kind, (terms, holders) in enumerate(reverse):
            index = self.by_term[kind]
            if first:
                index.update(zip(terms, holders))
                continue
            for term, more in zip(terms, holders):
                index[term] = index[term] + "\t" + more if term in index else more

    def forms(self, word: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """(text terms, transliteration keys) of `word`, None when it was never seen."""
        found = self.words.get(word)
        if found is None:
            return None
        text_terms, keys = found.split("\t")
        return tuple(text_terms.split()), tuple(keys.split())

    def terms_from(self, prefix: str, kind: int) -> list[str]:
        """The terms (kind 0: text terms, 1: keys) that begin with `prefix`: what a
        wildcard or fuzzy word can stand for, without testing every term."""
        ordered = self._sorted
        if ordered is None:
            ordered = self._sorted = (sorted(self.by_term[0]), sorted(self.by_term[1]))
        terms = ordered[kind]
        return terms[bisect_left(terms, prefix):bisect_left(terms, prefix + "\U0010ffff")]

    def words_for(self, terms: Iterable[str], kind: int) -> set[str]:
        """The words indexed under any of `terms` (kind 0: text terms, 1: keys)."""
        index = self.by_term[kind]
        return {word for term in terms if term in index for word in index[term].split("\t")}


# path -> (the file's stat when read, what it held): a Vocabulary is never changed once
# published; batches appended later make a new one (a search thread may be reading it).
_loaded: dict[str, tuple[tuple, Vocabulary | None]] = {}
_lock = threading.Lock()


def load(index_folder: Path) -> Vocabulary | None:
    """The vocabulary of the index in `index_folder`, None when it has none (or one of
    another schema, or damaged). Kept per process; batches appended since the last call
    are read, a file written anew is read from its start."""
    path = os.path.join(index_folder, FILE)
    try:
        st = os.stat(path)
    except OSError:
        return None
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    found = _loaded.get(path)
    if found is not None and found[0] == stamp:
        return found[1]
    with _lock:
        found = _loaded.get(path)
        if found is not None and found[0] == stamp:
            return found[1]
        before = found[1] if found is not None else None
        vocabulary = _read(path, before, st)
        _loaded[path] = (stamp, vocabulary)
        return vocabulary


def _read(path: str, before: Vocabulary | None, st: os.stat_result) -> Vocabulary | None:
    """The file's vocabulary: `before` and the batches appended to it since, when the
    file is the one `before` was read from and has grown (an append changes its size; a
    new build writes a header with a token of its own); else all of it afresh."""
    from .index import schema_id
    try:
        with open(path, "rb") as file:
            grown = before is not None and before.ino == st.st_ino and \
                before.size < st.st_size and file.read(len(before.head)) == before.head
            file.seek(before.size if grown else 0)
            data = file.read()
    except OSError:
        return None
    vocabulary = before.copy() if grown else Vocabulary()
    vocabulary.ino = st.st_ino
    pos = 0
    if not grown:
        header, pos = _next(data, 0)
        if not (isinstance(header, tuple) and header[:2] == (MAGIC, schema_id())):
            return None
        vocabulary.head = data[:pos]
    while pos < len(data):
        batch, end = _next(data, pos)
        if not (isinstance(batch, tuple) and len(batch) == 4):
            break     # cut short (a crash mid-append): the rest is analysed
        vocabulary.add(batch)
        pos = end
    vocabulary.size += pos
    return vocabulary


def _record(value) -> bytes:
    body = marshal.dumps(value)
    return _LENGTH.pack(len(body)) + body


def _next(data: bytes, pos: int):
    """(the record's value at `pos`, where the next starts), or (None, pos) when the
    record there is cut short or damaged."""
    start, end = pos + _LENGTH.size, pos + _LENGTH.size
    if end > len(data):
        return None, pos
    end += _LENGTH.unpack_from(data, pos)[0]
    if end > len(data):
        return None, pos
    try:
        return marshal.loads(memoryview(data)[start:end]), end
    except (EOFError, ValueError, TypeError):
        return None, pos
