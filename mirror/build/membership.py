"""Which pages the mirror holds: the listed URLs, then the pages they link to within `follow`,
`depth` and `max_pages`, with HTML redirect stubs resolved to their targets. One rule, used by
the build (which learns what each URL is by fetching it), by `--offline`, `--check` and `status`
(which learn it from the state database). Pure: what a URL is comes from the caller."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from mirror.config import Source
from mirror.urls import in_scope

MAX_HTML_REDIRECTS = 10  # a chain of meta-refresh stubs longer than this is a failure, as in HTTP

_NOWHERE = f"HTML redirects lead nowhere (a loop, or more than {MAX_HTML_REDIRECTS})"
Kind = Literal["page", "redirect", "failed", "not_page"]
# what left a URL out: its source's page budget, its depth, or (for the target of a redirect
# stub) the source's scope
Bound = Literal["max_pages", "depth", "scope"]


@dataclass(frozen=True, slots=True)
class Found:
    """What one URL turned out to be."""

    kind: Kind  # a page; an HTML redirect stub; a page with no copy (its fetch failed); no page
    links: tuple[str, ...] = ()  # a page's outgoing links
    target: str = ""  # a stub's target URL


@dataclass(frozen=True, slots=True)
class SkippedURL:
    """An in-scope link that a bound of its source left out of the mirror."""

    url: str
    source: str
    bound: Bound


@dataclass(frozen=True, slots=True)
class BrokenRedirect:
    """An HTML redirect stub whose chain ends nowhere: a loop, or more hops than allowed."""

    url: str
    reason: str


@dataclass(frozen=True, slots=True)
class Membership:
    """What the mirror holds, source by source."""

    members: tuple[tuple[str, tuple[str, ...]], ...]  # (source, its pages in order)
    redirects: tuple[tuple[str, str], ...]  # (stub URL, the page it leads to), in crawl order
    skipped: tuple[SkippedURL, ...]
    broken: tuple[BrokenRedirect, ...] = ()
    # every URL that takes part (pages, stubs, broken stubs), with its source and depth
    depths: tuple[tuple[str, str, int], ...] = ()

    @property
    def by_source(self) -> dict[str, tuple[str, ...]]:
        return dict(self.members)

    @property
    def pages(self) -> tuple[str, ...]:
        """Every page once, listed pages first, in source order."""
        return tuple(dict.fromkeys(url for _, urls in self.members for url in urls))

    @property
    def urls(self) -> tuple[str, ...]:
        """Every URL the mirror asks the servers for: its pages and its redirect stubs."""
        return tuple(url for url, _, _ in self.depths)

    @property
    def source_of(self) -> dict[str, str]:
        """The source each URL of the mirror belongs to (the first that holds it)."""
        return {url: source for url, source, _ in self.depths}

    @property
    def redirect_map(self) -> dict[str, str]:
        return dict(self.redirects)


@dataclass(slots=True)
class _Entry:
    source: Source
    depth: int
    listed: bool  # listed in the config, or the target of a listed page's redirect
    hops: int = 0  # HTML redirects that led here
    found: Found | None = None


class Frontier:
    """The breadth-first walk that decides membership, one level at a time so that the result
    does not depend on which fetch finishes first: `batch()` names the URLs to learn about next,
    `settle()` says what each one is, and `result()` gives the membership once `batch()` is
    empty.

    A level's links are taken in the order of the pages holding them (listed order, then
    admission order) and, within a page, sorted; `max_pages` counts a source's followed pages
    only, so a listed page is never left out. A URL that turns out not to be a page (a followed
    link to a PDF, or a redirect stub) frees its place for the next link in line."""

    def __init__(self, sources: Iterable[Source]) -> None:
        self._sources = tuple(sources)
        self._entries: dict[str, _Entry] = {}
        self._order: list[str] = []  # admission order
        self._level: list[str] = []  # admitted at the current level, in order
        self._candidates: dict[str, list[str]] = {}  # source -> next level's links in line
        self._followed: dict[str, int] = {}  # source -> followed pages counted
        self._skipped: dict[str, SkippedURL] = {}
        self._hops: dict[str, int] = {}  # redirect targets in line: the redirects that led there
        self._broken: dict[str, BrokenRedirect] = {}
        self._depth = 0
        for source in self._sources:
            for url in source.urls:
                self._admit(url, source, 0, listed=True)

    def _admit(self, url: str, source: Source, depth: int, listed: bool, hops: int = 0) -> None:
        if url in self._entries:
            return
        self._entries[url] = _Entry(source, depth, listed, hops)
        self._order.append(url)
        self._level.append(url)
        self._skipped.pop(url, None)
        if not listed:
            self._followed[source.name] = self._followed.get(source.name, 0) + 1

    @property
    def admitted(self) -> int:
        """URLs admitted so far (pages, stubs, and links still to be found out)."""
        return len(self._order)

    def source(self, url: str) -> Source:
        """The source an admitted URL belongs to."""
        return self._entries[url].source

    def depth(self, url: str) -> int:
        """Link steps from a listed URL to an admitted one (0: listed, or a listed stub's
        target)."""
        return self._entries[url].depth

    def batch(self) -> list[str]:
        """The URLs whose nature is needed next, in order; empty when membership is decided."""
        while True:
            pending = [url for url in self._level if self._entries[url].found is None]
            if pending:
                return pending
            if self._top_up():
                continue
            if not self._next_level():
                return []

    def settle(self, url: str, found: Found) -> None:
        """Say what `url` (from the last `batch()`) is."""
        entry = self._entries[url]
        entry.found = found
        if found.kind == "not_page" and entry.listed:  # a listed URL is a page or a failure
            entry.found = Found("failed")
        if entry.found.kind in ("redirect", "not_page") and not entry.listed:
            self._followed[entry.source.name] -= 1  # its place goes to the next link in line
        if found.kind == "redirect":
            self._follow_redirect(url, entry, found.target)

    def _follow_redirect(self, url: str, entry: _Entry, target: str) -> None:
        if target in self._entries:
            if self._resolve(target) is None:
                self._broken[url] = BrokenRedirect(url, _NOWHERE)
            return
        if entry.hops + 1 > MAX_HTML_REDIRECTS:
            self._broken[url] = BrokenRedirect(url, _NOWHERE)
            return
        if not self._redirect_in_scope(url, entry, target):
            self._skip(target, entry.source, "scope")  # links to the stub stay links out
            return
        # a redirect is not a link step: the target takes the stub's level and standing; a
        # followed stub's target waits at the end of the line, as a link found last would
        if entry.listed:
            self._admit(target, entry.source, entry.depth, True, entry.hops + 1)
        else:
            self._hops[target] = entry.hops + 1
            self._candidates.setdefault(entry.source.name, []).append(target)

    def _redirect_in_scope(self, url: str, entry: _Entry, target: str) -> bool:
        """Followed stubs lead where links may; a listed page's stub anywhere on its host too."""
        if entry.source.follow and in_scope(target, entry.source.follow):
            return True
        return entry.listed and _origin(target) == _origin(url)

    def _top_up(self) -> bool:
        """Admit more of the current level's links in line while its sources' budgets allow;
        whether any was admitted."""
        admitted = False
        for source in self._sources:
            line = self._candidates.get(source.name)
            while line and self._followed.get(source.name, 0) < source.max_pages:
                url = line.pop(0)
                if url not in self._entries:
                    self._admit(url, source, self._depth, False, self._hops.pop(url, 0))
                    admitted = True
        return admitted

    def _next_level(self) -> bool:
        """Close the current level (what its bounds left out is skipped) and gather the links of
        its pages as the next level's line; whether there is a next level."""
        for source in self._sources:
            for url in self._candidates.pop(source.name, []):
                if url not in self._entries:
                    self._skip(url, source, "max_pages")
        line: dict[str, dict[str, None]] = {}
        for url in self._level:
            entry = self._entries[url]
            found = entry.found
            if found is None or found.kind != "page" or not entry.source.follow:
                continue
            source = entry.source
            for link in sorted(found.links):
                if link in self._entries or not in_scope(link, source.follow):
                    continue
                if entry.depth >= source.depth:
                    self._skip(link, source, "depth")
                else:
                    line.setdefault(source.name, {})[link] = None
        self._level = []
        self._depth += 1
        self._candidates = {name: list(urls) for name, urls in line.items()}
        return bool(self._candidates)

    def _skip(self, url: str, source: Source, bound: Bound) -> None:
        self._skipped.setdefault(url, SkippedURL(url, source.name, bound))

    def _resolve(self, url: str) -> str | None:
        """The page a chain of stubs starting at `url` ends on; None for a loop."""
        seen = set()
        while True:
            entry = self._entries.get(url)
            if entry is None or entry.found is None or entry.found.kind != "redirect":
                return url
            if url in seen or url in self._broken:
                return None
            seen.add(url)
            url = entry.found.target

    def result(self) -> Membership:
        """The membership, once `batch()` has come back empty. A listed stub's target takes the
        stub's place among the listed pages; followed pages come after them, by URL."""
        listed: dict[str, dict[str, None]] = {s.name: {} for s in self._sources}
        followed: dict[str, list[str]] = {s.name: [] for s in self._sources}
        redirects = []
        broken = dict(self._broken)
        for url in self._order:
            entry = self._entries[url]
            kind = _kind(entry)
            if kind in ("page", "failed"):
                if entry.listed:
                    listed[entry.source.name][url] = None
                else:
                    followed[entry.source.name].append(url)
            elif kind == "redirect" and url not in broken:
                final = self._resolve(url)
                if final is None:
                    broken[url] = BrokenRedirect(url, _NOWHERE)
                elif final in self._entries and _kind(self._entries[final]) in ("page", "failed"):
                    redirects.append((url, final))
                    target = self._entries[final]
                    if entry.listed and target.listed and target.source is entry.source:
                        listed[entry.source.name][final] = None
        return Membership(
            members=tuple(
                (s.name, (*listed[s.name], *sorted(followed[s.name]))) for s in self._sources
            ),
            redirects=tuple(redirects),
            skipped=tuple(sorted(self._skipped.values(), key=lambda s: (s.source, s.url))),
            broken=tuple(broken[url] for url in self._order if url in broken),
            depths=tuple(
                (url, e.source.name, e.depth)
                for url, e in ((u, self._entries[u]) for u in self._order)
                if _kind(e) != "not_page"
            ),
        )


def _kind(entry: _Entry) -> Kind:
    return entry.found.kind if entry.found is not None else "failed"


def membership_from(sources: Iterable[Source], lookup: Callable[[str], Found]) -> Membership:
    """The membership when what each URL is can be looked up at once (from the state database)."""
    frontier = Frontier(sources)
    while batch := frontier.batch():
        for url in batch:
            frontier.settle(url, lookup(url))
    return frontier.result()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
