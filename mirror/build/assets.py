"""The files mirrored beside the pages: the images they show and the Sphinx inventories they name,
fetched conditionally and kept in the data folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Literal

from mirror.build.report import FailedURL, Tally
from mirror.build.store import AssetState, PageState, Store
from mirror.clean.inventory import (
    InventoryEntry,
    entries_by_page,
    parse_inventory,
)
from mirror.errors import InventoryError
from mirror.fetch.crawl import Crawler, FetchRequest, FetchResult
from mirror.site.render import (
    SiteRenderer,
)
from mirror.urls import local_asset_path_for


class InventoryEntries:
    """Each page's entries in the Sphinx inventory it names: from the inventories parsed in this
    build (`parsed`, by URL), else from the kept copy, read when a page of it is first asked
    about, so that a build that asks about none (its pages all indexed already) reads none."""

    def __init__(
        self, store: Store, parsed: Mapping[str, tuple[InventoryEntry, ...]] | None = None
    ) -> None:
        self._store = store
        self._by_page = {url: entries_by_page(e) for url, e in (parsed or {}).items()}

    def of(self, inventory: str | None, page: str) -> tuple[InventoryEntry, ...]:
        """The entries of the inventory at `inventory` (None or '': none) pointing to `page`."""
        if not inventory:
            return ()
        if inventory not in self._by_page:
            self._by_page[inventory] = kept_inventory(self._store, inventory) or {}
        return self._by_page[inventory].get(page, ())


@dataclass(frozen=True, slots=True)
class InventoriesInUse:
    """What the inventories stage leaves: the entries, and each inventory the mirrored pages
    name that has a kept copy, with that copy's sha256 (which tells a changed inventory)."""

    entries: InventoryEntries
    kept: dict[str, str]  # inventory URL -> sha256 of its kept copy


def kept_file_requests(store: Store) -> list[FetchRequest]:
    """Conditional requests for the images and inventories a good copy is kept of: a refresh
    sends them with its first pages (`fetch_pages`), rather than wait for the pages to name
    them again, one round trip each, at its end."""
    kept = _conditional_requests(store.inventory_states(), store.inventory_path, False, "file")
    kept += _conditional_requests(store.asset_states(), store.asset_path, False, "image")
    return [request for request in kept if request.etag or request.last_modified]


def _fetched(
    crawler: Crawler, requests_: list[FetchRequest], prefetched: Mapping[str, FetchResult]
) -> Iterator[FetchResult]:
    """The result of each request: the one fetched earlier with the pages if there is one, else
    fetched now."""
    earlier = [prefetched[r.url] for r in requests_ if r.url in prefetched]
    return chain(earlier, crawler.fetch_all([r for r in requests_ if r.url not in prefetched]))


def mirror_inventories(
    store: Store,
    crawler: Crawler | None,
    states: dict[str, PageState],
    pages: tuple[str, ...],
    full: bool,
    now: float,
    tally: Tally,
    prefetched: Mapping[str, FetchResult] | None = None,
) -> InventoriesInUse:
    """Fetch the Sphinx inventories the mirrored pages name (conditionally, through the crawler,
    so robots.txt and the politeness settings apply; none without a crawler); the inventories
    in use, their entries read from the kept copies as they are asked for.

    Never fails the build: an inventory that is gone (404, 410) or unreadable is dropped, and its
    pages keep the symbols clean found; any other failure keeps the last good copy in use.
    `prefetched`: results fetched with the pages (`kept_file_requests`), by URL."""
    wanted = sorted(
        {
            state.inventory
            for url in pages
            if (state := states.get(url)) is not None and state.has_copy and state.inventory
        }
    )
    known = store.inventory_states()
    parsed: dict[str, tuple[InventoryEntry, ...]] = {}
    if crawler is not None and wanted:
        known_wanted = {url: known.get(url) for url in wanted}
        plan = _conditional_requests(known_wanted, store.inventory_path, full, "file")
        for result in _fetched(crawler, plan, prefetched or {}):
            tally.bytes_received += len(result.body)
            url = result.url
            error = result.error
            if result.ok and not result.not_modified:
                try:
                    parsed[url] = parse_inventory(result.body, url)
                except InventoryError as exc:
                    error = str(exc)
            with store.transaction():
                if error is None and url in parsed:
                    store.save_inventory(url, result.body, result.etag, result.last_modified, now)
                elif error is not None:
                    gone = result.ok or result.gone  # unreadable, or not there (any more)
                    store.record_inventory_error(url, error, drop_copy=gone)
                    has_copy = not gone and store.inventory_path(url).exists()
                    tally.inventory_failures.append(FailedURL(url, error, has_copy))
    for url in sorted(set(known) - set(wanted)):  # no mirrored page names it any more
        with store.transaction():
            store.remove_inventory(url)
    kept = {
        url: sha256
        for url, state in store.inventory_states().items()
        if url in wanted and (sha256 := _kept_sha256(state, store.inventory_path)) is not None
    }
    return InventoriesInUse(InventoryEntries(store, parsed), kept)


def kept_inventory(store: Store, url: str) -> dict[str, tuple[InventoryEntry, ...]] | None:
    """The kept copy of the inventory at `url`, page URL -> its entries; None when there is
    none, or when it is damaged on disk (as if there were none)."""
    data = store.read_inventory(url)
    if data is None:
        return None
    try:
        return entries_by_page(parse_inventory(data, url))
    except InventoryError:
        return None


def _kept_sha256(state: AssetState, kept_at: Callable[[str], Path]) -> str | None:
    """The sha256 of the good copy of `state`'s file, None unless the state says one is kept
    and it is on disk (at `kept_at(url)`)."""
    return state.sha256 if state.sha256 is not None and kept_at(state.url).exists() else None


def _conditional_requests(
    known: Mapping[str, AssetState | None],
    kept_at: Callable[[str], Path],
    full: bool,
    kind: Literal["image", "file"],
) -> list[FetchRequest]:
    """A request for each URL of `known`, conditional where a good copy is kept (by its state,
    None if there is none; not with `full`)."""
    requests_ = []
    for url, state in known.items():
        if not full and state is not None and _kept_sha256(state, kept_at) is not None:
            requests_.append(FetchRequest(url, state.etag, state.last_modified, kind=kind))
        else:
            requests_.append(FetchRequest(url, kind=kind))
    return requests_


def mirror_images(
    store: Store,
    renderer: SiteRenderer,
    crawler: Crawler | None,
    pages: set[str],
    full: bool,
    now: float,
    tally: Tally,
    prefetched: Mapping[str, FetchResult] | None = None,
) -> dict[str, str]:
    """Fetch the images the mirrored pages show (conditionally; none without a crawler), copy
    them into the site and drop those no page shows any more. Returns URL -> site path of the
    images on disk. A failed image keeps its earlier copy and does not fail the build.
    `prefetched`: results fetched with the pages (`kept_file_requests`), by URL."""
    shown = store.page_assets()
    wanted = sorted({url for page in pages for url in shown.get(page, ())})
    states = store.asset_states()
    if crawler is not None and wanted:
        known_wanted = {url: states.get(url) for url in wanted}
        plan = _conditional_requests(known_wanted, store.asset_path, full, "image")
        for result in _fetched(crawler, plan, prefetched or {}):
            tally.bytes_received += len(result.body)
            if result.not_modified:  # the kept copy stands
                continue
            with store.transaction():
                if not result.ok:
                    store.record_asset_error(result.url, result.error or "failed")
                    kept = store.asset_path(result.url).exists()
                    tally.image_failures.append(FailedURL(result.url, result.error or "", kept))
                else:
                    store.save_asset(
                        result.url, result.body, result.etag, result.last_modified, now
                    )
    for url in sorted(set(states) - set(wanted)):
        with store.transaction():
            store.remove_asset(url)
        renderer.remove(local_asset_path_for(url))
    on_disk = {}
    for url in wanted:
        try:
            data = store.asset_path(url).read_bytes()
        except FileNotFoundError:
            continue
        on_disk[url] = local_asset_path_for(url)
        renderer.write_file(on_disk[url], data)
    return on_disk
