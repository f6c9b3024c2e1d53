"""Kiwix ZIM files of the mirror, written with libzim: the site's pages as front articles with
their CSS and images, a title index and a full-text index, and the metadata Kiwix shows."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mirror.config import Config
from mirror.errors import ExportError, NotBuiltError
from mirror.export.common import (
    ExportPage,
    ExportResult,
    MirrorReader,
    digest,
    host_of,
    listing_page,
    make_folder,
    manifest_part,
    open_mirror,
    read_manifest,
    slug,
    solid_png,
    temporary_sibling,
    write_manifest,
)
from mirror.stages import code_version

HOME = "index.html"
_MIME = {
    ".html": "text/html",
    ".css": "text/css",
    ".js": "application/javascript",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
}


def zim_path(config: Config, source: str | None) -> Path:
    """Where the ZIM file goes without `-o`: in the export folder, named after the source or
    the site's title."""
    return config.export.dir / f"{slug(source or config.site.title).lower()}.zim"


def export_zim(
    config: Config,
    out_file: Path | None = None,
    source: str | None = None,
    clock: Callable[[], float] = time.time,
) -> ExportResult:
    """Write `out_file` (default: `zim_path`) from the pages of every source, or of `source`;
    nothing if nothing changed since the file was written. A ZIM file cannot be updated in
    place: any change writes it again, under a temporary name, then renamed over the old."""
    target = (out_file or zim_path(config, source)).absolute()
    with open_mirror(config, source) as mirror:
        unique = {p.path: p for group in mirror.pages.values() for p in group}
        pages = tuple(unique.values())
        if not pages:
            raise NotBuiltError(f"{config.path}: no page mirrored yet; run `docmirror build` first")
        make_folder(target.parent)
        if target.is_dir():
            raise ExportError(f"{target}: cannot write the ZIM file: a folder is in the way")
        home = _home(mirror, source, pages)
        static = mirror.static_files()
        language = mirror.language(pages)
        title = (source or config.site.title)[:30]
        host = host_of(pages)
        metadata = {
            "Name": f"{slug(title).lower()}_{language}_all",
            "Title": title,
            "Description": f"Documentation from {host}, mirrored by docmirror"[:80],
            "Language": language,
            "Creator": host,
            "Publisher": "docmirror",
        }
        want: dict[str, Any] = {
            "version": code_version("mirror.export.zim"),
            "metadata": dict(metadata),
            "home": digest(home),
            "static": {path: digest(data) for path, data in static.items()},
            "images": {path: mirror.image_key(path) for p in pages for path in p.images},
            "pages": {p.path: p.key for p in pages},
        }
        manifest = target.with_name(target.name + ".docmirror.json")
        last = (read_manifest(manifest) or {}).get("state", {})
        if last == want and target.is_file():
            return ExportResult(target, len(pages), len(pages) + 1, 0, 0, fresh=True)
        metadata["Date"] = time.strftime("%Y-%m-%d", time.gmtime(clock()))
        with temporary_sibling(target, folder=False) as temp:
            _write(mirror, temp, pages, home, static, metadata)
            try:
                os.replace(temp, target)
            except OSError as exc:
                raise ExportError(f"{target}: cannot write: {exc}") from None
        write_manifest(manifest, {"state": want})
    had = manifest_part(last.get("pages"))
    written = sum(1 for p in pages if had.get(p.path) != p.key)
    removed = len(set(had) - set(want["pages"]))
    return ExportResult(target, len(pages), len(pages) + 1, written, removed, fresh=False)


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """libzim tells its progress on the process's standard output whatever it is configured
    to do; the command's own output (`build --json`) is kept clean of it."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)



def _home(mirror: MirrorReader, source: str | None, pages: tuple[ExportPage, ...]) -> bytes:
    """The main page: the site's home page; for one source, a list of its pages."""
    if source is None:
        return mirror.site_bytes(HOME)
    return listing_page(source, pages)


def _write(
    mirror: MirrorReader,
    temp: Path,
    pages: tuple[ExportPage, ...],
    home: bytes,
    static: dict[str, bytes],
    metadata: dict[str, str],
) -> None:
    """The ZIM file at `temp`: libzim makes the title and full-text indexes of the front
    articles (the pages and the home page) as it finishes."""
    from libzim.writer import Creator, Hint, Item, StringProvider  # type: ignore[import-untyped]

    class _Item(Item):  # type: ignore[misc]
        def __init__(self, path: str, title: str, data: bytes, front: bool) -> None:
            super().__init__()
            self.path, self.title, self.data, self.front = path, title, data, front

        def get_path(self) -> str:
            return self.path

        def get_title(self) -> str:
            return self.title

        def get_mimetype(self) -> str:
            return _MIME.get(Path(self.path).suffix.lower(), "application/octet-stream")

        def get_contentprovider(self) -> StringProvider:
            return StringProvider(self.data)

        def get_hints(self) -> dict[Hint, bool]:
            return {Hint.FRONT_ARTICLE: self.front, Hint.COMPRESS: self.front}

    creator = Creator(str(temp)).config_indexing(True, metadata["Language"])
    creator.set_mainpath(HOME)
    try:
        with _quiet_stdout(), creator:
            for key, value in metadata.items():
                creator.add_metadata(key, value)
            creator.add_illustration(48, solid_png(48))
            creator.add_item(_Item(HOME, metadata["Title"], home, True))
            for path, data in static.items():
                creator.add_item(_Item(path, "", data, False))
            images = sorted({path for page in pages for path in page.images})
            for path in images:
                creator.add_item(_Item(path, "", mirror.site_bytes(path), False))
            for page in pages:
                creator.add_item(_Item(page.path, page.title, mirror.site_bytes(page.path), True))
    except RuntimeError as exc:
        raise ExportError(f"{temp}: libzim cannot write the ZIM file: {exc}") from None
