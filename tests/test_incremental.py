"""Refreshing: conditional requests, change detection on cleaned content, minimal rewrites, and
an incremental site equal to a clean build."""

from __future__ import annotations

import filecmp
import json
from collections.abc import Callable
from pathlib import Path

from mirror.build.store import Store

from conftest import NAMES, Project, page_path, snapshot


def build(project: Project, *args: str) -> dict:
    result = project.run("build", "--json", *args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def hits(project: Project, query: str) -> list[str]:
    result = project.run("search", query, "--json")
    return [h["path"] for h in json.loads(result.stdout)["hits"]]


def changed_files(before: dict, after: dict) -> set[str]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def edit(project: Project, name: str, old: str, new: str) -> None:
    server = project.server
    path = page_path(name)
    body = server._pages[path].body if hasattr(server, "_pages") else None
    assert body is not None and old.encode() in body
    server.set_page(path, body.replace(old.encode(), new.encode()))


def test_unchanged_refresh_is_conditional_and_writes_nothing(project: Project) -> None:
    build(project)
    before = snapshot(project.site)
    project.server.reset_log()
    report = build(project)
    assert report["not_modified"] == 10 and report["fetched"] == 0
    assert report["rendered"] == 0 and report["indexed"] == 0 and report["unchanged"] == 0
    page_requests = [r for r in project.server.requests if r.path.startswith("/3/library/")]
    assert len(page_requests) == 10
    assert all(
        "If-None-Match" in r.headers and "If-Modified-Since" in r.headers for r in page_requests
    )
    assert snapshot(project.site) == before  # same bytes and same modification times


def test_one_changed_page_is_the_only_page_rewritten(project: Project) -> None:
    build(project)
    before = snapshot(project.site)
    edit(project, "queue", "zanzibarite", "xylophonic")
    report = build(project)
    assert report["updated"] == 1 and report["indexed"] == 1 and report["rendered"] == 1
    assert report["not_modified"] == 9
    changed = changed_files(before, snapshot(project.site))
    queue_file = project.page_file("queue").relative_to(project.site).as_posix()
    assert queue_file in changed
    site_wide = {p for p in changed if p.startswith("_static/search/")}  # the search index
    assert changed - site_wide <= {queue_file, "changes.html", "index.html"}
    assert any("queue.html" in p for p in hits(project, "xylophonic"))
    assert hits(project, "zanzibarite") == []  # the removed word no longer finds the page


def test_raw_change_without_content_change_counts_as_unchanged(project: Project) -> None:
    build(project)
    before = snapshot(project.site)
    edit(project, "sched", "quokkaflux", "quokkaflux-2")  # sidebar/footer only
    report = build(project)
    assert report["fetched"] == 1 and report["unchanged"] == 1
    assert report["updated"] == 0 and report["indexed"] == 0 and report["rendered"] == 0
    assert snapshot(project.site) == before


def test_server_without_validators(project: Project) -> None:
    project.server.validators = False
    first = build(project)
    assert first["new"] == 10
    before = snapshot(project.site)
    project.server.reset_log()
    report = build(project)
    assert report["unchanged"] == 10 and report["fetched"] == 10
    assert report["rendered"] == 0 and report["indexed"] == 0
    assert snapshot(project.site) == before


def test_removed_url_leaves_site_index_and_state(project: Project) -> None:
    build(project)
    assert any("queue.html" in p for p in hits(project, "zanzibarite"))
    project.write_config([n for n in NAMES if n != "queue"])
    report = build(project)
    assert report["removed"] == 1 and report["pages"] == 9
    assert not project.page_file("queue").exists()
    assert hits(project, "zanzibarite") == []
    status = json.loads(project.run("status", "--json").stdout)
    assert all("queue" not in row["url"] for row in status["pages"])
    assert "queue" not in (project.site / "index.html").read_text(encoding="utf-8").split(
        "<main", 1
    )[1].split("</main>")[0].replace("Queue", "")
    changes = (project.site / "changes.html").read_text(encoding="utf-8")
    assert "removed" in changes and "queue — A synchronized queue class" in changes


def _compare_trees(a: Path, b: Path, ignore: set[str]) -> list[str]:
    diffs: list[str] = []

    def walk(cmp: filecmp.dircmp, prefix: str) -> None:
        diffs.extend(prefix + n for n in cmp.left_only + cmp.right_only if prefix + n not in ignore)
        for name in cmp.common_files:
            if prefix + name in ignore:
                continue
            if (Path(cmp.left) / name).read_bytes() != (Path(cmp.right) / name).read_bytes():
                diffs.append(prefix + name)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(a, b), "")
    return diffs


def test_incremental_site_equals_a_clean_build(make_project: Callable[..., Project]) -> None:
    names = [n for n in NAMES if n != "sched"]
    project = make_project(names)
    build(project)
    edit(project, "threading", "Thread-local data", "Thread-local state")
    build(project)
    project.write_config(NAMES)  # add sched (in the middle: neighbours change)
    build(project)
    project.write_config([n for n in NAMES if n != "contextvars"])  # remove one
    build(project)
    edit(project, "queue", "zanzibarite", "xylophonic")
    final = build(project)
    assert final["updated"] == 1

    clean = make_project([n for n in NAMES if n != "contextvars"], folder="clean")
    build(clean)
    diffs = _compare_trees(project.site, clean.site, ignore={"changes.html"})
    assert diffs == []
    for query in ("xylophonic", "Thread-local state", "ThreadPoolExecutor", "sched"):
        # same hits in the same order (whoosh's scores may differ by deleted-document statistics)
        assert hits(project, query) == hits(clean, query), query


def test_config_title_change_rerenders_every_page(project: Project) -> None:
    build(project)
    text = project.config_path.read_text().replace('title = "Test docs"', 'title = "Renamed docs"')
    project.config_path.write_text(text)
    report = build(project)
    assert report["rendered"] == 10 and report["indexed"] == 0 and report["not_modified"] == 10
    assert "Renamed docs" in project.page_file("queue").read_text(encoding="utf-8")


def test_offline_rebuild_uses_no_network(project: Project) -> None:
    build(project)
    (project.site / "index.html").unlink()
    project.page_file("sched").unlink()
    project.server.reset_log()
    report = build(project, "--offline")
    assert project.server.requests == []
    assert report["failed"] == [] and report["rendered"] == 1
    assert (project.site / "index.html").is_file() and project.page_file("sched").is_file()


def test_full_rebuild_ignores_validators(project: Project) -> None:
    build(project)
    project.server.reset_log()
    report = build(project, "--full")
    assert report["fetched"] == 10 and report["indexed"] == 10
    page_requests = [r for r in project.server.requests if r.path.startswith("/3/library/")]
    assert page_requests and not any("If-None-Match" in r.headers for r in page_requests)


def test_full_offline_redoes_everything_from_the_raw_pages(project: Project) -> None:
    build(project)
    site = {p: p.read_bytes() for p in project.site.rglob("*.html") if p.name != "changes.html"}
    project.server.reset_log()
    report = build(project, "--full", "--offline")
    assert project.server.requests == []
    assert report["failed"] == [] and report["unchanged"] == 10 and report["indexed"] == 10
    assert {p: p.read_bytes() for p in site} == site  # the same site, made again
    result = project.run("build", "--check", "--offline")
    assert result.exit_code == 2 and "--check" in result.stderr


def test_status_lists_checks_changes_and_errors(project: Project) -> None:
    build(project)
    project.server.fail(page_path("sched"), 500, times=None)
    build(project)
    rows = {r["url"]: r for r in json.loads(project.run("status", "--json").stdout)["pages"]}
    sched = rows[project.server.url(page_path("sched"))]
    assert sched["mirrored"] and "500" in sched["error"] and sched["changed"]
    queue = rows[project.server.url(page_path("queue"))]
    assert queue["error"] is None and queue["checked"] and queue["etag"]
    text = project.run("status").stdout
    assert "sched.html" in text and "500" in text


def test_changes_page_lists_newest_first(project: Project) -> None:
    build(project)
    edit(project, "queue", "zanzibarite", "xylophonic")
    build(project)
    changes = (project.site / "changes.html").read_text(encoding="utf-8")
    first_changed = changes.index("changed</td>")
    first_added = changes.index("added</td>")
    assert first_changed < first_added
    assert "queue — A synchronized queue class" in changes[first_changed:first_added]


def test_check_lists_what_would_change_and_writes_nothing(project: Project) -> None:
    build(project)
    edit(project, "queue", "zanzibarite", "xylophonic")
    edit(project, "sched", "quokkaflux", "quokkaflux-2")  # chrome only: not a change
    project.write_config([n for n in NAMES if n != "contextvars"])
    site_before, data_before = snapshot(project.site), snapshot(project.data / "raw")
    state_before = json.loads(project.run("status", "--json").stdout)
    result = project.run("build", "--check", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["updated"] == [project.server.url(page_path("queue"))]
    assert report["removed"] == [project.server.url(page_path("contextvars"))]
    assert project.server.url(page_path("sched")) in report["unchanged"]
    assert len(report["not_modified"]) == 7 and report["new"] == [] and report["failed"] == []
    assert snapshot(project.site) == site_before and snapshot(project.data / "raw") == data_before
    assert json.loads(project.run("status", "--json").stdout) == state_before
    text = project.run("build", "--check").stdout
    assert "updated  " + project.server.url(page_path("queue")) in text


def test_a_new_cleaner_reindexes_pages_whose_content_is_the_same(project: Project) -> None:
    """Rules that change no page's content still make a new cleaner (its version): the index
    follows it, as a new docmirror's cleaner may cut the same pages into other sections."""
    first = build(project)
    assert first["indexed"] == len(NAMES)
    text = project.config_path.read_text(encoding="utf-8")
    project.config_path.write_text(text + 'drop = [".no-such-element"]\n', encoding="utf-8")
    again = build(project)
    assert again["updated"] == 0  # the same content: nothing changed upstream
    assert again["indexed"] == len(NAMES)
    assert build(project)["indexed"] == 0


def test_an_export_made_with_other_ranking_settings_is_exported_again(project: Project) -> None:
    """search.js is copied by every build; the exported index it reads must match it, even
    when no page changed since an older docmirror exported it."""
    build(project)
    meta = project.site / "_static" / "search" / "meta.js"
    current = meta.read_bytes()
    meta.write_bytes(current.replace(b'"K1":', b'"K1": 1.2, "old":'))
    with Store(project.data) as store, store.transaction():
        store.set_meta("export_key", "made-by-an-older-docmirror")
    report = build(project)
    assert report["indexed"] == 0 and report["not_modified"] == len(NAMES)
    assert meta.read_bytes() == current
    before = snapshot(project.site)
    build(project)
    assert snapshot(project.site) == before  # and only once


def test_an_export_cut_short_is_made_again_by_the_next_build(project: Project) -> None:
    """An export that stopped half way (here: a file it could not write) leaves files of two
    versions, or missing: the next build exports again, though nothing changed meanwhile."""
    build(project)
    folder = project.site / "_static" / "search"
    vocabulary = sorted(folder.glob("v-*.js"))[-1]  # written after meta.js and the shards
    edit(project, "queue", "synchronized", "synchronised")  # the index changes: an export
    vocabulary.unlink()
    vocabulary.mkdir()  # where the file goes: writing it fails
    failed = project.run("build", "--json")
    assert failed.exit_code != 0
    vocabulary.rmdir()
    report = build(project)
    assert report["indexed"] == 0  # the index was updated by the build that failed
    assert vocabulary.is_file()


def test_a_304_for_a_page_cleaned_by_other_rules_cleans_the_stored_copy(project: Project) -> None:
    build(project)
    queue = project.page_file("queue")
    assert 'id="queue-objects"' in queue.read_text(encoding="utf-8")
    text = project.config_path.read_text(encoding="utf-8")
    project.config_path.write_text(text + 'drop = ["#queue-objects"]\n', encoding="utf-8")
    project.server.reset_log()
    report = build(project)
    assert report["not_modified"] == len(NAMES) and report["fetched"] == 0  # nothing upstream
    assert report["updated"] == 0  # a change of rules is not a change of the docs
    assert 'id="queue-objects"' not in queue.read_text(encoding="utf-8")  # the stored copy
    assert all("If-None-Match" in r.headers for r in project.server.requests if "library" in r.path)


def test_a_refresh_answered_304_records_the_check_and_clears_the_last_error(
    project: Project,
) -> None:
    build(project)
    project.server.fail(page_path("queue"), 404, times=1)
    build(project)
    queue = project.server.url(page_path("queue"))
    with Store(project.data) as store:
        first = store.states()
    assert first[queue].last_error is not None
    project.server.reset_log()
    report = build(project)
    assert report["not_modified"] == len(NAMES)
    with Store(project.data) as store:
        after = store.states()
    assert after[queue].last_error is None and after[queue].error_at is None
    for url, state in after.items():  # each page checked by this build, none before it
        assert state.checked_at is not None and state.checked_at > (first[url].checked_at or 0)
