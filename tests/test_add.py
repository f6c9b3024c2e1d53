"""`docmirror add URL`: a source for the docs at URL appended to the config (created with the
defaults when missing), which the next build mirrors."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from pathlib import Path

from click.testing import CliRunner

from mirror.cli import cli

from conftest import NAMES, page_path
from docserver import DocServer


def add(config: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["add", *args, "-c", str(config)], catch_exceptions=False)


def test_add_creates_a_config_and_the_next_build_mirrors_the_folder(
    tmp_path: Path, docserver: DocServer
) -> None:
    for missing in ("/3/library/asyncio.html", "/3/library/_thread.html"):
        docserver.set_page(missing, b"<html><body><main><h1>Stub</h1><p>text</p></main>")
    config = tmp_path / "new" / "config.toml"
    config.parent.mkdir()
    result = add(config, docserver.url(page_path("concurrency")))
    assert result.exit_code == 0, result.output
    assert "created" in result.stdout and "added source '127-library'" in result.stdout
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    (source,) = data["sources"]
    assert source["urls"] == [docserver.url(page_path("concurrency"))]
    assert source["follow"] == [docserver.url("/3/library/")]
    built = CliRunner().invoke(
        cli, ["build", "--json", "-c", str(config)], catch_exceptions=False
    )
    assert built.exit_code in (0, 1), built.output  # pages the fixture lacks answer 404
    report = json.loads(built.stdout)
    assert report["pages"] >= len(NAMES) + 2  # the listed page and the library it links to
    site = tmp_path / "new" / "site" / f"127.0.0.1_{docserver.port}" / "3" / "library"
    for name in NAMES:
        assert (site / f"{name}.html").is_file(), name
    assert all("404" in f["error"] for f in report["failed"])


def test_add_appends_to_a_config_keeping_its_text(tmp_path: Path, docserver: DocServer) -> None:
    config = tmp_path / "config.toml"
    original = (
        "# my docs\n[site]\ntitle = \"Mine\"\n\n[[sources]]\nname = \"python\"\n"
        f'urls = ["{docserver.url(page_path("queue"))}"]  # the queue page\n'
    )
    config.write_text(original, encoding="utf-8")
    assert add(config, docserver.url("/other/guide/index.html"), "--name", "guide").exit_code == 0
    text = config.read_text(encoding="utf-8")
    assert text.startswith(original) and 'name = "guide"' in text
    assert add(config, docserver.url("/other/guide/intro.html")).exit_code == 0
    names = [s["name"] for s in tomllib.loads(config.read_text(encoding="utf-8"))["sources"]]
    assert names == ["python", "guide", "127-other-guide"]


def test_add_refuses_what_it_cannot_add_with_one_line(tmp_path: Path, docserver: DocServer) -> None:
    config = tmp_path / "config.toml"
    url = docserver.url(page_path("queue"))
    assert add(config, url).exit_code == 0
    before = config.read_bytes()
    for args, words in (
        ((url,), "mirrored already"),
        ((docserver.url("/x/a.html"), "--name", "127-library"), "exists already"),
        (("file:///etc/passwd",), "not an http or https URL"),
    ):
        result = add(config, *args)
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0] and "Traceback" not in result.output
    assert config.read_bytes() == before  # nothing written


def test_the_installed_command_adds_a_source(tmp_path: Path, docserver: DocServer) -> None:
    command = shutil.which("docmirror")
    assert command is not None
    proc = subprocess.run(
        [command, "add", docserver.url(page_path("sched")), "-c", str(tmp_path / "c.toml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "run `docmirror build`" in proc.stdout and (tmp_path / "c.toml").is_file()
