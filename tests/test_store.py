"""The data folder: page state in a real SQLite file, cleaned pages as JSON, the link graph,
change history, meta values, removal, transactions and atomic raw files."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from mirror.build.statedb import ADDED_COLUMNS
from mirror.build.store import AssetState, Change, Store, page_from_json, page_to_json
from mirror.clean.extract import clean_page
from mirror.clean.page import Page, Section, Symbol
from mirror.errors import DamagedError, StoreError
from mirror.files import write_atomic, write_if_changed

QUEUE_URL = "https://docs.python.org/3/library/queue.html"
SCHED_URL = "https://docs.python.org/3/library/sched.html"
THREADING_URL = "https://docs.python.org/3/library/threading.html"


def make_page(url: str = QUEUE_URL, links: tuple[str, ...] = (THREADING_URL,)) -> Page:
    return Page(
        url=url,
        title="queue — A synchronized queue class",
        summary="The queue module implements multi-producer, multi-consumer queues.",
        html='<h1 id="q">queue</h1><p>Queues — “typed” ünïcode &amp; more.</p>',
        sections=(Section(anchor="q", title="queue", level=1, text="Queues — “typed” ünïcode"),),
        symbols=(Symbol(name="queue.Queue", kind="class", anchor="queue.Queue", text="FIFO."),),
        links=links,
        assets=("https://docs.python.org/3/_images/q.png",),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "data") as opened:
        yield opened


def fetch(store: Store, url: str = QUEUE_URL, now: float = 100.0, etag: str = '"v1"') -> None:
    store.record_fetch(
        url,
        final_url=url,
        status=200,
        etag=etag,
        last_modified="Mon, 04 Dec 2023 12:09:00 GMT",
        content_type="text/html; charset=utf-8",
        raw_sha256="raw-1",
        now=now,
        raw_size=1000,
    )


# -- state ------------------------------------------------------------------------------


def test_a_new_store_creates_its_database(tmp_path: Path) -> None:
    with Store(tmp_path / "new" / "data") as store:
        assert store.states() == {}
        assert store.links() == {} and store.recent_changes() == []
    assert (tmp_path / "new" / "data" / "state.sqlite3").is_file()


def test_fetch_then_save_page_round_trips_through_states(store: Store) -> None:
    fetch(store)
    state = store.states()[QUEUE_URL]
    assert (state.etag, state.raw_sha256, state.fetched_at, state.checked_at) == (
        '"v1"',
        "raw-1",
        100.0,
        100.0,
    )
    assert state.last_modified == "Mon, 04 Dec 2023 12:09:00 GMT"
    assert not state.has_copy and state.content_hash is None

    page = make_page()
    store.save_page(page, clean_version="cv-1", changed_at=100.0)
    state = store.states()[QUEUE_URL]
    assert state.has_copy
    assert state.content_hash == page.content_hash
    assert (state.clean_version, state.title, state.summary) == ("cv-1", page.title, page.summary)
    assert state.changed_at == 100.0
    assert store.load_page(QUEUE_URL) == page

    store.save_page(page, clean_version="cv-1", changed_at=None)  # unchanged: keeps the time
    assert store.states()[QUEUE_URL].changed_at == 100.0


def test_state_survives_reopening(tmp_path: Path) -> None:
    with Store(tmp_path / "data") as store:
        fetch(store)
        store.save_page(make_page(), "cv-1", 100.0)
    with Store(tmp_path / "data") as store:
        assert store.states()[QUEUE_URL].content_hash == make_page().content_hash
        assert store.load_page(QUEUE_URL) == make_page()


def test_an_error_keeps_the_earlier_copy(store: Store) -> None:
    fetch(store)
    store.save_page(make_page(), "cv-1", 100.0)
    store.record_error(QUEUE_URL, "HTTP 500", now=200.0)
    state = store.states()[QUEUE_URL]
    assert (state.last_error, state.error_at) == ("HTTP 500", 200.0)
    assert state.content_hash == make_page().content_hash
    assert (state.etag, state.raw_sha256, state.fetched_at) == ('"v1"', "raw-1", 100.0)
    assert store.load_page(QUEUE_URL) == make_page()
    fetch(store, now=300.0, etag='"v2"')  # a later success clears the error
    state = store.states()[QUEUE_URL]
    assert (state.last_error, state.error_at, state.etag) == (None, None, '"v2"')


def test_an_error_for_a_new_url_has_no_copy(store: Store) -> None:
    store.record_error(SCHED_URL, "connection refused", now=5.0)
    state = store.states()[SCHED_URL]
    assert state.last_error == "connection refused"
    assert not state.has_copy and state.fetched_at is None
    assert store.load_page(SCHED_URL) is None


def test_not_modified_updates_checked_at_only(store: Store) -> None:
    fetch(store, now=100.0)
    store.save_page(make_page(), "cv-1", 100.0)
    store.record_error(QUEUE_URL, "timeout", now=150.0)
    store.record_not_modified([QUEUE_URL], now=200.0)
    state = store.states()[QUEUE_URL]
    assert state.checked_at == 200.0
    assert state.fetched_at == 100.0 and state.changed_at == 100.0
    assert state.last_error is None and state.error_at is None
    assert state.content_hash == make_page().content_hash


def _rows(store: Store, *urls: str) -> dict[str, dict[str, object]]:
    """Every column of the pages rows of `urls`, read through a connection of its own (what is
    on disk, whatever `states()` leaves out), with the page's links and images."""
    path = store.data_dir / "state.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as other:
        other.row_factory = sqlite3.Row
        rows = {}
        for url in urls:
            row = dict(other.execute("SELECT * FROM pages WHERE url = ?", (url,)).fetchone())
            row["page_json"] = other.execute(
                "SELECT page_json FROM cleaned_pages WHERE url = ?", (url,)
            ).fetchall()
            row["links"] = other.execute("SELECT dst FROM links WHERE src = ?", (url,)).fetchall()
            row["assets"] = other.execute(
                "SELECT url FROM page_assets WHERE page = ?", (url,)
            ).fetchall()
            rows[url] = row
    return rows


def test_an_error_changes_nothing_but_the_error_and_not_modified_clears_it(
    store: Store,
) -> None:
    """A failed refresh must not cost the page its copy: not its validators (the next request
    is still conditional), hashes, cleaned page, marks or links; nor a stub its target."""
    fetch(store, QUEUE_URL, now=100.0)
    store.save_page(make_page(QUEUE_URL), "cv-1", 100.0)
    store.set_rendered(QUEUE_URL, "digest-1", 3, "site-sha-1", "1234 5678")
    store.set_indexed({QUEUE_URL: ("indexed-1", "inputs-1")})
    fetch(store, SCHED_URL, now=100.0)  # an HTML redirect stub
    store.save_redirect(SCHED_URL, QUEUE_URL, "cv-1")
    before = _rows(store, QUEUE_URL, SCHED_URL)
    unset = {"last_error", "error_at", "redirect"}
    assert all(v is not None for k, v in before[QUEUE_URL].items() if k not in unset)
    assert before[SCHED_URL]["redirect"] == QUEUE_URL and before[SCHED_URL]["etag"] == '"v1"'

    for url in (QUEUE_URL, SCHED_URL):
        store.record_error(url, "HTTP 503", now=200.0)
    after = _rows(store, QUEUE_URL, SCHED_URL)
    for url in (QUEUE_URL, SCHED_URL):
        assert after[url] == before[url] | {"last_error": "HTTP 503", "error_at": 200.0}
    assert store.load_page(QUEUE_URL) == make_page(QUEUE_URL)

    store.record_error(QUEUE_URL, "timeout", now=250.0)  # the latest error is the one kept
    assert _rows(store, QUEUE_URL)[QUEUE_URL] == after[QUEUE_URL] | {
        "last_error": "timeout",
        "error_at": 250.0,
    }
    # a 304 at the next refresh: as before the errors
    store.record_not_modified([QUEUE_URL, SCHED_URL], now=300.0)
    assert _rows(store, QUEUE_URL, SCHED_URL) == {
        url: row | {"checked_at": 300.0} for url, row in before.items()
    }


def test_rendered_and_indexed_marks(store: Store) -> None:
    fetch(store)
    store.save_page(make_page(), "cv-1", 100.0)
    store.set_rendered(QUEUE_URL, "digest-1", 3)
    store.set_indexed({QUEUE_URL: (make_page().content_hash, "inputs")})
    state = store.states()[QUEUE_URL]
    assert (state.render_digest, state.offsite_links) == ("digest-1", 3)
    assert (state.indexed_hash, state.index_inputs) == (make_page().content_hash, "inputs")
    store.set_indexed({QUEUE_URL: (None, None)})
    assert store.states()[QUEUE_URL].indexed_hash is None
    assert store.states()[QUEUE_URL].index_inputs is None


# -- pages as JSON ----------------------------------------------------------------------


def test_page_json_round_trip() -> None:
    page = make_page()
    text = page_to_json(page)
    assert "ünïcode" in text  # stored as UTF-8 text, not escaped
    again = page_from_json(text)
    assert again == page
    assert again.content_hash == page.content_hash
    assert isinstance(again.sections, tuple) and isinstance(again.links, tuple)


def test_page_json_round_trip_of_a_cleaned_fixture_page(pages: dict[str, bytes]) -> None:
    page = clean_page(
        pages["/3/library/concurrent.futures.html"],
        "https://docs.python.org/3/library/concurrent.futures.html",
    )
    assert page.symbols and page.sections and page.links
    assert page_from_json(page_to_json(page)) == page


# -- links, changes, meta ---------------------------------------------------------------


def test_links_graph(store: Store) -> None:
    for url in (QUEUE_URL, SCHED_URL):
        fetch(store, url)
    store.save_page(make_page(QUEUE_URL, links=(THREADING_URL, SCHED_URL)), "cv", 1.0)
    store.save_page(make_page(SCHED_URL, links=(QUEUE_URL,)), "cv", 1.0)
    assert store.links() == {
        QUEUE_URL: tuple(sorted((THREADING_URL, SCHED_URL))),
        SCHED_URL: (QUEUE_URL,),
    }
    # saving a page again replaces its outgoing links
    store.save_page(make_page(QUEUE_URL, links=(THREADING_URL,)), "cv", None)
    assert store.links()[QUEUE_URL] == (THREADING_URL,)
    store.save_page(make_page(SCHED_URL, links=()), "cv", None)
    assert SCHED_URL not in store.links()


def test_recent_changes_newest_first(store: Store) -> None:
    store.add_change(Change(at=10.0, url=QUEUE_URL, title="queue", kind="added"))
    store.add_change(Change(at=30.0, url=SCHED_URL, title="sched", kind="added"))
    store.add_change(Change(at=20.0, url=QUEUE_URL, title="queue", kind="changed"))
    store.add_change(Change(at=30.0, url=QUEUE_URL, title="queue", kind="removed"))
    changes = store.recent_changes()
    assert [(c.at, c.url, c.kind) for c in changes] == [
        (30.0, QUEUE_URL, "removed"),  # same time: the later record first
        (30.0, SCHED_URL, "added"),
        (20.0, QUEUE_URL, "changed"),
        (10.0, QUEUE_URL, "added"),
    ]
    assert store.recent_changes(limit=2) == changes[:2]


def test_meta_get_and_set(store: Store) -> None:
    assert store.get_meta("index_version") is None
    store.set_meta("index_version", "1")
    assert store.get_meta("index_version") == "1"
    store.set_meta("index_version", "2")
    assert store.get_meta("index_version") == "2"


# -- removal and transactions -----------------------------------------------------------


def test_remove_forgets_row_links_and_raw_file(store: Store) -> None:
    for url in (QUEUE_URL, SCHED_URL):
        fetch(store, url)
        store.save_raw(url, b"<html>raw</html>")
    store.save_page(make_page(QUEUE_URL, links=(SCHED_URL,)), "cv", 1.0)
    store.save_page(make_page(SCHED_URL, links=(QUEUE_URL,)), "cv", 1.0)
    raw = store.raw_path(QUEUE_URL)
    assert raw.is_file()
    store.remove(QUEUE_URL)
    assert QUEUE_URL not in store.states()
    assert QUEUE_URL not in store.links()
    assert not raw.exists()
    assert store.read_raw(QUEUE_URL) is None and store.load_page(QUEUE_URL) is None
    # the other page is untouched
    assert SCHED_URL in store.states() and store.read_raw(SCHED_URL) == b"<html>raw</html>"
    store.remove(QUEUE_URL)  # twice is fine


def test_transaction_commits(tmp_path: Path, store: Store) -> None:
    with store.transaction():
        fetch(store)
        store.set_meta("k", "v")
    # another connection sees the writes
    with contextlib.closing(sqlite3.connect(tmp_path / "data" / "state.sqlite3")) as other:
        assert other.execute("SELECT count(*) FROM pages").fetchone() == (1,)
        assert other.execute("SELECT value FROM meta").fetchone() == ("v",)


def test_transaction_rolls_back_on_exception(store: Store) -> None:
    fetch(store)
    with pytest.raises(RuntimeError), store.transaction():
        store.save_page(make_page(), "cv-1", 100.0)
        store.record_error(SCHED_URL, "boom", 1.0)
        store.set_meta("k", "v")
        raise RuntimeError("killed in the middle")
    assert store.states()[QUEUE_URL].content_hash is None
    assert SCHED_URL not in store.states()
    assert store.links() == {} and store.get_meta("k") is None
    with store.transaction():  # the connection is usable again
        store.set_meta("k", "v")
    assert store.get_meta("k") == "v"


# -- raw files --------------------------------------------------------------------------


def test_raw_files_are_written_atomically(store: Store) -> None:
    body = b"<html>" + b"x" * 100_000 + b"</html>"
    store.save_raw(QUEUE_URL, body)
    store.save_raw(QUEUE_URL, body + b"<!-- v2 -->")
    path = store.raw_path(QUEUE_URL)
    assert path == store.data_dir / "raw" / "docs.python.org" / "3" / "library" / "queue.html"
    assert store.read_raw(QUEUE_URL) == body + b"<!-- v2 -->"
    assert [p.name for p in path.parent.iterdir()] == ["queue.html"]  # no temp files left


def test_write_atomic_leaves_nothing_behind_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "folder" / "page.html"
    write_atomic(target, b"old")
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in target.parent.iterdir()] == ["page.html"]


def test_write_if_changed_keeps_equal_files_untouched(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.html"
    assert write_if_changed(target, b"one") is True
    old = target.stat().st_mtime_ns - 10_000_000_000  # back-date: any rewrite shows
    os.utime(target, ns=(old, old))
    assert write_if_changed(target, b"one") is False
    assert target.stat().st_mtime_ns == old
    assert write_if_changed(target, b"two") is True
    assert target.read_bytes() == b"two" and target.stat().st_mtime_ns != old
    # same size, different bytes: still written
    assert write_if_changed(target, b"owt") is True and target.read_bytes() == b"owt"


def test_atomic_writes_give_ordinary_file_permissions(tmp_path: Path) -> None:
    import os

    from mirror.files import write_atomic

    target = tmp_path / "page.html"
    write_atomic(target, b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


# -- copies checked, state opened as older versions wrote it ----------------------------


def test_a_raw_copy_is_read_back_checked_against_its_hash(store: Store) -> None:
    body = b"<html>raw</html>"
    assert store.read_raw(QUEUE_URL, hashlib.sha256(body).hexdigest()) is None  # none kept
    store.save_raw(QUEUE_URL, body)
    assert store.read_raw(QUEUE_URL) == body
    assert store.read_raw(QUEUE_URL, hashlib.sha256(body).hexdigest()) == body
    with pytest.raises(DamagedError) as caught:
        store.read_raw(QUEUE_URL, hashlib.sha256(b"other").hexdigest())
    assert caught.value.path == str(store.raw_path(QUEUE_URL))
    assert (caught.value.what, caught.value.reason) == ("the raw page", "sha256 does not match")


def test_raw_damage_is_seen_by_a_stat(store: Store) -> None:
    fetch(store, QUEUE_URL)  # raw_size 1000
    state = store.states()[QUEUE_URL]
    assert store.raw_damage(state) == "missing"
    store.save_raw(QUEUE_URL, b"x" * 1000)
    assert store.raw_damage(state) is None
    store.save_raw(QUEUE_URL, b"x" * 999)
    assert store.raw_damage(state) == "999 bytes, 1000 stored"
    assert store.raw_damage(dataclasses.replace(state, raw_size=None)) is None  # older state


@pytest.mark.parametrize("damage", ["zeroed", "scribbled"])
def test_a_damaged_database_is_found_when_verifying(tmp_path: Path, damage: str) -> None:
    """sqlite tells damage in two ways: an error while `quick_check` reads (a zeroed page), or
    rows saying what is wrong (bytes scribbled over every page); both are damage."""
    data = tmp_path / "data"
    with Store(data) as store:
        for n in range(400):  # pages enough for a table of many b-tree pages
            fetch(store, f"https://docs.example.org/{n}.html")
    database = data / "state.sqlite3"
    body = bytearray(database.read_bytes())
    pages = len(body) // 4096
    if damage == "zeroed":
        middle = pages // 2 * 4096
        body[middle : middle + 4096] = bytes(4096)
    else:
        for page in range(1, pages):
            body[page * 4096 + 2000 : page * 4096 + 2064] = b"\xff" * 64
    database.write_bytes(bytes(body))
    Store(data).close()  # not checked unless asked
    with pytest.raises(DamagedError) as caught:
        Store(data, verify=True)
    assert caught.value.path == str(database) and caught.value.what == "the state database"
    if damage == "zeroed":
        assert caught.value.reason == "database disk image is malformed"
    else:
        with contextlib.closing(sqlite3.connect(database)) as db:
            rows = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
        assert len(rows) >= 2 and caught.value.reason == "; ".join(rows[:2])


def test_a_whole_database_verifies(tmp_path: Path) -> None:
    with Store(tmp_path / "data") as store:
        fetch(store)
    with Store(tmp_path / "data", verify=True) as store:
        assert QUEUE_URL in store.states()


def test_a_state_database_of_an_older_version_gets_the_new_columns(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Store(data) as store:
        fetch(store)
    connection = sqlite3.connect(data / "state.sqlite3")
    for table, column, _ in ADDED_COLUMNS:
        connection.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    connection.commit()
    connection.close()
    with Store(data) as store:
        state = store.states()[QUEUE_URL]
    assert state.etag == '"v1"' and state.raw_size is None and state.redirect is None


def test_an_older_database_has_its_cleaned_pages_moved_out_of_the_states(tmp_path: Path) -> None:
    """Before cleaned pages had a table of their own, `pages.page_json` held them (a redirect
    stub's NULL); opening such a database moves them over, and the states no longer carry them."""
    data = tmp_path / "data"
    page = make_page(QUEUE_URL)
    with Store(data) as store:
        fetch(store, QUEUE_URL)
        fetch(store, SCHED_URL)
        store.save_redirect(SCHED_URL, QUEUE_URL, "cv")
    with contextlib.closing(sqlite3.connect(data / "state.sqlite3")) as older:
        older.executescript(
            "DROP TABLE cleaned_pages; ALTER TABLE pages ADD COLUMN page_json TEXT;"
        )
        older.execute(
            "UPDATE pages SET page_json = ? WHERE url = ?", (page_to_json(page), QUEUE_URL)
        )
        older.commit()
    with Store(data) as store:
        assert store.load_page(QUEUE_URL) == page and store.load_page(SCHED_URL) is None
        assert store.states()[QUEUE_URL].etag == '"v1"'
    with contextlib.closing(sqlite3.connect(data / "state.sqlite3")) as opened:
        columns = {row[1] for row in opened.execute("PRAGMA table_info(pages)")}
        moved = opened.execute("SELECT url FROM cleaned_pages").fetchall()
    assert "page_json" not in columns and moved == [(QUEUE_URL,)]


def test_removing_a_page_or_making_it_a_stub_drops_its_cleaned_page(store: Store) -> None:
    for url in (QUEUE_URL, SCHED_URL):
        fetch(store, url)
        store.save_page(make_page(url), "cv", 1.0)
    store.remove(QUEUE_URL)
    store.save_redirect(SCHED_URL, THREADING_URL, "cv")
    path = store.data_dir / "state.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as other:
        assert other.execute("SELECT count(*) FROM cleaned_pages").fetchone() == (0,)


def test_a_store_that_cannot_be_opened_says_where(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the folder should be")
    with pytest.raises(StoreError, match=r"data: cannot open the state database: "):
        Store(tmp_path / "data")


def test_a_raw_copy_that_cannot_be_written_says_which(store: Store) -> None:
    store.raw_dir.mkdir(parents=True, exist_ok=True)
    blocker = store.raw_path(QUEUE_URL).parent
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the folder should be")
    with pytest.raises(StoreError) as caught:
        store.save_raw(QUEUE_URL, b"<html></html>")
    assert str(caught.value).startswith(f"{store.raw_path(QUEUE_URL)}: cannot write raw page: ")


def test_a_stub_keeps_its_raw_copy_and_loses_its_page(store: Store) -> None:
    fetch(store, QUEUE_URL)
    store.save_page(make_page(QUEUE_URL, links=(SCHED_URL,)), "cv", 1.0)
    store.save_redirect(QUEUE_URL, SCHED_URL, "cv2")
    state = store.states()[QUEUE_URL]
    assert (state.redirect, state.clean_version) == (SCHED_URL, "cv2")
    assert (state.content_hash, state.title, state.summary, state.inventory) == (None,) * 4
    assert state.etag == '"v1"' and state.kept_raw and not state.has_copy
    assert store.load_page(QUEUE_URL) is None
    assert QUEUE_URL not in store.links() and QUEUE_URL not in store.page_assets()


def test_a_pages_images_are_listed_per_page(store: Store) -> None:
    for url in (QUEUE_URL, SCHED_URL):
        fetch(store, url)
    store.save_page(make_page(QUEUE_URL), "cv", 1.0)
    page = make_page(SCHED_URL)
    store.save_page(
        dataclasses.replace(page, assets=("https://x.org/b.png", "https://x.org/a.png")), "cv", 1.0
    )
    assert store.page_assets() == {
        QUEUE_URL: ("https://docs.python.org/3/_images/q.png",),
        SCHED_URL: ("https://x.org/a.png", "https://x.org/b.png"),
    }
    store.remove(SCHED_URL)
    assert list(store.page_assets()) == [QUEUE_URL]


IMAGE = "https://docs.example.org/_images/plot.png"
INVENTORY = "https://docs.example.org/objects.inv"


@pytest.mark.parametrize("kind", ["asset", "inventory"])
def test_a_kept_file_is_written_recorded_and_forgotten(store: Store, kind: str) -> None:
    """Images and inventories: the bytes beside the state, the validators and the hash in it;
    an error keeps both (an image's error is only noted); removing forgets both."""
    url = IMAGE if kind == "asset" else INVENTORY
    save, states, path_of, remove = (
        getattr(store, f"save_{kind}"),
        getattr(store, f"{kind}_states"),
        getattr(store, f"{kind}_path"),
        getattr(store, f"remove_{kind}"),
    )
    folder = "assets" if kind == "asset" else "inventories"
    path = path_of(url)
    assert path == store.data_dir / folder / "_assets" / "docs.example.org" / url.split("/", 3)[3]
    save(url, b"v1 bytes", '"e1"', "Mon, 04 Dec 2023 12:09:00 GMT", 100.0)
    assert path.read_bytes() == b"v1 bytes"
    assert states() == {
        url: AssetState(url, '"e1"', "Mon, 04 Dec 2023 12:09:00 GMT",
                        hashlib.sha256(b"v1 bytes").hexdigest(), 100.0, None)
    }  # fmt: skip
    if kind == "asset":
        store.record_asset_error(url, "HTTP 500")
    else:
        store.record_inventory_error(url, "HTTP 500", drop_copy=False)
    assert states()[url].last_error == "HTTP 500" and states()[url].etag == '"e1"'
    assert path.read_bytes() == b"v1 bytes"
    save(url, b"v2", '"e2"', None, 200.0)
    assert states()[url] == AssetState(
        url, '"e2"', None, hashlib.sha256(b"v2").hexdigest(), 200.0, None
    )
    assert path.read_bytes() == b"v2"
    remove(url)
    assert states() == {} and not path.exists()
    remove(url)  # twice is fine


def test_an_inventory_the_source_no_longer_has_is_dropped(store: Store) -> None:
    store.save_inventory(INVENTORY, b"inv", '"e1"', "Mon, 04 Dec 2023 12:09:00 GMT", 100.0)
    store.record_inventory_error(INVENTORY, "not an inventory", drop_copy=True)
    state = store.inventory_states()[INVENTORY]
    assert (state.etag, state.last_modified, state.sha256) == (None, None, None)
    assert state.last_error == "not an inventory" and store.read_inventory(INVENTORY) is None


def test_a_kept_file_that_cannot_be_written_says_which(store: Store) -> None:
    path = store.asset_path(IMAGE)
    path.parent.parent.mkdir(parents=True, exist_ok=True)
    path.parent.write_text("a file where the folder should be")
    with pytest.raises(StoreError) as caught:
        store.save_asset(IMAGE, b"png", None, None, 1.0)
    assert str(caught.value).startswith(f"{path}: cannot write {IMAGE}: ")
    assert store.asset_states() == {}
