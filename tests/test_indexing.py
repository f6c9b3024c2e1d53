"""The index stage's plan, on a real state database and whoosh index: which pages are indexed
again, and when the Sphinx inventory a page names has to be read to tell."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_inventory import BASE, QUEUE, inventory, queue_page

from mirror.build.assets import mirror_inventories
from mirror.build.indexing import IndexPlan, plan_index
from mirror.build.report import Tally
from mirror.build.store import Store
from mirror.search.index import SearchIndex
from mirror.search.index_files import index_version

QSIZE = "queue.Queue.qsize py:method 1 library/queue.html#$ -"
SCHED = "sched.scheduler py:class 1 library/sched.html#$ -"
GET_NOWAIT = "queue.Queue.get_nowait py:method 1 library/queue.html#$ -"


OTHER = "https://docs.example.org/3/library/sched.html"
UNKNOWN = "https://docs.example.org/3/library/never-fetched.html"
UNHEARD = "https://docs.example.org/3/library/unheard-of.html"  # not in the state at all


def add_page(store: Store, url: str) -> None:
    """A page fetched and cleaned, as the fetch stage stores it."""
    store.record_fetch(
        url,
        final_url=url,
        status=200,
        etag='"v1"',
        last_modified=None,
        content_type="text/html",
        raw_sha256="raw",
        now=1.0,
        raw_size=10,
    )
    store.save_page(queue_page(url=url), "cv", 1.0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "data") as opened:
        add_page(opened, QUEUE)
        SearchIndex(opened.data_dir / "index").update([])  # an index, empty
        opened.set_meta("index_version", index_version())
        yield opened


def plan(
    store: Store,
    urls: tuple[str, ...] = (QUEUE,),
    sources: dict[str, str] | None = None,
    full: bool = False,
) -> IndexPlan:
    """The plan of a build whose pages are `urls`, all of the source "python" unless
    `sources` says otherwise."""
    states = store.states()
    inventories = mirror_inventories(store, None, states, urls, full, 2.0, Tally())
    sources = sources or dict.fromkeys(urls, "python")
    return plan_index(store, store.data_dir / "index", states, urls, [], full, inventories, sources)


def planned(result: IndexPlan) -> list[str]:
    return [] if result.documents is None else [p.url for p in result.documents.pages]


def test_a_page_indexed_from_the_same_inputs_is_planned_without_reading_its_inventory(
    store: Store,
) -> None:
    store.save_inventory(BASE, inventory(QSIZE), None, None, 1.0)
    first = plan(store)
    assert planned(first) == [QUEUE]
    store.set_indexed(first.wanted)
    # the kept copy, unreadable now, would give the page no entries (a version not indexed)
    # if it were read; the state says it is the copy the page was indexed with
    store.inventory_path(BASE).write_bytes(b"not an inventory")
    again = plan(store)
    assert again.documents is None and again.wanted == {}


def test_a_changed_inventory_is_read_and_only_pages_whose_entries_changed_are_indexed(
    store: Store,
) -> None:
    store.save_inventory(BASE, inventory(QSIZE), None, None, 1.0)
    first = plan(store)
    store.set_indexed(first.wanted)
    ((version, inputs),) = first.wanted.values()

    store.save_inventory(BASE, inventory(QSIZE, SCHED), None, None, 2.0)  # another page's entry
    other = plan(store)
    assert other.documents is None
    ((same_version, new_inputs),) = other.wanted.values()  # recorded, so not read next time
    assert same_version == version and new_inputs != inputs
    store.set_indexed(other.wanted)
    assert plan(store).wanted == {}

    store.save_inventory(BASE, inventory(QSIZE, SCHED, GET_NOWAIT), None, None, 3.0)
    mine = plan(store)
    assert planned(mine) == [QUEUE] and mine.wanted[QUEUE][0] != version


def test_a_page_cleaned_by_another_cleaner_is_indexed_again(store: Store) -> None:
    first = plan(store)
    store.set_indexed(first.wanted)
    assert plan(store).documents is None
    store.save_page(queue_page(), "cv2", 2.0)
    assert planned(plan(store)) == [QUEUE]


def test_a_page_moved_to_another_source_is_indexed_again_with_it(store: Store) -> None:
    first = plan(store)
    assert [p.source for p in first.documents.pages] == ["python"]  # type: ignore[union-attr]
    store.set_indexed(first.wanted)
    moved = plan(store, sources={QUEUE: "stdlib"})
    assert [p.source for p in moved.documents.pages] == ["stdlib"]  # type: ignore[union-attr]
    assert moved.wanted[QUEUE][0] != first.wanted[QUEUE][0]
    documents = dict(moved.documents)  # type: ignore[arg-type]
    assert {d["source"] for d in documents[QUEUE]} == {"stdlib"}  # what the index will hold


def test_pages_without_a_copy_are_skipped_and_the_rest_planned(store: Store) -> None:
    add_page(store, OTHER)
    store.record_error(UNKNOWN, "HTTP 503", 1.0)  # known to the state, never fetched
    first = plan(store, (UNHEARD, UNKNOWN, QUEUE, OTHER))
    assert planned(first) == [QUEUE, OTHER]
    store.set_indexed({QUEUE: first.wanted[QUEUE]})  # only the first page indexed
    assert planned(plan(store, (UNHEARD, UNKNOWN, QUEUE, OTHER))) == [OTHER]


def test_a_page_that_became_a_stub_is_taken_out(store: Store) -> None:
    add_page(store, OTHER)
    first = plan(store, (QUEUE, OTHER))
    store.set_indexed(first.wanted)
    store.save_redirect(OTHER, QUEUE, "cv")  # now a redirect stub, still in the index
    stubbed = plan(store, (QUEUE, OTHER))
    assert stubbed.removed == [OTHER] and planned(stubbed) == []
    assert stubbed.wanted == {OTHER: (None, None)} and stubbed.rebuild is False
    store.set_indexed(stubbed.wanted)
    assert plan(store, (QUEUE, OTHER)).removed == []  # taken out once


@pytest.mark.parametrize("why", ["full", "index version", "no index"])
def test_a_rebuild_empties_the_index_and_plans_every_page(store: Store, why: str) -> None:
    add_page(store, OTHER)
    first = plan(store, (QUEUE, OTHER))
    store.set_indexed(first.wanted)
    index_dir = store.data_dir / "index"
    assert plan(store, (QUEUE, OTHER)).rebuild is False and index_dir.is_dir()
    if why == "index version":
        store.set_meta("index_version", "older")
    elif why == "no index":
        for path in index_dir.glob("_MAIN_*.toc"):
            path.unlink()
    rebuilt = plan(store, (QUEUE, OTHER), full=why == "full")
    assert rebuilt.rebuild is True and planned(rebuilt) == [QUEUE, OTHER]
    assert not index_dir.exists()  # emptied: the documents are all it will hold


def test_a_page_gone_from_the_state_meanwhile_is_left_out(store: Store) -> None:
    documents = plan(store).documents
    assert documents is not None
    store.remove(QUEUE)  # between the plan and the index worker reading it
    assert list(documents) == []
