"""End to end: `docmirror build` and `docmirror search` against the loopback server."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from conftest import NAMES, Project, page_path


def build_json(project: Project, *args: str) -> dict:
    result = project.run("build", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def search_json(project: Project, query: str) -> list[dict]:
    result = project.run("search", query, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["query"] == query
    return payload["hits"]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"] or "")


def parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_build_mirrors_every_page_and_reports(project: Project) -> None:
    report = build_json(project)
    assert report["pages"] == 10 and report["new"] == 10 and report["fetched"] == 10
    assert report["failed"] == [] and report["indexed"] == 10 and report["rendered"] == 10
    assert set(report) >= {
        "pages", "fetched", "not_modified", "unchanged", "new", "updated", "removed",
        "rendered", "indexed", "failed", "seconds", "stages",
    }  # fmt: skip
    for name in NAMES:
        assert project.page_file(name).is_file(), name
    home = (project.site / "index.html").read_text(encoding="utf-8")
    assert (
        "multiprocessing.shared_memory — Shared memory for direct access across processes" in home
    )
    assert home.count('href="127.0.0.1_') == 10
    assert (project.site / "_static" / "docmirror.css").is_file()
    assert (project.site / "search.html").is_file()


def test_pages_keep_content_and_anchors_but_lose_chrome(project: Project) -> None:
    build_json(project)
    queue = project.page_file("queue").read_text(encoding="utf-8")
    assert "zanzibarite" in queue  # body text
    futures = parse(project.page_file("concurrent.futures"))
    assert {
        "concurrent.futures.ThreadPoolExecutor",
        "concurrent.futures.Executor.submit",
        "threadpoolexecutor",
    } <= futures.ids
    assert "<pre>" in project.page_file("concurrent.futures").read_text(encoding="utf-8")
    for name in NAMES:
        text = project.page_file(name).read_text(encoding="utf-8")
        for chrome in (
            "quokkaflux",
            "Report a Bug",
            "Show Source",
            "¶",
            "version_switcher",
            "pydoctheme",
        ):
            assert chrome not in text, (name, chrome)
        # no script from the source: the only scripts are the theme's own, from _static
        scripts = re.findall(r"<script[^>]*>", text)
        assert all(re.fullmatch(r'<script src="(\.\./)*_static/\w+\.js"[^>]*>', t) for t in scripts)


def test_links_between_mirrored_pages_are_local_and_resolve(project: Project) -> None:
    build_json(project)
    local_links = 0
    for name in NAMES:
        source = project.page_file(name)
        for href in parse(source).hrefs:
            if href == project.server.url(page_path(name)):
                continue  # the footer's link to the page's source
            if href.startswith(("http://", "https://", "mailto:")):
                mirrored = {project.server.url(page_path(n)) for n in NAMES}
                assert href.split("#")[0] not in mirrored, (
                    f"{name}: mirrored page linked remotely: {href}"
                )
                continue
            parts = urlsplit(href)
            target = (source.parent / unquote(parts.path)).resolve() if parts.path else source
            assert target.is_file(), f"{name}: {href} does not resolve"
            if parts.fragment:
                assert parts.fragment in parse(target).ids, f"{name}: {href} anchor missing"
            local_links += 1
    assert local_links > 20
    # a page that is not mirrored stays absolute to its source, marked as leaving the mirror
    threading = project.page_file("threading").read_text(encoding="utf-8")
    glossary = re.findall(
        r'<a [^>]*href="http://127\.0\.0\.1:\d+/3/glossary\.html[^"]*"[^>]*>', threading
    )
    assert glossary and all("offsite" in tag and "Not mirrored" in tag for tag in glossary)


def test_search_ranks_the_defining_place_first(project: Project) -> None:
    build_json(project)
    hits = search_json(project, "ThreadPoolExecutor")
    assert hits[0]["url"].endswith(
        "/3/library/concurrent.futures.html#concurrent.futures.ThreadPoolExecutor"
    )
    assert hits[0]["path"].endswith(
        "3/library/concurrent.futures.html#concurrent.futures.ThreadPoolExecutor"
    )
    assert hits[0]["snippet"] and hits[0]["section"] == "concurrent.futures.ThreadPoolExecutor"
    assert (
        search_json(project, "shared memory")[0]["path"]
        .split("#")[0]
        .endswith("multiprocessing.shared_memory.html")
    )
    assert search_json(project, "copy_context")[0]["path"].endswith(
        "contextvars.html#contextvars.copy_context"
    )
    rare = search_json(project, "zanzibarite")
    assert len(rare) == 1 and rare[0]["path"].split("#")[0].endswith("queue.html")
    assert "<mark>zanzibarite</mark>" in rare[0]["snippet"]
    assert search_json(project, "quokkaflux") == []  # chrome is not indexed
    # the hit's path opens the page on disk
    target = project.site / hits[0]["path"].split("#")[0]
    assert target.is_file()


def test_search_text_output_and_odd_queries(project: Project) -> None:
    build_json(project)
    result = project.run("search", "copy_context", "-n", "3")
    assert result.exit_code == 0
    assert "contextvars.copy_context" in result.output and "<mark>" not in result.output
    for odd in ['"unbalanced', "AND OR NOT", "(*)", "title:", "~~~", ""]:
        result = project.run("search", odd, "--json")
        assert result.exit_code == 0, (odd, result.output)
        json.loads(result.stdout)


def test_search_says_what_it_corrected(project: Project) -> None:
    build_json(project)
    answer = json.loads(project.run("search", "ThreadPoolExecuter", "--json").stdout)
    assert answer["suggestion"] == "threadpoolexecutor"
    assert answer["hits"][0]["path"].endswith("#concurrent.futures.ThreadPoolExecutor")
    assert json.loads(project.run("search", "ThreadPoolExecutor", "--json").stdout)[
        "suggestion"
    ] == ""
    text = project.run("search", "ThreadPoolExecuter", "-n", "1").output
    assert text.startswith(
        "showing results for 'threadpoolexecutor' (nothing matches 'ThreadPoolExecuter')"
    )


def test_unreachable_hosts_fail_fast_with_one_line_each(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    urls = [f"https://docs.invalid/3/library/{n}.html" for n in NAMES[:5]]
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    urls += [f"http://127.0.0.1:{closed}/3/library/{n}.html" for n in NAMES[5:]]
    config.write_text(
        "[crawl]\nretries = 1\n[[sources]]\nurls = [" + ", ".join(f'"{u}"' for u in urls) + "]\n"
    )
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "mirror", "build", "-c", str(config)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert time.monotonic() - started < 20
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    failed = [line for line in proc.stderr.splitlines() if line.startswith("docmirror: failed: ")]
    assert len(failed) == 10
    for line in failed[:5]:
        assert "docs.invalid" in line and "resolve" in line
    for line in failed[5:]:
        assert "refused" in line and "127.0.0.1" in line


def test_installed_command_runs_in_a_subprocess(project: Project) -> None:
    exe = Path(sys.executable).parent / "docmirror"
    assert exe.exists(), "the console script is installed with the package"
    proc = subprocess.run(
        [str(exe), "build", "-q", "-c", str(project.config_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # -q: nothing on stdout
    proc = subprocess.run(
        [str(exe), "search", "ThreadPoolExecutor", "--json", "-c", str(project.config_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert json.loads(proc.stdout)["hits"][0]["url"].endswith(
        "#concurrent.futures.ThreadPoolExecutor"
    )


def test_a_failing_page_gives_exit_1_and_keeps_the_rest(project: Project) -> None:
    project.server.fail(page_path("sched"), 404, times=None)
    result = project.run("build", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [f["url"] for f in report["failed"]] == [project.server.url(page_path("sched"))]
    assert "404" in report["failed"][0]["error"]
    assert report["new"] == 9
    assert "docmirror: failed: " in result.stderr and "404" in result.stderr


def test_a_state_database_it_cannot_use_is_one_line_not_a_traceback(project: Project) -> None:
    """A database another docmirror changed (here: a column it reads is gone) gives one line
    naming the file, and keeps what is mirrored (a database another build holds locked takes
    the same way, after sqlite's 5 s wait)."""
    assert project.run("build").exit_code == 0
    database = project.data / "state.sqlite3"
    db = sqlite3.connect(database)
    db.execute("ALTER TABLE pages DROP COLUMN render_digest")
    db.commit()
    db.close()
    kept = project.page_file("queue").read_bytes()
    result = project.run("build")
    assert result.exit_code == 4  # the data folder cannot be used
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(database) in lines[0] and "render_digest" in lines[0]
    assert project.page_file("queue").read_bytes() == kept


def test_bad_config_exits_2_with_one_line(
    tmp_path: Path, make_project: Callable[..., Project]
) -> None:
    project = make_project()
    project.config_path.write_text('[[sources]]\nurls = ["file:///etc/passwd"]\n')
    result = project.run("build")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and "file:///etc/passwd" in lines[0]
        and str(project.config_path) in lines[0]
    )
    missing = CliRunner_invoke(["build", "-c", str(tmp_path / "missing.toml")])
    assert missing.exit_code == 2 and "not found" in missing.stderr


def CliRunner_invoke(args: list[str]):
    from click.testing import CliRunner

    from mirror.cli import cli

    return CliRunner().invoke(cli, args, catch_exceptions=False)
