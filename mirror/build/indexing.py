"""The index stage's plan: which pages the search index must take in or drop, from the hashes in the
state database; and their index documents, made from the stored pages where the index is written."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mirror.build.assets import InventoriesInUse
from mirror.build.statedb import STATE_FILE, Database
from mirror.build.store import PageState, Store
from mirror.clean.inventory import (
    InventoryEntry,
    index_hash,
    symbols_with_inventory,
)
from mirror.clean.page import page_from_json
from mirror.search.index_files import has_index, index_version, remove_index
from mirror.urls import local_path_for


@dataclass(frozen=True, slots=True)
class PageToIndex:
    url: str
    source: str  # the name of its source
    entries: tuple[InventoryEntry, ...]  # its site's inventory entries pointing to it


@dataclass(frozen=True, slots=True)
class StoredDocuments:
    """The index documents of `pages`, made one page at a time from the cleaned pages in the
    state database at `database` as the index writer takes them: sent to the index worker as
    this small list, so that no process holds every page's documents at once."""

    database: Path
    pages: tuple[PageToIndex, ...]

    def __len__(self) -> int:
        return len(self.pages)

    def __iter__(self) -> Iterator[tuple[str, list[dict[str, str]]]]:
        from mirror.search.index import documents_for  # whoosh: imported where the index is

        db = Database(self.database)
        try:
            for todo in self.pages:
                sql = "SELECT page_json FROM cleaned_pages WHERE url = ?"
                row = db.first(sql, (todo.url,))
                if row and row[0]:  # else gone meanwhile: left out, as a page not stored
                    page = symbols_with_inventory(page_from_json(row[0]), todo.entries)
                    yield todo.url, documents_for(page, local_path_for(todo.url), todo.source)
        finally:
            db.close()


@dataclass(frozen=True, slots=True)
class IndexPlan:
    documents: StoredDocuments | None  # None: the index is up to date
    # url -> (index_hash, index_inputs) it is indexed with once updated (None: not indexed); and
    # the pages whose inputs changed but not their index_hash, which have their inputs recorded
    wanted: dict[str, tuple[str | None, str | None]]
    rebuild: bool  # the index was emptied: `documents` are all it will hold
    removed: list[str] = field(default_factory=list)  # pages to take out of the index


def index_inputs(cleaned: str, inventory: str, inventories: InventoriesInUse) -> str:
    """What a page's `index_hash` is made from, short of its inventory entries: `cleaned` (its
    content, its cleaner, its source), and the kept copy of the inventory it names (by sha256).
    While they stay the same so does its index_hash, and the inventory need not be read to tell."""
    return f"{cleaned} {inventory} {inventories.kept.get(inventory, '')}"


def plan_index(
    store: Store,
    index_dir: Path,
    states: dict[str, PageState],
    urls: tuple[str, ...],
    removed: list[str],
    full: bool,
    inventories: InventoriesInUse,
    sources: dict[str, str] | None = None,
) -> IndexPlan:
    """The index documents of every page whose indexed version is not its current one. A page's
    version is its content, the cleaner that cut it into sections and entries, and the entries
    its site's inventory has for it (`index_hash`), so a changed inventory re-indexes the pages
    whose entries changed, and only those; a page whose `index_inputs` are those it was indexed
    with keeps its version unread. Pages that left the mirror, or became redirect stubs, are
    taken out. An index to rebuild is emptied here. `sources` names each page's source
    (each document carries it, so a page moved to another source is indexed again)."""
    sources = sources or {}
    stubs = [u for u, s in states.items() if s.indexed_hash is not None and not s.has_copy]
    removed = removed + stubs
    rebuild = full or store.get_meta("index_version") != index_version() or not has_index(index_dir)
    if rebuild:
        remove_index(index_dir)
    entries: dict[str, tuple[InventoryEntry, ...]] = {}
    wanted: dict[str, tuple[str | None, str | None]] = {}  # url -> (index_hash, index_inputs)
    for url in urls:
        state = states.get(url)
        if state is None or state.content_hash is None:
            continue
        # the cleaner too: a new one may cut sections and entries differently, same content
        cleaned = f"{state.content_hash} {state.clean_version} {sources.get(url, '')}"
        inventory = state.inventory or ""
        inputs = index_inputs(cleaned, inventory, inventories)
        if not rebuild and state.indexed_hash is not None and state.index_inputs == inputs:
            continue
        entries[url] = inventories.entries.of(inventory, url)
        wanted[url] = (index_hash(cleaned, entries[url]), inputs)
    todo = [url for url in wanted if rebuild or states[url].indexed_hash != wanted[url][0]]
    if not todo and not removed and not rebuild:
        return IndexPlan(None, wanted, False)
    gone = dict.fromkeys(stubs, (None, None))
    pages = tuple(PageToIndex(url, sources.get(url, ""), entries[url]) for url in todo)
    documents = StoredDocuments(store.data_dir / STATE_FILE, pages)
    return IndexPlan(documents, {**wanted, **gone}, rebuild, removed)
