"""whoosh behind one door: the only code that reaches into whoosh's private internals, a faster
segment writer and a direct decoder of posting blocks, used only with the whoosh versions they
were verified against (`VERIFIED_WHOOSH`; tests/test_index.py compares both with whoosh's own
writer and matchers). With any other version, or `DOCMIRROR_WHOOSH_FAST=0`, whoosh's public
writer and matchers do the same work, slower, with the same results."""

from __future__ import annotations

import io
import itertools
import os
import pickle
import struct
import zlib
from array import array
from collections import Counter
from typing import Any

import whoosh
from whoosh import index
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3TermInfo
from whoosh.compat import dumps
from whoosh.fields import FieldType
from whoosh.formats import Existence, Frequency
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.writing import SegmentWriter

from mirror.search.analysis import MemoizedAnalyzer

# The whoosh versions whose writer, codec and posting blocks this module was checked against.
VERIFIED_WHOOSH = ((2, 7, 5),)
FAST_PATH_VARIABLE = "DOCMIRROR_WHOOSH_FAST"  # "0" turns the fast path off


def fast_path() -> bool:
    """Whether the code reaching into whoosh's internals may run: a verified whoosh, and not
    turned off in the environment."""
    if os.environ.get(FAST_PATH_VARIABLE, "1") == "0":
        return False
    return tuple(whoosh.__version__[:3]) in VERIFIED_WHOOSH


def segment_writer(ix: index.Index) -> SegmentWriter:
    """A writer for one update of `ix`: the bulk writer on the fast path, else whoosh's own."""
    if fast_path():
        return _BulkSegmentWriter(ix, IndexCodec())
    writer: SegmentWriter = ix.writer()
    return writer


class IndexCodec(W3Codec):
    """whoosh 3's format, written faster: postings uncompressed (a fifth more disk, a third less
    writing time) and blocks without the field-length bounds whoosh's own scorers skip blocks
    with (the ranking here reads lengths from their column; looking each posting's up was a
    sixth of indexing). The index's table of segments names this class."""

    length_stats = False

    def __init__(self) -> None:
        super().__init__(compression=0)


# a term's postings: documents, weights (as whoosh's writer has them, float64) and values, the
# numbers in arrays: a fifth of the memory of lists of int and float objects
_Postings = tuple["array[int]", "array[float]", list[bytes]]


def _new_postings() -> _Postings:
    return array("I"), array("d"), []


class _PostingTable:
    """The postings of a segment being written: field -> term -> (documents, weights, values).
    Stands in for whoosh's sorting pool, so that the postings whoosh adds itself when it merges
    segments land here too: that happens at commit, after the writer's own documents, a segment
    at a time, so each term's postings still come in document order."""

    def __init__(self) -> None:
        self.fields: dict[str, dict[bytes, _Postings]] = {}

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        field, term, doc, weight, value = item
        terms = self.fields.setdefault(field, {})
        postings = terms.get(term)
        if postings is None:
            postings = terms[term] = _new_postings()
        postings[0].append(doc)
        postings[1].append(weight)
        postings[2].append(value or b"")

    def cleanup(self) -> None:
        pass


_PACKED_FREQUENCY: dict[int, bytes] = {}


_BLOCK_MAGIC = WHOOSH3_HEADER_MAGIC


_BLOCK_SIZE = struct.Struct("!i")  # before each block: its size, negative for the last


_TERM_INFO = W3TermInfo._struct


class _BulkSegmentWriter(SegmentWriter):
    """whoosh's segment writer, writing the same files with a quarter to a third less CPU
    (measured side by side on 317 pages): whoosh puts every posting through a sorting pool of
    tuples, then hands them to the codec one at a time; this one counts a field's terms at once
    (the memoized analyzers' own terms), keeps each term's postings in lists, and gives the codec
    whole blocks. Only for schemas without term vectors or separate spelling fields, and
    documents without boosts (this index has neither)."""

    pool: Any  # whoosh's, replaced by the table

    def __init__(self, ix: index.Index, codec: W3Codec) -> None:
        if any(f.vector or f.separate_spelling() for _, f in ix.schema.items()):
            raise TypeError("_BulkSegmentWriter: a schema with term vectors or spelling fields")
        super().__init__(ix, codec=codec)
        self.pool.cleanup()  # whoosh's pool, unused
        self.pool = self._table = _PostingTable()

    def add_document(self, **fields: Any) -> None:
        self._check_state()
        schema = self.schema
        doc = self.docnum
        writer = self.perdocwriter
        writer.start_doc(doc)
        for name in sorted(fields):
            value = fields[name]
            if value is None:
                continue
            field = schema[name]
            length = self._add_postings(name, field, value, doc) if field.indexed else 0
            writer.add_field(name, field, value if field.stored else None, length)
            if field.column_type:
                writer.add_column_value(name, field.column_type, field.to_column_value(value))
        writer.finish_doc()
        self._added = True
        self.docnum += 1

    def _add_postings(self, name: str, field: FieldType, value: Any, doc: int) -> int:
        """Add `doc`'s postings of one field; its length (terms counted) if scorable, else 0."""
        terms = self._table.fields.setdefault(name, {})
        length = 0
        format_ = field.format
        if isinstance(field.analyzer, MemoizedAnalyzer) and type(format_) in (Frequency, Existence):
            boost = format_.field_boost
            counts = type(format_) is Frequency
            for term, frequency in _term_counts(field, value).items():
                raw = term.encode("utf-8")
                postings = terms.get(raw)
                if postings is None:
                    postings = terms[raw] = _new_postings()
                postings[0].append(doc)
                if counts:
                    postings[1].append(frequency * boost)
                    packed = _PACKED_FREQUENCY.get(frequency)
                    if packed is None:
                        packed = _PACKED_FREQUENCY[frequency] = pack_uint(frequency)
                    postings[2].append(packed)
                    length += frequency
                else:
                    postings[1].append(boost)
                    postings[2].append(b"")
                    length += 1
        else:  # whoosh's own analysis (the ID fields)
            for raw, frequency, weight, packed in field.index(value):
                self._table.add((name, raw, doc, weight, packed))
                length += frequency
        return length if field.scorable else 0

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        fields = self.fieldwriter
        for name in sorted(self._table.fields):
            terms = self._table.fields[name]
            if not terms:  # as whoosh's writer: a field without terms is not in the term table
                continue
            fields.start_field(name, self.schema[name])
            postings = fields._postwriter
            size = postings._blocklimit
            one_block = _OneBlockTerms(fields)
            for term in sorted(terms):
                docs, weights, values = terms[term]
                if len(docs) <= size:  # most terms: written here at once
                    one_block.write(term, docs, weights, values)
                    continue
                fields.start_term(term)
                for start in range(0, len(docs), size):
                    block = weights[start : start + size]
                    postings._ids = array("I", docs[start : start + size])
                    postings._weights = array("f", block)
                    postings._values = [v for v in values[start : start + size] if v]
                    postings._maxweight = max(block)
                    if start + size < len(docs):  # the last block is written by finish_term
                        postings._write_block()
                fields.finish_term()
            fields.finish_field()
        fields.close()


class _OneBlockTerms:
    """Writes a term whose postings fit in one block as whoosh 3's field writer would through
    start_term, a block and finish_term (the same bytes in the postings file and the term
    table), with a handful of calls instead of some thirty: that machinery was most of the
    time spent writing a segment."""

    def __init__(self, fields: Any) -> None:
        self._postfile = fields._postfile.file
        self._terms = fields._tindex
        self._field_id = pack_ushort(fields._fieldid)
        self._value_size = fields._format.fixed_value_size()

    def write(
        self, term: bytes, docs: array[int], weights: array[float], values: list[bytes]
    ) -> None:
        # the block (W3PostingsWriter._write_block): ids delta-coded, weights as float32
        # minified, values by the format's size; then its info; length negative: the last
        stored = array("f", weights)
        first = stored[0]
        if all(w == 1.0 for w in stored):
            mini_weights: Any = None
        elif all(w == first for w in stored):
            mini_weights = first
        else:
            mini_weights = tuple(stored)
        kept = [v for v in values if v]
        size = self._value_size
        mini_values = tuple(kept) if size is None or size < 0 else b"".join(kept) if size else None
        previous = 0
        deltas = []
        for doc in docs:
            deltas.append(doc - previous)
            previous = doc
        data = dumps((tuple(deltas), mini_weights, mini_values), 2)
        top = max(weights)
        info = dumps((len(docs), docs[-1], top, 0, 0, 0), 2)  # no compression, no lengths
        postfile = self._postfile
        offset = postfile.tell()
        postfile.write(b"".join((_BLOCK_MAGIC, pack_int(-(len(info) + len(data))), info, data)))
        # the term's info (W3TermInfo.to_bytes): not inlined, weight, documents, min and max
        # length bytes, max weight, first and last document, where its postings are
        terminfo = (
            _TERM_INFO.pack(False, sum(stored), len(docs), 0, 0, max(0, top), docs[0], docs[-1])
            + pack_long(offset)
            + pack_int(postfile.tell() - offset)
        )
        self._terms.add(self._field_id + term, terminfo)


def _term_counts(field: FieldType, value: str) -> Counter[str]:
    """How many times each of its terms is in `value`, as a field with a memoized analyzer
    indexes it."""
    return Counter(field.analyzer.index_terms(value))


def field_postings(reader: Any, field: str) -> dict[str, list[tuple[int, float]]]:
    """Every term of `field` with the (document, weight) of its live documents, read segment by
    segment in term order (looking each term up in every segment, as `live_postings` does, was
    most of an export's time once an update had left two segments)."""
    if not fast_path():
        return _matcher_field_postings(reader, field)
    found: dict[str, list[tuple[int, float]]] = {}
    for leaf, offset in reader.leaf_readers():
        terms = getattr(leaf, "_terms", None)
        if terms is None:  # the reader of an index with no segment: no terms
            continue
        for (name, raw), info in terms.items_from(field, b""):
            if name != field:
                break
            live = _segment_postings(leaf, offset, info)
            if live:
                found.setdefault(raw.decode("utf-8"), []).extend(live)
    return found


def live_postings(reader: Any, field: str, term: str) -> list[tuple[int, float]]:
    """(document number, weight) of the live documents holding `term` in `field`."""
    if not fast_path():
        return _matcher_postings(reader, field, term)
    found: list[tuple[int, float]] = []
    for leaf, offset in reader.leaf_readers():
        if getattr(leaf, "_terms", None) is not None and (field, term) in leaf:
            found += _segment_postings(leaf, offset, leaf.term_info(field, term))
    return found


def _matcher_field_postings(reader: Any, field: str) -> dict[str, list[tuple[int, float]]]:
    """`field_postings` through whoosh's public reader and matchers."""
    found: dict[str, list[tuple[int, float]]] = {}
    for raw in reader.lexicon(field):
        term = raw.decode("utf-8")
        live = _matcher_postings(reader, field, term)
        if live:
            found[term] = live
    return found


def _matcher_postings(reader: Any, field: str, term: str) -> list[tuple[int, float]]:
    """`live_postings` through whoosh's public matcher, one posting at a time."""
    if (field, term) not in reader:
        return []
    found: list[tuple[int, float]] = []
    matcher = reader.postings(field, term)
    while matcher.is_active():
        if not reader.is_deleted(matcher.id()):
            found.append((matcher.id(), matcher.weight()))
        matcher.next()
    return found


def _segment_postings(leaf: Any, offset: int, info: Any) -> list[tuple[int, float]]:
    """A term's postings in the segment of `leaf` (its term info `info`), without its deleted
    documents, numbered as in the whole index (the segment's documents start at `offset`)."""
    postings = _term_postings(leaf._terms._postfile, info)
    if not leaf.has_deletions():
        return [(d + offset, w) for d, w in postings]
    deleted = leaf.deleted_docs_set
    return [(d + offset, w) for d, w in postings if d not in deleted]


def _term_postings(postfile: Any, info: Any) -> list[tuple[int, float]]:
    """The (document, weight) postings of one term of a whoosh 3 segment, its blocks read and
    decoded as whoosh's W3LeafMatcher reads them (see `_OneBlockTerms` for their layout), without
    setting a matcher up for every term (that was most of exporting an updated index), nor
    reading one posting at a time through the matcher API (several times slower)."""
    if info.is_inlined():
        ids, weights, _ = info.inlined_postings()
        return list(zip(ids, weights, strict=True))
    # whoosh reads a term's length back as a tuple; its blocks say where the postings end
    start, _ = info.extent()
    if postfile.get(start, len(_BLOCK_MAGIC)) != _BLOCK_MAGIC:
        raise ValueError(f"not a whoosh 3 posting list at {start}")
    postings: list[tuple[int, float]] = []
    position = start + len(_BLOCK_MAGIC)
    last = False
    while not last:
        (size,) = _BLOCK_SIZE.unpack(postfile.get(position, _BLOCK_SIZE.size))
        last = size < 0  # the last block's size is negative
        block = io.BytesIO(postfile.get(position + _BLOCK_SIZE.size, abs(size)))
        position += _BLOCK_SIZE.size + abs(size)
        count, _, _, compression, _, _ = pickle.load(block)  # the block's info, then its data
        payload = block.read()
        deltas, weights, _ = pickle.loads(zlib.decompress(payload) if compression else payload)
        if weights is None or isinstance(weights, float):  # all the same (None: all 1.0)
            weights = [1.0 if weights is None else weights] * count
        postings += zip(itertools.accumulate(deltas), weights, strict=True)
    return postings
