"""One build, from plan to report: fetch what is configured, keep what did not change, and
bring the index and the site up to date with the stored state. Never prints."""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import requests

from mirror.build.membership import Found, Frontier, Membership, SkippedURL, membership_from
from mirror.build.store import AssetState, Change, PageState, Store
from mirror.clean.extract import clean_document, clean_to_json, clean_version
from mirror.clean.inventory import (
    InventoryEntry,
    entries_by_page,
    index_hash,
    parse_inventory,
    symbols_with_inventory,
)
from mirror.clean.page import ExtractionRules, Page, Redirect, document_from_json
from mirror.clean.redirects import meta_refresh_target
from mirror.config import Config, Source
from mirror.errors import InventoryError
from mirror.fetch.crawl import Crawler, FetchRequest, FetchResult, SessionFactory
from mirror.search.export import export_key, static_index_files_for, update_and_export
from mirror.search.index import SearchIndex, documents_for, index_version
from mirror.site.render import (
    SEARCH_DIR,
    PageContext,
    PageEntry,
    PageLink,
    SiteRenderer,
    display_date,
    format_day,
)
from mirror.urls import local_asset_path_for, local_path_for, normalize_url

Clock = Callable[[], float]
T = TypeVar("T")
PARALLEL_PAGES = 32  # from this many pages on, a stage cleans or indexes in a process pool


@dataclass(frozen=True, slots=True)
class FailedURL:
    url: str
    error: str  # the reason, one line
    kept_copy: bool  # an earlier good copy stays in the site


@dataclass(frozen=True, slots=True)
class PageOutcome:
    """Sent to the progress callback as each URL is settled."""

    url: str
    outcome: str  # new, updated, unchanged, not_modified, failed
    done: int
    total: int
    size: int  # bytes received
    error: str | None = None
    retries: int = 0  # retries made so far in this build


ProgressCallback = Callable[[PageOutcome], None]


@dataclass(frozen=True, slots=True)
class BuildReport:
    pages: int  # pages of the mirror: listed and followed, redirect stubs not counted
    fetched: int  # answered 200
    not_modified: int  # answered 304
    unchanged: int  # fetched or re-cleaned, but the cleaned content is the same
    new: int
    updated: int
    removed: int  # left the config, so the site, the index and the state
    rendered: int  # page files written
    indexed: int  # pages (re)indexed
    offsite_links: int  # links in the site that leave the mirror
    failed: tuple[FailedURL, ...]
    stages: tuple[tuple[str, float], ...]  # (stage, seconds)
    seconds: float
    bytes_received: int = 0
    retries: int = 0
    images: int = 0  # images shown from disk
    image_failures: tuple[FailedURL, ...] = ()  # images that could not be fetched (not fatal)
    inventories: int = 0  # Sphinx inventories whose entries the index uses
    inventory_failures: tuple[FailedURL, ...] = ()  # inventories not fetched or not readable
    redirects: int = 0  # HTML redirect stubs, each followed to the page it leads to
    skipped: tuple[SkippedURL, ...] = ()  # in-scope links a bound of their source left out

    def to_json(self) -> dict[str, Any]:
        """The `--json` report of the command-line contract."""
        return {
            "pages": self.pages,
            "fetched": self.fetched,
            "not_modified": self.not_modified,
            "unchanged": self.unchanged,
            "new": self.new,
            "updated": self.updated,
            "removed": self.removed,
            "rendered": self.rendered,
            "indexed": self.indexed,
            "offsite_links": self.offsite_links,
            "bytes": self.bytes_received,
            "images": self.images,
            "images_failed": [{"url": f.url, "error": f.error} for f in self.image_failures],
            "inventories": self.inventories,
            "inventories_failed": [
                {"url": f.url, "error": f.error, "kept_copy": f.kept_copy}
                for f in self.inventory_failures
            ],
            "retries": self.retries,
            "redirects": self.redirects,
            "skipped": [{"url": s.url, "source": s.source, "bound": s.bound} for s in self.skipped],
            "failed": [
                {"url": f.url, "error": f.error, "kept_copy": f.kept_copy} for f in self.failed
            ],
            "seconds": round(self.seconds, 3),
            "stages": {name: round(secs, 3) for name, secs in self.stages},
        }


@dataclass
class _Tally:
    fetched: int = 0
    not_modified: int = 0
    unchanged: int = 0
    new: int = 0
    updated: int = 0
    removed: int = 0
    bytes_received: int = 0
    failed: list[FailedURL] = field(default_factory=list)
    image_failures: list[FailedURL] = field(default_factory=list)
    inventory_failures: list[FailedURL] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)
    stubs: dict[str, str] = field(default_factory=dict)  # cleaned this build: stub URL -> target
    unpaged: list[str] = field(default_factory=list)  # pages that became stubs in this build


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
    tally = _Tally()
    with Store(config.site.data_dir) as store, _ProcessPool(parallel) as processes:
        renderer = SiteRenderer(config.site.output_dir, config.site.title)
        search_index = SearchIndex(config.site.data_dir / "index")
        now = clock()

        stage = time.perf_counter()
        fresh: dict[str, Page] = {}  # pages cleaned in this build, by URL
        graph = store.links()
        crawler: Crawler | None = None  # none without the network
        if offline:
            membership = _reclean_all(store, config, now, tally, fresh, on_progress, processes)
        else:
            crawler = Crawler(config.crawl, workers=workers, session_factory=session_factory)
            membership = _fetch(
                store, crawler, config, graph, full, now, tally, fresh, on_progress, processes
            )
        urls = membership.pages
        removed = _remove_nonmembers(store, renderer, set(membership.urls), now)
        for url in tally.unpaged:  # a page that became a stub leaves the site
            renderer.remove(local_path_for(url))
        tally.removed = len(removed) + len(tally.unpaged)
        tally.failed += [FailedURL(b.url, b.reason, kept_copy=False) for b in membership.broken]
        tally.stages["fetch" if not offline else "clean"] = time.perf_counter() - stage

        stage = time.perf_counter()
        images = _mirror_images(store, renderer, crawler, set(urls), full, now, tally)
        tally.stages["images"] = time.perf_counter() - stage

        stage = time.perf_counter()
        states = store.states()
        inventories = _mirror_inventories(store, crawler, states, urls, full, now, tally)
        tally.stages["inventories"] = time.perf_counter() - stage

        exported = config.site.output_dir / SEARCH_DIR / "meta.js"
        settings = export_key()
        stale = store.get_meta("export_key") != settings  # exported by another docmirror
        todo = _index_todo(store, search_index, states, urls, removed, full, fresh, inventories)
        # The index is made in a worker while this process renders the site. A rebuilt index
        # is exported here, from its documents, while the worker writes it; an updated one is
        # exported by the worker, from the index, once updated.
        rebuilt = todo.documents if todo.rebuild and todo.documents else None  # exported here
        export: Literal["always", "if-changed", "never"]
        if rebuilt:
            export = "never"
        elif full or stale or not exported.exists():
            export = "always"
        else:
            export = "if-changed"
        pool = processes.pool_for(len(todo.documents or ()))
        indexing = pool.submit(
            update_and_export, search_index.index_dir, todo.documents, todo.removed, export
        )
        stage = time.perf_counter()
        rendered, offsite = _render_site(store, renderer, membership, states, full, fresh, images)
        render_seconds = time.perf_counter() - stage
        files: dict[str, bytes] | None = None
        if rebuilt:
            stage = time.perf_counter()
            files = static_index_files_for(d for _, docs in rebuilt for d in docs)
            export_seconds = time.perf_counter() - stage
        update = indexing.result()  # its export is written once the index is
        if not rebuilt:
            files, export_seconds = update.files, update.export_seconds
        if todo.documents is not None:
            with store.transaction():
                store.set_indexed(todo.wanted)
                store.set_meta("index_version", index_version())
        if files is not None:
            with store.transaction():  # until the folder is whole: a build cut short...
                store.set_meta("export_key", "")  # ...leaves it stale, exported again next time
            renderer.write_folder(SEARCH_DIR, files)
            with store.transaction():
                store.set_meta("export_key", settings)
        tally.stages["index"] = update.index_seconds
        tally.stages["export"] = export_seconds
        tally.stages["render"] = render_seconds

    order = {url: i for i, url in enumerate(urls)}
    return BuildReport(
        pages=len(urls),
        fetched=tally.fetched,
        not_modified=tally.not_modified,
        unchanged=tally.unchanged,
        new=tally.new,
        updated=tally.updated,
        removed=tally.removed,
        rendered=rendered,
        indexed=update.indexed,
        offsite_links=offsite,
        failed=tuple(sorted(tally.failed, key=lambda f: (order.get(f.url, len(order)), f.url))),
        stages=tuple(tally.stages.items()),
        seconds=time.perf_counter() - started,
        bytes_received=tally.bytes_received,
        retries=crawler.retries_made if crawler else 0,
        images=len(images),
        image_failures=tuple(tally.image_failures),
        inventories=len(inventories),
        inventory_failures=tuple(tally.inventory_failures),
        redirects=len(membership.redirects),
        skipped=membership.skipped,
    )


def _mirror_inventories(
    store: Store,
    crawler: Crawler | None,
    states: dict[str, PageState],
    pages: tuple[str, ...],
    full: bool,
    now: float,
    tally: _Tally,
) -> dict[str, dict[str, tuple[InventoryEntry, ...]]]:
    """Fetch the Sphinx inventories the mirrored pages name (conditionally, through the crawler,
    so robots.txt and the politeness settings apply; none without a crawler) and read the kept
    copies. Returns inventory URL -> page URL -> that page's entries, for the inventories in use.

    Never fails the build: an inventory that is gone (404, 410) or unreadable is dropped, and its
    pages keep the symbols clean found; any other failure keeps the last good copy in use."""
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
        plan = _conditional_requests(wanted, known, store.inventory_path, full, "file")
        for result in crawler.fetch_all(plan):
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
    inventories: dict[str, dict[str, tuple[InventoryEntry, ...]]] = {}
    for url in wanted:
        entries = parsed.get(url)
        if entries is None:
            data = store.read_inventory(url)
            if data is None:
                continue
            try:
                entries = parse_inventory(data, url)
            except InventoryError:  # a kept copy damaged on disk: as if there were none
                continue
        inventories[url] = entries_by_page(entries)
    return inventories


def _conditional_requests(
    urls: list[str],
    known: dict[str, AssetState],
    kept_at: Callable[[str], Path],
    full: bool,
    kind: Literal["image", "file"],
) -> list[FetchRequest]:
    """A request for each of `urls`, conditional where a good copy is kept (not with `full`)."""
    requests_ = []
    for url in urls:
        state = known.get(url)
        if not full and state is not None and state.sha256 is not None and kept_at(url).exists():
            requests_.append(FetchRequest(url, state.etag, state.last_modified, kind=kind))
        else:
            requests_.append(FetchRequest(url, kind=kind))
    return requests_


def _mirror_images(
    store: Store,
    renderer: SiteRenderer,
    crawler: Crawler | None,
    pages: set[str],
    full: bool,
    now: float,
    tally: _Tally,
) -> dict[str, str]:
    """Fetch the images the mirrored pages show (conditionally; none without a crawler), copy
    them into the site and drop those no page shows any more. Returns URL -> site path of the
    images on disk. A failed image keeps its earlier copy and does not fail the build."""
    shown = store.page_assets()
    wanted = sorted({url for page in pages for url in shown.get(page, ())})
    states = store.asset_states()
    if crawler is not None and wanted:
        plan = _conditional_requests(wanted, states, store.asset_path, full, "image")
        for result in crawler.fetch_all(plan):
            tally.bytes_received += len(result.body)
            with store.transaction():
                if not result.ok:
                    store.record_asset_error(result.url, result.error or "failed")
                    kept = store.asset_path(result.url).exists()
                    tally.image_failures.append(FailedURL(result.url, result.error or "", kept))
                elif not result.not_modified:
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


def _remove_nonmembers(
    store: Store, renderer: SiteRenderer, members: set[str], now: float
) -> list[str]:
    """Forget URLs the mirror no longer holds (`membership`): state, raw copy and site file."""
    removed = []
    for url, state in store.states().items():
        if url in members:
            continue
        with store.transaction():
            if state.has_copy:
                store.add_change(Change(now, url, state.title or url, "removed"))
            store.remove(url)
        renderer.remove(local_path_for(url))
        removed.append(url)
    return removed


def _rules(source: Source) -> ExtractionRules | None:
    """The source's own extraction rules (its `content` and `drop` keys); None for the defaults."""
    return ExtractionRules(source.content, source.drop) or None


def _rules_by_url(config: Config, membership: Membership) -> dict[str, ExtractionRules | None]:
    """The extraction rules of each URL's source."""
    sources = {source.name: source for source in config.sources}
    return {url: _rules(sources[name]) for url, name, _ in membership.depths}


def found_in_store(
    url: str, states: dict[str, PageState], graph: dict[str, tuple[str, ...]]
) -> Found:
    """What the state database says `url` is, for deciding membership without the network."""
    state = states.get(url)
    if state is None:
        return Found("not_page")  # never mirrored: a followed link to a file, or new
    if state.redirect:
        return Found("redirect", target=state.redirect)
    if state.has_copy:
        return Found("page", links=graph.get(url, ()))
    return Found("failed")


def stored_membership(config: Config, store: Store) -> Membership:
    """The mirror's pages as the state database holds them: what `--offline`, `--check` and
    `status` work on, decided by the rule the build uses (`Frontier`)."""
    states, graph = store.states(), store.links()
    return membership_from(config.sources, lambda url: found_in_store(url, states, graph))


def _fetch(
    store: Store,
    crawler: Crawler,
    config: Config,
    graph: dict[str, tuple[str, ...]],
    full: bool,
    now: float,
    tally: _Tally,
    fresh: dict[str, Page],
    on_progress: ProgressCallback | None,
    processes: _ProcessPool,
) -> Membership:
    """Fetch the listed URLs and the pages they lead to (links within `follow`, redirect stubs'
    targets), level by level as `Frontier` asks, cleaning each page as it arrives. What a page
    is comes from this build's cleaning, or from the stored state for one that did not change."""
    states = store.states()
    frontier = Frontier(config.sources)
    done = 0

    def request(url: str) -> FetchRequest:
        state = states.get(url)
        kept = state is not None and (state.has_copy or bool(state.redirect))
        if full or not kept or not store.raw_path(url).exists():
            return FetchRequest(url)
        assert state is not None
        return FetchRequest(url, etag=state.etag, last_modified=state.last_modified)

    def settled(url: str, outcome: str, result: FetchResult) -> None:
        """Tell the frontier what `url` is and report it as settled."""
        nonlocal done
        done += 1
        if url in fresh:
            found = Found("page", links=fresh[url].links)
        elif url in tally.stubs:
            found = Found("redirect", target=tally.stubs[url])
        elif outcome == "not_page":
            found = Found("not_page")
        elif outcome == "failed" and url not in states:
            found = Found("failed")
        else:
            found = found_in_store(url, states, graph)
        frontier.settle(url, found)
        if on_progress and outcome != "not_page":
            total = frontier.admitted
            on_progress(
                PageOutcome(
                    url, outcome, done, total, len(result.body), result.error, crawler.retries_made
                )
            )

    cleaning: dict[Future[str], _PendingClean] = {}

    def finish(futures: set[Future[str]]) -> None:
        for future in futures:
            pending = cleaning.pop(future)
            outcome = _finish_clean(store, pending, future.result(), now, tally, fresh)
            settled(pending.result.url, outcome, pending.result)

    while batch := frontier.batch():
        pool = processes.pool_for(len(batch))
        for result in crawler.fetch_all([request(url) for url in batch]):
            url = result.url
            if frontier.depth(url) and (result.error or "").startswith("not an HTML page"):
                done -= 1  # a followed link to a file that is not a page: not ours
                settled(url, "not_page", result)
                continue
            rules = _rules(frontier.source(url))
            outcome = _settle(store, result, states.get(url), full, now, tally, rules)
            if isinstance(outcome, _PendingClean):
                cleaning[pool.submit(clean_to_json, outcome.body, url, rules)] = outcome
            else:
                settled(url, outcome, result)
            finish({f for f in cleaning if f.done()})
        while cleaning:  # the level's last pages: their links decide the next batch
            finish(_some_done(cleaning))
    return frontier.result()


@dataclass(frozen=True, slots=True)
class _PendingClean:
    """A fetched page waiting for its cleaned version; stored only once that is ready, so a
    build killed meanwhile leaves the earlier state."""

    result: FetchResult
    body: bytes  # what to clean (the fetched body, or the stored raw page for a 304)
    state: PageState | None
    rules: ExtractionRules | None
    not_modified: bool  # a 304 whose stored copy is cleaned again (the cleaner changed)


def _settle(
    store: Store,
    result: FetchResult,
    state: PageState | None,
    full: bool,
    now: float,
    tally: _Tally,
    rules: ExtractionRules | None = None,
) -> str | _PendingClean:
    """Store one fetch result and say what it is (new, updated, unchanged, not_modified,
    failed), or hand back the page to clean first. `rules` are those of the page's source."""
    url = result.url
    version = clean_version(rules)  # changing the cleaner or the rules cleans the page again
    tally.bytes_received += len(result.body)
    if not result.ok:
        with store.transaction():
            store.record_error(url, result.error or "failed", now)
        kept = state is not None and state.has_copy
        tally.failed.append(FailedURL(url, result.error or "failed", kept))
        return "failed"
    if result.not_modified:
        with store.transaction():
            store.record_not_modified(url, now)
        tally.not_modified += 1
        if state is not None and state.clean_version != version:
            raw = store.read_raw(url)
            if raw is not None:
                return _PendingClean(result, raw, state, rules, not_modified=True)
        return "not_modified"
    tally.fetched += 1
    sha = hashlib.sha256(result.body).hexdigest()
    same_bytes = (
        not full
        and state is not None
        and (state.has_copy or bool(state.redirect))
        and state.raw_sha256 == sha
        and state.clean_version == version
    )
    if not same_bytes:
        return _PendingClean(result, result.body, state, rules, not_modified=False)
    with store.transaction():
        _record_fetch(store, result, sha, now)
    if state is not None and state.redirect:
        return "redirect"
    tally.unchanged += 1
    return "unchanged"


def _record_fetch(store: Store, result: FetchResult, sha: str, now: float) -> None:
    store.record_fetch(
        result.url,
        final_url=result.final_url,
        status=result.status,
        etag=result.etag,
        last_modified=result.last_modified,
        content_type=result.content_type,
        raw_sha256=sha,
        now=now,
    )


def _finish_clean(
    store: Store,
    pending: _PendingClean,
    page_json: str,
    now: float,
    tally: _Tally,
    fresh: dict[str, Page],
) -> str:
    """Store a fetched page with its cleaned version, in one transaction."""
    with store.transaction():
        if pending.not_modified:
            _store_page(store, page_json, pending.state, now, tally, fresh, False, pending.rules)
            return "not_modified"
        store.save_raw(pending.result.url, pending.body)
        _record_fetch(store, pending.result, hashlib.sha256(pending.body).hexdigest(), now)
        return _store_page(store, page_json, pending.state, now, tally, fresh, rules=pending.rules)


def _some_done(futures: Iterable[Future[str]]) -> set[Future[str]]:
    """Wait for at least one of `futures`, in short steps: a wait without a timeout cannot be
    interrupted by Ctrl-C when the signal lands on another thread."""
    while True:
        done, _ = wait(futures, timeout=0.25, return_when=FIRST_COMPLETED)
        if done:
            return done


def _ignore_sigint() -> None:
    """In a cleaning worker: Ctrl-C is the main process's to handle (it stops the pool)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _ProcessPool:
    """The process pool of a build's CPU-bound stages (cleaning pages, indexing them), sized to
    the cores since both hold the GIL; started on first use, with `forkserver` since forking a
    process that runs threads can deadlock. A stage with few pages works in this process, where
    starting workers costs more: `allowed` None decides by the number of pages, True and False
    always and never use the pool."""

    def __init__(self, allowed: bool | None) -> None:
        self._allowed = allowed
        self._pool: ProcessPoolExecutor | None = None

    def pool_for(self, pages: int) -> Executor:
        """Where a stage with `pages` pages to work on runs its tasks: the pool, or this process."""
        if not self._allowed and (self._allowed is False or pages < PARALLEL_PAGES):
            return _IN_PROCESS
        if self._pool is None:
            # After Ctrl-C the CLI leaves at once; multiprocessing's resource tracker would then
            # warn about the pool's semaphores, which the system frees anyway.
            quiet = "ignore:resource_tracker:UserWarning"
            if quiet not in sys.warnoptions:
                sys.warnoptions.append(quiet)
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(
                max_workers=os.cpu_count() or 2, mp_context=context, initializer=_ignore_sigint
            )
        return self._pool

    def __enter__(self) -> _ProcessPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is None:
            return
        if exc[0] is not None:  # interrupted: the workers' results are not wanted any more
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.terminate()
        self._pool.shutdown(wait=exc[0] is None, cancel_futures=True)


class _InProcess(Executor):
    """Runs each task at once, in this process."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


_IN_PROCESS = _InProcess()


def _store_page(
    store: Store,
    page_json: str,
    state: PageState | None,
    now: float,
    tally: _Tally,
    fresh: dict[str, Page],
    count: bool = True,
    rules: ExtractionRules | None = None,
) -> str:
    """Save a freshly cleaned page (`clean_to_json`, cleaned with `rules`); only a different
    cleaned content counts as a change. A redirect stub is kept as one, and is no page."""
    cleaned = document_from_json(page_json)
    had_copy = state is not None and state.has_copy
    if isinstance(cleaned, Redirect):
        store.save_redirect(cleaned.url, cleaned.target, clean_version(rules))
        tally.stubs[cleaned.url] = cleaned.target
        if state is not None and had_copy:
            store.add_change(Change(now, cleaned.url, state.title or cleaned.url, "removed"))
            tally.unpaged.append(cleaned.url)
        return "redirect"
    page = cleaned
    changed = not had_copy or (state is not None and state.content_hash != page.content_hash)
    store.save_page(page, clean_version(rules), now if changed else None, page_json)
    fresh[page.url] = page
    if changed:
        store.add_change(Change(now, page.url, page.title, "changed" if had_copy else "added"))
    outcome = "unchanged" if not changed else ("updated" if had_copy else "new")
    if count:
        setattr(tally, outcome, getattr(tally, outcome) + 1)
    return outcome


def _reclean_all(
    store: Store,
    config: Config,
    now: float,
    tally: _Tally,
    fresh: dict[str, Page],
    on_progress: ProgressCallback | None,
    processes: _ProcessPool,
) -> Membership:
    """--offline: clean every stored raw page of the mirror again, without the network, with
    the extraction rules of its source; the membership its stored pages then give."""
    membership = stored_membership(config, store)
    urls = membership.urls
    rules = _rules_by_url(config, membership)
    states = store.states()
    done = 0

    def report(url: str, outcome: str, error: str | None = None) -> None:
        nonlocal done
        done += 1
        if on_progress:
            on_progress(PageOutcome(url, outcome, done, len(urls), 0, error))

    pool = processes.pool_for(len(urls))
    cleaning: dict[Future[str], str] = {}
    for url in urls:
        raw = store.read_raw(url)
        if raw is None or url not in states:
            error = "no stored copy to rebuild from (run a build with the network first)"
            tally.failed.append(FailedURL(url, error, kept_copy=False))
            report(url, "failed", error)
            continue
        cleaning[pool.submit(clean_to_json, raw, url, rules.get(url))] = url
    while cleaning:
        for future in _some_done(cleaning):
            url = cleaning.pop(future)
            with store.transaction():
                outcome = _store_page(
                    store, future.result(), states[url], now, tally, fresh, rules=rules.get(url)
                )
            report(url, outcome)
    return stored_membership(config, store)


@dataclass(frozen=True, slots=True)
class _IndexTodo:
    documents: list[tuple[str, list[dict[str, str]]]] | None  # None: the index is up to date
    wanted: dict[str, str | None]  # url -> the index_hash it is indexed with once updated
    rebuild: bool  # the index was emptied: `documents` are all it will hold
    removed: list[str] = field(default_factory=list)  # pages to take out of the index


def _index_todo(
    store: Store,
    search_index: SearchIndex,
    states: dict[str, PageState],
    urls: tuple[str, ...],
    removed: list[str],
    full: bool,
    fresh: dict[str, Page],
    inventories: dict[str, dict[str, tuple[InventoryEntry, ...]]],
) -> _IndexTodo:
    """The index documents of every page whose indexed version is not its current one. A page's
    version is its content, the cleaner that cut it into sections and entries, and the entries
    its site's inventory has for it (`index_hash`), so a changed inventory re-indexes the pages
    whose entries changed, and only those. Pages that left the mirror, or became redirect stubs,
    are taken out. An index to rebuild is emptied here."""
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
        wanted[url] = index_hash(cleaned, entries[url])
    todo = [url for url in wanted if rebuild or states[url].indexed_hash != wanted[url]]
    if not todo and not removed and not rebuild:
        return _IndexTodo(None, {}, False)
    gone: dict[str, str | None] = dict.fromkeys(stubs)
    documents = []
    for url in todo:
        page = fresh.get(url) or store.load_page(url)
        if page is not None:
            page = symbols_with_inventory(page, entries[url])
            documents.append((url, documents_for(page, local_path_for(url))))
    return _IndexTodo(documents, {**gone, **{url: wanted[url] for url in todo}}, rebuild, removed)


def _render_site(
    store: Store,
    renderer: SiteRenderer,
    membership: Membership,
    states: dict[str, PageState],
    full: bool,
    fresh: dict[str, Page],
    images: dict[str, str],
) -> tuple[int, int]:
    """Render each page whose inputs changed, then the site-wide pages; (written, offsite links)."""
    members = membership.by_source
    mirrored = [u for u in membership.pages if u in states and states[u].has_copy]
    local_paths = {url: local_path_for(url) for url in mirrored}
    for url in mirrored:  # an HTTP redirect's target is the same local page
        final = states[url].final_url
        if final:
            with contextlib.suppress(ValueError):
                local_paths.setdefault(normalize_url(final), local_paths[url])
    for stub, target in membership.redirects:  # and so is an HTML redirect's
        if target in local_paths:
            local_paths.setdefault(stub, local_paths[target])
    graph = store.links()
    shown = store.page_assets()
    rendered = 0
    offsite_total = 0
    for source, urls in members.items():
        pages = [u for u in urls if u in local_paths and u in states and states[u].has_copy]
        for i, url in enumerate(pages):
            state = states[url]
            path = local_paths[url]
            context = PageContext(
                path=path,
                source=source,
                previous=_link_to(pages[i - 1], states, local_paths) if i > 0 else None,
                next=_link_to(pages[i + 1], states, local_paths) if i + 1 < len(pages) else None,
                last_changed=display_date(state.last_modified)
                or (format_day(state.changed_at) if state.changed_at else None),
                local_links=tuple(
                    sorted(
                        (dst, local_paths[dst]) for dst in graph.get(url, ()) if dst in local_paths
                    )
                ),
                local_images=tuple(
                    sorted((src, images[src]) for src in shown.get(url, ()) if src in images)
                ),
            )
            digest = renderer.page_digest(state.content_hash or "", context)
            output = renderer.output_dir / path
            if full or digest != state.render_digest or not output.exists():
                page = fresh.get(url) or store.load_page(url)
                if page is None:
                    continue
                written, offsite = renderer.render_page(page, context)
                rendered += written
                with store.transaction():
                    store.set_rendered(url, digest, offsite)
                offsite_total += offsite
            else:
                offsite_total += state.offsite_links or 0

    sources: dict[str, list[PageEntry]] = {}
    for source, urls in members.items():
        sources[source] = [
            PageEntry(
                url=u,
                path=local_paths[u],
                title=states[u].title or u,
                summary=states[u].summary or "",
                source=source,
            )
            for u in urls
            if u in local_paths and u in states
        ]
    renderer.render_home(sources)
    renderer.render_search()
    changes = [
        (format_day(c.at), c.kind, c.title, local_paths.get(c.url) if c.kind != "removed" else None)
        for c in store.recent_changes()
    ]
    renderer.render_changes(changes)
    renderer.write_static()
    return rendered, offsite_total


def _link_to(url: str, states: dict[str, PageState], local_paths: dict[str, str]) -> PageLink:
    return PageLink(path=local_paths[url], title=states[url].title or url)


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What a build would do now, found with conditional requests and nothing written."""

    outcomes: tuple[
        tuple[str, str], ...
    ]  # (url, new | updated | unchanged | not_modified | removed)
    failed: tuple[FailedURL, ...]

    def to_json(self) -> dict[str, Any]:
        grouped: dict[str, list[str]] = {
            k: [] for k in ("new", "updated", "unchanged", "not_modified", "removed")
        }
        for url, outcome in self.outcomes:
            grouped[outcome].append(url)
        return {
            **grouped,
            "failed": [
                {"url": f.url, "error": f.error, "kept_copy": f.kept_copy} for f in self.failed
            ],
        }


def check_build(
    config: Config,
    *,
    workers: int | None = None,
    session_factory: SessionFactory = requests.Session,
) -> CheckReport:
    """Ask the servers conditionally what changed since the last build, for every URL the mirror
    holds (`stored_membership`: listed, followed and redirect stubs); write nothing. Pages that
    changed pages would now link to are found by the build, not here."""
    state_file = config.site.data_dir / "state.sqlite3"
    states: dict[str, PageState] = {}
    outcomes: list[tuple[str, str]] = []
    failed: list[FailedURL] = []
    store = Store(config.site.data_dir) if state_file.exists() else None
    try:
        if store is not None:
            states = store.states()
            membership = stored_membership(config, store)
        else:
            membership = membership_from(config.sources, lambda url: Found("not_page"))
        urls = membership.urls
        plan = [
            FetchRequest(url, etag=s.etag, last_modified=s.last_modified)
            if (s := states.get(url)) is not None and (s.has_copy or s.redirect)
            else FetchRequest(url)
            for url in urls
        ]
        crawler = Crawler(config.crawl, workers=workers, session_factory=session_factory)
        rules = _rules_by_url(config, membership)
        for result in crawler.fetch_all(plan):
            url = result.url
            state = states.get(url)
            has_copy = state is not None and state.has_copy
            if not result.ok:
                failed.append(FailedURL(url, result.error or "failed", has_copy))
            elif result.not_modified:
                outcomes.append((url, "not_modified"))
            elif state is None or not (has_copy or state.redirect):
                outcomes.append((url, "new"))
            elif state.raw_sha256 == hashlib.sha256(result.body).hexdigest():
                outcomes.append((url, "unchanged"))
            elif state.redirect:
                same = meta_refresh_target(result.body, url) == state.redirect
                outcomes.append((url, "unchanged" if same else "updated"))
            else:
                cleaned = clean_document(result.body, url, rules.get(url))
                same = isinstance(cleaned, Page) and cleaned.content_hash == state.content_hash
                outcomes.append((url, "unchanged" if same else "updated"))
    finally:
        if store is not None:
            store.close()
    held = set(urls)
    outcomes += [(url, "removed") for url in states if url not in held]
    order = {url: i for i, url in enumerate(urls)}
    outcomes.sort(key=lambda item: (order.get(item[0], len(order)), item[0]))
    failed.sort(key=lambda f: order[f.url])
    return CheckReport(outcomes=tuple(outcomes), failed=tuple(failed))
