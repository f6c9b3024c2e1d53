"""HTML -> `Page`: the main content without the source's chrome, sanitised, with its sections,
API symbols, links and assets. Pure: bytes and a URL in, a frozen `Page` out."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nh3
from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import CData, Comment, Declaration, Doctype, ProcessingInstruction

from mirror.urls import resolve_link, split_fragment

# Identifies this cleaner: when its code changes, stored raw pages are cleaned again.
CLEAN_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]

# Where the main content is, most specific first: (tag name or None, attributes).
_MAIN_CANDIDATES: tuple[tuple[str | None, dict[str, Any]], ...] = (
    (None, {"role": "main"}),
    ("div", {"class": "body"}),
    ("article", {"class": "md-content__inner"}),
    ("div", {"class": "document"}),
    ("main", {}),
    ("article", {}),
)
# The source's chrome inside the main content, found in one walk of the tree (CSS selectors
# through soupsieve cost a walk per selector).
_CHROME_TAGS = frozenset(
    """script style noscript template nav form button select input textarea iframe object embed
    frame frameset applet base meta link footer header""".split()
)
_CHROME_CLASSES = frozenset(
    """headerlink sphinxsidebar related footer version_switcher_placeholder
    language_switcher_placeholder mobile-nav""".split()
)
_NOT_TEXT = (Comment, ProcessingInstruction, Doctype, Declaration, CData)  # nh3 drops them too
_CHROME_ROLES = frozenset({"navigation", "search", "banner", "contentinfo"})
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_SECTION_TAGS = ("section", "div")
# Elements whose text is separate from its neighbours'; inline elements (code spans, syntax
# highlighting) join without a space so `a.b(c)` stays as written.
_BLOCKS = frozenset(
    """address article aside blockquote br dd details div dl dt figcaption figure h1 h2 h3 h4 h5
    h6 hr li ol p pre section summary table td th tr ul""".split()
)
_DOMAINS = {"py", "c", "cpp", "js", "rst", "std", "describe", "object"}
_TITLE_SUFFIX = re.compile(r"\s+(?:[—–|·]|-)\s+(?:(?!\s+-\s)[^—–|·])*$")
_SPACES = re.compile(r"\s+")
_SUMMARY_CHARS = 200

# What a documentation page needs, and nothing that can run or load active content.
_ALLOWED_TAGS = frozenset(
    """a abbr acronym address article aside b bdi bdo blockquote br caption cite code col colgroup
    dd del details dfn div dl dt em figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol
    p pre q rp rt ruby s samp section small span strong sub summary sup table tbody td tfoot th
    thead time tr u ul var wbr""".split()
)
_ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "scope", "headers"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "details": {"open"},
    "time": {"datetime"},
}


@dataclass(frozen=True, slots=True)
class Section:
    anchor: str  # id to link to ('' for text before the first heading)
    title: str  # heading text
    level: int  # 1 for h1 ... 6 for h6
    text: str  # the section's own text, up to the next heading


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str  # full name as the page's anchor gives it, e.g. concurrent.futures.Executor.submit
    kind: str  # class, function, method, exception, attribute, data, term ...
    anchor: str  # id of the entry's <dt>
    text: str  # the entry's own description, without nested entries


@dataclass(frozen=True, slots=True)
class Page:
    url: str  # normalised source URL
    title: str
    summary: str  # first paragraph, shortened, for listings
    html: str  # sanitised main content; links absolute to their source
    sections: tuple[Section, ...]
    symbols: tuple[Symbol, ...]
    links: tuple[str, ...]  # distinct http(s) URLs linked to, without fragments, in page order
    assets: tuple[str, ...]  # distinct image URLs the content shows

    @property
    def content_hash(self) -> str:
        """What decides whether a page really changed: its cleaned content, not its raw bytes."""
        digest = hashlib.sha256()
        for part in (self.title, self.summary, self.html):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()


def clean_page(body: bytes, url: str) -> Page:
    """Extract the main content of the HTML page `body` fetched from `url`."""
    soup = BeautifulSoup(body, "lxml")
    main = _find_main(soup)
    in_body = main is soup.body or main is soup  # no content element: a titled header is the site's
    for element in [t for t in main.find_all(True) if _is_chrome(t, in_body)]:
        if element.decomposed:  # inside chrome removed already
            continue
        if element.name == "embed":  # void, but lxml nests what follows inside it: keep that
            element.unwrap()
        else:
            element.decompose()

    links = _absolutize(main, url)
    assets = tuple(
        dict.fromkeys(
            str(img["src"]) for img in main.find_all("img", src=True) if _is_http(str(img["src"]))
        )
    )
    sections, symbols = _outline(main)
    title = _page_title(soup, main)
    html = nh3.clean(
        main.decode_contents(),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
        strip_comments=True,
    )
    return Page(
        url=url,
        title=title,
        summary=_summary(main),
        html=html.strip(),
        sections=sections,
        symbols=symbols,
        links=links,
        assets=assets,
    )


def _find_main(soup: BeautifulSoup) -> Tag:
    for name, attrs in _MAIN_CANDIDATES:
        found = soup.find(name or True, attrs=attrs)
        if isinstance(found, Tag) and found.get_text(strip=True):
            return found
    return soup.body or soup


def _is_chrome(tag: Tag, in_body: bool = False) -> bool:
    if tag.name == "header":  # a site header is chrome; an article's header holds its title
        return in_body or tag.find("h1") is None
    if tag.name in _CHROME_TAGS or tag.has_attr("hidden"):
        return True
    if tag.get("role") in _CHROME_ROLES:
        return True
    classes = tag.get("class")
    return bool(classes) and not _CHROME_CLASSES.isdisjoint(classes)  # type: ignore[arg-type]


def _text(element: Tag) -> str:
    return _SPACES.sub(" ", element.get_text()).strip()


def _page_title(soup: BeautifulSoup, main: Tag) -> str:
    h1 = main.find("h1")
    if isinstance(h1, Tag) and _text(h1):
        return _text(h1)
    if soup.title and soup.title.string:
        title = _SPACES.sub(" ", soup.title.string).strip()
        return _TITLE_SUFFIX.sub("", title) or title
    return ""


def _summary(main: Tag) -> str:
    """The first real paragraph: not a short line, not mostly links (like "Source code: x.py")."""
    for p in main.find_all("p"):
        text = _text(p)
        linked = sum(len(_text(a)) for a in p.find_all("a"))
        if len(text) > 40 and linked < len(text) / 2:
            if len(text) > _SUMMARY_CHARS:
                text = text[:_SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
            return text
    return ""


def _is_http(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _absolutize(main: Tag, url: str) -> tuple[str, ...]:
    """Make every link and image absolute; return the distinct pages linked to."""
    links: dict[str, None] = {}
    for a in main.find_all("a", href=True):
        href = str(a["href"])
        if href.startswith("#"):
            a["href"] = f"{url}{href}"
            continue
        target = resolve_link(url, href)
        if target is None:
            if not href.lower().startswith("mailto:"):
                del a["href"]
            continue
        a["href"] = target
        base, _ = split_fragment(target)
        if base != url:
            links[base] = None
    for img in main.find_all("img", src=True):
        target = resolve_link(url, str(img["src"]))
        if target is None:
            img.decompose()
        else:
            img["src"] = target
    return tuple(links)


def _anchor_of(heading: Tag) -> str:
    """The id a heading can be linked by: its own, or its enclosing section's."""
    if heading.get("id"):
        return str(heading["id"])
    parent = heading.parent
    if isinstance(parent, Tag) and parent.name in _SECTION_TAGS and parent.get("id"):
        first = parent.find(_HEADINGS)
        if first is heading:
            return str(parent["id"])
    previous = heading.find_previous_sibling()
    if isinstance(previous, Tag) and previous.name == "a" and not previous.get_text(strip=True):
        return str(previous.get("id") or previous.get("name") or "")
    return ""


def _symbol_kind(dl: Tag | None) -> str:
    classes = [str(c) for c in (dl.get("class") or [])] if dl is not None else []
    if "glossary" in classes:
        return "term"
    kinds = [c for c in classes if c not in _DOMAINS and c != "simple"]
    return kinds[0] if kinds else "entry"


def _own_text(dd: Tag | None) -> str:
    """Text of an API entry's description, leaving out the entries nested in it."""
    parts: list[str] = []

    def walk(tag: Tag) -> None:
        for child in tag.children:
            if isinstance(child, Tag):
                if not (child.name == "dl" and child.find("dt", id=True, recursive=False)):
                    if child.name in _BLOCKS:
                        parts.append(" ")
                    walk(child)
            elif isinstance(child, NavigableString) and not isinstance(child, _NOT_TEXT):
                parts.append(str(child))

    if dd is not None:
        walk(dd)
    return _SPACES.sub(" ", "".join(parts)).strip()


def _outline(main: Tag) -> tuple[tuple[Section, ...], tuple[Symbol, ...]]:
    """Split the content at headings, and collect the API entries (`dt[id]`)."""
    sections: list[Section] = []
    symbols: list[Symbol] = []
    heading: tuple[str, str, int] = ("", "", 1)
    texts: list[str] = []
    heading_strings: set[int] = set()  # ids of the current heading's own strings

    def close() -> None:
        text = _SPACES.sub(" ", "".join(texts)).strip()
        if heading[1] or text:
            sections.append(
                Section(anchor=heading[0], title=heading[1], level=heading[2], text=text)
            )

    for node in main.descendants:
        if isinstance(node, Tag):
            if node.name in _HEADINGS:
                close()
                heading = (_anchor_of(node), _text(node), int(node.name[1]))
                texts = []
                heading_strings = {id(s) for s in node.strings}
            elif node.name in _BLOCKS:
                texts.append(" ")
            if node.name == "dt" and node.get("id"):
                dd = node.find_next_sibling("dd")
                symbols.append(
                    Symbol(
                        name=str(node["id"]),
                        kind=_symbol_kind(node.parent if isinstance(node.parent, Tag) else None),
                        anchor=str(node["id"]),
                        text=_own_text(dd if isinstance(dd, Tag) else None),
                    )
                )
        elif (
            isinstance(node, NavigableString)
            and not isinstance(node, _NOT_TEXT)
            and id(node) not in heading_strings
        ):
            texts.append(str(node))
    close()
    return tuple(sections), tuple(symbols)
