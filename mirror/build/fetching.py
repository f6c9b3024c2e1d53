"""The fetch stage: the mirror's pages fetched level by level as the membership rule asks, each
stored and cleaned as it arrives; its offline twin, cleaning the stored pages again; and the
pages that left the mirror forgotten."""

from __future__ import annotations

import hashlib
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from itertools import chain

from mirror.build.assets import kept_file_requests
from mirror.build.context import BuildContext
from mirror.build.membership import Found, Frontier, Membership, membership_from
from mirror.build.pool import WORKERS, some_done
from mirror.build.report import FailedURL, PageOutcome, Repair, Tally
from mirror.build.store import Change, PageState, Store
from mirror.clean.page import ExtractionRules, Redirect, clean_version, document_from_json
from mirror.config import Config, Source
from mirror.errors import DamagedError
from mirror.fetch.crawl import FetchRequest, FetchResult
from mirror.site.render import (
    SiteRenderer,
)
from mirror.urls import local_path_for

# pages fetched and waiting for a cleaning worker at most: beyond, the fetching waits for the
# cleaning, so that a fast network does not fill memory with bodies to clean
CLEANING_AHEAD = 4 * WORKERS
CHECKED_BATCH = 1000  # pages answering 304 recorded in one commit at most


def remove_nonmembers(
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


def source_rules(source: Source) -> ExtractionRules | None:
    """The source's own extraction rules (its `content` and `drop` keys); None for the defaults."""
    return ExtractionRules(source.content, source.drop) or None


def rules_by_url(config: Config, membership: Membership) -> dict[str, ExtractionRules | None]:
    """The extraction rules of each URL's source."""
    sources = {source.name: source for source in config.sources}
    return {url: source_rules(sources[name]) for url, name in membership.source_of.items()}


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


def stored_membership(
    config: Config, store: Store, states: dict[str, PageState] | None = None
) -> Membership:
    """The mirror's pages as the state database holds them: what `--offline`, `--check` and
    `status` work on, decided by the rule the build uses (`Frontier`). `states`: the store's,
    when the caller has read them already."""
    states = store.states() if states is None else states
    graph = store.links()
    return membership_from(config.sources, lambda url: found_in_store(url, states, graph))


def fetch_pages(build: BuildContext) -> Membership:
    """Fetch the listed URLs and the pages they lead to (links within `follow`, redirect stubs'
    targets), level by level as `Frontier` asks, cleaning each page as it arrives. What a page
    is comes from this build's cleaning, or from the stored state for one that did not change."""
    fetch = _PageFetch(build)
    files = [] if build.full else kept_file_requests(build.store)  # with the first level
    while batch := fetch.frontier.batch():
        fetch.level(batch, build.processes.pool_for(len(batch)), files)
        files = []
    return fetch.frontier.result()


class _PageFetch:
    """One fetch stage's state: the frontier deciding what to fetch, the pages being cleaned,
    the count of pages settled for the progress display."""

    def __init__(self, build: BuildContext) -> None:
        assert build.crawler is not None  # fetching needs the network
        store = build.store
        self.store, self.crawler, self.full, self.now = store, build.crawler, build.full, build.now
        self.tally, self.cleaned, self.on_progress = build.tally, build.cleaned, build.on_progress
        self.prefetched = build.prefetched
        self.graph = store.links()  # the stored links, for pages that did not change
        self.states = store.states()  # as the build found them
        self.frontier = Frontier(build.config.sources)
        self.cleaning: dict[Future[str], _PendingClean] = {}
        self.done = 0  # pages settled
        self.damaged: dict[str, str] = {}  # URL -> what is wrong with its raw copy
        self.checked: list[str] = []  # answered 304, not yet recorded

    def level(self, batch: list[str], pool: Executor, files: list[FetchRequest]) -> None:
        """Fetch `batch` and clean what it brings; every URL of it is settled on return.
        `files`: requests for images and inventories to send too, their results kept in
        `prefetched` for their stages."""
        pages = set(batch)
        files = [request for request in files if request.url not in pages]
        requests_ = chain(files, (self.request(url) for url in batch))  # made as sent
        asked = {request.url for request in files}
        for result in self.crawler.fetch_all(requests_):
            url = result.url
            if url in asked:
                self.prefetched[url] = result
                continue
            if self.frontier.depth(url) and (result.error or "").startswith("not an HTML page"):
                self.settled(url, "not_page", result)  # a followed link to a file: not ours
                continue
            rules = source_rules(self.frontier.source(url))
            state = self.states.get(url)
            damaged = url in self.damaged
            outcome = _settle(
                self.store,
                result,
                state,
                self.full,
                self.now,
                self.tally,
                self.checked,
                rules,
                damaged,
            )
            if len(self.checked) >= CHECKED_BATCH:
                self.write_checked()
            if isinstance(outcome, _PendingClean):
                from mirror.clean.extract import clean_to_json  # lxml: only once there is work

                self.cleaning[pool.submit(clean_to_json, outcome.body, url, rules)] = outcome
            else:
                self.settled(url, outcome, result)
            self.finish({f for f in self.cleaning if f.done()})
            while len(self.cleaning) >= CLEANING_AHEAD:  # the crawler waits meanwhile
                self.finish(some_done(self.cleaning))
        while self.cleaning:  # the level's last pages: their links decide the next batch
            self.finish(some_done(self.cleaning))
        self.write_checked()

    def write_checked(self) -> None:
        """Record the pages the server said are unchanged, in one commit: one per page was
        most of the time a refresh of thousands of unchanged pages took. A build killed
        meanwhile only has the next one ask about them again."""
        if not self.checked:
            return
        with self.store.transaction():
            self.store.record_not_modified(self.checked, self.now)
        self.checked.clear()

    def request(self, url: str) -> FetchRequest:
        """A conditional request when a good copy (of a page or a stub) is kept; unconditional
        when its raw copy is damaged, so that it is stored again."""
        state = self.states.get(url)
        kept = state is not None and state.kept_raw
        if self.full or state is None or not kept:
            return FetchRequest(url)
        damage = self.raw_damage(url, state)
        if damage is not None:
            self.damaged[url] = damage
            return FetchRequest(url)
        return FetchRequest(url, etag=state.etag, last_modified=state.last_modified)

    def raw_damage(self, url: str, state: PageState) -> str | None:
        """What is wrong with the raw copy of `url`: for every page what a stat tells (missing,
        truncated); its sha256 too when it is to be cleaned again (a 304 from a changed
        cleaner reads it)."""
        damage = self.store.raw_damage(state)
        version = clean_version(source_rules(self.frontier.source(url)))
        if damage is None and state.clean_version != version:
            try:
                self.store.read_raw(url, state.raw_sha256)
            except DamagedError as exc:
                damage = exc.reason
        return damage

    def finish(self, futures: set[Future[str]]) -> None:
        """Store the pages whose cleaning is done."""
        for future in futures:
            pending = self.cleaning.pop(future)
            outcome = _finish_clean(
                self.store, pending, future.result(), self.now, self.tally, self.cleaned
            )
            self.settled(pending.result.url, outcome, pending.result)

    def settled(self, url: str, outcome: str, result: FetchResult) -> None:
        """Tell the frontier what `url` is, and the progress display that it is settled."""
        self.frontier.settle(url, self.found(url, outcome))
        if url in self.damaged and outcome not in ("failed", "not_page"):  # stored again
            path = str(self.store.raw_path(url))
            self.tally.repaired.append(Repair("raw", path, self.damaged[url]))
        if outcome == "not_page":
            return
        self.done += 1
        if self.on_progress:
            event = PageOutcome(
                url,
                outcome,
                self.done,
                self.frontier.admitted,
                len(result.body),
                result.error,
                self.crawler.retries_made,
            )
            self.on_progress(event)

    def found(self, url: str, outcome: str) -> Found:
        """What `url` turned out to be: from this build's cleaning, else the stored state."""
        if url in self.cleaned:
            return Found("page", links=self.cleaned[url])
        if url in self.tally.stubs:
            return Found("redirect", target=self.tally.stubs[url])
        if outcome == "not_page":
            return Found("not_page")
        if outcome == "failed" and url not in self.states:
            return Found("failed")
        return found_in_store(url, self.states, self.graph)


@dataclass(frozen=True, slots=True)
class _PendingClean:
    """A fetched page waiting for its cleaned version; stored only once that is ready, so a
    build killed meanwhile leaves the earlier state."""

    result: FetchResult
    body: bytes  # what to clean (the fetched body, or the stored raw page for a 304)
    state: PageState | None
    rules: ExtractionRules | None
    not_modified: bool  # a 304 whose stored copy is cleaned again (the cleaner changed)
    sha256: str = ""  # of a fetched body, to store with it


def _settle(
    store: Store,
    result: FetchResult,
    state: PageState | None,
    full: bool,
    now: float,
    tally: Tally,
    checked: list[str],
    rules: ExtractionRules | None = None,
    raw_damaged: bool = False,
) -> str | _PendingClean:
    """Store one fetch result and say what it is (new, updated, unchanged, not_modified,
    failed), or hand back the page to clean first. A 304's URL goes into `checked`, whose
    pages the caller records as checked, many in one commit. `rules` are those of the page's
    source; `raw_damaged`: its raw copy on disk is damaged, so the body is stored again."""
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
        checked.append(url)
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
        and not raw_damaged
        and state is not None
        and state.kept_raw
        and state.raw_sha256 == sha
        and state.clean_version == version
    )
    if not same_bytes:
        return _PendingClean(result, result.body, state, rules, not_modified=False, sha256=sha)
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
        raw_size=len(result.body),
    )


def _finish_clean(
    store: Store,
    pending: _PendingClean,
    page_json: str,
    now: float,
    tally: Tally,
    cleaned_links: dict[str, tuple[str, ...]],
) -> str:
    """Store a fetched page with its cleaned version, in one transaction."""
    with store.transaction():
        if pending.not_modified:
            _store_page(
                store, page_json, pending.state, now, tally, cleaned_links, False, pending.rules
            )
            return "not_modified"
        store.save_raw(pending.result.url, pending.body)
        _record_fetch(store, pending.result, pending.sha256, now)
        return _store_page(
            store, page_json, pending.state, now, tally, cleaned_links, rules=pending.rules
        )


def _store_page(
    store: Store,
    page_json: str,
    state: PageState | None,
    now: float,
    tally: Tally,
    cleaned_links: dict[str, tuple[str, ...]],
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
    cleaned_links[page.url] = page.links
    if changed:
        store.add_change(Change(now, page.url, page.title, "changed" if had_copy else "added"))
    outcome = "unchanged" if not changed else ("updated" if had_copy else "new")
    if count:
        setattr(tally, outcome, getattr(tally, outcome) + 1)
    return outcome


def reclean_stored(build: BuildContext) -> Membership:
    """--offline: clean every stored raw page of the mirror again, without the network, with
    the extraction rules of its source; the membership its stored pages then give."""
    store, config, now, tally = build.store, build.config, build.now, build.tally
    cleaned, on_progress, processes = build.cleaned, build.on_progress, build.processes
    states = store.states()
    membership = stored_membership(config, store, states)
    urls = membership.urls
    rules = rules_by_url(config, membership)
    done = 0

    def report(url: str, outcome: str, error: str | None = None) -> None:
        nonlocal done
        done += 1
        if on_progress:
            on_progress(PageOutcome(url, outcome, done, len(urls), 0, error))

    from mirror.clean.extract import clean_to_json

    pool = processes.pool_for(len(urls))
    cleaning: dict[Future[str], str] = {}
    for url in urls:
        state = states.get(url)
        try:
            raw = store.read_raw(url, state.raw_sha256 if state else None)
        except DamagedError as exc:  # useless now: the next build with the network fetches it
            store.raw_path(url).unlink(missing_ok=True)
            error = f"raw copy damaged ({exc.reason}), a build with the network fetches it again"
            tally.failed.append(FailedURL(url, error, kept_copy=bool(state and state.has_copy)))
            report(url, "failed", error)
            continue
        if raw is None or url not in states:
            error = "no stored copy to rebuild from (run a build with the network first)"
            tally.failed.append(FailedURL(url, error, kept_copy=bool(state and state.has_copy)))
            report(url, "failed", error)
            continue
        cleaning[pool.submit(clean_to_json, raw, url, rules.get(url))] = url
    while cleaning:
        for future in some_done(cleaning):
            url = cleaning.pop(future)
            with store.transaction():
                outcome = _store_page(
                    store, future.result(), states[url], now, tally, cleaned, rules=rules.get(url)
                )
            report(url, outcome)
    return stored_membership(config, store)
