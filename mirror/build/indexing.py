"""The index stage's plan: which pages the search index must take in or drop, from the hashes in the
state database."""

from __future__ import annotations

from dataclasses import dataclass, field

from mirror.build.store import PageState, Store
from mirror.clean.inventory import (
    InventoryEntry,
    index_hash,
    symbols_with_inventory,
)
from mirror.clean.page import Page
from mirror.search.index import SearchIndex, documents_for, index_version
from mirror.urls import local_path_for


@dataclass(frozen=True, slots=True)
class IndexPlan:
    documents: list[tuple[str, list[dict[str, str]]]] | None  # None: the index is up to date
    wanted: dict[str, str | None]  # url -> the index_hash it is indexed with once updated
    rebuild: bool  # the index was emptied: `documents` are all it will hold
    removed: list[str] = field(default_factory=list)  # pages to take out of the index


def plan_index(
    store: Store,
    search_index: SearchIndex,
    states: dict[str, PageState],
    urls: tuple[str, ...],
    removed: list[str],
    full: bool,
    fresh: dict[str, Page],
    inventories: dict[str, dict[str, tuple[InventoryEntry, ...]]],
    sources: dict[str, str] | None = None,
) -> IndexPlan:
    """The index documents of every page whose indexed version is not its current one. A page's
    version is its content, the cleaner that cut it into sections and entries, and the entries
    its site's inventory has for it (`index_hash`), so a changed inventory re-indexes the pages
    whose entries changed, and only those. Pages that left the mirror, or became redirect stubs,
    are taken out. An index to rebuild is emptied here. `sources` names each page's source
    (each document carries it, so a page moved to another source is indexed again)."""
    sources = sources or {}
    stubs = [u for u, s in states.items() if s.indexed_hash is not None and not s.has_copy]
    removed = removed + stubs
    rebuild = full or store.get_meta("index_version") != index_version() or not search_index.exists
    if rebuild:
        search_index.clear()
    entries: dict[str, tuple[InventoryEntry, ...]] = {}
    wanted: dict[str, str] = {}  # url -> its index_hash
    for url in urls:
        state = states.get(url)
        if state is None or state.content_hash is None:
            continue
        entries[url] = inventories.get(state.inventory or "", {}).get(url, ())
        # the cleaner too: a new one may cut sections and entries differently, same content
        cleaned = f"{state.content_hash} {state.clean_version}"
        wanted[url] = index_hash(f"{cleaned} {sources.get(url, '')}", entries[url])
    todo = [url for url in wanted if rebuild or states[url].indexed_hash != wanted[url]]
    if not todo and not removed and not rebuild:
        return IndexPlan(None, {}, False)
    gone: dict[str, str | None] = dict.fromkeys(stubs)
    documents = []
    for url in todo:
        page = fresh.get(url) or store.load_page(url)
        if page is not None:
            page = symbols_with_inventory(page, entries[url])
            source = sources.get(url, "")
            documents.append((url, documents_for(page, local_path_for(url), source)))
    return IndexPlan(documents, {**gone, **{url: wanted[url] for url in todo}}, rebuild, removed)
