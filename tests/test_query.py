"""What a search does with what was typed (mirror/query.py, mirror/analysis.py), against a real
whoosh index of the ten cleaned fixture pages: phrases, completions, typo correction with "did
you mean", exact API names first, identifiers split into words, grouping by page."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mirror.clean.extract import clean_page
from mirror.clean.page import Symbol
from mirror.search.analysis import (
    MemoizedAnalyzer,
    analyze,
    code_parts,
    edit_distance,
    query_analyzers,
    stem,
    symbol_analyzer,
    symbol_chain,
    text_analyzer,
    text_chain,
)
from mirror.search.index import SearchIndex
from mirror.search.query import (
    GROUP_SIZE,
    PAGE_DOCS,
    PAGE_WEIGHT,
    PHRASE_CHARS,
    holds_phrase,
    parse_query,
    with_page_scores,
)

from conftest import NAMES, page_path

BASE = "https://docs.example.org"


def url_of(name: str) -> str:
    return f"{BASE}{page_path(name)}"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, pages: dict[str, bytes]) -> SearchIndex:
    ix = SearchIndex(tmp_path_factory.mktemp("query") / "index")
    ix.update(
        (clean_page(pages[page_path(name)], url_of(name)), f"{name}.html") for name in NAMES
    )
    return ix


def first(index: SearchIndex, query: str) -> str:
    hits = index.search(query)
    assert hits, query
    return hits[0].url.removeprefix(BASE + "/3/library/")


# -- parsing -------------------------------------------------------------------------------


def test_parse_query_finds_phrases_and_the_word_being_typed() -> None:
    words = parse_query('run "thread local data" Popen.comm')
    assert [w.text for w in words] == ["run", "thread", "local", "data", "Popen.comm"]
    assert [w.phrase for w in words] == [-1, 0, 0, 0, -1]
    assert [w.last for w in words] == [False, False, False, False, True]
    assert words[4].start == len('run "thread local data" ')


def test_parse_query_odd_input() -> None:
    assert [w.phrase for w in parse_query('a "b c')] == [-1, 0, 0]  # unclosed: to the end
    assert [w.phrase for w in parse_query('"single" word')] == [-1, -1]
    assert not parse_query("thread ")[-1].last  # a space: the word is finished
    assert parse_query('"""') == [] and parse_query("") == []
    assert len(parse_query("w " * 100)) == 32
    # phrases numbered in order, each its own; a word ending the query inside a phrase is not
    # being typed (a phrase is searched as it stands)
    words = parse_query('"a b" c "d e" f "g h')
    assert [w.phrase for w in words] == [0, 0, -1, 1, 1, -1, 2, 2]
    assert not words[-1].last and not parse_query('"a b')[-1].last


# -- analysis ------------------------------------------------------------------------------


def test_code_parts_split_snake_and_camel_case() -> None:
    assert code_parts("copy_context") == ["copy", "context"]
    assert code_parts("ThreadPoolExecutor") == ["Thread", "Pool", "Executor"]
    assert code_parts("HTTPServer") == ["HTTP", "Server"]
    assert code_parts("__init__") == ["init"]
    assert code_parts("thread") == [] and code_parts("Thread") == []


def test_identifiers_are_indexed_whole_and_split_but_queried_whole() -> None:
    analyzer = text_analyzer()
    indexed = analyze(analyzer, "copy_context ThreadPoolExecutor", mode="index")
    assert indexed == ["copy_context", "copi", "context", "threadpoolexecutor", "thread", "pool",
                       "executor"]  # fmt: skip
    assert analyze(analyzer, "ThreadPoolExecutor") == ["threadpoolexecutor"]


def test_the_stemmer_undoubles_and_restores_e_as_porter_wrote_it() -> None:
    # whoosh's own port left runn, sett, stopp and calculat
    forms = [["run", "running", "runs"], ["set", "setting", "settings"], ["stop", "stopped"],
             ["calculate", "calculating", "calculated", "calculation"],
             ["normalize", "normalized", "normalizing"], ["hop", "hopping"]]  # fmt: skip
    for words in forms:
        assert len({stem(w) for w in words}) == 1, words
    assert [stem(w) for w in ["falling", "hissing", "fizzed", "filing", "sized"]] == [
        "fall", "hiss", "fizz", "file", "size"]  # fmt: skip
    assert analyze(text_analyzer(), "Running threads") == ["run", "thread"]


def test_symbols_are_named_by_full_name_and_dotted_suffixes_only() -> None:
    assert analyze(symbol_analyzer(), "concurrent.futures.Executor.submit") == [
        "concurrent.futures.executor.submit",
        "futures.executor.submit",
        "executor.submit",
        "submit",
    ]


def reference_distance(a: str, b: str) -> int:
    """Optimal string alignment distance, the plain full table."""
    table = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            table[i][j] = min(
                table[i - 1][j] + 1,
                table[i][j - 1] + 1,
                table[i - 1][j - 1] + (a[i - 1] != b[j - 1]),
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
    return table[len(a)][len(b)]


@given(st.text("abcé日", max_size=8), st.text("abcé日", max_size=8), st.integers(0, 3))
def test_edit_distance_is_the_bounded_alignment_distance(a: str, b: str, limit: int) -> None:
    assert edit_distance(a, b, limit) == min(reference_distance(a, b), limit + 1)


def test_edit_distance_counts_a_swap_as_one() -> None:
    assert edit_distance("conetxt", "context", 2) == 1
    assert edit_distance("executer", "executor", 2) == 1


def test_indexing_remembers_each_words_terms_and_gives_what_the_chain_gives(
    pages: dict[str, bytes],
) -> None:
    texts = [
        f"{part.title if hasattr(part, 'title') else part.name} {part.text}"
        for name in NAMES
        for page in [clean_page(pages[page_path(name)], url_of(name))]
        for part in (*page.sections, *page.symbols)
    ]
    for name, chain in (("text", text_chain()), ("symbols", symbol_chain())):
        analyzer = MemoizedAnalyzer(name)
        for text in texts:
            assert analyze(analyzer, text, mode="index") == analyze(chain, text, mode="index")
        assert analyze(analyzer, "ThreadPoolExecutor copy_context") == analyze(
            chain, "ThreadPoolExecutor copy_context"
        )
    # in the index's schema by name only, not with what it remembered
    assert pickle.loads(pickle.dumps(MemoizedAnalyzer("text"))).__dict__ == {"name": "text"}


# -- ranking and query handling ---------------------------------------------------------------


def test_an_exact_api_name_comes_first(index: SearchIndex) -> None:
    for query, expected in [
        ("ThreadPoolExecutor", "concurrent.futures.html#concurrent.futures.ThreadPoolExecutor"),
        ("Popen.communicate", "subprocess.html#subprocess.Popen.communicate"),
        ("communicate", "subprocess.html#subprocess.Popen.communicate"),
        ("subprocess.Popen.communicate", "subprocess.html#subprocess.Popen.communicate"),
        ("copy_context", "contextvars.html#contextvars.copy_context"),
    ]:
        assert first(index, query) == expected, query


def test_words_of_an_identifier_find_it(index: SearchIndex) -> None:
    top = [h.url.split("#")[1] for h in index.search("copy context")[:3]]
    assert "contextvars.copy_context" in top


def test_typos_are_corrected_with_a_suggestion(index: SearchIndex) -> None:
    result = index.query("ThreadPoolExecuter")
    assert result.suggestion == "threadpoolexecutor"
    assert result.hits[0].url.endswith("#concurrent.futures.ThreadPoolExecutor")
    result = index.query("conext var")
    assert result.suggestion == "context var"
    assert "contextvars.html" in result.hits[0].url
    assert index.query("ThreadPoolExecutor").suggestion == ""
    # the rest of the query as typed, every correction in its place
    assert index.query("thread conext local thraed").suggestion == "thread context local thread"


def test_nothing_close_gives_no_suggestion(index: SearchIndex) -> None:
    result = index.query("qqqqqqqq")
    assert result.hits == () and result.suggestion == ""


def test_the_word_being_typed_is_completed(index: SearchIndex) -> None:
    assert first(index, "ThreadPoolEx") == (
        "concurrent.futures.html#concurrent.futures.ThreadPoolExecutor"
    )
    assert first(index, "Popen.comm") == "subprocess.html#subprocess.Popen.communicate"
    # a finished word (followed by a space) is not completed, and too far to be a typo
    assert index.search("ThreadPoolEx ") == []


def test_a_quoted_phrase_needs_its_words_in_order(
    index: SearchIndex, pages: dict[str, bytes]
) -> None:
    texts = {}  # url#anchor -> (title, text) of every section and API entry
    for name in NAMES:
        page = clean_page(pages[page_path(name)], url_of(name))
        for part in (*page.sections, *page.symbols):
            title = part.title if hasattr(part, "title") else part.name
            texts.setdefault(f"{page.url}#{part.anchor}", (title, part.text[:PHRASE_CHARS]))
    analyzer = query_analyzers()["text"]
    hits = index.search('"thread local"')
    assert hits
    for hit in hits:
        title, text = texts[hit.url]
        assert holds_phrase(title, ["thread", "local"], analyzer) or holds_phrase(
            text, ["thread", "local"], analyzer
        ), hit.url
    loose = {h.url for h in index.search("local thread", limit=50)}
    ordered = {h.url for h in index.search('"local thread"', limit=50)}
    assert ordered < loose  # the words are common, in that order rare


def test_hits_of_one_page_are_grouped_and_capped(index: SearchIndex) -> None:
    hits = index.search("thread", limit=20)
    pages = [h.url.split("#")[0] for h in hits]
    assert len(set(pages)) > 1
    for page in set(pages):
        positions = [i for i, p in enumerate(pages) if p == page]
        assert len(positions) <= GROUP_SIZE
        assert positions == list(range(positions[0], positions[0] + len(positions)))


def test_corrections_only_come_from_live_pages(tmp_path: Path, pages: dict[str, bytes]) -> None:
    ix = SearchIndex(tmp_path / "index")
    page = clean_page(pages[page_path("queue")], url_of("queue"))
    marked = dataclasses.replace(
        page, sections=(dataclasses.replace(page.sections[0], text="zorblattite"),)
    )
    ix.update([(marked, "queue.html")])
    assert ix.query("zorblattate").suggestion == "zorblattite"
    ix.update([(page, "queue.html")])  # the word is gone from the page
    assert ix.query("zorblattate").suggestion == ""


def test_a_misspelt_part_of_a_dotted_name_is_corrected(index: SearchIndex) -> None:
    result = index.query("Popen.comunicate")
    assert result.suggestion == "Popen.communicate"
    assert result.hits[0].url.endswith("#subprocess.Popen.communicate")


def test_words_typed_apart_that_join_into_a_name_find_it_first(index: SearchIndex) -> None:
    assert first(index, "popen communicate") == "subprocess.html#subprocess.Popen.communicate"
    assert first(index, "copy context") == "contextvars.html#contextvars.copy_context"


def test_stop_words_do_not_count(index: SearchIndex) -> None:
    assert index.search("the lock of a") == index.search("lock")


def test_a_name_being_typed_in_words_is_completed_first(index: SearchIndex) -> None:
    assert first(index, "copy cont") == "contextvars.html#contextvars.copy_context"
    assert first(index, "popen comm") == "subprocess.html#subprocess.Popen.communicate"
    assert first(index, "process pool exe") == (
        "concurrent.futures.html#concurrent.futures.ProcessPoolExecutor"
    )
    # once the word is finished (a space), `cont` is a word of its own, and other entries win
    assert first(index, "copy cont ") != "contextvars.html#contextvars.copy_context"


def test_a_word_of_the_docs_is_not_taken_for_a_name_being_typed(index: SearchIndex) -> None:
    typed = index.search("Execu")  # not a word: the start of `Executor`, put first
    assert typed[0].url.endswith("#concurrent.futures.Executor")
    assert any(h.score > typed[0].score for h in typed[1:])
    # a word of the pages, and the start of `SharedMemory`: ranked by score alone
    whole = index.search("shared")
    assert whole[0].score == max(h.score for h in whole)
    assert not whole[0].url.endswith("#multiprocessing.shared_memory.SharedMemory")


def test_a_heading_that_is_the_query_comes_next_after_exact_names(index: SearchIndex) -> None:
    hits = index.search("context variables")
    assert hits[0].url.endswith("#context-variables")
    # not by score alone: the module's section (headed "contextvars — Context Variables")
    # scores higher, the heading says exactly what was asked
    assert any(h.score > hits[0].score for h in hits[1:])
    # an exact API name still comes first; a heading with more words than the query is not one
    assert first(index, "Popen") == "subprocess.html#subprocess.Popen"
    assert not first(index, "Popen").endswith("#popen-objects")


def test_a_corrected_api_name_is_an_exact_name(index: SearchIndex) -> None:
    # the heading "ThreadPoolExecutor" is the corrected query too; the entry still comes first
    result = index.query("ThreadPoolExecuter")
    assert result.suggestion and result.hits[0].url.endswith(
        "#concurrent.futures.ThreadPoolExecutor"
    )
    assert result.hits[1].url.endswith("#threadpoolexecutor")


def test_an_entry_whose_whole_name_is_the_query_comes_before_one_it_ends(
    tmp_path: Path, pages: dict[str, bytes]
) -> None:
    page = clean_page(pages[page_path("queue")], url_of("queue"))
    empty = "Return True if the queue is empty. empty() is racy: empty, then not empty."
    method = Symbol("queue.Queue.empty", "method", "queue.Queue.empty", empty)
    ix = SearchIndex(tmp_path / "index")
    ix.update([(dataclasses.replace(page, symbols=(*page.symbols, method)), "queue.html")])
    hits = ix.search("queue.Empty")
    # both names end in `queue.empty` (letter case aside); the method's text scores higher
    assert {h.url.split("#")[1] for h in hits[:2]} == {"queue.Empty", "queue.Queue.empty"}
    assert hits[0].url.endswith("#queue.Empty") and hits[1].score > hits[0].score


def test_a_page_about_the_query_lifts_its_sections() -> None:
    # one rare-word match alone on its page, against a page where many sections match
    scores = {"rare#a": 10.0, **{f"about#{i}": 9.0 - i / 10 for i in range(8)}}
    blended = with_page_scores(scores, lambda doc: doc.split("#")[0])
    assert blended["about#0"] > blended["rare#a"]  # before: 9.0 < 10.0
    about = [blended[f"about#{i}"] for i in range(8)]
    assert about == sorted(about, reverse=True)  # a page's own order is kept
    page = sum(9.0 - i / 10 for i in range(min(8, PAGE_DOCS))) / PAGE_DOCS
    assert blended["about#3"] == pytest.approx((1 - PAGE_WEIGHT) * 8.7 + PAGE_WEIGHT * page)


@pytest.mark.parametrize(
    ("typed", "suggestion"),
    [
        ("lok", ""),  # three letters: too short to correct
        ("lcok", "lock"),  # four letters: one edit (a swap)
        ("lockk", "lock"),  # one letter more, the most edits a five-letter word may take
        ("qaeae", ""),  # five letters, two edits from "queue": one more than it may take
        ("thxexd", "thread"),  # six letters: two edits
    ],
)
def test_a_typo_is_corrected_within_the_edits_its_length_allows(
    index: SearchIndex, typed: str, suggestion: str
) -> None:
    assert index.query(typed).suggestion == suggestion
