"""The built site in real headless Chromium, opened from file:// with no server running."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import NAMES, Project, page_path


class Watched:
    """A page with its console errors, dialogs and any request that leaves the disk."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.remote: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("request", lambda r: r.url.startswith("file:") or self.remote.append(r.url))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    page = Watched(browser)
    yield page
    page.close()


def test_home_and_page_from_file(project: Project, watched: Watched) -> None:
    assert project.run("build", "-q").exit_code == 0
    page = watched.page
    page.goto((project.site / "index.html").as_uri())
    links = page.locator("main a")
    assert links.count() == 10
    titles = links.all_inner_texts()
    assert "contextvars — Context Variables" in titles
    page.get_by_role("link", name="concurrent.futures — Launching parallel tasks").click()
    page.wait_for_load_state()
    assert page.url.endswith("concurrent.futures.html")
    assert page.locator("article h1").inner_text().startswith("concurrent.futures")
    toc = page.locator("aside.toc a").all_inner_texts()
    assert "ThreadPoolExecutor" in toc and "Executor Objects" in toc
    assert page.locator("input[type=search]").count() == 1
    # a cross-page link opens the local copy at its anchor, scrolled into view
    page.goto(project.page_file("threading").as_uri())
    target = "concurrent.futures.html#concurrent.futures.ThreadPoolExecutor"
    page.locator(f'article a[href="{target}"]').first.click()
    page.wait_for_load_state()
    assert page.url.startswith("file://") and page.url.endswith(target)
    entry = page.locator('[id="concurrent.futures.ThreadPoolExecutor"]')
    assert entry.is_visible()
    box = entry.bounding_box()
    assert box is not None and 0 <= box["y"] < page.viewport_size["height"]
    assert watched.errors == [] and watched.remote == []


HOSTILE = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8">
<title>Evil <script>window.pwned = 1</script> page - Evil Docs</title>
<meta http-equiv="refresh" content="0;url=javascript:window.pwned=2">
<base href="http://evil.invalid/">
<script>window.pwned = 3</script>
</head><body onload="window.pwned = 4">
<div role="main"><section id="hostile">
<h1>Hostile <img src="x" onerror="window.pwned = 5"> page &lt;b&gt;</h1>
<p>The armadillo text is harmless and must survive.</p>
<script>window.pwned = 6</script>
<p onmouseover="window.pwned = 7" id="hover-me">Hover over this armadillo paragraph.</p>
<p><a id="js1" href="javascript:window.pwned = 8">plain</a>
<a id="js2" href="JaVaScRiPt&colon;window.pwned = 9">obfuscated</a>
<a id="js3" href="&#106;avascript:window.pwned = 10">entity</a>
<a id="js4" href="data:text/html,&lt;script&gt;window.pwned=11&lt;/script&gt;">data</a></p>
<svg onload="window.pwned = 12"><circle r="1"></circle></svg>
<iframe src="javascript:window.pwned = 13"></iframe>
<object data="javascript:window.pwned = 14"></object><embed src="javascript:window.pwned = 15">
<form action="javascript:window.pwned = 16"><input name="q"><button>go</button></form>
<style>body { background: url("javascript:window.pwned = 17") }</style>
<h2 id="markup">Heading <script>window.pwned = 18</script>
<i onclick="window.pwned = 19">markup</i></h2>
<p>More armadillo text under the heading.</p>
</section></div></body></html>
"""

FORBIDDEN = (
    "onerror", "onload", "onmouseover", "onclick", "javascript:", "<iframe", "<object",
    "<embed", "<form", "<base", "http-equiv=\"refresh\"", "data:text/html", "window.pwned",
)  # fmt: skip


def test_hostile_page_is_mirrored_harmless(make_project: Any, watched: Watched) -> None:
    project: Project = make_project(["queue"])
    project.server.set_page(page_path("hostile"), HOSTILE)
    project.write_config(["queue", "hostile"])
    result = project.run("build", "--json")
    assert result.exit_code == 0, result.output
    html = project.page_file("hostile").read_text(encoding="utf-8")
    article = html.split('<article class="document">', 1)[1].split("</article>", 1)[0]
    assert "armadillo text is harmless" in article and "More armadillo text" in article
    for construct in FORBIDDEN:
        assert construct.lower() not in article.lower(), construct
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts and all(
        re.fullmatch(r'<script src="(\.\./)*_static/\w+\.js"[^>]*>', t) for t in scripts
    )
    assert "window.pwned" not in html
    assert "Content-Security-Policy" in html
    home = (project.site / "index.html").read_text(encoding="utf-8")
    assert "window.pwned" not in home and "<img" not in home

    hits = json.loads(project.run("search", "armadillo", "--json").stdout)["hits"]
    assert hits and all("<script" not in h["snippet"] and "<img" not in h["title"] for h in hits)

    page = watched.page
    page.goto(project.page_file("hostile").as_uri())
    page.hover("#hover-me")
    for link in ("#js1", "#js2", "#js3", "#js4"):
        if page.locator(link).count():
            page.click(link, no_wait_after=True)
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert watched.dialogs == []
    assert watched.remote == [], watched.remote
    assert page.locator("text=armadillo text is harmless").count() == 1
    assert NAMES  # the fixture pages are still the other half of this site


def built(project: Project) -> Project:
    result = project.run("build", "-q")
    assert result.exit_code == 0, result.output
    return project


def results_of(page: Any) -> list[str]:
    page.wait_for_selector("#search-results li a")
    return page.eval_on_selector_all("#search-results li a", "links => links.map(a => a.href)")


def test_typing_in_a_page_search_box_lists_results(project: Project, watched: Watched) -> None:
    built(project)
    page = watched.page
    page.goto(project.page_file("queue").as_uri())
    page.keyboard.press("/")  # focuses the search box
    page.keyboard.type("shared memory")
    hrefs = results_of(page)
    assert "multiprocessing.shared_memory.html" in hrefs[0]
    assert page.locator("#search-results li").first.locator("mark").count() >= 1
    # arrows move the selection, Enter opens it
    page.keyboard.press("ArrowDown")
    second = page.eval_on_selector("#search-results li.selected a", "a => a.href")
    assert second == hrefs[1]
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == hrefs[1]
    assert watched.errors == [] and watched.remote == []


def test_search_page_query_and_click_scrolls_to_the_entry(
    project: Project, watched: Watched
) -> None:
    built(project)
    page = watched.page
    page.goto((project.site / "search.html").as_uri() + "?q=ThreadPoolExecutor")
    hrefs = results_of(page)
    assert hrefs[0].endswith("concurrent.futures.html#concurrent.futures.ThreadPoolExecutor")
    assert page.input_value("input[type=search]") == "ThreadPoolExecutor"
    page.locator("#search-results li a").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("#concurrent.futures.ThreadPoolExecutor")
    entry = page.locator('[id="concurrent.futures.ThreadPoolExecutor"]')
    box = entry.bounding_box()
    assert box is not None and 0 <= box["y"] < page.viewport_size["height"]
    assert watched.errors == [] and watched.remote == []


def test_a_misspelt_query_shows_the_correction_and_its_results(
    project: Project, watched: Watched
) -> None:
    built(project)
    page = watched.page
    page.goto((project.site / "search.html").as_uri() + "?q=ThreadPoolExecuter")
    hrefs = results_of(page)
    assert hrefs[0].endswith("#concurrent.futures.ThreadPoolExecutor")
    note = page.text_content("#search-results .suggestion")
    assert note == "Showing results for “threadpoolexecutor”."
    assert watched.errors == [] and watched.remote == []


AGREEMENT_QUERIES = (
    "ThreadPoolExecutor", "shared memory", "copy_context", "Popen.communicate", "communicate",
    "thread local data", "run a command and capture output", "queue", "zanzibarite",
    "lock", "start methods spawn fork", "Executor.submit", "priority queue", "event",
    "context variables", "subprocess.run", "condition variable notify", "ProcessPoolExecutor",
    "scheduler enter", "SharedMemory unlink", "executing", "futures", "Token reset",
    # typos, words being typed, phrases and odd syntax
    "ThreadPoolExecuter", "conext var", "procces pool", "ThreadPoolEx", "Popen.comm",
    "copy context",
    '"thread local"', '"local thread"', '"shared memory" unlink', 'unbalanced "quote', "thre",
    "zanzibarit", "Executor.", "a the of", "ProcessPoolExecutor(max_workers",
    "Popen.comunicate", "popen communicate", "the lock of a", "threading semaphor",
    # names typed in words, headings that are the query
    "copy cont", "popen comm", "process pool exe", "shar", "shared", "Popen Objects",
    "popen objects", "Context Variables",
)  # fmt: skip


CORRECTED = ("ThreadPoolExecuter", "conext var", "procces pool", "Popen.comunicate")


def test_static_search_ranks_like_the_cli(project: Project, watched: Watched) -> None:
    built(project)
    page = watched.page
    page.goto((project.site / "search.html").as_uri())
    page.wait_for_function("() => window.DocmirrorSearch && window.DocmirrorAnalysis")
    for query in AGREEMENT_QUERIES:
        cli = json.loads(project.run("search", query, "--json", "-n", "5").stdout)
        cli_hits = cli["hits"]
        js = page.evaluate(
            "q => DocmirrorSearch.search(q, 5).then(r => "
            "({hits: r.hits.map(h => [h.path, h.score]), suggestion: r.suggestion}))",
            query,
        )
        js_hits = js["hits"]
        if query in CORRECTED:  # not vacuous: typos are corrected on both sides
            assert cli["suggestion"] and cli_hits, query
        assert js["suggestion"] == cli["suggestion"], query
        assert [h["path"] for h in cli_hits] == [path for path, _ in js_hits], query
        for cli_hit, (_, score) in zip(cli_hits, js_hits, strict=True):
            assert round(score, 4) == cli_hit["score"], query
    assert watched.errors == []


def test_hostile_text_in_search_results_stays_text(make_project: Any, watched: Watched) -> None:
    project: Project = make_project(["queue"])
    project.server.set_page(page_path("hostile"), HOSTILE)
    project.write_config(["queue", "hostile"])
    built(project)
    page = watched.page
    page.goto((project.site / "search.html").as_uri() + "?q=armadillo")
    assert len(results_of(page)) >= 1
    page.hover("#search-results li a")
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.locator("#search-results img, #search-results script").count() == 0
    assert watched.dialogs == [] and watched.errors == [] and watched.remote == []


SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots(project: Project, browser: Any, scheme: str) -> None:
    built(project)
    SCREENSHOTS.mkdir(exist_ok=True)
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto((project.site / "index.html").as_uri())
        page.screenshot(path=str(SCREENSHOTS / f"home-{scheme}.png"))
        page.goto(project.page_file("concurrent.futures").as_uri())
        page.screenshot(path=str(SCREENSHOTS / f"page-{scheme}.png"))
        page.keyboard.press("/")
        page.keyboard.type("thread")
        page.wait_for_selector("#search-results li a")
        page.screenshot(path=str(SCREENSHOTS / f"search-panel-{scheme}.png"))
        page.goto((project.site / "search.html").as_uri() + "?q=queue")
        page.wait_for_selector("#search-results li a")
        page.screenshot(path=str(SCREENSHOTS / f"search-{scheme}.png"))
        phone = browser.new_context(color_scheme=scheme, viewport={"width": 390, "height": 844})
        mobile = phone.new_page()
        mobile.goto(project.page_file("threading").as_uri())
        width = mobile.evaluate("document.documentElement.scrollWidth")
        mobile.screenshot(path=str(SCREENSHOTS / f"phone-{scheme}.png"))
        phone.close()
        assert width <= 390, "no horizontal scrolling at phone width"
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == ("rgb(255, 255, 255)" if scheme == "light" else "rgb(22, 24, 28)")
    finally:
        context.close()
    for name in ("home", "page", "search", "search-panel", "phone"):
        assert (SCREENSHOTS / f"{name}-{scheme}.png").stat().st_size > 10_000
