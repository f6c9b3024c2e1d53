"""One build, as a list of stages: gather the mirror's pages (fetched, or cleaned again offline),
the images and inventories they need, then the search index (in a worker) beside the site (here).
Each stage is a function of what the earlier ones made; `BuildContext` holds what they share.
Never prints: progress goes through the caller's callback, the result is a `BuildReport`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal

import requests

from mirror.build.assets import InventoriesInUse, mirror_images, mirror_inventories
from mirror.build.context import BuildContext
from mirror.build.fetching import fetch_pages, reclean_stored, remove_nonmembers
from mirror.build.indexing import IndexPlan, plan_index
from mirror.build.lock import data_lock
from mirror.build.membership import Membership
from mirror.build.pool import ProcessPool
from mirror.build.rendering import render_site
from mirror.build.repair import (
    EXPORT_MANIFEST,
    INDEX_MANIFEST,
    check_index,
    export_damage,
    export_manifest,
    index_manifest,
    open_state,
    restore_state,
)
from mirror.build.report import BuildReport, FailedURL, ProgressCallback, Tally
from mirror.build.store import PageState, Store
from mirror.config import Config
from mirror.fetch.crawl import Crawler, SessionFactory
from mirror.search.export import export_key, update_and_export
from mirror.search.index_files import index_version
from mirror.site.render import SEARCH_DIR, SiteRenderer
from mirror.urls import local_path_for

Clock = Callable[[], float]


def run_build(
    config: Config,
    *,
    full: bool = False,
    offline: bool = False,
    workers: int | None = None,
    session_factory: SessionFactory = requests.Session,
    clock: Clock = time.time,
    on_progress: ProgressCallback | None = None,
    parallel: bool | None = None,
) -> BuildReport:
    """Bring the data folder and the site up to date with `config` and the sources.
    `parallel`: clean and index in a process pool (default: when there are many pages)."""
    started = time.perf_counter()
    tally = Tally()
    crawler = None
    if not offline:
        crawler = Crawler(config.crawl, workers=workers, session_factory=session_factory)
    now = clock()
    with (
        data_lock(config.site.data_dir, clock),
        ProcessPool(parallel) as processes,
        _opened_store(config, now, tally, processes) as store,
    ):
        build = BuildContext(
            config=config,
            store=store,
            renderer=SiteRenderer(config.site.output_dir, config.site.title),
            index_dir=config.site.data_dir / "index",
            processes=processes,
            tally=tally,
            now=now,
            full=full,
            crawler=crawler,
            on_progress=on_progress,
        )
        with tally.timed("clean" if offline else "fetch"):
            membership, removed = gather_pages(build)
        processes.release()  # the cleaning workers: the index stage starts a fresh one
        pages = membership.pages
        with tally.timed("images"):
            images = mirror_images(
                store, build.renderer, crawler, set(pages), full, build.now, tally, build.prefetched
            )
        states = store.states()  # as the pages' stage left them
        with tally.timed("inventories"):
            inventories = mirror_inventories(
                store, crawler, states, pages, full, build.now, tally, build.prefetched
            )
        rendered, offsite, indexed = index_and_render(
            build, membership, removed, inventories, images, states
        )
    counts = (rendered, offsite, indexed, len(images), len(inventories.kept))
    return report(tally, membership, *counts, crawler, started)


@contextmanager
def _opened_store(
    config: Config, now: float, tally: Tally, processes: ProcessPool
) -> Iterator[Store]:
    """The data folder's store; a damaged state database is set aside and restored from the
    raw pages on disk, before any stage trusts it."""
    store, repair = open_state(config.site.data_dir, now)
    with store:
        if repair is not None:
            tally.repaired.append(repair)
            restore_state(store, config, processes)
        yield store


def gather_pages(build: BuildContext) -> tuple[Membership, list[str]]:
    """The mirror's pages, fetched (or, offline, cleaned again from the stored raw pages), and
    the URLs that left it, forgotten along with their site files."""
    store, tally = build.store, build.tally
    membership = reclean_stored(build) if build.crawler is None else fetch_pages(build)
    removed = remove_nonmembers(store, build.renderer, set(membership.urls), build.now)
    for url in tally.unpaged:  # a page that became a stub leaves the site
        build.renderer.remove(local_path_for(url))
    tally.removed = len(removed) + len(tally.unpaged)
    tally.failed += [FailedURL(b.url, b.reason, kept_copy=False) for b in membership.broken]
    return membership, removed


def index_and_render(
    build: BuildContext,
    membership: Membership,
    removed: list[str],
    inventories: InventoriesInUse,
    images: dict[str, str],
    states: dict[str, PageState],
) -> tuple[int, int, int]:
    """Bring the search index and its static export up to date in a worker while this process
    renders the site; (pages written, links leaving the mirror, pages indexed). `states`: the
    store's, as the pages' stage left them."""
    store, tally = build.store, build.tally
    if not build.full and (damage := check_index(store, build.index_dir)):
        tally.repaired.append(damage)  # cleared: rebuilt from the stored pages
    plan = plan_index(
        store,
        build.index_dir,
        states,
        membership.pages,
        removed,
        build.full,
        inventories,
        membership.source_of,
    )
    pool = build.processes.pool_for(len(plan.documents or ()))
    indexing = pool.submit(
        update_and_export,
        build.index_dir,
        plan.documents,
        plan.removed,
        _export_mode(build, plan),
    )
    with tally.timed("render"):
        rendered, offsite = render_site(
            store, build.renderer, membership, states, build.full, images, tally.repaired
        )
    update = indexing.result()
    tally.stages["index"] = update.index_seconds
    tally.stages["export"] = update.export_seconds
    with store.transaction():
        store.set_indexed(plan.wanted)
        if plan.documents is not None:
            store.set_meta("index_version", index_version())
            store.set_meta(INDEX_MANIFEST, index_manifest(build.index_dir))
    if update.files is not None:
        _write_export(build, update.files)
    return rendered, offsite, update.indexed


def _export_mode(build: BuildContext, plan: IndexPlan) -> Literal["always", "if-changed"]:
    """When the index worker exports the static search index, from the index once updated:
    always if the index was rebuilt or the export is stale, missing or damaged (a file not as
    its manifest says), else only if the update changed the index."""
    stale = build.store.get_meta("export_key") != export_key()  # cut short, or another docmirror
    folder = build.config.site.output_dir / SEARCH_DIR
    damage = None
    if not build.full and not stale:  # else exported anyway
        damage = export_damage(folder, build.store.get_meta(EXPORT_MANIFEST))
    if damage is not None:
        build.tally.repaired.append(damage)
    exported = folder / "meta.js"
    if plan.rebuild or build.full or stale or damage or not exported.exists():
        return "always"
    return "if-changed"


def _write_export(build: BuildContext, files: dict[str, bytes]) -> None:
    """Write the static search index's files; until the folder is whole, the state says the
    export is stale, so that a build cut short has the next one export again. Then the
    manifest of their hashes, which the next build checks them against."""
    with build.store.transaction():
        build.store.set_meta("export_key", "")
    build.renderer.write_folder(SEARCH_DIR, files)
    with build.store.transaction():
        build.store.set_meta("export_key", export_key())
        folder = build.config.site.output_dir / SEARCH_DIR
        build.store.set_meta(EXPORT_MANIFEST, export_manifest(folder, files))


def report(
    tally: Tally,
    membership: Membership,
    rendered: int,
    offsite: int,
    indexed: int,
    images: int,
    inventories: int,
    crawler: Crawler | None,
    started: float,
) -> BuildReport:
    """The build's report, failures in the mirror's order."""
    order = {url: i for i, url in enumerate(membership.pages)}
    return BuildReport(
        pages=len(membership.pages),
        fetched=tally.fetched,
        not_modified=tally.not_modified,
        unchanged=tally.unchanged,
        new=tally.new,
        updated=tally.updated,
        removed=tally.removed,
        rendered=rendered,
        indexed=indexed,
        offsite_links=offsite,
        failed=tuple(sorted(tally.failed, key=lambda f: (order.get(f.url, len(order)), f.url))),
        stages=tuple(tally.stages.items()),
        seconds=time.perf_counter() - started,
        bytes_received=tally.bytes_received,
        retries=crawler.retries_made if crawler else 0,
        images=images,
        image_failures=tuple(tally.image_failures),
        inventories=inventories,
        inventory_failures=tuple(tally.inventory_failures),
        redirects=len(membership.redirects),
        skipped=membership.skipped,
        repaired=tuple(tally.repaired),
    )
