"""Nothing a source says can write outside the tool's folders or reach other schemes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Project

SNEAKY_PATHS = [
    "/a/..%2F..%2F..%2Fescaped.html",
    "/a/%2E%2E/%2E%2E/%2E%2E/escaped2.html",
    "/%2E%2E%2F%2E%2E%2Fescaped3.html",
    "/a/..%5C..%5Cescaped4.html",
    "/con.html",
    "/" + "long" * 80 + ".html",
    "/q.html?x=../../escaped5",
]


def test_sneaky_urls_write_only_inside_the_output_folders(project: Project, tmp_path: Path) -> None:
    body = b"<html><head><title>t</title></head><body><main><h1>Sneaky</h1><p>quetzal</p></main>"
    for path in SNEAKY_PATHS:
        project.server.set_page(path, body)
    # these normalise (%2E is ".", dot segments resolved) to what an HTTP client sends: serve that
    project.server.set_page("/escaped2.html", body)
    project.server.set_page("/..%2F..%2Fescaped3.html", body)
    project.server.set_page("/a/..%2F..%2F..%2Fescaped.html", body)
    urls = ", ".join(f'"{project.server.url(p)}"' for p in SNEAKY_PATHS)
    project.config_path.write_text(f"[crawl]\nrobots = false\n[[sources]]\nurls = [{urls}]\n")
    before = {p for p in tmp_path.rglob("*")}
    result = project.run("build", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["new"] == len(SNEAKY_PATHS)
    created = {p for p in tmp_path.rglob("*")} - before
    allowed = (project.site.resolve(), project.data.resolve())
    for path in created:
        resolved = path.resolve()
        assert any(resolved.is_relative_to(folder) for folder in allowed), path
    assert not any("escaped" in p.name and p.parent == tmp_path for p in created)
    pages = [p for p in project.site.rglob("*.html") if "quetzal" in p.read_text(encoding="utf-8")]
    assert len(pages) == len(SNEAKY_PATHS)  # each its own file, none overwritten


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.org/x.html", "javascript:alert(1)", "data:text/html,x"],
)
def test_other_schemes_are_refused_with_exit_2(project: Project, url: str) -> None:
    project.config_path.write_text(f'[[sources]]\nurls = ["{url}"]\n')
    result = project.run("build")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and url in lines[0] and str(project.config_path) in lines[0]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[site\ntitle = 1", "invalid TOML"),
        ('[crawl]\nworker = 3\n[[sources]]\nurls = ["http://x.org/"]', "unknown key crawl.worker"),
        ('[[sources]]\nurls = "http://x.org/"', "sources[0].urls"),
    ],
)
def test_broken_configs_give_exit_2_and_one_line(project: Project, text: str, problem: str) -> None:
    project.config_path.write_text(text)
    result = project.run("build")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and problem in lines[0] and "Traceback" not in result.output
