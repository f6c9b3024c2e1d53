"""`docmirror serve`: the static site over HTTP plus `/api/search?q=` answered from whoosh."""

from __future__ import annotations

import json
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mirror.config import Config
from mirror.errors import NotBuiltError, ServeError
from mirror.search.index import SearchIndex


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
            limit = max(1, min(100, int(params.get("n", ["10"])[0])))
        except ValueError:
            limit = 10
        result = self.search_index.query(text, limit=limit)
        body = json.dumps(
            {
                "query": text,
                "suggestion": result.suggestion,
                "hits": [h.to_json() for h in result.hits],
            }
        ).encode()
        self.send_response(200)
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
    handler = type(
        "BoundSiteHandler",
        (SiteHandler,),
        {"search_index": SearchIndex(config.site.data_dir / "index")},
    )
    try:
        return ThreadingHTTPServer((host, port), partial(handler, directory=str(site)))
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
