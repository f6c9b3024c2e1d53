"""The whoosh index: one document per section and per API entry; updates, removals and
ranked search with highlighted snippets."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import index
from whoosh.fields import ID, STORED, TEXT, FieldType, Schema
from whoosh.formats import Existence

from mirror.errors import DamagedError
from mirror.files import write_atomic
from mirror.search.analysis import (
    WORD,
    query_analyzers,
    symbol_analyzer,
    text_analyzer,
    vocabulary_analyzer,
)
from mirror.search.damage import reading
from mirror.search.index_files import remove_index
from mirror.search.query import DEFAULT_LIMIT, PHRASE_CHARS, run_query
from mirror.search.snippets import STATIC_TEXT_CHARS, snippet
from mirror.search.whoosh_fast import field_postings, live_postings, segment_writer

if TYPE_CHECKING:  # the clean stage (lxml, nh3) is not imported by a search
    from mirror.clean.page import Page


STATS_FILE = "stats.json"
_WORDS = re.compile(WORD)


class SortKey(ID):
    """A stored, sortable ID that has no terms: documents are ordered and told apart by it,
    never looked up by it (terms of their own, one per document, were a seventh of the
    index's terms)."""

    indexed = False


# the fields ranking weighs (query.FIELD_BOOSTS, in its order), whose average lengths the
# index's statistics keep
SCORED_FIELDS = ("symbols", "section", "title", "text")


def make_schema() -> Schema:
    return Schema(
        # columns too (sortable): ranking orders and groups many documents by these
        key=SortKey(stored=True, sortable=True),  # url#anchor
        url=ID(stored=True, sortable=True),  # the page's source URL
        source=SortKey(stored=True, sortable=True),  # the name of the page's [[sources]] entry
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
    source: str = ""  # the name of the page's source in the config

    def to_json(self) -> dict[str, Any]:
        """The hit as `search --json` and `/api/search` give it."""
        return {
            "url": self.url,
            "path": self.path,
            "title": self.title,
            "section": self.section,
            "score": self.score,
            "snippet": self.snippet,
            "source": self.source,
        }


def entry_section(page: Page) -> int | None:
    """The number of the section that only holds the page's one API entry, as numpydoc API pages
    have it (`pandas.DataFrame.merge`: the entry `#pandas.DataFrame.merge` in the section
    `#pandas-dataframe-merge`, headed with its name): the page's only section, headed with the
    name of the page's only entry. It is no document of its own: the entry is one hit, with the
    section's text (the signature) after its own."""
    if len(page.sections) != 1 or len(page.symbols) != 1:
        return None
    heading = page.sections[0].title.strip().removesuffix("()")
    return 0 if heading == page.symbols[0].name and page.sections[0].anchor else None


def documents_for(page: Page, path: str, source: str = "") -> list[dict[str, str]]:
    """The index documents of one page: its sections, then its API entries; `source` is the
    name of its source in the config."""
    docs = []
    seen: set[str] = set()
    names: dict[str, list[str]] = {}  # an API entry at a heading's anchor names that section
    for symbol in page.symbols:
        names.setdefault(symbol.anchor, []).append(symbol.name)
    merged = entry_section(page)
    places: list[tuple[str, str, str, str, str]] = []  # anchor, kind, heading, symbols, text
    for number, section in enumerate(page.sections):
        if number != merged:
            symbols = " ".join(names.get(section.anchor, ()))
            heading = section.title or page.title
            places.append((section.anchor, "section", heading, symbols, section.text))
    for symbol in page.symbols:
        text = symbol.text if merged is None else f"{symbol.text}\n{page.sections[0].text}"
        places.append((symbol.anchor, symbol.kind, symbol.name, symbol.name, text))
    for anchor, kind, heading, symbols, text in places:
        key = f"{page.url}#{anchor}"
        if key in seen:  # two headings (or entries) sharing an anchor: the first owns it
            continue
        seen.add(key)
        docs.append(
            dict(
                key=key,
                url=page.url,
                anchor=anchor,
                path=path,
                source=source,
                kind=kind,
                title=page.title,
                section=heading,
                symbols=symbols,
                text=text,
                words="",
            )
        )
    if docs:  # the page's vocabulary, once: spelling counts pages, and costs a third less
        texts = [page.title] + [f"{s.title}\n{s.text}" for s in page.sections]
        written = _WORDS.findall("\n".join(texts + [s.name for s in page.symbols]))
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
        """Whether there is an index; a DamagedError if its table of segments is unreadable."""
        with reading(self.index_dir):
            return bool(index.exists_in(str(self.index_dir)))

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
        remove_index(self.index_dir)

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
        writer = segment_writer(ix)
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
        """The statistics every update writes; a DamagedError if they cannot be read."""
        path = self.index_dir / STATS_FILE
        try:
            return IndexStats.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            reason = "missing" if isinstance(exc, FileNotFoundError) else "cannot be read"
            raise DamagedError(path, "the search index's statistics", reason) from None

    def verify(self) -> None:
        """Open the index and read its statistics and its documents' count, as a build does
        before it trusts it (milliseconds: no postings are read); a DamagedError naming the
        file that fails. Files without their table of segments are a damaged index too."""
        if not self.exists:
            leftover = self.index_dir.is_dir() and any(
                p.name != "MAIN_WRITELOCK" for p in self.index_dir.iterdir()
            )
            if leftover:
                raise DamagedError(self.index_dir, "the search index", "no table of segments")
            return
        with reading(self.index_dir):
            with index.open_dir(str(self.index_dir)).searcher() as searcher:
                searcher.reader().doc_count()
            self._stats()

    def search(
        self, text: str, limit: int = DEFAULT_LIMIT, *, sources: Iterable[str] = ()
    ) -> list[Hit]:
        """The best sections and API entries for `text`; never raises on odd input."""
        return list(self.query(text, limit, sources=sources).hits)

    def query(
        self, text: str, limit: int = DEFAULT_LIMIT, *, sources: Iterable[str] = ()
    ) -> SearchResult:
        """The best sections and API entries for `text`, ranked by mirror.search.query (as the
        static search in the site ranks them), with the corrected query when words were
        misspelt. With `sources`, only hits of those sources (their names in the config)."""
        wanted = frozenset(sources)
        if not self.exists:
            return SearchResult((), "")
        with self._lock, reading(self.index_dir):
            searcher = self._current_searcher()
            stats = self._stats_cache
            assert stats is not None  # set with the searcher, under the same lock
            reader = searcher.reader()
            source = ReaderTerms(reader, stats, self._columns)
            keep = (lambda doc: source.source(doc) in wanted) if wanted else None
            ranked, plan = run_query(text, source, query_analyzers(), limit, keep)
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
                        source=fields.get("source", ""),
                    )
                )
            return SearchResult(tuple(hits), plan.suggestion)


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: tuple[Hit, ...]
    suggestion: str  # the query with misspelt words corrected ("did you mean"), or ""


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

    def source(self, doc: int) -> str:
        return str(self._column("source")[doc])

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
        return cls(data["documents"], tuple((f, float(lengths[f])) for f in SCORED_FIELDS))


def collect_stats(reader: Any) -> IndexStats:
    """Document count and mean field lengths (whoosh's stored lengths) of the live documents."""
    docs = list(reader.all_doc_ids())
    totals = {field: 0 for field in SCORED_FIELDS}
    for doc in docs:
        for field in SCORED_FIELDS:
            totals[field] += reader.doc_field_length(doc, field) or 0
    return stats_from_totals(len(docs), totals)


def stats_from_totals(count: int, totals: dict[str, int]) -> IndexStats:
    """The statistics of `count` documents whose lengths in each field add up to `totals`."""
    return IndexStats(
        documents=count,
        average_lengths=tuple(
            (f, (totals[f] / count) if count and totals[f] else 1.0) for f in SCORED_FIELDS
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
