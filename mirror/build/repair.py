"""Damage found and repaired by a build: the state database (moved aside and filled again from the
raw pages on disk), the search index (cleared, so that it is rebuilt from the stored pages), the
exported search files (checked against the manifest of their hashes written with them) and the
site's page files (checked against the hash stored when each was written). A raw page is checked
where it is read (`Store.read_raw`, `Store.raw_damage`, in the fetch stage).

Every check here is cheap enough for every build: a stat, or hashing files of the site (tens of
milliseconds for a few hundred pages); the raw pages are not hashed unless read."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path

from mirror.build.fetching import source_rules
from mirror.build.membership import Found, Frontier
from mirror.build.pool import ProcessPool, some_done
from mirror.build.report import Repair
from mirror.build.statedb import STATE_FILE
from mirror.build.store import Store
from mirror.clean.page import ExtractionRules, Redirect, clean_version, document_from_json
from mirror.config import Config
from mirror.errors import DamagedError
from mirror.search.index_files import index_version

EXPORT_MANIFEST = "export_manifest"  # the state's meta key: the exported files' sha256s
INDEX_MANIFEST = "index_manifest"  # the state's meta key: the index's files as last written


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the state database ---------------------------------------------------------------------


def open_state(data_dir: Path, now: float) -> tuple[Store, Repair | None]:
    """The data folder's store, checked whole (`PRAGMA quick_check`). A damaged database is
    moved aside (`state.sqlite3.damaged-<time>`, kept for whoever wants to look into it) and a
    fresh one made; so is a missing one beside raw pages. The Repair then says the state must
    be restored from the raw pages (`restore_state`)."""
    path = Path(data_dir) / STATE_FILE
    raw_dir = Path(data_dir) / "raw"
    try:
        if not path.exists() and raw_dir.is_dir() and any(raw_dir.iterdir()):
            return Store(data_dir), Repair("state", str(path), "missing")
        return Store(data_dir, verify=True), None
    except DamagedError as exc:
        aside = _set_aside(path, now)
        reason = f"{exc.reason}; the damaged file is kept as {aside.name}"
        return Store(data_dir), Repair("state", str(path), reason)


def _set_aside(path: Path, now: float) -> Path:
    """Move the database and its journal files out of the way, under one new name."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{path}{suffix}").exists():
            os.replace(f"{path}{suffix}", f"{aside}{suffix}")
    return aside


def restore_state(store: Store, config: Config, processes: ProcessPool) -> int:
    """Fill a fresh state database from the raw pages on disk: the pages the config's sources
    reach, found as a build finds them (`Frontier`, links from the cleaned raw pages), each
    cleaned again and stored with no validators, so that the next fetch of each is
    unconditional. The change history is lost. Returns the pages and stubs restored."""
    from mirror.clean.extract import clean_to_json  # lxml: imported by the builds that clean

    frontier = Frontier(config.sources)
    restored = 0
    while batch := frontier.batch():
        pool = processes.pool_for(len(batch))
        cleaning: dict[Future[str], tuple[str, bytes, ExtractionRules | None]] = {}
        for url in batch:
            body = store.read_raw(url)
            if body is None:  # never stored, or not a page: a build finds out
                frontier.settle(url, Found("not_page"))
                continue
            rules = source_rules(frontier.source(url))
            cleaning[pool.submit(clean_to_json, body, url, rules)] = (url, body, rules)
        while cleaning:
            for future in some_done(cleaning):
                url, body, rules = cleaning.pop(future)
                frontier.settle(url, _restore_page(store, url, body, rules, future.result()))
                restored += 1
    return restored


def _restore_page(
    store: Store, url: str, body: bytes, rules: ExtractionRules | None, page_json: str
) -> Found:
    """Store one raw page and its cleaned version as if fetched when its file was written."""
    cleaned = document_from_json(page_json)
    stored_at = store.raw_path(url).stat().st_mtime
    with store.transaction():
        store.record_fetch(
            url,
            final_url=url,
            status=200,
            etag=None,
            last_modified=None,
            content_type=None,
            raw_sha256=hashlib.sha256(body).hexdigest(),
            now=stored_at,
            raw_size=len(body),
        )
        if isinstance(cleaned, Redirect):
            store.save_redirect(url, cleaned.target, clean_version(rules))
            return Found("redirect", target=cleaned.target)
        store.save_page(cleaned, clean_version(rules), stored_at, page_json)
    return Found("page", links=cleaned.links)


# -- the search index and its export ----------------------------------------------------------


def check_index(store: Store, index_dir: Path) -> Repair | None:
    """An index the state says was made but that cannot be opened and read (or is gone) is
    cleared, so that the index stage rebuilds it from the stored pages. Not checked when it is
    rebuilt anyway (made by other code). An index whose files have the sizes and modification
    times they had when last written or checked (`index_manifest`) is taken as whole, by the
    stat that tells the site's files unchanged, without being opened."""
    if store.get_meta("index_version") != index_version():
        return None
    files = index_manifest(index_dir)
    if store.get_meta(INDEX_MANIFEST) == files:
        return None
    from mirror.search.index import SearchIndex  # whoosh: not for an index as last written

    search_index = SearchIndex(index_dir)
    try:
        search_index.verify()
        reason = None if search_index.exists else "missing"
        path = str(search_index.index_dir)
    except DamagedError as exc:
        reason, path = exc.reason, exc.path
    if reason is None:
        with store.transaction():
            store.set_meta(INDEX_MANIFEST, files)  # opening and reading it changed none
        return None
    search_index.clear()
    return Repair("index", path, reason)


def index_manifest(index_dir: Path) -> str:
    """The files of the index in `index_dir`, each with its `written_stat` (whoosh's lock file
    left out: it comes and goes); '' when there are none."""
    try:
        names = sorted(n for n in os.listdir(index_dir) if n != "MAIN_WRITELOCK")
    except FileNotFoundError:
        return ""
    return json.dumps({name: written_stat(index_dir / name) for name in names}) if names else ""


def export_manifest(folder: Path, files: Mapping[str, bytes]) -> str:
    """The manifest of an export written into `folder`: each file's sha256 and `written_stat`,
    stored once the folder is whole."""
    manifest = {
        name: [hashlib.sha256(data).hexdigest(), written_stat(folder / name)]
        for name, data in files.items()
    }
    return json.dumps(manifest)


def export_damage(folder: Path, manifest: str | None) -> Repair | None:
    """The first exported file that is missing or not as written, by the manifest; None when
    all are whole, or when there is no manifest (an export made before manifests)."""
    if not manifest:
        return None
    try:
        expected = dict(json.loads(manifest))
    except (ValueError, TypeError):
        return Repair("export", str(folder), "its manifest cannot be read")
    prefix = f"{folder}{os.sep}"  # thousands of files: paths as strings, not Path objects
    for name, entry in expected.items():
        sha256, written = (entry, None) if isinstance(entry, str) else entry
        damage = file_damage(prefix + name, sha256, written)
        if damage is not None:
            return Repair("export", prefix + name, damage)
    return None


# -- the site's pages -------------------------------------------------------------------------


def page_damage(path: Path, sha256: str | None, written: str | None = None) -> str | None:
    """What is wrong with a page's site file: missing, or not the bytes last written (by the
    hash and `written_stat` stored then; no hash: not known, only its presence is checked)."""
    if sha256 is None:
        return None if path.is_file() else "missing"
    return file_damage(path, sha256, written)


def written_stat(path: Path | str) -> str:
    """The size and modification time of a file just written, by which a later stat tells it
    unchanged."""
    stat = os.stat(path)
    return f"{stat.st_size} {stat.st_mtime_ns}"


def file_damage(path: Path | str, sha256: str, written: str | None) -> str | None:
    """What is wrong with a file written with `sha256` and `written_stat` `written`: missing,
    not as written, cannot be read; None when whole. A file with the size and modification
    time it was written with is taken as written, as git takes its work tree: a stat, not a
    read, for the thousands of files of a site checked at every build."""
    try:
        if written is not None and written_stat(path) == written:
            return None
        return None if file_sha256(Path(path)) == sha256 else "not as written"
    except FileNotFoundError:
        return "missing"
    except OSError as exc:  # a folder in its place
        return f"cannot be read: {exc.strerror}"
