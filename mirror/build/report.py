"""What a build reports: its counts and failures (`BuildReport`, the `--json` report), and each page
as it is settled (`PageOutcome`, for the progress display)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mirror.build.membership import SkippedURL


@dataclass(frozen=True, slots=True)
class FailedURL:
    url: str
    error: str  # the reason, one line
    kept_copy: bool  # an earlier good copy stays in the site


@dataclass(frozen=True, slots=True)
class Repair:
    """A stored file the build found damaged and rebuilt from what was intact."""

    what: str  # index, export, state, raw, page
    path: str  # the file or folder
    reason: str  # what was wrong with it, one line

    def to_json(self) -> dict[str, str]:
        return {"what": self.what, "path": self.path, "reason": self.reason}


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
    repaired: tuple[Repair, ...] = ()  # damaged files this build rebuilt

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
            "repaired": [r.to_json() for r in self.repaired],
            "failed": [
                {"url": f.url, "error": f.error, "kept_copy": f.kept_copy} for f in self.failed
            ],
            "seconds": round(self.seconds, 3),
            "stages": {name: round(secs, 3) for name, secs in self.stages},
        }

    def skipped_line(self) -> str:
        """One line naming what the bounds of the sources left out."""
        counts: dict[tuple[str, str], int] = {}
        for skipped in self.skipped:
            counts[skipped.bound, skipped.source] = (
                counts.get((skipped.bound, skipped.source), 0) + 1
            )
        reasons = {
            "max_pages": "by max_pages",
            "depth": "by depth",
            "scope": "as redirect targets outside follow",
        }
        parts = [
            f"{n} {reasons[bound]} of source {source!r}" for (bound, source), n in counts.items()
        ]
        return (
            f"{len(self.skipped)} linked pages left out: {', '.join(parts)} "
            "(raise the bound in the config to mirror them; build --json lists them)"
        )

    def repaired_line(self) -> str:
        """One line naming the damaged files the build rebuilt."""
        names = {"state": "the state database", "index": "the search index", "raw": "raw pages"}
        names |= {"export": "the site's search files", "page": "site pages"}
        counts = Counter(repair.what for repair in self.repaired)
        parts = [f"{n} {names[w]}" if w in ("raw", "page") else names[w] for w, n in counts.items()]
        first = self.repaired[0]
        return (
            f"repaired damaged files from what was intact: {', '.join(parts)} "
            f"(first: {first.path}: {first.reason}; build --json lists them)"
        )


@dataclass
class Tally:
    """What the stages of one build count as they go, made into the `BuildReport` at the end."""

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
    repaired: list[Repair] = field(default_factory=list)  # damaged files rebuilt

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Count the time spent in the block as `stage`'s, for the report's `stages`."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages[stage] = self.stages.get(stage, 0.0) + time.perf_counter() - started
