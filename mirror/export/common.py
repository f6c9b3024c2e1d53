"""What both exports read from a built mirror: its pages by source with their API entries and
sections (as Dash entry types), the files they show, and the manifests that say what was
exported last time."""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import re
import shutil
import struct
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mirror.build.assets import InventoryEntries
from mirror.build.fetching import stored_membership
from mirror.build.lock import data_lock
from mirror.build.store import PageState, Store
from mirror.clean.inventory import (
    InventoryEntry,
    symbol_kind,
)
from mirror.clean.inventory import symbols_with_inventory as with_inventory
from mirror.config import Config
from mirror.errors import ConfigError, ExportError, NotBuiltError
from mirror.files import write_atomic
from mirror.site.render import STATIC_DIR
from mirror.urls import local_asset_path_for, local_path_for, name_from_url, relative_href

# A symbol's kind (the role of its Sphinx inventory entry, or the class of its <dl>) -> the Dash
# entry type (https://kapeli.com/docsets#supportedentrytypes), as doc2dash maps Sphinx roles,
# plus the kinds doc2dash drops (pdbcommand, C structs ...): any other kind is an `Entry`.
DASH_TYPES = {
    "attribute": "Attribute",
    "attr": "Attribute",
    "member": "Attribute",
    "class": "Class",
    "method": "Method",
    "classmethod": "Method",
    "staticmethod": "Method",
    "abstractmethod": "Method",
    "decoratormethod": "Method",
    "function": "Function",
    "coroutinefunction": "Function",
    "decorator": "Function",
    "exception": "Exception",
    "module": "Module",
    "data": "Value",
    "constant": "Constant",
    "enumerator": "Constant",
    "property": "Property",
    "option": "Option",
    "cmdoption": "Option",
    "envvar": "Environment",
    "term": "Word",
    "opcode": "Operator",
    "pdbcommand": "Command",
    "macro": "Macro",
    "type": "Type",
    "struct": "Struct",
    "union": "Union",
    "enum": "Enum",
    "var": "Variable",
    "variable": "Variable",
    "interface": "Interface",
    "protocol": "Protocol",
    "setting": "Setting",
    "directive": "Directive",
    "label": "Section",
    "doc": "Guide",
}
FALLBACK_TYPE = "Entry"
# ISO 639-1 -> 639-3, for the languages docs are most often written in; ZIM wants 639-3
_LANGUAGES = {
    "en": "eng", "fr": "fra", "de": "deu", "es": "spa", "it": "ita", "pt": "por", "nl": "nld",
    "ru": "rus", "uk": "ukr", "pl": "pol", "cs": "ces", "sv": "swe", "da": "dan", "fi": "fin",
    "nb": "nob", "no": "nor", "tr": "tur", "ja": "jpn", "zh": "zho", "ko": "kor", "ar": "ara",
    "he": "heb", "hi": "hin", "id": "ind", "vi": "vie", "el": "ell", "hu": "hun", "ro": "ron",
}  # fmt: skip
_UMASK = os.umask(0)
os.umask(_UMASK)
_FOLDER_MODE = 0o777 & ~_UMASK  # what mkdir would give a new folder
_SECTION_NUMBER = re.compile(r"^\d+(?:\.\d+)*\.\s+")
_HTML_LANG = re.compile(rb"<html\b[^>]*?\slang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a reader's index: an API entry, a section or a whole page."""

    name: str
    type: str  # a Dash entry type: Class, Method, Section, Guide ...
    anchor: str  # the id of its element in the page, '' for the page itself


@dataclass(frozen=True, slots=True)
class ExportPage:
    """A page of the mirror as an export takes it."""

    url: str
    path: str  # its file in the site, site-relative
    title: str
    summary: str
    source: str  # the name of its source in the config
    key: str  # changes when its site file or its entries change
    images: tuple[str, ...]  # site paths of the images it shows that are in the site


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What one export did."""

    target: Path  # the docset folder or the ZIM file
    pages: int  # pages it holds
    entries: int  # index entries it holds (docset) or front articles (ZIM)
    written: int  # pages written this time (0: nothing changed)
    removed: int  # pages taken out this time
    fresh: bool  # nothing had changed since the last export: nothing was written

    def describe(self) -> str:
        """One line saying what the export did."""
        if self.fresh:
            return f"{self.target}: up to date, nothing written ({self.pages} pages)"
        removed = f", {self.removed} removed" if self.removed else ""
        return (
            f"{self.target}: {self.written} pages written{removed}; "
            f"{self.pages} pages, {self.entries} entries"
        )


class MirrorReader:
    """The built mirror, read-only: its pages by source, their entries and their site files."""

    def __init__(self, config: Config, store: Store, names: tuple[str, ...]) -> None:
        self.config = config
        self.site = config.site.output_dir
        self._store = store
        self._states = store.states()
        self._inventories = InventoryEntries(store)
        members = stored_membership(config, store, self._states).by_source
        shown = store.page_assets()
        images = store.asset_states()
        self.pages: dict[str, tuple[ExportPage, ...]] = {}
        for name in names:
            found = []
            for url in members.get(name, ()):
                state = self._states.get(url)
                path = local_path_for(url)
                if state is None or not state.has_copy or not (self.site / path).is_file():
                    continue  # never rendered: the next build writes it, the next export takes it
                pictures = tuple(
                    local_asset_path_for(src)
                    for src in shown.get(url, ())
                    if src in images and images[src].sha256
                )
                found.append(
                    ExportPage(
                        url=url,
                        path=path,
                        title=state.title or name_from_url(url),
                        summary=state.summary or "",
                        source=name,
                        key=_page_key(state, pictures),
                        images=pictures,
                    )
                )
            self.pages[name] = tuple(found)
        self._image_keys = {local_asset_path_for(u): s.sha256 or "" for u, s in images.items()}

    def image_key(self, path: str) -> str:
        return self._image_keys.get(path, "")

    def entries(self, page: ExportPage) -> tuple[Entry, ...]:
        """The page's API entries (named and kinded by its site's inventory), its sections and
        the page itself, in page order, the page first."""
        cleaned = self._store.load_page(page.url)
        if cleaned is None:
            return (Entry(page.title, "Guide", ""),)
        inventory = self._inventory_of(page.url)
        cleaned = with_inventory(cleaned, inventory)
        # Sphinx numbers sections in their text ("6.5. The power operator"); its inventory,
        # and so Dash, names them without the number
        numbered = 'class="section-number"' in cleaned.html
        title = _SECTION_NUMBER.sub("", page.title) if numbered else page.title
        found = [Entry(title, "Guide", "")]
        for section in cleaned.sections:
            if section.anchor:
                name = _SECTION_NUMBER.sub("", section.title) if numbered else section.title
                found.append(Entry(name, "Section", section.anchor))
        found += [Entry(s.name, dash_type(s.kind), s.anchor) for s in cleaned.symbols]
        # an object with several names in the inventory (`-c` and `--count` of one option)
        # is one symbol of the page; each name is an entry of the index
        named = {(s.name, s.anchor) for s in cleaned.symbols}
        for entry in inventory:
            if (entry.name, entry.anchor) not in named:
                named.add((entry.name, entry.anchor))
                found.append(Entry(entry.name, dash_type(symbol_kind(entry.role)), entry.anchor))
        return tuple(found)

    def _inventory_of(self, url: str) -> tuple[InventoryEntry, ...]:
        return self._inventories.of(self._states[url].inventory, url)

    def site_bytes(self, path: str) -> bytes:
        """A file of the site; ExportError if it cannot be read."""
        try:
            return (self.site / path).read_bytes()
        except OSError as exc:
            raise ExportError(f"{self.site / path}: cannot read: {exc}") from None

    def static_files(self) -> dict[str, bytes]:
        """The theme's CSS and scripts (`_static/`, not the exported search index)."""
        folder = self.site / STATIC_DIR
        files = sorted(p for p in folder.glob("*") if p.is_file())
        return {f"{STATIC_DIR}/{p.name}": p.read_bytes() for p in files}

    def language(self, pages: Iterable[ExportPage]) -> str:
        """The ISO 639-3 code of the first page's `<html lang>`, English if none is given."""
        for page in pages:
            raw = self._store.read_raw(page.url) or b""
            match = _HTML_LANG.search(raw[:8192])
            if match:
                return _LANGUAGES.get(match.group(1).decode("ascii").lower()[:2], "eng")
            return "eng"
        return "eng"


def _page_key(state: PageState, images: tuple[str, ...]) -> str:
    """What a page's export is made of: its entries (the content, the cleaner and the inventory
    entries are in `indexed_hash`), its site file (`render_digest`) and its images."""
    digest = hashlib.sha256()
    for part in (state.indexed_hash or state.content_hash or "", state.render_digest or ""):
        digest.update(part.encode() + b"\0")
    digest.update(repr(images).encode())
    return digest.hexdigest()[:32]


@contextmanager
def open_mirror(config: Config, source: str | None) -> Iterator[MirrorReader]:
    """The mirror's pages of `source` (all sources when None), read from the state database;
    ConfigError for an unknown source, NotBuiltError before the first build."""
    known = tuple(s.name for s in config.sources)
    if source is not None and source not in known:
        raise ConfigError(
            f"{config.path}: no source named {source!r} (sources: {', '.join(known)})"
        )
    data_dir = config.site.data_dir
    if not (data_dir / "state.sqlite3").is_file() or not config.site.output_dir.is_dir():
        raise NotBuiltError(f"{data_dir}: nothing mirrored yet; run `docmirror build` first")
    with data_lock(data_dir), Store(data_dir) as store:  # not while a build changes it
        yield MirrorReader(config, store, known if source is None else (source,))


def dash_type(kind: str) -> str:
    """The Dash entry type of a symbol kind: method -> Method, data -> Value, term -> Word."""
    return DASH_TYPES.get(kind, FALLBACK_TYPE)


def href(path: str, anchor: str = "") -> str:
    """A site path (and an anchor) as a link relative to the site's root."""
    return relative_href("index.html", path, anchor)


_ID = re.compile(r'<[a-zA-Z][^>]*?\sid="([^"]*)"')


def ids_in(page: str) -> dict[str, int]:
    """Each id in the HTML `page` with where its element's start tag begins (the first one)."""
    found: dict[str, int] = {}
    for match in _ID.finditer(page):
        found.setdefault(html.unescape(match.group(1)), match.start())
    return found


def listing_page(title: str, pages: Iterable[ExportPage]) -> bytes:
    """A page listing `pages` (their titles and summaries), at the root of an export: where
    the pages' "Home" link leads."""
    items = "".join(
        f'<li><a href="{html.escape(href(p.path))}">{html.escape(p.title)}</a>'
        f"<p>{html.escape(p.summary)}</p></li>\n"
        for p in pages
    )
    name = html.escape(title)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<title>{name}</title>\n<link rel="stylesheet" href="_static/docmirror.css">\n'
        f'</head>\n<body>\n<main class="content">\n<h1>{name}</h1>\n<ul class="pages">\n'
        f"{items}</ul>\n</main>\n</body>\n</html>\n"
    ).encode()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def read_manifest(path: Path) -> dict[str, Any] | None:
    """What the last export wrote (a manifest), None if there is none or it cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def manifest_part(value: object) -> dict[str, str]:
    """A mapping part of a manifest read back (`read_manifest`), {} if it is not one."""
    return value if isinstance(value, dict) else {}


def write_file(path: Path, data: bytes, atomic: bool = True) -> None:
    """Write one file of an export, atomically unless it is in a folder not in use yet (a
    temporary one); ExportError if it cannot be."""
    try:
        if atomic:
            write_atomic(path, data)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    except OSError as exc:
        raise ExportError(f"{path}: cannot write: {exc}") from None


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    write_file(path, json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8"))


def make_folder(folder: Path) -> None:
    """Create the output folder; ExportError if it cannot be made or written to."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe, name = tempfile.mkstemp(dir=folder, prefix=".docmirror-probe-")
        os.close(probe)
        os.unlink(name)
    except OSError as exc:
        raise ExportError(f"{folder}: cannot write the export there: {exc}") from None


@contextmanager
def temporary_sibling(target: Path, folder: bool) -> Iterator[Path]:
    """A temporary name beside `target`, removed on failure (with what was written to it)."""
    prefix = f".{target.name}.tmp-"
    try:
        if folder:
            temp = Path(tempfile.mkdtemp(dir=target.parent, prefix=prefix))
            temp.chmod(_FOLDER_MODE)  # mkdtemp makes 0700 folders; an export is meant to be read
        else:
            handle, name = tempfile.mkstemp(dir=target.parent, prefix=prefix)
            os.close(handle)
            temp = Path(name)
            temp.unlink()  # the writer creates it
    except OSError as exc:
        raise ExportError(f"{target.parent}: cannot write the export there: {exc}") from None
    try:
        yield temp
    except BaseException:
        for leftover in (temp, *temp.parent.glob(f"{temp.name}*")):  # libzim's too
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            with contextlib.suppress(OSError):
                leftover.unlink()
        raise


def replace_folder(temp: Path, target: Path) -> None:
    """Put the folder `temp` in place of the folder `target`: a reader sees the old one or the
    new one whole (the old one is moved aside, then deleted)."""
    old = None
    if target.exists() and not target.is_dir():
        shutil.rmtree(temp, ignore_errors=True)
        raise ExportError(f"{target}: cannot write the export: a file is in the way")
    try:
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
            os.replace(target, old / target.name)
        os.replace(temp, target)
    except OSError as exc:
        shutil.rmtree(temp, ignore_errors=True)
        raise ExportError(f"{target}: cannot replace the export: {exc}") from None
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def host_of(pages: Iterable[ExportPage]) -> str:
    return next((urlsplit(p.url).hostname or "" for p in pages), "")


def slug(text: str) -> str:
    """A file-name-safe form of a name or title."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "docs"


def solid_png(size: int, rgb: tuple[int, int, int] = (0x2B, 0x5B, 0x84)) -> bytes:
    """A `size`×`size` PNG of one colour with a lighter square in the middle (a stand-in icon)."""
    light = tuple(min(255, c + 0x70) for c in rgb)
    rows = []
    for y in range(size):
        row = bytearray(b"\0")  # filter: none
        for x in range(size):
            inner = size // 4 <= x < size - size // 4 and size // 4 <= y < size - size // 4
            row += bytes(light if inner else rgb)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )
