"""Sphinx inventories (`objects.inv`): every API object of a Sphinx site by its full name, role
and URL#anchor, read to give search the site's own list of symbols. Pure functions.

The format (version 2): four header lines (`# Sphinx inventory version 2`, `# Project: X`,
`# Version: Y`, `# The remainder of this file is compressed using zlib.`), then a zlib stream of
lines `name domain:role priority uri dispname`. A uri ending in `$` stands for the uri followed by
the name; a dispname `-` is the name itself. Names may hold spaces (glossary terms).

Which entries are symbols: the objects of every domain (`py:*`, `c:*`, `cpp:*`, `js:*`, `rst:*`,
and those of extensions: `http:get` ...) and the std objects (`std:cmdoption`, `std:envvar`,
`std:term`, `std:opcode`, `std:pdbcommand`, the object types projects add with
`add_object_type`). Left out: `std:label` (section labels: the sections are indexed already),
`std:doc` (whole pages), `std:token` (grammar productions), C and C++ parameters (they share the
anchor of their function), entries without an anchor, and entries of priority -1, which Sphinx's
own search hides — except glossary terms, which Sphinx always writes with -1 yet are what a
reader looks up."""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import urljoin

from mirror.clean.page import Page, Symbol
from mirror.errors import InventoryError
from mirror.urls import normalize_url, split_fragment

MAX_INVENTORY_BYTES = 64 * 1024 * 1024  # decompressed; Python's own is under 2 MB
_HEADER_LINES = 4
_VERSION_2 = "# Sphinx inventory version 2"
# Sphinx's own reading of a line (sphinx.util.inventory): the name may hold spaces.
_LINE = re.compile(r"(.+?)\s+(\S+)\s+(-?\d+)\s+?(\S*)\s+(.*)")
_SKIPPED_ROLES = frozenset(
    """std:label std:doc std:token c:functionParam cpp:functionParam cpp:templateParam""".split()
)
_KEPT_HIDDEN_ROLES = frozenset({"std:term"})  # priority -1, but kept
# A role's kind where it differs from the role's name: the same word as the class of the
# entry's `<dl>`, which is what `clean` gives the symbols it finds.
_KINDS = {"cmdoption": "option"}


@dataclass(frozen=True, slots=True)
class InventoryEntry:
    """One API object of a Sphinx inventory."""

    name: str  # full name, e.g. subprocess.Popen.communicate
    role: str  # domain:role, e.g. py:method
    page_url: str  # normalised URL of the page documenting it, no fragment
    anchor: str  # id of the entry on that page


def parse_inventory(data: bytes, base_url: str) -> tuple[InventoryEntry, ...]:
    """The API entries of the inventory `data`, their uris resolved against `base_url` (the
    inventory's own URL, or the documentation root ending in '/'); raises InventoryError."""
    lines = data.split(b"\n", _HEADER_LINES)
    if not lines or not lines[0].startswith(b"# Sphinx inventory version"):
        raise InventoryError("not a Sphinx inventory (no '# Sphinx inventory version' line)")
    first = lines[0].decode("ascii", "replace").strip()
    if first != _VERSION_2:
        version = first.rsplit(" ", 1)[-1]
        raise InventoryError(f"Sphinx inventory version {version} is not supported (only 2)")
    if len(lines) <= _HEADER_LINES or b"zlib" not in lines[3]:
        raise InventoryError("Sphinx inventory header is incomplete (no zlib line)")
    text = _decompress(lines[_HEADER_LINES]).decode("utf-8", "replace")
    entries = []
    pages: dict[str, str | None] = {}  # uri without fragment -> normalised page URL
    for line in text.splitlines():
        fields = _fields(line)
        if fields is None:
            continue
        name, role, priority, uri = fields
        if role in _SKIPPED_ROLES or ":" not in role:
            continue
        if priority == "-1" and role not in _KEPT_HIDDEN_ROLES:
            continue
        if uri.endswith("$"):
            uri = uri[:-1] + name
        path, anchor = split_fragment(uri)
        if path not in pages:
            pages[path] = _page_url(base_url, path)
        page = pages[path]
        if page is not None and anchor:
            entries.append(InventoryEntry(name=name, role=role, page_url=page, anchor=anchor))
    return tuple(entries)


def _fields(line: str) -> tuple[str, str, str, str] | None:
    """(name, role, priority, uri) of one inventory line, None for a line that is not an entry.
    Most lines are single-spaced with a name without spaces: split at once; the others (names
    with spaces) go through Sphinx's own pattern, which reads those lines the same way."""
    parts = line.split(" ", 4)
    if len(parts) == 5 and parts[0] and parts[1]:
        priority = parts[2]
        if priority.isdigit() or (priority[:1] == "-" and priority[1:].isdigit()):
            return parts[0], parts[1], priority, parts[3]
    match = _LINE.match(line.rstrip())
    if match is None:
        return None
    name, role, priority, uri, _dispname = match.groups()
    return name, role, priority, uri


def _page_url(base_url: str, path: str) -> str | None:
    """The normalised URL of the page at `path` relative to `base_url`, None if not http(s)."""
    try:
        return normalize_url(urljoin(base_url, path))
    except ValueError:
        return None


def _decompress(data: bytes) -> bytes:
    """The zlib stream `data`, whole and within MAX_INVENTORY_BYTES; raises InventoryError."""
    stream = zlib.decompressobj()
    try:
        out = stream.decompress(data, MAX_INVENTORY_BYTES)
    except zlib.error as exc:
        raise InventoryError(f"Sphinx inventory data is not zlib: {exc}") from None
    if stream.unconsumed_tail:
        raise InventoryError(f"Sphinx inventory is over {MAX_INVENTORY_BYTES} bytes")
    if not stream.eof:
        raise InventoryError("Sphinx inventory data is truncated")
    return out


def symbol_kind(role: str) -> str:
    """The kind of symbol an inventory role stands for: py:method -> method, std:term -> term."""
    kind = role.split(":", 1)[1]
    return _KINDS.get(kind, kind)


def entries_by_page(entries: Iterable[InventoryEntry]) -> dict[str, tuple[InventoryEntry, ...]]:
    """The entries grouped by the page they point to, each group in inventory order."""
    grouped: dict[str, list[InventoryEntry]] = {}
    for entry in entries:
        grouped.setdefault(entry.page_url, []).append(entry)
    return {url: tuple(group) for url, group in grouped.items()}


def symbols_with_inventory(page: Page, entries: Iterable[InventoryEntry]) -> Page:
    """`page` with its symbols named and kinded by the inventory entries that point to it."""
    mine: dict[str, InventoryEntry] = {}  # by anchor: the first entry for it wins
    for entry in entries:
        if entry.page_url == page.url:
            mine.setdefault(entry.anchor, entry)
    if not mine:
        return page
    symbols: dict[str, Symbol] = {}  # by anchor, in page order, then inventory order
    for symbol in page.symbols:
        if symbol.anchor in symbols:
            continue
        known = mine.get(symbol.anchor)
        if known is not None:
            symbol = Symbol(known.name, symbol_kind(known.role), symbol.anchor, symbol.text)
        symbols[symbol.anchor] = symbol
    for anchor, entry in mine.items():
        if anchor not in symbols:  # an object whose entry clean did not find: Sphinx knows
            symbols[anchor] = Symbol(entry.name, symbol_kind(entry.role), anchor, "")
    return replace(page, symbols=tuple(symbols.values()))


def index_hash(content_hash: str, entries: Iterable[InventoryEntry]) -> str:
    """What the search index holds of a page: its content and its inventory entries; the content
    hash alone for a page without entries (so pages indexed before inventories stay indexed)."""
    lines = sorted({f"{e.anchor}\t{e.name}\t{e.role}" for e in entries})
    if not lines:
        return content_hash
    digest = hashlib.sha256(content_hash.encode("utf-8"))
    for line in lines:
        digest.update(b"\0" + line.encode("utf-8"))
    return digest.hexdigest()
