"""clean_page: main content, chrome removal, sections, API symbols, links, assets, sanitising
and the content hash, on small pages shaped like real Sphinx, MkDocs Material and plain sites."""

from __future__ import annotations

import pytest

from mirror.clean.extract import clean_document, clean_page, clean_to_json
from mirror.clean.page import Page, Redirect, Section, document_from_json
from mirror.clean.redirects import meta_refresh_target

PY_URL = "https://docs.python.org/3/library/concurrent.futures.html"
MK_URL = "https://squidfunk.github.io/mkdocs-material/setup/changing-the-colors/"
PLAIN_URL = "https://example.org/guide/start.html"

CHROME_MARKERS = (
    "SCRIPT-MARKER",
    "STYLE-MARKER",
    "NAV-MARKER",
    "SIDEBAR-MARKER",
    "RELATED-MARKER",
    "FOOTER-MARKER",
    "FORM-MARKER",
    "SWITCHER-MARKER",
    "¶",
)


def sphinx_page(
    footer: str = "Last updated on Dec 04, 2023 (12:09 UTC).",
    title: str = "concurrent.futures — Launching parallel tasks",
    intro: str = "The concurrent.futures module provides a high-level interface for "
    "asynchronously executing callables.",
) -> bytes:
    """A page of the Python docs theme: the main content in `div.body[role=main]`, chrome both
    around it and (as some themes do) inside it."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} &#8212; Python 3.11.7 documentation</title>
<script src="../_static/doctools.js"></script>
</head><body>
<div class="mobile-nav"><nav class="nav-content" role="navigation">
  <span class="version_switcher_placeholder"></span>
  <form role="search" class="search" action="../search.html" method="get">
    <input placeholder="Quick search" type="search" name="q"><input type="submit" value="Go">
  </form></nav></div>
<div class="related" role="navigation"><h3>Navigation</h3>
  <ul><li><a href="../genindex.html">index</a></li></ul></div>
<div class="document"><div class="documentwrapper"><div class="bodywrapper">
<div class="body" role="main">
<script>var SCRIPT = "SCRIPT-MARKER";</script>
<style>.STYLE-MARKER {{ color: red }}</style>
<nav class="contents">NAV-MARKER</nav>
<div class="related">RELATED-MARKER</div>
<form action="../search.html">FORM-MARKER<input type="search" name="q" value="x"></form>
<div class="version_switcher_placeholder">SWITCHER-MARKER</div>
<section id="module-concurrent.futures">
<span id="concurrent-futures-launching-parallel-tasks"></span><h1><code
 class="xref py py-mod docutils literal notranslate"><span class="pre">concurrent.</span><span
 class="pre">futures</span></code> — Launching parallel tasks<a class="headerlink"
 href="#module-concurrent.futures" title="Permalink to this headline">¶</a></h1>
<p><strong>Source code:</strong> <a class="reference external"
 href="https://github.com/python/cpython/tree/3.11/Lib/concurrent/futures/thread.py"
 >Lib/concurrent/futures/thread.py</a>, <a class="reference external"
 href="https://github.com/python/cpython/tree/3.11/Lib/concurrent/futures/process.py"
 >Lib/concurrent/futures/process.py</a></p>
<hr class="docutils">
<p>{intro}</p>
<section id="executor-objects">
<h2>Executor Objects<a class="headerlink" href="#executor-objects"
 title="Permalink to this headline">¶</a></h2>
<dl class="py class">
<dt class="sig sig-object py" id="concurrent.futures.Executor">
<em class="property"><span class="pre">class</span> </em><span
 class="sig-prename descclassname"><span class="pre">concurrent.futures.</span></span><span
 class="sig-name descname"><span class="pre">Executor</span></span><a class="headerlink"
 href="#concurrent.futures.Executor" title="Permalink to this definition">¶</a></dt>
<dd><p>An abstract class that provides methods to execute calls asynchronously.</p>
<dl class="py method">
<dt class="sig sig-object py" id="concurrent.futures.Executor.submit">
<span class="sig-name descname"><span class="pre">submit</span></span><span
 class="sig-paren">(</span><em class="sig-param"><span class="n"><span class="pre">fn</span></span
 ></em><span class="sig-paren">)</span><a class="headerlink"
 href="#concurrent.futures.Executor.submit" title="Permalink to this definition">¶</a></dt>
<dd><p>Schedules the callable, <em>fn</em>, to be executed by a pooled worker.</p></dd>
</dl>
</dd>
</dl>
<p>See <a class="reference internal" href="threading.html#threading.Thread"
 title="threading.Thread"><code class="xref py py-class docutils literal notranslate"><span
 class="pre">threading.Thread</span></code></a>, <a class="reference internal"
 href="threading.html#module-threading">threading</a>, <a class="reference internal"
 href="#concurrent.futures.Executor">Executor</a> and <a class="reference internal"
 href="../glossary.html#term-global-interpreter-lock"><span class="xref std std-term"
 >GIL</span></a>.</p>
</section>
<section id="glossary-terms">
<h2>Terms</h2>
<dl class="simple glossary">
<dt id="term-future">future<a class="headerlink" href="#term-future"
 title="Permalink to this term">¶</a></dt>
<dd><p>An object standing for a result that is not there yet.</p></dd>
</dl>
</section>
</section>
<div class="footer">FOOTER-MARKER</div>
</div>
</div></div>
<div class="sphinxsidebar" role="navigation"><div class="sphinxsidebarwrapper">
  <h3>Previous topic</h3><p>SIDEBAR-MARKER</p></div></div>
</div>
<div class="footer">&copy; Copyright 2001-2023. {footer}</div>
<script>console.log("SCRIPT-MARKER")</script>
</body></html>""".encode()


MKDOCS_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Changing the colors - Material for MkDocs</title>
<script src="../../assets/javascripts/bundle.js"></script></head>
<body dir="ltr">
<header class="md-header" data-md-component="header"><nav class="md-header__inner md-grid">
  <a href="../.." class="md-header__button md-logo">Material for MkDocs</a>
  <form class="md-search__form" name="search"><input type="text" class="md-search__input"
    name="query" placeholder="Search"></form></nav></header>
<div class="md-container"><main class="md-main" data-md-component="main">
<div class="md-main__inner md-grid">
  <div class="md-sidebar md-sidebar--primary"><div class="md-sidebar__scrollwrap">
    <p>PRIMARY-SIDEBAR-MARKER</p>
    <nav class="md-nav md-nav--primary"><a href="../../getting-started/">Getting started</a></nav>
  </div></div>
  <div class="md-content" data-md-component="content">
  <article class="md-content__inner md-typeset">
  <h1 id="changing-the-colors">Changing the colors<a class="headerlink"
    href="#changing-the-colors" title="Permanent link">&para;</a></h1>
  <p>As any proper Material Design implementation, Material for MkDocs supports Google's
  original color palette, which can be easily configured.</p>
  <h2 id="color-palette">Color palette<a class="headerlink" href="#color-palette"
    title="Permanent link">&para;</a></h2>
  <h3 id="color-scheme">Color scheme<a class="headerlink" href="#color-scheme"
    title="Permanent link">&para;</a></h3>
  <p>Set <code>theme.palette.scheme</code> in <a
    href="../../reference/#usage">the reference</a>.</p>
  <p><img alt="Slate" src="../../assets/screenshots/slate.png"></p>
  </article></div></div></main>
<footer class="md-footer"><div class="md-copyright">Made with Material for MkDocs</div></footer>
</div></body></html>"""


PLAIN_PAGE = b"""<!DOCTYPE html>
<html><head><title>Start here | Example Docs</title></head>
<body>
<header><h1>Example Docs</h1><nav><a href="/">Home</a></nav></header>
<main>
<h1 id="start">Getting started</h1>
<p>Install the package, then run the example from a terminal to see it working.</p>
<a id="configure"></a><h2>Configure</h2>
<p>Edit <a href="config.html#options">the config file</a>.</p>
</main>
<footer>&copy; 2024 Example</footer>
</body></html>"""


def section(page: Page, title: str) -> Section:
    matches = [s for s in page.sections if s.title == title]
    assert len(matches) == 1, [s.title for s in page.sections]
    return matches[0]


# -- title ------------------------------------------------------------------------------


def test_title_is_the_main_h1_without_the_pilcrow() -> None:
    page = clean_page(sphinx_page(title="concurrent.futures"), PY_URL)
    assert page.title == "concurrent.futures — Launching parallel tasks"


def test_title_ignores_a_site_name_h1_in_the_header() -> None:
    assert clean_page(PLAIN_PAGE, PLAIN_URL).title == "Getting started"


def test_title_ignores_a_header_h1_when_the_content_is_the_body() -> None:
    body = b"""<html><head><title>Release notes | Example Docs</title></head><body>
    <header class="site-header"><h1><a href="/">Example Docs</a></h1></header>
    <div class="content"><h1>Release notes</h1><p>Version 2 changes the defaults.</p></div>
    </body></html>"""
    page = clean_page(body, PLAIN_URL)
    assert page.title == "Release notes"
    assert "Example Docs" not in page.html


def test_title_falls_back_to_the_title_element_without_the_site_suffix() -> None:
    body = b"""<html><head>
    <title>queue \xe2\x80\x94 A synchronized queue class &#8212; Python 3.11 documentation</title>
    </head><body><div class="body" role="main">
    <p>The queue module implements multi-producer, multi-consumer queues.</p>
    </div></body></html>"""
    assert clean_page(body, PY_URL).title == "queue — A synchronized queue class"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Changing the colors - Material for MkDocs", "Changing the colors"),
        ("Pipelines - Tutorial - scikit-learn 1.4 documentation", "Pipelines - Tutorial"),
        ("Release notes | Example Docs", "Release notes"),
        ("Built-in Types", "Built-in Types"),
    ],
)
def test_title_fallback_removes_only_the_last_site_part(title: str, expected: str) -> None:
    body = f"<html><head><title>{title}</title></head><body><main><p>Words.</p></main></body>"
    assert clean_page(body.encode(), PLAIN_URL).title == expected


def test_an_article_header_keeps_its_title() -> None:
    body = b"""<html><head><title>Intro | My Site</title></head><body>
    <header class="navbar"><a href="/">My Site</a></header>
    <main class="docMainContainer"><article><div class="theme-doc-markdown markdown">
    <header><h1>Introduction</h1></header><p>Docusaurus puts the title in a header.</p>
    </div></article></main></body></html>"""
    page = clean_page(body, PLAIN_URL)
    assert page.title == "Introduction"
    assert "<h1>Introduction</h1>" in page.html
    assert "My Site" not in page.html


# -- encoding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoding",
    [
        pytest.param("utf-8", id="utf-8"),  # libxml2 alone would read it as Latin-1
        pytest.param("windows-1252", id="windows-1252"),  # not valid UTF-8
    ],
)
def test_a_page_without_a_declared_encoding_is_read_right(encoding: str) -> None:
    body = """<html><head><title>Café notes</title></head><body><main>
    <h1>Naïve “quotes” — and a € sign</h1>
    <p>Déjà vu: the façade of the café is 20 € a visit, “give or take”.</p>
    </main></body></html>""".encode(encoding)
    page = clean_page(body, PLAIN_URL)
    text = "Déjà vu: the façade of the café is 20 € a visit, “give or take”."
    assert page.title == "Naïve “quotes” — and a € sign"
    assert page.sections[0].text == text
    assert text in page.html


def test_control_characters_in_the_text_do_not_stop_the_cleaning() -> None:
    # lxml will not write them back into the tree, as removing a permalink next to them does
    body = b"""<html><body><main><h2 id="a">Page\x0cbreak<a class="headerlink" href="#a">P</a>
    \x1b[1m</h2><p>Bold\x08 <a href="#a\x01b">text</a></p></main></body></html>"""
    page = clean_page(body, PLAIN_URL)
    assert page.sections[0].title == "Page break [1m"
    assert page.html == (
        f'<h2 id="a">Page break\n    [1m</h2><p>Bold <a href="{PLAIN_URL}#ab">text</a></p>'
    )


# -- main content and chrome ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            b"""<div class="wy-nav-content"><div class="rst-breadcrumbs">OUTSIDE-CHROME</div>
            <div role="main" class="rst-content"><p>INSIDE-CONTENT</p></div></div>""",
            id="role-main",
        ),
        pytest.param(
            b"""<div class="document"><div class="sidebar-panel">OUTSIDE-CHROME</div>
            <div class="body"><p>INSIDE-CONTENT</p></div></div>""",
            id="div-body",
        ),
        pytest.param(
            b"""<main class="md-main"><div class="md-sidebar">OUTSIDE-CHROME</div>
            <article class="md-content__inner md-typeset"><p>INSIDE-CONTENT</p></article>
            </main>""",
            id="mkdocs-article",
        ),
        pytest.param(
            b"""<div class="banner">OUTSIDE-CHROME</div><main><p>INSIDE-CONTENT</p></main>""",
            id="main",
        ),
    ],
)
def test_main_content_is_found(body: bytes) -> None:
    page = clean_page(b"<html><body>" + body + b"</body></html>", PLAIN_URL)
    assert "INSIDE-CONTENT" in page.html
    assert "OUTSIDE-CHROME" not in page.html


def test_without_a_main_element_the_body_minus_chrome_is_kept() -> None:
    body = b"""<html><body><nav>NAV-MARKER</nav>
    <div class="sphinxsidebar">SIDEBAR-MARKER</div>
    <div><h2 id="intro">Intro</h2><p>INSIDE-CONTENT</p></div>
    <footer>FOOTER-MARKER</footer><script>SCRIPT-MARKER</script></body></html>"""
    page = clean_page(body, PLAIN_URL)
    assert "INSIDE-CONTENT" in page.html
    for marker in ("NAV-MARKER", "SIDEBAR-MARKER", "FOOTER-MARKER", "SCRIPT-MARKER"):
        assert marker not in page.html
    assert [(s.anchor, s.title) for s in page.sections] == [("intro", "Intro")]


def test_chrome_inside_the_main_content_is_removed() -> None:
    page = clean_page(sphinx_page(), PY_URL)
    texts = " ".join(s.text + " " + s.title for s in page.sections)
    for marker in CHROME_MARKERS:
        assert marker not in page.html, marker
        assert marker not in texts, marker
    assert "headerlink" not in page.html
    assert "<input" not in page.html and "<form" not in page.html
    assert "An abstract class that provides methods" in page.html  # the content stays


def test_content_after_an_embed_is_kept() -> None:
    # lxml does not know <embed> is void and nests what follows inside it
    body = b"""<html><body><main><p>Before <embed src="demo.swf"> after the embed
    <a href="next.html">a link</a>.</p><p>Next paragraph.</p></main></body></html>"""
    page = clean_page(body, PLAIN_URL)
    assert "<embed" not in page.html
    assert "after the embed" in page.html and "Next paragraph." in page.html
    assert page.links == ("https://example.org/guide/next.html",)


def test_mkdocs_material_page() -> None:
    page = clean_page(MKDOCS_PAGE, MK_URL)
    assert page.title == "Changing the colors"
    assert "PRIMARY-SIDEBAR-MARKER" not in page.html
    assert "Getting started" not in page.html and "md-search" not in page.html
    assert "Made with Material" not in page.html
    assert [(s.anchor, s.level) for s in page.sections] == [
        ("changing-the-colors", 1),
        ("color-palette", 2),
        ("color-scheme", 3),
    ]
    assert page.summary.startswith("As any proper Material Design implementation")


# -- sections ---------------------------------------------------------------------------


def test_sections_take_anchors_from_sections_and_headings() -> None:
    page = clean_page(sphinx_page(), PY_URL)
    assert [(s.anchor, s.title, s.level) for s in page.sections] == [
        ("module-concurrent.futures", "concurrent.futures — Launching parallel tasks", 1),
        ("executor-objects", "Executor Objects", 2),
        ("glossary-terms", "Terms", 2),
    ]
    plain = clean_page(PLAIN_PAGE, PLAIN_URL)
    assert [(s.anchor, s.title, s.level) for s in plain.sections] == [
        ("start", "Getting started", 1),
        ("configure", "Configure", 2),  # from the empty <a id> just before the heading
    ]


def test_section_text_is_its_own_text_without_the_heading() -> None:
    page = clean_page(sphinx_page(), PY_URL)
    executor = section(page, "Executor Objects")
    assert executor.text.startswith("class concurrent.futures.Executor")
    assert "Executor Objects" not in executor.text
    # an API entry's description is its own document: the section keeps the signatures
    assert "submit(" in executor.text
    assert "Schedules the callable, fn, to be executed" not in executor.text
    submit = next(s for s in page.symbols if s.name.endswith("Executor.submit"))
    assert "Schedules the callable, fn, to be executed" in submit.text
    assert "An object standing for a result" not in executor.text  # the next section's
    top = section(page, "concurrent.futures — Launching parallel tasks")
    assert "Launching parallel tasks" not in top.text
    assert "Executor" not in top.text


def test_inline_code_spans_join_without_spaces() -> None:
    page = clean_page(sphinx_page(), PY_URL)
    top = page.sections[0]
    assert "The concurrent.futures module provides" in top.text
    assert "concurrent. futures" not in top.text
    executor = section(page, "Executor Objects")
    assert "submit(fn)" in executor.text
    assert "See threading.Thread, threading, Executor and GIL." in executor.text


def test_text_before_the_first_heading_is_a_section_without_anchor() -> None:
    body = (
        b"<html><body><main><p>Preamble words.</p><h2 id=a>A</h2><p>Body.</p></main></body></html>"
    )
    page = clean_page(body, PLAIN_URL)
    assert page.sections == (
        Section(anchor="", title="", level=1, text="Preamble words."),
        Section(anchor="a", title="A", level=2, text="Body."),
    )


# -- API symbols ------------------------------------------------------------------------


def test_symbols_from_dt_ids_with_their_kind_and_own_text() -> None:
    page = clean_page(sphinx_page(), PY_URL)
    symbols = {s.name: s for s in page.symbols}
    assert list(symbols) == [
        "concurrent.futures.Executor",
        "concurrent.futures.Executor.submit",
        "term-future",
    ]
    executor = symbols["concurrent.futures.Executor"]
    assert executor.kind == "class"
    assert executor.anchor == "concurrent.futures.Executor"
    assert (
        executor.text == "An abstract class that provides methods to execute calls asynchronously."
    )
    assert "Schedules" not in executor.text  # the nested method's text is its own
    submit = symbols["concurrent.futures.Executor.submit"]
    assert submit.kind == "method"
    assert submit.text == "Schedules the callable, fn, to be executed by a pooled worker."
    term = symbols["term-future"]
    assert term.kind == "term"
    assert term.text == "An object standing for a result that is not there yet."


def test_dt_without_id_is_not_a_symbol() -> None:
    body = b"""<html><body><main><dl class="field-list simple"><dt>Parameters</dt>
    <dd><p>fn: the callable</p></dd></dl>
    <dl class="py function"><dt id="mod.run">run()</dt><dd><p>Runs.</p></dd></dl>
    </main></body></html>"""
    page = clean_page(body, PLAIN_URL)
    assert [(s.name, s.kind) for s in page.symbols] == [("mod.run", "function")]


def test_symbols_from_a_real_fixture_page(pages: dict[str, bytes]) -> None:
    page = clean_page(
        pages["/3/library/concurrent.futures.html"],
        "https://docs.python.org/3/library/concurrent.futures.html",
    )
    kinds = {s.name: s.kind for s in page.symbols}
    assert kinds["concurrent.futures.ThreadPoolExecutor"] == "class"
    assert kinds["concurrent.futures.Executor.submit"] == "method"
    assert "function" in kinds.values()
    assert "quokkaflux" not in page.html  # the fixture's sidebar and footer marker


# -- links, images and sanitising ------------------------------------------------------


def test_links_are_absolute_normalised_distinct_and_without_self() -> None:
    page = clean_page(sphinx_page(), PY_URL)
    assert page.links == (
        "https://github.com/python/cpython/tree/3.11/Lib/concurrent/futures/thread.py",
        "https://github.com/python/cpython/tree/3.11/Lib/concurrent/futures/process.py",
        "https://docs.python.org/3/library/threading.html",  # twice on the page, once here
        "https://docs.python.org/3/glossary.html",
    )
    # in the HTML, links are absolute with their fragment kept
    assert 'href="https://docs.python.org/3/library/threading.html#threading.Thread"' in page.html
    assert f'href="{PY_URL}#concurrent.futures.Executor"' in page.html


def test_links_are_normalised() -> None:
    body = b"""<html><body><main><p>
    <a href="HTTPS://Example.ORG:443/a/./b/../c.html#x">one</a>
    <a href="https://example.org/a/c.html">two</a>
    <a href="//cdn.example.net/lib">three</a>
    <a href="start.html#top">self</a>
    <a href="">self again</a>
    <a href="mailto:docs@example.org">mail</a>
    </p></main></body></html>"""
    page = clean_page(body, PLAIN_URL)
    assert page.links == ("https://example.org/a/c.html", "https://cdn.example.net/lib")
    assert 'href="mailto:docs@example.org"' in page.html


def test_active_content_never_reaches_the_html() -> None:
    body = b"""<html><body><main><p>Text
    <a href="javascript:alert(1)">js link</a>
    <a href="JavaScript:alert(2)">js upper</a>
    <a href="data:text/html,hello">data link</a>
    <a href="https://example.org/ok" onclick="alert(3)" style="color: red">ok</a>
    <img src="x.png" onerror="alert(4)">
    <iframe src="https://evil.example/"></iframe>
    <svg><script>alert(5)</script></svg>
    <p onmouseover="alert(6)">hover</p>
    <object data="movie.swf"></object>
    </p><script>alert(7)</script></main></body></html>"""
    page = clean_page(body, PLAIN_URL)
    lowered = page.html.lower()
    for forbidden in ("javascript", "data:", "<script", "onerror", "onclick", "onmouseover",
                      "iframe", "<object", "style=", "alert"):  # fmt: skip
        assert forbidden not in lowered, forbidden
    assert "<a>js link</a>" in page.html  # the text stays, the href goes
    assert 'href="https://example.org/ok"' in page.html
    assert page.links == ("https://example.org/ok",)


def test_images_are_made_absolute_and_listed_as_assets() -> None:
    page = clean_page(MKDOCS_PAGE, MK_URL)
    shot = "https://squidfunk.github.io/mkdocs-material/assets/screenshots/slate.png"
    assert page.assets == (shot,)
    assert f'src="{shot}"' in page.html
    body = b"""<html><body><main><p>
    <img src="/img/a.png"><img src="/img/a.png"><img src="https://cdn.example.net/b.svg">
    <img src="data:image/png;base64,AAAA"></p></main></body></html>"""
    page = clean_page(body, PLAIN_URL)
    assert page.assets == ("https://example.org/img/a.png", "https://cdn.example.net/b.svg")
    assert "data:" not in page.html


# -- summary ----------------------------------------------------------------------------


def test_summary_skips_a_source_code_paragraph_of_links() -> None:
    page = clean_page(sphinx_page(), PY_URL)
    assert page.summary == (
        "The concurrent.futures module provides a high-level interface for "
        "asynchronously executing callables."
    )


def test_summary_skips_short_paragraphs() -> None:
    body = b"""<html><body><main><h1>queue</h1><p>Added in version 3.2.</p>
    <p>The queue module implements multi-producer, multi-consumer queues.</p>
    </main></body></html>"""
    summary = clean_page(body, PLAIN_URL).summary
    assert summary == "The queue module implements multi-producer, multi-consumer queues."


def test_summary_is_shortened_at_a_word() -> None:
    long = "word " * 100
    page = clean_page(sphinx_page(intro=long), PY_URL)
    assert page.summary.endswith("word…")
    assert len(page.summary) <= 201


# -- content hash and determinism ------------------------------------------------------


def test_content_hash_ignores_chrome_and_follows_the_body() -> None:
    first = clean_page(sphinx_page(footer="Last updated on Dec 04, 2023."), PY_URL)
    later = clean_page(sphinx_page(footer="Last updated on Jan 15, 2024."), PY_URL)
    assert first.content_hash == later.content_hash
    edited = clean_page(
        sphinx_page(
            intro="The concurrent.futures module provides a high-level interface for "
            "running callables in a pool."
        ),
        PY_URL,
    )
    assert edited.content_hash != first.content_hash


def test_cleaning_is_deterministic() -> None:
    for body, url in ((sphinx_page(), PY_URL), (MKDOCS_PAGE, MK_URL), (PLAIN_PAGE, PLAIN_URL)):
        first, second = clean_page(body, url), clean_page(body, url)
        assert first == second
        assert first.content_hash == second.content_hash


# -- HTML redirects (meta refresh) ---------------------------------------------------------

PAGE_URL = "https://docs.example.org/en/stable/generated/pandas.merge.html"
TARGET = "https://docs.example.org/en/stable/reference/api/pandas.merge.html"


@pytest.mark.parametrize(
    "meta",
    [
        '<meta http-equiv="refresh" content="0;URL=../reference/api/pandas.merge.html"/>',
        "<META HTTP-EQUIV='Refresh' CONTENT='0; url=../reference/api/pandas.merge.html'>",
        '<meta http-equiv="refresh" content="3; url=\'../reference/api/pandas.merge.html\'">',
        '<meta http-equiv=refresh content="0,URL=&quot;../reference/api/pandas.merge.html&quot;">',
        '<meta content="5;../reference/api/pandas.merge.html#top" http-equiv=" REFRESH ">',
        '<meta http-equiv="refresh" content="0.5 ; URL = ../reference/api/pandas.merge.html">',
        '<meta http-equiv="refresh" content="0;url=/en/stable/reference/api/pandas.merge.html">',
    ],
)
def test_meta_refresh_stubs_in_any_spelling_are_redirects(meta: str) -> None:
    for body in (f"<html><head>{meta}</head></html>", f"{meta}<p>The page has been moved</p>"):
        assert meta_refresh_target(body.encode(), PAGE_URL) == TARGET
        cleaned = clean_document(body.encode(), PAGE_URL)
        assert cleaned == Redirect(PAGE_URL, TARGET)
        assert document_from_json(clean_to_json(body.encode(), PAGE_URL)) == cleaned


@pytest.mark.parametrize(
    "meta",
    [
        '<meta http-equiv="refresh" content="30; url=other.html">',  # a slow refresh: a page
        '<meta http-equiv="refresh" content="0">',  # reloads itself
        '<meta http-equiv="refresh" content="0; url=pandas.merge.html">',  # itself
        '<meta http-equiv="refresh" content="0; url=javascript:alert(1)">',
        '<meta http-equiv="refresh" content="x; url=other.html">',  # browsers ignore it
        '<meta name="refresh" content="0; url=other.html">',  # not http-equiv
        '<meta http-equiv="content-type" content="text/html; charset=utf-8">',
    ],
)
def test_other_meta_tags_leave_a_page_a_page(meta: str) -> None:
    body = f"<html><head>{meta}</head><body><main><h1>T</h1><p>text</p></main></body></html>"
    assert meta_refresh_target(body.encode(), PAGE_URL) is None
    assert isinstance(clean_document(body.encode(), PAGE_URL), Page)


def test_a_refresh_resolves_against_the_base_element() -> None:
    body = b'<base href="https://docs.example.org/v2/">'
    body += b'<meta http-equiv="refresh" content="0;a.html">'
    assert meta_refresh_target(body, PAGE_URL) == "https://docs.example.org/v2/a.html"


def test_a_classifier_keeps_the_separator_its_theme_draws_with_css() -> None:
    """numpydoc and docutils field lists: `right : DataFrame` is drawn by `.classifier:before`;
    without the theme's CSS the name and its type must not run together."""
    numpydoc = (
        '<div role="main"><h1>merge</h1><dl class="field-list"><dt>Parameters</dt><dd><dl>'
        '<dt><strong>right</strong><span class="classifier">DataFrame or named Series</span>'
        "</dt><dd><p>Object to merge with.</p></dd></dl></dd></dl></div>"
    )
    page = clean_page(numpydoc.encode(), PLAIN_URL)
    assert "<strong>right</strong> : <span" in page.html
    assert "right : DataFrame or named Series" in " ".join(s.text for s in page.sections)
    delimited = numpydoc.replace(
        "</strong><span", '</strong><span class="classifier-delimiter">:</span><span'
    )
    page = clean_page(delimited.encode(), PLAIN_URL)
    assert " : " not in page.html and "right:DataFrame" in page.sections[0].text.replace(" ", "")
