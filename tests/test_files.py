"""Atomic writes (`write_atomic`, `write_if_changed`) on real files: a reader that opened the old
file keeps it whole, the new bytes are fsynced before they replace it, and a failure at the
write, the fsync or the rename leaves the old file as it was and no temporary file behind. The
failures are real where the system can give them (a write to /dev/full), else raised by the
step `write_atomic` takes as a parameter."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest

from mirror.files import write_atomic, write_if_changed

OLD = b"<html>old page</html>\n" * 1000
NEW = b"<html>new page</html>\n" * 1500


@pytest.fixture
def target(tmp_path: Path) -> Path:
    path = tmp_path / "site" / "page.html"
    write_atomic(path, OLD)
    return path


def _fails(code: int) -> Callable[..., None]:
    """A step that fails as the system would, with `code`."""

    def step(*args: object) -> None:
        raise OSError(code, os.strerror(code))

    return step


def _on_a_full_disk(fd: int) -> BinaryIO:
    """The temporary file's descriptor turned into one on /dev/full: writing to it fails for
    real, with ENOSPC, as on a full disk."""
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        os.dup2(full, fd)
    finally:
        os.close(full)
    return os.fdopen(fd, "wb")


def _assert_untouched(target: Path) -> None:
    assert target.read_bytes() == OLD
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary file


@pytest.mark.parametrize("write", [write_atomic, write_if_changed])
def test_a_reader_of_the_old_file_keeps_reading_it(
    target: Path, write: Callable[[Path, bytes], object]
) -> None:
    with target.open("rb") as reader:
        head = reader.read(100)
        write(target, NEW)
        assert head + reader.read() == OLD  # the old file, whole: the new one is another file
    assert target.read_bytes() == NEW
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_the_new_bytes_are_fsynced_in_the_folder_before_they_replace_the_file(
    target: Path,
) -> None:
    steps: list[tuple[str, object]] = []

    def fsync(fd: int) -> None:
        stat = os.fstat(fd)
        steps.append(("fsync", (stat.st_ino, stat.st_size, target.read_bytes() == OLD)))
        os.fsync(fd)

    def replace(source: str, destination: Path) -> None:
        steps.append(("replace", (Path(source).parent, destination)))
        os.replace(source, destination)

    write_atomic(target, NEW, fsync=fsync, replace=replace)
    assert target.read_bytes() == NEW
    # the file fsynced is the one that became `target`, whole, while `target` was still the
    # old file; then a rename within the folder (atomic: the same file system)
    assert steps == [
        ("fsync", (target.stat().st_ino, len(NEW), True)),
        ("replace", (target.parent, target)),
    ]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_full_disk_leaves_the_old_file(target: Path) -> None:
    with pytest.raises(OSError) as failure:
        write_atomic(target, NEW, opener=_on_a_full_disk)
    assert failure.value.errno == errno.ENOSPC
    _assert_untouched(target)


@pytest.mark.parametrize(
    "step",
    [
        {"fsync": _fails(errno.EIO)},
        {"replace": _fails(errno.EACCES)},
        {"replace": _fails(errno.EXDEV)},
    ],
    ids=["fsync", "replace-eacces", "replace-exdev"],
)
def test_a_failing_step_leaves_the_old_file(
    target: Path, step: dict[str, Callable[..., None]]
) -> None:
    with pytest.raises(OSError):
        write_atomic(target, NEW, **step)  # type: ignore[arg-type]
    _assert_untouched(target)


def test_an_interrupt_leaves_the_old_file(target: Path) -> None:
    def interrupted(source: str, destination: Path) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, NEW, replace=interrupted)
    _assert_untouched(target)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_failed_first_write_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "new" / "page.html"
    with pytest.raises(OSError):
        write_atomic(target, NEW, opener=_on_a_full_disk)
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_write_if_changed_writes_atomically_and_only_a_change(target: Path) -> None:
    inode = target.stat().st_ino
    assert write_if_changed(target, OLD) is False
    assert target.stat().st_ino == inode  # not even rewritten in place
    assert write_if_changed(target, NEW) is True
    assert target.read_bytes() == NEW and target.stat().st_ino != inode  # a new file


# -- what mutation testing found unpinned (docs/testing.md) -------------------------------


def _python(code: str, *args: str) -> tuple[int, str]:
    """Run `code` in a new Python process that imports this same `mirror` (the umask and a
    kill are the process's own): its exit status and standard output."""
    import subprocess
    import sys

    package_root = Path(sys.modules[write_atomic.__module__].__file__ or "").parents[1]
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=60
    )
    return done.returncode, done.stdout


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_a_new_file_gets_the_mode_open_would_give(tmp_path: Path, umask: int, mode: int) -> None:
    """Not mkstemp's 0600: a site is meant to be read by its web server, as far as the umask
    lets it; and importing mirror.files leaves the process's umask as it was."""
    code = f"""if True:
        import os, sys
        from pathlib import Path
        os.umask({umask:#o})
        from mirror.files import write_atomic, write_if_changed
        write_atomic(Path(sys.argv[1]), b"page")
        write_if_changed(Path(sys.argv[2]), b"page")
        open(sys.argv[3], "wb").close()
        print(oct(os.umask(0)))
    """
    paths = [tmp_path / name for name in ("atomic.html", "if-changed.html", "open.html")]
    status, out = _python(code, *map(str, paths))
    assert status == 0 and out.strip() == oct(umask)
    assert [p.stat().st_mode & 0o7777 for p in paths] == [mode] * 3


def test_a_write_killed_before_the_rename_leaves_the_old_file_and_a_hidden_leftover(
    target: Path,
) -> None:
    """kill -9 (or a power cut) halfway: the page is the old one, whole, and the leftover is
    hidden and named `.<page>.*.tmp`, so it is never taken for a page, and `find site -name
    '.*.tmp' -delete` clears it."""
    import fnmatch
    import signal

    code = """if True:
        import os, sys
        from pathlib import Path
        from mirror.files import write_atomic
        def killed(fd):
            os.kill(os.getpid(), 9)
        write_atomic(Path(sys.argv[1]), b"new page" * 1000, fsync=killed)
    """
    status, _ = _python(code, str(target))
    assert status == -signal.SIGKILL
    assert target.read_bytes() == OLD
    leftovers = [p for p in target.parent.iterdir() if p != target]
    assert len(leftovers) == 1 and fnmatch.fnmatchcase(leftovers[0].name, ".page.html.*.tmp")
    assert leftovers[0].read_bytes() == b"new page" * 1000


def test_a_rename_that_fails_after_it_happened_reports_its_own_error(target: Path) -> None:
    """A network file system can rename and still answer with an error: the caller gets that
    error (not one from cleaning up a temporary file that is gone), and the new file stays."""

    def renamed_then_failed(source: str, destination: Path) -> None:
        os.replace(source, destination)
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    with pytest.raises(OSError) as failure:
        write_atomic(target, NEW, replace=renamed_then_failed)
    assert failure.value.errno == errno.EIO
    assert target.read_bytes() == NEW
    assert [p.name for p in target.parent.iterdir()] == [target.name]
