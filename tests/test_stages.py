"""What each stage's stored output depends on: a change in any module a stage runs (not only the
stage's own module) redoes that stage's outputs at the next build, and nothing else does."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from mirror.search.index import SCORED_FIELDS
from mirror.search.query import FIELD_BOOSTS
from mirror.stages import QUERY_TIME, STAGE_EXCLUDED, STAGE_MODULES, package_imports

from conftest import Project

REPO = Path(__file__).parent.parent


def test_each_stage_counts_the_modules_it_imports() -> None:
    assert package_imports(*STAGE_MODULES["clean"]) >= {"mirror.clean.extract", "mirror.urls"}
    assert "mirror.urls" in package_imports(*STAGE_MODULES["render"])
    assert "mirror.search.analysis" in package_imports(*STAGE_MODULES["index"])
    assert "mirror.fetch.crawl" not in package_imports(*STAGE_MODULES["clean"])


def test_the_index_does_not_count_the_query_time_code_and_the_export_does() -> None:
    index = package_imports(*STAGE_MODULES["index"], excluded=STAGE_EXCLUDED["index"])
    assert not index & set(QUERY_TIME)
    assert {"mirror.search.analysis", "mirror.search.whoosh_fast"} <= index
    assert set(QUERY_TIME) <= package_imports(*STAGE_MODULES["export"])
    assert list(FIELD_BOOSTS) == list(SCORED_FIELDS)  # the statistics keep what ranking weighs


def copy_of_the_package(root: Path) -> Path:
    shutil.copytree(REPO / "mirror", root / "mirror", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "site_templates", root / "site_templates")
    return root


def build_with(package: Path, project: Project) -> dict:
    env = {**os.environ, "PYTHONPATH": str(package)}
    proc = subprocess.run(
        [sys.executable, "-m", "mirror", "build", "--json", "-c", str(project.config_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=package,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def column(project: Project, name: str) -> set[str]:
    with sqlite3.connect(project.data / "state.sqlite3") as db:
        return {row[0] for row in db.execute(f"SELECT {name} FROM pages")}


def clean_versions(project: Project) -> set[str]:
    return column(project, "clean_version")


def test_a_change_in_urls_py_recleans_reindexes_and_rerenders(
    project: Project, tmp_path: Path
) -> None:
    package = copy_of_the_package(tmp_path / "code")
    first = build_with(package, project)
    assert first["new"] == 10
    before = clean_versions(project)
    rendered = column(project, "render_digest")
    same = build_with(package, project)  # nothing changed: nothing redone
    assert (same["rendered"], same["indexed"], same["not_modified"]) == (0, 0, 10)
    assert clean_versions(project) == before

    urls = package / "mirror" / "urls.py"
    text = urls.read_text(encoding="utf-8")
    marker = "def split_fragment(url: str) -> tuple[str, str]:\n"
    assert marker in text
    urls.write_text(text.replace(marker, marker + "    url = str(url)\n"), encoding="utf-8")
    changed = build_with(package, project)
    after = clean_versions(project)
    assert len(after) == 1 and after != before  # every page cleaned again, by the new code
    # rendered again (the same bytes, so no file is written) and indexed again
    assert not column(project, "render_digest") & rendered and changed["indexed"] == 10
    assert changed["new"] == changed["updated"] == 0  # the same content: no change to report

    again = build_with(package, project)
    assert (again["rendered"], again["indexed"]) == (0, 0) and clean_versions(project) == after
    assert len(column(project, "render_digest")) == 10


def test_a_change_in_the_ranking_exports_again_and_indexes_nothing(
    project: Project, tmp_path: Path
) -> None:
    package = copy_of_the_package(tmp_path / "code")
    build_with(package, project)
    meta = project.site / "_static" / "search" / "meta.js"
    query = package / "mirror" / "search" / "query.py"
    text = query.read_text(encoding="utf-8")
    assert "B, K1 = 0.75, 4.0\n" in text
    query.write_text(text.replace("B, K1 = 0.75, 4.0\n", "B, K1 = 0.75, 4.5\n"), encoding="utf-8")
    changed = build_with(package, project)
    assert changed["indexed"] == 0 and changed["rendered"] == 0
    assert '"K1":4.5' in meta.read_text(encoding="utf-8")  # the site's search ranks anew
