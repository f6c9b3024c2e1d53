"""Jinja2 rendering of the site: pages with local links, the home page, search and changes
pages, and the theme's static files; every file written atomically and only when it changed."""

from __future__ import annotations

import functools
import hashlib
import html
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup

from mirror.clean.page import Page
from mirror.errors import RenderError
from mirror.files import write_if_changed
from mirror.site.listing import SourceListing
from mirror.stages import stage_version
from mirror.urls import relative_href, split_fragment

if TYPE_CHECKING:
    import jinja2

STATIC_DIR = "_static"
SEARCH_DIR = "_static/search"  # the exported search index
SITE_PAGES = ("index.html", "search.html", "changes.html")  # the site-wide pages

_A_TAG = re.compile(r"<a\s[^>]*>")
_IMG_TAG = re.compile(r"<img\s[^>]*>")
_SRC = re.compile(r'\ssrc="([^"]*)"')
_ALT = re.compile(r'\salt="([^"]*)"')
_HREF = re.compile(r'\shref="([^"]*)"')
_CLASS = re.compile(r'\sclass="([^"]*)"')
_TITLE = re.compile(r'\stitle="([^"]*)"')
OFFSITE_TITLE = "Not mirrored: opens the source, needs the network"


def default_templates_dir() -> Path:
    """`site_templates/`: inside the installed package, or beside it in a source checkout."""
    package = Path(__file__).resolve().parent.parent  # mirror/
    for candidate in (package / "site_templates", package.parent / "site_templates"):
        if (candidate / "page.html").is_file():
            return candidate
    raise RenderError(f"site templates not found next to {package}")


@dataclass(frozen=True, slots=True)
class PageLink:
    path: str  # site-relative path of the page
    title: str


@dataclass(frozen=True, slots=True)
class PageContext:
    """Everything a page's file depends on besides the page itself and the theme."""

    path: str  # where the page is written, site-relative
    source: str
    previous: PageLink | None
    next: PageLink | None
    last_changed: str | None  # the source's Last-Modified day, else the day docmirror saw a change
    local_links: tuple[tuple[str, str], ...]  # (URL, site path) for every mirrored page it links to
    local_images: tuple[tuple[str, str], ...] = ()  # (URL, site path) of its downloaded images


def rewrite_links(
    page_html: str,
    from_path: str,
    local_paths: Mapping[str, str],
    local_images: Mapping[str, str] | None = None,
) -> tuple[str, int]:
    """Point links to mirrored pages at their local files (relative, anchor kept), mark the
    others as leaving the mirror, show downloaded images from disk and turn the other images
    into links to their source.
    Returns the new HTML and how many links leave the mirror."""
    offsite = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal offsite
        tag = match.group(0)
        href_match = _HREF.search(tag)
        if href_match is None:
            return tag
        target = html.unescape(href_match.group(1))
        base, fragment = split_fragment(target)
        local = local_paths.get(base)
        if local is not None:
            href = relative_href(from_path, local, fragment)
            return tag.replace(href_match.group(0), f' href="{html.escape(href)}"', 1)
        if not target.startswith(("http://", "https://")):
            return tag
        offsite += 1
        class_match = _CLASS.search(tag)
        if class_match:
            tag = tag.replace(class_match.group(0), f' class="{class_match.group(1)} offsite"', 1)
        else:
            tag = tag[:-1] + ' class="offsite">'
        title_match = _TITLE.search(tag)
        if title_match:
            note = f"{title_match.group(1)} ({OFFSITE_TITLE})"
            tag = tag.replace(title_match.group(0), f' title="{note}"', 1)
        else:
            tag = tag[:-1] + f' title="{OFFSITE_TITLE}">'
        return tag

    def replace_image(match: re.Match[str]) -> str:
        # A downloaded image is shown from disk; one that is not (it failed) would make opening
        # the page reach out to the network: show a link to it instead.
        nonlocal offsite
        tag = match.group(0)
        src = _SRC.search(tag)
        if src is None:
            return tag
        target = html.unescape(src.group(1))
        local = (local_images or {}).get(target)
        if local is not None:
            href = relative_href(from_path, local)
            return tag.replace(src.group(0), f' src="{html.escape(href)}"', 1)
        if not target.startswith(("http://", "https://")):
            return tag
        offsite += 1
        alt = _ALT.search(tag)
        label = alt.group(1) if alt and alt.group(1).strip() else "image"
        return (
            f'<a class="offsite image-link" href="{src.group(1)}" '
            f'title="Image not mirrored: opens the source, needs the network">[{label}]</a>'
        )

    page_html = _A_TAG.sub(replace, page_html)
    return _IMG_TAG.sub(replace_image, page_html), offsite


def display_date(http_date: str | None) -> str | None:
    """`Tue, 03 Oct 2023 12:35:00 GMT` -> `2023-10-03`."""
    if not http_date:
        return None
    try:
        return parsedate_to_datetime(http_date).strftime("%Y-%m-%d")
    except (TypeError, ValueError):
        return None


class SiteRenderer:
    """Renders and writes the site's files under `output_dir` with one Jinja environment."""

    def __init__(
        self, output_dir: Path, site_title: str, templates_dir: Path | None = None
    ) -> None:
        self.output_dir = Path(output_dir)
        self.site_title = site_title
        self.templates_dir = templates_dir or default_templates_dir()
        self.fingerprint = self._fingerprint()

    @functools.cached_property
    def env(self) -> jinja2.Environment:
        """The Jinja environment, made (and Jinja imported) by the first page rendered: a
        refresh that changed nothing renders none."""
        import jinja2

        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.templates_dir),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        env.filters["href"] = relative_href
        return env

    def _fingerprint(self) -> str:
        """Hash of everything besides the data that shapes the output: the rendering code (this
        module and what it imports, `stage_version`), the templates and the site title. Not the
        theme's static files: pages name them by path, and `write_static` copies them apart (a
        new search.js re-rendered every page, unchanged)."""
        digest = hashlib.sha256(stage_version("render").encode())
        digest.update(f"\0{self.site_title}\0".encode())
        static = self.templates_dir / "static"
        for path in sorted(self.templates_dir.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and static not in path.parents:
                digest.update(path.relative_to(self.templates_dir).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
        return digest.hexdigest()

    def page_digest(self, content_hash: str, context: PageContext) -> str:
        """Identifies a page's output from its content hash and context: equal digests give
        byte-identical files, so a page whose digest is unchanged need not be rendered."""
        digest = hashlib.sha256(self.fingerprint.encode())
        digest.update(content_hash.encode())
        digest.update(repr(context).encode())
        return digest.hexdigest()

    def site_pages_digest(
        self, sources: Sequence[SourceListing], changes: list[tuple[str, str, str, str | None]]
    ) -> str:
        """Identifies the site-wide pages' output (`render_home`, `render_search`,
        `render_changes`) from their data: equal digests give byte-identical files."""
        digest = hashlib.sha256(self.fingerprint.encode())
        digest.update(repr((list(sources), changes)).encode())
        return digest.hexdigest()

    def _write(self, rel_path: str, text: str) -> bool:
        return self._write_bytes(rel_path, text.encode("utf-8"))

    def _common(self, path: str) -> dict[str, object]:
        return {
            "site_title": self.site_title,
            "path": path,
            "root": relative_href(path, "index.html").removesuffix("index.html"),
        }

    def render_page(self, page: Page, context: PageContext) -> tuple[bool, int]:
        """Write one page; returns (file changed, links leaving the mirror)."""
        local_paths = dict(context.local_links)
        local_paths[page.url] = context.path  # links within the page itself
        body, offsite = rewrite_links(
            page.html, context.path, local_paths, dict(context.local_images)
        )
        text = self.env.get_template("page.html").render(
            **self._common(context.path),
            page=page,
            content=Markup(body),
            context=context,
            toc=[s for s in page.sections if s.anchor and s.level >= 2],
        )
        return self._write(context.path, text), offsite

    def render_home(self, sources: Sequence[SourceListing]) -> bool:
        """The home page: each source with its count and last refresh, its pages as a tree."""
        text = self.env.get_template("index.html").render(
            **self._common("index.html"), sources=sources
        )
        return self._write("index.html", text)

    def render_search(self) -> bool:
        text = self.env.get_template("search.html").render(**self._common("search.html"))
        return self._write("search.html", text)

    def render_changes(self, changes: list[tuple[str, str, str, str | None]]) -> bool:
        """`changes`: (date, kind, title, site path or None once removed), newest first."""
        text = self.env.get_template("changes.html").render(
            **self._common("changes.html"), changes=changes
        )
        return self._write("changes.html", text)

    def write_static(self) -> int:
        """Copy the theme's static files into `_static/`; returns how many were written."""
        written = 0
        static = self.templates_dir / "static"
        for path in sorted(static.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                rel = f"{STATIC_DIR}/{path.relative_to(static).as_posix()}"
                written += self._write_bytes(rel, path.read_bytes())
        return written

    def write_folder(self, rel_dir: str, files: Mapping[str, bytes]) -> int:
        """Make `rel_dir` hold exactly `files` (name -> bytes): write what changed, delete the
        rest. Returns how many files were written."""
        written = sum(self._write_bytes(f"{rel_dir}/{name}", data) for name, data in files.items())
        folder = self.output_dir / rel_dir
        for stale in sorted(folder.glob("*")) if folder.is_dir() else []:
            if stale.is_file() and stale.name not in files:
                stale.unlink()
        return written

    def write_file(self, rel_path: str, data: bytes) -> bool:
        """Write one file of the site (an image) unless it already holds `data`."""
        return self._write_bytes(rel_path, data)

    def _write_bytes(self, rel_path: str, data: bytes) -> bool:
        target = self.output_dir / rel_path
        try:
            return write_if_changed(target, data)
        except OSError as exc:
            raise RenderError(f"{target}: cannot write: {exc}") from None

    def remove(self, rel_path: str) -> None:
        """Delete a page that left the mirror, and folders it leaves empty."""
        target = self.output_dir / rel_path
        try:
            target.unlink()
        except FileNotFoundError:
            return
        parent = target.parent
        while parent != self.output_dir and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


def format_day(seconds: float) -> str:
    """A timestamp as a UTC calendar day."""
    return time.strftime("%Y-%m-%d", time.gmtime(seconds))
