"""The whoosh index: one document per section and per API entry; updates, removals and
ranked search with highlighted snippets."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from whoosh import highlight, index, query, scoring
from whoosh.analysis import (
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemmingAnalyzer,
    Token,
)
from whoosh.fields import ID, STORED, TEXT, Schema

from mirror.clean import Page

# Bump when the schema or the analysis changes: the index is then rebuilt from stored pages.
INDEX_VERSION = "1"

FIELD_BOOSTS = {"symbols": 6.0, "section": 3.0, "title": 2.0, "text": 1.0}
SNIPPET_CHARS = 160


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


def symbol_analyzer() -> object:
    return RegexTokenizer(r"[\w.]+") | LowercaseFilter() | DottedNameFilter()


def text_analyzer() -> object:
    # \w+ splits dotted names in prose ("concurrent.futures" -> concurrent, futures)
    return StemmingAnalyzer(expression=r"\w+")


def make_schema() -> Schema:
    return Schema(
        key=ID(unique=True),  # url#anchor
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
    """The whoosh index in `index_dir`, created on first use."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self._index: index.Index | None = None

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
        return count

    def search(self, text: str, limit: int = 10) -> list[Hit]:
        """The best sections for the words of `text`; never raises on odd input."""
        if not self.exists:
            return []
        ix = self._open()
        q = build_query(text, ix.schema)
        if q is None:
            return []
        with ix.searcher(weighting=scoring.BM25F()) as searcher:
            results = searcher.search(q, limit=limit, terms=True)
            results.fragmenter = highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=70)
            results.formatter = MarkFormatter()
            hits = []
            for hit in results:
                anchor = hit["anchor"]
                snippet = hit.highlights("text", top=1) or _escape_start(hit.get("text", ""))
                suffix = f"#{anchor}" if anchor else ""
                hits.append(
                    Hit(
                        url=hit["url"] + suffix,
                        path=hit["path"] + suffix,
                        title=hit["title"],
                        section=hit["section"],
                        score=round(float(hit.score), 4),
                        snippet=snippet,
                    )
                )
            return hits


_WORD = re.compile(r"[\w.]+")


def build_query(text: str, schema: Schema) -> query.Query | None:
    """Every word of `text` looked up in every field (with that field's analysis); documents
    matching more words rank higher. Built directly, so no input is a syntax error."""
    per_word: list[query.Query] = []
    for word in _WORD.findall(text):
        alternatives: list[query.Query] = []
        for field in FIELD_BOOSTS:
            analyzer = schema[field].analyzer
            terms = dict.fromkeys(t.text for t in analyzer(word, mode="query") if t.text)
            alternatives.extend(query.Term(field, t) for t in terms)
        if alternatives:
            per_word.append(query.Or(alternatives))
    if not per_word:
        return None
    return per_word[0] if len(per_word) == 1 else query.Or(per_word, scale=0.9)


class MarkFormatter(highlight.Formatter):
    """Snippets as escaped text with the matched words in <mark>, fragments joined by ' … '."""

    between = " … "

    def format_token(self, text: str, token: Token, replace: bool = False) -> str:
        return f"<mark>{html.escape(highlight.get_text(text, token, replace), quote=False)}</mark>"

    def _text(self, text: str) -> str:
        return html.escape(text, quote=False)


def _escape_start(text: str) -> str:
    text = text[:SNIPPET_CHARS]
    return html.escape(text.rsplit(" ", 1)[0] if len(text) == SNIPPET_CHARS else text, quote=False)
