"""HTML redirect stubs (a meta refresh, as Sphinx's redirect extensions leave them) are
redirects: their target is mirrored, the stub is no page of the site, and links to it open the
target's local page."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import Project, page_path

STUB = (
    b'<!DOCTYPE html><html><head><meta http-equiv="Refresh" content="0; url=\'queue.html\'">'
    b"<title>Redirecting</title></head><body><p>The page has been moved to "
    b'<a href="queue.html">this page</a></p></body></html>'
)
OLD = "/3/library/old-queue.html"


def configure(project: Project, *paths: str, follow: bool = False) -> None:
    server = project.server
    lines = ["[crawl]", "timeout = 3.0", "retries = 0", "", "[[sources]]", 'name = "library"']
    lines.append("urls = [" + ", ".join(f'"{server.url(p)}"' for p in paths) + "]")
    if follow:
        lines += [f'follow = ["{server.url("/3/library/")}"]', "depth = 1"]
    project.config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def link_concurrency_to_the_stub(project: Project) -> None:
    body = project.server.body_of(page_path("concurrency"))
    assert b'href="queue.html"' in body
    project.server.set_page(
        page_path("concurrency"), body.replace(b'href="queue.html"', b'href="old-queue.html"')
    )
    project.server.set_page(OLD, STUB)


def build(project: Project, *args: str) -> dict:
    result = project.run("build", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def site_file(project: Project, path: str) -> Path:
    return project.site / f"127.0.0.1_{project.server.port}" / path.lstrip("/")


def search_paths(project: Project, query: str) -> list[str]:
    result = project.run("search", query, "--json", "-n", "50")
    return [hit["path"] for hit in json.loads(result.stdout)["hits"]]


def hrefs(html: str, text: str) -> list[str]:
    return re.findall(rf'href="([^"]*)"[^>]*>(?:<[^>]+>)*{re.escape(text)}', html)


def test_a_listed_stub_mirrors_its_target_and_links_to_it_open_the_target(
    project: Project,
) -> None:
    link_concurrency_to_the_stub(project)
    configure(project, page_path("concurrency"), OLD, page_path("sched"))
    report = build(project)
    assert report["redirects"] == 1 and report["pages"] == 3 and report["failed"] == []
    assert site_file(project, page_path("queue")).is_file()
    assert not site_file(project, OLD).exists()
    home = (project.site / "index.html").read_text(encoding="utf-8")
    assert "old-queue" not in home and "queue.html" in home
    # the target takes the stub's place among the listed pages: concurrency, queue, sched
    queue = site_file(project, page_path("queue")).read_text(encoding="utf-8")
    assert 'rel="prev" href="concurrency.html"' in queue and 'rel="next" href="sched.html"' in queue
    concurrency = site_file(project, page_path("concurrency")).read_text(encoding="utf-8")
    assert "old-queue" not in concurrency
    assert "queue.html" in hrefs(concurrency, "queue")
    assert all("old-queue" not in path for path in search_paths(project, "queue"))
    status = json.loads(project.run("status", "--json").stdout)["pages"]
    assert {(r["url"].rsplit("/", 1)[1], r["redirect"]) for r in status} == {
        ("concurrency.html", None),
        ("queue.html", None),
        ("sched.html", None),
        ("old-queue.html", project.server.url(page_path("queue"))),
    }


def test_a_followed_stub_is_followed_and_checked_without_a_change(project: Project) -> None:
    link_concurrency_to_the_stub(project)
    for missing in ("/3/library/asyncio.html", "/3/library/_thread.html"):
        project.server.set_page(missing, b"<html><body><main><h1>Stub</h1><p>text</p></main>")
    configure(project, page_path("concurrency"), follow=True)
    first = build(project)
    assert first["redirects"] == 1 and not site_file(project, OLD).exists()
    assert site_file(project, page_path("queue")).is_file()
    check = json.loads(project.run("build", "--check", "--json").stdout)
    assert check["removed"] == [] and check["new"] == [] and check["updated"] == []
    second = build(project)
    assert second["pages"] == first["pages"] and second["rendered"] == 0
    assert second["not_modified"] == first["pages"] + 1  # the stub is asked for, conditionally
    offline = build(project, "--offline")
    assert offline["pages"] == first["pages"] and offline["redirects"] == 1


def test_a_page_that_becomes_a_stub_leaves_the_site_and_comes_back(project: Project) -> None:
    configure(project, page_path("concurrency"), OLD)
    project.server.set_page(OLD, project.server.body_of(page_path("sched")))
    assert build(project)["new"] == 2
    assert site_file(project, OLD).is_file() and search_paths(project, "scheduler")
    project.server.set_page(OLD, STUB)
    report = build(project)
    assert report["removed"] == 1 and report["redirects"] == 1 and report["new"] == 1  # queue
    assert not site_file(project, OLD).exists()
    assert all("old-queue" not in path for path in search_paths(project, "scheduler"))
    changes = (project.site / "changes.html").read_text(encoding="utf-8")
    assert "removed" in changes
    project.server.set_page(OLD, project.server.body_of(page_path("sched")))
    report = build(project)
    assert report["new"] == 1 and report["redirects"] == 0 and report["removed"] == 1  # queue
    assert site_file(project, OLD).is_file()
    assert any("old-queue" in path for path in search_paths(project, "scheduler"))


def test_a_redirect_loop_is_a_failure_not_a_hang(project: Project) -> None:
    a, b = "/3/library/a.html", "/3/library/b.html"
    project.server.set_page(a, b'<meta http-equiv="refresh" content="0;URL=b.html">')
    project.server.set_page(b, b'<meta http-equiv="refresh" content="1; URL=a.html">')
    configure(project, a, page_path("queue"))
    result = project.run("build", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert {f["url"] for f in report["failed"]} == {project.server.url(a), project.server.url(b)}
    assert "HTML redirects lead nowhere" in result.stderr
    assert report["pages"] == 1
