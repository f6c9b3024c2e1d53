"""`docmirror serve`: the static site over HTTP plus `/api/search?q=` answered from whoosh."""

from __future__ import annotations

import json
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mirror.config import Config
from mirror.errors import DamagedError, NotBuiltError, ServeError
from mirror.search.index import SearchIndex
from mirror.search.query import DEFAULT_LIMIT


class SiteHandler(SimpleHTTPRequestHandler):
    """Files from the site folder; JSON search results under /api/search."""

    search_index: SearchIndex
    extensions_map = {  # noqa: RUF012 (http.server's interface)
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".json": "application/json",
    }

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != "/api/search":
            super().do_GET()
            return
        params = parse_qs(parts.query)
        text = params.get("q", [""])[0]
        try:
            limit = max(1, min(100, int(params.get("n", [str(DEFAULT_LIMIT)])[0])))
        except ValueError:
            limit = DEFAULT_LIMIT
        sources = [name for name in params.get("source", []) if name]  # repeatable, or none
        status = 200
        try:
            result = self.search_index.query(text, limit=limit, sources=sources)
            answer: dict[str, Any] = {
                "query": text,
                "suggestion": result.suggestion,
                "hits": [h.to_json() for h in result.hits],
            }
        except DamagedError as exc:  # damaged while serving: the search page shows the line
            status, answer = 503, {"query": text, "error": str(exc)}
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def make_server(config: Config, host: str, port: int) -> ThreadingHTTPServer:
    """A server for the built site of `config` (not started)."""
    site = config.site.output_dir
    if not (site / "index.html").exists():
        raise NotBuiltError(f"{site}: no site yet; run `docmirror build` first")
    search_index = SearchIndex(config.site.data_dir / "index")
    search_index.verify()  # a damaged index is said before listening, in one line
    handler = type("BoundSiteHandler", (SiteHandler,), {"search_index": search_index})
    try:
        return ThreadingHTTPServer((host, port), partial(handler, directory=str(site)))
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
