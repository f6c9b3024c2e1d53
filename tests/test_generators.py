"""Any documentation generator, with no per-site settings: pages shaped like Sphinx (alabaster,
Read the Docs, Furo, PyData), MkDocs, Material for MkDocs (with mkdocstrings), Docusaurus and a
hand-written page without landmarks come out with their title, all of their text, code and
anchors, and none of their chrome. Plus the per-source `content`/`drop` overrides.

The fixtures in pages/families/ are written for these tests. Each one's chrome (header, global
navigation, local table of contents, footer, edit links, banners...) carries marker words that
appear nowhere in its content: Wobblestone, Globalnavia, Localtocia, Footerling, ..."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from mirror.clean.extract import clean_page
from mirror.clean.page import ExtractionRules, Page, clean_version

from conftest import Project

FAMILIES_DIR = Path(__file__).parent / "pages" / "families"


@dataclass(frozen=True)
class Family:
    title: str
    body: tuple[str, ...]  # sampled paragraphs and code, as they read
    sections: tuple[tuple[str, str], ...]  # (anchor, title) of every section, in order
    chrome: tuple[str, ...]  # phrases only the chrome has (see `phrases`)
    word: str  # a word of the body only this page has, to search for


# In every fixture's chrome: the site's name, the global navigation, the local table of contents
# and the footer.
COMMON_CHROME = ("Wobblestone", "Globalnavia", "Localtocia", "Footerling")


def phrases(text: str) -> tuple[str, ...]:
    """The common chrome markers and the phrases of "one|two words|three"."""
    return (*COMMON_CHROME, *text.split("|"))


FAMILIES: dict[str, Family] = {
    "sphinx-alabaster": Family(
        title="Tuning the lantern",
        body=(
            "A lanternfish lamp glows brightest when the wick is trimmed to the width of a barley "
            "grain and the reservoir holds cold whale-free oil.",
            "Braided cotton wicks burn evenly for eleven hours, while twisted flax wicks smoke "
            "unless soaked in brine overnight.",
            "lamp.trim_wick(width_mm=2.5)",
            "Cut the wick down to the given width in millimetres.",
            "Millilitres of oil left in the tank.",
        ),
        sections=(
            ("tuning-the-lantern", "Tuning the lantern"),
            ("choosing-a-wick", "Choosing a wick"),
            ("lighting-in-wind", "Lighting in wind"),
        ),
        chrome=phrases("Searchmarker|Page source|Navigation|¶"),
        word="barley",
    ),
    "sphinx-rtd": Family(
        title="Annealing glass",
        body=(
            "Freshly blown glass keeps hidden stress until it rests in a warm kiln and cools "
            "slower than a snail crossing a garden path.",
            "Hold the piece at five hundred degrees for one hour per centimetre of thickness, then "
            "lower the heat by forty degrees each hour.",
            "$ glassworks anneal --hold 60 --step 40",
            "Opening the kiln door early cracks thick paperweights along invisible seams.",
            "Place the cooled piece between two polarising sheets and look for rainbow fringes "
            "around the thickest part.",
        ),
        sections=(
            ("annealing-glass", "Annealing glass"),
            ("cooling-schedule", "Cooling schedule"),
            ("checking-for-strain", "Checking for strain"),
        ),
        chrome=phrases(
            "Searchmarker|Breadcrumbia|Prevnextia|Versionmarker|Edit on GitHub|Built with"
        ),
        word="polarising",
    ),
    "furo": Family(
        title="Swarm inspection",
        body=(
            "Bees prepare to swarm when the brood box runs out of room, so open the hive on a calm "
            "morning before the foragers leave.",
            "Queen cells hanging from the bottom bars of a frame mean the colony will split within "
            "nine days.",
            "hive.count_queen_cells(frame=4)",
            "Move the old queen with two frames of honey into a nucleus box and leave the capped "
            "cells behind.",
        ),
        sections=(
            ("swarm-inspection", "Swarm inspection"),
            ("reading-the-frames", "Reading the frames"),
            ("splitting-a-colony", "Splitting a colony"),
        ),
        chrome=phrases(
            "Searchmarker|Editmarker|View this page|Cookiemarker|Backtopia|"
            "Prevnextia|Skip to content|Toggle|On this page|Hide navigation"
        ),
        word="nucleus",
    ),
    "pydata": Family(
        title="Tide tables",
        body=(
            "Tidepool predicts the height of the sea at any harbour from twelve harmonic "
            "constituents measured over a lunar month.",
            "Each constituent has an amplitude in metres and a phase lag in degrees relative to "
            "the moon passing overhead.",
            'table = tidepool.load("harbour.csv")',
            "Spring tides arrive a day or two after the full and new moon, when the sun and moon "
            "pull along one line.",
        ),
        sections=(
            ("tide-tables", "Tide tables"),
            ("loading-constituents", "Loading constituents"),
            ("spring-and-neap", "Spring and neap"),
        ),
        chrome=phrases(
            "Editmarker|Backtopia|Breadcrumbia|Prevnextia|"
            "Versionmarker|Show Source|Skip to main content|Section Navigation|On this page"
        ),
        word="harmonic",
    ),
    "mkdocs": Family(
        title="Firing schedules",
        body=(
            "Kilnlog records every firing so potters can repeat a glaze that came out the colour "
            "of wet slate.",
            "Raise the temperature slowly through the first six hundred degrees while the last "
            "water leaves the clay body.",
            "schedule: - ramp: 80 target: 600",
            "Hold the peak for fifteen minutes so the glaze heals its pinholes before the kiln "
            "starts to cool.",
            "Cone Degrees 06 999 6 1222",
        ),
        sections=(
            ("firing-schedules", "Firing schedules"),
            ("bisque-firing", "Bisque firing"),
            ("glaze-firing", "Glaze firing"),
        ),
        chrome=phrases("Searchmarker|Prevnextia|Edit on GitHub|MkDocs|¶"),
        word="pinholes",
    ),
    "mkdocs-material": Family(
        title="Folding API",
        body=(
            "Paperfold turns a square sheet into crane, boat and frog bases by applying valley and "
            "mountain creases in order.",
            "Helpers for planning origami crease patterns.",
            "A square of paper that remembers every crease made on it.",
            'class Sheet: """A square of paper."""',
            "Fold the sheet towards you along the line through the given edge.",
            "Side of a standard kami square in centimetres.",
        ),
        sections=(
            ("folding-api", "Folding API"),
            ("paperfold.Sheet", "Sheet"),
            ("paperfold.Sheet.valley_fold", "valley_fold(edge)"),
            ("paperfold.DEFAULT_SIZE", "DEFAULT_SIZE = 15"),
        ),
        chrome=phrases(
            "Searchmarker|Editmarker|Cookiemarker|Backtopia|Prevnextia|"
            "Announcia|Skip to content|Table of contents|Made with|¶"
        ),
        word="kami",
    ),
    "docusaurus": Family(
        title="Feeding the starter",
        body=(
            "A sourdough starter is a paste of flour and water where wild yeast and lactic "
            "bacteria share every meal you give it.",
            "Discard all but a spoonful each morning, then stir in equal weights of rye flour and "
            "lukewarm water.",
            "crumb feed --flour 50g --water 50g",
            "crumb feed --flour 0.4cup --water 0.2cup",  # the tab that is hidden until chosen
            "A hungry starter smells of nail varnish and sinks back below the rubber band you put "
            "around the jar.",
        ),
        sections=(
            ("", "Feeding the starter"),
            ("daily-rhythm", "Daily rhythm"),
            ("signs-of-hunger", "Signs of hunger"),
        ),
        chrome=phrases(
            "Searchmarker|Editmarker|Cookiemarker|Prevnextia|Announcia|"
            "Breadcrumbia|Versionmarker|Skip to main content|Last updated|Direct link"
        ),
        word="varnish",
    ),
    "handwritten-no-landmarks": Family(
        title="Pruning apple trees",
        body=(
            "An apple tree left alone grows into a thicket of water shoots, so a yearly cut keeps "
            "light and air moving through the crown.",
            "Cut in the dormant months, after leaf fall, removing crossing branches first and then "
            "any wood that points back into the centre.",
            "saw : bow saw, 530 mm shears: bypass, never anvil",
            "Trained forms such as cordons and espaliers are shortened in late summer, cutting the "
            "new side shoots back to three leaves.",
            "Clean the blade with methylated spirit between trees.",
        ),
        sections=(
            ("", "Pruning apple trees"),
            ("winter", "Winter pruning"),  # a[name] as the heading's first child
            ("summer", "Summer pruning"),  # a[id] just before the heading
            ("wounds", "Sealing wounds"),  # a[name] holding the heading's text
        ),
        chrome=phrases("Strapline|Back to top"),
        word="espaliers",
    ),
}


def fixture(name: str) -> bytes:
    return (FAMILIES_DIR / f"{name}.html").read_bytes()


def family_url(name: str) -> str:
    return f"https://docs.example.org/f/{name}.html"


def clean_family(name: str) -> Page:
    return clean_page(fixture(name), family_url(name))


def as_text(markup: str) -> str:
    """What the HTML reads as: tags out, entities decoded, white space collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup))).strip()


def squeeze(text: str) -> str:
    """Without any white space, for code whose highlighting splits it into spans."""
    return re.sub(r"\s+", "", text)


def section_texts(page: Page) -> str:
    """What is indexed: the sections' headings and text, the API entries' names and text."""
    return " ".join(
        [f"{s.title} {s.text}" for s in page.sections]
        + [f"{y.name} {y.text}" for y in page.symbols]
    )


NAMES = sorted(FAMILIES)


def test_every_fixture_is_small_and_has_its_markers() -> None:
    assert sorted(p.stem for p in FAMILIES_DIR.glob("*.html")) == NAMES
    for name, family in FAMILIES.items():
        raw = fixture(name)
        assert 2_000 <= len(raw) <= 8_000, name
        text = html.unescape(raw.decode("utf-8"))
        for phrase in (*family.chrome, family.title):
            assert phrase in text, (name, phrase)


@pytest.mark.parametrize("name", NAMES)
def test_title_is_the_pages_own_heading(name: str) -> None:
    assert clean_family(name).title == FAMILIES[name].title


@pytest.mark.parametrize("name", NAMES)
def test_all_of_the_body_is_kept(name: str) -> None:
    page = clean_family(name)
    shown = squeeze(as_text(page.html))
    indexed = squeeze(section_texts(page))
    for sample in FAMILIES[name].body:
        assert squeeze(sample) in shown, sample
        assert squeeze(sample) in indexed, sample
    assert page.summary and page.summary in as_text(page.html)


@pytest.mark.parametrize("name", NAMES)
def test_none_of_the_chrome_is_kept(name: str) -> None:
    page = clean_family(name)
    everything = " ".join((page.title, page.summary, as_text(page.html), section_texts(page)))
    for phrase in FAMILIES[name].chrome:
        assert phrase not in everything, phrase
    for tag in ("<nav", "<form", "<input", "<button", "<footer", "<header", "<script", "<svg"):
        assert tag not in page.html, tag


@pytest.mark.parametrize("name", NAMES)
def test_sections_and_their_anchors(name: str) -> None:
    page = clean_family(name)
    assert [(s.anchor, s.title) for s in page.sections] == list(FAMILIES[name].sections)
    ids = set(re.findall(r'\b(?:id|name)="([^"]+)"', page.html))
    for anchor, _ in FAMILIES[name].sections:
        assert not anchor or anchor in ids, anchor


def test_sphinx_api_entries_of_the_python_and_cpp_domains() -> None:
    page = clean_family("sphinx-alabaster")
    assert [(s.name, s.kind, s.anchor) for s in page.symbols] == [
        ("lanternfish.Lamp", "class", "lanternfish.Lamp"),
        ("lanternfish.Lamp.trim_wick", "method", "lanternfish.Lamp.trim_wick"),
        ("Reservoir", "class", "_CPPv49Reservoir"),  # C++ ids are mangled: the name is read
        ("Reservoir::level", "function", "_CPPv4NK9Reservoir5levelEv"),
    ]
    assert page.symbols[2].text == "The oil tank of the native lamp driver."


def test_mkdocstrings_entries_are_symbols_with_their_kind() -> None:
    page = clean_family("mkdocs-material")
    symbols = {s.name: s for s in page.symbols}
    assert [(s.name, s.kind, s.anchor) for s in page.symbols] == [
        ("paperfold.Sheet", "class", "paperfold.Sheet"),
        ("paperfold.Sheet.valley_fold", "method", "paperfold.Sheet.valley_fold"),
        ("paperfold.DEFAULT_SIZE", "attribute", "paperfold.DEFAULT_SIZE"),
    ]
    # an entry's own text: not its source listing, not the entries nested in it
    assert symbols["paperfold.Sheet"].text == (
        "A square of paper that remembers every crease made on it."
    )
    assert "12" not in as_text(page.html).split()  # line numbers of the listing are chrome


def test_chrome_inside_the_content_is_found_by_class_role_id_and_link_text() -> None:
    body = b"""<html><body><main>
    <div aria-label="breadcrumbs">Breadcrumbia</div>
    <h1>Guide</h1><p>Read the <a href="https://github.com/x/y/blob/main/LICENSE">licence</a>.</p>
    <p><a href="https://github.com/x/y/edit/main/docs/guide.md">Edit this page</a></p>
    <p><a href="https://gitlab.com/x/y/-/edit/main/guide.md">Improve this page</a></p>
    <p><a href="_sources/guide.rst.txt">Show Source</a> <a href="#top">Back to top</a></p>
    <div id="cookie-banner">Cookiemarker one</div><div class="CookieConsent">Cookiemarker two</div>
    <div class="edit-this-page">Editmarker</div><div hidden>Hiddenmarker</div>
    <div role="tabpanel" hidden><p>The other tab stays.</p></div>
    </main></body></html>"""
    page = clean_page(body, family_url("inside"))
    for phrase in ("Breadcrumbia", "Edit this page", "Improve this page", "Show Source",
                   "Back to top", "Cookiemarker", "Editmarker", "Hiddenmarker"):  # fmt: skip
        assert phrase not in page.html, phrase
    assert "licence" in page.html and "The other tab stays." in page.html


def test_a_permalink_carrying_the_anchor_gives_it_to_the_heading() -> None:
    # GitHub-rendered Markdown: the id is on the permalink, which goes
    body = b"""<html><body><article><h1>Guide</h1><p>Some words of the guide here.</p>
    <h2><a id="user-content-setup" class="anchor" aria-hidden="true" href="#setup"><svg></svg></a>
    Setup</h2><p>Run the installer.</p></article></body></html>"""
    page = clean_page(body, family_url("github"))
    assert [(s.anchor, s.title) for s in page.sections][1] == ("user-content-setup", "Setup")
    assert '<h2 id="user-content-setup">' in page.html
    assert 'class="anchor"' not in page.html


def test_a_site_name_heading_inside_the_content_is_not_the_title() -> None:
    body = b"""<html><head><title>Install - Sitename</title></head><body><main>
    <header><h1><a href="/">Sitename</a></h1></header>
    <h1 id="install">Install</h1><p>Download the archive and unpack it anywhere.</p>
    </main></body></html>"""
    page = clean_page(body, family_url("site-name"))
    assert page.title == "Install"
    assert "Sitename" not in page.html


def test_a_wrapper_without_known_content_keeps_the_densest_block() -> None:
    # a custom theme: only a div.document around header links, the text and a sidebar
    body = b"""<html><body><div class="document">
    <div id="hd"><h1><a href="/">Sitename docs</a></h1>
    <div id="global-nav"><a href="/">Home</a> | <a href="/toc.html">Table of contents</a> |
    <a href="/genindex.html">Index</a> | <a href="/modules.html">Modules</a></div></div>
    <div id="bd"><div id="main"><div class="section" id="s-sessions"><h1>Sessions</h1>
    <p>Sessions keep state between requests on the server side, keyed by a cookie.</p>
    <p>Enable them with the middleware, then read and write the session like a dict.</p>
    </div></div><div id="side"><h3>Last update:</h3><p>May 2</p></div></div>
    </div></body></html>"""
    page = clean_page(body, family_url("custom"))
    assert page.title == "Sessions"
    assert "Sitename" not in page.html and "Modules" not in page.html
    assert "Last update" not in page.html
    assert [(s.anchor, s.title) for s in page.sections] == [("s-sessions", "Sessions")]
    assert 'id="s-sessions"' in page.html  # the block's own element keeps its anchor


def test_a_page_that_is_a_list_of_links_keeps_its_links() -> None:
    body = b"""<html><body><div class="menu"><a href="/">Home</a> <a href="/a">About</a></div>
    <ul><li><a href="one.html">Chapter one: the beginning of everything</a></li>
    <li><a href="two.html">Chapter two: the middle of everything</a></li>
    <li><a href="three.html">Chapter three: the end of everything</a></li></ul></body></html>"""
    page = clean_page(body, family_url("links"))
    assert "Chapter two: the middle of everything" in page.html


# -- per-source overrides ---------------------------------------------------------------


def test_content_rule_picks_the_element_and_drop_removes_more() -> None:
    rules = ExtractionRules(content="#loading-constituents", drop=("div.highlight-python",))
    page = clean_page(fixture("pydata"), family_url("pydata"), rules)
    assert page.title == "Tide tables"  # no h1 in it: the <title> without the site
    assert "Each constituent has an amplitude" in page.html
    assert "Tidepool predicts" not in page.html and "Spring tides" not in page.html
    assert "harbour.csv" not in page.html
    assert [s.anchor for s in page.sections] == ["loading-constituents"]


def test_a_content_rule_that_matches_nothing_falls_back_to_the_defaults() -> None:
    rules = ExtractionRules(content="div.no-such-thing")
    assert clean_page(fixture("furo"), family_url("furo"), rules) == clean_family("furo")


def test_clean_version_follows_the_rules() -> None:
    assert clean_version() == clean_version(None) == clean_version(ExtractionRules())
    one = clean_version(ExtractionRules(drop=(".ad",)))
    assert one != clean_version()
    assert one == clean_version(ExtractionRules(drop=(".ad",)))
    assert one != clean_version(ExtractionRules(drop=(".ads",)))
    assert one != clean_version(ExtractionRules(content=".ad"))


# -- end to end -------------------------------------------------------------------------


def write_config(project: Project, names: list[str], extra: str = "") -> None:
    urls = ", ".join(f'"{project.server.url(f"/f/{n}.html")}"' for n in names)
    project.config_path.write_text(
        f"""[site]
title = "Families"

[crawl]
workers = 4
timeout = 3.0
retries = 1

[[sources]]
name = "families"
urls = [{urls}]
{extra}
""",
        encoding="utf-8",
    )


def build(project: Project, *args: str) -> dict:
    result = project.run("build", "--json", *args)
    assert result.exit_code == 0, result.output
    report: dict = json.loads(result.stdout)
    return report


def search(project: Project, query: str) -> list[dict]:
    result = project.run("search", query, "--json")
    assert result.exit_code == 0, result.output
    hits: list[dict] = json.loads(result.stdout)["hits"]
    return hits


def site_file(project: Project, name: str) -> Path:
    return project.site / f"127.0.0.1_{project.server.port}" / "f" / f"{name}.html"


def test_build_and_search_every_family(make_project: Callable[..., Project]) -> None:
    project = make_project()
    for name in NAMES:
        project.server.set_page(f"/f/{name}.html", fixture(name))
    write_config(project, NAMES)
    report = build(project)
    assert report["new"] == len(NAMES) and report["failed"] == []
    for name, family in FAMILIES.items():
        hits = search(project, family.word)
        assert hits, name
        assert hits[0]["url"].split("#")[0] == project.server.url(f"/f/{name}.html"), name
        assert hits[0]["title"] == family.title
        shown = site_file(project, name).read_text(encoding="utf-8")
        assert family.body[0] in html.unescape(shown), name
    for marker in ("Globalnavia", "Localtocia", "Footerling", "Cookiemarker", "Prevnextia"):
        assert search(project, marker) == [], marker


def test_changing_a_sources_rules_cleans_its_pages_again(
    make_project: Callable[..., Project],
) -> None:
    project = make_project()
    project.server.set_page("/f/pydata.html", fixture("pydata"))
    write_config(project, ["pydata"])
    build(project)
    page = site_file(project, "pydata")
    assert "Spring tides arrive" in page.read_text(encoding="utf-8")
    assert search(project, "neap")

    # the server answers 304, but the rules changed: the stored page is cleaned again
    write_config(project, ["pydata"], 'drop = ["#spring-and-neap"]')
    report = build(project)
    assert report["not_modified"] == 1 and report["fetched"] == 0
    assert "Spring tides arrive" not in page.read_text(encoding="utf-8")
    assert search(project, "neap") == []

    # the same rules again: nothing to clean, index or render
    report = build(project)
    assert (report["indexed"], report["rendered"]) == (0, 0)

    # offline, a change of rules applies too
    write_config(project, ["pydata"], 'content = "#spring-and-neap"')
    build(project, "--offline")
    text = page.read_text(encoding="utf-8")
    assert "Spring tides arrive" in text and "Tidepool predicts" not in text

    # and back to the defaults
    write_config(project, ["pydata"])
    build(project)
    text = page.read_text(encoding="utf-8")
    assert "Spring tides arrive" in text and "Tidepool predicts" in text
