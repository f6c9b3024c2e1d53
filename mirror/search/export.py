"""The static search index: the whoosh index (or the documents it is made from) exported as small
JavaScript files the site loads from file://, so that a query loads only what it needs."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mirror.search.analysis import analysis_settings
from mirror.search.query import (
    CORRECTION_EDITS,
    CORRECTION_MIN_CHARS,
    CORRECTION_SHORT_CHARS,
    DEFAULT_LIMIT,
    FIELD_BOOSTS,
    GROUP_SIZE,
    HEADING_CANDIDATES,
    JOIN_WIDTHS,
    JOINS,
    K1,
    MAX_QUERY_WORDS,
    MEMBER_BOOST,
    PAGE_DOCS,
    PAGE_WEIGHT,
    PHRASE_CANDIDATES,
    PREFIX_MIN,
    PREFIX_TERMS,
    PREFIX_WEIGHT,
    QUOTE,
    TEXT_FIELDS,
    TYPED_NAME_WORDS,
    B,
)
from mirror.search.snippets import ELLIPSIS, SNIPPET_BEFORE, SNIPPET_CHARS, STATIC_TEXT_CHARS
from mirror.stages import stage_version

if TYPE_CHECKING:  # whoosh: imported where the index is read, not by a build that needs none
    from mirror.search.index import IndexStats


@dataclass(frozen=True, slots=True)
class IndexUpdate:
    """What `update_and_export` did: pages indexed, the export if one was made, and timings."""

    indexed: int
    files: dict[str, bytes] | None  # `static_index_files`, or None when not exported
    index_seconds: float
    export_seconds: float


def update_and_export(
    index_dir: Path,
    pages: Iterable[tuple[str, list[dict[str, str]]]] | None,
    removed: list[str],
    export: Literal["always", "if-changed"],
) -> IndexUpdate:
    """Update the index in `index_dir` with `pages` (each page's URL and documents; None: leave
    it as it is) and `removed`, then export it: always, or if that changed it. One call, so
    that a build can run both in a worker process while it renders the site."""
    started = time.perf_counter()
    indexed = 0
    if pages is not None:
        from mirror.search.index import SearchIndex

        indexed = SearchIndex(index_dir).update_documents(pages, removed)
    exporting = time.perf_counter()
    files = None
    if export == "always" or (export == "if-changed" and (indexed or removed)):
        files = static_index_files(index_dir)
    return IndexUpdate(indexed, files, exporting - started, time.perf_counter() - exporting)


# the term keys of the exported shards: `code:term`
FIELD_CODES = {"symbols": "y", "section": "s", "title": "t", "text": "x"}


TEXT_BLOCK = 4  # documents per snippet-text file (up to STATIC_TEXT_CHARS each)
HEADING_BLOCK = 16  # documents per heading file (anchor, heading): for hits and candidates
PAGE_BLOCK = 16  # pages per page file (path, title, URL), loaded for the hits shown

# the files' kinds: the first letter of their names
TERMS, VOCABULARY, TEXTS, PAGES, HEADINGS = "t", "v", "s", "p", "h"
SHARD_CHARS = 2  # a term's file: by its first characters, ...
SPLIT_SHARD_CHARS = 3  # ... or by more where that file was split
VOCABULARY_CHARS = 1  # a vocabulary word's file: by its first letter, which its typos share
SHARD_SPLIT_BYTES = 60_000  # a term shard larger than this is split by SPLIT_SHARD_CHARS


def shard_name(term: str, chars: int = SHARD_CHARS, kind: str = TERMS) -> str:
    """The file of the terms (TERMS) or vocabulary words (VOCABULARY) starting like `term`: its
    first characters, made file-name safe."""
    prefix = term[:chars]
    safe = "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):x}" for c in prefix)
    return f"{kind}-{safe.lower()}.js"


def shard_for(term: str, split: frozenset[str] | set[str]) -> str:
    """The file holding `term`: by SHARD_CHARS characters, or SPLIT_SHARD_CHARS where that shard
    was split."""
    name = shard_name(term)
    return shard_name(term, SPLIT_SHARD_CHARS) if name in split else name


def text_block_name(doc: int) -> str:
    """The file with the snippet text of document number `doc`."""
    return f"{TEXTS}-{doc // TEXT_BLOCK}.js"


def heading_block_name(doc: int) -> str:
    """The file with the anchor and heading of document number `doc`."""
    return f"{HEADINGS}-{doc // HEADING_BLOCK}.js"


def page_block_name(page: int) -> str:
    """The file with the path, title and URL of page number `page`."""
    return f"{PAGES}-{page // PAGE_BLOCK}.js"


def _shard_key(name: str) -> str:
    """A term shard's name as meta.js lists it: `t-ab.js` -> `ab`."""
    return name[len(TERMS) + 1 : -len(".js")]


def _js_call(function: str, *args: Any) -> bytes:
    payload = ",".join(_json(a) for a in args)
    return f"DocmirrorSearch.{function}({payload});\n".encode()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _shard_file(name: str, group: dict[str, str]) -> bytes:
    """A term shard's file, as `_js_call("loadShard", name, terms)` writes it, from each term's
    postings already as JSON."""
    body = ",".join(f"{_json(key)}:{group[key]}" for key in sorted(group))
    return f"DocmirrorSearch.loadShard({_json(name)},{{{body}}});\n".encode()


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def export_settings() -> dict[str, Any]:
    """The export's format version and the search's rules that search.js and analysis.js read
    from meta.js, each defined once on the Python side (mirror.search.query, .snippets,
    .analysis and this module): an exported index made with other ones is exported again
    (`export_key`)."""
    return {
        "version": 6,
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
        "joinWidths": list(JOIN_WIDTHS),
        "typedNameWords": TYPED_NAME_WORDS,
        "quote": QUOTE,
        "correctionMinChars": CORRECTION_MIN_CHARS,
        "correctionShortChars": CORRECTION_SHORT_CHARS,
        "correctionEdits": list(CORRECTION_EDITS),
        "limit": DEFAULT_LIMIT,
        "snippetChars": SNIPPET_CHARS,
        "snippetBefore": SNIPPET_BEFORE,
        "ellipsis": ELLIPSIS,
        "kinds": {
            "terms": TERMS,
            "vocabulary": VOCABULARY,
            "texts": TEXTS,
            "pages": PAGES,
            "headings": HEADINGS,
        },
        "shardChars": SHARD_CHARS,
        "splitShardChars": SPLIT_SHARD_CHARS,
        "vocabularyChars": VOCABULARY_CHARS,
        "analysis": analysis_settings(),
    }


def export_key() -> str:
    """A digest of `export_settings()` and of the exporting code, kept in the state to tell a
    stale export."""
    settings = {**export_settings(), "code": stage_version("export")}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


class _ReaderContent:
    """What the static export is made of, read back from a whoosh index (any number of segments,
    deletions): the live documents in key order, numbered from 0, with their stored fields; per
    field, each document's (whoosh-stored) length and each term's (document, weight) postings
    in document order; the spelling vocabulary with the number of documents holding each word;
    the collection statistics."""

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
        from mirror.search.whoosh_fast import field_postings

        reader = self._reader
        dense = self._dense
        lengths = [reader.doc_field_length(doc, name) or 0 for doc in self._docs]
        postings = {
            term: sorted((dense[d], w) for d, w in found)
            for term, found in field_postings(reader, name).items()
        }
        return lengths, postings

    def vocabulary(self) -> Iterable[tuple[str, int]]:
        from mirror.search.index import vocabulary_counts

        return vocabulary_counts(self._reader)

    def stats(self) -> IndexStats:
        return self._stats


def static_index_files(index_dir: Path) -> dict[str, bytes]:
    """The index in `index_dir` as the site's search reads it (`static_files`)."""
    from mirror.search.index import SearchIndex

    search_index = SearchIndex(index_dir)
    if not search_index.exists:
        return {}
    with search_index._open().searcher() as searcher:
        return static_files(_ReaderContent(searcher.reader(), search_index._stats()))


def static_files(content: _ReaderContent) -> dict[str, bytes]:
    """The index as JavaScript files loaded with <script> (file:// forbids fetch): `meta.js`
    (the rules, collection statistics, where each page's documents start and its source, the
    names of the other files), term shards `t-*.js` with each term's postings (document,
    weight, field length; documents delta-coded), `h-*.js` with the anchor and heading of
    blocks of documents, `s-*.js` with the text of smaller blocks for snippets, `p-*.js` with
    the path, title and URL of blocks of pages, and `v-*.js` with the spelling vocabulary. A
    query loads meta.js (a few bytes per page), the shards of its terms, and the heading, text
    and page blocks of its hits and of the candidates checked for headings and phrases.
    Documents are numbered in key order and statistics cover live documents only, so the files
    depend on the indexed content alone, not on how the index was built up."""
    starts: list[int] = []  # each page's first document, delta-coded
    page_blocks: dict[str, dict[int, list[str]]] = {}
    sources: list[str] = []  # the sources' names, in order of their first page
    page_sources: list[int] = []  # runs of pages of one source: [first page, source number]...
    path = None
    blocks: dict[str, dict[int, str]] = {}
    headings: dict[str, dict[int, list[str]]] = {}
    for i, fields in enumerate(content.stored):
        if path != fields["path"]:
            path = fields["path"]
            page = len(starts)
            starts.append(i)
            entry = [fields["path"], fields["title"], fields["url"]]
            page_blocks.setdefault(page_block_name(page), {})[page] = entry
            source = fields.get("source", "")
            if source not in sources:
                sources.append(source)
            if not page_sources or sources[page_sources[-1]] != source:
                page_sources += [page, sources.index(source)]
        text = fields.get("text", "")[:STATIC_TEXT_CHARS]
        blocks.setdefault(text_block_name(i), {})[i] = text
        heading = [fields["anchor"], fields["section"]]
        headings.setdefault(heading_block_name(i), {})[i] = heading

    terms: dict[str, str] = {}  # each term's postings, as JSON at once: a fraction of the memory
    for field, code in FIELD_CODES.items():
        lengths, by_term = content.field(field)
        for term, postings in by_term.items():
            entry_numbers: list[float] = []
            previous = 0
            for doc, weight in postings:
                entry_numbers += [doc - previous, _number(weight), lengths[doc]]
                previous = doc
            terms[f"{code}:{term}"] = _json(entry_numbers)
        del by_term
    vocabulary: dict[str, dict[str, int]] = {}
    for word, frequency in content.vocabulary():
        if frequency:
            name = shard_name(word, VOCABULARY_CHARS, VOCABULARY)
            vocabulary.setdefault(name, {})[word] = frequency
    stats = content.stats()

    by_two: dict[str, dict[str, str]] = {}
    for key, numbers in terms.items():
        by_two.setdefault(shard_name(key[2:]), {})[key] = numbers
    split = {
        name
        for name, group in by_two.items()
        if len(group) > 1 and len(_shard_file(name, group)) > SHARD_SPLIT_BYTES
    }
    shards: dict[str, dict[str, str]] = {}
    for key, numbers in terms.items():
        shards.setdefault(shard_for(key[2:], split), {})[key] = numbers
    del terms, by_two

    averages = dict(stats.average_lengths)
    meta = {
        **export_settings(),
        "vocabulary": sorted(vocabulary),
        "average": [averages[f] for f in FIELD_BOOSTS],
        "documents": stats.documents,
        "pageStarts": [b - a for a, b in zip([0, *starts], starts, strict=False)],
        "sources": sources,
        "pageSources": page_sources,
        "textBlock": TEXT_BLOCK,
        "headingBlock": HEADING_BLOCK,
        "pageBlock": PAGE_BLOCK,
        "shards": " ".join(sorted(_shard_key(name) for name in shards)),
        "split": " ".join(sorted(_shard_key(name) for name in split)),
    }
    files = {"meta.js": _js_call("loadMeta", meta)}
    for name, group in shards.items():
        files[name] = _shard_file(name, group)
    for name, text_block in blocks.items():
        files[name] = _js_call("loadText", name, {str(k): v for k, v in text_block.items()})
    for name, heads in headings.items():
        files[name] = _js_call("loadHeadings", name, {str(k): v for k, v in heads.items()})
    for name, entries in page_blocks.items():
        files[name] = _js_call("loadPages", name, {str(k): v for k, v in entries.items()})
    for name, words in vocabulary.items():
        files[name] = _js_call("loadVocabulary", name, dict(sorted(words.items())))
    return files
