"""Sphinx inventories (objects.inv): reading them, finding a page's, merging their entries into
its symbols, and fetching them in a build so search knows every API object of a Sphinx site."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sqlite3
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from mirror.build.store import Store, page_from_json, page_to_json
from mirror.clean.extract import clean_page
from mirror.clean.inventory import (
    InventoryEntry,
    entries_by_page,
    index_hash,
    parse_inventory,
    symbol_kind,
    symbols_with_inventory,
)
from mirror.clean.page import Page, Section, Symbol
from mirror.errors import DocmirrorError, InventoryError
from mirror.search.index import SearchIndex

from conftest import PAGES_DIR, Project, page_path

HEADER = (
    b"# Sphinx inventory version 2\n"
    b"# Project: Python\n"
    b"# Version: 3.11\n"
    b"# The remainder of this file is compressed using zlib.\n"
)
BASE = "https://docs.example.org/3/objects.inv"
QUEUE = "https://docs.example.org/3/library/queue.html"
INVENTORY_PATH = "/3/objects.inv"  # the root of the test pages (data-url_root="../")
PYTHON_INVENTORY = Path("/usr/share/doc/python3.11/html/objects.inv")


def inventory(*lines: str, header: bytes = HEADER) -> bytes:
    """An objects.inv in Sphinx's format, as Sphinx writes it."""
    return header + zlib.compress("".join(f"{line}\n" for line in lines).encode("utf-8"))


# -- parsing ---------------------------------------------------------------------------------


def test_parse_resolves_shorthands_and_keeps_api_roles() -> None:
    data = inventory(
        "queue py:module 0 library/queue.html#module-$ -",
        "queue.Queue.put py:method 1 library/queue.html#$ -",
        "queue.Queue py:class 1 library/queue.html#queue.Queue Queue",
        "PyObject_Call c:function 1 c-api/call.html#c.$ -",
        "--verbose std:cmdoption 1 using/cmdline.html#cmdoption-verbose -",
        "PYTHONPATH std:envvar 1 using/cmdline.html#envvar-$ -",
        "global interpreter lock std:term -1 glossary.html#term-global-interpreter-lock -",
        "BINARY_OP std:opcode 1 library/dis.html#opcode-$ -",
    )
    entries = parse_inventory(data, BASE)
    assert entries == (
        InventoryEntry("queue", "py:module", QUEUE, "module-queue"),
        InventoryEntry("queue.Queue.put", "py:method", QUEUE, "queue.Queue.put"),
        InventoryEntry("queue.Queue", "py:class", QUEUE, "queue.Queue"),
        InventoryEntry(
            "PyObject_Call",
            "c:function",
            "https://docs.example.org/3/c-api/call.html",
            "c.PyObject_Call",
        ),
        InventoryEntry(
            "--verbose",
            "std:cmdoption",
            "https://docs.example.org/3/using/cmdline.html",
            "cmdoption-verbose",
        ),
        InventoryEntry(
            "PYTHONPATH",
            "std:envvar",
            "https://docs.example.org/3/using/cmdline.html",
            "envvar-PYTHONPATH",
        ),
        InventoryEntry(  # a name with spaces, kept although Sphinx gives terms priority -1
            "global interpreter lock",
            "std:term",
            "https://docs.example.org/3/glossary.html",
            "term-global-interpreter-lock",
        ),
        InventoryEntry(
            "BINARY_OP",
            "std:opcode",
            "https://docs.example.org/3/library/dis.html",
            "opcode-BINARY_OP",
        ),
    )


def test_parse_skips_labels_pages_tokens_parameters_and_hidden_entries() -> None:
    data = inventory(
        "asyncio-dev std:label -1 library/asyncio-dev.html#$ Developing with asyncio",
        "library/queue std:doc -1 library/queue.html queue — A synchronized queue class",
        "atom std:token -1 reference/expressions.html#grammar-token-python-grammar-atom -",
        "PyObject_Call.args c:functionParam 1 c-api/call.html#c.PyObject_Call -",
        "queue._private py:function -1 library/queue.html#$ -",
        "queue.nowhere py:function 1 library/queue.html -",  # no anchor: nothing to link to
        "odd line without fields",
        "queue.Full py:exception 1 library/queue.html#$ -",
    )
    assert parse_inventory(data, BASE) == (
        InventoryEntry("queue.Full", "py:exception", QUEUE, "queue.Full"),
    )


def test_parse_normalises_page_urls_like_mirrored_pages() -> None:
    data = inventory(
        "queue.Empty py:exception 1 library/./sub/../queue.html#$ -",
        "queue.Full py:exception 1 https://other.example.org/x.html#$ -",
        "queue.mail py:data 1 mailto:someone@example.org#x -",
    )
    entries = parse_inventory(data, "HTTPS://Docs.Example.org:443/3/objects.inv")
    assert [(e.page_url, e.anchor) for e in entries] == [
        (QUEUE, "queue.Empty"),
        ("https://other.example.org/x.html", "queue.Full"),
    ]
    # the documentation root works as the base too
    assert parse_inventory(data, "https://docs.example.org/3/")[0].page_url == QUEUE


def test_kind_comes_from_the_role() -> None:
    assert symbol_kind("py:method") == "method"
    assert symbol_kind("py:class") == "class"
    assert symbol_kind("std:term") == "term"
    assert symbol_kind("std:cmdoption") == "option"  # the class Sphinx gives its <dl>
    assert symbol_kind("cpp:function") == "function"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a Sphinx inventory"),
        (b"<!DOCTYPE html><html>Not found</html>", "not a Sphinx inventory"),
        (b"# Sphinx inventory version 1\n# Project: X\n# Version: 1\nx mod x\n", "version 1"),
        (b"# Sphinx inventory version 3\n", "version 3"),
        (b"# Sphinx inventory version 2\n# Project: X\n", "incomplete"),
        (HEADER + b"this is not zlib data", "not zlib"),
        (inventory("queue.Full py:exception 1 library/queue.html#$ -")[:-6], "truncated"),
    ],
)
def test_unreadable_inventories_raise_inventory_error(data: bytes, message: str) -> None:
    with pytest.raises(InventoryError, match=message) as caught:
        parse_inventory(data, BASE)
    assert isinstance(caught.value, DocmirrorError)


@pytest.mark.skipif(not PYTHON_INVENTORY.exists(), reason="python3.11-doc is not installed")
def test_parse_the_python_documentation_inventory() -> None:
    entries = parse_inventory(
        PYTHON_INVENTORY.read_bytes(), "https://docs.python.org/3/objects.inv"
    )
    found = {(e.name, e.role): e for e in entries}
    communicate = found["subprocess.Popen.communicate", "py:method"]
    assert communicate.page_url == "https://docs.python.org/3/library/subprocess.html"
    assert communicate.anchor == "subprocess.Popen.communicate"
    executor = found["concurrent.futures.ThreadPoolExecutor", "py:class"]
    assert executor.page_url == "https://docs.python.org/3/library/concurrent.futures.html"
    assert found["queue", "py:module"].anchor == "module-queue"
    assert found["global interpreter lock", "std:term"].anchor == "term-global-interpreter-lock"
    roles = {e.role for e in entries}
    assert not roles & {"std:label", "std:doc", "std:token", "c:functionParam"}
    assert len(entries) > 10_000


# -- merging into a page's symbols -----------------------------------------------------------


def queue_page(*symbols: Symbol, url: str = QUEUE) -> Page:
    return Page(
        url=url,
        title="queue — A synchronized queue class",
        summary="",
        html="<p>queue</p>",
        sections=(Section("module-queue", "queue — A synchronized queue class", 1, "queue"),),
        symbols=symbols,
        links=(),
        assets=(),
        inventory="https://docs.example.org/3/objects.inv",
    )


def test_inventory_entries_name_and_kind_the_symbols_of_their_page() -> None:
    page = queue_page(
        Symbol("queue.Queue", "class", "queue.Queue", "Constructor for a FIFO queue."),
        Symbol("queue.Queue.put", "entry", "queue.Queue.put", "Put item into the queue."),
        Symbol("helper", "function", "helper", "Only the page knows it."),
    )
    entries = (
        InventoryEntry("queue.Queue.qsize", "py:method", QUEUE, "queue.Queue.qsize"),
        InventoryEntry("queue.Queue.put", "py:method", QUEUE, "queue.Queue.put"),
        InventoryEntry("queue", "py:module", QUEUE, "module-queue"),
        InventoryEntry("queue.Queue.put", "py:function", QUEUE, "queue.Queue.put"),  # duplicate
        InventoryEntry("queue.Queue", "py:class", QUEUE, "queue.Queue"),
        InventoryEntry("other.thing", "py:class", "https://docs.example.org/3/x.html", "other"),
    )
    merged = symbols_with_inventory(page, entries)
    assert merged.symbols == (
        Symbol("queue.Queue", "class", "queue.Queue", "Constructor for a FIFO queue."),
        Symbol("queue.Queue.put", "method", "queue.Queue.put", "Put item into the queue."),
        Symbol("helper", "function", "helper", "Only the page knows it."),
        Symbol("queue.Queue.qsize", "method", "queue.Queue.qsize", ""),
        Symbol("queue", "module", "module-queue", ""),
    )
    assert dataclasses.replace(merged, symbols=page.symbols) == page  # nothing else changes
    assert symbols_with_inventory(page, ()) is page
    assert symbols_with_inventory(page, entries[-1:]) is page


def test_index_hash_covers_content_and_the_pages_entries() -> None:
    put = InventoryEntry("queue.Queue.put", "py:method", QUEUE, "queue.Queue.put")
    qsize = InventoryEntry("queue.Queue.qsize", "py:method", QUEUE, "queue.Queue.qsize")
    assert index_hash("abc", ()) == "abc"  # pages without entries keep their indexed version
    assert index_hash("abc", (put, qsize)) == index_hash("abc", (qsize, put))
    assert index_hash("abc", (put, qsize)) not in {"abc", index_hash("abd", (put, qsize))}
    assert index_hash("abc", (put,)) != index_hash("abc", (put, qsize))
    renamed = dataclasses.replace(put, role="py:function")
    assert index_hash("abc", (put,)) != index_hash("abc", (renamed,))
    grouped = entries_by_page((put, qsize, InventoryEntry("x", "py:class", BASE, "x")))
    assert grouped == {QUEUE: (put, qsize), BASE: (InventoryEntry("x", "py:class", BASE, "x"),)}


# -- finding a page's inventory --------------------------------------------------------------


def sphinx_page(head: str, html_attributes: str = "") -> bytes:
    return (
        f"<!DOCTYPE html><html lang='en'{html_attributes}><head><title>mod</title>{head}</head>"
        "<body><div role='main'><h1>mod</h1><p>Text.</p></div></body></html>"
    ).encode()


PAGE_URL = "https://docs.example.org/en/latest/api/mod.html"


@pytest.mark.parametrize(
    ("head", "html_attributes", "expected"),
    [
        (  # Sphinx before 7.2: the root on script#documentation_options
            '<script id="documentation_options" data-url_root="../"'
            ' src="../_static/documentation_options.js"></script>',
            "",
            "https://docs.example.org/en/latest/objects.inv",
        ),
        (  # Sphinx 7.2 and later: the root on <html>
            '<script src="../_static/documentation_options.js?v=5929fcd5"></script>',
            ' data-content_root="../"',
            "https://docs.example.org/en/latest/objects.inv",
        ),
        (  # a page at the root itself
            '<script id="documentation_options" data-url_root="./"'
            ' src="_static/documentation_options.js"></script>',
            "",
            "https://docs.example.org/en/latest/api/objects.inv",
        ),
        (  # no data attribute: the folder holding _static/ is the root
            '<script src="../../latest/_static/searchtools.js"></script>',
            "",
            "https://docs.example.org/en/latest/objects.inv",
        ),
        (  # a generator meta tag is enough with the attribute
            '<meta name="generator" content="Sphinx 7.2.6">',
            ' data-content_root="../"',
            "https://docs.example.org/en/latest/objects.inv",
        ),
        (  # a root on another host is not taken
            '<script id="documentation_options" data-url_root="https://evil.example/"'
            ' src="https://evil.example/_static/documentation_options.js"></script>',
            "",
            "",
        ),
        (  # an attribute alone does not make a page Sphinx's
            '<script src="../assets/app.js"></script>',
            ' data-content_root="../"',
            "",
        ),
    ],
)
def test_inventory_url_is_found_on_sphinx_pages(
    head: str, html_attributes: str, expected: str
) -> None:
    page = clean_page(sphinx_page(head, html_attributes), PAGE_URL)
    assert page.inventory == expected
    assert page.title == "mod" and "Text." in page.html


def test_inventory_url_of_the_test_pages_and_of_other_generators() -> None:
    body = (PAGES_DIR / "3" / "library" / "queue.html").read_bytes()
    assert clean_page(body, QUEUE).inventory == "https://docs.example.org/3/objects.inv"
    families = PAGES_DIR / "families"
    for name in ("mkdocs.html", "mkdocs-material.html", "docusaurus.html"):
        page = clean_page((families / name).read_bytes(), "https://docs.example.org/a/b.html")
        assert page.inventory == "", name


def test_the_inventory_url_is_not_content() -> None:
    body = (PAGES_DIR / "3" / "library" / "queue.html").read_bytes()
    page = clean_page(body, QUEUE)
    assert page.inventory
    assert dataclasses.replace(page, inventory="").content_hash == page.content_hash
    assert page_from_json(page_to_json(page)) == page
    stored_before = json.loads(page_to_json(page))
    del stored_before["inventory"]  # a page stored by an earlier version
    assert page_from_json(json.dumps(stored_before)) == dataclasses.replace(page, inventory="")


def test_a_state_database_from_before_inventories_is_upgraded(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        page = clean_page((PAGES_DIR / "3" / "library" / "queue.html").read_bytes(), QUEUE)
        store.record_fetch(
            QUEUE,
            final_url=QUEUE,
            status=200,
            etag=None,
            last_modified=None,
            content_type="text/html",
            raw_sha256="0",
            now=1.0,
        )
        store.save_page(page, "v", changed_at=1.0)
    db = sqlite3.connect(tmp_path / "state.sqlite3")
    db.execute("ALTER TABLE pages DROP COLUMN inventory")
    db.execute("DROP TABLE inventories")
    db.commit()
    db.close()
    with Store(tmp_path) as store:
        assert store.states()[QUEUE].inventory is None
        assert store.inventory_states() == {}
        store.save_page(page, "v", changed_at=None)
        assert store.states()[QUEUE].inventory == "https://docs.example.org/3/objects.inv"


# -- in a build ------------------------------------------------------------------------------

INVENTORY_LINES = (
    "queue py:module 0 library/queue.html#module-$ -",
    "queue.Queue py:class 1 library/queue.html#$ -",
    "queue.Queue.put py:method 1 library/queue.html#$ -",
    "queue.Queue.qsize py:method 1 library/queue.html#$ -",  # the page has no entry for it
    "threading.Lock py:class 1 library/threading.html#$ -",
    "threading.Lock.locked py:method 1 library/threading.html#$ -",
    "library/queue std:doc -1 library/queue.html queue — A synchronized queue class",
    "queue-objects std:label -1 library/queue.html#$ Queue Objects",
    "global interpreter lock std:term -1 glossary.html#term-global-interpreter-lock -",
)


def serve_inventory(project: Project, *lines: str) -> None:
    project.server.set_page(
        INVENTORY_PATH, inventory(*lines), content_type="application/octet-stream"
    )


def build(project: Project, *args: str) -> dict:
    result = project.run("build", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def hits(project: Project, query: str) -> list[str]:
    """The source URLs (with anchors) search gives for `query`."""
    search_index = SearchIndex(project.data / "index")
    try:
        return [hit.url for hit in search_index.search(query, limit=20)]
    finally:
        search_index.close()


def stored_kind(project: Project, key: str) -> str | None:
    """The kind the search index stores for the document `key` (url#anchor)."""
    ix = whoosh_index.open_dir(str(project.data / "index"))
    with ix.searcher() as searcher:
        # the key is a stored column, not a term: look through the stored documents
        fields = next((f for f in searcher.all_stored_fields() if f["key"] == key), None)
    return None if fields is None else str(fields["kind"])


def url_of(project: Project, name: str, anchor: str) -> str:
    return f"{project.server.url(page_path(name))}#{anchor}"


def test_inventory_entries_become_searchable_symbols(project: Project) -> None:
    serve_inventory(project, *INVENTORY_LINES)
    report = build(project)
    assert report["inventories"] == 1 and report["inventories_failed"] == []
    qsize = url_of(project, "queue", "queue.Queue.qsize")
    assert qsize in hits(project, "qsize")  # known from the inventory only
    assert qsize in hits(project, "queue.Queue.qsize")
    assert stored_kind(project, qsize) == "method"
    assert stored_kind(project, url_of(project, "threading", "threading.Lock.locked")) == "method"
    # what clean found for entries the inventory names too is still there
    put = url_of(project, "queue", "queue.Queue.put")
    assert put in hits(project, "queue.Queue.put") and stored_kind(project, put) == "method"
    # the raw inventory is kept in the data folder
    copies = list((project.data / "inventories").rglob("objects.inv"))
    assert [c.read_bytes() for c in copies] == [project.server.body_of(INVENTORY_PATH)]


def test_refresh_is_conditional_and_reindexes_only_pages_whose_entries_changed(
    project: Project,
) -> None:
    serve_inventory(project, *INVENTORY_LINES)
    assert build(project)["indexed"] == 10

    project.server.reset_log()
    report = build(project)
    assert report["indexed"] == 0 and report["inventories"] == 1
    (request,) = project.server.requests_for(INVENTORY_PATH)
    assert request.headers.get("If-None-Match") == project.server.etag_for(INVENTORY_PATH)

    # a new entry for the queue page only
    serve_inventory(
        project, *INVENTORY_LINES, "queue.Queue.get_nowait py:method 1 library/queue.html#$ -"
    )
    report = build(project)
    assert report["indexed"] == 1 and report["not_modified"] == 10
    assert url_of(project, "queue", "queue.Queue.get_nowait") in hits(project, "get_nowait")

    # the inventory is gone: the two pages it had entries for fall back to clean's symbols
    project.server.remove_page(INVENTORY_PATH)
    report = build(project)
    assert report["indexed"] == 2 and report["inventories"] == 0
    assert [f["url"] for f in report["inventories_failed"]] == [project.server.url(INVENTORY_PATH)]
    assert hits(project, "get_nowait") == [] and hits(project, "qsize") == []
    assert url_of(project, "queue", "queue.Queue.put") in hits(project, "queue.Queue.put")
    assert not list((project.data / "inventories").rglob("objects.inv"))


@pytest.mark.parametrize("fault", ["missing", "server error", "html", "bad zlib"])
def test_a_broken_inventory_falls_back_to_the_symbols_clean_found(
    make_project: Callable[..., Project], fault: str
) -> None:
    project = make_project(retries=0)
    if fault == "server error":
        serve_inventory(project, *INVENTORY_LINES)
        project.server.fail(INVENTORY_PATH, 500, times=None)
    elif fault == "html":  # a site answering 200 with its "not found" page
        project.server.set_page(INVENTORY_PATH, b"<html><body>Not found</body></html>")
    elif fault == "bad zlib":
        project.server.set_page(
            INVENTORY_PATH, HEADER + b"\x00garbage", content_type="application/octet-stream"
        )
    report = build(project)
    assert report["failed"] == [] and report["pages"] == 10 and report["indexed"] == 10
    assert report["inventories"] == 0
    assert [f["url"] for f in report["inventories_failed"]] == [project.server.url(INVENTORY_PATH)]
    assert hits(project, "qsize") == []
    put = url_of(project, "queue", "queue.Queue.put")
    assert put in hits(project, "queue.Queue.put") and stored_kind(project, put) == "method"


def test_a_failed_refresh_keeps_the_last_good_inventory(
    make_project: Callable[..., Project],
) -> None:
    project = make_project(retries=0)
    serve_inventory(project, *INVENTORY_LINES)
    build(project)
    project.server.fail(INVENTORY_PATH, 503, times=None)
    report = build(project)
    assert report["indexed"] == 0 and report["inventories"] == 1
    (failure,) = report["inventories_failed"]
    assert failure["kept_copy"] is True and "503" in failure["error"]
    assert url_of(project, "queue", "queue.Queue.qsize") in hits(project, "qsize")


def test_offline_builds_use_the_stored_inventory(project: Project) -> None:
    serve_inventory(project, *INVENTORY_LINES)
    build(project)
    project.server.stop()
    shutil.rmtree(project.data / "index")  # so that every page is indexed again, offline
    report = build(project, "--offline")
    assert report["indexed"] == 10 and report["inventories"] == 1
    qsize = url_of(project, "queue", "queue.Queue.qsize")
    assert qsize in hits(project, "qsize") and stored_kind(project, qsize) == "method"


def test_robots_txt_applies_to_inventories(project: Project) -> None:
    serve_inventory(project, *INVENTORY_LINES)
    project.server.set_page(
        "/robots.txt", b"User-agent: *\nDisallow: /3/objects.inv\n", content_type="text/plain"
    )
    report = build(project)
    assert report["failed"] == [] and report["inventories"] == 0
    assert project.server.requests_for(INVENTORY_PATH) == []
    assert "robots.txt" in report["inventories_failed"][0]["error"]
    assert hits(project, "qsize") == []
