"""HTML bytes into an lxml tree, read in the right encoding, and the small readings of that tree
the cleaning modules share (classes, texts, prose)."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


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


def parse_html(body: bytes) -> HtmlElement:
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


def classes_of(element: HtmlElement) -> list[str]:
    return (element.get("class") or "").split()


def strings_of(element: HtmlElement) -> Iterator[str]:
    """The text of `element` a reader sees, piece by piece: not that of comments, nor of the
    scripts, styles, templates and ruby annotations (`_NOT_PROSE`) in or around it."""
    if has_ancestor(element, _NOT_PROSE):
        return iter(())
    if next(element.iterdescendants(*_NOT_PROSE), None) is None:
        return element.itertext()  # all of it (lxml's own walk leaves comments out)
    return iter(_PROSE_TEXT(element))


def has_ancestor(element: HtmlElement, tags: tuple[str, ...]) -> bool:
    return next(element.iterancestors(*tags), None) is not None


def has_text(element: HtmlElement) -> bool:
    return any(s.strip() for s in strings_of(element))


def text_of(element: HtmlElement) -> str:
    return " ".join("".join(strings_of(element)).split())


# Elements whose text is not the page's prose: `strings_of` leaves it out (and comments).
_NOT_PROSE = ("script", "style", "template", "rt", "rp")


_PROSE_TEXT = etree.XPath(
    f"descendant::text()[not({' or '.join(f'ancestor::{tag}' for tag in _NOT_PROSE)})]",
    smart_strings=False,
)


def is_site_heading(heading: HtmlElement) -> bool:
    """A heading that is all one link to another page, like `<h1><a href="/">Site</a></h1>`:
    the site's name, not the page's title."""
    links = [a for a in heading.iterdescendants("a") if a.get("href") is not None]
    if len(links) != 1 or links[0].get("href").startswith("#"):
        return False
    return text_of(links[0]) == text_of(heading) != ""
