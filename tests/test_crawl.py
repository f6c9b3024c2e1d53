"""The concurrent fetcher (`mirror.fetch.crawl`) against the real loopback server in `docserver.py`.

No mocks: every request goes over TCP to 127.0.0.1. Faults (errors, stalls, resets, truncated
bodies, redirects) are injected by the server; assertions look at the `FetchResult`s and at what
the server recorded. Timeouts are small and retries few, so the whole file runs in seconds.
"""

from __future__ import annotations

import base64
import email.utils
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError

from mirror.config import DEFAULT_USER_AGENT
from mirror.errors import FetchError
from mirror.fetch.crawl import (
    BACKOFF_BASE,
    RETRY_AFTER_CAP,
    Crawler,
    FetchRequest,
    FetchResult,
    _classify,
    _pause,
    _Retryable,
)

from conftest import NAMES, crawl_settings, fetch_each, page_path
from docserver import DocServer, RequestRecord

TEXT = "text/plain; charset=utf-8"


make_settings = crawl_settings
fetch_all = fetch_each


def fetch_one(server: DocServer, path: str, **overrides: object) -> FetchResult:
    (result,) = fetch_all(Crawler(make_settings(**overrides)), [server.url(path)]).values()
    return result


def page_urls(server: DocServer, names: tuple[str, ...] | list[str] = NAMES) -> list[str]:
    return [server.url(page_path(n)) for n in names]


def header(record: RequestRecord, name: str) -> str | None:
    """A request header as the server saw it, whatever case the client spelled it in."""
    found = {k.lower(): v for k, v in record.headers.items()}
    return found.get(name.lower())


def page_request_times(server: DocServer) -> list[float]:
    return sorted(r.time for r in server.requests if r.path.startswith("/3/library/"))


def assert_spaced(times: list[float], delay: float) -> None:
    """Request starts (as the server saw them) are `delay` apart.

    The crawler spaces the moment it starts each request; the server records when it has read
    the request line, which adds connection set-up time. So each gap gets a little slack, and
    the whole span (where that jitter only counts at the two ends) is held closer to the mark.
    """
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps, "need at least two requests to measure spacing"
    assert min(gaps) >= delay * 0.75, gaps
    assert times[-1] - times[0] >= len(gaps) * delay - 0.02, gaps


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that is bound but not listening: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


# -- a plain fetch -------------------------------------------------------------------------


def test_plain_fetch_records_body_validators_and_type(
    docserver: DocServer, pages: dict[str, bytes]
) -> None:
    path = page_path("queue")
    url = docserver.url(path)
    result = fetch_one(docserver, path)
    assert result.ok and result.error is None
    assert result.status == 200
    assert result.body == pages[path]
    assert result.etag == docserver.etag_for(path)
    assert result.last_modified == docserver.last_modified_for(path)
    assert result.content_type == "text/html; charset=utf-8"
    assert result.url == url and result.final_url == url
    assert not result.not_modified
    assert result.attempts == 1
    assert len(docserver.requests_for(path)) == 1


def test_fetch_outside_the_pool_works_too(docserver: DocServer, pages: dict[str, bytes]) -> None:
    path = page_path("threading")
    result = Crawler(make_settings()).fetch(FetchRequest(docserver.url(path)))
    assert result.ok and result.body == pages[path]


def test_fetch_file_takes_any_content_type(docserver: DocServer) -> None:
    body = b"# Sphinx inventory\n"
    docserver.set_page("/objects.inv", body, content_type="application/octet-stream")
    result = Crawler(make_settings()).fetch_file(docserver.url("/objects.inv"))
    assert result.ok and result.status == 200 and result.body == body


# -- conditional requests ------------------------------------------------------------------


def test_etag_gives_not_modified(docserver: DocServer) -> None:
    path = page_path("sched")
    etag = docserver.etag_for(path)
    (result,) = Crawler(make_settings()).fetch_all([FetchRequest(docserver.url(path), etag=etag)])
    assert result.ok and result.not_modified
    assert result.status == 304 and result.body == b""
    (record,) = docserver.requests_for(path)
    assert header(record, "If-None-Match") == etag
    assert header(record, "If-Modified-Since") is None


def test_last_modified_alone_sends_if_modified_since(docserver: DocServer) -> None:
    path = page_path("sched")
    stamp = docserver.last_modified_for(path)
    request = FetchRequest(docserver.url(path), last_modified=stamp)
    (result,) = Crawler(make_settings()).fetch_all([request])
    assert result.ok and result.not_modified
    assert result.status == 304 and result.body == b""
    (record,) = docserver.requests_for(path)
    assert header(record, "If-Modified-Since") == stamp
    assert header(record, "If-None-Match") is None


def test_unchanged_pages_are_asked_for_over_one_kept_alive_connection(
    docserver: DocServer,
) -> None:
    # a refresh asks about every page; a 304 has no body to read, and a connection closed
    # unread instead of given back to the pool cost a new TCP connection per page
    requests_ = [
        FetchRequest(docserver.url(page_path(n)), etag=docserver.etag_for(page_path(n)))
        for n in NAMES
    ]
    opened = docserver.connections_opened
    results = list(Crawler(make_settings(workers=1, per_host=1)).fetch_all(requests_))
    assert [r.status for r in results] == [304] * len(NAMES)
    assert docserver.connections_opened - opened == 1


def test_fetching_waits_for_a_slow_consumer(docserver: DocServer) -> None:
    # a consumer slower than the network (cleaning pages) holds the fetching back: bodies
    # fetched and not yet taken never number more than the crawler's window
    crawler = Crawler(make_settings(workers=2, per_host=2))
    urls = [docserver.url(page_path(n)) + f"?copy={i}" for i in range(4) for n in NAMES]
    assert len(urls) > 2 * crawler.window
    taken = 0
    for result in crawler.fetch_all(FetchRequest(u) for u in urls):
        taken += 1
        assert result.ok
        assert crawler.ahead <= crawler.window
        assert len(docserver.requests) <= taken + crawler.window
    assert taken == len(urls)


def test_stale_etag_gets_the_new_page(docserver: DocServer, pages: dict[str, bytes]) -> None:
    path = page_path("sched")
    request = FetchRequest(docserver.url(path), etag='"not-the-current-one"')
    (result,) = Crawler(make_settings()).fetch_all([request])
    assert result.ok and not result.not_modified
    assert result.status == 200 and result.body == pages[path]


def test_plain_request_sends_no_validators(docserver: DocServer) -> None:
    fetch_one(docserver, page_path("queue"))
    (record,) = docserver.requests_for(page_path("queue"))
    assert header(record, "If-None-Match") is None
    assert header(record, "If-Modified-Since") is None


# -- user agent ------------------------------------------------------------------------------


@pytest.mark.parametrize("agent", [DEFAULT_USER_AGENT, "docmirror-tests/9.9 (+loopback)"])
def test_user_agent_is_sent_on_every_request(docserver: DocServer, agent: str) -> None:
    crawler = Crawler(make_settings(user_agent=agent, robots=True))
    results = fetch_all(crawler, page_urls(docserver, NAMES[:4]))
    assert all(r.ok for r in results.values())
    assert len(docserver.requests) == 5  # robots.txt and four pages
    assert {header(r, "User-Agent") for r in docserver.requests} == {agent}


# -- retries -------------------------------------------------------------------------------


def test_503_twice_with_retry_after_then_success(
    docserver: DocServer, pages: dict[str, bytes]
) -> None:
    path = page_path("queue")
    docserver.fail(path, 503, times=2, headers={"Retry-After": "0"})
    crawler = Crawler(make_settings(retries=3))
    (result,) = crawler.fetch_all([FetchRequest(docserver.url(path))])
    assert result.ok and result.body == pages[path]
    assert result.attempts == 3
    assert len(docserver.requests_for(path)) == 3
    assert crawler.retries_made == 2


def test_500_once_is_retried(docserver: DocServer, pages: dict[str, bytes]) -> None:
    path = page_path("queue")
    docserver.fail(path, 500, times=1)
    result = fetch_one(docserver, path, retries=1)
    assert result.ok and result.body == pages[path] and result.attempts == 2
    assert len(docserver.requests_for(path)) == 2


def test_429_is_retried(docserver: DocServer, pages: dict[str, bytes]) -> None:
    path = page_path("queue")
    docserver.fail(path, 429, times=1, headers={"Retry-After": "0"})
    result = fetch_one(docserver, path, retries=2)
    assert result.ok and result.body == pages[path] and result.attempts == 2
    assert len(docserver.requests_for(path)) == 2


def test_404_is_not_retried(docserver: DocServer) -> None:
    path = "/3/library/missing.html"
    result = fetch_one(docserver, path, retries=3)
    assert not result.ok
    assert result.error is not None and "404" in result.error
    assert result.status == 404
    assert result.attempts == 1
    assert len(docserver.requests_for(path)) == 1


def test_410_is_not_retried(docserver: DocServer) -> None:
    path = page_path("queue")
    docserver.fail(path, 410, times=None)
    result = fetch_one(docserver, path, retries=3)
    assert not result.ok and result.error is not None and "410" in result.error
    assert len(docserver.requests_for(path)) == 1


def test_retries_exhausted_reports_the_status(docserver: DocServer) -> None:
    path = page_path("queue")
    docserver.fail(path, 503, times=None, headers={"Retry-After": "0"})
    result = fetch_one(docserver, path, retries=2)
    assert not result.ok
    assert result.error is not None and "503" in result.error
    assert result.status == 503
    assert result.body == b""
    assert result.attempts == 3
    assert len(docserver.requests_for(path)) == 3


def test_connection_reset_once_is_retried(docserver: DocServer, pages: dict[str, bytes]) -> None:
    path = page_path("queue")
    docserver.reset(path, times=1)
    result = fetch_one(docserver, path, retries=1)
    assert result.ok and result.body == pages[path] and result.attempts == 2
    assert len(docserver.requests_for(path)) == 2


def test_connection_reset_every_time_is_a_short_error(docserver: DocServer) -> None:
    path = page_path("queue")
    docserver.reset(path, times=None)
    result = fetch_one(docserver, path, retries=1)
    assert not result.ok and result.error is not None
    assert "reset" in result.error or "closed" in result.error
    assert "Traceback" not in result.error and "\n" not in result.error
    assert result.status == 0
    assert result.attempts == 2
    assert len(docserver.requests_for(path)) == 2


# -- timeouts, truncation, size and type ---------------------------------------------------


def test_stall_longer_than_the_timeout_fails_quickly(docserver: DocServer) -> None:
    path = page_path("queue")
    docserver.stall(path, 10.0, times=None)
    started = time.monotonic()
    result = fetch_one(docserver, path, timeout=0.5, retries=1)
    elapsed = time.monotonic() - started
    assert not result.ok and result.error is not None
    assert "timeout" in result.error and "0.5s" in result.error
    assert result.attempts == 2
    # two attempts of 0.5 s and one backoff of at most 0.5 s, far below the 10 s stall
    assert elapsed < 3.0


def test_stall_shorter_than_the_timeout_succeeds(
    docserver: DocServer, pages: dict[str, bytes]
) -> None:
    path = page_path("queue")
    docserver.stall(path, 0.2, times=1)
    result = fetch_one(docserver, path, timeout=2.0, retries=0)
    assert result.ok and result.body == pages[path] and result.attempts == 1


def test_truncated_body_is_never_ok(docserver: DocServer) -> None:
    path = page_path("queue")
    docserver.truncate(path, times=None)
    result = fetch_one(docserver, path, retries=1)
    assert not result.ok and result.error is not None
    assert "truncated" in result.error
    assert result.body == b""
    assert len(docserver.requests_for(path)) == 2  # a truncated body is worth a retry


def test_truncated_once_is_retried(docserver: DocServer, pages: dict[str, bytes]) -> None:
    path = page_path("queue")
    docserver.truncate(path, times=1)
    result = fetch_one(docserver, path, retries=1)
    assert result.ok and result.body == pages[path] and result.attempts == 2


def test_body_over_max_bytes_is_refused(docserver: DocServer, pages: dict[str, bytes]) -> None:
    path = page_path("queue")
    size = len(pages[path])
    result = fetch_one(docserver, path, max_bytes=size - 1, retries=2)
    assert not result.ok and result.error is not None
    assert "max_bytes" in result.error and str(size - 1) in result.error
    assert result.body == b""
    assert len(docserver.requests_for(path)) == 1  # retrying cannot help


def test_body_of_exactly_max_bytes_is_accepted(
    docserver: DocServer, pages: dict[str, bytes]
) -> None:
    path = page_path("queue")
    result = fetch_one(docserver, path, max_bytes=len(pages[path]))
    assert result.ok and result.body == pages[path]


def test_a_body_without_a_length_is_refused_at_max_bytes_and_not_downloaded(
    docserver: DocServer,
) -> None:
    """A body without Content-Length is counted as it streams in; past max_bytes the crawler
    hangs up rather than download the rest (far more than the loopback buffers can hold)."""
    path = page_path("queue")
    total = 32 * 1024 * 1024
    docserver.stream(path, total)
    result = fetch_one(docserver, path, max_bytes=1024 * 1024, retries=0)
    assert result.error == "body is over max_bytes (1048576)"
    assert docserver.streamed_bytes(path) < total // 4


def test_a_body_without_a_length_under_max_bytes_arrives_whole(docserver: DocServer) -> None:
    path = page_path("queue")
    docserver.stream(path, 200_000)  # four reads of 64 KiB
    result = fetch_one(docserver, path, retries=0)
    assert result.ok and len(result.body) == 200_000 and result.body.startswith(b"<p>xxx")
    assert docserver.streamed_bytes(path) == 200_000


class _ClockAtDeadline:
    """Reads 0 when a body's deadline is set (the first call), `later` at every check after."""

    def __init__(self, later: float) -> None:
        self.later = later
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return 0.0 if self.calls == 1 else self.later


@pytest.mark.parametrize(("elapsed", "ok"), [(2.9, True), (3.0, True), (3.1, False)])
def test_a_body_has_three_timeouts_to_arrive(
    docserver: DocServer, elapsed: float, ok: bool
) -> None:
    """The read timeout bounds each wait for bytes; a body that keeps trickling in is bounded by
    a total deadline of three timeouts (measured on the injected clock)."""
    crawler = Crawler(make_settings(timeout=1.0, retries=0), clock=_ClockAtDeadline(elapsed))
    (result,) = fetch_all(crawler, [docserver.url(page_path("queue"))]).values()
    assert result.ok is ok
    assert result.error == (None if ok else "body not received within 3s")


def test_a_body_that_stops_coming_is_a_read_timeout(docserver: DocServer) -> None:
    path = page_path("queue")
    docserver.stall_body(path, 10.0, times=None)
    result = fetch_one(docserver, path, timeout=0.5, retries=0)
    assert result.error == "127.0.0.1 sent nothing for 0.5s (read timeout)"


def test_non_html_page_is_refused(docserver: DocServer) -> None:
    docserver.set_page("/x.pdf", b"%PDF-1.4 not a page", content_type="application/pdf")
    result = fetch_one(docserver, "/x.pdf", retries=2)
    assert not result.ok and result.error is not None
    assert "not an HTML page" in result.error and "application/pdf" in result.error
    assert result.body == b""
    assert len(docserver.requests_for("/x.pdf")) == 1


def test_xhtml_page_is_accepted(docserver: DocServer) -> None:
    body = b'<html xmlns="http://www.w3.org/1999/xhtml"><body>x</body></html>'
    docserver.set_page("/x.xhtml", body, content_type="application/xhtml+xml")
    result = fetch_one(docserver, "/x.xhtml")
    assert result.ok and result.body == body


# -- redirects -----------------------------------------------------------------------------


@pytest.mark.parametrize("absolute", [False, True], ids=["relative", "absolute"])
def test_redirect_is_followed(
    docserver: DocServer, pages: dict[str, bytes], absolute: bool
) -> None:
    target = page_path("queue")
    docserver.redirect("/old.html", docserver.url(target) if absolute else target)
    result = fetch_one(docserver, "/old.html")
    assert result.ok and result.status == 200
    assert result.url == docserver.url("/old.html")
    assert result.final_url == docserver.url(target)
    assert result.final_url.endswith("/3/library/queue.html")
    assert result.body == pages[target]
    assert len(docserver.requests_for("/old.html")) == 1
    assert len(docserver.requests_for(target)) == 1


def test_redirect_to_a_file_url_is_refused(docserver: DocServer) -> None:
    docserver.redirect("/old.html", "file:///etc/passwd")
    result = fetch_one(docserver, "/old.html", retries=2)
    assert not result.ok and result.error is not None
    assert "http" in result.error
    assert result.body == b""
    assert len(docserver.requests_for("/old.html")) == 1  # not retried either


def test_redirect_loop_fails(docserver: DocServer) -> None:
    docserver.redirect("/a.html", "/b.html")
    docserver.redirect("/b.html", "/a.html")
    result = fetch_one(docserver, "/a.html", retries=2)
    assert not result.ok and result.error is not None
    assert "redirect" in result.error
    assert len(docserver.requests) <= 12


@pytest.mark.parametrize(("hops", "ok"), [(10, True), (11, False)])
def test_a_chain_of_ten_redirects_is_followed_not_eleven(
    docserver: DocServer, hops: int, ok: bool
) -> None:
    for hop in range(hops):
        docserver.redirect(f"/hop{hop}.html", f"/hop{hop + 1}.html")
    docserver.set_page(f"/hop{hops}.html", b"<title>There</title>")
    result = fetch_one(docserver, "/hop0.html", retries=0)
    assert result.ok is ok
    assert result.error == (None if ok else "too many redirects")


def test_netrc_credentials_go_to_their_host_only(
    docserver: DocServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """~/.netrc (here $NETRC) is read once per host, as requests reads it per request."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login reader password s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    path = page_path("queue")
    urls = [docserver.url(path), docserver.url(path).replace("127.0.0.1", "localhost")]
    results = fetch_all(Crawler(make_settings(), workers=1), urls)  # one after the other
    assert all(r.ok for r in results.values())
    sent = {r.headers["Host"].split(":")[0]: r.headers.get("Authorization")
            for r in docserver.requests_for(path)}  # fmt: skip
    expected = "Basic " + base64.b64encode(b"reader:s3cret").decode()
    assert sent == {"127.0.0.1": expected, "localhost": None}


def test_backoff_doubles_each_attempt_with_jitter_in_its_upper_half() -> None:
    exc = _Retryable("HTTP 503 Service Unavailable")
    for attempts in (1, 2, 3):
        longest = BACKOFF_BASE * 2 ** (attempts - 1)
        pauses = [_pause(exc, attempts) for _ in range(2000)]
        assert all(longest / 2 <= pause <= longest for pause in pauses)
        # spread over that whole half (a sample missing its top or bottom tenth: p = 0.9**2000)
        assert min(pauses) < longest * 0.55 and max(pauses) > longest * 0.95


# -- concurrency ---------------------------------------------------------------------------


def test_per_host_limits_concurrent_requests(docserver: DocServer) -> None:
    for name in NAMES:
        docserver.stall(page_path(name), 0.3)
    crawler = Crawler(make_settings(workers=8, per_host=2))
    results = fetch_all(crawler, page_urls(docserver))
    assert len(results) == len(NAMES) and all(r.ok for r in results.values())
    assert docserver.max_in_flight == 2
    assert len(docserver.requests) == len(NAMES)


def test_a_result_comes_as_soon_as_its_fetch_is_done(docserver: DocServer) -> None:
    """Results come in completion order, each as it is ready: a fast page is handed over while
    a slow one is still being answered (the build cleans pages while others download)."""
    slow, fast = page_path("queue"), page_path("sched")
    docserver.stall(slow, 30.0)
    results = Crawler(make_settings(timeout=60.0)).fetch_all(
        FetchRequest(docserver.url(p)) for p in (slow, fast)
    )
    first = next(results)
    # The slow request may still be on its way to the server; once it has arrived, it is being
    # answered for 30 s. Had next() waited for every fetch, it would have been answered already.
    slow_arrived = docserver.wait_for_request(slow)
    still_answering = docserver.in_flight
    results.close()  # the slow fetch is abandoned, not waited for
    assert first.url == docserver.url(fast) and first.ok
    assert slow_arrived and still_answering == 1


def test_workers_fetch_in_parallel(docserver: DocServer) -> None:
    for name in NAMES:
        docserver.stall(page_path(name), 0.3)
    crawler = Crawler(make_settings(workers=8, per_host=8))
    started = time.monotonic()
    results = fetch_all(crawler, page_urls(docserver))
    elapsed = time.monotonic() - started
    assert all(r.ok for r in results.values())
    assert docserver.max_in_flight > 2
    assert elapsed < 10 * 0.3  # not one after the other


def test_fetch_all_yields_one_result_per_request(
    docserver: DocServer, pages: dict[str, bytes]
) -> None:
    docserver.fail(page_path("sched"), 404, times=None)
    urls = [*page_urls(docserver), docserver.url("/3/library/missing.html")]
    results = fetch_all(Crawler(make_settings(workers=3)), urls)
    assert len(results) == len(urls)
    assert {u for u, r in results.items() if not r.ok} == {
        docserver.url(page_path("sched")),
        docserver.url("/3/library/missing.html"),
    }
    for name in NAMES:
        if name != "sched":
            assert results[docserver.url(page_path(name))].body == pages[page_path(name)]


def test_fetch_all_of_nothing_yields_nothing(docserver: DocServer) -> None:
    assert list(Crawler(make_settings()).fetch_all([])) == []
    assert docserver.requests == []


def test_one_session_per_worker_thread(docserver: DocServer) -> None:
    lock = threading.Lock()
    created: list[tuple[requests.Session, int]] = []
    closed: list[requests.Session] = []

    class RecordingSession(requests.Session):
        def close(self) -> None:
            with lock:
                closed.append(self)
            super().close()

    def factory() -> requests.Session:
        session = RecordingSession()
        with lock:
            created.append((session, threading.get_ident()))
        return session

    crawler = Crawler(make_settings(robots=True), workers=3, session_factory=factory)
    results = fetch_all(crawler, page_urls(docserver))
    assert all(r.ok for r in results.values())
    assert 1 <= len(created) <= 3
    threads = [ident for _, ident in created]
    assert len(set(threads)) == len(threads)
    assert threading.get_ident() not in threads
    assert all(isinstance(s, requests.Session) for s, _ in created)
    assert all(s.headers["User-Agent"] == crawler.settings.user_agent for s, _ in created)
    assert {id(s) for s, _ in created} <= {id(s) for s in closed}  # closed when done


# -- robots.txt ----------------------------------------------------------------------------


def test_robots_disallow_is_honoured_without_requesting_the_page(docserver: DocServer) -> None:
    docserver.set_page(
        "/robots.txt", b"User-agent: *\nDisallow: /3/library/sched.html\n", content_type=TEXT
    )
    results = fetch_all(Crawler(make_settings(robots=True)), page_urls(docserver))
    sched = results.pop(docserver.url(page_path("sched")))
    assert not sched.ok and sched.error is not None and "robots.txt" in sched.error
    assert sched.attempts == 0
    assert docserver.requests_for(page_path("sched")) == []
    assert all(r.ok for r in results.values())
    assert len(docserver.requests_for("/robots.txt")) == 1  # once for ten pages


def test_robots_group_for_our_agent_applies(docserver: DocServer) -> None:
    docserver.set_page(
        "/robots.txt",
        b"User-agent: otherbot\nDisallow: /\n\n"
        b"User-agent: docmirror\nDisallow: /3/library/queue.html\n\n"
        b"User-agent: *\nDisallow: /3/library/sched.html\n",
        content_type=TEXT,
    )
    urls = page_urls(docserver, ["queue", "sched", "threading"])
    results = fetch_all(Crawler(make_settings(robots=True)), urls)
    assert not results[urls[0]].ok  # our group forbids queue
    assert results[urls[1]].ok  # the * group does not apply to us
    assert results[urls[2]].ok
    assert docserver.requests_for(page_path("queue")) == []


def test_robots_false_ignores_robots_txt(docserver: DocServer) -> None:
    docserver.set_page("/robots.txt", b"User-agent: *\nDisallow: /\n", content_type=TEXT)
    results = fetch_all(Crawler(make_settings(robots=False)), page_urls(docserver))
    assert all(r.ok for r in results.values())
    assert docserver.requests_for("/robots.txt") == []


def test_missing_robots_txt_allows_everything(docserver: DocServer) -> None:
    assert not docserver.has_page("/robots.txt")  # the server answers 404
    results = fetch_all(Crawler(make_settings(robots=True)), page_urls(docserver))
    assert all(r.ok for r in results.values())
    assert len(docserver.requests_for("/robots.txt")) == 1
    assert len(docserver.requests) == 1 + len(NAMES)


def test_robots_txt_unavailable_means_disallow(docserver: DocServer) -> None:
    docserver.fail("/robots.txt", 503, times=None, headers={"Retry-After": "0"})
    results = fetch_all(Crawler(make_settings(robots=True, retries=1)), page_urls(docserver))
    for result in results.values():
        assert not result.ok and result.error is not None and "robots.txt" in result.error
    assert len(docserver.requests_for("/robots.txt")) == 2  # one retry, then given up, once
    assert page_request_times(docserver) == []


def test_robots_txt_retried_once_then_honoured(docserver: DocServer) -> None:
    docserver.fail("/robots.txt", 503, times=1, headers={"Retry-After": "0"})
    docserver.set_page("/robots.txt", b"User-agent: *\nDisallow: /3/library/sched.html\n")
    results = fetch_all(Crawler(make_settings(robots=True, retries=1)), page_urls(docserver))
    assert [u for u, r in results.items() if not r.ok] == [docserver.url(page_path("sched"))]
    assert len(docserver.requests_for("/robots.txt")) == 2


@pytest.mark.parametrize("path", ["/robots.txt", page_path("queue")], ids=["robots", "page"])
def test_retry_after_is_honoured(docserver: DocServer, path: str) -> None:
    docserver.set_page("/robots.txt", b"User-agent: *\nAllow: /\n", content_type=TEXT)
    docserver.fail(path, 503, times=1, headers={"Retry-After": "1"})
    result = fetch_one(docserver, page_path("queue"), robots=True, retries=1)
    assert result.ok
    first, second = docserver.requests_for(path)
    assert second.time - first.time >= 0.8  # the backoff alone would wait 0.5 s at most


def test_retry_after_as_an_http_date_waits_until_then(docserver: DocServer) -> None:
    path = page_path("queue")
    when = email.utils.formatdate(time.time() + 2, usegmt=True)  # 1 to 2 s ahead: whole seconds
    docserver.fail(path, 503, times=1, headers={"Retry-After": when})
    result = fetch_one(docserver, path, retries=1)
    assert result.ok
    first, second = docserver.requests_for(path)
    assert second.time - first.time >= 0.9  # the backoff alone would wait 0.5 s at most


def test_retry_after_in_the_past_retries_at_once(docserver: DocServer) -> None:
    path = page_path("queue")
    docserver.fail(path, 503, times=1, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    crawler = Crawler(make_settings(retries=1))
    assert crawler.fetch(FetchRequest(docserver.url(path))).ok
    first, second = docserver.requests_for(path)
    assert second.time - first.time < RETRY_AFTER_CAP / 2  # not the cap, nor a negative wait


def test_crawl_delay_for_another_agent_does_not_apply(docserver: DocServer) -> None:
    docserver.set_page(
        "/robots.txt",
        b"User-agent: otherbot\nCrawl-delay: 5\n\nUser-agent: *\nDisallow:\n",
        content_type=TEXT,
    )
    for name in NAMES[:3]:
        docserver.stall(page_path(name), 0.3)
    crawler = Crawler(make_settings(robots=True, workers=3, per_host=3))
    results = fetch_all(crawler, page_urls(docserver, NAMES[:3]))
    assert all(r.ok for r in results.values())
    times = page_request_times(docserver)
    assert times[-1] - times[0] < 0.2


def test_robots_crawl_delay_spaces_requests(docserver: DocServer) -> None:
    docserver.set_page("/robots.txt", b"User-agent: *\nCrawl-delay: 0.2\n", content_type=TEXT)
    crawler = Crawler(make_settings(robots=True, workers=4, per_host=4))
    results = fetch_all(crawler, page_urls(docserver, NAMES[:5]))
    assert all(r.ok for r in results.values())
    assert_spaced(page_request_times(docserver), 0.2)


def test_robots_whole_second_crawl_delay_is_read(docserver: DocServer) -> None:
    docserver.set_page("/robots.txt", b"User-agent: *\nCrawl-delay: 1\n", content_type=TEXT)
    crawler = Crawler(make_settings(robots=True, workers=2, per_host=2))
    results = fetch_all(crawler, page_urls(docserver, NAMES[:2]))
    assert all(r.ok for r in results.values())
    assert_spaced(page_request_times(docserver), 1.0)


def test_delay_setting_spaces_requests(docserver: DocServer) -> None:
    crawler = Crawler(make_settings(delay=0.2, workers=5, per_host=5))
    results = fetch_all(crawler, page_urls(docserver, NAMES[:5]))
    assert all(r.ok for r in results.values())
    assert_spaced(page_request_times(docserver), 0.2)


def test_no_delay_means_no_spacing(docserver: DocServer) -> None:
    # the counterpart of the two tests above: concurrent requests start together
    for name in NAMES[:5]:
        docserver.stall(page_path(name), 0.3)
    crawler = Crawler(make_settings(workers=5, per_host=5))
    fetch_all(crawler, page_urls(docserver, NAMES[:5]))
    times = page_request_times(docserver)
    assert times[-1] - times[0] < 0.2


# -- cancellation --------------------------------------------------------------------------


def test_closing_fetch_all_early_returns_promptly(docserver: DocServer) -> None:
    for name in NAMES:
        if name != "queue":
            docserver.stall(page_path(name), 30.0, times=None)
    crawler = Crawler(make_settings(workers=4, per_host=4, timeout=20.0))
    urls = page_urls(docserver, ["queue", *(n for n in NAMES if n != "queue")])
    started = time.monotonic()
    results = crawler.fetch_all(FetchRequest(u) for u in urls)
    for result in results:
        assert result.url == urls[0] and result.ok
        break
    results.close()  # type: ignore[attr-defined]
    assert time.monotonic() - started < 5.0


def test_closing_fetch_all_early_stops_retries_and_queued_fetches(docserver: DocServer) -> None:
    threads: list[threading.Thread] = []

    def factory() -> requests.Session:
        threads.append(threading.current_thread())  # the worker this session belongs to
        return requests.Session()

    for name in NAMES:
        if name != "queue":
            docserver.stall(page_path(name), 30.0, times=None)
    crawler = Crawler(
        make_settings(workers=4, per_host=4, timeout=0.5, retries=3), session_factory=factory
    )
    urls = page_urls(docserver, ["queue", *(n for n in NAMES if n != "queue")])
    results = crawler.fetch_all(FetchRequest(u) for u in urls)
    assert next(results).url == urls[0]
    results.close()  # type: ignore[attr-defined]
    # the stalled fetches time out after 0.5 s; told to stop, they do not retry, and the
    # workers then exit, as nothing queued is left to run
    for thread in threads:
        thread.join(timeout=5.0)
        assert not thread.is_alive()
    assert all(len(docserver.requests_for(page_path(n))) <= 1 for n in NAMES)
    assert len(docserver.requests) <= 4 + 1  # the first four, and one a freed worker took


# -- connection failures -------------------------------------------------------------------


@pytest.mark.parametrize("robots", [False, True])
def test_unresolvable_host(robots: bool) -> None:
    started = time.monotonic()
    crawler = Crawler(make_settings(robots=robots, retries=2))
    (result,) = crawler.fetch_all([FetchRequest("http://docs.invalid/x.html")])
    assert not result.ok and result.error is not None
    assert "cannot resolve host docs.invalid" in result.error
    assert result.status == 0
    assert result.attempts <= 1
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize("robots", [False, True])
def test_refused_connection(closed_port: int, robots: bool) -> None:
    crawler = Crawler(make_settings(robots=robots, retries=0))
    (result,) = crawler.fetch_all([FetchRequest(f"http://127.0.0.1:{closed_port}/x.html")])
    assert not result.ok and result.error is not None
    assert "refused" in result.error
    assert result.status == 0


# -- the environment -------------------------------------------------------------------------


@pytest.mark.parametrize("bypassed", [False, True])
def test_the_environment_s_proxy_is_used_unless_no_proxy_names_the_host(
    docserver: DocServer, monkeypatch: pytest.MonkeyPatch, bypassed: bool
) -> None:
    """As requests does with the environment (read here once per host): HTTP_PROXY carries the
    request, NO_PROXY sends it straight to the host."""
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", docserver.url("/").rstrip("/"))
    if bypassed:
        monkeypatch.setenv("NO_PROXY", "docs.invalid")
    url = "http://docs.invalid/3/library/queue.html"
    results = fetch_all(Crawler(make_settings(retries=0)), [url, url + "?again"])
    seen = [r.path for r in docserver.requests]
    if bypassed:
        assert seen == []
        assert all("cannot resolve host docs.invalid" in (r.error or "") for r in results.values())
    else:
        assert sorted(seen) == [url, url + "?again"]  # the proxy is asked for the whole URL


# -- added by mutation testing (docs/testing.md) ------------------------------------------------


def test_backoff_doubles_from_half_a_second_with_jitter(docserver: DocServer) -> None:
    """Without Retry-After, the n-th retry waits 0.5 s * 2^(n-1) times a jitter of 0.5 to 1:
    0.25 to 0.5 s, then 0.5 to 1 s (as the server saw the requests; the upper bounds leave a
    busy machine 0.4 s of slack, so a far longer backoff fails, not a slow scheduler)."""
    path = page_path("queue")
    docserver.fail(path, 500, times=2)
    result = Crawler(make_settings(retries=2)).fetch(FetchRequest(docserver.url(path)))
    assert result.ok and result.attempts == 3
    first, second, third = (r.time for r in docserver.requests_for(path))
    assert 0.25 * 0.95 <= second - first < 0.5 + 0.4
    assert 0.5 * 0.95 <= third - second < 1.0 + 0.4


def test_retry_after_in_the_past_waits_nothing(docserver: DocServer) -> None:
    path = page_path("queue")
    docserver.fail(path, 503, times=1, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert Crawler(make_settings(retries=1)).fetch(FetchRequest(docserver.url(path))).ok
    first, second = docserver.requests_for(path)
    assert second.time - first.time < 0.9  # no wait at all, not a minimum of a second


def test_fetch_file_reports_a_failure_field_by_field(docserver: DocServer) -> None:
    """fetch_file never raises: after its retries (the backoff's pause between them), and at once
    for a failure retrying cannot mend, the result names the URL, the status, the reason and the
    attempts, with nothing else set."""
    url = docserver.url("/objects.inv")
    docserver.set_page("/objects.inv", b"x" * 2000, content_type="application/octet-stream")
    docserver.fail("/objects.inv", 500, times=2)  # no Retry-After: the backoff decides
    result = Crawler(make_settings(retries=1)).fetch_file(url)
    error = "HTTP 500 Internal Server Error"
    assert result == FetchResult(url, url, 500, b"", None, None, None, False, error, 2)
    first, second = (r.time for r in docserver.requests_for("/objects.inv"))
    assert second - first >= 0.25 * 0.95
    docserver.fail("/objects.inv", 503, times=1, headers={"Retry-After": "0"})
    refused = Crawler(make_settings(retries=1, max_bytes=1000)).fetch_file(url)
    error = "body of 2000 bytes is over max_bytes (1000)"
    assert refused == FetchResult(url, url, 0, b"", None, None, None, False, error, 2)


def test_fetch_file_returns_an_error_answer_as_it_came_without_its_body(
    docserver: DocServer,
) -> None:
    """A 4xx is an answer for fetch_file, not a failure: its status, and no body."""
    docserver.fail("/objects.inv", 400, body=b"<html>bad request</html>")
    result = Crawler(make_settings(retries=2)).fetch_file(docserver.url("/objects.inv"))
    assert result.error is None and result.status == 400 and result.body == b""
    assert result.attempts == 1 and len(docserver.requests_for("/objects.inv")) == 1


def test_fetch_file_follows_redirects_unless_told_not_to(docserver: DocServer) -> None:
    body = b"# Sphinx inventory\n"
    docserver.set_page("/new/objects.inv", body, content_type="application/octet-stream")
    docserver.redirect("/objects.inv", "/new/objects.inv", status=302)
    url, target = docserver.url("/objects.inv"), docserver.url("/new/objects.inv")
    crawler = Crawler(make_settings())
    followed = crawler.fetch_file(url)
    assert followed.ok and followed.status == 200 and followed.body == body
    assert followed.final_url == target
    # not followed: the redirect as it came (after a retry, counted), its target made absolute
    old = docserver.url("/old.inv")
    docserver.fail("/old.inv", 503, times=1, headers={"Retry-After": "0"})
    docserver.redirect("/old.inv", "/new/objects.inv", status=307)
    as_it_came = crawler.fetch_file(old, follow_redirects=False)
    assert as_it_came == FetchResult(old, target, 307, b"", None, None, None, False, None, 2)
    assert len(docserver.requests_for("/new/objects.inv")) == 1  # by the first call only


def test_a_failed_fetch_is_reported_field_by_field(docserver: DocServer) -> None:
    """The FetchResult of a failure: the URL asked for, the last status (0 when none came), the
    reason, the attempts made, and nothing else."""
    docserver.set_page("/robots.txt", b"User-agent: *\nDisallow: /private/\n", content_type=TEXT)
    crawler = Crawler(make_settings(robots=True, retries=2))
    failing, missing, private = (
        docserver.url(p) for p in (page_path("queue"), "/missing.html", "/private/a.html")
    )
    docserver.fail(page_path("queue"), 503, times=None, headers={"Retry-After": "0"})
    results = fetch_all(crawler, [failing, missing, private])
    assert results[failing] == FetchResult(
        failing, failing, 503, b"", None, None, None, False, "HTTP 503 Service Unavailable", 3
    )
    assert results[missing] == FetchResult(
        missing, missing, 404, b"", None, None, None, False, "HTTP 404 Not Found", 1
    )
    assert results[private] == FetchResult(
        private, private, 0, b"", None, None, None, False, "disallowed by robots.txt", 0
    )
    assert crawler.retries_made == 2


def test_a_page_answering_300_is_an_error(docserver: DocServer) -> None:
    """300 Multiple Choices is no redirect requests follows; for a page it is a final error."""
    docserver.fail("/choices.html", 300, times=None, body=b"<html><body>pick one</body></html>")
    result = fetch_one(docserver, "/choices.html", retries=2)
    assert not result.ok and result.error == "HTTP 300 Multiple Choices"
    assert result.status == 300 and result.body == b""
    assert len(docserver.requests_for("/choices.html")) == 1


def test_an_answer_without_a_content_type_is_refused_as_none(docserver: DocServer) -> None:
    docserver.fail("/x.html", 200, times=None, body=b"<html><body>x</body></html>")
    crawler = Crawler(make_settings(retries=2))
    page = crawler.fetch(FetchRequest(docserver.url("/x.html")))
    assert page.error == "not an HTML page (Content-Type: none)" and page.status == 0
    image = crawler.fetch(FetchRequest(docserver.url("/x.html"), kind="image"))
    assert image.error == "not an image (Content-Type: none)" and image.status == 0
    assert len(docserver.requests_for("/x.html")) == 2  # neither retried


def test_an_image_request_takes_images_only(docserver: DocServer) -> None:
    png = b"\x89PNG\r\n\x1a\n not really"
    docserver.set_page("/logo.png", png, content_type="image/png")
    docserver.set_page("/plot.svg", b"<svg/>", content_type="Image/SVG+XML; charset=utf-8")
    crawler = Crawler(make_settings())
    logo = crawler.fetch(FetchRequest(docserver.url("/logo.png"), kind="image"))
    assert logo.ok and logo.body == png and logo.content_type == "image/png"
    assert crawler.fetch(FetchRequest(docserver.url("/plot.svg"), kind="image")).ok
    page = crawler.fetch(FetchRequest(docserver.url(page_path("queue")), kind="image"))
    assert page.error == "not an image (Content-Type: text/html; charset=utf-8)"
    assert page.body == b""


def test_a_file_request_takes_any_content_type(docserver: DocServer) -> None:
    body = b"# Sphinx inventory\n"
    docserver.set_page("/objects.inv", body, content_type="application/octet-stream")
    request = FetchRequest(docserver.url("/objects.inv"), kind="file")
    result = Crawler(make_settings()).fetch(request)
    assert result.ok and result.body == body


def test_a_body_cut_off_names_the_host(docserver: DocServer) -> None:
    path = page_path("queue")
    docserver.truncate(path, times=None)
    result = fetch_one(docserver, path, retries=0)
    assert result.error == "body truncated by 127.0.0.1" and result.status == 0


# -- what a network fault is called, and whether it is retried ------------------------------
# The real server above gives the faults it can (refused, reset, stalled, cut off); these are
# the exception chains requests and urllib3 raise for the others, built as they raise them.


def _caused(outer: BaseException, inner: BaseException) -> BaseException:
    """`outer` raised while handling `inner`, as requests wraps urllib3's errors."""
    outer.__context__ = inner
    return outer


def _name_error(message: str) -> BaseException:
    failure = NameResolutionError("docs.example", None, socket.gaierror(-3, message))  # type: ignore[arg-type]
    retries = MaxRetryError(None, "/x.html", reason=failure)  # type: ignore[arg-type]
    return _caused(requests.exceptions.ConnectionError(retries), retries)


FAULTS: list[tuple[str, BaseException, str, bool]] = [  # (case, exception, reason, retried)
    ("not http(s)", requests.exceptions.InvalidSchema("ftp://x"),
     "redirected to a URL that is not http(s): ftp://x", False),
    ("redirect loop", requests.exceptions.TooManyRedirects("30 redirects"),
     "too many redirects", False),
    ("name, temporary", _name_error("Temporary failure in name resolution"),
     "cannot resolve host docs.example (temporary failure)", True),
    ("name, unknown", _name_error("Name or service not known"),
     "cannot resolve host docs.example", False),
    ("connect timeout", requests.exceptions.ConnectTimeout("x"),
     "connection to docs.example timed out after 2.5s", True),
    ("read timeout", requests.exceptions.ReadTimeout("x"),
     "docs.example sent nothing for 2.5s (read timeout)", True),
    ("read timeout, said", requests.exceptions.ConnectionError("Read timed out. (read timeout=2)"),
     "docs.example sent nothing for 2.5s (read timeout)", True),
    ("refused", _caused(requests.exceptions.ConnectionError("x"), ConnectionRefusedError(111, "x")),
     "connection refused by docs.example", True),
    ("refused, said", requests.exceptions.ConnectionError("[Errno 111] Connection refused"),
     "connection refused by docs.example", True),
    ("reset", _caused(requests.exceptions.ConnectionError("x"), ConnectionResetError(104, "x")),
     "connection reset by docs.example", True),
    ("reset, urllib3's reason",  # urllib3 keeps the socket error in .reason, not as the cause
     _caused(requests.exceptions.ConnectionError("x"),
             MaxRetryError(None, "/x.html", reason=ConnectionResetError(104, "x"))),  # type: ignore[arg-type]
     "connection reset by docs.example", True),
    ("reset, said", requests.exceptions.ConnectionError("Connection reset by peer"),
     "connection reset by docs.example", True),
    ("cut off", requests.exceptions.ChunkedEncodingError("IncompleteRead(5 bytes read)"),
     "body truncated by docs.example", True),
    ("cut off, said", requests.exceptions.ChunkedEncodingError("Response ended: incomplete"),
     "body truncated by docs.example", True),
    ("TLS", requests.exceptions.SSLError("certificate verify failed"),
     "TLS error with docs.example", False),
    ("closed", requests.exceptions.ConnectionError("RemoteDisconnected('no response')"),
     "docs.example closed the connection without a response", True),
    ("closed, said", requests.exceptions.ConnectionError("Remote end closed connection"),
     "docs.example closed the connection without a response", True),
    ("anything else", requests.exceptions.ConnectionError("odd"),
     "network error with docs.example: ConnectionError", True),
]  # fmt: skip


@pytest.mark.parametrize(("exception", "reason", "retried"), [f[1:] for f in FAULTS],
                         ids=[f[0] for f in FAULTS])  # fmt: skip
def test_each_network_fault_has_its_reason_and_is_retried_only_if_that_can_help(
    exception: requests.RequestException, reason: str, retried: bool
) -> None:
    fault = _classify(exception, "docs.example", 2.5)
    assert str(fault) == reason
    assert isinstance(fault, _Retryable) is retried
    assert isinstance(fault, FetchError) is not retried


def test_a_cycle_of_causes_is_read_once() -> None:
    first = requests.exceptions.ConnectionError("x")
    second = ConnectionResetError(104, "x")
    first.__context__, second.__context__ = second, first
    assert str(_classify(first, "docs.example", 1.0)) == "connection reset by docs.example"
