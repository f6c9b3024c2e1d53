"""One build at a time per data folder: an OS lock (`fcntl.flock`) on `DATA_DIR/lock`, which holds
the pid and start time of the holder so that a second build can say who is at work. The kernel
drops the lock when its process ends, however it ends, so a killed build never blocks the next.
Readers (`search`, `status`, `serve`) take no lock: they read what builds write atomically."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mirror.errors import BusyError, StoreError

LOCK_FILE = "lock"


@contextmanager
def data_lock(data_dir: Path, clock: Callable[[], float] = time.time) -> Iterator[None]:
    """Hold `data_dir`'s lock for the block (creating the folder); a BusyError naming the
    holder when another process holds it. Never waits: a second build is refused at once."""
    path = Path(data_dir) / LOCK_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not truncated: the holder's pid
    except OSError as exc:
        raise StoreError(f"{data_dir}: cannot use the data folder: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BusyError(
                f"another docmirror build is using {data_dir} ({_holder(fd)}); "
                "wait for it to finish"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {clock():.0f}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _holder(fd: int) -> str:
    """`pid N, started T` from the lock file, as far as its holder has written it."""
    try:
        pid, started = os.pread(fd, 100, 0).decode("ascii").split()
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(started)))
    except (OSError, UnicodeDecodeError, ValueError):
        return "pid unknown"  # the holder is between taking the lock and writing its pid
    return f"pid {pid}, started {when}"
