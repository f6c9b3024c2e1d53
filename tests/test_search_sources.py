"""Doc sets as a scope of search: two sources in one config, each hit carrying its source, and
`search --source`, `/api/search?source=` and the site's `search.html?source=` keeping hits of
the sources asked for."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from conftest import NAMES, Project, page_path

FUTURES = ("concurrent.futures", "threading", "contextvars", "concurrency", "concurrent")
PROCESSES = tuple(n for n in NAMES if n not in FUTURES)
QUERY = "lock"  # both sources have sections about locks


@pytest.fixture
def two_sources(make_project: Callable[..., Project]) -> Project:
    project = make_project()
    text = project.config_path.read_text(encoding="utf-8")
    head = text.split("[[sources]]")[0]
    for name, names in (("futures", FUTURES), ("processes", PROCESSES)):
        urls = ", ".join(f'"{project.server.url(page_path(n))}"' for n in names)
        head += f'[[sources]]\nname = "{name}"\nurls = [{urls}]\n\n'
    project.config_path.write_text(head, encoding="utf-8")
    assert project.run("build", "-q").exit_code == 0
    return project


def page_name(path: str) -> str:
    return path.split("#")[0].rsplit("/", 1)[-1].removesuffix(".html")


def cli_hits(project: Project, *args: str) -> list[dict[str, Any]]:
    result = project.run("search", QUERY, "--json", "-n", "30", *args)
    assert result.exit_code == 0, result.output
    hits: list[dict[str, Any]] = json.loads(result.stdout)["hits"]
    return hits


def test_search_keeps_the_sources_asked_for(two_sources: Project) -> None:
    every = cli_hits(two_sources)
    assert {h["source"] for h in every} == {"futures", "processes"}
    for hit in every:  # each hit names the source its page is listed in
        assert page_name(hit["path"]) in (FUTURES if hit["source"] == "futures" else PROCESSES)
    for name in ("futures", "processes"):
        kept = cli_hits(two_sources, "--source", name)
        assert kept and {h["source"] for h in kept} == {name}
        # the hits of that source, in the same order and with the same scores as among all
        assert kept == [h for h in every if h["source"] == name][: len(kept)]
    both = cli_hits(two_sources, "--source", "futures", "--source", "processes")
    assert both == every
    text = two_sources.run("search", QUERY).stdout
    assert "(futures)" in text and "(processes)" in text  # the text output says it too


def test_an_unknown_source_is_a_usage_error(two_sources: Project) -> None:
    result = two_sources.run("search", QUERY, "--source", "nope")
    assert result.exit_code == 2
    assert "docmirror: error: --source: no source named 'nope'" in result.stderr


def test_serve_keeps_the_sources_asked_for(two_sources: Project) -> None:
    from mirror.site.serve import make_server

    server = make_server(two_sources.config, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/api/search?q={QUERY}&n=30"

        def sources(url: str) -> list[str]:
            with urllib.request.urlopen(url) as answer:
                return [h["source"] for h in json.load(answer)["hits"]]

        assert set(sources(base)) == {"futures", "processes"}
        assert set(sources(base + "&source=processes")) == {"processes"}
        assert set(sources(base + "&source=processes&source=futures")) == {
            "futures",
            "processes",
        }
    finally:
        server.shutdown()
        server.server_close()


def site_hits(browser: Any, site: Path, query: str) -> tuple[list[dict[str, str]], list[str]]:
    """The hits `search.html?QUERY` lists (link and source line), and the filter's options."""
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{(site / 'search.html').as_uri()}?{query}")
        page.wait_for_selector("#search-results li")
        hits = page.eval_on_selector_all(
            "#search-results li",
            """items => items.map(li => ({
                href: li.querySelector('a').getAttribute('href'),
                source: (li.querySelector('.source') || {}).textContent || ''}))""",
        )
        select = page.locator("#search-source")
        assert select.is_visible()  # two sources: a choice between them
        options = select.locator("option").evaluate_all("os => os.map(o => o.value)")
        chosen = select.input_value()
        assert errors == []
        return hits, [chosen, *options]
    finally:
        context.close()


def test_the_site_search_keeps_the_source_asked_for(two_sources: Project, browser: Any) -> None:
    site = two_sources.site
    every, options = site_hits(browser, site, f"q={QUERY}")
    assert options == ["", "", "futures", "processes"]  # all sources chosen, and each
    sources = {h["source"].removeprefix(" · ") for h in every}
    assert sources == {"futures", "processes"}  # each hit says its source
    for name, names in (("futures", FUTURES), ("processes", PROCESSES)):
        kept, options = site_hits(browser, site, f"q={quote(QUERY)}&source={name}")
        assert options[0] == name
        assert kept and {page_name(h["href"]) for h in kept} <= set(names)
        assert {h["source"].removeprefix(" · ") for h in kept} == {name}
