"""run_build directly: cleaning in a process pool gives the same mirror as cleaning in-process."""

from __future__ import annotations

import json
from collections.abc import Callable

from mirror.build.run import run_build

from conftest import Project, page_path, snapshot


def contents(project: Project) -> dict[str, bytes]:
    """The site's files, changes.html aside (its order follows completion: history by nature)."""
    files = snapshot(project.site)
    return {path: data for path, (data, _) in files.items() if path != "changes.html"}


def test_process_pool_cleaning_matches_in_process(make_project: Callable[..., Project]) -> None:
    inline = make_project(folder="inline")
    pooled = make_project(folder="pooled")
    first = run_build(inline.config, parallel=False)
    second = run_build(pooled.config, parallel=True)
    assert first.new == second.new == 10 and second.failed == ()
    assert contents(inline) == contents(pooled)
    # a refresh with one change, cleaned in the pool, is recorded like any other
    body = pooled.server.body_of(page_path("queue"))
    pooled.server.set_page(page_path("queue"), body.replace(b"zanzibarite", b"xylophonic"))
    again = run_build(pooled.config, parallel=True)
    assert again.updated == 1 and again.not_modified == 9 and again.rendered == 1
    hits = json.loads(pooled.run("search", "xylophonic", "--json").stdout)["hits"]
    assert hits and "queue.html" in hits[0]["path"]


def test_process_pool_with_followed_links(project: Project) -> None:
    url = project.server.url(page_path("concurrency"))
    follow = project.server.url("/3/library/")
    project.config_path.write_text(
        f'[crawl]\nretries = 0\n[[sources]]\nurls = ["{url}"]\nfollow = ["{follow}"]\ndepth = 1\n'
    )
    report = run_build(project.config, parallel=True)
    # the listed page is cleaned in a worker before its links are known: they are still followed
    assert report.new == 10 and report.pages == 12  # two linked pages do not exist here
