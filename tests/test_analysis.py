"""mirror.search.analysis on the Python side: the memoized analyzers index a word exactly as their
whoosh chains do, computed without the chains."""

from __future__ import annotations

import pytest

from mirror.clean.extract import clean_page
from mirror.search.analysis import (
    MemoizedAnalyzer,
    symbol_analyzer,
    text_analyzer,
    vocabulary_analyzer,
)

ODD = """ThreadPoolExecutor copy_context HTTPServer getURLForID IOError ALLCAPS_NAME mixed_CamelCase
__init__ _private a_b_c a I it's the The THE an x86_64 3.11 Popen.communicate concurrent.futures
.a.b. ... a..b naïve café İstanbul Straße ß ǅungla 日本語 ünïcödé Ⅻ ½ generalizations running
settings calculated hopping sized conflated the_end end_the Thread_thread co-operate""".split()


@pytest.mark.parametrize("make", [text_analyzer, symbol_analyzer, vocabulary_analyzer])
def test_index_terms_are_the_chain_s(pages: dict[str, bytes], make: object) -> None:
    """Every word of the test pages, and odd ones, gets the terms the chain would give it."""
    analyzer = make()  # type: ignore[operator]
    assert isinstance(analyzer, MemoizedAnalyzer)
    texts = [" ".join(ODD)]
    for path, body in pages.items():
        page = clean_page(body, f"https://docs.example.org{path}")
        texts += [page.title] + [f"{s.title} {s.text}" for s in page.sections]
        texts += [f"{s.name} {s.text}" for s in page.symbols]
    checked = 0
    for text in texts:
        expected = analyzer.chain_terms(text)
        assert analyzer.index_terms(text) == expected, text[:80]
        assert analyzer.index_terms(text) == expected  # and again, from the memo
        checked += len(expected)
    assert checked > 3000
