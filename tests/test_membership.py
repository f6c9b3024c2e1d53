"""The rule for what the mirror holds (`Frontier`), on made-up link graphs: listed pages always,
followed ones level by level within depth and max_pages, redirect stubs resolved, and the same
answer whatever order the fetches finish in."""

from __future__ import annotations

import random

import pytest

from mirror.build.membership import MAX_HTML_REDIRECTS, Found, Frontier, Membership, membership_from
from mirror.config import Source

BASE = "https://docs.example.org/"


def u(path: str) -> str:
    return BASE + path


def source(*listed: str, follow: bool = True, depth: int = 5, max_pages: int = 1000) -> Source:
    return Source(
        name="docs",
        urls=tuple(u(p) for p in listed),
        follow=(BASE,) if follow else (),
        depth=depth,
        max_pages=max_pages,
    )


def site(**pages: object) -> dict[str, Found]:
    """path=("a.html", ...) for a page's links, path="->target.html" for a stub, path=None for
    a file that is not a page."""
    graph = {}
    for name, value in pages.items():
        path = name.replace("_", ".").replace("..", "_")
        if value is None:
            graph[u(path)] = Found("not_page")
        elif isinstance(value, str):
            graph[u(path)] = Found("redirect", target=u(value.removeprefix("->")))
        else:
            assert isinstance(value, tuple)
            graph[u(path)] = Found("page", links=tuple(u(p) for p in value))
    return graph


def walk(sources: list[Source], graph: dict[str, Found], shuffle: int | None = None) -> Membership:
    """Run the frontier as the build does, settling each batch in a random order."""
    frontier = Frontier(sources)
    rng = random.Random(shuffle)
    while batch := frontier.batch():
        if shuffle is not None:
            rng.shuffle(batch)
        for url in batch:
            frontier.settle(url, graph.get(url, Found("failed")))
    return frontier.result()


def pages(membership: Membership) -> list[str]:
    return [url.removeprefix(BASE) for url in membership.pages]


def test_listed_pages_are_never_dropped_and_max_pages_counts_followed_ones() -> None:
    graph = site(a_html=("c.html", "d.html", "e.html"), b_html=("f.html",))
    result = walk([source("a.html", "b.html", max_pages=2)], graph)
    assert pages(result) == ["a.html", "b.html", "c.html", "d.html"]
    assert [(s.url.removeprefix(BASE), s.bound) for s in result.skipped] == [
        ("e.html", "max_pages"),
        ("f.html", "max_pages"),
    ]
    listed_only = walk([source("a.html", "b.html", "c.html", follow=False, max_pages=1)], graph)
    assert pages(listed_only) == ["a.html", "b.html", "c.html"] and listed_only.skipped == ()


def test_links_beyond_depth_are_skipped_by_depth() -> None:
    graph = site(a_html=("b.html",), b_html=("c.html",), c_html=("d.html",))
    result = walk([source("a.html", depth=1)], graph)
    assert pages(result) == ["a.html", "b.html"]
    assert [(s.url, s.bound) for s in result.skipped] == [(u("c.html"), "depth")]


def test_a_page_reached_at_two_depths_counts_at_the_shallower() -> None:
    # b is linked from a (depth 1) and from c (depth 2); with depth 2 its link to d is followed
    graph = site(a_html=("c.html", "b.html"), c_html=("b.html",), b_html=("d.html",))
    result = walk([source("a.html", depth=2)], graph)
    assert pages(result) == ["a.html", "b.html", "c.html", "d.html"]


@pytest.mark.parametrize("seed", range(8))
def test_the_result_does_not_depend_on_the_order_fetches_finish(seed: int) -> None:
    names = [f"p{i}.html" for i in range(30)]
    rng = random.Random(1000 + seed)
    graph = {
        u(name): Found("page", links=tuple(u(n) for n in rng.sample(names, 4))) for name in names
    }
    graph[u("p3.html")] = Found("not_page")
    graph[u("p5.html")] = Found("redirect", target=u("p29.html"))
    sources = [source("p0.html", max_pages=12, depth=3)]
    expected = walk(sources, graph)
    assert walk(sources, graph, shuffle=seed) == expected
    assert membership_from(sources, graph.__getitem__) == expected
    assert len(expected.pages) == 1 + 12 and expected.skipped  # the budget did bind


def test_a_link_that_is_no_page_frees_its_place_for_the_next_in_line() -> None:
    graph = site(a_html=("b.pdf", "c.html", "d.html"), b_pdf=None)
    result = walk([source("a.html", max_pages=2)], graph)
    assert pages(result) == ["a.html", "c.html", "d.html"]
    assert result.skipped == () and u("b.pdf") not in result.urls


def test_a_listed_stub_is_replaced_by_its_target_in_its_place() -> None:
    graph = site(a_html=(), old_html="->new/page.html", z_html=())
    graph[u("new/page.html")] = Found("page", links=(u("a.html"),))
    result = walk([source("a.html", "old.html", "z.html", follow=False, max_pages=1)], graph)
    assert pages(result) == ["a.html", "new/page.html", "z.html"]
    assert result.redirects == ((u("old.html"), u("new/page.html")),)
    assert u("old.html") in result.urls  # still asked for, so a change is seen


def test_a_listed_stub_to_another_host_is_not_followed_and_is_reported() -> None:
    graph = {u("old.html"): Found("redirect", target="https://elsewhere.example/x.html")}
    result = walk([source("old.html", follow=False)], graph)
    assert result.pages == () and result.redirects == ()
    assert [(s.url, s.bound) for s in result.skipped] == [
        ("https://elsewhere.example/x.html", "scope")
    ]


def test_a_followed_stub_gives_its_place_to_its_target_at_the_end_of_the_line() -> None:
    graph = site(a_html=("b.html", "c.html", "d.html"), b_html="->z.html", z_html=())
    assert pages(walk([source("a.html", max_pages=2)], graph)) == ["a.html", "c.html", "d.html"]
    assert pages(walk([source("a.html", max_pages=3)], graph)) == [
        "a.html",
        "c.html",
        "d.html",
        "z.html",
    ]


def test_redirect_loops_and_long_chains_are_broken_not_followed_forever() -> None:
    loop = site(a_html="->b.html", b_html="->a.html")
    result = walk([source("a.html", follow=False)], loop)
    assert result.pages == () and {b.url for b in result.broken} == {u("a.html"), u("b.html")}
    hops = MAX_HTML_REDIRECTS + 2
    chain = {u(f"s{i}.html"): Found("redirect", target=u(f"s{i + 1}.html")) for i in range(hops)}
    chain[u(f"s{hops}.html")] = Found("page")
    result = walk([source("s0.html", follow=False)], chain)
    assert result.pages == () and result.broken and "redirects" in result.broken[0].reason
    short = {u(f"s{i}.html"): chain[u(f"s{i}.html")] for i in range(hops - 3, hops + 1)}
    assert pages(walk([source(f"s{hops - 3}.html", follow=False)], short)) == [f"s{hops}.html"]


def test_a_listed_url_that_is_no_page_is_a_failed_member() -> None:
    result = walk([source("a.pdf", follow=False)], site(a_pdf=None))
    assert pages(result) == ["a.pdf"]


def test_a_page_listed_by_two_sources_belongs_to_the_first() -> None:
    first = Source(name="one", urls=(u("a.html"),))
    second = Source(name="two", urls=(u("a.html"), u("b.html")))
    result = walk([first, second], site(a_html=(), b_html=()))
    assert result.members == (("one", (u("a.html"),)), ("two", (u("b.html"),)))
