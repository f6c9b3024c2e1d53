"""Concurrent fetching: one requests.Session per worker thread, per-host limits, robots.txt,
conditional requests, timeouts, bounded bodies and retries. Workers fetch; they write nothing."""

from __future__ import annotations

import email.utils
import itertools
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from protego import Protego

from mirror.config import CrawlSettings
from mirror.errors import FetchError
from mirror.fetch.robots import ROBOTS_MAX_BYTES, ROBOTS_MAX_REDIRECTS, parse_robots

SessionFactory = Callable[[], requests.Session]

RETRY_AFTER_CAP = 30.0  # seconds; a longer Retry-After is shortened to this
BACKOFF_BASE = 0.5  # seconds before the first retry, doubled each time, with jitter
FETCH_WINDOW = 4  # per worker: requests fetched ahead of the consumer at most
PAGE_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True, slots=True)
class FetchRequest:
    url: str  # normalised URL to ask for
    etag: str | None = None  # validator from the last good fetch, sent as If-None-Match
    last_modified: str | None = None  # sent as If-Modified-Since
    # what is asked for: a page (HTML types only), an image a page shows (any image/* type), or
    # a file of any type (a Sphinx inventory, usually application/octet-stream)
    kind: Literal["page", "image", "file"] = "page"


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int  # last HTTP status, 0 when no response came
    body: bytes  # the page as sent (empty for 304 and errors)
    etag: str | None
    last_modified: str | None
    content_type: str | None
    not_modified: bool  # the server answered 304 to a conditional request
    error: str | None  # why the fetch failed, for the user; None on success
    attempts: int = 1  # requests made, retries included

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def gone(self) -> bool:
        """The server says nothing is at this URL (404, 410): not a passing failure."""
        return self.status in (404, 410)


class _HTTPStatusError(FetchError):
    """A final HTTP error answer (4xx, or a redirect not followed); keeps the status."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.status = status


class _Retryable(Exception):
    """A failure worth another attempt, possibly after a server-chosen delay."""

    def __init__(self, reason: str, retry_after: float | None = None, status: int = 0) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.status = status  # the HTTP status, 0 when no response came


class _Host:
    """Politeness state for one host: request slots, spacing, and its robots.txt."""

    def __init__(self, per_host: int, delay: float) -> None:
        self.slots = threading.BoundedSemaphore(per_host)
        self.spacing_lock = threading.Lock()
        self.next_start = 0.0
        self.delay = delay
        self.robots_lock = threading.Lock()  # also held while matching: Protego memoises
        self.robots: Protego | None = None  # the rules of the group that applies to us
        self.robots_error: str | None = None
        self.robots_checked = False


class Crawler:
    """Fetches pages concurrently and yields a `FetchResult` for each as it completes."""

    def __init__(
        self,
        settings: CrawlSettings,
        *,
        workers: int | None = None,
        session_factory: SessionFactory = requests.Session,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.workers = workers or settings.workers
        self.window = FETCH_WINDOW * self.workers
        self._session_factory = session_factory
        self._clock = clock
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._hosts: dict[str, _Host] = {}
        self._environments: dict[str, dict[str, Any]] = {}  # see _environment
        self._hosts_lock = threading.Lock()
        self._stop = threading.Event()
        self._pending: set[Future[FetchResult]] = set()
        self.retries_made = 0  # across all fetches, for progress display
        self._count_lock = threading.Lock()

    # -- public -------------------------------------------------------------------------

    def fetch_all(self, requests_: Iterable[FetchRequest]) -> Iterator[FetchResult]:
        """Fetch every request on a thread pool; results come in completion order. At most
        `window` requests are being fetched or waiting to be taken at once: a consumer slower
        than the network (cleaning pages) holds the fetching back rather than have every
        fetched body pile up in memory.

        Closing the iterator early (or an exception in the consumer, such as KeyboardInterrupt)
        cancels what has not started and tells running fetches to stop retrying.
        """
        self._stop.clear()
        pool = ThreadPoolExecutor(
            max_workers=self.workers, thread_name_prefix="fetch", initializer=self._init_worker
        )
        waiting = iter(requests_)
        self._pending = set()
        try:
            for request in itertools.islice(waiting, self.window):
                self._pending.add(pool.submit(self.fetch, request))
            while self._pending:
                done, _ = wait(self._pending, timeout=0.5, return_when=FIRST_COMPLETED)
                self._pending -= done
                for future in done:
                    if (more := next(waiting, None)) is not None:  # before the consumer works
                        self._pending.add(pool.submit(self.fetch, more))
                    yield future.result()
        finally:
            self._stop.set()
            for future in self._pending:
                future.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            with self._sessions_lock:
                for session in self._sessions:
                    session.close()

    @property
    def ahead(self) -> int:
        """Requests of the running `fetch_all` started or done but not yet taken (at most
        `window`)."""
        return len(self._pending)

    def fetch(self, request: FetchRequest) -> FetchResult:
        """Fetch one page with retries; never raises for network or HTTP problems."""
        host = self._host_for(request.url)
        attempts = 0
        reason = "not attempted"
        status = 0  # of the last answer, if any came
        try:
            self._check_robots(request.url, host)
            while True:
                attempts += 1
                try:
                    with host.slots:
                        self._wait_turn(host)
                        if self._stop.is_set():
                            raise FetchError("stopped before the request was sent")
                        return self._attempt(request, attempts)
                except _Retryable as exc:
                    reason = str(exc)
                    status = exc.status
                    if attempts > self.settings.retries or self._stop.is_set():
                        break
                    with self._count_lock:
                        self.retries_made += 1
                    if self._stop.wait(_pause(exc, attempts)):
                        break
        except FetchError as exc:
            reason = str(exc)
            status = getattr(exc, "status", 0)
        return FetchResult(
            url=request.url,
            final_url=request.url,
            status=status,
            body=b"",
            etag=None,
            last_modified=None,
            content_type=None,
            not_modified=False,
            error=reason,
            attempts=attempts,
        )

    # -- internals ------------------------------------------------------------------------

    def _init_worker(self) -> None:
        session = self._session_factory()
        session.headers["User-Agent"] = self.settings.user_agent
        session.max_redirects = 10
        # requests reads the environment's proxies and ~/.netrc again for every request (a
        # third of its time per request); they are read once per host instead (_environment)
        session.trust_env = False
        self._local.session = session
        with self._sessions_lock:
            self._sessions.append(session)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:  # fetch() called outside the pool
            self._init_worker()
            session = self._local.session
        return session  # type: ignore[no-any-return]

    def _environment(self, url: str) -> dict[str, Any]:
        """What requests takes from the environment for `url`'s scheme and host: proxies (with
        NO_PROXY applied), the CA bundle of REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE (for https
        only: given for http, requests would look at it on disk at every request), ~/.netrc's
        credentials. Read once per scheme and host."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        found = self._environments.get(key)
        if found is None:
            reader = requests.Session()
            settings = reader.merge_environment_settings(url, {}, None, None, None)
            reader.close()
            found = {"proxies": settings["proxies"]}
            if parts.scheme == "https":
                found["verify"] = settings["verify"]
            auth = requests.utils.get_netrc_auth(url)
            if auth:
                found["auth"] = auth
            self._environments[key] = found
        return found

    def _host_for(self, url: str) -> _Host:
        key = urlsplit(url).netloc
        with self._hosts_lock:
            if key not in self._hosts:
                self._hosts[key] = _Host(self.settings.per_host, self.settings.delay)
            return self._hosts[key]

    def _wait_turn(self, host: _Host) -> None:
        """Space request starts to one host by its delay (config or robots Crawl-delay)."""
        if host.delay <= 0:
            return
        with host.spacing_lock:
            now = self._clock()
            if host.next_start > now:
                self._stop.wait(host.next_start - now)
            host.next_start = max(now, host.next_start) + host.delay

    def _check_robots(self, url: str, host: _Host) -> None:
        if not self.settings.robots:
            return
        with host.robots_lock:
            if not host.robots_checked:
                self._load_robots(url, host)
                host.robots_checked = True
            if host.robots_error:
                raise FetchError(host.robots_error)
            if host.robots is not None and not host.robots.can_fetch(url, "*"):
                raise FetchError("disallowed by robots.txt")

    def _load_robots(self, url: str, host: _Host) -> None:
        """Read the host's robots.txt as RFC 9309 says: redirects followed (five at most), its
        first 500 KiB parsed, the group of our product token applied (else the "*" group)."""
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        result = self.fetch_file(robots_url, follow_redirects=False, cut_at=ROBOTS_MAX_BYTES)
        hops = 0
        while 300 <= result.status < 400 and result.final_url != result.url:
            if hops == ROBOTS_MAX_REDIRECTS:
                # RFC 9309 2.3.1.2: after more than five consecutive redirects a crawler MAY
                # assume the robots.txt is unavailable, as for a 4xx answer; chosen here, so
                # everything on the host is allowed (not "unreachable", which allows nothing)
                return
            hops += 1
            result = self.fetch_file(
                result.final_url, follow_redirects=False, cut_at=ROBOTS_MAX_BYTES
            )
        if 200 <= result.status < 300:
            parser = parse_robots(result.body, self.settings.user_agent)
            host.robots = parser
            crawl_delay = parser.crawl_delay("*")  # fractional seconds too
            if crawl_delay:
                host.delay = max(host.delay, crawl_delay)
        elif result.status == 0:  # the host (or a redirect's target) cannot be reached
            host.robots_error = f"robots.txt unreachable ({result.error})"
        elif result.status >= 500:
            # RFC 9309 2.3.1.4: an unreachable robots.txt means "assume complete disallow"
            host.robots_error = f"robots.txt unavailable (HTTP {result.status})"
        # 4xx (or a 3xx leading nowhere else): no robots.txt, everything allowed

    def fetch_file(
        self, url: str, *, follow_redirects: bool = True, cut_at: int | None = None
    ) -> FetchResult:
        """Fetch any resource (robots.txt, inventories) with the retry policy, whatever its type.

        With `follow_redirects=False` a redirect is returned as it came, its status kept and its
        target (made absolute) as `final_url`. With `cut_at`, at most that many bytes of the body
        are read, whatever `max_bytes` says: a longer body is cut there rather than refused.
        """
        attempts = 0
        while True:
            attempts += 1
            try:
                return self._attempt(
                    FetchRequest(url),
                    attempts,
                    pages_only=False,
                    follow_redirects=follow_redirects,
                    cut_at=cut_at,
                )
            except _Retryable as exc:
                if attempts > self.settings.retries or self._stop.is_set():
                    return FetchResult(
                        url, url, exc.status, b"", None, None, None, False, str(exc), attempts
                    )
                self._stop.wait(_pause(exc, attempts))
            except FetchError as exc:  # no HTTP status here: 4xx answers are results
                return FetchResult(url, url, 0, b"", None, None, None, False, str(exc), attempts)

    def _attempt(
        self,
        request: FetchRequest,
        attempts: int,
        pages_only: bool = True,
        follow_redirects: bool = True,
        cut_at: int | None = None,
    ) -> FetchResult:
        """One HTTP exchange. Raises _Retryable for transient faults, FetchError for final ones."""
        headers = {}
        if request.etag:
            headers["If-None-Match"] = request.etag
        if request.last_modified:
            headers["If-Modified-Since"] = request.last_modified
        timeout = self.settings.timeout
        host = urlsplit(request.url).hostname or "?"
        try:
            response = self._session().get(
                request.url,
                headers=headers,
                timeout=(timeout, timeout),
                stream=True,
                allow_redirects=follow_redirects,
                **self._environment(request.url),
            )
        except requests.RequestException as exc:
            raise _classify(exc, host, timeout) from None
        with response:
            status = response.status_code
            target = None if follow_redirects else self._session().get_redirect_target(response)
            if target is not None:  # a redirect, not followed: where it points
                return FetchResult(
                    request.url, urljoin(request.url, target), status, b"",
                    None, None, None, False, None, attempts,
                )  # fmt: skip
            if status == 304:
                response.content  # noqa: B018 - read (nothing) all the same: the connection is reused
                body = b""
            elif status == 429 or status >= 500:
                raise _Retryable(f"HTTP {status} {response.reason}", _retry_after(response), status)
            elif status >= 400 or (status >= 300 and pages_only):
                if not pages_only:
                    return _result(request, response, b"", attempts)
                raise _HTTPStatusError(f"HTTP {status} {response.reason}", status)
            else:
                content_type = response.headers.get("Content-Type", "")
                media = content_type.split(";")[0].strip().lower()
                if request.kind == "image" and not media.startswith("image/"):
                    raise FetchError(f"not an image (Content-Type: {content_type or 'none'})")
                if pages_only and request.kind == "page" and media not in PAGE_TYPES:
                    raise FetchError(f"not an HTML page (Content-Type: {content_type or 'none'})")
                body = self._read_body(response, host, timeout, cut_at)
        return _result(request, response, body, attempts)

    def _read_body(
        self, response: requests.Response, host: str, timeout: float, cut_at: int | None = None
    ) -> bytes:
        """The whole body, within a total deadline and `max_bytes`, checked for truncation; with
        `cut_at`, its first `cut_at` bytes at most, whatever `max_bytes` says (the rest is not
        downloaded)."""
        limit = self.settings.max_bytes
        declared = response.headers.get("Content-Length")
        if cut_at is None and declared and declared.isdigit() and int(declared) > limit:
            raise FetchError(f"body of {declared} bytes is over max_bytes ({limit})")
        deadline = self._clock() + timeout * 3
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(64 * 1024):
                chunks.append(chunk)
                size += len(chunk)
                if cut_at is not None and size >= cut_at:
                    return b"".join(chunks)[:cut_at]
                if cut_at is None and size > limit:
                    raise FetchError(f"body is over max_bytes ({limit})")
                if self._clock() > deadline:
                    raise _Retryable(f"body not received within {timeout * 3:g}s")
        except requests.RequestException as exc:
            raise _classify(exc, host, timeout) from None
        # a body shorter than its Content-Length raises IncompleteRead in urllib3 (2.x enforces
        # the length), which _classify calls "body truncated"
        return b"".join(chunks)


def _result(
    request: FetchRequest, response: requests.Response, body: bytes, attempts: int
) -> FetchResult:
    return FetchResult(
        url=request.url,
        final_url=response.url or request.url,
        status=response.status_code,
        body=body,
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        content_type=response.headers.get("Content-Type"),
        not_modified=response.status_code == 304,
        error=None,
        attempts=attempts,
    )


def _pause(exc: _Retryable, attempts: int) -> float:
    """Seconds to wait before the next attempt: Retry-After if given, else jittered backoff."""
    pause = exc.retry_after
    if pause is None:
        pause = BACKOFF_BASE * 2 ** (attempts - 1) * (0.5 + random.random() / 2)
    return min(pause, RETRY_AFTER_CAP)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _classify(exc: requests.RequestException, host: str, timeout: float) -> Exception:
    """Turn a requests exception into a short reason, retryable unless retrying cannot help."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain and len(chain) < 10:
        chain.append(cause)
        nested = getattr(cause, "reason", None)  # urllib3 wraps the socket error in .reason
        cause = (
            nested if isinstance(nested, BaseException) else cause.__cause__ or cause.__context__
        )
    text = " ".join(str(c) for c in chain)
    if isinstance(exc, requests.exceptions.InvalidSchema | requests.exceptions.InvalidURL):
        return FetchError(f"redirected to a URL that is not http(s): {exc}")
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return FetchError("too many redirects")
    if any(isinstance(c, urllib3.exceptions.NameResolutionError) for c in chain):
        if "Temporary failure" in text:
            return _Retryable(f"cannot resolve host {host} (temporary failure)")
        return FetchError(f"cannot resolve host {host}")
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return _Retryable(f"connection to {host} timed out after {timeout:g}s")
    if isinstance(exc, requests.exceptions.ReadTimeout) or "Read timed out" in text:
        return _Retryable(f"{host} sent nothing for {timeout:g}s (read timeout)")
    if any(isinstance(c, ConnectionRefusedError) for c in chain) or "Connection refused" in text:
        return _Retryable(f"connection refused by {host}")
    if any(isinstance(c, ConnectionResetError) for c in chain) or "reset by peer" in text:
        return _Retryable(f"connection reset by {host}")
    if "incomplete" in text.lower():  # urllib3's IncompleteRead, http.client's too
        return _Retryable(f"body truncated by {host}")
    if isinstance(exc, requests.exceptions.SSLError):
        return FetchError(f"TLS error with {host}")
    if "RemoteDisconnected" in text or "closed connection" in text:
        return _Retryable(f"{host} closed the connection without a response")
    return _Retryable(f"network error with {host}: {type(exc).__name__}")
