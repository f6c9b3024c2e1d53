"""Damage repairs itself: each kind of stored file is truncated, zeroed out and deleted in turn, and
the next build leaves the site and the search index as a clean build made them, saying what it
repaired; `search` on a damaged index answers in one line with exit 6; one build at a time."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from test_interrupt import wait_for

from mirror import cli

from conftest import Project, page_path, start_build

QUERIES = ("ThreadPoolExecutor", "queue", "shared memory", "Popen.communicate", "conext var")
KINDS = ("truncate", "zero", "delete")


def damage(path: Path, kind: str) -> None:
    """Truncate to half, zero out (same size) or delete one file."""
    assert path.is_file(), path
    data = path.read_bytes()
    if kind == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "zero":
        path.write_bytes(b"\0" * len(data))
    else:
        path.unlink()


def site_files(project: Project) -> dict[str, bytes]:
    """Every file of the site but the changes page, which a repaired state writes anew."""
    return {
        p.relative_to(project.site).as_posix(): p.read_bytes()
        for p in sorted(project.site.rglob("*"))
        if p.is_file() and p.name != "changes.html"
    }


def searches(project: Project) -> list[dict[str, object]]:
    results = []
    for query in QUERIES:
        result = project.run("search", query, "--json")
        assert result.exit_code == 0, result.output
        results.append(json.loads(result.stdout))
    return results


def built(project: Project) -> tuple[dict[str, bytes], list[dict[str, object]]]:
    """A clean build's site and search results."""
    result = project.run("build", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["repaired"] == []
    return site_files(project), searches(project)


def repaired_build(project: Project, *args: str) -> dict[str, object]:
    """The next build: it succeeds, warns in one line and lists what it repaired."""
    result = project.run("build", "--json", *args)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "repaired damaged files" in line]
    assert len(warnings) == 1 and warnings[0].startswith("docmirror: warning: "), result.stderr
    assert "Traceback" not in result.output
    report: dict[str, object] = json.loads(result.stdout)
    assert report["repaired"], report
    return report


def assert_as_built(
    project: Project, clean: tuple[dict[str, bytes], list[dict[str, object]]]
) -> None:
    site, results = clean
    now = site_files(project)
    assert sorted(now) == sorted(site)
    assert [name for name in site if now[name] != site[name]] == []
    assert searches(project) == results


def index_file(project: Project, which: str) -> Path:
    folder = project.data / "index"
    pattern = {"segment": "*.seg", "toc": "_MAIN_*.toc", "stats": "stats.json"}[which]
    return sorted(folder.glob(pattern))[-1]


def export_file(project: Project, which: str) -> Path:
    folder = project.site / "_static" / "search"
    if which == "meta":
        return folder / "meta.js"
    return max(folder.glob("s-*.js"), key=lambda p: p.stat().st_size)  # a shard of postings


@pytest.mark.parametrize("which", ["segment", "toc", "stats"])
def test_a_damaged_index_is_said_by_search_and_rebuilt_by_the_build(
    project: Project, which: str
) -> None:
    clean = built(project)
    for kind in KINDS:
        target = index_file(project, which)
        damage(target, kind)
        result = project.run("search", "thread")
        assert result.exit_code == cli.EXIT_DAMAGED == 6, (kind, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.output
        assert lines[0].startswith("docmirror: error: ") and "run `docmirror build`" in lines[0]
        named = str(target) if kind != "delete" or which == "stats" else str(target.parent)
        assert named in lines[0], (kind, lines[0])
        report = repaired_build(project)
        assert [r["what"] for r in report["repaired"]] == ["index"]  # type: ignore[index]
        assert report["indexed"] == 10 and report["rendered"] == 0, kind
        assert_as_built(project, clean)


@pytest.mark.parametrize("which", ["meta", "shard"])
def test_damaged_search_files_of_the_site_are_exported_again(
    project: Project, which: str
) -> None:
    clean = built(project)
    for kind in KINDS:
        target = export_file(project, which)
        damage(target, kind)
        report = repaired_build(project)
        repairs = report["repaired"]
        assert repairs == [  # type: ignore[comparison-overlap]
            {"what": "export", "path": str(target), "reason": reason}
            for reason in ["missing" if kind == "delete" else "not as written"]
        ]
        assert report["indexed"] == 0, kind  # the index was whole: exported from it
        assert_as_built(project, clean)


def test_damaged_site_pages_are_written_again(project: Project) -> None:
    clean = built(project)
    for kind in KINDS:
        target = project.page_file("queue")
        damage(target, kind)
        report = repaired_build(project)
        reason = "missing" if kind == "delete" else "not as written"
        assert report["repaired"] == [{"what": "page", "path": str(target), "reason": reason}]
        assert report["rendered"] == 1 and report["indexed"] == 0
        assert_as_built(project, clean)


@pytest.mark.parametrize("name", ["index.html", "search.html"])
def test_a_damaged_site_wide_page_is_written_again_by_a_refresh_that_changed_nothing(
    project: Project, name: str
) -> None:
    # a refresh that changed nothing renders no page, the home and search pages included,
    # unless one of their files is not as the last build wrote it
    clean = built(project)
    for kind in KINDS:
        damage(project.site / name, kind)
        result = project.run("build", "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["not_modified"] == 10
        assert_as_built(project, clean)


def test_a_site_file_touched_but_whole_is_no_damage(project: Project) -> None:
    # a build takes a file with the size and mtime it was written with as written, and hashes
    # any other: a file copied or touched keeps its bytes, so nothing is repaired
    clean = built(project)
    for target in (project.page_file("queue"), export_file(project, "shard")):
        os.utime(target, ns=(1, 1))
    result = project.run("build", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["repaired"] == [] and report["rendered"] == 0
    assert_as_built(project, clean)


def test_an_index_as_last_written_is_not_opened_and_one_touched_is(project: Project) -> None:
    """A build takes the index's files as whole while each has the size and mtime the last
    build wrote it with (as it takes the site's files; whoosh is not opened for it), and opens
    and reads the index when one has not. Shown by damage that keeps both: unseen until the
    file is touched."""
    built(project)
    segment = index_file(project, "segment")
    written = segment.stat()
    damage(segment, "zero")
    os.utime(segment, ns=(written.st_atime_ns, written.st_mtime_ns))
    result = project.run("build", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["repaired"] == []
    os.utime(segment, ns=(1, 1))
    report = repaired_build(project)
    assert [r["what"] for r in report["repaired"]] == ["index"]  # type: ignore[index]
    assert report["indexed"] == 10


@pytest.mark.parametrize("kind", ["truncate", "delete"])
def test_a_truncated_or_deleted_raw_page_is_fetched_again(project: Project, kind: str) -> None:
    clean = built(project)
    raw = next((project.data / "raw").rglob("queue.html"))
    damage(raw, kind)
    project.server.reset_log()
    report = repaired_build(project)
    assert [r["what"] for r in report["repaired"]] == ["raw"]  # type: ignore[index]
    assert report["repaired"][0]["path"] == str(raw)  # type: ignore[index]
    queue = project.server.requests_for(page_path("queue"))
    assert len(queue) == 1 and "If-None-Match" not in queue[0].headers  # unconditional
    assert report["unchanged"] == 1 and report["not_modified"] == 9
    assert raw.read_bytes() == project.server.body_of(page_path("queue"))
    assert_as_built(project, clean)


@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_raw_page_offline_is_reported_and_keeps_its_site_copy(
    project: Project, kind: str
) -> None:
    """Offline, a raw page is checked against its sha256 as it is read: a damaged one cannot be
    rebuilt from, so it fails (exit 1), its page keeps its site copy and search entries, and
    the next build with the network fetches it again."""
    clean = built(project)
    raw = next((project.data / "raw").rglob("queue.html"))
    damage(raw, kind)
    result = project.run("build", "--offline", "--json")
    assert result.exit_code == cli.EXIT_FAILED_URLS, result.output
    failed = json.loads(result.stdout)["failed"]
    assert [(f["url"], f["kept_copy"]) for f in failed] == [
        (project.server.url(page_path("queue")), True)
    ]
    reason = "no stored copy" if kind == "delete" else "raw copy damaged"
    assert reason in failed[0]["error"] and "Traceback" not in result.output
    assert_as_built(project, clean)
    report = repaired_build(project)  # with the network
    assert [r["what"] for r in report["repaired"]] == ["raw"]  # type: ignore[index]
    assert raw.read_bytes() == project.server.body_of(page_path("queue"))
    assert_as_built(project, clean)


@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_state_database_is_set_aside_and_restored_from_the_raw_pages(
    project: Project, kind: str
) -> None:
    clean = built(project)
    database = project.data / "state.sqlite3"
    damage(database, kind)
    if kind != "delete":
        status = project.run("status")  # a reader says so, and repairs nothing
        assert status.exit_code == cli.EXIT_DAMAGED, status.output
        assert str(database) in status.stderr and "run `docmirror build`" in status.stderr
    project.server.reset_log()
    report = repaired_build(project)
    repairs = report["repaired"]
    assert [r["what"] for r in repairs][:1] == ["state"]  # type: ignore[index]
    page_requests = [r for r in project.server.requests if r.path.startswith("/3/library/")]
    assert len(page_requests) == 10  # each page revalidated unconditionally
    assert not any("If-None-Match" in r.headers for r in page_requests)
    assert report["new"] == 0 and report["unchanged"] == 10
    aside = sorted(project.data.glob("state.sqlite3.damaged-*[0-9]"))  # not its -wal, -shm
    assert len(aside) == (0 if kind == "delete" else 1)
    assert_as_built(project, clean)
    again = json.loads(project.run("build", "--json").stdout)
    assert again["repaired"] == [] and again["not_modified"] == 10 and again["rendered"] == 0


def test_a_damaged_state_database_is_restored_offline_too(project: Project) -> None:
    clean_site, clean_results = built(project)
    damage(project.data / "state.sqlite3", "zero")
    project.server.reset_log()
    report = repaired_build(project, "--offline")
    assert project.server.requests == []
    assert report["pages"] == 10 and report["failed"] == []
    assert searches(project) == clean_results
    assert sorted(site_files(project)) == sorted(clean_site)


def test_full_offline_rebuilds_a_damaged_index_and_site_without_the_network(
    project: Project,
) -> None:
    clean = built(project)
    for path in (project.data / "index").iterdir():
        damage(path, "zero")
    damage(project.page_file("sched"), "truncate")
    project.server.reset_log()
    result = project.run("build", "--full", "--offline", "--json")
    assert result.exit_code == 0, result.output
    assert project.server.requests == []
    assert json.loads(result.stdout)["indexed"] == 10
    assert_as_built(project, clean)


# -- one build at a time ----------------------------------------------------------------------



def test_a_second_build_is_refused_while_readers_work_and_a_killed_build_blocks_nothing(
    project: Project,
) -> None:
    project.write_config(workers=2, per_host=2, timeout=30.0, retries=0)
    assert project.run("build", "-q").exit_code == 0
    project.server.stall(page_path("sched"), 60.0, times=1)
    proc = start_build(project, "-q")
    try:
        wait_for(lambda: project.server.in_flight >= 1)  # held mid-build, holding the lock
        for args in (("build", "-q"), ("build", "--check"), ("build", "--offline")):
            result = project.run(*args)
            assert result.exit_code == cli.EXIT_BUSY == 7, (args, result.output)
            line = result.stderr.strip()
            busy = f"docmirror: error: another docmirror build is using {project.data} "
            assert line.startswith(busy), line
            assert f"(pid {proc.pid}, started " in line and "\n" not in line
        for args in (("search", "queue"), ("status",)):  # readers take no lock
            assert project.run(*args).exit_code == 0, args
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    project.server.clear_faults()
    result = project.run("build", "--json")  # the kernel dropped the killed build's lock
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["failed"] == []

