"""HTML -> `Page`: the main content without the source's chrome, sanitised, with its sections,
API symbols, links and assets. Pure: bytes and a URL in, a frozen `Page` out.

Works with no per-site settings on the documentation generators people mirror: the main content is
found in layers (the markup of known generators, then the semantic `main`/`article`/`[role=main]`,
then a text-density heuristic for pages with none of these), and the chrome inside it (navigation,
sidebars, local tables of contents, edit links, permalinks, cookie banners, prev/next footers) is
removed by tag, class, role, id and a few link texts, all in one walk of the tree. A source that
the defaults get wrong can add `ExtractionRules` (CSS selectors) in its config. The tree is
lxml's (libxml2's HTML parser), walked directly."""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from html import escape
from typing import Any
from urllib.parse import urlsplit

import nh3
from lxml import etree
from lxml.cssselect import CSSSelector
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction

from mirror.stages import stage_version
from mirror.urls import resolve_link, split_fragment

# Identifies this cleaner: when its code changes (or that of a module it imports), stored raw
# pages are cleaned again.
CLEAN_VERSION = stage_version("clean")
# A meta refresh within this many seconds is a redirect; a longer one is a page that reloads.
MAX_REFRESH_DELAY = 5

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
# The rules indexed for `_main_rule`: by class, by other attribute, by tag.
_MAIN_BY_CLASS = {v: i for i, (_, a, v) in enumerate(_MAIN_RULES) if a == "class" and v}
_MAIN_BY_ATTR = tuple(
    (i, a, v) for i, (_, a, v) in enumerate(_MAIN_RULES) if a is not None and a != "class"
)
_MAIN_BY_TAG = {t: i for i, (t, a, _) in enumerate(_MAIN_RULES) if t and a is None}


def _candidates_query(rules: tuple[tuple[str | None, str | None, str | None], ...]) -> str:
    """An XPath query for the elements `rules` may match, in document order, a class as a
    substring (`_main_rule` then compares the element's classes one by one). libxml2 is several
    times faster stepping to attributes than testing a predicate on every element."""
    paths: dict[str, list[str]] = {}
    for tag, attribute, value in rules:
        if attribute is None:
            paths[f"//{tag}"] = []
        elif attribute == "class":
            paths.setdefault(f"//{tag or '*'}/@class", []).append(f'contains(., "{value}")')
        else:
            path = f"//{tag}/@{attribute}" if tag else f"//@{attribute}"
            paths.setdefault(path, []).append(f'. = "{value}"')
    return " | ".join(
        f"{path}[{' or '.join(tests)}]/.." if tests else path for path, tests in paths.items()
    )


_MAIN_CANDIDATES = etree.XPath(_candidates_query(_MAIN_RULES))

# The source's chrome inside the main content, found in one walk of the tree (a CSS selector
# costs a walk of its own). A `header` is handled apart: see `_is_chrome`.
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
# A class containing this: cookie-banner, cookieBanner_x1Yz, CookieConsent.
_CHROME_CLASS_PART = re.compile("[cC]ookie")
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
# Elements whose text is not the page's prose: `_strings` leaves it out (and comments).
_NOT_PROSE = ("script", "style", "template", "rt", "rp")
_PROSE_TEXT = etree.XPath(
    f"descendant::text()[not({' or '.join(f'ancestor::{tag}' for tag in _NOT_PROSE)})]",
    smart_strings=False,
)
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
_SIGNATURE_NAME_CLASSES = frozenset({"sig-prename", "sig-name"})  # a C++ entry's name, in parts
# mkdocstrings: an entry, and a source listing, inside another's description
_NESTED_ENTRY_CLASSES = frozenset({"doc-object", "mkdocstrings-source"})
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
# Blank text between tags is kept as one newline, or one space if it has none, except in these.
_PREFORMATTED = ("pre", "textarea")
_CELLS = ("td", "th")  # their headers attribute is a list of names, like a class
_ASCII_SPACES = " \t\n\r\f"
# Elements written without an end tag: an empty element of another kind must be written `<p></p>`,
# since an HTML parser reads the XML serialiser's `<p/>` as an opening tag.
_VOID = frozenset(
    """area base basefont bgsound br col embed frame hr img input keygen link meta param source
    track wbr""".split()
)
_EMPTY_ELEMENTS = etree.XPath("descendant::*[not(node())]")
# Where a page may name its encoding: a byte-order mark, or a declaration near its top (a `meta`
# charset or http-equiv, or an XML declaration, which libxml2 does not read in HTML).
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_DECLARED_CHARSET = re.compile(
    rb"""<(?:meta[^>]*?\bcharset|\?xml[^>]*?\bencoding)\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE
)
_CHARSET_SCAN = 2048  # bytes
# Control characters lxml reads but will not write (XML does not allow them), NUL aside: libxml2
# reads that as U+FFFD. What stands for them in an ASCII-compatible encoding (in UTF-16 too, in
# other characters' bytes).
_CONTROLS = (*range(1, 9), 0x0B, 0x0C, *range(0x0E, 0x20))
_CONTROL_CHARACTERS = re.compile(f"[{re.escape(''.join(map(chr, _CONTROLS)))}]")
_CONTROL_BYTES = tuple(bytes([c]) for c in _CONTROLS)  # each a fast search of its own
_CONTROL_REPLACEMENTS = {c: None for c in _CONTROLS} | {0x0C: " "}
_ELEMENT_CLASSES = etree.ElementDefaultClassLookup(
    element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
)
_SUMMARY_CHARS = 200
_URL_IGNORED = str.maketrans("", "", "\t\n\r")  # dropped anywhere in a URL, as by urljoin

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
    root = _parse(body)
    inventory = _inventory_url(root, url)  # before anything in the tree is removed
    main, rule = _find_main(root, rules)
    found = main is not None
    if main is None:  # no content element: the body, where a titled header is the site's
        main = next(root.iter("body"), root)  # broken markup can put it anywhere
    _remove_chrome(main, in_body=not found)
    if rule >= _MAIN_WEAK:
        main = _densest_block(main, prune=not found)
    if rules:
        for selector in rules.drop:
            for element in _select(root, selector):
                if _is_inside(element, main):  # not in chrome removed already
                    element.drop_tree()

    title = _page_title(root, main)
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


@dataclass(frozen=True, slots=True)
class Redirect:
    """A page that only sends its reader on (a meta refresh), such as the stubs that Sphinx's
    redirect extensions leave where a page used to be: not a page of the mirror."""

    url: str  # normalised source URL of the stub
    target: str  # normalised absolute URL it leads to, without fragment


def clean_document(body: bytes, url: str, rules: ExtractionRules | None = None) -> Page | Redirect:
    """`clean_page`, or the `Redirect` the page is."""
    target = meta_refresh_target(body, url)
    if target is not None:
        return Redirect(url, target)
    return clean_page(body, url, rules)


def clean_to_json(body: bytes, url: str, rules: ExtractionRules | None = None) -> str:
    """`clean_document`, as the store keeps it (`page_to_json`, or a redirect's target): made in
    a cleaning worker, so that the build's main thread, which stores the pages, only reads it."""
    cleaned = clean_document(body, url, rules)
    if isinstance(cleaned, Redirect):
        return json.dumps({"url": url, "redirect": cleaned.target}, ensure_ascii=False)
    return page_to_json(cleaned)


def document_from_json(text: str) -> Page | Redirect:
    """What `clean_to_json` made."""
    if text.startswith('{"url"') and '"redirect":' in text[:4096]:
        data = json.loads(text)
        if set(data) == {"url", "redirect"}:
            return Redirect(data["url"], data["redirect"])
    return page_from_json(text)


def page_to_json(page: Page) -> str:
    """The page as the store keeps it: `dataclasses.asdict`'s shape, built without its deep
    copies (a fifth less time)."""
    data: dict[str, Any] = {name: getattr(page, name) for name in _PAGE_FIELDS}
    data["sections"] = [{n: getattr(s, n) for n in _SECTION_FIELDS} for s in page.sections]
    data["symbols"] = [{n: getattr(s, n) for n in _SYMBOL_FIELDS} for s in page.symbols]
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


_PAGE_FIELDS = tuple(f.name for f in dataclass_fields(Page))
_SECTION_FIELDS = tuple(f.name for f in dataclass_fields(Section))
_SYMBOL_FIELDS = tuple(f.name for f in dataclass_fields(Symbol))


def page_from_json(text: str) -> Page:
    data = json.loads(text)
    return Page(
        url=data["url"],
        title=data["title"],
        summary=data["summary"],
        html=data["html"],
        sections=tuple(Section(**s) for s in data["sections"]),
        symbols=tuple(Symbol(**s) for s in data["symbols"]),
        links=tuple(data["links"]),
        assets=tuple(data["assets"]),
        inventory=data.get("inventory", ""),  # pages stored before inventories have none
    )



_REFRESH_HINT = re.compile(rb"http-equiv\s*=\s*[\"']?\s*refresh", re.IGNORECASE)
_REFRESH_DELAY = re.compile(r"[ \t\n\f\r]*([0-9]*)([0-9.]*)")
_REFRESH_URL_KEY = re.compile(r"url[ \t\n\f\r]*=[ \t\n\f\r]*", re.IGNORECASE)
_HTML_SPACE = " \t\n\f\r"


def meta_refresh_target(body: bytes, url: str) -> str | None:
    """Where the page at `url` sends its reader with `<meta http-equiv="refresh" content="N;
    URL=...">` within `MAX_REFRESH_DELAY` seconds: the first such element, its content read as
    browsers read it (HTML's declarative refresh steps: any case, quoted or not, `;` or `,`),
    resolved against the page's `<base>`. None for any other page, for a refresh of the page
    itself, and for a target that is not http(s)."""
    if not _REFRESH_HINT.search(body):
        return None
    root = _parse(body)
    for meta in root.iter("meta"):
        if (meta.get("http-equiv") or "").strip().lower() != "refresh":
            continue
        refresh = _parse_refresh(meta.get("content") or "")
        if refresh is None:
            continue
        delay, href = refresh
        if delay > MAX_REFRESH_DELAY or not href:
            return None
        base = next((b.get("href") for b in root.iter("base") if b.get("href")), None)
        page = (resolve_link(url, base) if base else None) or url
        target = resolve_link(page, href)
        if target is None:
            return None
        target = split_fragment(target)[0]
        return None if target == url else target
    return None


def _parse_refresh(content: str) -> tuple[int, str] | None:
    """(delay in whole seconds, URL text or '') of a refresh's `content`; None when browsers
    ignore it."""
    delay = _REFRESH_DELAY.match(content)
    assert delay is not None  # the pattern matches the empty string
    digits, fraction = delay.groups()
    if not digits and not fraction.startswith("."):
        return None
    rest = content[delay.end() :]
    if not rest.strip(_HTML_SPACE):
        return int(digits or 0), ""
    if rest[0] not in ";," + _HTML_SPACE:
        return None
    rest = rest.lstrip(_HTML_SPACE)
    if rest[:1] in (";", ","):
        rest = rest[1:].lstrip(_HTML_SPACE)
    if key := _REFRESH_URL_KEY.match(rest):
        rest = rest[key.end() :]
    if rest[:1] in ("'", '"'):
        rest = rest[1:].split(rest[0], 1)[0]
    return int(digits or 0), rest.strip(_HTML_SPACE)


def _parse(body: bytes) -> HtmlElement:
    """The root (`html`) element of the page `body`; an empty one for a page without markup."""
    parser = _parser(body)
    # lxml.html's elements (drop_tree, drop_tag), found without calling Python: lxml.html's own
    # parser gives form elements classes of their own, a lookup that took a third of the walks
    parser.set_element_class_lookup(_ELEMENT_CLASSES)
    root = etree.fromstring(body, parser)
    if root is None:
        return parser.makeelement("html")
    if any(control in body for control in _CONTROL_BYTES):  # rare (or a false alarm: UTF-16)
        _remove_control_characters(root)
    return root


def _remove_control_characters(root: HtmlElement) -> None:
    """Take the C0 control characters but tab, newline and carriage return out of the texts and
    attribute values under `root` (a form feed becomes a space, the white space it is in HTML):
    lxml refuses to write text holding them back into the tree, as removing an element does."""
    for node in root.iter():
        if node.text and _CONTROL_CHARACTERS.search(node.text):
            node.text = node.text.translate(_CONTROL_REPLACEMENTS)
        if node.tail and _CONTROL_CHARACTERS.search(node.tail):
            node.tail = node.tail.translate(_CONTROL_REPLACEMENTS)
        for name, value in node.items():
            # a name holding them is no name the cleaner uses, nor lxml can write
            if _CONTROL_CHARACTERS.search(value) and not _CONTROL_CHARACTERS.search(name):
                node.set(name, value.translate(_CONTROL_REPLACEMENTS))


def _parser(body: bytes) -> etree.HTMLParser:
    """A parser reading `body` in its encoding: the one its byte-order mark names, else the one
    it declares near its top, else UTF-8 if the bytes are valid UTF-8, else windows-1252. libxml2
    alone reads a page as Latin-1, garbling UTF-8, when it declares no encoding, one libxml2 does
    not know, or one in an XML declaration. `huge_tree`: without it, a page loses what is nested
    deeper than 255 elements (2048 with it)."""
    if body.startswith(_BOMS):
        return etree.HTMLParser(huge_tree=True)  # libxml2 reads the mark
    if declared := _DECLARED_CHARSET.search(body, 0, _CHARSET_SCAN):
        try:
            return etree.HTMLParser(encoding=declared.group(1).decode("ascii"), huge_tree=True)
        except LookupError:  # a name libxml2 does not know
            pass
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return etree.HTMLParser(encoding="windows-1252", huge_tree=True)
    return etree.HTMLParser(encoding="utf-8", huge_tree=True)


def _inventory_url(root: HtmlElement, url: str) -> str:
    """The `objects.inv` of the Sphinx site the page at `url` belongs to, at the documentation
    root its markup names: `<html data-content_root>` (Sphinx 7.2 on), the `data-url_root` of
    `script#documentation_options` (before 7.2), else the folder holding the `_static/` of
    Sphinx's own scripts. '' for a page that does not look like Sphinx's (a generator meta tag
    or those scripts) or whose root is on another host."""
    generator = next((m for m in root.iter("meta") if m.get("name") == "generator"), None)
    sphinx = generator is not None and "sphinx" in (generator.get("content") or "").lower()
    declared: str | None = root.get("data-content_root")  # the root, relative to the page
    static_root = ""  # the root as the folder holding Sphinx's _static/ scripts
    for script in root.iter("script"):
        if declared is None:
            for attribute in ("data-content_root", "data-url_root"):
                if script.get(attribute) is not None:
                    declared = script.get(attribute)
                    break
        src = script.get("src")
        target = resolve_link(url, src) if src else None
        if target is not None and urlsplit(target).path.endswith(_SPHINX_SCRIPTS):
            sphinx = True
            static_root = static_root or _folder(target, "/_static/")
    if not sphinx:
        return ""
    origin = urlsplit(url).netloc
    if declared is not None:
        declared = declared.strip()
        root_url = resolve_link(url, declared if declared not in ("", "#") else "./")
        if root_url is not None and urlsplit(root_url).netloc == origin:
            return _folder(root_url, "/") + "objects.inv"
    if static_root and urlsplit(static_root).netloc == origin:
        return static_root + "objects.inv"
    return ""


def _folder(url: str, marker: str) -> str:
    """`url` without query and fragment, cut after the last `marker`'s leading slash: the
    folder a file or a `_static/` folder is in."""
    parts = urlsplit(url)
    path = parts.path[: parts.path.rindex(marker) + 1] if marker in parts.path else "/"
    return parts._replace(path=path, query="", fragment="").geturl()


def _select(root: HtmlElement, selector: str) -> list[HtmlElement]:
    """The elements the CSS `selector` matches in the document of `root`, in document order."""
    return CSSSelector(selector, translator="html")(root)


def _is_inside(element: HtmlElement, ancestor: HtmlElement) -> bool:
    return any(parent is ancestor for parent in element.iterancestors())


def _find_main(root: HtmlElement, rules: ExtractionRules | None) -> tuple[HtmlElement | None, int]:
    """The element holding the page's content and the index of the rule that found it: the
    source's own selector (-1), else the first element with text of the most specific rule in
    `_MAIN_RULES`; (None, len(_MAIN_RULES)) when there is none. One query finds the candidates
    of every rule."""
    if rules and rules.content:
        found = next(iter(_select(root, rules.content)), None)
        if found is not None and _has_text(found):
            return found, -1
    candidates: dict[int, list[HtmlElement]] = {}
    for element in _MAIN_CANDIDATES(root):
        rule = _main_rule(element)
        if rule < len(_MAIN_RULES):
            candidates.setdefault(rule, []).append(element)
    for rule in sorted(candidates):
        for element in candidates[rule]:
            if rule == _MAIN_INSIDE_ARTICLE and not _has_ancestor(element, ("article",)):
                continue
            if _has_text(element):
                return element, rule
    return None, len(_MAIN_RULES)


def _main_rule(element: HtmlElement) -> int:
    """The index of the most specific rule of `_MAIN_RULES` matching `element`, len(_MAIN_RULES)
    for none."""
    name = element.tag
    rule = _MAIN_BY_TAG.get(name, len(_MAIN_RULES))
    for c in _classes(element):
        i = _MAIN_BY_CLASS.get(c, rule)
        if i < rule and _MAIN_RULES[i][0] in (None, name):
            rule = i
    for i, attribute, value in _MAIN_BY_ATTR:
        if i < rule and element.get(attribute) == value:
            rule = i
    return rule


def _classes(element: HtmlElement) -> list[str]:
    return (element.get("class") or "").split()


def _remove_chrome(main: HtmlElement, in_body: bool) -> None:
    """Remove the source's chrome from `main`, keeping the anchors its permalinks carried; the
    walk that finds it tidies the white space of what stays (see `_find_chrome`)."""
    for element in _find_chrome(main, in_body):
        if _is_unwrapped(element):
            element.drop_tag()
            continue
        if element.tag == "a":
            _keep_anchor(element)
        element.drop_tree()  # its tail, the text after it, stays


def _find_chrome(main: HtmlElement, in_body: bool) -> list[HtmlElement]:
    """The chrome in `main`, in document order, without what is inside chrome that goes whole.
    On the way, tidy white space as the cleaned HTML keeps it: a run of it alone between two tags
    becomes one newline, or one space if it has none, outside preformatted text; in a class list
    (and a table cell's headers), one space between the names."""
    chrome: list[HtmlElement] = []
    preformatted = main.tag in _PREFORMATTED or _has_ancestor(main, _PREFORMATTED)
    if not preformatted and (text := main.text) and text.isspace() and (run := _blank(text)):
        main.text = run
    # a stack of children still to visit (an explicit one: lxml nests up to 2048 deep)
    stack = [(iter(main), preformatted)]
    while stack:
        children, preformatted = stack[-1]
        for child in children:
            if (
                not preformatted
                and (tail := child.tail)
                and tail.isspace()
                and (run := _blank(tail))
            ):
                child.tail = run
            name = child.tag
            if not isinstance(name, str):  # a comment
                continue
            classes = child.get("class")
            if classes and (words := " ".join(classes.split())) != classes:
                child.set("class", words)
                classes = words
            if name in _CELLS and (headers := child.get("headers")):
                child.set("headers", " ".join(headers.split()))
            if _is_chrome(child, name, classes or "", in_body):
                chrome.append(child)
                if not _is_unwrapped(child):
                    continue
            inside = preformatted or name in _PREFORMATTED
            if not inside and (text := child.text) and text.isspace() and (run := _blank(text)):
                child.text = run
            if len(child):  # most elements hold text alone
                stack.append((iter(child), inside))
                break
        else:
            stack.pop()
    return chrome


def _blank(text: str) -> str:
    """What `text`, white space alone between two tags, becomes: one newline, or one space if it
    has none; '' to keep it as it is (it is that already, or holds a no-break space)."""
    if text in ("\n", " ") or text.strip(_ASCII_SPACES):
        return ""
    return "\n" if "\n" in text else " "


def _is_unwrapped(chrome: HtmlElement) -> bool:
    """Whether the chrome element `chrome` goes without what it holds: an `embed` (void, but
    lxml nests what follows inside it), a heading's link back to a local table of contents."""
    return chrome.tag == "embed" or (
        chrome.tag == "a" and not _UNWRAP_LINK_CLASSES.isdisjoint(_classes(chrome))
    )


def _is_chrome(element: HtmlElement, name: str, classes: str, in_body: bool) -> bool:
    """Whether `element`, a `name` tag of `classes`, is the source's chrome: navigation,
    sidebars, search, edit links, banners."""
    if name == "header":  # a site header is chrome; an article's header holds its title
        h1 = next(element.iterdescendants("h1"), None)
        return in_body or h1 is None or _is_site_heading(h1)
    if name in _CHROME_TAGS:
        return True
    attributes = len(element.attrib)
    if classes:
        names = classes.split()
        if not _CHROME_CLASSES.isdisjoint(names):
            return True
        if name == "a" and not _CHROME_LINK_CLASSES.isdisjoint(names):
            return True
        if "ookie" in classes and _CHROME_CLASS_PART.search(classes):  # the cheap test first
            return True
        attributes -= 1
    if not attributes:  # most elements: no attributes but their class
        return False
    role = element.get("role")
    if element.get("hidden") is not None and role != "tabpanel":  # a hidden tab is content
        return True
    if role in _CHROME_ROLES or element.get("id") in _CHROME_IDS:
        return True
    label = element.get("aria-label")
    if label and "breadcrumb" in label.lower():
        return True
    if name == "a":
        href = element.get("href") or ""
        if (
            href in _CHROME_LINK_FRAGMENTS
            or href.startswith("#__")
            or any(target in href for target in _CHROME_LINK_TARGETS)
        ):
            text = _text(element).lower()
            return ("/edit/" in href and "edit" in text) or text.startswith(_CHROME_LINK_TEXTS)
    return False


def _keep_anchor(link: HtmlElement) -> None:
    """A permalink about to go may carry its heading's anchor (GitHub's `a.anchor[id]`): give the
    id to the heading it sits in, or to the heading just after it, if that has none."""
    anchor = link.get("id") or link.get("name")
    if not anchor:
        return
    heading = link.getparent()
    if heading is None or heading.tag not in _HEADINGS:
        heading = _next_element(link)
    if heading is not None and heading.tag in _HEADINGS and not heading.get("id"):
        heading.set("id", anchor)


def _next_element(element: HtmlElement) -> HtmlElement | None:
    """The element after `element` among its siblings, comments left out."""
    return next(element.itersiblings(etree.Element), None)


def _following(element: HtmlElement, tag: str) -> HtmlElement | None:
    """The first `tag` element after `element` among its siblings."""
    return next(element.itersiblings(tag), None)


def _previous_element(element: HtmlElement) -> HtmlElement | None:
    """The element before `element` among its siblings, comments left out."""
    return next(element.itersiblings(etree.Element, preceding=True), None)


def _is_site_heading(heading: HtmlElement) -> bool:
    """A heading that is all one link to another page, like `<h1><a href="/">Site</a></h1>`:
    the site's name, not the page's title."""
    links = [a for a in heading.iterdescendants("a") if a.get("href") is not None]
    if len(links) != 1 or links[0].get("href").startswith("#"):
        return False
    return _text(links[0]) == _text(heading) != ""


def _prose(element: HtmlElement) -> tuple[int, int]:
    """(characters of text, characters of link text) in `element`, white space left out."""
    text = _visible_length(element)
    linked = sum(
        _visible_length(a) for a in element.iterdescendants("a") if a.get("href") is not None
    )
    return text, linked


def _visible_length(element: HtmlElement) -> int:
    """How many characters of text `element` holds, white space left out."""
    return sum(map(len, "".join(_strings(element)).split()))


def _weight(element: HtmlElement) -> int:
    """How much of the page's text `element` holds: its prose, and a little of its link text (so
    that a page that is a list of links still has a heaviest block)."""
    text, linked = _prose(element)
    return text - linked + linked // 4


def _is_link_block(element: HtmlElement) -> bool:
    text, linked = _prose(element)
    return text > 0 and linked > _LINK_DENSITY * text


def _densest_block(top: HtmlElement, prune: bool) -> HtmlElement:
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
        best: HtmlElement | None = None
        best_weight = 0
        for child in node.iterchildren(*_CONTAINERS):
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
        links = [c for c in node.iterchildren(etree.Element) if _is_link_block(c)]
        if sum(_prose(c)[0] for c in links) < _prose(node)[0] / 2:
            for child in links:
                child.drop_tree()
    parent = node.getparent()
    if node is not top and node.get("id") and parent is not None:
        # keep the block's own element, and so its id: the anchor of its first heading
        for sibling in [s for s in parent if s is not node]:
            parent.remove(sibling)  # with its tail
        parent.text = node.tail = None
        return parent
    return node


def _headings_before(block: HtmlElement) -> list[HtmlElement]:
    """The headings in the siblings before `block`: a title above the text it would leave out."""
    headings = []
    for sibling in block.itersiblings(etree.Element, preceding=True):
        if sibling.tag in _HEADINGS:
            headings.append(sibling)
        else:
            headings += sibling.iterdescendants(*_HEADINGS)
    return headings


def _is_content_heading(heading: HtmlElement, node: HtmlElement) -> bool:
    """A heading of the page's text, not of a menu: not a link to elsewhere, and not in a child of
    `node` that is mostly links."""
    if _is_site_heading(heading):
        return False
    block = heading
    while (parent := block.getparent()) is not None and parent is not node:
        block = parent
    return not _is_link_block(block)


def _strings(element: HtmlElement) -> Iterator[str]:
    """The text of `element` a reader sees, piece by piece: not that of comments, nor of the
    scripts, styles, templates and ruby annotations (`_NOT_PROSE`) in or around it."""
    if _has_ancestor(element, _NOT_PROSE):
        return iter(())
    if next(element.iterdescendants(*_NOT_PROSE), None) is None:
        return element.itertext()  # all of it (lxml's own walk leaves comments out)
    return iter(_PROSE_TEXT(element))


def _has_ancestor(element: HtmlElement, tags: tuple[str, ...]) -> bool:
    return next(element.iterancestors(*tags), None) is not None


def _has_text(element: HtmlElement) -> bool:
    return any(s.strip() for s in _strings(element))


def _text(element: HtmlElement) -> str:
    return " ".join("".join(_strings(element)).split())


def _page_title(root: HtmlElement, main: HtmlElement) -> str:
    """The content's first `h1` (a site name in it left out), else `<title>` without the site."""
    h1 = next(main.iterdescendants("h1"), None)
    if h1 is not None and _is_site_heading(h1):  # look further only past a site name
        h1 = next((h for h in main.iterdescendants("h1") if not _is_site_heading(h)), None)
    if h1 is not None and (text := _text(h1)):
        return text
    title = next(root.iter("title"), None)
    if title is not None and title.text:
        text = " ".join(title.text.split())
        return _TITLE_SUFFIX.sub("", text) or text
    return ""


def _summary(main: HtmlElement) -> str:
    """The first real paragraph: not a short line, not mostly links (like "Source code: x.py")."""
    for p in main.iterdescendants("p"):
        text = _text(p)
        linked = sum(len(_text(a)) for a in p.iterdescendants("a"))
        if len(text) > 40 and linked < len(text) / 2:
            if len(text) > _SUMMARY_CHARS:
                text = text[:_SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
            return text
    return ""


def _is_http(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _absolutize(main: HtmlElement, url: str) -> tuple[tuple[str, ...], list[str]]:
    """Make every link and image absolute; return the distinct pages linked to and the images'
    URLs."""
    links: dict[str, None] = {}
    sources = []
    # what the part of an href before its fragment resolves to: pages link to the same pages many
    # times, at different fragments
    pages: dict[str, str | None] = {}
    for element in list(main.iterdescendants("a", "img")):
        if element.tag == "a":
            href = element.get("href")
            if href is None:
                continue
            if href.startswith("#"):
                element.set("href", f"{url}{href}")
                continue
            page, _, fragment = href.strip().partition("#")
            if page not in pages:
                pages[page] = resolve_link(url, page)
            target = pages[page]
            if target is None:
                if not href.lower().startswith("mailto:"):
                    del element.attrib["href"]
                continue
            fragment = fragment.translate(_URL_IGNORED)
            element.set("href", f"{target}#{fragment}" if fragment else target)
            if target != url:
                links[target] = None
        else:
            src = element.get("src")
            if src is None:
                continue
            target = resolve_link(url, src)
            if target is None:
                element.drop_tree()
            else:
                element.set("src", target)
                sources.append(target)
    return tuple(links), sources


def _inner_html(root: HtmlElement) -> str:
    """The markup of `root`'s children, for nh3 to sanitise. Written by lxml's XML serialiser:
    its HTML one %-escapes the URLs of links and images; an empty element other than a void
    one gets an empty text, so that it is written `<p></p>`, not `<p/>`."""
    for element in _EMPTY_ELEMENTS(root):
        if element.tag not in _VOID:
            element.text = ""
    return escape(root.text or "", quote=False) + "".join(
        etree.tostring(child, encoding="unicode") for child in root
    )


def _anchor_of(heading: HtmlElement) -> str:
    """The id a heading can be linked by: its own; its first child's, an `a[id]` or `a[name]`
    (Docusaurus, MkDocs, hand-written pages); its enclosing section's (Sphinx); or that of an
    empty `a`/`span` just before it."""
    if heading.get("id"):
        return heading.get("id")
    if not (heading.text or "").strip():
        for child in heading:
            if isinstance(child.tag, str):
                if child.tag == "a" and (child.get("id") or child.get("name")):
                    return child.get("id") or child.get("name")
                break
            if (child.text or "").strip() or (child.tail or "").strip():  # a comment, and after it
                break
    parent = heading.getparent()
    if (
        parent is not None
        and parent.tag in _SECTION_TAGS
        and parent.get("id")
        and next(parent.iterdescendants(*_HEADINGS)) is heading
    ):
        return parent.get("id")
    previous = _previous_element(heading)
    if previous is not None and previous.tag in _ANCHOR_TAGS and not _has_text(previous):
        return previous.get("id") or previous.get("name") or ""
    return ""


def _symbol_kind(dl: HtmlElement | None) -> str:
    classes = _classes(dl) if dl is not None else []
    if "glossary" in classes:
        return "term"
    kinds = [c for c in classes if c not in _DOMAINS and c != "simple"]
    return kinds[0] if kinds else "entry"


def _symbol_name(dt: HtmlElement, dl: HtmlElement | None, names: dict[HtmlElement, str]) -> str:
    """An API entry's name: its id for Python and most domains, which is the full dotted name;
    without the `c.` for C; for C++, whose ids are mangled, the signature's name qualified by the
    entry it is nested in (`Burrow::size`). `names` holds the names given so far, by `dt`."""
    ident = dt.get("id")
    classes = _classes(dl) if dl is not None else []
    if "c" in classes and ident.startswith("c."):
        return ident[2:]
    if "cpp" not in classes:
        return ident
    name = "".join(
        _text(part)
        for part in dt.iterdescendants(etree.Element)
        if not _SIGNATURE_NAME_CLASSES.isdisjoint(_classes(part))
    )
    if not name:
        return ident
    dd = dl.getparent() if dl is not None else None
    outer = (
        next(dd.itersiblings("dt", preceding=True), None)
        if dd is not None and dd.tag == "dd"
        else None
    )
    if outer is not None and outer in names and not name.startswith(names[outer]):
        return f"{names[outer]}::{name}"
    return name


def _doc_object_kind(heading: HtmlElement) -> str:
    """The kind of a mkdocstrings entry, from the classes of its `div.doc-object`; a function in a
    class is a method."""
    obj = heading.getparent()
    classes = _classes(obj) if obj is not None else []
    kind = next((_DOC_OBJECT_KINDS[c] for c in classes if c in _DOC_OBJECT_KINDS), "entry")
    symbol = next((c for c in heading.iterdescendants("code") if "doc-symbol" in _classes(c)), None)
    if symbol is not None:  # the label mkdocstrings may show: doc-symbol-method ...
        for c in _classes(symbol):
            if c.startswith("doc-symbol-") and c[11:] in _DOC_OBJECT_KINDS.values():
                return c[11:]
    if kind == "function" and obj is not None:
        outer = next((d for d in obj.iterancestors("div") if "doc-object" in _classes(d)), None)
        if outer is not None and "doc-class" in _classes(outer):
            return "method"
    return kind


def _is_nested_entry(element: HtmlElement) -> bool:
    """An API entry inside another's description (Sphinx `dl` with `dt[id]`, mkdocstrings
    `div.doc-object`), or a mkdocstrings source listing: not part of the outer entry's text."""
    if element.tag == "dl":
        return any(dt.get("id") is not None for dt in element.iterchildren("dt"))
    classes = element.get("class")
    return bool(classes) and not _NESTED_ENTRY_CLASSES.isdisjoint(classes.split())


def _outline(main: HtmlElement) -> tuple[tuple[Section, ...], tuple[Symbol, ...]]:
    """Split the content at headings, and collect the API entries: Sphinx's `dt[id]` and
    mkdocstrings' `.doc-heading[id]`, each with its description's own text, without the entries
    nested in it. One walk of the tree gathers all the texts."""
    sections: list[Section] = []
    entries: list[tuple[str, str, str, list[str]]] = []  # name, kind, anchor, text parts
    names: dict[HtmlElement, str] = {}  # the names of Sphinx entries, by their dt
    heading: tuple[str, str, int] = ("", "", 1)
    texts: list[str] = []
    # the descriptions met so far (a dt's dd, a doc-heading's div.doc-contents): the parts of
    # their own text, gathered as the walk goes through them
    descriptions: dict[HtmlElement, list[str]] = {}

    def close() -> None:
        text = " ".join("".join(texts).split())
        if heading[1] or text:
            sections.append(
                Section(anchor=heading[0], title=heading[1], level=heading[2], text=text)
            )

    def add_entry(name: str, kind: str, anchor: str, description: HtmlElement | None) -> None:
        parts = [] if description is None else descriptions.setdefault(description, [])
        entries.append((name, kind, anchor, parts))

    def add_text(text: str, depth: int, in_entry: bool, owners: tuple[list[str], ...]) -> None:
        """Add a text of the element open at `depth` in the walk to the section's text, unless
        it is in the current heading (its title) or the entry's (`in_entry`), and to its
        `owners`."""
        if not (in_entry or (heading_depth is not None and heading_depth <= depth)):
            texts.append(text)
        for parts in owners:
            parts.append(text)

    # A frame for each element open in the walk (an explicit stack: lxml nests up to 2048 deep):
    # the element, its children still to visit, and where its text goes. The text of a dt's
    # description is the entry's, not the section's, but for the signatures of the entries nested
    # in it, their dt (`in_entry`); `owners`: the descriptions whose own text it is. The current
    # heading's text is its title, not part of its section's: `heading_depth` is where it is open
    # in the stack (a heading left open holds the rest of the page, and the headings in it).
    Frame = tuple[HtmlElement, Iterator[HtmlElement], bool, tuple[list[str], ...]]
    stack: list[Frame] = [(main, iter(main), False, ())]
    heading_depth: int | None = None
    if main.text:
        texts.append(main.text)
    while stack:
        element, children, in_entry, owners = stack[-1]
        for node in children:
            name = node.tag
            if not isinstance(name, str):  # a comment: only the text after it counts
                if node.tail:
                    add_text(node.tail, len(stack) - 1, in_entry, owners)
                continue
            node_in_entry, node_owners = in_entry, owners
            if owners:
                if _is_nested_entry(node):
                    node_owners = ()
                elif name in _BLOCKS:
                    for parts in owners:
                        parts.append(" ")
            if name in _HEADINGS:
                close()
                heading = (_anchor_of(node), _text(node), int(name[1]))
                texts = []
                heading_depth = len(stack)
                if heading[0] and "doc-heading" in _classes(node):
                    add_entry(heading[0], _doc_object_kind(node), heading[0], _contents(node))
            elif name in _BLOCKS:
                texts.append(" ")
            if name == "dt":
                node_in_entry = False
                if anchor := node.get("id"):
                    dl = node.getparent()
                    names[node] = _symbol_name(node, dl, names)
                    add_entry(names[node], _symbol_kind(dl), anchor, _following(node, "dd"))
            if node in descriptions:
                node_owners = (*node_owners, descriptions[node])
                node_in_entry = node_in_entry or name == "dd"
            if node.text:
                add_text(node.text, len(stack), node_in_entry, node_owners)
            if len(node):
                stack.append((node, iter(node), node_in_entry, node_owners))
                break
            # most elements hold text alone: they end here, and the text after them follows
            if heading_depth == len(stack):
                heading_depth = None
            if node.tail:
                add_text(node.tail, len(stack) - 1, in_entry, owners)
        else:
            stack.pop()
            if heading_depth == len(stack):  # the current heading ends
                heading_depth = None
            if stack and element.tail:
                _, _, in_entry, owners = stack[-1]
                add_text(element.tail, len(stack) - 1, in_entry, owners)
    close()
    symbols = tuple(
        Symbol(name=name, kind=kind, anchor=anchor, text=" ".join("".join(parts).split()))
        for name, kind, anchor, parts in entries
    )
    return tuple(sections), symbols


def _contents(heading: HtmlElement) -> HtmlElement | None:
    """The description of a mkdocstrings entry: the `div.doc-contents` after its heading."""
    return next((d for d in heading.itersiblings("div") if "doc-contents" in _classes(d)), None)
