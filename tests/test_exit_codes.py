"""Exit codes by error class, as the README's table gives them: each code reached the way a user
reaches it, with one line on stderr and no traceback."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from mirror import cli

from conftest import Project, page_path

README = Path(__file__).parent.parent / "README.md"


def one_line_error(result: Result, code: int, *words: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    errors = [line for line in result.stderr.splitlines() if line.startswith("docmirror: error:")]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0]
    assert "Traceback" not in result.output


def test_readme_table_lists_every_exit_code() -> None:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| exit code |") :].split("\n\n", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)}
    constants = {value for name, value in vars(cli).items() if name.startswith("EXIT_")}
    assert documented == constants == {0, 1, 2, 3, 4, 5, 6, 7, 130}


def test_0_success_and_1_some_urls_failed(project: Project) -> None:
    assert project.run("build", "-q").exit_code == cli.EXIT_OK
    project.server.fail(page_path("queue"), 404, times=None)
    result = project.run("build", "-q")
    assert result.exit_code == cli.EXIT_FAILED_URLS == 1
    assert f"docmirror: failed: {project.server.url(page_path('queue'))}: HTTP 404" in result.stderr


def test_2_a_wrong_config_or_option(project: Project) -> None:
    project.config_path.write_text("[crawl]\nworkerz = 3\n", encoding="utf-8")
    one_line_error(project.run("build"), 2, str(project.config_path), "crawl.workerz")
    project.write_config()
    assert project.run("build", "--workers", "0").exit_code == 2


def test_3_nothing_built_yet(project: Project) -> None:
    for command in (("search", "thread"), ("status",), ("serve", "--port", "0")):
        one_line_error(project.run(*command), 3, "run `docmirror build` first")


def test_4_the_data_folder_or_the_site_cannot_be_written(project: Project) -> None:
    project.data.parent.mkdir(parents=True, exist_ok=True)
    project.data.write_text("a file where the data folder should be", encoding="utf-8")
    one_line_error(project.run("build", "-q"), 4, str(project.data))
    project.data.unlink()
    project.site.write_text("a file where the site should be", encoding="utf-8")
    one_line_error(project.run("build", "-q"), 4, "cannot write")


def test_2_3_4_export_with_an_unknown_source_before_a_build_or_to_an_unwritable_place(
    project: Project, tmp_path: Path
) -> None:
    for kind in ("docset", "zim"):
        command = ("export", kind, "-c", str(project.config_path), "-o", str(tmp_path / "x.zim"))
        one_line_error(CliRunner().invoke(cli.cli, command), 3, "run `docmirror build` first")
    assert project.run("build", "-q").exit_code == 0
    unknown = ("export", "docset", "-c", str(project.config_path), "--source", "nope")
    one_line_error(CliRunner().invoke(cli.cli, unknown), 2, "'nope'")
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way", encoding="utf-8")
    for kind in ("docset", "zim"):
        command = ("export", kind, "-c", str(project.config_path), "-o", str(blocker / "x"))
        one_line_error(CliRunner().invoke(cli.cli, command), 4, str(blocker))
    assert blocker.read_text(encoding="utf-8") == "in the way"


def test_5_serve_cannot_listen(project: Project) -> None:
    assert project.run("build", "-q").exit_code == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        one_line_error(project.run("serve", "--port", str(port)), 5, f"127.0.0.1:{port}")


def test_6_damaged_data_names_the_file_and_the_repair(project: Project) -> None:
    assert project.run("build", "-q").exit_code == 0
    segment = next((project.data / "index").glob("*.seg"))
    segment.write_bytes(segment.read_bytes()[:100])
    for command in (("search", "thread"), ("serve", "--port", "0")):
        one_line_error(project.run(*command), 6, str(segment), "run `docmirror build` to repair")
    assert project.run("build", "-q").exit_code == 0  # repaired
    assert project.run("search", "thread").exit_code == 0


def test_7_another_build_is_using_the_data_folder(project: Project) -> None:
    from mirror.build.lock import data_lock

    assert project.run("build", "-q").exit_code == 0
    with data_lock(project.data):  # as a build in another process holds it
        for command in (("build", "-q"), ("build", "--check")):
            one_line_error(
                project.run(*command), 7, f"another docmirror build is using {project.data}"
            )
        assert project.run("search", "thread").exit_code == 0  # readers take no lock
    assert project.run("build", "-q").exit_code == 0


def test_ctrl_c_stops_serve_with_0_and_says_so(project: Project) -> None:
    assert project.run("build", "-q").exit_code == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "mirror", "serve", "--port", "0", "-c", str(project.config_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("serving ")  # listening from here on
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert stderr.strip() == "docmirror: server stopped"
