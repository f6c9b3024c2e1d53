"""The site's search (search.html from file://, in Chromium) against `docmirror search --json`
on generated Sphinx-like pages where the ranking's edge cases bind: a page of 300 sections and
63 API entries, so that a page's score is the sum of its best PAGE_DOCS of many and at most
GROUP_SIZE hits of a page are listed; words repeated k times in section k, rare and common words
and sections of very different lengths, so that scores spread over orders of magnitude (a page
score above 10 and others below 1, so that sorting them as text would differ); sections longer
than the text the site keeps, and characters outside the BMP before a match, for the snippets.
Hits, their order, scores and snippets must be the same."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
from whoosh import index as whoosh_index

from mirror.search.analysis import query_analyzers
from mirror.search.index import ReaderTerms, collect_stats
from mirror.search.query import GROUP_SIZE, PAGE_DOCS, plan_query, run_query, score

from conftest import Project, page_path
from docserver import DocServer

LIMIT = 20  # hits compared; the search page shows the first SHOWN
SHOWN = 10

# -- the generated pages (deterministic: no randomness, no clock) ----------------------------

FILLER = (
    "the registry keeps every entry in order and hands it back on request while callers "
    "wait for a free slot so that two threads never see a half written record unless the "
    "lock was released early by mistake which the checker reports as a warning"
).split()
TOPICS = ("Widget tuning", "Lantern wiring", "Cache layout", "Signal routing", "Spool handling")


def filler(count: int, seed: int) -> list[str]:
    return [FILLER[(seed * 7 + i * 3) % len(FILLER)] for i in range(count)]


def sprinkled(words: list[str], count: int, seed: int) -> str:
    """`count` filler words with `words` spread through them, the first one early."""
    tokens = filler(count, seed)
    step = max(1, len(tokens) // (len(words) + 1))
    for i, word in enumerate(words):
        tokens.insert(min(len(tokens), 3 + i * step), word)
    return " ".join(tokens)


def html_page(title: str, body: str) -> bytes:
    """A page in the markup of Sphinx's basic themes (div.body[role=main])."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8" />\n'
        f"<title>{escape(title)} &#8212; Test docs</title>\n</head><body>\n"
        '<div class="document"><div class="documentwrapper"><div class="bodywrapper">\n'
        f'<div class="body" role="main">\n{body}</div>\n</div></div></div>\n</body></html>\n'
    ).encode()


def section(anchor: str, level: int, heading: str, inner: str) -> str:
    return (
        f'<section id="{anchor}">\n<h{level}>{escape(heading)}<a class="headerlink" '
        f'href="#{anchor}" title="Permalink to this headline">¶</a></h{level}>\n'
        f"{inner}</section>\n"
    )


def entry(kind: str, name: str, params: str, description: str) -> str:
    """A Sphinx API entry (`dl.py > dt[id] + dd`)."""
    prefix, _, last = name.rpartition(".")
    return (
        f'<dl class="py {kind}">\n<dt class="sig sig-object py" id="{name}">\n'
        f'<span class="sig-prename descclassname"><span class="pre">{prefix}.</span></span>'
        f'<span class="sig-name descname"><span class="pre">{last}</span></span>'
        '<span class="sig-paren">(</span><em class="sig-param"><span class="n">'
        f'<span class="pre">{params}</span></span></em><span class="sig-paren">)</span>'
        f'<a class="headerlink" href="#{name}" title="Permalink to this definition">¶</a></dt>\n'
        f"<dd><p>{description}</p>\n</dd></dl>\n"
    )


def big_page() -> bytes:
    """300 sections. Section k says `widget` k % 60 + 1 times (every section: a common word),
    `gear` k / 4 times in every 4th, `zephyr` k / 12 times in every 12th (rare, many times: the
    best sections score above 10, the others down to 2), `lantern` in every 3rd; every 25th
    section is long (past the 1,500 characters the site keeps); every 5th holds an API entry."""
    parts = []
    for k in range(1, 301):
        words = ["widget"] * (k % 60 + 1)
        if k % 4 == 0:
            words += ["gear"] * (k // 4)
        if k % 12 == 0:
            words += ["zephyr"] * (k // 12)
        if k % 3 == 0:
            words += ["lantern"] * (1 + k % 7)
        count = 500 if k % 25 == 0 else 30 + (k * 37) % 90
        inner = f"<p>{sprinkled(words, count, k)}.</p>\n"
        if k % 5 == 0:
            description = f"Return widget number {k} from the registry" + " gear" * (k % 4)
            inner += entry("function", f"bigmod.func_{k}", "widget", description)
        parts.append(section(f"part-{k}", 2, f"Part {k}: {TOPICS[k % 5]}", inner))
    api = entry("class", "bigmod.WidgetRegistry", "size", "A registry of widgets.")
    api += entry("method", "bigmod.WidgetRegistry.register", "widget", "Add a widget.")
    api += entry("class", "bigmod.LanternPool", "lanterns", "A pool of lanterns and gears.")
    parts.append(section("api", 2, "API reference", api))
    intro = "<p>The bigmod module keeps a registry of widgets, gears and lanterns.</p>\n"
    title = "bigmod — Widget registry internals"
    return html_page(title, section("module-bigmod", 1, title, intro + "".join(parts)))


def lantern_page() -> bytes:
    """40 sections about lanterns, with a widget, a gear or a zephyr now and then."""
    parts = []
    for k in range(1, 41):
        words = ["lantern"] * (k % 9 + 1)
        words += ["widget"] if k % 4 == 0 else []
        words += ["gear"] if k % 6 == 0 else []
        words += ["zephyr", "zephyr"] if k % 10 == 0 else []
        inner = f"<p>{sprinkled(words, 25 + (k * 13) % 40, k + 500)}.</p>\n"
        if k % 8 == 0:
            name, description = f"lantern.LanternPool.light_{k}", f"Light {k} lanterns."
            inner += entry("method", name, "count", description)
        parts.append(section(f"pool-{k}", 2, f"Pool {k}: {TOPICS[(k + 1) % 5]}", inner))
    intro = "<p>Lantern pools hand out lanterns to widgets.</p>\n"
    title = "lantern — Lantern pools"
    return html_page(title, section("module-lantern", 1, title, intro + "".join(parts)))


def notes_page() -> bytes:
    """A few sections: one long, whose rare word comes after the 1,500 characters the site
    keeps; one whose heading is `Widget tuning`, with markup characters; one with characters
    outside the BMP (two UTF-16 units each) before its match."""
    history = " ".join(filler(400, 7)) + " a quasar widget appears here at last "
    history += " ".join(filler(120, 9))
    parts = section("history", 2, "History", f"<p>{history}.</p>\n")
    tuning = "Widget tuning in one paragraph: tune each widget &amp; its &lt;lantern&gt; once"
    parts += section("widget-tuning", 2, "Widget tuning", f"<p>{tuning}, gear by gear.</p>\n")
    parts += section("credits", 2, "Credits", "<p>Thanks to the zephyr team.</p>\n")
    symbols = " ".join(["😀 note 𝐀𝐁𝐂"] * 20) + " the spool " + " ".join(filler(60, 3))
    parts += section("symbols", 2, "Symbols", f"<p>{symbols}</p>\n")
    return html_page("Release notes", section("release-notes", 1, "Release notes", parts))


def glossary_page() -> bytes:
    """A short page: each word once."""
    parts = "".join(
        section(f"term-{w}", 2, w.capitalize(), f"<p>A {w} is explained on its own page.</p>\n")
        for w in ("widget", "lantern", "gear", "spool", "quasar")
    )
    return html_page("Glossary", section("glossary", 1, "Glossary", parts))


PAGES: dict[str, Callable[[], bytes]] = {
    "bigmod": big_page,
    "lantern": lantern_page,
    "notes": notes_page,
    "glossary": glossary_page,
}

QUERIES = (
    # single words: common, mid, rare-but-repeated, rare
    "widget", "gear", "zephyr", "quasar", "registry", "lanterns",
    # several words (a share of them matched, page scores above 10 and below 1)
    "widget lantern", "zephyr widget", "zephyr gear lantern", "gear spool note",
    "lantern widget zephyr gear quasar",
    # names: whole, last component, dotted suffix, being typed, typed apart
    "bigmod.func_35", "func_120", "WidgetRegistry.register", "LanternPool.light_16",
    "WidgetReg", "lantern poo", "gea",
    # typos
    "zephir", "widgte tuning", "bigmod.func_3O",
    # a heading that is the query (`Spool` first), phrases, nothing found
    "spool", "widget tuning", '"widget tuning"', '"tuning widget"', '"spool handling" gear',
    "zanzibar",
)  # fmt: skip
CORRECTED = ("zephir", "widgte tuning", "bigmod.func_3O")

# Queries where a page has more than PAGE_DOCS matching documents, so that which are its best
# matters (checked below): in CAPPED its best by number are not its worst; in TEXT_ORDER not its
# best by text order either (scores on both sides of 10).
CAPPED = ("widget", "gear", "widget lantern", "zephyr", "zephyr widget", "zephyr gear lantern")
TEXT_ORDER = ("zephyr", "zephyr widget", "zephyr gear lantern")
EMPTY = ("zanzibar", '"tuning widget"')  # nothing found (the phrase is not in that order)


# -- the mirror, built once -------------------------------------------------------------------


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The generated pages served over HTTP and mirrored with `docmirror build`."""
    root = tmp_path_factory.mktemp("parity")
    with DocServer({page_path(name): make() for name, make in PAGES.items()}) as server:
        project = Project(root=root, config_path=root / "config.toml", server=server)
        project.write_config(list(PAGES))
        result = project.run("build", "-q")
        assert result.exit_code == 0, result.output
    return project


def cli_search(project: Project, query: str) -> dict[str, Any]:
    result = project.run("search", query, "--json", "-n", str(LIMIT))
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.stdout)
    return found


class Ranker:
    """mirror.search.query over the built index, scores unrounded (the CLI prints 4 decimals)."""

    def __init__(self, index_dir: Path) -> None:
        self._searcher = whoosh_index.open_dir(str(index_dir)).searcher()
        reader = self._searcher.reader()
        self.source = ReaderTerms(reader, collect_stats(reader))

    def close(self) -> None:
        self._searcher.close()

    def ranked(self, query: str) -> list[tuple[str, float]]:
        """(path#anchor, score) of the hits `docmirror search` lists."""
        hits, _ = run_query(query, self.source, query_analyzers(), LIMIT)
        return [(self._path(doc), value) for doc, value in hits]

    def page_scores(self, query: str) -> dict[str, list[float]]:
        """Each page's documents' BM25F scores (before the page's is blended in)."""
        scores, _ = score(plan_query(query, self.source, query_analyzers()), self.source)
        pages: dict[str, list[float]] = {}
        for doc, value in scores.items():
            pages.setdefault(self.source.stored(doc)["path"], []).append(value)
        return pages

    def _path(self, doc: int) -> str:
        fields = self.source.stored(doc)
        return fields["path"] + (f"#{fields['anchor']}" if fields["anchor"] else "")


@pytest.fixture(scope="module")
def ranker(mirror: Project) -> Iterator[Ranker]:
    ranker = Ranker(mirror.data / "index")
    yield ranker
    ranker.close()


# In the page, once its search has shown its results: what it shows, and the ranked hits
# (DocmirrorSearch.search, the function the page calls, asked for LIMIT) with their scores.
READ_RESULTS = """async ([query, limit]) => {
  const box = document.getElementById("search-results");
  const deadline = Date.now() + 10000;
  while (!box.querySelector("li a, .no-results")) {
    if (Date.now() > deadline || box.textContent.startsWith("Search is unavailable")) {
      throw new Error("no results shown: " + box.textContent);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const text = (item, selector) => {
    const found = item.querySelector(selector);
    return found ? found.textContent : null;
  };
  const shown = Array.from(box.querySelectorAll("li"), (item) => ({
    href: item.querySelector("a").getAttribute("href"),
    heading: text(item, "a strong"),
    where: text(item, ".where"),
    snippet: item.querySelector(".snippet").innerHTML,
  }));
  const ranked = await DocmirrorSearch.search(query, limit);
  return {
    shown: shown,
    note: text(box, ".suggestion"),
    suggestion: ranked.suggestion,
    hits: ranked.hits.map((h) => ({ path: h.path, url: h.url, score: h.score })),
  };
}"""


class SearchTab:
    """The site's search.html in one tab, with its errors and any request leaving the disk."""

    def __init__(self, browser: Any, site: Path) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.site = site
        self.errors: list[str] = []
        self.remote: list[str] = []

        def console(message: Any) -> None:
            if message.type == "error":
                self.errors.append(message.text)

        def request(sent: Any) -> None:
            if not sent.url.startswith("file:"):
                self.remote.append(sent.url)

        self.page.on("console", console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", request)

    def open(self, query: str) -> dict[str, Any]:
        """search.html?q=QUERY as shown (first SHOWN hits: link, heading, page, snippet HTML,
        the correction note) and DocmirrorSearch.search's first LIMIT hits with their scores."""
        self.page.goto((self.site / "search.html").as_uri() + "?q=" + quote(query))
        found: dict[str, Any] = self.page.evaluate(READ_RESULTS, [query, LIMIT])
        return found

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def tab(browser: Any, mirror: Project) -> Iterator[SearchTab]:
    opened = SearchTab(browser, mirror.site)
    yield opened
    opened.close()


# -- the tests --------------------------------------------------------------------------------


def test_the_fixture_reaches_the_edge_cases(mirror: Project, ranker: Ranker) -> None:
    """Not vacuous: for the CAPPED queries a page has more than PAGE_DOCS matching documents,
    and its best PAGE_DOCS by number are not its worst (for TEXT_ORDER, nor its best by text);
    page scores run from above 10 to below 1; results list GROUP_SIZE hits of a page with
    more; the snippets' hard cases are hits."""
    page_scores_seen: list[float] = []
    for query in CAPPED:
        capped, by_text = False, False
        for values in ranker.page_scores(query).values():
            best = sum(sorted(values, reverse=True)[:PAGE_DOCS])
            page_scores_seen.append(best / PAGE_DOCS)
            worst = sum(sorted(values)[:PAGE_DOCS])
            as_text = sum(sorted(values, key=str, reverse=True)[:PAGE_DOCS])
            capped = capped or (len(values) > PAGE_DOCS and best > worst + 1)
            by_text = by_text or (len(values) > PAGE_DOCS and best > as_text + 1)
        assert capped and (by_text or query not in TEXT_ORDER), query
    assert max(page_scores_seen) > 10 and min(page_scores_seen) < 1
    hits = cli_search(mirror, "widget")["hits"]
    assert GROUP_SIZE < len(hits) < LIMIT  # hundreds of sections match
    by_page = [h["path"].split("#")[0].rsplit("/", 1)[-1] for h in hits]
    assert by_page[:GROUP_SIZE] == ["bigmod.html"] * GROUP_SIZE
    assert by_page.count("bigmod.html") == GROUP_SIZE  # of hundreds matching
    # a section whose only match is past the text the site keeps: both show its opening
    notes = {h["path"].split("#")[1]: h["snippet"] for h in cli_search(mirror, "quasar")["hits"]}
    assert "<mark>" not in notes["history"] and "<mark>quasar</mark>" in notes["term-quasar"]
    # a match after characters of two UTF-16 units each
    notes = {h["path"].split("#")[1]: h["snippet"] for h in cli_search(mirror, "spool")["hits"]}
    assert notes["symbols"].startswith("… ") and "😀" in notes["symbols"]


@pytest.mark.parametrize("query", QUERIES)
def test_site_search_lists_what_the_cli_lists(
    mirror: Project, ranker: Ranker, tab: SearchTab, query: str
) -> None:
    cli = cli_search(mirror, query)
    site = tab.open(query)
    hits = cli["hits"]
    assert bool(hits) != (query in EMPTY)
    # the same hits in the same order (the last part of the path first, for a readable diff)
    assert [short(h["path"]) for h in site["hits"]] == [short(h["path"]) for h in hits]
    assert [(h["path"], h["url"]) for h in site["hits"]] == [(h["path"], h["url"]) for h in hits]
    # the same scores: the CLI's to its 4 decimals, and unrounded from mirror.search.query
    exact = ranker.ranked(query)
    assert [path for path, _ in exact] == [h["path"] for h in hits]
    for hit, (_, expected), got in zip(hits, exact, site["hits"], strict=True):
        assert round(expected, 4) == hit["score"]
        assert math.isclose(got["score"], expected, rel_tol=1e-6), (
            f"{short(hit['path'])}: site {got['score']} != {expected}"
        )
    # the same correction, said the same way
    assert bool(cli["suggestion"]) == (query in CORRECTED)
    assert site["suggestion"] == cli["suggestion"]
    if cli["suggestion"]:
        said = "Showing results for “{}”." if hits else "Did you mean “{}”?"
        assert site["note"] == said.format(cli["suggestion"])
    else:
        assert site["note"] is None
    # the page shows the first SHOWN: link, heading, page title and the snippet's very HTML
    assert len(site["shown"]) == min(SHOWN, len(hits))
    for got, hit in zip(site["shown"], hits, strict=False):
        section, title = hit["section"], hit["title"]
        assert {**got, "href": unquote(got["href"])} == {
            "href": hit["path"],
            "heading": section or title,
            "where": title if section and section != title else None,
            "snippet": hit["snippet"],
        }, short(hit["path"])
    assert tab.errors == [] and tab.remote == []


def short(path: str) -> str:
    """`page.html#anchor` of a hit's path."""
    return path.rsplit("/", 1)[-1]
