"""The home page of a library: a source's pages as a tree of their folders, titled, counted; a
page with no title named after its URL, never shown as one."""

from __future__ import annotations

import json

from mirror.clean.extract import clean_page
from mirror.site.listing import PageEntry, folder_tree

from conftest import Project, page_path

BASE = "https://pandas.example.org/docs/"


def entry(path: str, title: str = "") -> PageEntry:
    return PageEntry(BASE + path, "site/" + path, title or path, "", "pandas")


def test_pages_are_grouped_by_folder_below_the_folder_they_share() -> None:
    entries = [
        entry("index.html", "pandas documentation"),
        entry("getting_started/index.html", "Getting started"),
        entry("getting_started/install.html"),
        entry("reference/api/pandas.DataFrame.html"),
        entry("reference/api/pandas.merge.html"),
        entry("reference/frame.html"),
        entry("whatsnew.html"),
    ]
    root = folder_tree(entries)
    assert root.index is not None and root.index.title == "pandas documentation"
    assert [e.url for e in root.pages] == [BASE + "whatsnew.html"]
    assert [f.name for f in root.folders] == ["Getting started", "reference"]
    started, reference = root.folders
    assert started.index is not None and [e.title for e in started.pages] == [
        "getting_started/install.html"
    ]
    assert [f.name for f in reference.folders] == ["api"] and reference.count == 3
    assert root.count == len(entries)


def test_a_source_in_one_folder_is_a_flat_list_in_its_order() -> None:
    entries = [entry("library/queue.html"), entry("library/sched.html"), entry("library/a.html")]
    root = folder_tree(entries)
    assert root.folders == () and [e.url for e in root.pages] == [e.url for e in entries]


def test_a_page_without_title_or_h1_takes_its_first_heading_else_its_url() -> None:
    body = b"<html><body><main><h3>Release notes</h3><p>text</p></main></body></html>"
    assert clean_page(body, BASE + "whatsnew.html").title == "Release notes"
    bare = b"<html><body><main><p>only text, no heading at all here</p></main></body></html>"
    assert clean_page(bare, BASE + "api/pandas.merge.html").title == "pandas.merge"


def test_the_home_page_shows_each_source_counted_with_its_folders(project: Project) -> None:
    server = project.server
    server.set_page("/3/howto/a.html", server.body_of(page_path("queue")))
    server.set_page("/3/howto/b.html", b"<html><body><main><p>no title here</p></main></body>")
    urls = [server.url(page_path(n)) for n in ("queue", "sched")]
    urls += [server.url("/3/howto/a.html"), server.url("/3/howto/b.html")]
    project.config_path.write_text(
        '[crawl]\ntimeout = 3.0\n[[sources]]\nname = "python"\nurls = ' + json.dumps(urls) + "\n",
        encoding="utf-8",
    )
    assert project.run("build", "-q").exit_code == 0
    home = (project.site / "index.html").read_text(encoding="utf-8")
    assert "4 pages · refreshed " in home
    assert '<details class="folder" open>' in home and "howto" in home and "library" in home
    assert ">b</a>" in home  # the page without a title, named after its file
    assert "http://127.0.0.1" not in home  # no raw URL shown as a title
