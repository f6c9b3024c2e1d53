"""Atomic file writes: readers see the old file or the new one, never a part of either."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _default_mode()  # what open() would give a new file


def _open_for_writing(fd: int) -> BinaryIO:
    return os.fdopen(fd, "wb")


def write_atomic(
    path: Path,
    data: bytes,
    *,
    opener: Callable[[int], BinaryIO] = _open_for_writing,
    fsync: Callable[[int], None] = os.fsync,
    replace: Callable[[str, Path], None] = os.replace,
) -> None:
    """Write `data` to `path` through a temporary file in the same folder, flushed and fsynced,
    then `os.replace`d over `path`: a reader sees the old file or the new one, one that had the
    old file open keeps reading it, and a failure at any step leaves the old file as it was and
    no temporary file behind. (The folder is not fsynced: a power loss may undo the rename,
    leaving the old file.)

    `opener`, `fsync` and `replace` are the steps, for tests to make one of them fail: `opener`
    makes the temporary file's descriptor the binary file written to (`os.fdopen(fd, "wb")`),
    `fsync` and `replace` default to `os.fsync` and `os.replace`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:40]}.", suffix=".tmp")
    try:
        os.fchmod(fd, _FILE_MODE)  # mkstemp makes 0600 files; a site is meant to be read
        with opener(fd) as handle:
            handle.write(data)
            handle.flush()
            fsync(handle.fileno())
        replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` atomically unless `path` already holds exactly it; True if written."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_atomic(path, data)
    return True
