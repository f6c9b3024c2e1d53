"""HTML -> `Page`: the main content without the source's chrome, sanitised, with its sections,
API symbols, links and assets. Pure: bytes and a URL in, a frozen `Page` out.

Works with no per-site settings on the documentation generators people mirror: the main content is
found in layers (the markup of known generators, then the semantic `main`/`article`/`[role=main]`,
then a text-density heuristic for pages with none of these), and the chrome inside it (navigation,
sidebars, local tables of contents, edit links, permalinks, cookie banners, prev/next footers) is
removed by tag, class, role, id and a few link texts, all in one walk of the tree. A source that
the defaults get wrong can add `ExtractionRules` (CSS selectors) in its config."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

import nh3
from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import CData, Comment, Declaration, Doctype, ProcessingInstruction

from mirror.urls import resolve_link, split_fragment

# Identifies this cleaner: when its code changes, stored raw pages are cleaned again.
CLEAN_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]

# Where the main content is, most specific first, as (tag name or None for any, attribute, value
# or None for any). A class value matches one of the element's classes. Known generators come
# before the semantic elements, since theirs often hold a sidebar or a local table of contents.
_MAIN_RULES: tuple[tuple[str | None, str | None, str | None], ...] = (
    (None, "itemprop", "articleBody"),  # Read the Docs theme (Sphinx and MkDocs)
    ("article", "class", "md-content__inner"),  # Material for MkDocs
    ("article", "class", "bd-article"),  # PyData and Sphinx Book themes (main holds the TOC)
    ("div", "class", "theme-doc-markdown"),  # Docusaurus
    ("div", "class", "markdown"),  # Docusaurus without theme classes: only inside an article
    (None, "role", "main"),  # Sphinx basic themes (div.body), Furo (article), mkdocs (div)
    ("div", "class", "body"),  # Sphinx themes without the role
    ("div", "class", "document"),
    ("main", None, None),
    ("article", None, None),
)
_MAIN_INSIDE_ARTICLE = 4  # the rule that only counts inside an <article>
# From this rule on, the element is only a wrapper (a custom theme's, or a page's `main` around
# its own sidebar): the densest block inside it is the content, as on a page without landmarks.
_MAIN_WEAK = 7
# The rules indexed for the one walk that looks for them: by class, by other attribute, by tag.
_MAIN_BY_CLASS = {v: i for i, (_, a, v) in enumerate(_MAIN_RULES) if a == "class" and v}
_MAIN_BY_ATTR = tuple(
    (i, a, v) for i, (_, a, v) in enumerate(_MAIN_RULES) if a is not None and a != "class"
)
_MAIN_BY_TAG = {t: i for i, (t, a, _) in enumerate(_MAIN_RULES) if t and a is None}

# The source's chrome inside the main content, found in one walk of the tree (CSS selectors
# through soupsieve cost a walk per selector). A `header` is handled apart: see `_is_chrome`.
_CHROME_TAGS = frozenset(
    """script style noscript template nav form button select input textarea iframe object embed
    frame frameset applet base meta link footer header svg dialog""".split()
)
_CHROME_CLASSES = frozenset(
    # Sphinx: basic, Python docs, alabaster, Read the Docs, Furo, PyData and Book themes
    """headerlink sphinxsidebar sphinxsidebarwrapper related footer version_switcher_placeholder
    language_switcher_placeholder mobile-nav mobile-header wy-nav-side wy-nav-top wy-breadcrumbs
    wy-breadcrumbs-aside rst-breadcrumbs rst-footer-buttons rst-versions sidebar-drawer
    toc-drawer content-icon-container edit-this-page view-this-page related-pages bottom-of-page
    back-to-top skip-to-content skip-link announcement bd-header bd-sidebar bd-sidebar-primary
    bd-sidebar-secondary bd-toc bd-header-article bd-breadcrumbs bd-footer bd-footer-article
    bd-footer-content bd-search search-button__wrapper prev-next-area prev-next-footer tocsection
    editthispage sourcelink page-toc linenos linenodiv version-switcher
    version-switcher__container"""
    # MkDocs default and readthedocs themes, Material for MkDocs
    """ navbar bs-sidebar md-header md-tabs md-sidebar md-footer md-footer-nav md-footer-meta
    md-content__button md-source-file md-path md-search md-top md-skip md-banner md-dialog
    md-consent md-version md-feedback"""
    # Docusaurus
    """ theme-doc-footer theme-doc-toc-mobile theme-doc-toc-desktop theme-doc-breadcrumbs
    theme-doc-sidebar-container theme-edit-this-page theme-last-updated theme-doc-version-banner
    theme-doc-version-badge theme-back-to-top-button theme-announcement-bar pagination-nav
    table-of-contents"""
    # anywhere: breadcrumbs, local tables of contents, edit links, cookie banners
    """ breadcrumb breadcrumbs toc nav edit-link edit-page cc-window cc-banner""".split()
)
# A class containing one of these: cookie-banner, cookieBanner_x1Yz, CookieConsent.
_CHROME_CLASS_PARTS = ("cookie", "Cookie")
# Classes that are chrome on a link only (Docusaurus gives its headings the class "anchor").
_CHROME_LINK_CLASSES = frozenset(
    """anchor hash-link header-anchor heading-anchor anchorjs-link anchor-link permalink
    toc-backref""".split()
)
# Of those, links whose text stays: a heading's link back to a local table of contents.
_UNWRAP_LINK_CLASSES = frozenset({"toc-backref"})
_CHROME_IDS = frozenset(
    """searchbox rtd-search-form cookie-banner cookie-consent cookie-notice cookies-banner
    cookieconsent onetrust-consent-sdk CybotCookiebotDialog __consent back-to-top pst-back-to-top
    pst-skip-link skip-link""".split()
)
_CHROME_ROLES = frozenset(
    {"navigation", "search", "banner", "contentinfo", "complementary", "dialog", "alertdialog"}
)
# Links that are chrome by what they say, looked at only when their target is one of these
# (reading every link's text would cost too much on pages with thousands of links).
_CHROME_LINK_TARGETS = ("/edit/", "_sources/", "/blob/", "?mode=edit")
_CHROME_LINK_FRAGMENTS = frozenset(
    "# #top #content #main #main-content #maincontent #page-top".split()
)
_CHROME_LINK_TEXTS = (
    "edit this page", "edit on ", "edit page", "view page source", "view source", "show source",
    "page source", "suggest an edit", "suggest edits", "improve this page", "skip to ",
    "back to top", "scroll to top", "go to top",
)  # fmt: skip
_NOT_TEXT = (Comment, ProcessingInstruction, Doctype, Declaration, CData)  # nh3 drops them too
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_SECTION_TAGS = ("section", "div")
_ANCHOR_TAGS = ("a", "span")  # an empty one with an id just before a heading is its anchor
# Elements whose text is separate from its neighbours'; inline elements (code spans, syntax
# highlighting) join without a space so `a.b(c)` stays as written.
_BLOCKS = frozenset(
    """address article aside blockquote br dd details div dl dt figcaption figure h1 h2 h3 h4 h5
    h6 hr li ol p pre section summary table td th tr ul""".split()
)
# Scripts only Sphinx pages load, from `_static/` at the documentation root.
_SPHINX_SCRIPTS = tuple(
    f"/_static/{name}.js" for name in ("documentation_options", "doctools", "searchtools")
)
_DOMAINS = {"py", "c", "cpp", "js", "rst", "std", "describe", "object"}
# mkdocstrings: the class of an API entry's `div.doc-object` -> the symbol's kind
_DOC_OBJECT_KINDS = {
    "doc-class": "class",
    "doc-function": "function",
    "doc-method": "method",
    "doc-attribute": "attribute",
    "doc-module": "module",
}
# The text-density heuristic, for pages without any known content element: a block holding this
# share of its parent's prose (text outside links, see `_weight`) is the content, unless a heading
# of the text comes before it; a block whose text is more than this share link text is navigation.
_DENSE_SHARE = 0.75
_SMALL_TEXT = 60  # ... or leaves out less prose than this (a "last updated" line)
_LINK_DENSITY = 0.5
_CONTAINERS = frozenset("div section article main td tr tbody table center font span".split())
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
    # absolute URL of the Sphinx inventory (objects.inv) of the site the page belongs to, '' for a
    # page not made by Sphinx; not part of `content_hash` (the inventory is fetched apart)
    inventory: str = ""

    @property
    def content_hash(self) -> str:
        """What decides whether a page really changed: its cleaned content, not its raw bytes."""
        digest = hashlib.sha256()
        for part in (self.title, self.summary, self.html):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class ExtractionRules:
    """A source's own overrides, for the rare site the defaults get wrong (its `content` and `drop`
    config keys). Selectors are validated when the config is loaded."""

    content: str | None = None  # CSS selector of the main content, tried before the defaults
    drop: tuple[str, ...] = ()  # CSS selectors of more chrome to remove from the content

    def __bool__(self) -> bool:
        return self.content is not None or bool(self.drop)


def clean_version(rules: ExtractionRules | None = None) -> str:
    """What a stored page was cleaned with: this cleaner and the source's rules. Stored with each
    page, so that a change to either cleans the stored raw pages again."""
    if not rules:
        return CLEAN_VERSION
    spec = json.dumps([rules.content, list(rules.drop)], ensure_ascii=False)
    return f"{CLEAN_VERSION}+{hashlib.sha256(spec.encode('utf-8')).hexdigest()[:16]}"


def clean_page(body: bytes, url: str, rules: ExtractionRules | None = None) -> Page:
    """Extract the main content of the HTML page `body` fetched from `url`, applying the source's
    `rules` if it has any."""
    soup = BeautifulSoup(body, "lxml")
    inventory = _inventory_url(soup, url)  # before anything in the tree is removed
    main, rule = _find_main(soup, rules)
    found = main is not None
    if main is None:  # no content element: the body, where a titled header is the site's
        main = soup.body or soup
    _remove_chrome(main, in_body=not found)
    if rule >= _MAIN_WEAK:
        main = _densest_block(main, prune=not found)
    if rules:
        for selector in rules.drop:
            for element in main.select(selector):
                if not element.decomposed:
                    element.decompose()

    title = _page_title(soup, main)
    links, images = _absolutize(main, url)
    assets = tuple(dict.fromkeys(src for src in images if _is_http(src)))
    sections, symbols = _outline(main)
    html = nh3.clean(
        _inner_html(main),
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
        inventory=inventory,
    )


def _inventory_url(soup: BeautifulSoup, url: str) -> str:
    """The `objects.inv` of the Sphinx site the page at `url` belongs to, at the documentation
    root its markup names: `<html data-content_root>` (Sphinx 7.2 on), the `data-url_root` of
    `script#documentation_options` (before 7.2), else the folder holding the `_static/` of
    Sphinx's own scripts. '' for a page that does not look like Sphinx's (a generator meta tag
    or those scripts) or whose root is on another host."""
    generator = soup.find("meta", attrs={"name": "generator"})
    sphinx = isinstance(generator, Tag) and "sphinx" in str(generator.get("content", "")).lower()
    declared: str | None = None  # the root as the page declares it, relative to the page
    html = soup.find("html")
    if isinstance(html, Tag) and html.get("data-content_root") is not None:
        declared = str(html["data-content_root"])
    static_root = ""  # the root as the folder holding Sphinx's _static/ scripts
    for script in soup.find_all("script"):
        if declared is None:
            for attribute in ("data-content_root", "data-url_root"):
                if script.get(attribute) is not None:
                    declared = str(script[attribute])
                    break
        src = script.get("src")
        target = resolve_link(url, str(src)) if src else None
        if target is not None and urlsplit(target).path.endswith(_SPHINX_SCRIPTS):
            sphinx = True
            static_root = static_root or _folder(target, "/_static/")
    if not sphinx:
        return ""
    origin = urlsplit(url).netloc
    if declared is not None:
        declared = declared.strip()
        root = resolve_link(url, declared if declared not in ("", "#") else "./")
        if root is not None and urlsplit(root).netloc == origin:
            return _folder(root, "/") + "objects.inv"
    if static_root and urlsplit(static_root).netloc == origin:
        return static_root + "objects.inv"
    return ""


def _folder(url: str, marker: str) -> str:
    """`url` without query and fragment, cut after the last `marker`'s leading slash: the
    folder a file or a `_static/` folder is in."""
    parts = urlsplit(url)
    path = parts.path[: parts.path.rindex(marker) + 1] if marker in parts.path else "/"
    return parts._replace(path=path, query="", fragment="").geturl()


def _find_main(soup: BeautifulSoup, rules: ExtractionRules | None) -> tuple[Tag | None, int]:
    """The element holding the page's content and the index of the rule that found it: the
    source's own selector (-1), else the first element with text of the most specific rule in
    `_MAIN_RULES`; (None, len(_MAIN_RULES)) when there is none. One walk of the tree finds the
    candidates of every rule."""
    if rules and rules.content:
        found = soup.select_one(rules.content)
        if found is not None and found.get_text(strip=True):
            return found, -1
    candidates: dict[int, list[Tag]] = {}
    for tag in soup.find_all(True):
        rule = _MAIN_BY_TAG.get(tag.name, len(_MAIN_RULES))
        attrs = tag.attrs
        if attrs:
            for c in attrs.get("class") or ():
                i = _MAIN_BY_CLASS.get(c, rule)
                if i < rule and _MAIN_RULES[i][0] in (None, tag.name):
                    rule = i
            for i, attr, value in _MAIN_BY_ATTR:
                if i < rule and attrs.get(attr) == value:
                    rule = i
        if rule < len(_MAIN_RULES):
            candidates.setdefault(rule, []).append(tag)
    for rule in sorted(candidates):
        for tag in candidates[rule]:
            if rule == _MAIN_INSIDE_ARTICLE and tag.find_parent("article") is None:
                continue
            if tag.get_text(strip=True):
                return tag, rule
    return None, len(_MAIN_RULES)


def _inner_html(root: Tag) -> str:
    """The markup of `root`'s children, for nh3 to sanitise: what `decode_contents()` gives up to
    attribute order and void-element syntax, about five times faster (it was a fifth of the clean
    stage). Comments and other non-text nodes are left out; nh3 would drop them."""
    out: list[str] = []
    append = out.append
    children = [iter(root.contents)]
    closers: list[str] = [""]
    while children:
        for node in children[-1]:
            if isinstance(node, Tag):
                attributes = "".join(
                    f' {name}="{escape(" ".join(value) if isinstance(value, list) else value)}"'
                    for name, value in node.attrs.items()
                )
                append(f"<{node.name}{attributes}>")
                if node.contents:
                    children.append(iter(node.contents))
                    closers.append(f"</{node.name}>")
                    break
                if not node.can_be_empty_element:
                    append(f"</{node.name}>")
            elif not isinstance(node, _NOT_TEXT):
                append(escape(str(node), quote=False))
        else:
            children.pop()
            append(closers.pop())
    return "".join(out)


def _remove_chrome(main: Tag, in_body: bool) -> None:
    """Remove the source's chrome from `main`, keeping the anchors its permalinks carried."""
    for element in [t for t in main.find_all(True) if _is_chrome(t, in_body)]:
        if element.decomposed:  # inside chrome removed already
            continue
        if element.name == "embed":  # void, but lxml nests what follows inside it: keep that
            element.unwrap()
            continue
        if element.name == "a":
            if not _UNWRAP_LINK_CLASSES.isdisjoint(element.get("class") or ()):
                element.unwrap()
                continue
            _keep_anchor(element)
        element.decompose()


def _is_chrome(tag: Tag, in_body: bool = False) -> bool:
    """Whether `tag` is the source's chrome: navigation, sidebars, search, edit links, banners."""
    name = tag.name
    if name == "header":  # a site header is chrome; an article's header holds its title
        h1 = tag.find("h1")
        return in_body or h1 is None or _is_site_heading(h1)
    if name in _CHROME_TAGS:
        return True
    attrs = tag.attrs
    if not attrs:
        return False
    classes = attrs.get("class")
    if classes:
        if not _CHROME_CLASSES.isdisjoint(classes):
            return True
        if name == "a" and not _CHROME_LINK_CLASSES.isdisjoint(classes):
            return True
        for c in classes:
            for part in _CHROME_CLASS_PARTS:
                if part in c:
                    return True
    if "hidden" in attrs and attrs.get("role") != "tabpanel":  # a hidden tab is still content
        return True
    if attrs.get("role") in _CHROME_ROLES or attrs.get("id") in _CHROME_IDS:
        return True
    label = attrs.get("aria-label")
    if label and "breadcrumb" in str(label).lower():
        return True
    if name == "a":
        href = str(attrs.get("href") or "")
        if (
            href in _CHROME_LINK_FRAGMENTS
            or href.startswith("#__")
            or any(target in href for target in _CHROME_LINK_TARGETS)
        ):
            text = _text(tag).lower()
            return ("/edit/" in href and "edit" in text) or text.startswith(_CHROME_LINK_TEXTS)
    return False


def _keep_anchor(link: Tag) -> None:
    """A permalink about to go may carry its heading's anchor (GitHub's `a.anchor[id]`): give the
    id to the heading it sits in, or to the heading just after it, if that has none."""
    anchor = link.get("id") or link.get("name")
    if not anchor:
        return
    heading = link.parent
    if not (isinstance(heading, Tag) and heading.name in _HEADINGS):
        heading = link.find_next_sibling()
    if isinstance(heading, Tag) and heading.name in _HEADINGS and not heading.get("id"):
        heading["id"] = str(anchor)


def _is_site_heading(heading: Tag) -> bool:
    """A heading that is all one link to another page, like `<h1><a href="/">Site</a></h1>`:
    the site's name, not the page's title."""
    links = heading.find_all("a", href=True)
    if len(links) != 1 or str(links[0]["href"]).startswith("#"):
        return False
    return _text(links[0]) == _text(heading) != ""


def _prose(tag: Tag) -> tuple[int, int]:
    """(characters of text, characters of link text) in `tag`, white space left out."""
    text = len(_SPACES.sub("", tag.get_text()))
    linked = sum(len(_SPACES.sub("", a.get_text())) for a in tag.find_all("a", href=True))
    return text, linked


def _weight(tag: Tag) -> int:
    """How much of the page's text `tag` holds: its prose, and a little of its link text (so that
    a page that is a list of links still has a heaviest block)."""
    text, linked = _prose(tag)
    return text - linked + linked // 4


def _is_link_block(tag: Tag) -> bool:
    text, linked = _prose(tag)
    return text > 0 and linked > _LINK_DENSITY * text


def _densest_block(top: Tag, prune: bool) -> Tag:
    """For a page without a known content element: the smallest block in `top` holding most of its
    prose (text and code outside links) with its headings, without the blocks dense in links
    around it.

    From `top` down, step into the child block that holds `_DENSE_SHARE` of the prose (or all but
    a few words of it), unless a heading of the text lies before it (the page's title above the
    text). Where that stops, if `prune`, drop the children that are mostly links (menus,
    prev/next) unless they hold most of the text (a page that is a list of links). The block's
    own element stays when it has an id, the anchor of its first heading."""
    node = top
    while True:
        total = _weight(node)
        best: Tag | None = None
        best_weight = 0
        for child in node.children:
            if isinstance(child, Tag) and child.name in _CONTAINERS:
                weight = _weight(child)
                if weight > best_weight:
                    best, best_weight = child, weight
        rest = total - best_weight  # what the step would leave out
        small = rest < _SMALL_TEXT and best_weight > 2 * rest
        if best is None or (best_weight < _DENSE_SHARE * total and not small):
            break
        if any(_is_content_heading(h, node) for h in _headings_before(best)):
            break
        node = best
    if prune:
        links = [c for c in node.children if isinstance(c, Tag) and _is_link_block(c)]
        if sum(_prose(c)[0] for c in links) < _prose(node)[0] / 2:
            for child in links:
                child.decompose()
    parent = node.parent
    if node is not top and node.get("id") and isinstance(parent, Tag):
        # keep the block's own element, and so its id: the anchor of its first heading
        for sibling in [s for s in parent.children if s is not node]:
            sibling.extract()
        return parent
    return node


def _headings_before(block: Tag) -> list[Tag]:
    """The headings in the siblings before `block`: a title above the text it would leave out."""
    headings = []
    for sibling in block.previous_siblings:
        if isinstance(sibling, Tag):
            headings += [sibling] if sibling.name in _HEADINGS else sibling.find_all(_HEADINGS)
    return headings


def _is_content_heading(heading: Tag, node: Tag) -> bool:
    """A heading of the page's text, not of a menu: not a link to elsewhere, and not in a child of
    `node` that is mostly links."""
    if _is_site_heading(heading):
        return False
    block = heading
    while block.parent is not None and block.parent is not node:
        block = block.parent
    return not _is_link_block(block)


def _text(element: Tag) -> str:
    return _SPACES.sub(" ", element.get_text()).strip()


def _page_title(soup: BeautifulSoup, main: Tag) -> str:
    """The content's first `h1` (a site name in it left out), else `<title>` without the site."""
    h1 = main.find("h1")
    if isinstance(h1, Tag) and _is_site_heading(h1):  # look further only past a site name
        h1 = next((h for h in main.find_all("h1") if not _is_site_heading(h)), None)
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


def _absolutize(main: Tag, url: str) -> tuple[tuple[str, ...], list[str]]:
    """Make every link and image absolute; return the distinct pages linked to and the images'
    URLs. One walk over the tree (`find_all` with an attribute filter walks it through
    BeautifulSoup's matching machinery, several times slower)."""
    anchors: list[Tag] = []
    images: list[Tag] = []
    for element in main.descendants:
        if isinstance(element, Tag):
            if element.name == "a" and element.has_attr("href"):
                anchors.append(element)
            elif element.name == "img" and element.has_attr("src"):
                images.append(element)
    links: dict[str, None] = {}
    for a in anchors:
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
    sources = []
    for img in images:
        target = resolve_link(url, str(img["src"]))
        if target is None:
            img.decompose()
        else:
            img["src"] = target
            sources.append(target)
    return tuple(links), sources


def _anchor_of(heading: Tag) -> str:
    """The id a heading can be linked by: its own; its first child's, an `a[id]` or `a[name]`
    (Docusaurus, MkDocs, hand-written pages); its enclosing section's (Sphinx); or that of an
    empty `a`/`span` just before it."""
    if heading.get("id"):
        return str(heading["id"])
    for child in heading.children:
        if isinstance(child, Tag):
            if child.name == "a" and (child.get("id") or child.get("name")):
                return str(child.get("id") or child.get("name"))
            break
        if str(child).strip():
            break
    parent = heading.parent
    if isinstance(parent, Tag) and parent.name in _SECTION_TAGS and parent.get("id"):
        first = parent.find(_HEADINGS)
        if first is heading:
            return str(parent["id"])
    previous = heading.find_previous_sibling()
    if (
        isinstance(previous, Tag)
        and previous.name in _ANCHOR_TAGS
        and not previous.get_text(strip=True)
    ):
        return str(previous.get("id") or previous.get("name") or "")
    return ""


def _symbol_kind(dl: Tag | None) -> str:
    classes = [str(c) for c in (dl.get("class") or [])] if dl is not None else []
    if "glossary" in classes:
        return "term"
    kinds = [c for c in classes if c not in _DOMAINS and c != "simple"]
    return kinds[0] if kinds else "entry"


def _symbol_name(dt: Tag, dl: Tag | None, names: dict[int, str]) -> str:
    """An API entry's name: its id for Python and most domains, which is the full dotted name;
    without the `c.` for C; for C++, whose ids are mangled, the signature's name qualified by the
    entry it is nested in (`Burrow::size`). `names` holds the names given so far, by `id(dt)`."""
    ident = str(dt["id"])
    classes = dl.get("class") or () if dl is not None else ()
    if "c" in classes and ident.startswith("c."):
        return ident[2:]
    if "cpp" not in classes:
        return ident
    name = "".join(_text(s) for s in dt.find_all(class_=("sig-prename", "sig-name")))
    if not name:
        return ident
    dd = dl.parent if dl is not None else None
    outer = dd.find_previous_sibling("dt") if isinstance(dd, Tag) and dd.name == "dd" else None
    if isinstance(outer, Tag) and id(outer) in names and not name.startswith(names[id(outer)]):
        return f"{names[id(outer)]}::{name}"
    return name


def _doc_object_kind(heading: Tag) -> str:
    """The kind of a mkdocstrings entry, from the classes of its `div.doc-object`; a function in a
    class is a method."""
    obj = heading.parent
    classes = obj.get("class") or () if isinstance(obj, Tag) else ()
    kind = next((_DOC_OBJECT_KINDS[c] for c in classes if c in _DOC_OBJECT_KINDS), "entry")
    symbol = heading.find("code", class_="doc-symbol")
    if isinstance(symbol, Tag):  # the label mkdocstrings may show: doc-symbol-method ...
        for c in symbol.get("class") or ():
            if c.startswith("doc-symbol-") and c[11:] in _DOC_OBJECT_KINDS.values():
                return str(c[11:])
    if kind == "function" and isinstance(obj, Tag):
        outer = obj.find_parent("div", class_="doc-object")
        if isinstance(outer, Tag) and "doc-class" in (outer.get("class") or ()):
            return "method"
    return kind


def _is_nested_entry(tag: Tag) -> bool:
    """An API entry inside another's description (Sphinx `dl` with `dt[id]`, mkdocstrings
    `div.doc-object`), or a mkdocstrings source listing: not part of the outer entry's text."""
    if tag.name == "dl":
        return tag.find("dt", id=True, recursive=False) is not None
    classes = tag.get("class") or ()
    return "doc-object" in classes or "mkdocstrings-source" in classes


def _own_text(dd: Tag | None) -> str:
    """Text of an API entry's description, leaving out the entries nested in it."""
    parts: list[str] = []

    def walk(tag: Tag) -> None:
        for child in tag.children:
            if isinstance(child, Tag):
                if not _is_nested_entry(child):
                    if child.name in _BLOCKS:
                        parts.append(" ")
                    walk(child)
            elif isinstance(child, NavigableString) and not isinstance(child, _NOT_TEXT):
                parts.append(str(child))

    if dd is not None:
        walk(dd)
    return _SPACES.sub(" ", "".join(parts)).strip()


def _outline(main: Tag) -> tuple[tuple[Section, ...], tuple[Symbol, ...]]:
    """Split the content at headings, and collect the API entries: Sphinx's `dt[id]` and
    mkdocstrings' `.doc-heading[id]`."""
    sections: list[Section] = []
    symbols: list[Symbol] = []
    names: dict[int, str] = {}  # the names of Sphinx entries, by id() of their dt
    heading: tuple[str, str, int] = ("", "", 1)
    texts: list[str] = []
    heading_strings: set[int] = set()  # ids of the current heading's own strings
    # ids of the strings of API entries' descriptions: the entries are documents of their own,
    # so the section holding them keeps its prose and the entries' signatures only
    entry_strings: set[int] = set()

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
                if heading[0] and "doc-heading" in (node.get("class") or ()):
                    contents = node.find_next_sibling("div", class_="doc-contents")
                    symbols.append(
                        Symbol(
                            name=heading[0],
                            kind=_doc_object_kind(node),
                            anchor=heading[0],
                            text=_own_text(contents if isinstance(contents, Tag) else None),
                        )
                    )
            elif node.name in _BLOCKS:
                texts.append(" ")
            if node.name == "dt" and node.get("id"):
                dd = node.find_next_sibling("dd")
                if isinstance(dd, Tag):
                    entry_strings.update(id(string) for string in dd.strings)
                    for inner in dd.find_all("dt"):  # nested entries' signatures stay
                        entry_strings.difference_update(id(string) for string in inner.strings)
                dl = node.parent if isinstance(node.parent, Tag) else None
                names[id(node)] = _symbol_name(node, dl, names)
                symbols.append(
                    Symbol(
                        name=names[id(node)],
                        kind=_symbol_kind(dl),
                        anchor=str(node["id"]),
                        text=_own_text(dd if isinstance(dd, Tag) else None),
                    )
                )
        elif (
            isinstance(node, NavigableString)
            and not isinstance(node, _NOT_TEXT)
            and id(node) not in heading_strings
            and id(node) not in entry_strings
        ):
            texts.append(str(node))
    close()
    return tuple(sections), tuple(symbols)
