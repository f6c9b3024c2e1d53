"""How the site's pages lay out in real headless Chromium: long titles in the prev/next links
wrap instead of running into each other."""

from __future__ import annotations

from typing import Any

from conftest import Project, page_path

LONG = "pandas.core.groupby.DataFrameGroupBy.aggregate_with_an_unbreakable_long_name"


def test_long_prev_and_next_titles_do_not_overlap(project: Project, browser: Any) -> None:
    server = project.server
    for name in ("concurrency", "threading"):
        body = server.body_of(page_path(name))
        start, end = body.index(b"<h1>"), body.index(b"</h1>")
        server.set_page(page_path(name), body[:start] + f"<h1>{LONG}".encode() + body[end:])
    project.write_config(("concurrency", "queue", "threading"))
    assert project.run("build", "-q").exit_code == 0
    context = browser.new_context(viewport={"width": 640, "height": 900})
    try:
        page = context.new_page()
        page.goto(project.page_file("queue").as_uri())
        boxes = page.evaluate(
            """() => ['a.prev', 'a.next'].map(s => {
                const link = document.querySelector(s), range = document.createRange();
                range.selectNodeContents(link);  // where the text is drawn, overflow included
                const r = range.getBoundingClientRect();
                return [r.left, r.right, link.textContent];
            })"""
        )
    finally:
        context.close()
    (prev_left, prev_right, prev_text), (next_left, next_right, next_text) = boxes
    assert LONG in prev_text and LONG in next_text
    assert prev_right <= next_left  # side by side, not over each other
    assert prev_left >= 0 and next_right <= 640  # and inside the page
