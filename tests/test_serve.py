"""`docmirror serve`: the site over HTTP and /api/search answered from whoosh."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer

import requests

from mirror.site.serve import make_server

from conftest import Project


@contextmanager
def serving(project: Project) -> Iterator[str]:
    server: ThreadingHTTPServer = make_server(project.config, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_serve_site_and_search(project: Project) -> None:
    assert project.run("build", "-q").exit_code == 0
    with serving(project) as base:
        home = requests.get(f"{base}/index.html", timeout=5)
        assert home.status_code == 200 and "contextvars — Context Variables" in home.text
        page = requests.get(
            f"{base}/{project.page_file('queue').relative_to(project.site).as_posix()}", timeout=5
        )
        assert page.status_code == 200 and "zanzibarite" in page.text
        answer = requests.get(f"{base}/api/search", params={"q": "ThreadPoolExecutor"}, timeout=5)
        assert answer.headers["Content-Type"] == "application/json"
        hits = answer.json()["hits"]
        assert hits[0]["path"].endswith(
            "concurrent.futures.html#concurrent.futures.ThreadPoolExecutor"
        )
        cli = json.loads(project.run("search", "ThreadPoolExecutor", "--json").stdout)["hits"]
        assert [h["path"] for h in hits] == [h["path"] for h in cli]  # the same search
        corrected = requests.get(f"{base}/api/search", params={"q": "conext var"}, timeout=5)
        assert corrected.json()["suggestion"] == "context var"
        for odd in ['"', "(", "AND", "", "x" * 5000]:
            response = requests.get(f"{base}/api/search", params={"q": odd}, timeout=5)
            assert response.status_code == 200 and "hits" in response.json()
