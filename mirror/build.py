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

from mirror.clean import ExtractionRules, Page, clean_page, clean_version
from mirror.config import Config, Source
from mirror.crawl import Crawler, FetchRequest, FetchResult, SessionFactory
from mirror.errors import InventoryError
from mirror.index import (
    INDEX_VERSION,
    SearchIndex,
    documents_for,
    export_key,
    static_index_files_for,
    update_and_export,
)
from mirror.inventory import (
    InventoryEntry,
    entries_by_page,
    index_hash,
    parse_inventory,
    symbols_with_inventory,
)
from mirror.render import (
    SEARCH_DIR,
    PageContext,
    PageEntry,
    PageLink,
    SiteRenderer,
    display_date,
    format_day,
)
from mirror.store import AssetState, Change, PageState, Store, page_from_json, page_to_json
from mirror.urls import in_scope, local_asset_path_for, local_path_for, normalize_url

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
    pages: int  # configured URLs
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
            members = _members_offline(config, store.states(), graph)
            rules = _rules_by_url(config, members)
            _reclean_all(store, _flatten(members), now, tally, fresh, on_progress, rules, processes)
        else:
            crawler = Crawler(config.crawl, workers=workers, session_factory=session_factory)
            members = _fetch(
                store, crawler, config, graph, full, now, tally, fresh, on_progress, processes
            )
        urls = _flatten(members)
        removed = _remove_unlisted(store, renderer, set(urls), now)
        tally.removed = len(removed)
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
            update_and_export, search_index.index_dir, todo.documents, removed, export
        )
        stage = time.perf_counter()
        rendered, offsite = _render_site(store, renderer, members, states, full, fresh, images)
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
                store.set_meta("index_version", INDEX_VERSION)
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


def _remove_unlisted(
    store: Store, renderer: SiteRenderer, listed: set[str], now: float
) -> list[str]:
    """Forget URLs no longer in the config: state, raw copy and site file."""
    removed = []
    for url, state in store.states().items():
        if url in listed:
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


def _rules_by_url(
    config: Config, members: dict[str, list[str]]
) -> dict[str, ExtractionRules | None]:
    """Each page's extraction rules: those of the first source it belongs to."""
    rules: dict[str, ExtractionRules | None] = {}
    for source in config.sources:
        for url in members.get(source.name, ()):
            rules.setdefault(url, _rules(source))
    return rules


def _flatten(members: dict[str, list[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(url for urls in members.values() for url in urls))


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
) -> dict[str, list[str]]:
    """Fetch the listed URLs and, for sources that follow links, the in-scope pages they lead
    to (from this build's cleaned pages, or the stored link graph for unchanged ones).
    Returns each source's pages: listed ones in config order, then followed ones by URL."""
    states = store.states()
    source_of: dict[str, Source] = {}
    depth: dict[str, int] = {}
    counts: dict[str, int] = {}

    def request(url: str) -> FetchRequest:
        state = states.get(url)
        if full or state is None or not state.has_copy or not store.raw_path(url).exists():
            return FetchRequest(url)
        return FetchRequest(url, etag=state.etag, last_modified=state.last_modified)

    def plan(url: str, source: Source, level: int) -> bool:
        if url in source_of or counts.get(source.name, 0) >= source.max_pages:
            return False
        source_of[url], depth[url] = source, level
        counts[source.name] = counts.get(source.name, 0) + 1
        return True

    skipped: set[str] = set()
    done = 0
    cleaning: dict[Future[str], _PendingClean] = {}

    def settled(url: str, outcome: str, result: FetchResult) -> list[FetchRequest]:
        """Report one settled page; the requests for the links it leads to."""
        nonlocal done
        done += 1
        source = source_of[url]
        found = []
        if source.follow and depth[url] < source.depth:
            links = fresh[url].links if url in fresh else graph.get(url, ())
            for link in links:
                if in_scope(link, source.follow) and plan(link, source, depth[url] + 1):
                    found.append(request(link))
        if on_progress:
            on_progress(
                PageOutcome(
                    url,
                    outcome,
                    done,
                    len(source_of) - len(skipped),
                    len(result.body),
                    result.error,
                    crawler.retries_made,
                )
            )
        return found

    def finish(futures: set[Future[str]]) -> list[FetchRequest]:
        found = []
        for future in futures:
            pending = cleaning.pop(future)
            outcome = _finish_clean(store, pending, future.result(), now, tally, fresh)
            found += settled(pending.result.url, outcome, pending.result)
        return found

    batch = [request(url) for s in config.sources for url in s.urls if plan(url, s, 0)]
    pool = processes.pool_for(len(batch))
    while batch or cleaning:
        for result in crawler.fetch_all(batch) if batch else ():
            url = result.url
            if depth[url] and (result.error or "").startswith("not an HTML page"):
                skipped.add(url)  # a followed link to a file that is not a page: not ours
                continue
            rules = _rules(source_of[url])
            outcome = _settle(store, result, states.get(url), full, now, tally, rules)
            if isinstance(outcome, _PendingClean):
                cleaning[pool.submit(clean_page_json, outcome.body, url, rules)] = outcome
            else:
                for found in settled(url, outcome, result):
                    crawler.add(found)
            for found in finish({f for f in cleaning if f.done()}):
                crawler.add(found)
        # the crawl ran dry while pages are still being cleaned: their links come next
        batch = finish(_some_done(cleaning)) if cleaning else []
    members: dict[str, list[str]] = {}
    for source in config.sources:
        listed = [u for u in source.urls if source_of.get(u) is source]
        followed = sorted(
            u for u, s in source_of.items() if s is source and depth[u] and u not in skipped
        )
        members[source.name] = listed + followed
    return members


def _members_offline(
    config: Config, states: dict[str, PageState], graph: dict[str, tuple[str, ...]]
) -> dict[str, list[str]]:
    """Each source's pages as the stored link graph gives them, for a build without network."""
    members: dict[str, list[str]] = {}
    seen: set[str] = set()
    for source in config.sources:
        listed = [u for u in source.urls if u not in seen]
        seen.update(listed)
        followed: list[str] = []
        frontier = [u for u in listed if u in states and states[u].has_copy]
        for _ in range(source.depth if source.follow else 0):
            step = []
            for url in frontier:
                for link in graph.get(url, ()):
                    state = states.get(link)
                    usable = state is not None and state.has_copy
                    if usable and link not in seen and in_scope(link, source.follow):
                        if len(listed) + len(followed) >= source.max_pages:
                            break
                        seen.add(link)
                        followed.append(link)
                        step.append(link)
            frontier = step
        members[source.name] = listed + sorted(followed)
    return members


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
        and state.has_copy
        and state.raw_sha256 == sha
        and state.clean_version == version
    )
    if not same_bytes:
        return _PendingClean(result, result.body, state, rules, not_modified=False)
    with store.transaction():
        _record_fetch(store, result, sha, now)
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


def clean_page_json(body: bytes, url: str, rules: ExtractionRules | None) -> str:
    """`clean_page`, as the store keeps it (`page_to_json`): made in a cleaning worker, so that
    the build's main thread, which stores the pages, only reads it back."""
    return page_to_json(clean_page(body, url, rules))


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
    """Save a freshly cleaned page (`clean_page_json`, cleaned with `rules`); only a different
    cleaned content counts as a change."""
    page = page_from_json(page_json)
    had_copy = state is not None and state.has_copy
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
    urls: tuple[str, ...],
    now: float,
    tally: _Tally,
    fresh: dict[str, Page],
    on_progress: ProgressCallback | None,
    rules: dict[str, ExtractionRules | None],
    processes: _ProcessPool,
) -> None:
    """--offline: clean every stored raw page again, without the network, with the extraction
    `rules` of its source."""
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
        cleaning[pool.submit(clean_page_json, raw, url, rules.get(url))] = url
    while cleaning:
        for future in _some_done(cleaning):
            url = cleaning.pop(future)
            with store.transaction():
                outcome = _store_page(
                    store, future.result(), states[url], now, tally, fresh, rules=rules.get(url)
                )
            report(url, outcome)


@dataclass(frozen=True, slots=True)
class _IndexTodo:
    documents: list[tuple[str, list[dict[str, str]]]] | None  # None: the index is up to date
    wanted: dict[str, str]  # url -> the index_hash it is indexed with once updated
    rebuild: bool  # the index was emptied: `documents` are all it will hold


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
    whose entries changed, and only those. An index to rebuild is emptied here."""
    rebuild = full or store.get_meta("index_version") != INDEX_VERSION or not search_index.exists
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
    documents = []
    for url in todo:
        page = fresh.get(url) or store.load_page(url)
        if page is not None:
            page = symbols_with_inventory(page, entries[url])
            documents.append((url, documents_for(page, local_path_for(url))))
    return _IndexTodo(documents, {url: wanted[url] for url in todo}, rebuild)


def _render_site(
    store: Store,
    renderer: SiteRenderer,
    members: dict[str, list[str]],
    states: dict[str, PageState],
    full: bool,
    fresh: dict[str, Page],
    images: dict[str, str],
) -> tuple[int, int]:
    """Render each page whose inputs changed, then the site-wide pages; (written, offsite links)."""
    mirrored = [u for u in _flatten(members) if u in states and states[u].has_copy]
    local_paths = {url: local_path_for(url) for url in mirrored}
    for url in mirrored:  # a redirect's target is the same local page
        final = states[url].final_url
        if final:
            with contextlib.suppress(ValueError):
                local_paths.setdefault(normalize_url(final), local_paths[url])
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
    """Ask the servers conditionally what changed since the last build; write nothing."""
    state_file = config.site.data_dir / "state.sqlite3"
    states: dict[str, PageState] = {}
    outcomes: list[tuple[str, str]] = []
    failed: list[FailedURL] = []
    store = Store(config.site.data_dir) if state_file.exists() else None
    try:
        if store is not None:
            states = store.states()
        plan = [
            FetchRequest(url, etag=s.etag, last_modified=s.last_modified)
            if (s := states.get(url)) is not None and s.has_copy
            else FetchRequest(url)
            for url in config.urls
        ]
        crawler = Crawler(config.crawl, workers=workers, session_factory=session_factory)
        rules = _rules_by_url(config, {s.name: list(s.urls) for s in config.sources})
        for result in crawler.fetch_all(plan):
            state = states.get(result.url)
            has_copy = state is not None and state.has_copy
            if not result.ok:
                failed.append(FailedURL(result.url, result.error or "failed", has_copy))
            elif result.not_modified:
                outcomes.append((result.url, "not_modified"))
            elif state is None or not has_copy:
                outcomes.append((result.url, "new"))
            elif state.raw_sha256 == hashlib.sha256(result.body).hexdigest():
                outcomes.append((result.url, "unchanged"))
            else:
                content = clean_page(result.body, result.url, rules.get(result.url)).content_hash
                outcomes.append(
                    (result.url, "unchanged" if content == state.content_hash else "updated")
                )
    finally:
        if store is not None:
            store.close()
    listed = set(config.urls)
    outcomes += [(url, "removed") for url in states if url not in listed]
    order = {url: i for i, url in enumerate(config.urls)}
    outcomes.sort(key=lambda item: (order.get(item[0], len(order)), item[0]))
    failed.sort(key=lambda f: order[f.url])
    return CheckReport(outcomes=tuple(outcomes), failed=tuple(failed))
