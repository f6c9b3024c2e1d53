"""What every stage of one build works with, in one object (`BuildContext`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mirror.build.pool import ProcessPool
from mirror.build.report import ProgressCallback, Tally
from mirror.build.store import Store
from mirror.config import Config
from mirror.fetch.crawl import Crawler, FetchResult
from mirror.site.render import SiteRenderer


@dataclass
class BuildContext:
    """What every stage of one build works with."""

    config: Config
    store: Store
    renderer: SiteRenderer
    index_dir: Path  # the search index's folder (`mirror.search.index.SearchIndex`)
    processes: ProcessPool
    tally: Tally
    now: float  # the build's time, for the state and the changes page
    full: bool  # redo everything, ignoring the stored state
    crawler: Crawler | None  # None: offline
    on_progress: ProgressCallback | None
    # the links of each page cleaned in this build (the pages themselves are in the store)
    cleaned: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # images and inventories asked for with the first pages (`kept_file_requests`), by URL
    prefetched: dict[str, FetchResult] = field(default_factory=dict)
