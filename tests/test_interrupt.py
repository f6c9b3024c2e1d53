"""A build interrupted with Ctrl-C (SIGINT) or killed (SIGKILL) loses nothing, and the next
build completes what it left."""

from __future__ import annotations

import json
import signal
import time

import pytest

from conftest import NAMES, Project, page_path, start_build


def wait_for(condition, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)  # polling a condition, not a timing assumption



def finished_pages(project: Project) -> int:
    return sum(
        1
        for name in NAMES
        if (project.data / "raw").exists() and any((project.data / "raw").rglob(f"{name}.html"))
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_build_is_completed_by_the_next(project: Project, sig: signal.Signals) -> None:
    project.write_config(NAMES, workers=2, per_host=2, timeout=20.0, retries=0)
    stalled = NAMES[5:]
    for name in stalled:  # the second half hangs until the server stops waiting
        project.server.stall(page_path(name), 60.0, times=1)
    proc = start_build(project, "--json")
    try:
        # the first half is fetched and stored while the rest hang
        wait_for(lambda: finished_pages(project) >= 3)
        wait_for(lambda: project.server.in_flight >= 1)
        sent = time.monotonic()
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=15)
        assert time.monotonic() - sent < 5, "the build must stop within a couple of seconds"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if sig == signal.SIGINT:
        assert proc.returncode == 130
        assert "interrupted" in stderr and "Traceback" not in stderr
    else:
        assert proc.returncode == -signal.SIGKILL

    project.server.clear_faults()
    second = project.run("build", "--json")
    assert second.exit_code == 0, second.output
    report = json.loads(second.stdout)
    assert report["failed"] == []
    assert report["new"] + report["unchanged"] + report["not_modified"] + report["updated"] == 10
    for name in NAMES:
        assert project.page_file(name).is_file()
    third = json.loads(project.run("build", "--json").stdout)
    assert third["rendered"] == 0 and third["indexed"] == 0 and third["not_modified"] == 10
