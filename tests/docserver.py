"""A real HTTP server for tests, running in a background thread.

``DocServer`` serves in-memory pages from :class:`http.server.ThreadingHTTPServer`
bound to ``127.0.0.1`` on a random port.  It sends ETag / Last-Modified
validators (and honours conditional requests), and can inject faults on
demand: error statuses, stalls, connection resets, truncated bodies and
redirects.  Every request is recorded so tests can inspect what a client did.

Typical use::

    from docserver import DocServer, load_pages

    with DocServer(load_pages(PAGES_DIR)) as server:
        requests.get(server.url("/3/library/queue.html"))
        server.fail("/3/library/sched.html", 503, times=2)
        ...
        assert len(server.requests_for("/3/library/sched.html")) == 3

Determinism: the default Last-Modified of a page is
``1_700_000_000 + 60 * version`` where ``version`` is a per-server counter
bumped on every change made with :meth:`DocServer.set_page`, so two servers
given the same history send the same validators.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import TCPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote

__all__ = ["BASE_EPOCH", "DocServer", "RequestRecord", "load_pages"]

#: Default Last-Modified of version ``n`` is ``BASE_EPOCH + 60 * n``.
BASE_EPOCH = 1_700_000_000

_HTML = "text/html; charset=utf-8"
_TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


def load_pages(root: Path | str) -> dict[str, bytes]:
    """Map ``"/<path relative to root>"`` to the file's bytes for every file under *root*.

    Keys use ``/`` separators and are sorted, so the resulting dict (and hence the
    validators a :class:`DocServer` derives from it) is deterministic.
    """
    root = Path(root)
    pages: dict[str, bytes] = {}
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        pages["/" + file.relative_to(root).as_posix()] = file.read_bytes()
    return pages


def guess_content_type(path: str) -> str:
    """Content type for *path* by extension; HTML (utf-8) for ``.html`` and unknown ones."""
    name = path.split("?", 1)[0]
    if name.endswith((".html", ".htm", "/")):
        return _HTML
    guessed, _ = mimetypes.guess_type(name, strict=False)
    if guessed is None:
        return _HTML
    if guessed.startswith(_TEXT_TYPES):
        return guessed + "; charset=utf-8"
    return guessed


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it."""

    method: str
    #: The raw request target, query string included (e.g. ``"/a.html?x=1"``).
    path: str
    #: Request headers, names as the client spelled them.
    headers: dict[str, str]
    #: ``time.monotonic()`` when the request line had been parsed.
    time: float = field(default=0.0, compare=False)


@dataclass
class _Page:
    body: bytes
    content_type: str
    last_modified: float
    etag: str


@dataclass
class _Fault:
    kind: str  # "fail" | "stall" | "stall_body" | "reset" | "truncate" | "redirect" | "stream"
    remaining: int | None  # None: forever
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    seconds: float = 0.0
    location: str = ""
    size: int = 0  # bytes of body a "stream" answer sends


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


def _split_query(path: str) -> str:
    return path.split("?", 1)[0]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # many clients connecting at once must not hit SYN drops
    docserver: DocServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, reset, stop()) is routine here; anything
        # else is a bug in this module and keeps the default traceback on stderr.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)) or (
            isinstance(exc, OSError) and self.docserver._stop_event.is_set()
        ):
            return
        super().handle_error(request, client_address)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), which can hang without DNS.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    in_flight = False  # counted in DocServer.in_flight

    # -- plumbing ---------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.server.docserver._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.docserver._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.docserver._handle(self, head=False)

    def do_HEAD(self) -> None:
        self.server.docserver._handle(self, head=True)


class DocServer:
    """Serves in-memory pages from a real ThreadingHTTPServer on 127.0.0.1 (random port).

    Sends ETag/Last-Modified validators (unless ``validators`` is False) and
    injects faults on demand.  All public methods are thread-safe.
    """

    def __init__(self, pages: dict[str, bytes] | None = None, *, validators: bool = True) -> None:
        #: When False: send neither ETag nor Last-Modified, ignore conditional headers.
        self.validators: bool = validators
        #: Every request received, in arrival order (appended under a lock).
        self.requests: list[RequestRecord] = []
        #: Highest number of requests handled at the same time since the last reset_log().
        self.max_in_flight: int = 0
        #: Number of requests being handled right now.
        self.in_flight: int = 0
        self._lock = threading.Lock()
        self._pages: dict[str, _Page] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._version = 0
        self._stop_event = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._streamed: dict[str, int] = {}  # bytes each ended `stream` answer wrote, by path
        # notified whenever a request arrives or is answered, or a `stream` answer ends
        self._changed = threading.Condition(self._lock)
        #: TCP connections accepted since start.
        self.connections_opened: int = 0
        self.base_url: str = ""
        for path, body in (pages or {}).items():
            self.set_page(path, body)

    # -- lifecycle --------------------------------------------------------

    def start(self) -> Self:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread.  Returns self."""
        if self._server is not None:
            raise RuntimeError("DocServer already started")
        self._stop_event.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.docserver = self
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.server_port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"DocServer:{server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: wakes stalled handlers, closes the listener and open connections."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stop_event.set()
        server.shutdown()
        server.server_close()
        # Idle keep-alive connections would otherwise keep being served by their
        # handler threads after stop(); cut them so clients see a closed server.
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("DocServer not started")
        return int(self._server.server_port)

    def url(self, path: str) -> str:
        """``base_url + path``; *path* must start with ``/``."""
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        if not self.base_url:
            raise RuntimeError("DocServer not started")
        return self.base_url + path

    # -- content ----------------------------------------------------------

    def set_page(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str | None = None,
        last_modified: float | None = None,
    ) -> None:
        """Add or change the page at *path*.

        *content_type* defaults to one guessed from the extension
        (``text/html; charset=utf-8`` for ``.html`` and unknown extensions).
        A change of body or content type bumps the version counter, giving a new
        ETag and, unless *last_modified* is given, a new Last-Modified
        (``BASE_EPOCH + 60 * version``).  Setting identical content without
        *last_modified* keeps the existing validators.
        """
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        ctype = content_type if content_type is not None else guess_content_type(path)
        with self._lock:
            old = self._pages.get(path)
            if (
                old is not None
                and last_modified is None
                and old.body == body
                and old.content_type == ctype
            ):
                return
            self._version += 1
            lm = (
                float(last_modified)
                if last_modified is not None
                else float(BASE_EPOCH + 60 * self._version)
            )
            self._pages[path] = _Page(bytes(body), ctype, lm, _etag(body))

    def remove_page(self, path: str) -> None:
        """Forget the page at *path*; it answers 404 afterwards."""
        with self._lock:
            if self._pages.pop(path, None) is not None:
                self._version += 1

    def has_page(self, path: str) -> bool:
        with self._lock:
            return path in self._pages

    def body_of(self, path: str) -> bytes:
        """The body the server sends for *path* (KeyError if absent)."""
        with self._lock:
            return self._pages[path].body

    def etag_for(self, path: str) -> str:
        """The ETag header value the server sends for *path* (KeyError if absent)."""
        with self._lock:
            return self._pages[path].etag

    def last_modified_for(self, path: str) -> str:
        """The Last-Modified header value the server sends for *path* (KeyError if absent)."""
        with self._lock:
            return formatdate(self._pages[path].last_modified, usegmt=True)

    # -- faults -----------------------------------------------------------

    def _add_fault(self, path: str, fault: _Fault) -> None:
        if fault.remaining is not None and fault.remaining < 1:
            raise ValueError("times must be None or >= 1")
        with self._lock:
            self._faults.setdefault(path, deque()).append(fault)

    def fail(
        self,
        path: str,
        status: int,
        times: int | None = 1,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        """Answer the next *times* requests of *path* with *status*, *headers*, *body*."""
        self._add_fault(
            path,
            _Fault("fail", times, status=status, headers=dict(headers or {}), body=body),
        )

    def stall(self, path: str, seconds: float, times: int | None = 1) -> None:
        """Wait *seconds*, then answer normally.

        stop() interrupts the wait; the connection is then dropped unanswered.
        """
        self._add_fault(path, _Fault("stall", times, seconds=seconds))

    def reset(self, path: str, times: int | None = 1) -> None:
        """Close the connection abruptly (RST, via SO_LINGER 0) without any response."""
        self._add_fault(path, _Fault("reset", times))

    def truncate(self, path: str, times: int | None = 1) -> None:
        """Send the full Content-Length but only the first half of the body, then close."""
        self._add_fault(path, _Fault("truncate", times))

    def redirect(
        self, path: str, location: str, status: int = 301, times: int | None = None
    ) -> None:
        """Answer *status* with ``Location: location`` (sent verbatim; may be relative)."""
        self._add_fault(path, _Fault("redirect", times, status=status, location=location))

    def stream(self, path: str, total: int, times: int | None = 1) -> None:
        """Answer 200 with *total* bytes of HTML sent in 64 KiB writes, with no Content-Length
        (the end is the connection's close), stopping early when the client hangs up; what
        was written is then in :meth:`streamed_bytes`."""
        self._add_fault(path, _Fault("stream", times, size=total))

    def stall_body(self, path: str, seconds: float, times: int | None = 1) -> None:
        """Send the headers and the first half of the body, wait *seconds*, then the rest.

        stop() interrupts the wait; the connection is then dropped."""
        self._add_fault(path, _Fault("stall_body", times, seconds=seconds))

    def streamed_bytes(self, path: str, timeout: float = 10.0) -> int:
        """Bytes the `stream` answer of *path* wrote, once it has ended (waits for that)."""
        if not self._wait(lambda: path in self._streamed, timeout):
            raise TimeoutError(f"the stream of {path} has not ended")
        with self._lock:
            return self._streamed[path]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- observation ------------------------------------------------------

    def requests_for(self, path: str) -> list[RequestRecord]:
        """Requests for *path*: exact match if *path* has a query, else ignoring the query."""
        with self._lock:
            return self._requests_for_locked(path)

    def wait_for_request(self, path: str, timeout: float = 5.0) -> bool:
        """Wait until a request for *path* has arrived; False if *timeout* expired first.

        A client's request may still be on its way when the test looks at the server.
        """
        return self._wait(lambda: bool(self._requests_for_locked(path)), timeout)

    def _requests_for_locked(self, path: str) -> list[RequestRecord]:
        """:meth:`requests_for`, for a caller that holds the lock."""
        if "?" in path:
            return [r for r in self.requests if r.path == path]
        return [r for r in self.requests if _split_query(r.path) == path]

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being handled; False if *timeout* expired first.

        Useful before :meth:`reset_log` when an earlier client gave up on a stalled
        request whose handler is still sleeping.
        """
        return self._wait(lambda: self.in_flight == 0, timeout)

    def _wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait, holding the lock between checks, until *predicate* (of the server's state)
        holds; False if *timeout* expired first."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def reset_log(self) -> None:
        """Clear ``requests`` (in place) and ``max_in_flight``."""
        with self._lock:
            self.requests.clear()
            self.max_in_flight = 0

    # -- request handling (runs in handler threads) -------------------------

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
                self.connections_opened += 1
            else:
                self._connections.discard(conn)

    def _lookup(self, table: dict[str, Any], raw: str) -> str | None:
        bare = _split_query(raw)
        for key in (raw, bare, unquote(bare)):
            if key in table:
                return key
        return None

    def _next_fault(self, raw: str) -> _Fault | None:
        with self._lock:
            key = self._lookup(self._faults, raw)
            if key is None:
                return None
            queue = self._faults[key]
            fault = queue[0]
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.popleft()
                    if not queue:
                        del self._faults[key]
            return fault

    def _handle(self, h: _Handler, *, head: bool) -> None:
        record = RequestRecord(
            method=h.command,
            path=h.path,
            headers=dict(h.headers.items()),
            time=time.monotonic(),
        )
        with self._lock:
            self.requests.append(record)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._changed.notify_all()
        h.in_flight = True
        try:
            self._discard_request_body(h)
            self._respond(h, head=head)
        finally:
            self._answered(h)

    def _answered(self, h: _Handler) -> None:
        """The request is no longer in flight: counted before the answer's first byte is sent,
        since the client may start its next request as soon as it has read the answer, before
        this thread runs again (counting after the write made the count one too high at times)."""
        with self._lock:
            if getattr(h, "in_flight", False):
                h.in_flight = False
                self.in_flight -= 1
                self._changed.notify_all()

    @staticmethod
    def _discard_request_body(h: _Handler) -> None:
        length = h.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > 0:
            h.rfile.read(int(length))

    def _respond(self, h: _Handler, *, head: bool) -> None:
        fault = self._next_fault(h.path)
        truncate = False
        stall: float | None = None
        if fault is not None:
            if fault.kind == "stall":
                if self._stop_event.wait(fault.seconds):
                    h.close_connection = True
                    return
            elif fault.kind == "reset":
                self._abort(h)
                return
            elif fault.kind == "truncate":
                truncate = True
            elif fault.kind == "stream":
                self._stream(h, fault.size)
                return
            elif fault.kind == "stall_body":
                stall = fault.seconds
            elif fault.kind == "fail":
                self._send(h, fault.status, fault.headers, fault.body, head=head)
                return
            elif fault.kind == "redirect":
                body = (
                    f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Moved</title></head>'
                    f'<body><a href="{fault.location}">moved</a></body></html>'
                ).encode()
                headers = {"Location": fault.location, "Content-Type": _HTML}
                self._send(h, fault.status, headers, body, head=head)
                return

        with self._lock:
            key = self._lookup(self._pages, h.path)
            page = self._pages[key] if key is not None else None
            validators = self.validators

        if page is None:
            body = (
                b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>404 Not Found</title>'
                b"</head><body><h1>Not Found</h1></body></html>"
            )
            self._send(h, 404, {"Content-Type": _HTML}, body, head=head, truncate=truncate)
            return

        headers = {"Content-Type": page.content_type}
        if validators:
            headers["ETag"] = page.etag
            headers["Last-Modified"] = formatdate(page.last_modified, usegmt=True)
            if self._not_modified(h, page):
                del headers["Content-Type"]
                self._send(h, 304, headers, b"", head=True, truncate=truncate)
                return
        self._send(h, 200, headers, page.body, head=head, truncate=truncate, stall=stall)

    def _stream(self, h: _Handler, total: int) -> None:
        self._answered(h)
        h.close_connection = True
        h.send_response(200)
        h.send_header("Content-Type", _HTML)
        h.send_header("Connection", "close")
        h.end_headers()
        written = 0
        chunk = b"<p>" + b"x" * (64 * 1024 - 3)
        try:
            while written < total:
                part = chunk[: total - written]
                h.wfile.write(part)
                written += len(part)
            h.wfile.flush()
        except OSError:  # the client hung up
            pass
        with self._changed:
            self._streamed[_split_query(h.path)] = written
            self._changed.notify_all()

    @staticmethod
    def _not_modified(h: _Handler, page: _Page) -> bool:
        inm = h.headers.get("If-None-Match")
        if inm is not None:  # takes precedence over If-Modified-Since
            tags = [t.strip() for t in inm.split(",")]
            if "*" in tags:
                return True
            # Weak comparison (RFC 9110 §13.1.2).
            return any(t.removeprefix("W/") == page.etag for t in tags)
        ims = h.headers.get("If-Modified-Since")
        if ims is not None:
            try:
                since = parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError, IndexError):
                return False
            return int(page.last_modified) <= since
        return False

    def _send(
        self,
        h: _Handler,
        status: int,
        headers: dict[str, str],
        body: bytes,
        *,
        head: bool,
        truncate: bool = False,
        stall: float | None = None,
    ) -> None:
        self._answered(h)
        h.send_response(status)
        names = {k.lower() for k in headers}
        for name, value in headers.items():
            h.send_header(name, value)
        if "content-length" not in names:
            h.send_header("Content-Length", str(len(body)))
        # A truncated response deliberately does not announce "Connection: close":
        # it imitates a connection dropped mid-body.
        h.end_headers()
        half = len(body) // 2
        if not head and stall is not None:
            h.wfile.write(body[:half])
            h.wfile.flush()
            if self._stop_event.wait(stall):
                h.close_connection = True
                return
            h.wfile.write(body[half:])
        elif not head:
            h.wfile.write(body[:half] if truncate else body)
        h.wfile.flush()
        if truncate:
            h.close_connection = True

    def _abort(self, h: _Handler) -> None:
        """Drop the connection with a TCP RST and no response."""
        self._answered(h)
        h.close_connection = True
        conn = h.connection
        with contextlib.suppress(OSError):
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # rfile holds a reference made by makefile(); the fd is only really
        # closed (and the RST sent) once every reference is gone.
        with contextlib.suppress(OSError):
            h.rfile.close()
        conn.close()
