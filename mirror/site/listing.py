"""The home page's listing of a library: each source with its page count and last refresh, its
pages in the source's order as a tree of their folders (a folder titled by its own index page).
Pure: the render stage gives the pages, the template draws the tree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

INDEX_NAMES = ("index.html", "index.htm", "")  # a folder's own page


@dataclass(frozen=True, slots=True)
class PageEntry:
    """One mirrored page as listings show it."""

    url: str
    path: str  # its site path
    title: str
    summary: str
    source: str  # the name of its source in the config


@dataclass(frozen=True, slots=True)
class Folder:
    """A folder of a source's pages: its own index page (if mirrored), its pages and folders."""

    name: str  # its index page's title, else the folder's name
    index: PageEntry | None
    pages: tuple[PageEntry, ...]
    folders: tuple[Folder, ...]
    count: int  # pages in it and below it, its index page included


@dataclass(frozen=True, slots=True)
class SourceListing:
    name: str
    count: int  # its pages
    refreshed: str  # the day its pages were last checked, "" if never
    root: Folder  # its pages under the folder they all share


def folder_tree(entries: Iterable[PageEntry]) -> Folder:
    """`entries` (in the source's order) as a tree of their URL folders, below the deepest
    folder they all share; pages keep their order within a folder, folders come in the order of
    their first page."""
    pages = list(entries)
    paths = {e.url: _segments(e.url) for e in pages}
    common = _common_folder([paths[e.url] for e in pages])
    return _folder("", [(paths[e.url][len(common) :], e) for e in pages])


def _folder(name: str, items: list[tuple[list[str], PageEntry]]) -> Folder:
    index = next((e for rest, e in items if len(rest) == 1 and rest[0] in INDEX_NAMES), None)
    own = tuple(e for rest, e in items if len(rest) <= 1 and e is not index)
    below: dict[str, list[tuple[list[str], PageEntry]]] = {}
    for rest, entry in items:
        if len(rest) > 1:
            below.setdefault(rest[0], []).append((rest[1:], entry))
    folders = tuple(_folder(child, children) for child, children in below.items())
    count = len(own) + (index is not None) + sum(f.count for f in folders)
    title = index.title if index is not None else unquote(name)
    return Folder(title, index, own, folders, count)


def _segments(url: str) -> list[str]:
    """A URL's path as its folder names and its file name ('' for a folder's own page)."""
    path = urlsplit(url).path or "/"
    return [urlsplit(url).netloc, *path.lstrip("/").split("/")]


def _common_folder(paths: list[list[str]]) -> list[str]:
    """The folder segments every path starts with (never a path's file name)."""
    if not paths:
        return []
    common = min(paths, key=len)[:-1]
    for path in paths:
        folders = path[:-1]
        size = 0
        while size < min(len(common), len(folders)) and common[size] == folders[size]:
            size += 1
        common = common[:size]
    return common
