"""The whoosh index on disk: documents per section and symbol, updates that replace a page,
removals, ranked search with escaped snippets, and odd queries."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mirror.clean.extract import clean_page
from mirror.clean.page import Page, Section, Symbol
from mirror.search.export import static_index_files
from mirror.search.index import Hit, SearchIndex, documents_for
from mirror.search.whoosh_fast import IndexCodec, fast_path, field_postings, live_postings
from mirror.urls import local_path_for

FUTURES_URL = "https://docs.python.org/3/library/concurrent.futures.html"
FUTURES_PATH = "docs.python.org/3/library/concurrent.futures.html"
QUEUE_URL = "https://docs.python.org/3/library/queue.html"
QUEUE_PATH = "docs.python.org/3/library/queue.html"


def futures_page(extra: str = "") -> Page:
    return Page(
        url=FUTURES_URL,
        title="concurrent.futures — Launching parallel tasks",
        summary="The concurrent.futures module provides a high-level interface.",
        html="<p>…</p>",
        sections=(
            Section(
                anchor="module-concurrent.futures",
                title="concurrent.futures — Launching parallel tasks",
                level=1,
                text="The concurrent.futures module provides a high-level interface for "
                "asynchronously executing callables. " + extra,
            ),
            Section(
                anchor="executor-objects",
                title="Executor Objects",
                level=2,
                text="class concurrent.futures.Executor An abstract class that provides "
                "methods to execute calls asynchronously. It should not be used directly.",
            ),
        ),
        symbols=(
            Symbol(
                name="concurrent.futures.Executor",
                kind="class",
                anchor="concurrent.futures.Executor",
                text="An abstract class that provides methods to execute calls asynchronously.",
            ),
            Symbol(
                name="concurrent.futures.Executor.submit",
                kind="method",
                anchor="concurrent.futures.Executor.submit",
                text="Schedules the callable, fn, to be executed as fn(*args, **kwargs) and "
                "returns a Future object representing the execution of the callable.",
            ),
        ),
        links=(),
        assets=(),
    )


def queue_page(text: str) -> Page:
    return Page(
        url=QUEUE_URL,
        title="queue — A synchronized queue class",
        summary="",
        html="",
        sections=(
            Section(anchor="module-queue", title="queue", level=1, text=text),
            Section(anchor="queue-objects", title="Queue Objects", level=2, text="put and get"),
        ),
        symbols=(),
        links=(),
        assets=(),
    )


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    ix = SearchIndex(tmp_path / "index")
    ix.update(
        [
            (futures_page(), FUTURES_PATH),
            (queue_page("The queue module implements multi-producer queues zanzibarite."),
             QUEUE_PATH),
        ]
    )  # fmt: skip
    return ix


def anchors(hits: list[Hit]) -> list[str]:
    return [h.url.split("#", 1)[1] for h in hits]


def test_documents_for_gives_one_document_per_section_and_symbol() -> None:
    docs = documents_for(futures_page(), FUTURES_PATH)
    assert [(d["key"], d["kind"]) for d in docs] == [
        (f"{FUTURES_URL}#module-concurrent.futures", "section"),
        (f"{FUTURES_URL}#executor-objects", "section"),
        (f"{FUTURES_URL}#concurrent.futures.Executor", "class"),
        (f"{FUTURES_URL}#concurrent.futures.Executor.submit", "method"),
    ]
    assert all(d["url"] == FUTURES_URL and d["path"] == FUTURES_PATH for d in docs)
    submit = docs[3]
    assert submit["section"] == submit["symbols"] == "concurrent.futures.Executor.submit"
    assert submit["text"].startswith("Schedules the callable")
    assert docs[1]["section"] == "Executor Objects" and docs[1]["symbols"] == ""


def test_documents_for_keeps_one_document_per_anchor() -> None:
    page = futures_page()
    extra = (
        Section(page.symbols[0].anchor, "Executor", 2, "a heading with a symbol's anchor"),
        Section("executor-objects", "Duplicate heading", 2, "a second heading, same anchor"),
    )
    page = dataclasses.replace(page, sections=page.sections + extra)
    docs = documents_for(page, FUTURES_PATH)
    keys = [d["key"] for d in docs]
    assert len(keys) == len(set(keys)) == 4
    assert docs[1]["section"] == "Executor Objects"  # the first heading owns its anchor


def test_documents_for_a_cleaned_fixture_page(pages: dict[str, bytes]) -> None:
    page = clean_page(pages["/3/library/concurrent.futures.html"], FUTURES_URL)
    docs = documents_for(page, FUTURES_PATH)
    keys = [d["key"] for d in docs]
    assert len(keys) == len(set(keys))
    assert len(docs) == len({s.anchor for s in page.sections} | {s.anchor for s in page.symbols})
    assert f"{FUTURES_URL}#concurrent.futures.ThreadPoolExecutor" in keys


def test_search_finds_the_symbol_entry_first(index: SearchIndex) -> None:
    for query in (
        "concurrent.futures.Executor.submit",  # full name
        "submit",  # last component
        "Executor.submit",  # Class.method
        "executor.SUBMIT",  # case does not matter
    ):
        hits = index.search(query)
        assert hits, query
        assert anchors(hits)[0] == "concurrent.futures.Executor.submit", query
        assert hits[0].section == "concurrent.futures.Executor.submit"
    assert anchors(index.search("Executor"))[0] == "concurrent.futures.Executor"


def test_hits_carry_the_anchor_in_url_and_path(index: SearchIndex) -> None:
    hit = index.search("submit")[0]
    assert hit.url == f"{FUTURES_URL}#concurrent.futures.Executor.submit"
    assert hit.path == f"{FUTURES_PATH}#concurrent.futures.Executor.submit"
    assert hit.title == "concurrent.futures — Launching parallel tasks"
    assert hit.score > 0


def test_snippet_marks_the_matched_words(index: SearchIndex) -> None:
    hits = index.search("zanzibarite")
    assert len(hits) == 1
    assert hits[0].url == f"{QUEUE_URL}#module-queue"
    assert "<mark>zanzibarite</mark>" in hits[0].snippet


def test_snippets_are_html_escaped(tmp_path: Path) -> None:
    ix = SearchIndex(tmp_path / "index")
    ix.update([(queue_page("Never write <script>alert(1)</script> & friends here."), QUEUE_PATH)])
    hit = ix.search("alert")[0]
    assert "&lt;script&gt;" in hit.snippet and "&amp;" in hit.snippet
    assert "<script>" not in hit.snippet
    assert "<mark>alert</mark>" in hit.snippet
    # a hit matched outside the text (in the page title) gets the escaped start of the text
    title_hit = next(h for h in ix.search("synchronized") if h.url.endswith("#module-queue"))
    assert title_hit.snippet.startswith("Never write &lt;script&gt;")


def test_updating_a_page_replaces_all_its_sections(index: SearchIndex) -> None:
    assert index.search("zanzibarite")
    index.update([(queue_page("The queue module now mentions xylophonic things."), QUEUE_PATH)])
    assert index.search("zanzibarite") == []
    assert anchors(index.search("xylophonic")) == ["module-queue"]
    # the page's other sections are there once each, not duplicated
    assert anchors(index.search("put get")).count("queue-objects") == 1
    # other pages are untouched
    assert anchors(index.search("submit"))[0] == "concurrent.futures.Executor.submit"


def test_update_with_removed_drops_the_page(index: SearchIndex) -> None:
    assert index.update([], removed=[QUEUE_URL]) == 0
    assert index.search("zanzibarite") == []
    assert index.search("queue") == []  # none of its sections is left
    assert index.search("submit")  # the other page stays


def test_a_new_instance_reads_the_same_index(index: SearchIndex) -> None:
    again = SearchIndex(index.index_dir)
    assert again.exists
    assert anchors(again.search("zanzibarite")) == ["module-queue"]


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '"unbalanced',
        "(",
        "(*)",
        "AND",
        "OR NOT AND",
        "*",
        "title:",
        "section:Executor",
        "",
        "   ",
        "...",
        "x" * 10_000,
        " ".join(f"word{i}" for i in range(500)),
        "日本語のテキスト",
        "naïve café",
        "🧵🔒",
        "\x00\x01",
    ],
)
def test_search_never_raises(index: SearchIndex, query: str) -> None:
    hits = index.search(query)
    assert isinstance(hits, list)


@pytest.mark.parametrize("query", ['"', "(", "AND", "*", "title:", "", "nonexistentword", "日本語"])
def test_search_without_a_match_is_empty(index: SearchIndex, query: str) -> None:
    assert index.search(query) == []


def test_search_finds_fields_in_odd_syntax(index: SearchIndex) -> None:
    # query syntax is not interpreted: the words still count
    assert anchors(index.search("title:zanzibarite"))[0] == "module-queue"
    assert anchors(index.search('"submit'))[0] == "concurrent.futures.Executor.submit"


def test_limit(index: SearchIndex) -> None:
    assert len(index.search("concurrent", limit=2)) == 2
    assert len(index.search("concurrent", limit=10)) > 2


def test_clear_removes_the_index(index: SearchIndex) -> None:
    assert index.exists
    index.clear()
    assert not index.exists
    assert not index.index_dir.exists()
    assert index.search("submit") == []
    index.update([(futures_page(), FUTURES_PATH)])  # and it can be built again
    assert index.exists and index.search("submit")


def test_search_before_any_update_is_empty(tmp_path: Path) -> None:
    ix = SearchIndex(tmp_path / "nothing")
    assert not ix.exists
    assert ix.search("anything") == []
    assert not (tmp_path / "nothing").exists()  # searching does not create it


def test_live_postings_skip_deleted_documents_across_segments(tmp_path: Path) -> None:
    """Postings are read a block at a time, segment by segment, deleted documents left out:
    the same as walking whoosh's matcher one posting at a time and asking the reader."""
    ix = SearchIndex(tmp_path / "index")
    # queue's documents come first in the first segment, futures' after them ("class" is in
    # both): replacing futures leaves deleted documents behind live ones, and a second segment
    # and a page of 300 sections, so that "section" has postings in several blocks (128 each)
    many = dataclasses.replace(
        queue_page(""),
        url=QUEUE_URL + "?many",
        sections=tuple(
            Section(anchor=f"s{i}", title=f"Section {i}", level=2, text=f"section {i} " * (i % 7))
            for i in range(300)
        ),
    )
    ix.update(
        [
            (queue_page("queues " * 300 + " class"), QUEUE_PATH),
            (futures_page(), FUTURES_PATH),
            (many, QUEUE_PATH + "?many"),
        ]
    )
    ix.update([(futures_page("asynchronously again"), FUTURES_PATH)])
    with ix._open().searcher() as searcher:
        reader = searcher.reader()
        assert reader.has_deletions() and len(list(reader.leaf_readers())) > 1
        assert reader.doc_frequency("text", "section") > 2 * 128
        checked = 0
        for field in ("text", "symbols", "words"):
            for raw in reader.lexicon(field):
                term = raw.decode("utf-8")
                matcher, expected = reader.postings(field, term), []
                while matcher.is_active():
                    if not reader.is_deleted(matcher.id()):
                        expected.append((matcher.id(), matcher.weight()))
                    matcher.next()
                assert live_postings(reader, field, term) == expected, (field, term)
                checked += bool(expected)
            # read a whole field at once, segment by segment: the same, and no dead terms
            by_field = field_postings(reader, field)
            assert by_field == {
                raw.decode("utf-8"): live_postings(reader, field, raw.decode("utf-8"))
                for raw in reader.lexicon(field)
                if live_postings(reader, field, raw.decode("utf-8"))
            }
        assert checked > 20


def whoosh_update(index_dir: Path, pages: list[Page], removed: list[str]) -> None:
    """`SearchIndex.update` done with whoosh's own segment writer (and the codec the fast path
    writes with, when it is on)."""
    ix = SearchIndex(index_dir)._open()
    writer = ix.writer(codec=IndexCodec()) if fast_path() else ix.writer()
    for url in removed:
        writer.delete_by_term("url", url)
    for page in pages:
        writer.delete_by_term("url", page.url)
        for doc in documents_for(page, local_path_for(page.url)):
            writer.add_document(**doc)
    writer.commit()


def index_contents(index_dir: Path) -> tuple[object, ...]:
    """Everything a segment holds, per segment: postings with their values, stored fields,
    field lengths, columns and deletions."""
    ix = SearchIndex(index_dir)._open()
    segments = []
    with ix.searcher() as searcher:
        for leaf, _ in searcher.reader().leaf_readers():
            postings = {}
            for field, raw in leaf.all_terms():
                matcher = leaf.postings(field, raw)
                found = []
                while matcher.is_active():
                    found.append((matcher.id(), matcher.weight(), matcher.value()))
                    matcher.next()
                postings[field, raw] = (found, leaf.doc_frequency(field, raw))
            docs = [
                (
                    leaf.stored_fields(doc),
                    {
                        f: leaf.doc_field_length(doc, f)
                        for f in ("title", "section", "symbols", "text")
                    },
                    [leaf.column_reader(c)[doc] for c in ("key", "url")],
                )
                for doc in range(leaf.doc_count_all())
            ]
            segments.append(
                (
                    postings,
                    docs,
                    sorted(d for d in range(leaf.doc_count_all()) if leaf.is_deleted(d)),
                )
            )
    # and the bytes of each segment's files (postings, term table, columns): the term table
    # holds statistics no reader above shows, such as each term's total and maximum weight
    files = []
    for segment in ix._segments():
        storage = segment.open_compound_file(ix.storage)
        files.append({n.split(".", 1)[1]: storage.open_file(n).read() for n in storage.list()})
        storage.close()
    assert files and all(f["trm"] and f["pst"] for f in files)
    return tuple((*contents, f) for contents, f in zip(segments, files, strict=True))


def same_as_whoosh(root: Path, steps: list[tuple[list[Page], list[str]]]) -> list[int]:
    """Apply each (pages, removed URLs) update with `SearchIndex.update` and with whoosh's own
    writer; assert the two indexes hold the same after each. The number of segments after each."""
    ours, theirs = SearchIndex(root / "ours"), root / "theirs"
    segments = []
    for pages, removed in steps:
        ours.update(((p, local_path_for(p.url)) for p in pages), removed)
        whoosh_update(theirs, pages, removed)
        contents = index_contents(ours.index_dir)
        assert contents == index_contents(theirs)
        segments.append(len(contents))
    return segments


def test_the_index_writer_writes_what_whoosh_s_own_would(
    tmp_path: Path, pages: dict[str, bytes]
) -> None:
    """The bulk segment writer makes the same segments as whoosh's writer, through updates that
    replace and remove pages."""
    cleaned = [clean_page(body, f"https://docs.example.org{path}") for path, body in pages.items()]
    cleaned = [p for p in cleaned if p.sections]
    assert len(cleaned) >= 8
    # a page of 300 sections: "section" and "round" have postings in several blocks (128 each)
    many = dataclasses.replace(
        queue_page(""),
        url=QUEUE_URL + "?many",
        sections=tuple(
            Section(f"s{i}", f"Section {i}", 2, f"section round {i} " * (1 + i % 7))
            for i in range(300)
        ),
    )
    steps: list[tuple[list[Page], list[str]]] = [
        (cleaned[:5], []),
        (cleaned[3:8], [cleaned[0].url]),
        ([dataclasses.replace(cleaned[4], title="Renamed page")], []),
        (cleaned[8:], [cleaned[1].url]),
        ([many], []),
        ([dataclasses.replace(many, title="Many, again")], [cleaned[2].url]),
    ]
    assert same_as_whoosh(tmp_path, steps) == [1, 2, 3, 4, 5, 6]
    with SearchIndex(tmp_path / "ours")._open().searcher() as searcher:
        assert searcher.reader().doc_frequency("text", "section") > 2 * 128  # several blocks


def test_the_index_writer_merges_segments_as_whoosh_does(tmp_path: Path) -> None:
    """Many small updates make whoosh merge segments into the one being written: their postings
    go through the writer's table, in document order."""
    pages = [
        dataclasses.replace(queue_page(f"queue round {i} " * i), url=f"{QUEUE_URL}?{i}")
        for i in range(8)
    ]
    steps: list[tuple[list[Page], list[str]]] = [([page], []) for page in pages]
    steps.append(([futures_page()], [pages[2].url]))
    segments = same_as_whoosh(tmp_path, steps)
    assert min(segments[4:]) < 4  # merged


def test_an_index_updated_to_some_content_exports_as_one_rebuilt_with_it(
    tmp_path: Path, pages: dict[str, bytes]
) -> None:
    """The export depends on the indexed content alone: an index that reached it through
    updates (deleted documents, several segments) exports the files of one rebuilt with it."""
    cleaned = [clean_page(body, f"https://docs.example.org{path}") for path, body in pages.items()]
    cleaned = [p for p in cleaned if p.sections]
    # long enough that whoosh keeps its length only approximately (one byte)
    cleaned.append(queue_page("queues hold items " * 40))

    rebuilt = SearchIndex(tmp_path / "rebuilt")
    rebuilt.update((p, local_path_for(p.url)) for p in reversed(cleaned))
    made = static_index_files(rebuilt.index_dir)
    assert any(name.startswith("t-") for name in made) and any(n.startswith("v-") for n in made)

    updated = SearchIndex(tmp_path / "updated")
    updated.update((p, local_path_for(p.url)) for p in cleaned[:4])
    updated.update([(dataclasses.replace(cleaned[0], title="Renamed"), "x.html")])
    updated.update((p, local_path_for(p.url)) for p in cleaned)
    with updated._open().searcher() as searcher:
        assert searcher.reader().has_deletions()
    assert made == static_index_files(updated.index_dir)


MERGE_URL = "https://pandas.example.org/reference/api/pandas.DataFrame.merge.html"


def numpydoc_page(name: str = "pandas.DataFrame.merge", entries: int = 1) -> Page:
    """A numpydoc API page: one section headed with the entry's name, holding the entry."""
    symbols = tuple(
        Symbol(
            name=f"{name}{'' if i == 0 else f'.part{i}'}",
            kind="method",
            anchor=f"{name}{'' if i == 0 else f'.part{i}'}",
            text="Merge DataFrame or named Series objects with a database-style join.",
        )
        for i in range(entries)
    )
    return Page(
        url=MERGE_URL,
        title=name,
        summary="",
        html="",
        sections=(
            Section(
                anchor=name.lower().replace(".", "-"),
                title=name,
                level=1,
                text="DataFrame.merge(right, how='inner', on=None, left_on=None) Parameters: "
                "right DataFrame or named Series",
            ),
        ),
        symbols=symbols,
        links=(),
        assets=(),
    )


def test_an_entry_and_the_section_only_holding_it_are_one_document() -> None:
    docs = documents_for(numpydoc_page(), "merge.html", "pandas")
    assert [d["key"] for d in docs] == [f"{MERGE_URL}#pandas.DataFrame.merge"]
    (entry,) = docs
    # the entry keeps its name and kind, and takes in the section's text (the signature)
    assert entry["section"] == entry["symbols"] == "pandas.DataFrame.merge"
    assert entry["kind"] == "method" and entry["source"] == "pandas"
    assert entry["text"].startswith("Merge DataFrame") and "left_on=None" in entry["text"]
    assert "left_on" in entry["words"].split()  # the page's vocabulary, as before
    # a section holding other entries, or headed otherwise, stays a document of its own
    assert len(documents_for(numpydoc_page(entries=2), "merge.html")) == 3
    page = numpydoc_page()
    other = dataclasses.replace(
        page, sections=(dataclasses.replace(page.sections[0], title="Merging"),)
    )
    assert len(documents_for(other, "merge.html")) == 2


def test_an_api_page_is_one_hit_for_its_name(tmp_path: Path) -> None:
    ix = SearchIndex(tmp_path / "index")
    ix.update([(numpydoc_page(), "merge.html"), (futures_page(), FUTURES_PATH)])
    hits = ix.search("DataFrame.merge")
    assert [h.path for h in hits] == ["merge.html#pandas.DataFrame.merge"]
    assert [h.path for h in ix.search("left_on")] == ["merge.html#pandas.DataFrame.merge"]


def test_hits_carry_their_source_and_a_search_keeps_the_sources_asked_for(
    tmp_path: Path,
) -> None:
    ix = SearchIndex(tmp_path / "index")
    ix.update_documents(
        [
            (FUTURES_URL, documents_for(futures_page(), FUTURES_PATH, "futures")),
            (QUEUE_URL, documents_for(queue_page("queues of executor jobs"), QUEUE_PATH, "q")),
        ]
    )
    both = ix.search("executor")
    assert {h.source for h in both} == {"futures", "q"}
    assert all(h.to_json()["source"] == h.source for h in both)
    only = ix.search("executor", sources=["q"])
    assert only and {h.source for h in only} == {"q"}
    # scored as among all: the same score as in the search of every source
    assert only[0].score == next(h.score for h in both if h.path == only[0].path)
    assert ix.search("executor", sources=["nothing"]) == []


def test_the_export_lists_pages_in_blocks_not_in_meta(tmp_path: Path) -> None:
    index = SearchIndex(tmp_path / "index")
    index.update_documents(
        [
            (FUTURES_URL, documents_for(futures_page(), FUTURES_PATH, "futures")),
            (QUEUE_URL, documents_for(queue_page("text"), QUEUE_PATH, "q")),
        ]
    )
    files = static_index_files(index.index_dir)
    meta = files["meta.js"].decode()
    assert FUTURES_PATH not in meta and "Launching parallel tasks" not in meta
    pages = files["p-0.js"].decode()
    assert FUTURES_PATH in pages and QUEUE_PATH in pages and FUTURES_URL in pages
    # each page's first document (delta-coded), and its source in runs of pages
    assert '"pageStarts":[0,4]' in meta
    assert '"sources":["futures","q"]' in meta and '"pageSources":[0,0,1,1]' in meta
