"""A term's postings (document numbers and weights), read the fastest way there is: posting
lists already decoded, the segment's compact file, or Whoosh's own blocks.

Whoosh keeps a term's postings in blocks pickled with every word position. A query needs
no positions (phrases aside), yet unpickling them was half the time of a search at
100,000 entries. So `clippings index` writes a compact file beside each segment,
`<segment id>.cpost`: every term found in at least LONG documents again, without
positions. Per term it holds the document numbers (as gaps, zlib) and one code per
posting, weight × 256 + the document's field-length byte (zlib): all that BM25F needs.

A segment never changes once written (deletions are kept apart), so its compact file is
right for as long as the segment exists. Whoosh's clean-up after a commit deletes it
along with the segment's own files, because the name matches theirs. A missing, foreign
or damaged file is ignored: the postings then come from Whoosh's blocks, the same but
slower.

    found = postings(reader, "text", b"kaluga")   # Postings(ids, weights, codes) or None
    write_missing(ix)                             # after a commit, under the index lock
"""

from __future__ import annotations

import marshal
import os
import struct
import sys
import time
import zlib
from array import array
from itertools import accumulate, chain, repeat
from operator import add, sub
from pathlib import Path
from pickle import loads
from typing import NamedTuple

from ..lru import LRU

SUFFIX = ".cpost"
LONG = 256   # shorter lists cost a block or two of Whoosh's: not worth a copy
# The byte order is part of the format: the arrays are written as the machine has them.
MAGIC = f"clippings compact postings 2 {sys.byteorder}\n".encode()
TRAILER = struct.Struct("<QQ8s")   # directory offset, documents in the segment, END
END = b"cpostEND"
PLACE = struct.Struct("<QIII")   # offset, bytes of ids, bytes of codes, postings
MAX_WEIGHT = 1 << 23   # codes are 32-bit: weight << 8 | length byte


class Postings(NamedTuple):
    """One term's postings in one segment, deleted documents included (the evaluator
    drops them). Either `weights` (from Whoosh's blocks) or `codes` (weight * 256 +
    field-length byte, from a compact file) is set."""

    ids: array | list[int]
    weights: array | None = None
    codes: array | None = None

    def weight_values(self):
        return self.weights if self.weights is not None else (c >> 8 for c in self.codes)


def postings(reader, fieldname: str, btext: bytes) -> Postings | None:
    """The postings of `fieldname:btext` in one segment's `reader`; None without any."""
    if isinstance(btext, str):   # an expansion's terms may come as text
        btext = btext.encode("utf-8")
    segment = getattr(reader, "_segment", None)
    segment_id = segment.segment_id() if hasattr(segment, "segment_id") else None
    key = (segment_id, fieldname, btext)
    found = _decoded.get(key) if segment_id else None
    if found is not None:
        return found
    compact = _compact_file(reader, segment_id) if segment_id else None
    if compact is not None:
        try:
            found = compact.get(fieldname, btext)
        except (OSError, ValueError, struct.error, zlib.error):
            found = None   # damaged: Whoosh's blocks answer
    if found is None:
        if (fieldname, btext) not in reader:
            return None
        found = read_whoosh(reader, fieldname, btext)
    if segment_id:
        _decoded.put(key, found)
    return found


# -- Whoosh's own blocks --------------------------------------------------------------------

def read_whoosh(reader, fieldname: str, btext: bytes) -> Postings:
    """Document numbers and weights from Whoosh's posting blocks."""
    matcher = reader.postings(fieldname, btext)
    ids, weights = array("q"), array("f")
    blocks = _w3_blocks(matcher)
    if blocks is None:   # not Whoosh 3's on-disk postings: one posting at a time
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        return Postings(ids, weights)
    for count, block_ids, block_weights, _ in blocks:
        ids.extend(block_ids)
        if block_weights is None:
            weights.extend([1.0] * count)
        elif isinstance(block_weights, float):
            weights.extend([block_weights] * count)
        else:
            weights.extend(block_weights)
    return Postings(ids, weights)


def positions(reader, fieldname: str, btext: bytes) -> dict:
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


def _length_of_byte() -> list[float]:
    from whoosh.util.numeric import byte_to_length
    table = [float(byte_to_length(b)) for b in range(256)]
    table[0] = 1.0   # no length recorded: Whoosh's scorer falls back to 1
    return table


LENGTH_OF_BYTE = _length_of_byte()


def length_bytes(reader, fieldname: str) -> bytes:
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


# -- decoded posting lists, kept ------------------------------------------------------------

# Posting lists already decoded, by (segment, field, term), up to this many postings: a
# server answering page 2 of a search, or another search with a word in common, does not
# decode the same lists again. Segments never change, so a kept list stays right.
POSTINGS_KEPT = 2_000_000
_decoded = LRU(POSTINGS_KEPT, weigh=lambda found: len(found.ids),
               largest=POSTINGS_KEPT // 4)


def forget_decoded() -> None:
    """Drop every decoded posting list (benchmarks measure a first search with it)."""
    _decoded.clear()


# -- compact files --------------------------------------------------------------------------

class _CompactFile:
    """One segment's compact file, its directory read once: (field, term) -> where."""

    def __init__(self, path: Path, documents: int):
        self.file = open(path, "rb")   # closed when the last reader lets go of it
        fd = self.file.fileno()
        size = os.fstat(fd).st_size
        if size < len(MAGIC) + TRAILER.size or \
                os.pread(fd, len(MAGIC), 0) != MAGIC:
            raise ValueError("not a compact postings file")
        start, count, end = TRAILER.unpack(os.pread(fd, TRAILER.size, size - TRAILER.size))
        if end != END or count != documents or not len(MAGIC) <= start < size:
            raise ValueError("compact postings file of another segment or cut short")
        # Bytes for keys and values: a third of the time to load of tuples.
        self.directory: dict[bytes, bytes] = marshal.loads(
            os.pread(fd, size - TRAILER.size - start, start))
        if not isinstance(self.directory, dict):   # a damaged one may read as any value
            raise ValueError("compact postings file without a directory")

    def get(self, fieldname: str, btext: bytes) -> Postings | None:
        where = self.directory.get(_directory_key(fieldname, btext))
        if where is None:
            return None
        offset, id_bytes, code_bytes, count = PLACE.unpack(where)
        raw = os.pread(self.file.fileno(), id_bytes + code_bytes, offset)
        # A list, not an array: built 2.5 times faster, and its ints already exist
        # when the evaluator goes through it (twice).
        ids = list(accumulate(array("I", zlib.decompress(raw[:id_bytes]))))
        codes = array("I", zlib.decompress(raw[id_bytes:]))
        if len(ids) != count or len(codes) != count:
            raise ValueError("compact postings do not match their directory")
        return Postings(ids, codes=codes)


def _directory_key(fieldname: str, btext: bytes) -> bytes:
    return fieldname.encode() + b"\0" + btext


_compact_files = LRU(64)   # (folder, segment id) -> _CompactFile, or when found missing
RETRY_AFTER = 5.0   # seconds before a segment without a usable file is looked at again


def _compact_file(reader, segment_id: str) -> _CompactFile | None:
    """The segment's compact file, opened once per process; None when it has none
    usable. A server may open a new segment before `index` has written its file, so
    an absent one is looked for again after RETRY_AFTER seconds."""
    folder = getattr(getattr(reader, "_storage", None), "folder", None)
    if folder is None:
        return None
    key = (folder, segment_id)
    found = _compact_files.get(key)
    if found is None or isinstance(found, float) and \
            time.monotonic() - found > RETRY_AFTER:
        try:
            found = _CompactFile(Path(folder) / (segment_id + SUFFIX),
                                 reader.doc_count_all())
        except (OSError, ValueError, EOFError, TypeError, struct.error):
            found = time.monotonic()   # when it was found missing
        _compact_files.put(key, found)
    return None if isinstance(found, float) else found


def forget_compact_files() -> None:
    """Look for every segment's compact file again (tests, after writing them)."""
    _compact_files.clear()


def write_missing(ix, long: int = LONG, progress=None) -> int:
    """Write the compact file of each of `ix`'s segments that has none (the caller holds
    the index's write lock); returns how many were written. `progress(done, total)`
    counts the documents of those segments (a minute at 100,000 entries)."""
    folder = getattr(ix.storage, "folder", None)
    if folder is None:
        return 0
    folder = Path(folder)
    for leftover in folder.glob(".*" + SUFFIX + ".tmp"):   # from an interrupted write
        leftover.unlink(missing_ok=True)
    reader = ix.reader()
    try:
        todo = []
        for leaf, _ in reader.leaf_readers():
            segment = getattr(leaf, "_segment", None)
            if not hasattr(segment, "segment_id") or not hasattr(leaf, "_terms"):
                continue
            path = folder / (segment.segment_id() + SUFFIX)
            if not _complete(path, leaf.doc_count_all()):   # none, cut short, older
                todo.append((leaf, path))
        total = sum(leaf.doc_count_all() for leaf, _ in todo)
        done = 0
        for leaf, path in todo:
            size = leaf.doc_count_all()
            step = (lambda part, before=done, size=size: progress(
                before + int(size * part), total)) if progress else None
            _write(leaf, path, long, step)
            done += size
    finally:
        reader.close()
    return len(todo)


def _complete(path: Path, documents: int) -> bool:
    """A compact file of this version, written to the end, for this many documents."""
    try:
        _CompactFile(path, documents)
        return True
    except (OSError, ValueError, EOFError, TypeError, struct.error):
        return False


def _write(reader, path: Path, long: int, progress=None) -> None:
    """Every term of at least `long` documents whose weights are whole numbers (term
    counts; a boosted field's fractional weights stay in Whoosh's blocks).
    `progress(share)` is told the share of the postings written so far."""
    schema = reader.schema
    lengths: dict[str, bytes] = {}
    directory = {}
    # A leading dot: Whoosh's clean-up leaves the unfinished file alone.
    partial = path.with_name("." + path.name + ".tmp")
    with open(partial, "wb") as out:
        out.write(MAGIC)
        offset = len(MAGIC)
        terms = [(term, info.doc_frequency()) for term, info in reader._terms.items()
                 if info.doc_frequency() >= long]
        total, written = sum(count for _, count in terms) or 1, 0
        for (fieldname, btext), count in terms:
            written += count
            if progress and written * 50 // total != (written - count) * 50 // total:
                progress(written / total)   # every 2 %
            found = read_whoosh(reader, fieldname, btext)
            ids, weights = found.ids, found.weights
            if not ids or not all(map(float.is_integer, weights)) or \
                    max(weights) >= MAX_WEIGHT:
                continue
            if fieldname in schema and schema[fieldname].scorable:
                if fieldname not in lengths:
                    lengths[fieldname] = length_bytes(reader, fieldname)
                field_lengths = map(lengths[fieldname].__getitem__, ids)
            else:
                field_lengths = repeat(0)
            codes = array("I", map(add, map((256).__mul__, map(int, weights)),
                                   field_lengths))
            gaps = array("I", map(sub, ids, chain((0,), ids)))
            packed_ids = zlib.compress(gaps.tobytes(), 1)
            packed_codes = zlib.compress(codes.tobytes(), 1)
            out.write(packed_ids)
            out.write(packed_codes)
            directory[_directory_key(fieldname, btext)] = PLACE.pack(
                offset, len(packed_ids), len(packed_codes), len(ids))
            offset += len(packed_ids) + len(packed_codes)
        out.write(marshal.dumps(directory))
        out.write(TRAILER.pack(offset, reader.doc_count_all(), END))
    os.replace(partial, path)
