"""A refresh meeting every kind of fault at once ends in bounded time with a clear outcome for
each page, and keeps what was mirrored before."""

from __future__ import annotations

import json
import time

from conftest import NAMES, Project, page_path


def test_faulty_refresh_keeps_the_past(project: Project) -> None:
    project.write_config(NAMES, timeout=3.0, retries=2, workers=10)
    first = project.run("build", "--json")
    assert first.exit_code == 0, first.output
    before = {name: project.page_file(name).read_bytes() for name in NAMES}

    server = project.server
    for name in NAMES:  # every page changes upstream, so a success shows in the site
        body = server.body_of(page_path(name))
        server.set_page(page_path(name), body.replace(b"</h1>", b"</h1><p>Refreshed.</p>", 1))
    server.fail(page_path("concurrency"), 503, times=2, headers={"Retry-After": "1"})
    server.fail(page_path("concurrent"), 500, times=1)
    server.reset(page_path("threading"), times=None)
    server.stall(page_path("queue"), 40.0, times=None)
    server.truncate(page_path("sched"), times=None)
    server.fail(page_path("subprocess"), 404, times=None)

    started = time.monotonic()
    result = project.run("build", "--json")
    elapsed = time.monotonic() - started
    assert elapsed < 30, f"took {elapsed:.1f}s"
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    failed = {f["url"]: f for f in report["failed"]}
    expected = {server.url(page_path(n)) for n in ("threading", "queue", "sched", "subprocess")}
    assert set(failed) == expected
    assert all(f["kept_copy"] for f in failed.values())
    assert "reset" in failed[server.url(page_path("threading"))]["error"]
    assert "read timeout" in failed[server.url(page_path("queue"))]["error"]
    assert "truncated" in failed[server.url(page_path("sched"))]["error"]
    assert "404" in failed[server.url(page_path("subprocess"))]["error"]
    assert report["updated"] == 6 and report["retries"] >= 3
    for name in ("threading", "queue", "sched", "subprocess"):
        assert project.page_file(name).read_bytes() == before[name], name
    for name in ("concurrency", "concurrent"):  # the transient faults were retried through
        assert b"Refreshed." in project.page_file(name).read_bytes()
    for line in result.stderr.splitlines():
        if line.startswith("docmirror: failed: "):
            assert "earlier copy is kept" in line
    # the failed pages stay searchable with their old text, and listed with their titles
    hits = json.loads(project.run("search", "zanzibarite", "--json").stdout)["hits"]
    assert hits and "queue.html" in hits[0]["path"]
    home = (project.site / "index.html").read_text(encoding="utf-8")
    assert "queue — A synchronized queue class" in home
    # a failure keeps the page's state: the next refresh asks conditionally, as before it
    server.clear_faults()
    server.reset_log()
    assert project.run("build", "-q").exit_code == 0
    for name in ("threading", "queue", "sched", "subprocess"):
        (request,) = server.requests_for(page_path(name))
        assert "If-None-Match" in request.headers, name


def test_redirected_page_is_stored_under_its_listed_url(project: Project) -> None:
    server = project.server
    server.set_page("/3/library/queue-moved.html", server.body_of(page_path("queue")))
    server.redirect(page_path("queue"), server.url("/3/library/queue-moved.html"), status=301)
    result = project.run("build", "--json")
    assert result.exit_code == 0, result.output
    assert project.page_file("queue").is_file()  # under the URL the config names
    assert not project.page_file("queue-moved").exists()
    status = json.loads(project.run("status", "--json").stdout)
    # links to the final URL resolve to the same local page
    body = server.body_of(page_path("sched")).replace(
        b'href="queue.html', b'href="queue-moved.html', 1
    )
    assert b"queue-moved.html" in body
    server.set_page(page_path("sched"), body)
    assert project.run("build").exit_code == 0
    sched = project.page_file("sched").read_text(encoding="utf-8")
    assert 'href="queue.html' in sched and "queue-moved.html" not in sched
    row = next(r for r in status["pages"] if r["url"].endswith("/queue.html"))
    assert row["final_url"] == server.url("/3/library/queue-moved.html")


def test_a_listed_page_that_stops_being_html_fails_and_keeps_its_copy(project: Project) -> None:
    for follow in ([], [project.server.url("/3/library/")]):
        project.write_config(NAMES)
        if follow:
            text = project.config_path.read_text(encoding="utf-8")
            project.config_path.write_text(text + f"follow = {json.dumps(follow)}\n")
        project.server.set_page(page_path("queue"), project.server.body_of(page_path("sched")))
        assert project.run("build", "-q").exit_code in (0, 1)
        kept = project.page_file("queue").read_bytes()
        project.server.set_page(page_path("queue"), b"plain text now", content_type="text/plain")
        result = project.run("build", "--json")
        assert result.exit_code == 1
        failed = {f["url"]: f for f in json.loads(result.stdout)["failed"]}
        queue = failed[project.server.url(page_path("queue"))]
        assert "not an HTML page (Content-Type: text/plain)" in queue["error"]
        assert queue["kept_copy"] is True
        assert project.page_file("queue").read_bytes() == kept
