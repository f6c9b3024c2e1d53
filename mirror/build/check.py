"""`build --check`: what a build would change, asked of the servers conditionally; nothing is
written."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from typing import Any

import requests

from mirror.build.fetching import rules_by_url, stored_membership
from mirror.build.lock import data_lock
from mirror.build.membership import Found, membership_from
from mirror.build.report import FailedURL
from mirror.build.store import PageState, Store
from mirror.clean.extract import clean_document
from mirror.clean.page import Page
from mirror.config import Config
from mirror.fetch.crawl import Crawler, FetchRequest, SessionFactory


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
    changed pages would now link to are found by the build, not here. Not beside a build: what
    it reads would be half written (a BusyError naming the build)."""
    folder = config.site.data_dir
    with data_lock(folder) if folder.is_dir() else contextlib.nullcontext():
        return _check_build(config, workers, session_factory)


def _check_build(
    config: Config, workers: int | None, session_factory: SessionFactory
) -> CheckReport:
    state_file = config.site.data_dir / "state.sqlite3"
    states: dict[str, PageState] = {}
    outcomes: list[tuple[str, str]] = []
    failed: list[FailedURL] = []
    store = Store(config.site.data_dir) if state_file.exists() else None
    try:
        if store is not None:
            states = store.states()
            membership = stored_membership(config, store, states)
        else:
            membership = membership_from(config.sources, lambda url: Found("not_page"))
        urls = membership.urls
        plan = [
            FetchRequest(url, etag=s.etag, last_modified=s.last_modified)
            if (s := states.get(url)) is not None and s.kept_raw
            else FetchRequest(url)
            for url in urls
        ]
        crawler = Crawler(config.crawl, workers=workers, session_factory=session_factory)
        rules = rules_by_url(config, membership)
        for result in crawler.fetch_all(plan):
            url = result.url
            state = states.get(url)
            has_copy = state is not None and state.has_copy
            if not result.ok:
                failed.append(FailedURL(url, result.error or "failed", has_copy))
            elif result.not_modified:
                outcomes.append((url, "not_modified"))
            elif state is None or not state.kept_raw:
                outcomes.append((url, "new"))
            elif state.raw_sha256 == hashlib.sha256(result.body).hexdigest():
                outcomes.append((url, "unchanged"))
            else:  # the same cleaned content, or the same redirect
                cleaned = clean_document(result.body, url, rules.get(url))
                if isinstance(cleaned, Page):
                    same = cleaned.content_hash == state.content_hash
                else:
                    same = cleaned.target == state.redirect
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
