"""A page's outline: its sections with their anchors, and its API entries (Sphinx's `dl`,
mkdocstrings' headings), each with its own description. Pure."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree
from lxml.html import HtmlElement

from mirror.clean.page import Section, Symbol
from mirror.clean.tree import HEADINGS, classes_of, has_text, text_of

_SECTION_TAGS = ("section", "div")


_ANCHOR_TAGS = ("a", "span")  # an empty one with an id just before a heading is its anchor


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


def _following(element: HtmlElement, tag: str) -> HtmlElement | None:
    """The first `tag` element after `element` among its siblings."""
    return next(element.itersiblings(tag), None)


def _previous_element(element: HtmlElement) -> HtmlElement | None:
    """The element before `element` among its siblings, comments left out."""
    return next(element.itersiblings(etree.Element, preceding=True), None)


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
        and next(parent.iterdescendants(*HEADINGS)) is heading
    ):
        return parent.get("id")
    previous = _previous_element(heading)
    if previous is not None and previous.tag in _ANCHOR_TAGS and not has_text(previous):
        return previous.get("id") or previous.get("name") or ""
    return ""


def _symbol_kind(dl: HtmlElement | None) -> str:
    classes = classes_of(dl) if dl is not None else []
    if "glossary" in classes:
        return "term"
    kinds = [c for c in classes if c not in _DOMAINS and c != "simple"]
    return kinds[0] if kinds else "entry"


def _symbol_name(dt: HtmlElement, dl: HtmlElement | None, names: dict[HtmlElement, str]) -> str:
    """An API entry's name: its id for Python and most domains, which is the full dotted name;
    without the `c.` for C; for C++, whose ids are mangled, the signature's name qualified by the
    entry it is nested in (`Burrow::size`). `names` holds the names given so far, by `dt`."""
    ident = dt.get("id")
    classes = classes_of(dl) if dl is not None else []
    if "c" in classes and ident.startswith("c."):
        return ident[2:]
    if "cpp" not in classes:
        return ident
    name = "".join(
        text_of(part)
        for part in dt.iterdescendants(etree.Element)
        if not _SIGNATURE_NAME_CLASSES.isdisjoint(classes_of(part))
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
    classes = classes_of(obj) if obj is not None else []
    kind = next((_DOC_OBJECT_KINDS[c] for c in classes if c in _DOC_OBJECT_KINDS), "entry")
    codes = heading.iterdescendants("code")
    symbol = next((c for c in codes if "doc-symbol" in classes_of(c)), None)
    if symbol is not None:  # the label mkdocstrings may show: doc-symbol-method ...
        for c in classes_of(symbol):
            if c.startswith("doc-symbol-") and c[11:] in _DOC_OBJECT_KINDS.values():
                return c[11:]
    if kind == "function" and obj is not None:
        outer = next((d for d in obj.iterancestors("div") if "doc-object" in classes_of(d)), None)
        if outer is not None and "doc-class" in classes_of(outer):
            return "method"
    return kind


def _is_nested_entry(element: HtmlElement) -> bool:
    """An API entry inside another's description (Sphinx `dl` with `dt[id]`, mkdocstrings
    `div.doc-object`), or a mkdocstrings source listing: not part of the outer entry's text."""
    if element.tag == "dl":
        return any(dt.get("id") is not None for dt in element.iterchildren("dt"))
    classes = element.get("class")
    return bool(classes) and not _NESTED_ENTRY_CLASSES.isdisjoint(classes.split())


def outline_of(main: HtmlElement) -> tuple[tuple[Section, ...], tuple[Symbol, ...]]:
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
            if name in HEADINGS:
                close()
                heading = (_anchor_of(node), text_of(node), int(name[1]))
                texts = []
                heading_depth = len(stack)
                if heading[0] and "doc-heading" in classes_of(node):
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
    return next((d for d in heading.itersiblings("div") if "doc-contents" in classes_of(d)), None)


# Elements whose text is separate from its neighbours'; inline elements (code spans, syntax
# highlighting) join without a space so `a.b(c)` stays as written.
_BLOCKS = frozenset(
    """address article aside blockquote br dd details div dl dt figcaption figure h1 h2 h3 h4 h5
    h6 hr li ol p pre section summary table td th tr ul""".split()
)
