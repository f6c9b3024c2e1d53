"""The state database (`state.sqlite3`): its schema, and its connection, whose errors are one
line naming the file (a StoreError), or a DamagedError for a file that is no whole database."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mirror.errors import DamagedError, StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    url           TEXT PRIMARY KEY,   -- as configured, normalised
    final_url     TEXT,               -- after redirects
    status        INTEGER,            -- of the last good fetch
    etag          TEXT,
    last_modified TEXT,
    content_type  TEXT,
    raw_sha256    TEXT,               -- of the raw body on disk
    content_hash  TEXT,               -- of the cleaned page: what "changed" means
    clean_version TEXT,               -- the cleaner that produced its cleaned page
    title         TEXT,               -- of the cleaned page, for listings
    summary       TEXT,
    indexed_hash  TEXT,               -- index_hash (content and inventory entries) in the index
    render_digest TEXT,               -- the inputs of the site file last written for it
    offsite_links INTEGER,            -- links in the rendered page that leave the mirror
    fetched_at    REAL,               -- last 200 response
    checked_at    REAL,               -- last time the server was asked (200 or 304)
    changed_at    REAL,               -- last time the cleaned content changed
    last_error    TEXT,               -- why the last attempt failed, NULL after a success
    error_at      REAL,
    inventory     TEXT,               -- the Sphinx objects.inv the cleaned page names, or ''
    redirect      TEXT,               -- an HTML redirect stub's target (then no cleaned page)
    raw_size      INTEGER,            -- of the raw body on disk, checked by every build
    site_sha256   TEXT,               -- of the site file last written for it
    site_stat     TEXT,               -- its size and mtime then (repair.written_stat)
    index_inputs  TEXT                -- what indexed_hash was made from (indexing.index_inputs)
);
-- The cleaned Page of each page that has one, as JSON; apart from its state since sqlite keeps
-- a row's columns together: reading the states, or setting one page's checked_at, would read or
-- write its tens of kilobytes of cleaned page as well.
CREATE TABLE IF NOT EXISTS cleaned_pages (
    url       TEXT PRIMARY KEY,
    page_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS links (
    src TEXT NOT NULL,
    dst TEXT NOT NULL,
    PRIMARY KEY (src, dst)
);
CREATE INDEX IF NOT EXISTS links_dst ON links (dst);
CREATE TABLE IF NOT EXISTS changes (
    at    REAL NOT NULL,
    url   TEXT NOT NULL,
    title TEXT NOT NULL,
    kind  TEXT NOT NULL              -- added, changed, removed
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS page_assets (
    page TEXT NOT NULL,
    url  TEXT NOT NULL,              -- an image the page shows
    PRIMARY KEY (page, url)
);
CREATE TABLE IF NOT EXISTS assets (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    sha256        TEXT,              -- of the copy in data_dir/assets, NULL until one is fetched
    fetched_at    REAL,
    last_error    TEXT
);
CREATE TABLE IF NOT EXISTS inventories (
    url           TEXT PRIMARY KEY,  -- a Sphinx objects.inv that mirrored pages name
    etag          TEXT,
    last_modified TEXT,
    sha256        TEXT,              -- of the copy in data_dir/inventories, NULL until one is kept
    fetched_at    REAL,
    last_error    TEXT
);
"""
# Columns added to a table after its first release: (table, column, type), added to older
# databases when they are opened.
ADDED_COLUMNS = (
    ("pages", "inventory", "TEXT"),
    ("pages", "redirect", "TEXT"),
    ("pages", "raw_size", "INTEGER"),
    ("pages", "site_sha256", "TEXT"),
    ("pages", "site_stat", "TEXT"),
    ("pages", "index_inputs", "TEXT"),
)
# Columns moved out of a table into a table of their own: (table, column, new table), moved
# when an older database is opened. The new table has `url` and the column.
MOVED_COLUMNS = (("pages", "page_json", "cleaned_pages"),)
STATE_FILE = "state.sqlite3"
# sqlite's primary result codes for a file that is not (or no longer) a whole database
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26


class Database:
    """The state database's connection, its errors raised as a StoreError naming the file (one
    a newer docmirror changed), or a DamagedError for a file that is no whole database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connection = sqlite3.connect(path, isolation_level=None)

    def execute(self, sql: str, parameters: Any = ()) -> list[Any]:
        """The statement's rows, all read here: sqlite meets a damaged page while rows are
        fetched, after the statement has started, and that error must be mapped too."""
        return self._call(lambda: self.connection.execute(sql, parameters).fetchall())  # type: ignore[no-any-return]

    def first(self, sql: str, parameters: Any = ()) -> Any:
        """The first row of a query, None if it has none."""
        return self._call(lambda: self.connection.execute(sql, parameters).fetchone())

    def executemany(self, sql: str, parameters: Any) -> None:
        self._call(self.connection.executemany, sql, parameters)

    def executescript(self, script: str) -> None:
        self._call(self.connection.executescript, script)

    def _call(self, method: Callable[..., Any], *arguments: Any) -> Any:
        try:
            return method(*arguments)
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
                raise DamagedError(self.path, "the state database", str(exc)) from None
            raise StoreError(f"{self.path}: state database: {exc}") from None

    def close(self) -> None:
        self.connection.close()


def upgrade_schema(db: Database) -> None:
    """Make the tables an older docmirror left as `SCHEMA` has them: the columns added since,
    added (empty); the columns moved to a table of their own, moved, in one transaction."""
    db.executescript(SCHEMA)
    for table, column, kind in ADDED_COLUMNS:
        if column not in _columns(db, table):
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    for table, column, new_table in MOVED_COLUMNS:
        if column in _columns(db, table):
            db.executescript(
                f"""BEGIN;
                INSERT OR REPLACE INTO {new_table} (url, {column})
                    SELECT url, {column} FROM {table} WHERE {column} IS NOT NULL;
                ALTER TABLE {table} DROP COLUMN {column};
                COMMIT;"""
            )


def _columns(db: Database, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
