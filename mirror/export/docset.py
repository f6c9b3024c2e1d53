"""Dash/Zeal docsets of the mirror: one `NAME.docset` per source, updated page by page."""

from __future__ import annotations

import contextlib
import html
import plistlib
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mirror.config import Config
from mirror.errors import ExportError, NotBuiltError
from mirror.export.common import (
    ExportPage,
    ExportResult,
    MirrorReader,
    digest,
    href,
    ids_in,
    listing_page,
    make_folder,
    manifest_part,
    open_mirror,
    read_manifest,
    replace_folder,
    slug,
    temporary_sibling,
    write_file,
    write_manifest,
)
from mirror.stages import code_version

MANIFEST = "docmirror.json"  # in the docset folder: what the last export wrote
RESOURCES = "Contents/Resources"
DOCUMENTS = f"{RESOURCES}/Documents"
INDEX = f"{RESOURCES}/docSet.dsidx"
SCHEMA = """
CREATE TABLE searchIndex(id INTEGER PRIMARY KEY, name TEXT, type TEXT, path TEXT);
CREATE UNIQUE INDEX anchor ON searchIndex (name, type, path);
"""
Row = tuple[str, str, str]  # (name, Dash type, path#anchor relative to Documents)


def export_docsets(
    config: Config, out_dir: Path | None = None, source: str | None = None
) -> tuple[ExportResult, ...]:
    """Write or update `NAME.docset` in `out_dir` (default: the config's export folder) for each
    source of the config, or for `source` alone."""
    folder = out_dir or config.export.dir
    with open_mirror(config, source) as mirror:
        make_folder(folder)
        return tuple(_export(mirror, name, folder) for name in mirror.pages)


def _export(mirror: MirrorReader, name: str, folder: Path) -> ExportResult:
    """One source's docset: nothing written if nothing changed, the changed pages and their
    entries if it exists, else the whole docset under a temporary name, then renamed."""
    docset = folder / f"{slug(name)}.docset"
    pages = mirror.pages[name]
    if not pages:
        raise NotBuiltError(f"source {name!r}: no page mirrored yet; run `docmirror build` first")
    plist = plistlib.dumps(_info(name, pages[0].path))
    static = mirror.static_files()
    contents = listing_page(name, pages)
    want: dict[str, Any] = {
        "version": code_version("mirror.export.docset"),
        "plist": digest(plist),
        "contents": digest(contents),
        "static": {path: digest(data) for path, data in static.items()},
        "images": {path: mirror.image_key(path) for p in pages for path in p.images},
        "pages": {p.path: p.key for p in pages},
    }
    have = read_manifest(docset / MANIFEST) or {}
    last = have.get("state", {})
    whole = (docset / INDEX).is_file() and (docset / "Contents" / "Info.plist").is_file()
    if last == want and whole:
        return ExportResult(docset, len(pages), have.get("entries", 0), 0, 0, fresh=True)
    if not whole or any(last.get(k) != want[k] for k in ("version", "plist")):
        with temporary_sibling(docset, folder=True) as temp:
            write_file(temp / "Contents" / "Info.plist", plist, atomic=False)
            entries = _update(mirror, temp, pages, {}, want, static, contents, atomic=False)
            write_manifest(temp / MANIFEST, {"state": want, "entries": entries})
            replace_folder(temp, docset)
        return ExportResult(docset, len(pages), entries, len(pages), 0, fresh=False)
    entries = _update(mirror, docset, pages, last, want, static, contents, atomic=True)
    write_manifest(docset / MANIFEST, {"state": want, "entries": entries})
    written = sum(1 for p in pages if last.get("pages", {}).get(p.path) != p.key)
    removed = len(set(last.get("pages", {})) - set(want["pages"]))
    return ExportResult(docset, len(pages), entries, written, removed, fresh=False)


def _update(
    mirror: MirrorReader,
    docset: Path,
    pages: tuple[ExportPage, ...],
    last: dict[str, Any],
    want: dict[str, Any],
    static: dict[str, bytes],
    contents: bytes,
    *,
    atomic: bool,
) -> int:
    """Bring `docset` from what `last` says it holds to `want`: the pages, images and theme
    files that changed written (`atomic`: each through a temporary file, for a docset in
    use), those gone deleted, their index entries replaced. Returns how many entries the
    index holds."""
    docs = docset / DOCUMENTS
    had_pages = manifest_part(last.get("pages"))
    changed = [p for p in pages if had_pages.get(p.path) != p.key]
    gone = [path for path in had_pages if path not in manifest_part(want["pages"])]
    rows = {page.path: _write_page(mirror, page, docs, atomic) for page in changed}
    unused = list(gone)
    for kind in ("static", "images"):
        had, wanted = manifest_part(last.get(kind)), manifest_part(want[kind])
        for path, key in wanted.items():
            if had.get(path) != key:
                data = static[path] if path in static else mirror.site_bytes(path)
                write_file(docs / path, data, atomic)
        unused += [path for path in had if path not in wanted]
    for path in unused:
        with contextlib.suppress(FileNotFoundError):
            (docs / path).unlink()
    if last.get("contents") != want["contents"]:
        write_file(docs / "index.html", contents, atomic)
    return _update_index(docset / INDEX, gone, rows)



def _write_page(mirror: MirrorReader, page: ExportPage, docs: Path, atomic: bool) -> list[Row]:
    """Copy the page's site file into Documents with a Dash anchor before each entry's element
    (what Dash and Zeal list as the page's table of contents); its index rows."""
    text = mirror.site_bytes(page.path).decode("utf-8", "replace")
    ids = ids_in(text)
    rows: list[Row] = []
    anchors: dict[int, list[str]] = {}
    for entry in mirror.entries(page):
        if entry.anchor in ids:
            rows.append((entry.name, entry.type, href(page.path, entry.anchor)))
            ref = f"//apple_ref/cpp/{entry.type}/{quote(entry.name, safe='')}"
            tag = f'<a name="{html.escape(ref)}" class="dashAnchor"></a>'
            anchors.setdefault(ids[entry.anchor], []).append(tag)
        else:  # the page itself, or an entry whose element the page does not have
            rows.append((entry.name, entry.type, href(page.path)))
    parts, start = [], 0
    for at in sorted(anchors):
        parts += [text[start:at], *anchors[at]]
        start = at
    parts.append(text[start:])
    write_file(docs / page.path, "".join(parts).encode("utf-8"), atomic)
    return rows


def _update_index(path: Path, gone: list[str], rows: dict[str, list[Row]]) -> int:
    """Replace the index rows of the pages in `rows` and drop those of the pages `gone`, in one
    transaction; returns how many rows the index holds."""
    try:
        db = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise ExportError(f"{path}: cannot open the docset index: {exc}") from None
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'searchIndex'").fetchone():
            db.executescript(SCHEMA)
        # a page's rows found by path, not by reading every row once per changed page
        db.execute("CREATE INDEX IF NOT EXISTS docmirror_path ON searchIndex (path)")
        db.execute("BEGIN")
        for page in (*gone, *rows):
            link = href(page)
            db.execute(  # the page itself, and its anchors: '$' is the character after '#'
                "DELETE FROM searchIndex WHERE path = ?1"
                " OR (path >= ?1 || '#' AND path < ?1 || '$')",
                (link,),
            )
        db.executemany(
            "INSERT OR IGNORE INTO searchIndex (name, type, path) VALUES (?, ?, ?)",
            [row for page_rows in rows.values() for row in page_rows],
        )
        db.execute("COMMIT")
        count: int = db.execute("SELECT count(*) FROM searchIndex").fetchone()[0]
        return count
    except sqlite3.Error as exc:
        raise ExportError(f"{path}: cannot write the docset index: {exc}") from None
    finally:
        db.close()


def _info(name: str, first_page: str) -> dict[str, object]:
    """Info.plist: what Dash and Zeal read about the docset."""
    family = slug(name).lower()
    return {
        "CFBundleIdentifier": f"docmirror.{family}",
        "CFBundleName": name,
        "DocSetPlatformFamily": family,
        "isDashDocset": True,
        "dashIndexFilePath": first_page,
        "DashDocSetFamily": "dashtoc",
        "isJavaScriptEnabled": False,
    }
