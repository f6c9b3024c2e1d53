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


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "data") as opened:
        opened.record_fetch(
            QUEUE,
            final_url=QUEUE,
            status=200,
            etag='"v1"',
            last_modified=None,
            content_type="text/html",
            raw_sha256="raw",
            now=1.0,
            raw_size=10,
        )
        opened.save_page(queue_page(), "cv", 1.0)
        SearchIndex(opened.data_dir / "index").update([])  # an index, empty
        opened.set_meta("index_version", index_version())
        yield opened


def plan(store: Store) -> IndexPlan:
    """The plan of a build whose one page is `QUEUE`, of the source "python"."""
    states = store.states()
    inventories = mirror_inventories(store, None, states, (QUEUE,), False, 2.0, Tally())
    return plan_index(
        store, store.data_dir / "index", states, (QUEUE,), [], False, inventories, {QUEUE: "python"}
    )


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
