"""The `docmirror` command: arguments, progress, messages and exit codes. The only module that
prints or exits; pipeline modules are imported inside commands, so `search` starts fast."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from mirror import __version__
from mirror.errors import (
    BusyError,
    ConfigError,
    DamagedError,
    DocmirrorError,
    ExportError,
    NotBuiltError,
    RenderError,
    ServeError,
    StoreError,
)

if TYPE_CHECKING:
    from mirror.build.report import BuildReport, PageOutcome
    from mirror.config import Config

# The exit codes, as the README's table gives them.
EXIT_OK = 0  # success
EXIT_FAILED_URLS = 1  # the build finished, but some URLs failed (each listed on stderr)
EXIT_USAGE = 2  # a wrong command line or config file
EXIT_NOT_BUILT = 3  # nothing to work on yet (no mirror, site or index): run a build first
EXIT_STORAGE = 4  # the data folder or the site cannot be read or written
EXIT_SERVE = 5  # serve cannot listen on the address
EXIT_DAMAGED = 6  # a stored file is damaged (index, export, raw page, state): a build repairs it
EXIT_BUSY = 7  # another docmirror build is using the data folder
EXIT_INTERRUPTED = 130  # Ctrl-C
# Each error class's exit code; the first that matches counts.
_EXIT_CODES: tuple[tuple[type[DocmirrorError], int], ...] = (
    (ConfigError, EXIT_USAGE),
    (NotBuiltError, EXIT_NOT_BUILT),
    (DamagedError, EXIT_DAMAGED),
    (BusyError, EXIT_BUSY),
    (StoreError, EXIT_STORAGE),
    (RenderError, EXIT_STORAGE),
    (ExportError, EXIT_STORAGE),
    (ServeError, EXIT_SERVE),
    (DocmirrorError, EXIT_STORAGE),  # no other error escapes a command; counted as storage
)

config_option = click.option(
    "-c",
    "--config",
    "config_path",
    default="config.toml",
    show_default=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The config file; relative paths in it are relative to its folder.",
)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"docmirror: error: {message}", err=True)
    sys.exit(code)


def exit_code_for(error: DocmirrorError) -> int:
    """The documented exit code of an error."""
    return next(code for kind, code in _EXIT_CODES if isinstance(error, kind))


@contextmanager
def _user_errors(interrupted: str = "interrupted") -> Iterator[None]:
    """Turn the package's errors and Ctrl-C into one line and the documented exit code;
    `interrupted` is what Ctrl-C means for this command."""
    try:
        yield
    except DocmirrorError as exc:
        _fail(str(exc), exit_code_for(exc))
    except KeyboardInterrupt:
        click.echo(f"docmirror: {interrupted}", err=True)
        sys.stdout.flush()
        sys.stderr.flush()
        # Every write so far is atomic and committed; fetch threads still waiting on the network
        # hold nothing worth keeping, so leave without joining them (that could take a timeout).
        os._exit(EXIT_INTERRUPTED)


def _load(config_path: Path, *, check_paths: bool = True) -> Config:
    from mirror.config import load_config

    return load_config(config_path, check_paths=check_paths)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="docmirror")
def cli() -> None:
    """Mirror documentation into a searchable static site that works offline."""


@cli.command()
@config_option
@click.option("--full", is_flag=True, help="Fetch, clean, index and render everything again.")
@click.option("--offline", is_flag=True, help="Rebuild from the stored pages, without the network.")
@click.option(
    "--check",
    is_flag=True,
    help="Only list what would change (conditional requests, nothing written).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    help="Threads fetching at once (default: crawl.workers).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display and no summary.")
def build(
    config_path: Path,
    full: bool,
    offline: bool,
    check: bool,
    workers: int | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Fetch the configured pages and update the site and its search index."""
    if check and (full or offline):
        _fail("--check cannot be used with --full or --offline", EXIT_USAGE)
    with _user_errors("interrupted; finished pages are saved, run the command again to continue"):
        config = _load(config_path)
        if check:
            _check(config, workers, as_json)
        with _importing():
            from mirror.build.run import run_build

        with _progress_display(quiet or as_json) as on_progress:
            report = run_build(
                config, full=full, offline=offline, workers=workers, on_progress=on_progress
            )
    for failure in report.failed:
        kept = " (the earlier copy is kept)" if failure.kept_copy else ""
        click.echo(f"docmirror: failed: {failure.url}: {failure.error}{kept}", err=True)
    if report.skipped:
        click.echo(f"docmirror: warning: {report.skipped_line()}", err=True)
    if report.repaired:
        click.echo(f"docmirror: warning: {report.repaired_line()}", err=True)
    for failure in report.image_failures:
        kept = " (the earlier copy is kept)" if failure.kept_copy else ""
        click.echo(f"docmirror: warning: image {failure.url}: {failure.error}{kept}", err=True)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    elif not quiet:
        if sys.stdout.isatty():
            _summary_table(report)
        click.echo(_summary(report, config.site.output_dir))
    if config.export.docset or config.export.zim:  # [export] in the config: keep them current
        with _user_errors():
            lines = _exports(config, None, None, None)
        click.echo("\n".join(() if quiet else lines), err=as_json, nl=not quiet)
    sys.exit(EXIT_FAILED_URLS if report.failed else EXIT_OK)


def _check(config: Config, workers: int | None, as_json: bool) -> NoReturn:
    from mirror.build.check import check_build

    report = check_build(config, workers=workers)
    for failure in report.failed:
        click.echo(f"docmirror: failed: {failure.url}: {failure.error}", err=True)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        for url, outcome in report.outcomes:
            if outcome not in ("unchanged", "not_modified"):
                click.echo(f"{outcome:8} {url}")
        same = sum(1 for _, o in report.outcomes if o in ("unchanged", "not_modified"))
        click.echo(
            f"{same} unchanged, {len(report.outcomes) - same} would change, "
            f"{len(report.failed)} failed"
        )
    sys.exit(EXIT_FAILED_URLS if report.failed else EXIT_OK)


def _summary_table(report: BuildReport) -> None:
    from rich.console import Console
    from rich.table import Table

    columns = {
        "pages": report.pages,
        "new": report.new,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "not modified": report.not_modified,
        "removed": report.removed,
        "failed": len(report.failed),
        "written": report.rendered,
        "indexed": report.indexed,
        "offsite links": report.offsite_links,
    }
    table = Table(*columns, box=None)
    table.add_row(*(str(v) for v in columns.values()))
    Console().print(table)


def _summary(report: BuildReport, output_dir: Path) -> str:
    parts = [
        f"{report.pages} pages: {report.new} new, {report.updated} updated, "
        f"{report.unchanged + report.not_modified} unchanged ({report.not_modified} not modified)"
    ]
    if report.removed:
        parts.append(f"{report.removed} removed")
    if report.failed:
        parts.append(f"{len(report.failed)} failed")
    parts.append(f"{report.rendered} written, {report.indexed} indexed in {report.seconds:.1f}s")
    return "; ".join(parts) + f"\nsite: {output_dir / 'index.html'}"


@contextmanager
def _progress_display(quiet: bool) -> Iterator[Callable[[PageOutcome], None] | None]:
    """A live bar on a terminal (pages, bytes, rate, retries, failures); on a pipe or in a log,
    one plain line per page that changed or failed; nothing with -q."""
    if quiet:
        yield None
        return
    if not sys.stderr.isatty():
        width = 0

        def log_line(event: PageOutcome) -> None:
            nonlocal width
            width = width or len(str(event.total))
            if event.outcome in ("new", "updated", "failed"):
                line = f"[{event.done:>{width}}/{event.total}] {event.outcome:<7} {event.url}"
                click.echo(line, err=True)

        yield log_line
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    stats = {"bytes": 0, "failed": 0}
    started = time.monotonic()
    with Progress(
        TextColumn("[bold]fetching"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        transient=True,
        console=Console(stderr=True),
    ) as progress:
        task = progress.add_task("fetch", total=None, info="")

        def on_progress(event: PageOutcome) -> None:
            stats["bytes"] += event.size
            stats["failed"] += event.outcome == "failed"
            rate = stats["bytes"] / max(time.monotonic() - started, 1e-3) / 1e6
            info = f"{stats['bytes'] / 1e6:.1f} MB, {rate:.1f} MB/s"
            if event.retries:
                info += f", {event.retries} retries"
            if stats["failed"]:
                info += f", [red]{stats['failed']} failed"
            progress.update(task, completed=event.done, total=event.total, info=info)

        yield on_progress


@cli.command()
@click.argument("query")
@config_option
@click.option(
    "-n",
    "limit",
    type=click.IntRange(1, 1000),
    help="Hits to show (default: as many as the site's search lists).",
)
@click.option("--source", "sources", multiple=True, help="Only hits of this source (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
def search(
    query: str, config_path: Path, limit: int | None, sources: tuple[str, ...], as_json: bool
) -> None:
    """Search the mirrored pages."""
    with _user_errors():
        config = _load(config_path, check_paths=False)
        from mirror.search.index import SearchIndex

        search_index = SearchIndex(config.site.data_dir / "index")
        if not search_index.exists:
            search_index.verify()  # files but no table of segments: damaged, not unbuilt
            raise NotBuiltError(
                f"{config.site.data_dir}: no search index yet; run `docmirror build` first"
            )
        for name in sorted(set(sources) - {source.name for source in config.sources}):
            _fail(f"--source: no source named {name!r} in {config_path}", EXIT_USAGE)
        result = search_index.query(query, *(() if limit is None else (limit,)), sources=sources)
    hits = result.hits
    if as_json:
        payload: dict[str, Any] = {
            "query": query,
            "suggestion": result.suggestion,
            "hits": [h.to_json() for h in hits],
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    if result.suggestion:
        lead = "showing results for" if hits else "did you mean"
        click.echo(f"{lead} {result.suggestion!r} (nothing matches {query!r})")
    if not hits:
        click.echo(f"no results for {query!r}")
        return
    import html

    color = sys.stdout.isatty()
    for rank, hit in enumerate(hits, start=1):
        where = hit.title if hit.section == hit.title else f"{hit.title} › {hit.section}"
        where += f" ({hit.source})" if len(config.sources) > 1 else ""  # which docs it is from
        click.echo(click.style(f"{rank}. {where}", bold=True))
        click.echo(f"   {config.site.output_dir / hit.path}")
        click.echo(f"   {hit.url}")
        snippet = hit.snippet.replace("<mark>", "\x00").replace("</mark>", "\x01")
        snippet = html.unescape(snippet)
        if color:
            snippet = snippet.replace("\x00", "\x1b[1;33m").replace("\x01", "\x1b[0m")
        else:
            snippet = snippet.replace("\x00", "").replace("\x01", "")
        click.echo(f"   {snippet}")


@cli.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
def status(config_path: Path, as_json: bool) -> None:
    """List the mirrored pages with their last check, last change and last error."""
    with _user_errors():
        config = _load(config_path)
        from mirror.build.fetching import stored_membership
        from mirror.build.store import Store

        if not (config.site.data_dir / "state.sqlite3").exists():
            raise NotBuiltError(
                f"{config.site.data_dir}: nothing mirrored yet; run `docmirror build` first"
            )
        with Store(config.site.data_dir) as store:
            states = store.states()
            membership = stored_membership(config, store, states)
    sources = membership.source_of
    redirects = membership.redirect_map
    rows = []
    for url in (*membership.pages, *(u for u in membership.urls if u in redirects)):
        state = states.get(url)
        rows.append(
            {
                "url": url,
                "source": sources.get(url),
                "title": state.title if state else None,
                "mirrored": bool(state and state.has_copy),
                "redirect": redirects.get(url),
                "checked": _iso(state.checked_at if state else None),
                "changed": _iso(state.changed_at if state else None),
                "final_url": state.final_url if state else None,
                "etag": state.etag if state else None,
                "last_modified": state.last_modified if state else None,
                "error": state.last_error if state else None,
            }
        )
    if as_json:
        click.echo(json.dumps({"pages": rows}, indent=2))
        return
    for row in rows:
        line = f"checked {row['checked'] or 'never'} · changed {row['changed'] or '-'}"
        if row["redirect"]:
            line = f"redirects to {row['redirect']} · " + line
        if row["error"]:
            line += f" · last error: {row['error']}"
        click.echo(f"{row['url']}\n    {line}")


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


@cli.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
def serve(config_path: Path, host: str, port: int) -> None:
    """Serve the site, with a search endpoint at /api/search?q=."""
    with _user_errors():
        config = _load(config_path, check_paths=False)
        from mirror.site.serve import make_server

        server = make_server(config, host, port)
        try:
            click.echo(
                f"serving {config.site.output_dir} on http://{host}:{server.server_port}/"
                " (Ctrl-C to stop)"
            )
            server.serve_forever()
        except KeyboardInterrupt:  # how a server is stopped: not an error
            click.echo("docmirror: server stopped", err=True)
        finally:
            server.server_close()


@cli.command()
@click.argument("url")
@click.option("--name", help="The source's name (default: made from the URL).")
@config_option
def add(url: str, name: str | None, config_path: Path) -> None:
    """Add the docs at URL (and the pages under its folder) to the config."""
    with _user_errors():
        from mirror.config_file import add_source

        added = add_source(config_path, url, name)
    source = added.source
    if added.created:
        click.echo(f"created {config_path.absolute()} with the defaults")
    click.echo(
        f"added source {source.name!r}: {source.urls[0]}, following links under "
        f"{source.follow[0]} (depth {source.depth}, at most {source.max_pages} pages)"
    )
    click.echo("run `docmirror build` to mirror it")


@cli.group()
def export() -> None:
    """Export the mirror for Dash and Zeal (docsets) or Kiwix (ZIM files)."""


@export.command()
@config_option
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Default: export.dir.")
@click.option("--source", metavar="NAME", help="Only this source.")
def docset(config_path: Path, output: Path | None, source: str | None) -> None:
    """Write a Dash/Zeal docset per source; only what changed since the last export."""
    with _user_errors():
        click.echo("\n".join(_exports(_load(config_path), "docset", output, source)))


@export.command()
@config_option
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Default: in export.dir.")
@click.option("--source", metavar="NAME", help="Only this source.")
def zim(config_path: Path, output: Path | None, source: str | None) -> None:
    """Write a Kiwix ZIM file of the site; nothing if nothing changed since the last one."""
    with _user_errors():
        click.echo("\n".join(_exports(_load(config_path), "zim", output, source)))


def _exports(config: Config, kind: str | None, out: Path | None, source: str | None) -> list[str]:
    """One line per export made (`kind`: docset or zim; None: those [export] asks for)."""
    from mirror.export.run import run_exports

    return [result.describe() for result in run_exports(config, kind, out, source)]


@contextmanager
def _importing() -> Iterator[None]:
    """Import with the garbage collector off, then keep what was imported out of its later
    collections (`gc.freeze`): imports make many objects and free few, and the collections
    they set off found nothing, a tenth of a refresh's start-up."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def main() -> None:
    """The console script. Once the command is done, with its files written and closed and
    its output flushed, it leaves with `os._exit`: the interpreter's own teardown, freeing every
    module the command imported, was 40 ms of each fresh search and refresh."""
    try:
        cli()
        code = EXIT_OK
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else int(done.code is not None)
        if isinstance(done.code, str):
            click.echo(done.code, err=True)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a reader that went away (`... | head -1`)
            stream.flush()
    os._exit(code)
