"""The data folder: raw pages as fetched, cleaned pages and per-URL state in `state.sqlite3`
(validators, hashes, times, errors, the link graph and the change history)."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mirror.build.statedb import STATE_FILE, Database, upgrade_schema
from mirror.clean.page import Page, page_from_json, page_to_json
from mirror.errors import DamagedError, StoreError
from mirror.files import write_atomic
from mirror.urls import local_asset_path_for, local_path_for


@dataclass(frozen=True, slots=True)
class PageState:
    """What the state database knows about one configured URL."""

    url: str
    final_url: str | None
    etag: str | None
    last_modified: str | None
    raw_sha256: str | None
    content_hash: str | None
    clean_version: str | None
    title: str | None
    summary: str | None
    indexed_hash: str | None
    render_digest: str | None
    offsite_links: int | None
    fetched_at: float | None
    checked_at: float | None
    changed_at: float | None
    last_error: str | None
    error_at: float | None
    inventory: str | None = None  # the Sphinx objects.inv of the cleaned page, '' or None: none
    redirect: str | None = None  # the target, when the URL is an HTML redirect stub
    raw_size: int | None = None  # bytes of the raw copy on disk (None: not known, older state)
    site_sha256: str | None = None  # of the site file as last written (None: not known)
    site_stat: str | None = None  # its size and mtime then (repair.written_stat)
    index_inputs: str | None = None  # what indexed_hash was made from (indexing.index_inputs)

    @property
    def has_copy(self) -> bool:
        """A good copy was fetched and cleaned at some point."""
        return self.content_hash is not None

    @property
    def kept_raw(self) -> bool:
        """A raw copy is kept to ask the server about conditionally: a page's, or a stub's."""
        return self.has_copy or bool(self.redirect)


@dataclass(frozen=True, slots=True)
class AssetState:
    """What the state database knows about one image shown by mirrored pages, or about one
    Sphinx inventory they name."""

    url: str
    etag: str | None
    last_modified: str | None
    sha256: str | None
    fetched_at: float | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Change:
    at: float  # seconds since the epoch
    url: str
    title: str
    kind: str  # added, changed, removed


class Store:
    """The data folder. One instance, used from one thread (the build's main thread).
    `verify`: check the whole database first (`PRAGMA quick_check`, a few milliseconds), as a
    build does before it trusts it; a DamagedError if it is not whole."""

    def __init__(self, data_dir: Path, *, verify: bool = False) -> None:
        self.data_dir = Path(data_dir)
        self.raw_dir = self.data_dir / "raw"
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._db = Database(self.data_dir / STATE_FILE)
            if verify:
                self._verify()
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            upgrade_schema(self._db)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.data_dir}: cannot open the state database: {exc}") from None
        self._db.connection.row_factory = sqlite3.Row

    def _verify(self) -> None:
        """A DamagedError unless sqlite finds the database whole."""
        found = [row[0] for row in self._db.execute("PRAGMA quick_check")]
        if found != ["ok"]:
            self._db.close()
            raise DamagedError(self._db.path, "the state database", "; ".join(found[:2]))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one commit (one page's worth, so a kill loses at most that page)."""
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- reading ----------------------------------------------------------------------

    def states(self) -> dict[str, PageState]:
        """Every known URL's state."""
        fields = ", ".join(PageState.__slots__)  # type: ignore[attr-defined]
        rows = self._db.execute(f"SELECT {fields} FROM pages ORDER BY url")
        return {row["url"]: PageState(**dict(row)) for row in rows}

    def load_page(self, url: str) -> Page | None:
        row = self._db.first("SELECT page_json FROM cleaned_pages WHERE url = ?", (url,))
        return page_from_json(row[0]) if row and row[0] else None

    def raw_path(self, url: str) -> Path:
        return self.raw_dir / local_path_for(url)

    def read_raw(self, url: str, sha256: str | None = None) -> bytes | None:
        """The raw copy of `url`, None if there is none; with `sha256` (the state's
        `raw_sha256`), a DamagedError if the copy is not what was stored."""
        try:
            body = self.raw_path(url).read_bytes()
        except FileNotFoundError:
            return None
        if sha256 is not None and hashlib.sha256(body).hexdigest() != sha256:
            raise DamagedError(self.raw_path(url), "the raw page", "sha256 does not match")
        return body

    def raw_damage(self, state: PageState) -> str | None:
        """What is wrong with the raw copy of a page the state says is kept, as far as a stat
        tells (missing, or not the size stored); None when it looks whole. Cheap enough for
        every page of every build; reading it checks its sha256 (`read_raw`)."""
        try:
            size = self.raw_path(state.url).stat().st_size
        except FileNotFoundError:
            return "missing"
        if state.raw_size is not None and size != state.raw_size:
            return f"{size} bytes, {state.raw_size} stored"
        return None

    def links(self) -> dict[str, tuple[str, ...]]:
        """The link graph: each page's distinct outgoing links."""
        graph: dict[str, list[str]] = {}
        for src, dst in self._db.execute("SELECT src, dst FROM links ORDER BY src, dst"):
            graph.setdefault(src, []).append(dst)
        return {src: tuple(dsts) for src, dsts in graph.items()}

    def recent_changes(self, limit: int = 200) -> list[Change]:
        """The newest changes first; those of one build by title, whatever order its fetches
        finished in, so that two builds of the same pages write the same changes page."""
        rows = self._db.execute(
            "SELECT at, url, title, kind FROM changes"
            " ORDER BY at DESC, title, url, rowid DESC LIMIT ?",
            (limit,),
        )
        return [Change(**dict(row)) for row in rows]

    def get_meta(self, key: str) -> str | None:
        row = self._db.first("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0] if row else None

    # -- writing ----------------------------------------------------------------------

    def save_raw(self, url: str, body: bytes) -> None:
        try:
            write_atomic(self.raw_path(url), body)
        except OSError as exc:
            raise StoreError(f"{self.raw_path(url)}: cannot write raw page: {exc}") from None

    def record_fetch(
        self,
        url: str,
        *,
        final_url: str,
        status: int,
        etag: str | None,
        last_modified: str | None,
        content_type: str | None,
        raw_sha256: str,
        now: float,
        raw_size: int | None = None,
    ) -> None:
        """A 200 response was stored as the raw copy of `url` (`raw_size` bytes)."""
        self._db.execute(
            """INSERT INTO pages (url, final_url, status, etag, last_modified, content_type,
                                  raw_sha256, fetched_at, checked_at, raw_size)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (url) DO UPDATE SET
                 final_url = excluded.final_url, status = excluded.status, etag = excluded.etag,
                 last_modified = excluded.last_modified, content_type = excluded.content_type,
                 raw_sha256 = excluded.raw_sha256, fetched_at = excluded.fetched_at,
                 checked_at = excluded.checked_at, last_error = NULL, error_at = NULL,
                 raw_size = excluded.raw_size""",
            (
                url,
                final_url,
                status,
                etag,
                last_modified,
                content_type,
                raw_sha256,
                now,
                now,
                raw_size,
            ),
        )

    def record_not_modified(self, urls: Iterable[str], now: float) -> None:
        """The server answered 304 for `urls`: checked now, no error."""
        self._db.executemany(
            "UPDATE pages SET checked_at = ?, last_error = NULL, error_at = NULL WHERE url = ?",
            [(now, url) for url in urls],
        )

    def record_error(self, url: str, error: str, now: float) -> None:
        self._db.execute(
            """INSERT INTO pages (url, last_error, error_at) VALUES (?, ?, ?)
               ON CONFLICT (url) DO UPDATE SET last_error = excluded.last_error,
                                               error_at = excluded.error_at""",
            (url, error, now),
        )

    def save_page(
        self,
        page: Page,
        clean_version: str,
        changed_at: float | None,
        page_json: str | None = None,
    ) -> None:
        """Store the cleaned page and its outgoing links; `changed_at` when its content changed.
        `page_json`: the page's `page_to_json`, when it was made already."""
        self._db.execute(
            "INSERT OR REPLACE INTO cleaned_pages (url, page_json) VALUES (?, ?)",
            (page.url, page_to_json(page) if page_json is None else page_json),
        )
        self._db.execute(
            """UPDATE pages SET content_hash = ?, clean_version = ?, title = ?,
                                summary = ?, changed_at = COALESCE(?, changed_at), inventory = ?,
                                redirect = NULL
               WHERE url = ?""",
            (
                page.content_hash,
                clean_version,
                page.title,
                page.summary,
                changed_at,
                page.inventory,
                page.url,
            ),
        )
        self._db.execute("DELETE FROM links WHERE src = ?", (page.url,))
        self._db.executemany(
            "INSERT OR IGNORE INTO links (src, dst) VALUES (?, ?)",
            [(page.url, dst) for dst in page.links],
        )
        self._db.execute("DELETE FROM page_assets WHERE page = ?", (page.url,))
        self._db.executemany(
            "INSERT OR IGNORE INTO page_assets (page, url) VALUES (?, ?)",
            [(page.url, url) for url in page.assets],
        )

    def save_redirect(self, url: str, target: str, clean_version: str) -> None:
        """`url` is an HTML redirect stub leading to `target`: it holds no page any more (its
        raw copy stays, for conditional requests). Its `indexed_hash` stays until the build has
        taken it out of the index."""
        self._db.execute(
            """UPDATE pages SET redirect = ?, clean_version = ?,
                                content_hash = NULL, title = NULL, summary = NULL, inventory = NULL,
                                render_digest = NULL, offsite_links = NULL
               WHERE url = ?""",
            (target, clean_version, url),
        )
        self._db.execute("DELETE FROM cleaned_pages WHERE url = ?", (url,))
        self._db.execute("DELETE FROM links WHERE src = ?", (url,))
        self._db.execute("DELETE FROM page_assets WHERE page = ?", (url,))

    def set_rendered(
        self,
        url: str,
        digest: str | None,
        offsite_links: int | None,
        site_sha256: str | None = None,
        site_stat: str | None = None,
    ) -> None:
        """The site file of `url` now reflects the inputs hashed in `digest`, and holds bytes
        whose hash is `site_sha256`, with the size and mtime `site_stat`."""
        self._db.execute(
            """UPDATE pages SET render_digest = ?, offsite_links = ?, site_sha256 = ?,
                                site_stat = ? WHERE url = ?""",
            (digest, offsite_links, site_sha256, site_stat, url),
        )

    def set_indexed(self, urls: Mapping[str, tuple[str | None, str | None]]) -> None:
        """The search index now holds these versions (`index_hash`; None: nothing) of these URLs,
        made from these `index_inputs`."""
        self._db.executemany(
            "UPDATE pages SET indexed_hash = ?, index_inputs = ? WHERE url = ?",
            [(version, inputs, url) for url, (version, inputs) in urls.items()],
        )

    def add_change(self, change: Change) -> None:
        self._db.execute(
            "INSERT INTO changes (at, url, title, kind) VALUES (?, ?, ?, ?)",
            (change.at, change.url, change.title, change.kind),
        )

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def remove(self, url: str) -> None:
        """Forget `url`: its state, its links and its raw copy."""
        self._db.execute("DELETE FROM pages WHERE url = ?", (url,))
        self._db.execute("DELETE FROM cleaned_pages WHERE url = ?", (url,))
        self._db.execute("DELETE FROM links WHERE src = ?", (url,))
        self._db.execute("DELETE FROM page_assets WHERE page = ?", (url,))
        with contextlib.suppress(FileNotFoundError):
            self.raw_path(url).unlink()

    # -- images shown by pages -----------------------------------------------------------

    def page_assets(self) -> dict[str, tuple[str, ...]]:
        """Each page's images."""
        found: dict[str, list[str]] = {}
        for page, url in self._db.execute("SELECT page, url FROM page_assets ORDER BY page, url"):
            found.setdefault(page, []).append(url)
        return {page: tuple(urls) for page, urls in found.items()}

    # -- files kept beside the pages: images they show (assets), Sphinx inventories -------
    # Both tables have AssetState's columns; `table` below is always one of these two names.

    def _kept_states(self, table: str) -> dict[str, AssetState]:
        fields = ", ".join(AssetState.__slots__)  # type: ignore[attr-defined]
        rows = self._db.execute(f"SELECT {fields} FROM {table} ORDER BY url")
        return {row["url"]: AssetState(**dict(row)) for row in rows}

    def _keep(
        self,
        table: str,
        path: Path,
        url: str,
        body: bytes,
        validators: tuple[str | None, str | None],
        now: float,
    ) -> None:
        """A 200 response: write its bytes to `path` and record its (etag, last_modified)."""
        try:
            write_atomic(path, body)
        except OSError as exc:
            raise StoreError(f"{path}: cannot write {url}: {exc}") from None
        self._db.execute(
            f"""INSERT INTO {table} (url, etag, last_modified, sha256, fetched_at, last_error)
               VALUES (?, ?, ?, ?, ?, NULL)
               ON CONFLICT (url) DO UPDATE SET etag = excluded.etag,
                 last_modified = excluded.last_modified, sha256 = excluded.sha256,
                 fetched_at = excluded.fetched_at, last_error = NULL""",
            (url, *validators, hashlib.sha256(body).hexdigest(), now),
        )

    def _forget(self, table: str, path: Path, url: str) -> None:
        self._db.execute(f"DELETE FROM {table} WHERE url = ?", (url,))
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    def asset_states(self) -> dict[str, AssetState]:
        return self._kept_states("assets")

    def asset_path(self, url: str) -> Path:
        return self.data_dir / "assets" / local_asset_path_for(url)

    def save_asset(
        self, url: str, body: bytes, etag: str | None, last_modified: str | None, now: float
    ) -> None:
        """A 200 response for an image: keep its bytes and validators."""
        self._keep("assets", self.asset_path(url), url, body, (etag, last_modified), now)

    def record_asset_error(self, url: str, error: str) -> None:
        self._db.execute(
            """INSERT INTO assets (url, last_error) VALUES (?, ?)
               ON CONFLICT (url) DO UPDATE SET last_error = excluded.last_error""",
            (url, error),
        )

    def remove_asset(self, url: str) -> None:
        self._forget("assets", self.asset_path(url), url)

    def inventory_states(self) -> dict[str, AssetState]:
        return self._kept_states("inventories")

    def inventory_path(self, url: str) -> Path:
        return self.data_dir / "inventories" / local_asset_path_for(url)

    def read_inventory(self, url: str) -> bytes | None:
        """The kept copy of the inventory at `url`, None if there is none."""
        try:
            return self.inventory_path(url).read_bytes()
        except FileNotFoundError:
            return None

    def save_inventory(
        self, url: str, body: bytes, etag: str | None, last_modified: str | None, now: float
    ) -> None:
        """A 200 response with a readable inventory: keep its bytes and validators."""
        self._keep("inventories", self.inventory_path(url), url, body, (etag, last_modified), now)

    def record_inventory_error(self, url: str, error: str, drop_copy: bool) -> None:
        """Fetching the inventory at `url` failed; `drop_copy` when the source no longer has a
        usable one (so the kept copy goes), else the kept copy stays in use."""
        if drop_copy:
            with contextlib.suppress(FileNotFoundError):
                self.inventory_path(url).unlink()
        self._db.execute(
            """INSERT INTO inventories (url, last_error) VALUES (?, ?)
               ON CONFLICT (url) DO UPDATE SET last_error = excluded.last_error,
                 etag = CASE WHEN ? THEN NULL ELSE etag END,
                 last_modified = CASE WHEN ? THEN NULL ELSE last_modified END,
                 sha256 = CASE WHEN ? THEN NULL ELSE sha256 END""",
            (url, error, drop_copy, drop_copy, drop_copy),
        )

    def remove_inventory(self, url: str) -> None:
        self._forget("inventories", self.inventory_path(url), url)
