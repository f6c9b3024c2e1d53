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

import json
import re
from html import escape
from urllib.parse import urlsplit

from lxml import etree
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement

from mirror.clean.chrome import remove_chrome
from mirror.clean.outline import outline_of
from mirror.clean.page import ExtractionRules, Page, Redirect, page_to_json
from mirror.clean.redirects import meta_refresh_target
from mirror.clean.sanitise import sanitise
from mirror.clean.tree import (
    HEADINGS,
    classes_of,
    has_ancestor,
    has_text,
    is_site_heading,
    parse_html,
    strings_of,
    text_of,
)
from mirror.urls import name_from_url, resolve_link

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


# Scripts only Sphinx pages load, from `_static/` at the documentation root.
_SPHINX_SCRIPTS = tuple(
    f"/_static/{name}.js" for name in ("documentation_options", "doctools", "searchtools")
)


# The text-density heuristic, for pages without any known content element: a block holding this
# share of its parent's prose (text outside links, see `_weight`) is the content, unless a heading
# of the text comes before it; a block whose text is more than this share link text is navigation.
_DENSE_SHARE = 0.75


_SMALL_TEXT = 60  # ... or leaves out less prose than this (a "last updated" line)


_LINK_DENSITY = 0.5


_CONTAINERS = frozenset("div section article main td tr tbody table center font span".split())


_TITLE_SUFFIX = re.compile(r"\s+(?:[—–|·]|-)\s+(?:(?!\s+-\s)[^—–|·])*$")










# Elements written without an end tag: an empty element of another kind must be written `<p></p>`,
# since an HTML parser reads the XML serialiser's `<p/>` as an opening tag.
_VOID = frozenset(
    """area base basefont bgsound br col embed frame hr img input keygen link meta param source
    track wbr""".split()
)


_EMPTY_ELEMENTS = etree.XPath("descendant::*[not(node())]")


_SUMMARY_CHARS = 200


_URL_IGNORED = str.maketrans("", "", "\t\n\r")  # dropped anywhere in a URL, as by urljoin


def clean_page(body: bytes, url: str, rules: ExtractionRules | None = None) -> Page:
    """Extract the main content of the HTML page `body` fetched from `url`, applying the source's
    `rules` if it has any."""
    root = parse_html(body)
    inventory = _inventory_url(root, url)  # before anything in the tree is removed
    main, rule = _find_main(root, rules)
    found = main is not None
    if main is None:  # no content element: the body, where a titled header is the site's
        main = next(root.iter("body"), root)  # broken markup can put it anywhere
    remove_chrome(main, in_body=not found)
    if rule >= _MAIN_WEAK:
        main = _densest_block(main, prune=not found)
    if rules:
        for selector in rules.drop:
            for element in _select(root, selector):
                if _is_inside(element, main):  # not in chrome removed already
                    element.drop_tree()

    _write_generated_separators(main)
    title = _page_title(root, main) or name_from_url(url)
    links, images = _absolutize(main, url)
    assets = tuple(dict.fromkeys(src for src in images if _is_http(src)))
    sections, symbols = outline_of(main)
    html = sanitise(_inner_html(main))
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


def _write_generated_separators(main: HtmlElement) -> None:
    """Write into the text the separators a theme's CSS adds with `content`, which a page read
    without that CSS (the site, search, a reader's export) would lose: docutils' and numpydoc's
    classifier (`right : DataFrame`, shown as "rightDataFrame" without `.classifier:before`)."""
    for span in main.iter("span"):
        if "classifier" not in classes_of(span):
            continue
        previous = span.getprevious()
        if previous is not None and "classifier-delimiter" in classes_of(previous):
            continue  # older docutils write the separator themselves
        if previous is not None:
            previous.tail = (previous.tail or "").rstrip() + " : "
        else:
            parent = span.getparent()
            if parent is not None:
                parent.text = (parent.text or "").rstrip() + " : "


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
        if found is not None and has_text(found):
            return found, -1
    candidates: dict[int, list[HtmlElement]] = {}
    for element in _MAIN_CANDIDATES(root):
        rule = _main_rule(element)
        if rule < len(_MAIN_RULES):
            candidates.setdefault(rule, []).append(element)
    for rule in sorted(candidates):
        for element in candidates[rule]:
            if rule == _MAIN_INSIDE_ARTICLE and not has_ancestor(element, ("article",)):
                continue
            if has_text(element):
                return element, rule
    return None, len(_MAIN_RULES)


def _main_rule(element: HtmlElement) -> int:
    """The index of the most specific rule of `_MAIN_RULES` matching `element`, len(_MAIN_RULES)
    for none."""
    name = element.tag
    rule = _MAIN_BY_TAG.get(name, len(_MAIN_RULES))
    for c in classes_of(element):
        i = _MAIN_BY_CLASS.get(c, rule)
        if i < rule and _MAIN_RULES[i][0] in (None, name):
            rule = i
    for i, attribute, value in _MAIN_BY_ATTR:
        if i < rule and element.get(attribute) == value:
            rule = i
    return rule






def _prose(element: HtmlElement) -> tuple[int, int]:
    """(characters of text, characters of link text) in `element`, white space left out."""
    text = _visible_length(element)
    linked = sum(
        _visible_length(a) for a in element.iterdescendants("a") if a.get("href") is not None
    )
    return text, linked


def _visible_length(element: HtmlElement) -> int:
    """How many characters of text `element` holds, white space left out."""
    return sum(map(len, "".join(strings_of(element)).split()))


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
        if sibling.tag in HEADINGS:
            headings.append(sibling)
        else:
            headings += sibling.iterdescendants(*HEADINGS)
    return headings


def _is_content_heading(heading: HtmlElement, node: HtmlElement) -> bool:
    """A heading of the page's text, not of a menu: not a link to elsewhere, and not in a child of
    `node` that is mostly links."""
    if is_site_heading(heading):
        return False
    block = heading
    while (parent := block.getparent()) is not None and parent is not node:
        block = parent
    return not _is_link_block(block)


def _page_title(root: HtmlElement, main: HtmlElement) -> str:
    """The content's first `h1` (a site name in it left out), else `<title>` without the site,
    else the content's first heading; '' when there is none of these."""
    h1 = next(main.iterdescendants("h1"), None)
    if h1 is not None and is_site_heading(h1):  # look further only past a site name
        h1 = next((h for h in main.iterdescendants("h1") if not is_site_heading(h)), None)
    if h1 is not None and (text := text_of(h1)):
        return text
    title = next(root.iter("title"), None)
    if title is not None and title.text and title.text.strip():
        text = " ".join(title.text.split())
        return _TITLE_SUFFIX.sub("", text) or text
    heading = next((h for h in main.iter(*HEADINGS) if not is_site_heading(h)), None)
    return text_of(heading) if heading is not None else ""


def _summary(main: HtmlElement) -> str:
    """The first real paragraph: not a short line, not mostly links (like "Source code: x.py")."""
    for p in main.iterdescendants("p"):
        text = text_of(p)
        linked = sum(len(text_of(a)) for a in p.iterdescendants("a"))
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
