"""Rendering with the real templates: local links, offsite links, determinism, digests,
escaping, static files, write-if-changed and removal."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from pathlib import Path

from mirror.clean.extract import clean_page
from mirror.clean.page import Page, Section
from mirror.site.listing import PageEntry, SourceListing, folder_tree
from mirror.site.render import (
    OFFSITE_TITLE,
    PageContext,
    PageLink,
    SiteRenderer,
    default_templates_dir,
    rewrite_links,
)

FUTURES_URL = "https://docs.python.org/3/library/concurrent.futures.html"


def listing(name: str, entries: list[PageEntry]) -> SourceListing:
    return SourceListing(name, len(entries), "", folder_tree(entries))
FUTURES_PATH = "docs.python.org/3/library/concurrent.futures.html"
THREADING_URL = "https://docs.python.org/3/library/threading.html"
THREADING_PATH = "docs.python.org/3/library/threading.html"
LOCAL = {FUTURES_URL: FUTURES_PATH, THREADING_URL: THREADING_PATH}

PAGE_HTML = (
    '<h1 id="top">Futures</h1>'
    '<p>See <a class="reference internal" href="https://docs.python.org/3/library/'
    'threading.html#threading.Thread" title="threading.Thread">Thread</a>, '
    f'<a href="{FUTURES_URL}#executor-objects">below</a>, '
    '<a class="reference external" href="https://github.com/python/cpython">the source</a>, '
    '<a href="https://docs.python.org/3/glossary.html#term-gil">GIL</a>, '
    '<a href="mailto:docs@python.org">mail</a> and <a>no href</a>.</p>'
    '<h2 id="executor-objects">Executor Objects</h2><p>Executors run calls.</p>'
)


def make_page(title: str = "concurrent.futures — Launching parallel tasks") -> Page:
    return Page(
        url=FUTURES_URL,
        title=title,
        summary="Launching parallel tasks with executors.",
        html=PAGE_HTML,
        sections=(
            Section(anchor="top", title="Futures", level=1, text="See Thread"),
            Section(
                anchor="executor-objects",
                title="Executor Objects",
                level=2,
                text="Executors run calls.",
            ),
        ),
        symbols=(),
        links=(THREADING_URL, "https://github.com/python/cpython"),
        assets=(),
    )


def make_context(**changes: object) -> PageContext:
    context = PageContext(
        path=FUTURES_PATH,
        source="python",
        previous=PageLink(path=THREADING_PATH, title="threading — Thread-based parallelism"),
        next=None,
        last_changed="2023-12-04",
        local_links=((THREADING_URL, THREADING_PATH),),
    )
    return dataclasses.replace(context, **changes)


def render_site(output: Path, page: Page | None = None) -> SiteRenderer:
    renderer = SiteRenderer(output, "Python docs", default_templates_dir())
    page = page or make_page()
    renderer.render_page(page, make_context())
    renderer.render_home(
        [listing("python", [PageEntry(page.url, FUTURES_PATH, page.title, page.summary, "python")])]
    )
    renderer.render_search()
    renderer.render_changes([("2023-12-04", "added", page.title, FUTURES_PATH)])
    renderer.write_static()
    return renderer


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# -- rewrite_links ----------------------------------------------------------------------


def test_links_to_mirrored_pages_become_relative_with_the_anchor() -> None:
    html, _ = rewrite_links(PAGE_HTML, FUTURES_PATH, LOCAL)
    assert 'href="threading.html#threading.Thread"' in html
    assert 'href="concurrent.futures.html#executor-objects"' in html
    assert "https://docs.python.org/3/library/threading.html" not in html
    # a local link keeps its attributes and is not marked as leaving the mirror
    assert (
        '<a class="reference internal" href="threading.html#threading.Thread" '
        'title="threading.Thread">' in html
    )


def test_relative_links_climb_folders() -> None:
    html, offsite = rewrite_links(
        '<a href="https://docs.python.org/3/library/threading.html">t</a>',
        "docs.python.org/3/howto/logging.html",
        LOCAL,
    )
    assert html == '<a href="../library/threading.html">t</a>' and offsite == 0


def test_other_links_stay_absolute_and_are_marked_offsite() -> None:
    html, offsite = rewrite_links(PAGE_HTML, FUTURES_PATH, LOCAL)
    assert offsite == 2  # github and the glossary; not mailto:, not the anchor-less <a>
    assert (
        '<a class="reference external offsite" href="https://github.com/python/cpython" '
        f'title="{OFFSITE_TITLE}">' in html
    )
    assert (
        '<a href="https://docs.python.org/3/glossary.html#term-gil" class="offsite" '
        f'title="{OFFSITE_TITLE}">' in html
    )
    assert OFFSITE_TITLE.startswith("Not mirrored")


def test_an_existing_title_keeps_its_text_and_gains_the_note() -> None:
    html, offsite = rewrite_links(
        '<a href="https://example.org/x" title="Example">x</a>', FUTURES_PATH, LOCAL
    )
    assert offsite == 1
    assert html == (
        f'<a href="https://example.org/x" title="Example ({OFFSITE_TITLE})" class="offsite">x</a>'
    )


def test_mailto_and_anchorless_links_are_left_alone() -> None:
    source = '<p><a href="mailto:docs@python.org">mail</a> <a id="x">target</a></p>'
    html, offsite = rewrite_links(source, FUTURES_PATH, LOCAL)
    assert html == source and offsite == 0


def test_escaped_ampersands_in_hrefs_are_understood() -> None:
    url = "https://docs.python.org/3/search.html?q=a&b=c"
    html, offsite = rewrite_links(
        '<a href="https://docs.python.org/3/search.html?q=a&amp;b=c">s</a>',
        FUTURES_PATH,
        {url: "docs.python.org/3/search~x.html"},
    )
    assert html == '<a href="../search~x.html">s</a>' and offsite == 0


# -- SiteRenderer -----------------------------------------------------------------------


def test_renderer_writes_page_home_search_and_changes(tmp_path: Path) -> None:
    render_site(tmp_path)
    page = (tmp_path / FUTURES_PATH).read_text(encoding="utf-8")
    assert "Executors run calls." in page
    assert 'href="threading.html#threading.Thread"' in page  # links rewritten in the page
    assert 'href="../../../_static/docmirror.css"' in page  # the root is relative
    assert 'href="../../../index.html"' in page
    assert 'rel="prev" href="threading.html"' in page
    assert 'href="#executor-objects"' in page  # table of contents from level-2 sections
    assert "last changed 2023-12-04" in page
    home = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert f'href="{FUTURES_PATH}"' in home
    assert "Launching parallel tasks with executors." in home
    search = (tmp_path / "search.html").read_text(encoding="utf-8")
    assert 'id="search-results"' in search
    changes = (tmp_path / "changes.html").read_text(encoding="utf-8")
    assert f'href="{FUTURES_PATH}"' in changes and "added" in changes


def test_render_page_reports_offsite_links(tmp_path: Path) -> None:
    renderer = SiteRenderer(tmp_path, "Python docs")
    written, offsite = renderer.render_page(make_page(), make_context())
    assert written is True and offsite == 2


def test_every_generated_page_has_a_search_box_and_a_csp(tmp_path: Path) -> None:
    render_site(tmp_path)
    generated = [p for p in tmp_path.rglob("*.html")]
    assert len(generated) == 4
    for path in generated:
        text = path.read_text(encoding="utf-8")
        assert '<input type="search"' in text, path
        assert '<meta http-equiv="Content-Security-Policy"' in text, path


def test_output_is_deterministic(tmp_path: Path) -> None:
    render_site(tmp_path / "one")
    render_site(tmp_path / "two")
    first, second = files(tmp_path / "one"), files(tmp_path / "two")
    static = len(list((default_templates_dir() / "static").glob("*")))
    assert len(first) == 4 + static  # page, home, search, changes and the theme's files
    assert first == second


def test_titles_are_escaped(tmp_path: Path) -> None:
    evil = "Threads <img src=x onerror=alert(1)>"
    render_site(tmp_path, make_page(title=evil))
    for name in (FUTURES_PATH, "index.html", "changes.html"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "Threads &lt;img src=x onerror=alert(1)&gt;" in text, name
        assert "<img src=x" not in text, name


def test_site_title_is_escaped(tmp_path: Path) -> None:
    renderer = SiteRenderer(tmp_path, "Docs <script>alert(1)</script>")
    renderer.render_search()
    text = (tmp_path / "search.html").read_text(encoding="utf-8")
    assert "Docs &lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script>alert" not in text


def test_page_digest_follows_content_and_context(tmp_path: Path) -> None:
    renderer = SiteRenderer(tmp_path, "Python docs")
    context = make_context()
    digest = renderer.page_digest("hash-1", context)
    assert renderer.page_digest("hash-1", make_context()) == digest  # equal inputs
    assert SiteRenderer(tmp_path / "b", "Python docs").page_digest("hash-1", context) == digest
    changed = [
        renderer.page_digest("hash-2", context),
        renderer.page_digest("hash-1", make_context(next=PageLink(THREADING_PATH, "t"))),
        renderer.page_digest("hash-1", make_context(previous=None)),
        renderer.page_digest("hash-1", make_context(local_links=())),
        renderer.page_digest("hash-1", make_context(last_changed="2024-01-01")),
        renderer.page_digest("hash-1", make_context(path="docs.python.org/3/x.html")),
        SiteRenderer(tmp_path, "Other title").page_digest("hash-1", context),
    ]
    assert digest not in changed
    assert len(set(changed)) == len(changed)


def test_page_digest_follows_templates_but_not_static_files(tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    shutil.copytree(default_templates_dir(), theme)
    digest = SiteRenderer(tmp_path / "a", "Python docs", theme).page_digest("h", make_context())
    script = theme / "static" / "search.js"
    script.write_text(script.read_text(encoding="utf-8") + "\n// changed\n", encoding="utf-8")
    renderer = SiteRenderer(tmp_path / "b", "Python docs", theme)
    assert renderer.page_digest("h", make_context()) == digest  # pages name it by path only
    page = theme / "page.html"
    page.write_text(page.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    renderer = SiteRenderer(tmp_path / "c", "Python docs", theme)
    assert renderer.page_digest("h", make_context()) != digest


def test_write_static_copies_the_css(tmp_path: Path) -> None:
    renderer = SiteRenderer(tmp_path, "Python docs")
    assert renderer.write_static() >= 1
    css = tmp_path / "_static" / "docmirror.css"
    assert css.read_bytes() == (default_templates_dir() / "static" / "docmirror.css").read_bytes()
    assert renderer.write_static() == 0  # nothing changed: nothing written


def test_unchanged_output_is_not_rewritten(tmp_path: Path) -> None:
    renderer = render_site(tmp_path)
    target = tmp_path / FUTURES_PATH
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    # make any rewrite visible even on file systems with coarse timestamps
    for path, mtime in before.items():
        os.utime(path, ns=(mtime - 10_000_000_000, mtime - 10_000_000_000))
    old = {p: p.stat().st_mtime_ns for p in before}
    assert renderer.render_page(make_page(), make_context()) == (False, 2)
    page = make_page()
    entries = [
        listing("python", [PageEntry(page.url, FUTURES_PATH, page.title, page.summary, "python")])
    ]
    assert renderer.render_home(entries) is False
    assert renderer.render_search() is False
    assert renderer.render_changes([("2023-12-04", "added", page.title, FUTURES_PATH)]) is False
    assert {p: p.stat().st_mtime_ns for p in before} == old
    # a real change is written
    assert renderer.render_page(make_page(title="New title"), make_context()) == (True, 2)
    assert target.stat().st_mtime_ns != old[target]
    assert "New title" in target.read_text(encoding="utf-8")


def test_remove_deletes_the_page_and_empty_folders(tmp_path: Path) -> None:
    renderer = render_site(tmp_path)
    renderer.render_page(
        dataclasses.replace(make_page(), url=THREADING_URL),
        make_context(path=THREADING_PATH),
    )
    renderer.remove(FUTURES_PATH)
    assert not (tmp_path / FUTURES_PATH).exists()
    assert (tmp_path / THREADING_PATH).is_file()  # the folder still holds a page
    renderer.remove(THREADING_PATH)
    assert not (tmp_path / "docs.python.org").exists()  # every emptied folder is gone
    assert (tmp_path / "index.html").is_file() and tmp_path.is_dir()
    renderer.remove("docs.python.org/3/never-written.html")  # a missing file is fine


def test_a_cleaned_fixture_page_renders_with_local_links(
    tmp_path: Path, pages: dict[str, bytes]
) -> None:
    base = "https://docs.python.org/3/library/"
    page = clean_page(pages["/3/library/concurrent.futures.html"], base + "concurrent.futures.html")
    local = tuple(
        (base + f"{name}.html", f"docs.python.org/3/library/{name}.html")
        for name in ("threading", "multiprocessing", "subprocess", "concurrent")
    )
    renderer = SiteRenderer(tmp_path, "Python docs")
    written, offsite = renderer.render_page(page, make_context(local_links=local))
    assert written and offsite > 0
    text = (tmp_path / FUTURES_PATH).read_text(encoding="utf-8")
    assert 'href="threading.html' in text
    assert f'href="{base}threading.html' not in text
    # the only scripts are the theme's own, from _static
    assert all('src="../../../_static/' in tag for tag in re.findall(r"<script[^>]*>", text))
