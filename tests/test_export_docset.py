"""`docmirror export docset`: Dash/Zeal docsets of a real mirror of the test server's pages, read
back with sqlite3 and plistlib; fresh at no cost, updated page by page, and bad input refused."""

from __future__ import annotations

import plistlib
import re
import sqlite3
import zlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from click.testing import CliRunner, Result

from mirror.cli import cli
from mirror.urls import local_path_for

from conftest import NAMES, PAGES_DIR, Project, page_path, snapshot

INVENTORY = (
    "queue py:module 0 library/queue.html#module-$ -",
    "queue.Queue py:class 1 library/queue.html#$ -",
    "queue.Queue.put py:method 1 library/queue.html#$ -",
    "queue.Queue.put_item py:method 1 library/queue.html#queue.Queue.put -",  # a second name
    "queue.Empty py:exception 1 library/queue.html#$ -",
)


def serve_inventory(project: Project) -> None:
    """The test pages' Sphinx inventory (`objects.inv` at their root), as Sphinx writes it."""
    body = zlib.compress("".join(f"{line}\n" for line in INVENTORY).encode())
    header = (
        b"# Sphinx inventory version 2\n# Project: Test\n# Version: 3\n"
        b"# The remainder of this file is compressed using zlib.\n"
    )
    project.server.set_page("/3/objects.inv", header + body, content_type="text/plain")


def export(project: Project, *args: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["export", "docset", "-c", str(project.config_path), *args],
        catch_exceptions=False,
    )


def built(project: Project) -> None:
    result = project.run("build", "-q")
    assert result.exit_code == 0, result.output


def rows(docset: Path) -> set[tuple[str, str, str]]:
    with sqlite3.connect(docset / "Contents/Resources/docSet.dsidx") as db:
        return set(db.execute("SELECT name, type, path FROM searchIndex"))


def documents(docset: Path) -> Path:
    return docset / "Contents/Resources/Documents"


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "link" and values.get("href"):
            self.links.append(values["href"] or "")


def parse(path: Path) -> _Ids:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def page_in_docset(project: Project, docset: Path, name: str) -> Path:
    return documents(docset) / local_path_for(project.server.url(page_path(name)))


def test_docset_holds_the_pages_their_entries_and_anchors(project: Project, tmp_path: Path) -> None:
    serve_inventory(project)
    built(project)
    out = tmp_path / "out"
    result = export(project, "-o", str(out))
    assert result.exit_code == 0, result.output
    docset = out / "library.docset"
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{docset}: 10 pages written; 10 pages, ")

    info = plistlib.loads((docset / "Contents/Info.plist").read_bytes())
    first = local_path_for(project.server.url(page_path(NAMES[0])))
    assert info == {
        "CFBundleIdentifier": "docmirror.library",
        "CFBundleName": "library",
        "DocSetPlatformFamily": "library",
        "isDashDocset": True,
        "dashIndexFilePath": first,
        "DashDocSetFamily": "dashtoc",
        "isJavaScriptEnabled": False,
    }
    assert (documents(docset) / first).is_file()

    found = rows(docset)
    pairs = {(name, kind) for name, kind, _ in found}
    queue = local_path_for(project.server.url(page_path("queue")))
    assert {
        ("queue", "Module"),
        ("queue.Queue", "Class"),
        ("queue.Queue.put", "Method"),
        ("queue.Queue.put_item", "Method"),  # both names of one object
        ("queue.Empty", "Exception"),
        ("queue.Queue.get", "Method"),  # found by clean alone, kinded by its <dl>
        ("concurrent.futures.ThreadPoolExecutor", "Class"),
        ("concurrent.futures.Executor.submit", "Method"),
        ("Queue Objects", "Section"),
    } <= pairs
    assert (f"{queue}#queue.Queue.put", "queue.Queue.put_item") in {(p, n) for n, _, p in found}
    guides = {name for name, kind, _ in found if kind == "Guide"}
    assert len(guides) == 10 and "queue — A synchronized queue class" in guides
    with sqlite3.connect(docset / "Contents/Resources/docSet.dsidx") as db:
        columns = [row[1:3] for row in db.execute("PRAGMA table_info(searchIndex)")]
        unique = [row for row in db.execute("PRAGMA index_list(searchIndex)") if row[2]]
        indexed = [r[2] for r in db.execute(f"PRAGMA index_info({unique[0][1]})")]
    assert columns == [("id", "INTEGER"), ("name", "TEXT"), ("type", "TEXT"), ("path", "TEXT")]
    assert indexed == ["name", "type", "path"]

    anchored = 0
    for name, kind, path in found:
        file, _, anchor = path.partition("#")
        target = documents(docset) / unquote(file)
        assert target.is_file(), path
        if anchor:
            anchored += 1
            assert unquote(anchor) in parse(target).ids, path
        else:
            assert kind == "Guide", (name, kind)  # every entry of these pages has its element
    assert anchored == len(found) - 10

    text = (documents(docset) / queue).read_text(encoding="utf-8")
    for ref, element in (
        ("Class/queue.Queue", '<dt class="sig sig-object py" id="queue.Queue">'),
        ("Method/queue.Queue.put", '<dt class="sig sig-object py" id="queue.Queue.put">'),
        ("Section/Queue%20Objects", '<section id="queue-objects">'),
    ):
        tag = f'<a name="//apple_ref/cpp/{ref}" class="dashAnchor"></a>'
        assert tag in text, ref
        assert re.search(re.escape(tag) + r"(<a [^>]*dashAnchor[^>]*></a>)*" + re.escape(element),
                         text), ref  # fmt: skip
    stylesheets = parse(documents(docset) / queue).links
    assert stylesheets and all(
        (documents(docset) / queue).parent.joinpath(unquote(href)).resolve().is_file()
        for href in stylesheets
    )
    assert (documents(docset) / "index.html").read_text(encoding="utf-8").count("<li>") == 10


def test_an_export_with_nothing_changed_writes_nothing(project: Project, tmp_path: Path) -> None:
    built(project)
    out = tmp_path / "out"
    assert export(project, "-o", str(out)).exit_code == 0
    before = snapshot(out)
    assert built(project) is None  # a build with nothing changed upstream
    again = export(project, "-o", str(out))
    assert again.exit_code == 0
    assert "up to date, nothing written" in again.stdout
    assert snapshot(out) == before


def test_a_changed_page_changes_only_its_file_and_entries(project: Project, tmp_path: Path) -> None:
    serve_inventory(project)
    built(project)
    out = tmp_path / "out"
    assert export(project, "-o", str(out)).exit_code == 0
    docset = out / "library.docset"
    before, rows_before = snapshot(out), rows(docset)

    body = (PAGES_DIR / page_path("queue").lstrip("/")).read_text(encoding="utf-8")
    changed = body.replace("zanzibarite", "serpentinite").replace(
        "queue.Queue.join", "queue.Queue.wait"
    )
    assert changed != body
    project.server.set_page(page_path("queue"), changed.encode())
    built(project)
    result = export(project, "-o", str(out))
    assert result.exit_code == 0 and "1 pages written" in result.stdout

    queue = local_path_for(project.server.url(page_path("queue")))
    after = snapshot(out)
    differ = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    resources = "library.docset/Contents/Resources"
    assert differ == {
        f"{resources}/Documents/{queue}",
        f"{resources}/docSet.dsidx",
        "library.docset/docmirror.json",
    }
    assert "serpentinite" in after[f"{resources}/Documents/{queue}"][0].decode()
    gone, new = rows_before - rows(docset), rows(docset) - rows_before
    assert {(n, t) for n, t, _ in gone} == {("queue.Queue.join", "Method")}
    assert {(n, t) for n, t, _ in new} == {("queue.Queue.wait", "Method")}
    assert all(p.startswith(queue + "#") for _, _, p in gone | new)


def test_a_removed_page_leaves_the_docset(project: Project, tmp_path: Path) -> None:
    built(project)
    out = tmp_path / "out"
    assert export(project, "-o", str(out)).exit_code == 0
    project.write_config(NAMES[:-1])
    built(project)
    result = export(project, "-o", str(out))
    assert result.exit_code == 0 and "1 removed" in result.stdout
    gone = local_path_for(project.server.url(page_path(NAMES[-1])))
    docset = out / "library.docset"
    assert not (documents(docset) / gone).exists()
    assert not [path for _, _, path in rows(docset) if path.startswith(gone)]
    assert len({n for n, t, _ in rows(docset) if t == "Guide"}) == 9


def one_error(result: Result, code: int, *words: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("docmirror: error: "), result.stderr
    assert all(word in lines[0] for word in words), lines[0]
    assert "Traceback" not in result.output


def test_bad_input_is_one_line_its_exit_code_and_nothing_written(
    project: Project, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    one_error(export(project, "-o", str(out)), 3, "run `docmirror build` first")
    assert not out.exists()
    built(project)
    one_error(export(project, "-o", str(out), "--source", "nope"), 2, "'nope'", "library")
    assert not out.exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way", encoding="utf-8")
    one_error(export(project, "-o", str(blocker / "out")), 4, str(blocker / "out"))
    out.mkdir()
    (out / "library.docset").write_text("a file where the docset goes", encoding="utf-8")
    one_error(export(project, "-o", str(out)), 4, "library.docset")
    assert [p.name for p in out.iterdir()] == ["library.docset"]  # no temporary folder left
    assert (out / "library.docset").read_text(encoding="utf-8") == "a file where the docset goes"


def test_build_keeps_the_configured_exports_current(project: Project) -> None:
    with project.config_path.open("a", encoding="utf-8") as config:
        config.write('\n[export]\ndocset = true\ndir = "exp"\n')
    result = project.run("build")
    assert result.exit_code == 0, result.output
    docset = project.root / "exp" / "library.docset"
    assert f"{docset}: 10 pages written" in result.stdout
    assert len({n for n, t, _ in rows(docset) if t == "Guide"}) == 10
    again = project.run("build")
    assert f"{docset}: up to date, nothing written" in again.stdout


def test_export_config_keys_are_checked(project: Project) -> None:
    text = project.config_path.read_text(encoding="utf-8")
    for table, key in (('docset = "yes"', "export.docset"), ("format = 1", "export.format")):
        project.config_path.write_text(f"{text}\n[export]\n{table}\n", encoding="utf-8")
        one_error(project.run("build", "-q"), 2, str(project.config_path), key)
