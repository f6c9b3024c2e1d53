"""`docmirror export zim`: a Kiwix ZIM file of a real mirror of the test server's pages, read back
with libzim: main page, metadata, articles, full-text and title searches."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result
from libzim.reader import Archive  # type: ignore[import-untyped]
from libzim.search import Query, Searcher  # type: ignore[import-untyped]
from libzim.suggestion import SuggestionSearcher  # type: ignore[import-untyped]

from mirror.cli import cli
from mirror.urls import local_path_for

from conftest import NAMES, PAGES_DIR, Project, page_path, snapshot


def export(project: Project, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["export", "zim", "-c", str(project.config_path), *args], catch_exceptions=False
    )


def built(project: Project) -> None:
    result = project.run("build", "-q")
    assert result.exit_code == 0, result.output


def path_of(project: Project, name: str) -> str:
    return local_path_for(project.server.url(page_path(name)))


def full_text(archive: Archive, words: str) -> list[str]:
    search = Searcher(archive).search(Query().set_query(words))
    return list(search.getResults(0, 20))


def titles(archive: Archive, words: str) -> list[str]:
    return list(SuggestionSearcher(archive).suggest(words).getResults(0, 20))


def test_the_zim_file_holds_the_site_with_its_indexes(project: Project, tmp_path: Path) -> None:
    built(project)
    target = tmp_path / "out" / "docs.zim"
    result = export(project, "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{target}: 10 pages written; 10 pages, 11 entries\n"
    archive = Archive(target)

    main = archive.main_entry.get_item()
    assert main.path == "index.html"
    home = bytes(main.content).decode()
    assert home == (project.site / "index.html").read_text(encoding="utf-8")

    metadata = {key: bytes(archive.get_metadata(key)) for key in archive.metadata_keys}
    assert metadata["Title"] == b"Test docs"
    assert metadata["Language"] == b"eng"
    assert metadata["Creator"] == b"127.0.0.1"
    assert metadata["Publisher"] == b"docmirror"
    assert re.fullmatch(rb"\d{4}-\d{2}-\d{2}", metadata["Date"])
    assert metadata["Name"] and metadata["Description"]
    png = metadata["Illustration_48x48@1"]
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and struct.unpack(">II", png[16:24]) == (48, 48)

    assert archive.article_count == 11  # the pages and the home page
    assert archive.has_fulltext_index and archive.has_title_index
    for name in NAMES:
        entry = archive.get_entry_by_path(path_of(project, name))
        item = entry.get_item()
        assert item.mimetype == "text/html"
        assert bytes(item.content) == project.page_file(name).read_bytes()
    futures = archive.get_entry_by_path(path_of(project, "concurrent.futures"))
    assert futures.title.startswith("concurrent.futures")
    css = archive.get_entry_by_path("_static/docmirror.css").get_item()
    assert css.mimetype == "text/css"

    assert full_text(archive, "zanzibarite") == [path_of(project, "queue")]
    assert path_of(project, "concurrent.futures") in full_text(archive, "ThreadPoolExecutor")
    assert titles(archive, "shared memory") == [path_of(project, "multiprocessing.shared_memory")]
    assert titles(archive, "sched")[0] == path_of(project, "sched")


def test_a_second_export_writes_nothing_and_a_change_rewrites_it(
    project: Project, tmp_path: Path
) -> None:
    built(project)
    target = tmp_path / "out" / "docs.zim"
    assert export(project, "-o", str(target)).exit_code == 0
    before = snapshot(target.parent)
    again = export(project, "-o", str(target))
    assert again.exit_code == 0
    assert again.stdout == f"{target}: up to date, nothing written (10 pages)\n"
    assert snapshot(target.parent) == before

    original = (PAGES_DIR / page_path("queue").lstrip("/")).read_bytes()
    project.server.set_page(page_path("queue"), original.replace(b"zanzibarite", b"serpentinite"))
    built(project)
    result = export(project, "-o", str(target))
    assert result.stdout == f"{target}: 1 pages written; 10 pages, 11 entries\n"
    assert sorted(p.name for p in target.parent.iterdir()) == [
        "docs.zim",
        "docs.zim.docmirror.json",
    ]
    archive = Archive(target)
    assert full_text(archive, "serpentinite") == [path_of(project, "queue")]
    assert full_text(archive, "zanzibarite") == []


def test_one_source_with_its_own_main_page(project: Project, tmp_path: Path) -> None:
    built(project)
    result = export(project, "--source", "library")
    target = project.root / "exports" / "library.zim"
    assert result.exit_code == 0 and result.stdout.startswith(f"{target}: 10 pages written")
    archive = Archive(target)
    home = bytes(archive.main_entry.get_item().content).decode()
    assert home.count("<li>") == 10 and "<h1>library</h1>" in home
    assert bytes(archive.get_metadata("Title")) == b"library"


def test_bad_input_and_unwritable_output(project: Project, tmp_path: Path) -> None:
    target = tmp_path / "out" / "docs.zim"
    missing = export(project, "-o", str(target))
    assert missing.exit_code == 3 and "run `docmirror build` first" in missing.stderr
    built(project)
    unknown = export(project, "-o", str(target), "--source", "nope")
    assert unknown.exit_code == 2 and "'nope'" in unknown.stderr
    target.parent.mkdir()
    target.mkdir()  # a folder where the file goes
    blocked = export(project, "-o", str(target))
    assert blocked.exit_code == 4, blocked.output
    assert blocked.stderr.count("\n") == 1 and str(target) in blocked.stderr
    assert [p.name for p in target.parent.iterdir()] == ["docs.zim"]  # nothing half-written


def test_build_json_stays_json_with_a_zim_export(project: Project) -> None:
    """libzim tells its progress on the process's stdout: it must not reach `build --json`'s."""
    with project.config_path.open("a", encoding="utf-8") as config:
        config.write("\n[export]\nzim = true\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mirror", "build", "--json", "-c", str(project.config_path)],
        capture_output=True,
        text=True,
        cwd=project.root,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["pages"] == 10
    assert f"{project.root / 'exports' / 'test-docs.zim'}: 10 pages written" in proc.stderr
    assert Archive(project.root / "exports" / "test-docs.zim").article_count == 11
