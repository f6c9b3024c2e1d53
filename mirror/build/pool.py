"""Where the CPU-bound stages run: a process pool sized to the cores, or this process when there are
few pages."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

T = TypeVar("T")


PARALLEL_PAGES = 32  # from this many pages on, a stage cleans or indexes in a process pool
WORKERS = os.cpu_count() or 2  # the pool's processes: both stages hold the GIL


def some_done(futures: Iterable[Future[str]]) -> set[Future[str]]:
    """Wait for at least one of `futures`, in short steps: a wait without a timeout cannot be
    interrupted by Ctrl-C when the signal lands on another thread."""
    while True:
        done, _ = wait(futures, timeout=0.25, return_when=FIRST_COMPLETED)
        if done:
            return done


def _ignore_sigint() -> None:
    """In a cleaning worker: Ctrl-C is the main process's to handle (it stops the pool)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessPool:
    """The process pool of a build's CPU-bound stages (cleaning pages, indexing them), sized to
    the cores since both hold the GIL; started on first use, with `forkserver` since forking a
    process that runs threads can deadlock. A stage with few pages works in this process, where
    starting workers costs more: `allowed` None decides by the number of pages, True and False
    always and never use the pool."""

    def __init__(self, allowed: bool | None) -> None:
        self._allowed = allowed
        self._pool: ProcessPoolExecutor | None = None

    def pool_for(self, pages: int) -> Executor:
        """Where a stage with `pages` pages to work on runs its tasks: the pool (started by the
        first task: pages that all answer 304 give it none), or this process."""
        if not self._allowed and (self._allowed is False or pages < PARALLEL_PAGES):
            return _IN_PROCESS
        return _OnFirstTask(self._started)

    def _started(self) -> Executor:
        if self._pool is None:
            import multiprocessing  # here: a build that cleans and indexes nothing needs none
            from concurrent.futures import ProcessPoolExecutor

            # After Ctrl-C the CLI leaves at once; multiprocessing's resource tracker would then
            # warn about the pool's semaphores, which the system frees anyway.
            quiet = "ignore:resource_tracker:UserWarning"
            if quiet not in sys.warnoptions:
                sys.warnoptions.append(quiet)
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(
                max_workers=WORKERS, mp_context=context, initializer=_ignore_sigint
            )
        return self._pool

    def release(self) -> None:
        """End the pool's processes once their stage is done: the next stage starts its own,
        which hold none of the memory the earlier stage's work left them with (what a process
        has freed mostly stays its own)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> ProcessPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is None:
            return
        if exc[0] is not None:  # interrupted: the workers' results are not wanted any more
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.terminate()
        self._pool.shutdown(wait=exc[0] is None, cancel_futures=True)


class _OnFirstTask(Executor):
    """Hands its tasks to the executor `start` gives, called at the first task."""

    def __init__(self, start: Callable[[], Executor]) -> None:
        self._start = start

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return self._start().submit(fn, *args, **kwargs)


class _InProcess(Executor):
    """Runs each task at once, in this process."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


_IN_PROCESS = _InProcess()
