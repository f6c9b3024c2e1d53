"""The whoosh index: one document per section and per API entry; updates, removals and
ranked search with highlighted snippets."""

from __future__ import annotations

import functools
import html
import json
import math
import re
import shutil
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import index
from whoosh.analysis import (
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemmingAnalyzer,
    Token,
)
from whoosh.fields import ID, STORED, TEXT, Schema

from mirror.files import write_atomic

if TYPE_CHECKING:  # the clean stage (BeautifulSoup) is not imported by a search
    from mirror.clean import Page

# Bump when the schema or the analysis changes: the index is then rebuilt from stored pages.
INDEX_VERSION = "2"

# Term weights are multiplied by these at indexing (BM25F): a symbol or title match outranks a
# passing mention in the text.
FIELD_BOOSTS = {"symbols": 6.0, "section": 3.0, "title": 2.0, "text": 1.0}
B, K1 = 0.75, 1.2  # BM25 length normalisation and term-frequency saturation
SNIPPET_CHARS = 160
MAX_QUERY_WORDS = 32
STATS_FILE = "stats.json"


class DottedNameFilter(Filter):
    """For `a.b.C`: the whole name, each dotted suffix (`b.c`, `c`) and each part, so a symbol is
    found by its full name, by `Class.method` and by its last component."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            name = token.text.strip(".")
            parts = [p for p in name.split(".") if p]
            variants = dict.fromkeys(
                [name] + [".".join(parts[i:]) for i in range(1, len(parts))] + parts
            )
            for variant in variants:
                token.text = variant
                yield token


def symbol_analyzer() -> Any:
    return RegexTokenizer(r"[\w.]+") | LowercaseFilter() | DottedNameFilter()


def text_analyzer() -> Any:
    # \w+ splits dotted names in prose ("concurrent.futures" -> concurrent, futures)
    return StemmingAnalyzer(expression=r"\w+")


def make_schema() -> Schema:
    return Schema(
        key=ID(unique=True, stored=True),  # url#anchor
        url=ID(stored=True),  # the page's source URL
        anchor=STORED,
        path=STORED,  # the page's site-relative path
        kind=STORED,  # section, or the symbol's kind
        title=TEXT(analyzer=text_analyzer(), stored=True, field_boost=FIELD_BOOSTS["title"]),
        section=TEXT(analyzer=text_analyzer(), stored=True, field_boost=FIELD_BOOSTS["section"]),
        symbols=TEXT(analyzer=symbol_analyzer(), field_boost=FIELD_BOOSTS["symbols"]),
        text=TEXT(analyzer=text_analyzer(), stored=True),
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
                symbols="",
                text=section.text,
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
            )
        )
    return docs


class SearchIndex:
    """The whoosh index in `index_dir`, created on first use, with the statistics the ranking
    needs (`stats.json`, rewritten after every update)."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self._index: index.Index | None = None
        self._searcher: Any = None  # kept open between searches, refreshed when the index changes
        self._stats_cache: IndexStats | None = None
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
        ix = self._open()
        writer = ix.writer(limitmb=256)
        count = 0
        try:
            for url in removed:
                writer.delete_by_term("url", url)
            for page, path in pages:
                writer.delete_by_term("url", page.url)
                for doc in documents_for(page, path):
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

    def _current_searcher(self) -> Any:
        if self._searcher is None:
            self._searcher = self._open().searcher()
        elif not self._searcher.up_to_date():
            self._searcher = self._searcher.refresh()
            self._stats_cache = None
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
        """The best sections and API entries for the words of `text`; never raises on odd input.
        Ranked by `rank` (the same function the static search runs in the browser)."""
        if not self.exists:
            return []
        ix = self._open()
        words = analyze_query(text, ix.schema)
        if not words:
            return []
        with self._lock:
            searcher = self._current_searcher()
            stats = self._stats_cache or self._stats()
            reader = searcher.reader()
            scores = rank(reader, words, stats)
            if not scores:
                return []
            ordered = sorted(scores.items(), key=lambda item: -item[1])
            cutoff = ordered[min(limit, len(ordered)) - 1][1]
            candidates = [(doc, score) for doc, score in ordered if score >= cutoff]
            stored = {doc: reader.stored_fields(doc) for doc, _ in candidates}
            candidates.sort(key=lambda item: (-item[1], stored[item[0]]["key"]))
            terms = {
                term for alternatives in words for field, term in alternatives if field == "text"
            }
            hits = []
            for doc, score in candidates[:limit]:
                fields = stored[doc]
                suffix = f"#{fields['anchor']}" if fields["anchor"] else ""
                hits.append(
                    Hit(
                        url=fields["url"] + suffix,
                        path=fields["path"] + suffix,
                        title=fields["title"],
                        section=fields["section"],
                        score=round(score, 4),
                        snippet=snippet(fields.get("text", ""), terms),
                    )
                )
            return hits


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
    count = len(docs)
    return IndexStats(
        documents=count,
        average_lengths=tuple(
            (f, (totals[f] / count) if count and totals[f] else 1.0) for f in FIELD_BOOSTS
        ),
    )


def idf(documents: int, frequency: int) -> float:
    """BM25's inverse document frequency, never negative."""
    return math.log(1.0 + (documents - frequency + 0.5) / (frequency + 0.5))


def bm25(idf_value: float, weight: float, length: float, average: float) -> float:
    """One term's BM25 score in one field; `weight` is the term count times the field boost."""
    return idf_value * (weight * (K1 + 1.0)) / (weight + K1 * (1.0 - B + B * length / average))


def live_postings(reader: Any, field: str, term: str) -> list[tuple[int, float]]:
    """(document number, weight) of the live documents holding `term` in `field`."""
    if (field, term) not in reader:
        return []
    matcher = reader.postings(field, term)
    postings: list[tuple[int, float]] = []
    deleted = reader.is_deleted if reader.has_deletions() else None
    block_reader = getattr(matcher, "_read_ids", None) and getattr(matcher, "_read_weights", None)
    while matcher.is_active():
        if block_reader:  # whoosh 3's block matcher: a block of ids and weights at a time
            matcher._read_ids()
            matcher._read_weights()
            start = matcher._i
            block = zip(matcher._ids[start:], matcher._weights[start:], strict=True)
            postings.extend(
                (doc, weight) for doc, weight in block if deleted is None or not deleted(doc)
            )
            matcher._i = matcher._blocklength
            matcher._next_block()
        else:
            doc = matcher.id()
            if deleted is None or not deleted(doc):
                postings.append((doc, matcher.weight()))
            matcher.next()
    return postings


def rank(reader: Any, words: list[list[tuple[str, str]]], stats: IndexStats) -> dict[int, float]:
    """Score every document matching any word: per word, the BM25 sum over its (field, term)
    alternatives; summed over words, then scaled by the share of words matched. The static
    search (`search.js`) computes exactly this, in the same order, from the exported index."""
    averages = dict(stats.average_lengths)
    totals: dict[int, float] = {}
    matched: dict[int, int] = {}
    for alternatives in words:
        word_scores: dict[int, float] = {}
        for field, term in alternatives:
            postings = live_postings(reader, field, term)
            if not postings:
                continue
            weight_idf = idf(stats.documents, len(postings))
            for doc, weight in postings:
                length = reader.doc_field_length(doc, field) or 0
                score = bm25(weight_idf, weight, length, averages[field])
                word_scores[doc] = word_scores.get(doc, 0.0) + score
        for doc, score in word_scores.items():
            totals[doc] = totals.get(doc, 0.0) + score
            matched[doc] = matched.get(doc, 0) + 1
    return {doc: total * matched[doc] / len(words) for doc, total in totals.items()}


_WORD = re.compile(r"[\w.]+")
_TOKEN = re.compile(r"\w+")


def analyze_query(text: str, schema: Schema) -> list[list[tuple[str, str]]]:
    """For each word of `text`, its (field, term) alternatives through each field's analyzer.
    Words that yield no term (stop words) are left out. Built directly, so no input is an error."""
    words = []
    for word in _WORD.findall(text)[:MAX_QUERY_WORDS]:
        alternatives: list[tuple[str, str]] = []
        for field in FIELD_BOOSTS:
            analyzer = schema[field].analyzer
            for term in dict.fromkeys(t.text for t in analyzer(word, mode="query") if t.text):
                alternatives.append((field, term))
        if alternatives:
            words.append(alternatives)
    return words


def snippet(text: str, terms: set[str]) -> str:
    """About SNIPPET_CHARS of `text` around its first matching word, HTML-escaped, with the words
    whose stem is among `terms` in <mark>."""
    if not text:
        return ""
    analyzer = _snippet_analyzer()
    known: dict[str, bool] = {}
    # Stemming only changes a word's ending, so a word whose first two letters start no term
    # cannot match: skip analysing it (most words of a long section).
    openings = {t[:2] for t in terms}

    def matches(word: str) -> bool:
        if word not in known:
            known[word] = word[:2].lower() in openings and any(
                t.text in terms for t in analyzer(word, mode="query")
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


@functools.cache
def _snippet_analyzer() -> Any:
    return text_analyzer()


# -- the static search index, for the site's search.js --------------------------------------

FIELD_CODES = {"symbols": "y", "section": "s", "title": "t", "text": "x"}
STATIC_TEXT_CHARS = 1500  # of each section's text kept for snippets in the browser
TEXT_BLOCK = 16  # documents per snippet-text file
SHARD_SPLIT_BYTES = 60_000  # a two-character term shard larger than this is split by three


def shard_name(term: str, chars: int = 2) -> str:
    """The file of the terms starting like `term`: its first characters, made file-name safe."""
    prefix = term[:chars]
    safe = "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):x}" for c in prefix)
    return f"t-{safe.lower()}.js"


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


def static_index_files(index_dir: Path) -> dict[str, bytes]:
    """The index as JavaScript files loaded with <script> (file:// forbids fetch): `meta.js`
    (pages and where their documents start, collection statistics), term shards `t-*.js` with
    each term's IDF and postings (document, weight, field length; documents delta-coded), and
    `s-*.js` with the text of blocks of documents for snippets. A query loads meta.js, the
    shards of its terms and the text blocks of its top hits. Documents are numbered in key
    order and statistics cover live documents only, so the files depend on the indexed
    content alone, not on how the index was built up."""
    search_index = SearchIndex(index_dir)
    if not search_index.exists:
        return {}
    ix = search_index._open()
    stats = search_index._stats()
    with ix.searcher() as searcher:
        reader = searcher.reader()
        # each live document's stored fields, read once, in key order
        live = sorted(
            ((reader.stored_fields(doc), doc) for doc in reader.all_doc_ids()),
            key=lambda item: item[0]["key"],
        )
        dense = {doc: i for i, (_, doc) in enumerate(live)}
        pages: list[list[Any]] = []  # [path, title, url, first document]
        blocks: dict[str, dict[int, list[str]]] = {}
        for i, (fields, _) in enumerate(live):
            if not pages or pages[-1][0] != fields["path"]:
                pages.append([fields["path"], fields["title"], fields["url"], i])
            text = fields.get("text", "")[:STATIC_TEXT_CHARS]
            entry = [fields["anchor"], fields["section"], text]
            blocks.setdefault(text_block_name(i), {})[i] = entry

        terms: dict[str, list[float]] = {}
        for field, code in FIELD_CODES.items():
            lengths = [reader.doc_field_length(doc, field) or 0 for _, doc in live]
            for raw in reader.lexicon(field):
                term = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                postings = live_postings(reader, field, term)
                if not postings:
                    continue
                entry_numbers: list[float] = [idf(stats.documents, len(postings))]
                previous = 0
                for doc, weight in sorted((dense[d], w) for d, w in postings):
                    entry_numbers += [doc - previous, _number(weight), lengths[doc]]
                    previous = doc
                terms[f"{code}:{term}"] = entry_numbers

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
        "version": 2,
        "B": B,
        "K1": K1,
        "fields": list(FIELD_BOOSTS),
        "codes": [FIELD_CODES[f] for f in FIELD_BOOSTS],
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
    return files
