"""A site's chrome inside the main content (navigation, sidebars, local tables of contents,
permalinks, edit links, banners, prev/next footers), found in one walk of the tree and removed.
Pure."""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

from mirror.clean.tree import (
    HEADINGS,
    classes_of,
    has_ancestor,
    is_site_heading,
    text_of,
)

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


def remove_chrome(main: HtmlElement, in_body: bool) -> None:
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
    preformatted = main.tag in _PREFORMATTED or has_ancestor(main, _PREFORMATTED)
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
        chrome.tag == "a" and not _UNWRAP_LINK_CLASSES.isdisjoint(classes_of(chrome))
    )


def _is_chrome(element: HtmlElement, name: str, classes: str, in_body: bool) -> bool:
    """Whether `element`, a `name` tag of `classes`, is the source's chrome: navigation,
    sidebars, search, edit links, banners."""
    if name == "header":  # a site header is chrome; an article's header holds its title
        h1 = next(element.iterdescendants("h1"), None)
        return in_body or h1 is None or is_site_heading(h1)
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
            text = text_of(element).lower()
            return ("/edit/" in href and "edit" in text) or text.startswith(_CHROME_LINK_TEXTS)
    return False


def _keep_anchor(link: HtmlElement) -> None:
    """A permalink about to go may carry its heading's anchor (GitHub's `a.anchor[id]`): give the
    id to the heading it sits in, or to the heading just after it, if that has none."""
    anchor = link.get("id") or link.get("name")
    if not anchor:
        return
    heading = link.getparent()
    if heading is None or heading.tag not in HEADINGS:
        heading = _next_element(link)
    if heading is not None and heading.tag in HEADINGS and not heading.get("id"):
        heading.set("id", anchor)


# Blank text between tags is kept as one newline, or one space if it has none, except in these.
_PREFORMATTED = ("pre", "textarea")


_CELLS = ("td", "th")  # their headers attribute is a list of names, like a class


_ASCII_SPACES = " \t\n\r\f"


def _next_element(element: HtmlElement) -> HtmlElement | None:
    """The element after `element` among its siblings, comments left out."""
    return next(element.itersiblings(etree.Element), None)
