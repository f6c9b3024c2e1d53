"""Shared fixtures: a real HTTP server with Sphinx-like pages, and projects (config + folders)
pointing at it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).parent))

from mirror import urls
from mirror.cli import cli
from mirror.config import Config, CrawlSettings, load_config
from mirror.fetch.crawl import Crawler, FetchRequest, FetchResult

from docserver import DocServer, load_pages

PAGES_DIR = Path(__file__).parent / "pages"
NAMES = (
    "concurrency",
    "concurrent",
    "concurrent.futures",
    "threading",
    "multiprocessing",
    "multiprocessing.shared_memory",
    "subprocess",
    "queue",
    "sched",
    "contextvars",
)


def page_path(name: str) -> str:
    """The server path of a test page."""
    return f"/3/library/{name}.html"


@pytest.fixture(autouse=True)
def _forget_remembered_names() -> None:
    """Each test maps its URLs afresh rather than read an earlier test's answers from the
    caches of `mirror.urls`: mutmut runs, for a mutant, the tests it saw call the mutated
    function, and a cached answer hides the call."""
    urls._segment_name.cache_clear()
    urls._file_href.cache_clear()


@pytest.fixture(scope="session")
def pages() -> dict[str, bytes]:
    return load_pages(PAGES_DIR)


@pytest.fixture
def docserver(pages: dict[str, bytes]) -> Iterator[DocServer]:
    with DocServer(dict(pages)) as server:
        yield server


@dataclass
class Project:
    """A config file in its own folder, with the site and data folders it names."""

    root: Path
    config_path: Path
    server: DocServer

    @property
    def config(self) -> Config:
        return load_config(self.config_path)

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def data(self) -> Path:
        return self.root / ".docmirror"

    def page_file(self, name: str) -> Path:
        return self.site / f"127.0.0.1_{self.server.port}" / "3" / "library" / f"{name}.html"

    def write_config(self, names: tuple[str, ...] | list[str] = NAMES, **crawl: object) -> None:
        settings = {"workers": 4, "timeout": 3.0, "retries": 1, "robots": True, **crawl}
        lines = ["[site]", 'title = "Test docs"', "", "[crawl]"]
        for key, value in settings.items():
            lines.append(f"{key} = {_toml(value)}")
        urls = ", ".join(f'"{self.server.url(page_path(n))}"' for n in names)
        lines += ["", "[[sources]]", 'name = "library"', f"urls = [{urls}]", ""]
        self.config_path.write_text("\n".join(lines), encoding="utf-8")

    def run(self, *args: str) -> Result:
        """Run the docmirror CLI in-process with this project's config."""
        command, *rest = args
        return CliRunner().invoke(
            cli, [command, "-c", str(self.config_path), *rest], catch_exceptions=False
        )


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


@pytest.fixture
def make_project(tmp_path: Path, docserver: DocServer) -> Callable[..., Project]:
    """make_project(names=NAMES, folder="project", **crawl settings) -> Project."""

    def make(
        names: tuple[str, ...] | list[str] = NAMES, folder: str = "project", **crawl: object
    ) -> Project:
        root = tmp_path / folder
        root.mkdir(parents=True, exist_ok=True)
        project = Project(root=root, config_path=root / "config.toml", server=docserver)
        project.write_config(names, **crawl)
        return project

    return make


@pytest.fixture
def project(make_project: Callable[..., Project]) -> Project:
    return make_project()


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` with its bytes and modification time in nanoseconds."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright; a skip on a laptop without it, a failure
    in CI."""
    if not Path(CHROMIUM).exists():
        if in_ci():
            pytest.fail("Chromium is required in CI (apt-get install chromium)")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def crawl_settings(**overrides: object) -> CrawlSettings:
    """Fast crawler settings for tests: short timeout, one retry, robots.txt off unless asked."""
    values: dict[str, object] = {
        "workers": 4,
        "per_host": 4,
        "timeout": 1.0,
        "retries": 1,
        "delay": 0.0,
        "robots": False,
    }
    values.update(overrides)
    return CrawlSettings(**values)  # type: ignore[arg-type]


def fetch_each(crawler: Crawler, urls: list[str]) -> dict[str, FetchResult]:
    """Run fetch_all over `urls`; exactly one result per request, keyed by the URL asked for."""
    results = list(crawler.fetch_all(FetchRequest(u) for u in urls))
    assert sorted(r.url for r in results) == sorted(urls)
    return {r.url: r for r in results}


def start_build(project: Project, *args: str) -> subprocess.Popen[str]:
    """`docmirror build ARGS` for `project` in a process of its own, its output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "mirror", "build", *args, "-c", str(project.config_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a shell running the tests in the background may ignore SIGINT; children inherit that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
