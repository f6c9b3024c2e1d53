"""The whoosh index: one document per section and per API entry; updates, removals and
ranked search with highlighted snippets."""

from __future__ import annotations

import functools
import hashlib
import html
import io
import itertools
import json
import pickle
import re
import shutil
import struct
import threading
import time
import zlib
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from whoosh import index
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3TermInfo
from whoosh.compat import dumps
from whoosh.fields import ID, STORED, TEXT, FieldType, Schema
from whoosh.formats import Existence, Frequency
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from mirror.files import write_atomic
from mirror.search.analysis import (
    WORD,
    MemoizedAnalyzer,
    analyze,
    symbol_analyzer,
    text_analyzer,
    vocabulary_analyzer,
)
from mirror.search.query import (
    FIELD_BOOSTS,
    GROUP_SIZE,
    HEADING_CANDIDATES,
    JOINS,
    K1,
    MAX_QUERY_WORDS,
    MEMBER_BOOST,
    PAGE_DOCS,
    PAGE_WEIGHT,
    PHRASE_CANDIDATES,
    PHRASE_CHARS,
    PREFIX_MIN,
    PREFIX_TERMS,
    PREFIX_WEIGHT,
    TEXT_FIELDS,
    B,
    run_query,
)
from mirror.stages import stage_version

if TYPE_CHECKING:  # the clean stage (lxml, nh3) is not imported by a search
    from mirror.clean.page import Page

# The index's format: bump when the schema changes. Together with the code that makes the index
# (`index_version`), it decides when the index is rebuilt from the stored pages.
INDEX_VERSION = "9"
SNIPPET_CHARS = 160
STATS_FILE = "stats.json"
_TOKEN = re.compile(WORD)


class IndexCodec(W3Codec):
    """whoosh 3's format, written faster: postings uncompressed (a fifth more disk, a third less
    writing time) and blocks without the field-length bounds whoosh's own scorers skip blocks
    with (the ranking here reads lengths from their column; looking each posting's up was a
    sixth of indexing). The index's table of segments names this class."""

    length_stats = False

    def __init__(self) -> None:
        super().__init__(compression=0)


class _PostingTable:
    """The postings of a segment being written: field -> term -> (documents, weights, values).
    Stands in for whoosh's sorting pool, so that the postings whoosh adds itself when it merges
    segments land here too: that happens at commit, after the writer's own documents, a segment
    at a time, so each term's postings still come in document order."""

    def __init__(self) -> None:
        self.fields: dict[str, dict[bytes, tuple[list[int], list[float], list[bytes]]]] = {}

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        field, term, doc, weight, value = item
        postings = self.fields.setdefault(field, {}).setdefault(term, ([], [], []))
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
                    postings = terms[raw] = ([], [], [])
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
        self, term: bytes, docs: list[int], weights: list[float], values: list[bytes]
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


class SortKey(ID):
    """A stored, sortable ID that has no terms: documents are ordered and told apart by it,
    never looked up by it (terms of their own, one per document, were a seventh of the
    index's terms)."""

    indexed = False


def make_schema() -> Schema:
    return Schema(
        # columns too (sortable): ranking orders and groups many documents by these
        key=SortKey(stored=True, sortable=True),  # url#anchor
        url=ID(stored=True, sortable=True),  # the page's source URL
        anchor=STORED,
        path=STORED,  # the page's site-relative path
        kind=STORED,  # section, or the symbol's kind
        # term counts only, no positions (phrases are matched in the stored text); the field
        # weights are applied when ranking (mirror/query.py)
        title=TEXT(analyzer=text_analyzer(), stored=True, phrase=False),
        # the heading, or the entry's name
        section=TEXT(analyzer=text_analyzer(), stored=True, phrase=False),
        symbols=TEXT(analyzer=symbol_analyzer(), phrase=False),
        text=TEXT(analyzer=text_analyzer(), stored=True, phrase=False),
        # the words as written, for typo correction: which pages (on their first document)
        words=FieldType(Existence(), analyzer=vocabulary_analyzer(), scorable=False),
    )


@dataclass(frozen=True, slots=True)
class Hit:
    url: str  # source URL with #anchor
    path: str  # site-relative path with #anchor
    title: str  # the page's title
    section: str  # the section's title or the symbol's name
    score: float
    snippet: str  # HTML-escaped text with the matched words in <mark>

    def to_json(self) -> dict[str, Any]:
        """The hit as `search --json` and `/api/search` give it."""
        return {
            "url": self.url,
            "path": self.path,
            "title": self.title,
            "section": self.section,
            "score": self.score,
            "snippet": self.snippet,
        }


def documents_for(page: Page, path: str) -> list[dict[str, str]]:
    """The index documents of one page: its sections, then its API entries."""
    docs = []
    seen: set[str] = set()
    names: dict[str, list[str]] = {}  # an API entry at a heading's anchor names that section
    for symbol in page.symbols:
        names.setdefault(symbol.anchor, []).append(symbol.name)
    for section in page.sections:
        key = f"{page.url}#{section.anchor}"
        if key in seen:  # two headings sharing an anchor: the first one owns it
            continue
        seen.add(key)
        docs.append(
            dict(
                key=key,
                url=page.url,
                anchor=section.anchor,
                path=path,
                kind="section",
                title=page.title,
                section=section.title or page.title,
                symbols=" ".join(names.get(section.anchor, ())),
                text=section.text,
                words="",
            )
        )
    for symbol in page.symbols:
        key = f"{page.url}#{symbol.anchor}"
        if key in seen:
            continue
        seen.add(key)
        docs.append(
            dict(
                key=key,
                url=page.url,
                anchor=symbol.anchor,
                path=path,
                kind=symbol.kind,
                title=page.title,
                section=symbol.name,
                symbols=symbol.name,
                text=symbol.text,
                words="",
            )
        )
    if docs:  # the page's vocabulary, once: spelling counts pages, and costs a third less
        texts = [page.title] + [f"{s.title}\n{s.text}" for s in page.sections]
        written = _TOKEN.findall("\n".join(texts + [s.name for s in page.symbols]))
        docs[0]["words"] = " ".join(dict.fromkeys(written))  # each once: presence is all it keeps
    return docs


class SearchIndex:
    """The whoosh index in `index_dir`, created on first use, with the statistics the ranking
    needs (`stats.json`, rewritten after every update)."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self._index: index.Index | None = None
        self._searcher: Any = None  # kept open between searches, refreshed when the index changes
        self._stats_cache: IndexStats | None = None
        self._columns: dict[str, Any] = {}  # column readers of the open searcher
        self._lock = threading.Lock()  # a whoosh searcher is not shared between threads

    @property
    def exists(self) -> bool:
        return index.exists_in(str(self.index_dir))

    def _open(self) -> index.Index:
        if self._index is None:
            if self.exists:
                self._index = index.open_dir(str(self.index_dir))
            else:
                self.index_dir.mkdir(parents=True, exist_ok=True)
                self._index = index.create_in(str(self.index_dir), make_schema())
        return self._index

    def clear(self) -> None:
        """Drop the whole index (it is rebuilt from the stored pages)."""
        self.close()
        self._index = None
        shutil.rmtree(self.index_dir, ignore_errors=True)

    def update(self, pages: Iterable[tuple[Page, str]], removed: Iterable[str] = ()) -> int:
        """Replace every document of each (page, site path) and drop removed URLs, in one commit.
        Returns the number of pages indexed."""
        return self.update_documents(
            ((page.url, documents_for(page, path)) for page, path in pages), removed
        )

    def update_documents(
        self, pages: Iterable[tuple[str, list[dict[str, str]]]], removed: Iterable[str] = ()
    ) -> int:
        """`update` with each page given as its URL and its `documents_for`."""
        ix = self._open()
        writer = _BulkSegmentWriter(ix, IndexCodec())
        count = 0
        try:
            for url in removed:
                writer.delete_by_term("url", url)
            for url, documents in pages:
                writer.delete_by_term("url", url)
                for doc in documents:
                    writer.add_document(**doc)
                count += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        self.close()  # the next search opens the new version
        with ix.searcher() as searcher:
            stats = collect_stats(searcher.reader())
        write_atomic(self.index_dir / STATS_FILE, json.dumps(stats.to_json()).encode())
        return count

    def close(self) -> None:
        """Release the open searcher, if any."""
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        self._stats_cache = None
        self._columns = {}

    def _current_searcher(self) -> Any:
        if self._searcher is None:
            self._searcher = self._open().searcher()
        elif not self._searcher.up_to_date():
            self._searcher = self._searcher.refresh()
            self._stats_cache = None
            self._columns = {}
        if self._stats_cache is None:
            self._stats_cache = self._stats()
        return self._searcher

    def _stats(self) -> IndexStats:
        try:
            return IndexStats.from_json(json.loads((self.index_dir / STATS_FILE).read_text()))
        except (OSError, ValueError, KeyError):
            with self._open().searcher() as searcher:
                return collect_stats(searcher.reader())

    def search(self, text: str, limit: int = 10) -> list[Hit]:
        """The best sections and API entries for `text`; never raises on odd input."""
        return list(self.query(text, limit).hits)

    def query(self, text: str, limit: int = 10) -> SearchResult:
        """The best sections and API entries for `text`, ranked by mirror.search.query (as the
        static search in the site ranks them), with the corrected query when words were
        misspelt."""
        if not self.exists:
            return SearchResult((), "")
        with self._lock:
            searcher = self._current_searcher()
            stats = self._stats_cache or self._stats()
            reader = searcher.reader()
            source = ReaderTerms(reader, stats, self._columns)
            ranked, plan = run_query(text, source, query_analyzers(), limit)
            terms = {t for lookups in plan.lookups for f, t, _ in lookups if f == "text"}
            hits = []
            for doc, score in ranked:
                fields = source.stored(doc)
                suffix = f"#{fields['anchor']}" if fields["anchor"] else ""
                hits.append(
                    Hit(
                        url=fields["url"] + suffix,
                        path=fields["path"] + suffix,
                        title=fields["title"],
                        section=fields["section"],
                        score=round(score, 4),
                        # from the text the site keeps, so that its snippets are the same
                        snippet=snippet(fields.get("text", "")[:STATIC_TEXT_CHARS], terms),
                    )
                )
            return SearchResult(tuple(hits), plan.suggestion)


@dataclass(frozen=True, slots=True)
class IndexUpdate:
    """What `update_and_export` did: pages indexed, the export if one was made, and timings."""

    indexed: int
    files: dict[str, bytes] | None  # `static_index_files`, or None when not exported
    index_seconds: float
    export_seconds: float


def update_and_export(
    index_dir: Path,
    pages: list[tuple[str, list[dict[str, str]]]] | None,
    removed: list[str],
    export: Literal["always", "if-changed", "never"],
) -> IndexUpdate:
    """Update the index in `index_dir` with `pages` and `removed` (None: leave it as it is), then
    export it: always, if that changed it, or never. One call, so that a build can run both in
    a worker process while it renders the site."""
    started = time.perf_counter()
    indexed = 0
    if pages is not None:
        indexed = SearchIndex(index_dir).update_documents(pages, removed)
    exporting = time.perf_counter()
    files = None
    if export == "always" or (export == "if-changed" and (indexed or removed)):
        files = static_index_files(index_dir)
    return IndexUpdate(indexed, files, exporting - started, time.perf_counter() - exporting)


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: tuple[Hit, ...]
    suggestion: str  # the query with misspelt words corrected ("did you mean"), or ""


@functools.cache
def query_analyzers() -> dict[str, Any]:
    """Each field's analysis of one query word."""
    text, symbols = text_analyzer(), symbol_analyzer()
    return {
        "symbols": lambda word: analyze(symbols, word),
        "section": lambda word: analyze(text, word),
        "title": lambda word: analyze(text, word),
        "text": lambda word: analyze(text, word),
    }


class ReaderTerms:
    """mirror.search.query's TermSource over a whoosh reader: live postings, completions from the
    lexicon, the spelling vocabulary, and stored fields."""

    def __init__(
        self, reader: Any, stats: IndexStats, columns: dict[str, Any] | None = None
    ) -> None:
        self.reader = reader
        self.documents = stats.documents
        self.average_lengths = dict(stats.average_lengths)
        self._postings: dict[tuple[str, str], list[tuple[int, float, int]]] = {}
        self._stored: dict[int, dict[str, Any]] = {}
        self._columns = {} if columns is None else columns  # readers, kept with the searcher

    def postings(self, field: str, term: str) -> list[tuple[int, float, int]]:
        key = (field, term)
        if key not in self._postings:
            length = self.reader.doc_field_length
            self._postings[key] = [
                (doc, weight, length(doc, field) or 0)
                for doc, weight in live_postings(self.reader, field, term)
            ]
        return self._postings[key]

    def completions(self, field: str, prefix: str, count: int) -> list[str]:
        terms = sorted(
            (raw.decode("utf-8") for raw in self.reader.expand_prefix(field, prefix)),
            key=lambda t: (len(t), t),
        )
        found: list[str] = []
        for term in terms:
            if len(found) == count:
                break
            if self.postings(field, term):
                found.append(term)
        return found

    def vocabulary(self, first: str) -> list[str]:
        return [raw.decode("utf-8") for raw in self.reader.expand_prefix("words", first)]

    def frequency(self, word: str) -> int:
        return vocabulary_frequency(self.reader, word)

    def stored(self, doc: int) -> dict[str, Any]:
        if doc not in self._stored:
            self._stored[doc] = self.reader.stored_fields(doc)
        return self._stored[doc]

    def _column(self, name: str) -> Any:
        if name not in self._columns:
            self._columns[name] = self.reader.column_reader(name)
        return self._columns[name]

    def order(self, doc: int) -> str:
        return str(self._column("key")[doc])

    def page(self, doc: int) -> str:
        return str(self._column("url")[doc])

    def phrase_text(self, doc: int) -> tuple[str, str]:
        fields = self.stored(doc)
        return fields["section"], fields.get("text", "")[:PHRASE_CHARS]


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Collection statistics for BM25F, over the live documents."""

    documents: int
    average_lengths: tuple[tuple[str, float], ...]  # (field, mean token count)

    def to_json(self) -> dict[str, Any]:
        return {"documents": self.documents, "average_lengths": dict(self.average_lengths)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexStats:
        lengths = data["average_lengths"]
        return cls(data["documents"], tuple((f, float(lengths[f])) for f in FIELD_BOOSTS))


def collect_stats(reader: Any) -> IndexStats:
    """Document count and mean field lengths (whoosh's stored lengths) of the live documents."""
    docs = list(reader.all_doc_ids())
    totals = {field: 0 for field in FIELD_BOOSTS}
    for doc in docs:
        for field in FIELD_BOOSTS:
            totals[field] += reader.doc_field_length(doc, field) or 0
    return stats_from_totals(len(docs), totals)


def stats_from_totals(count: int, totals: dict[str, int]) -> IndexStats:
    """The statistics of `count` documents whose lengths in each field add up to `totals`."""
    return IndexStats(
        documents=count,
        average_lengths=tuple(
            (f, (totals[f] / count) if count and totals[f] else 1.0) for f in FIELD_BOOSTS
        ),
    )


def vocabulary_frequency(reader: Any, word: str) -> int:
    """The number of live pages holding the spelling-vocabulary word `word`."""
    if not reader.has_deletions():  # every document is live: the term table has the count
        return int(reader.doc_frequency("words", word))
    return len(live_postings(reader, "words", word))


def vocabulary_counts(reader: Any) -> Iterator[tuple[str, int]]:
    """Each spelling-vocabulary word with the number of live pages holding it."""
    if reader.has_deletions():
        for word, postings in field_postings(reader, "words").items():
            yield word, len(postings)
    else:  # the term table in one pass
        for raw, info in reader.iter_field("words"):
            yield raw.decode("utf-8"), info.doc_frequency()


def field_postings(reader: Any, field: str) -> dict[str, list[tuple[int, float]]]:
    """Every term of `field` with the (document, weight) of its live documents, read segment by
    segment in term order (looking each term up in every segment, as `live_postings` does, was
    most of an export's time once an update had left two segments)."""
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
    found: list[tuple[int, float]] = []
    for leaf, offset in reader.leaf_readers():
        if getattr(leaf, "_terms", None) is not None and (field, term) in leaf:
            found += _segment_postings(leaf, offset, leaf.term_info(field, term))
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


def snippet(text: str, terms: set[str]) -> str:
    """About SNIPPET_CHARS of `text` around its first matching word, HTML-escaped, with the words
    whose stem is among `terms` in <mark>."""
    if not text:
        return ""
    text_terms = query_analyzers()["text"]
    known: dict[str, bool] = {}
    # Stemming only changes a word's ending, so a word whose first two letters start no term
    # cannot match: skip analysing it (most words of a long section).
    openings = {t[:2] for t in terms}

    def matches(word: str) -> bool:
        if word not in known:
            known[word] = word[:2].lower() in openings and any(
                term in terms for term in text_terms(word)
            )
        return known[word]

    first = next((m.start() for m in _TOKEN.finditer(text) if matches(m.group(0))), None)
    start = max(0, first - SNIPPET_CHARS // 3) if first is not None else 0
    if start and first is not None:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    out = ["… " if start else ""]
    position = start
    for match in _TOKEN.finditer(text, start, end):
        if matches(match.group(0)):
            out.append(html.escape(text[position : match.start()], quote=False))
            out.append(f"<mark>{html.escape(match.group(0), quote=False)}</mark>")
            position = match.end()
    out.append(html.escape(text[position:end], quote=False))
    if end < len(text):
        out.append(" …")
    return "".join(out)


# -- the static search index, for the site's search.js --------------------------------------

FIELD_CODES = {"symbols": "y", "section": "s", "title": "t", "text": "x"}
STATIC_TEXT_CHARS = PHRASE_CHARS  # of each section's text kept for snippets and phrases
TEXT_BLOCK = 16  # documents per snippet-text file
SHARD_SPLIT_BYTES = 60_000  # a two-character term shard larger than this is split by three


def shard_name(term: str, chars: int = 2, kind: str = "t") -> str:
    """The file of the terms (`t`) or vocabulary words (`v`) starting like `term`: its first
    characters, made file-name safe."""
    prefix = term[:chars]
    safe = "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):x}" for c in prefix)
    return f"{kind}-{safe.lower()}.js"


def shard_for(term: str, split: frozenset[str] | set[str]) -> str:
    """The file holding `term`: by two characters, or three where that shard was split."""
    name = shard_name(term)
    return shard_name(term, 3) if name in split else name


def text_block_name(doc: int) -> str:
    """The file with the snippet text of document number `doc`."""
    return f"s-{doc // TEXT_BLOCK}.js"


def _js_call(function: str, *args: Any) -> bytes:
    payload = ",".join(json.dumps(a, ensure_ascii=False, separators=(",", ":")) for a in args)
    return f"DocmirrorSearch.{function}({payload});\n".encode()


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def export_settings() -> dict[str, Any]:
    """The export's format version and the ranking settings search.js reads from meta.js: an
    exported index made with other ones is exported again (`export_key`)."""
    return {
        "version": 4,
        "B": B,
        "K1": K1,
        "prefixMin": PREFIX_MIN,
        "prefixTerms": PREFIX_TERMS,
        "prefixWeight": PREFIX_WEIGHT,
        "groupSize": GROUP_SIZE,
        "pageWeight": PAGE_WEIGHT,
        "pageDocs": PAGE_DOCS,
        "phraseCandidates": PHRASE_CANDIDATES,
        "headingCandidates": HEADING_CANDIDATES,
        "maxWords": MAX_QUERY_WORDS,
        "joins": list(JOINS),
        "textFields": list(TEXT_FIELDS),
        "fields": list(FIELD_BOOSTS),
        "boosts": [FIELD_BOOSTS[f] for f in FIELD_BOOSTS],
        "memberBoost": MEMBER_BOOST,
        "codes": [FIELD_CODES[f] for f in FIELD_BOOSTS],
    }


def export_key() -> str:
    """A digest of `export_settings()` and of the exporting code, kept in the state to tell a
    stale export."""
    settings = {**export_settings(), "code": stage_version("export")}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def index_version() -> str:
    """What the index was made with: its format (`INDEX_VERSION`) and the indexing code, kept in
    the state; an index made with anything else is made again."""
    return f"{INDEX_VERSION}+{stage_version('index')}"


class _ExportContent(Protocol):
    """What the static export is made of: the live documents in key order, numbered from 0, with
    their stored fields; per field, each document's (whoosh-stored) length and each term's
    (document, weight) postings in document order; the spelling vocabulary with the number of
    documents holding each word; the collection statistics."""

    stored: list[dict[str, Any]]

    def field(self, name: str) -> tuple[list[int], dict[str, list[tuple[int, float]]]]: ...

    def vocabulary(self) -> Iterable[tuple[str, int]]: ...

    def stats(self) -> IndexStats: ...


class _ReaderContent:
    """The export's content read back from a whoosh index (any number of segments, deletions)."""

    def __init__(self, reader: Any, stats: IndexStats) -> None:
        live = sorted(
            ((reader.stored_fields(doc), doc) for doc in reader.all_doc_ids()),
            key=lambda item: item[0]["key"],
        )
        self.stored = [fields for fields, _ in live]
        self._docs = [doc for _, doc in live]
        self._dense = {doc: i for i, doc in enumerate(self._docs)}  # whoosh's number -> ours
        self._reader = reader
        self._stats = stats

    def field(self, name: str) -> tuple[list[int], dict[str, list[tuple[int, float]]]]:
        reader = self._reader
        dense = self._dense
        lengths = [reader.doc_field_length(doc, name) or 0 for doc in self._docs]
        postings = {
            term: sorted((dense[d], w) for d, w in found)
            for term, found in field_postings(reader, name).items()
        }
        return lengths, postings

    def vocabulary(self) -> Iterable[tuple[str, int]]:
        return vocabulary_counts(self._reader)

    def stats(self) -> IndexStats:
        return self._stats


class _DocumentsContent:
    """The export's content of an index holding exactly `documents`, analysed here as the index
    writer analyses them (`_term_counts`), so that it matches what reading the written index
    back gives without waiting for it."""

    def __init__(self, documents: Iterable[dict[str, str]]) -> None:
        self._schema = make_schema()
        stored = [name for name, field in self._schema.items() if field.stored]
        self._documents = sorted(documents, key=lambda d: d["key"])
        self.stored = [
            {name: d[name] for name in stored if d.get(name) is not None} for d in self._documents
        ]
        self._totals: dict[str, int] = {}

    def field(self, name: str) -> tuple[list[int], dict[str, list[tuple[int, float]]]]:
        field = self._schema[name]
        boost = field.format.field_boost
        lengths: list[int] = []
        postings: dict[str, list[tuple[int, float]]] = {}
        for i, document in enumerate(self._documents):
            counts = _term_counts(field, document.get(name) or "")
            for term, frequency in counts.items():
                # the same weight as whoosh's; an int (no object of its own) where it is one
                weight = frequency if boost == 1 else frequency * boost
                postings.setdefault(term, []).append((i, weight))
            length = sum(counts.values())  # whoosh keeps a length to one byte's precision
            lengths.append(byte_to_length(length_to_byte(length)) if length else 0)
        self._totals[name] = sum(lengths)
        return lengths, postings

    def vocabulary(self) -> Iterable[tuple[str, int]]:
        field = self._schema["words"]
        counts = Counter(
            term for d in self._documents for term in _term_counts(field, d.get("words") or "")
        )
        return sorted(counts.items(), key=lambda item: item[0].encode("utf-8"))

    def stats(self) -> IndexStats:
        for name in FIELD_BOOSTS:
            if name not in self._totals:
                self.field(name)
        return stats_from_totals(len(self._documents), self._totals)


def static_index_files(index_dir: Path) -> dict[str, bytes]:
    """The index in `index_dir` as the site's search reads it (`static_files`)."""
    search_index = SearchIndex(index_dir)
    if not search_index.exists:
        return {}
    with search_index._open().searcher() as searcher:
        return static_files(_ReaderContent(searcher.reader(), search_index._stats()))


def static_index_files_for(documents: Iterable[dict[str, str]]) -> dict[str, bytes]:
    """What `static_index_files` gives once an index is rebuilt from `documents` alone, made
    from the documents themselves: a build exports a rebuilt index in one process while
    another writes it."""
    return static_files(_DocumentsContent(documents))


def static_files(content: _ExportContent) -> dict[str, bytes]:
    """The index as JavaScript files loaded with <script> (file:// forbids fetch): `meta.js`
    (pages and where their documents start, collection statistics), term shards `t-*.js` with
    each term's IDF and postings (document, weight, field length; documents delta-coded), and
    `s-*.js` with the text of blocks of documents for snippets. A query loads meta.js, the
    shards of its terms and the text blocks of its top hits. Documents are numbered in key
    order and statistics cover live documents only, so the files depend on the indexed
    content alone, not on how the index was built up."""
    pages: list[list[Any]] = []  # [path, title, url, first document]
    blocks: dict[str, dict[int, list[str]]] = {}
    for i, fields in enumerate(content.stored):
        if not pages or pages[-1][0] != fields["path"]:
            pages.append([fields["path"], fields["title"], fields["url"], i])
        text = fields.get("text", "")[:STATIC_TEXT_CHARS]
        entry = [fields["anchor"], fields["section"], text]
        blocks.setdefault(text_block_name(i), {})[i] = entry

    terms: dict[str, list[float]] = {}
    for field, code in FIELD_CODES.items():
        lengths, by_term = content.field(field)
        for term, postings in by_term.items():
            entry_numbers: list[float] = []
            previous = 0
            for doc, weight in postings:
                entry_numbers += [doc - previous, _number(weight), lengths[doc]]
                previous = doc
            terms[f"{code}:{term}"] = entry_numbers
        del by_term
    vocabulary: dict[str, dict[str, int]] = {}
    for word, frequency in content.vocabulary():
        if frequency:
            vocabulary.setdefault(shard_name(word, 1, "v"), {})[word] = frequency
    stats = content.stats()

    by_two: dict[str, dict[str, list[float]]] = {}
    for key, numbers in terms.items():
        by_two.setdefault(shard_name(key[2:]), {})[key] = numbers
    split = {
        name
        for name, group in by_two.items()
        if len(group) > 1 and len(_js_call("loadShard", name, group)) > SHARD_SPLIT_BYTES
    }
    shards: dict[str, dict[str, list[float]]] = {}
    for key, numbers in terms.items():
        shards.setdefault(shard_for(key[2:], split), {})[key] = numbers

    averages = dict(stats.average_lengths)
    meta = {
        **export_settings(),
        "vocabulary": sorted(vocabulary),
        "average": [averages[f] for f in FIELD_BOOSTS],
        "documents": stats.documents,
        "pages": pages,
        "textBlock": TEXT_BLOCK,
        "shards": sorted(shards),
        "split": sorted(split),
    }
    files = {"meta.js": _js_call("loadMeta", meta)}
    for name, group in shards.items():
        files[name] = _js_call("loadShard", name, dict(sorted(group.items())))
    for name, entries in blocks.items():
        files[name] = _js_call("loadText", name, {str(k): v for k, v in entries.items()})
    for name, words in vocabulary.items():
        files[name] = _js_call("loadVocabulary", name, dict(sorted(words.items())))
    return files
