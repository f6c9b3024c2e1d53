"""Export a docset of the Python docs with docmirror and with doc2dash, and compare the two.

    python bench/export_vs_doc2dash.py [--docs /usr/share/doc/python3.11/html]
                                       [--doc2dash PATH] [--work DIR]

The docs are served on 127.0.0.1 and docmirror builds a mirror of every page (each .html file
listed); then, timed, `docmirror export docset` (from nothing, then again with nothing changed)
and doc2dash 3.1 on the same folder (installed apart: `python -m venv /tmp/d2d-venv &&
/tmp/d2d-venv/bin/pip install doc2dash`, then `--doc2dash /tmp/d2d-venv/bin/doc2dash`). Prints
the entries per Dash type of both docsets, the share of doc2dash's (name, type) pairs that
docmirror's holds, with a sample of those it lacks, and the time ratio. Targets: a share of at
least 95 % and an export in at most a tenth of doc2dash's time; exits 1 if one is missed.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from mirror.build.run import run_build
from mirror.config import load_config
from mirror.export.docset import export_docsets

DEFAULT_DOCS = Path("/usr/share/doc/python3.11/html")
SHARE_TARGET = 0.95
TIME_TARGET = 0.1


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def pairs(dsidx: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(dsidx) as db:
        return set(db.execute("SELECT name, type FROM searchIndex"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    parser.add_argument("--doc2dash", default="doc2dash", help="the doc2dash command")
    parser.add_argument("--work", type=Path, help="a folder to work in (default: a temporary one)")
    args = parser.parse_args()
    doc2dash = shutil.which(args.doc2dash)
    if doc2dash is None:
        sys.exit(f"{args.doc2dash}: not found (pip install doc2dash into a venv of its own)")
    work = args.work or Path(tempfile.mkdtemp(prefix="export-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    pages = sorted(p.relative_to(args.docs).as_posix() for p in args.docs.rglob("*.html"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(args.docs)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    urls = "".join(f'  "{base}/{page}",\n' for page in pages)
    config_path = work / "config.toml"
    config_path.write_text(
        f'[site]\ntitle = "Python docs"\n\n[[sources]]\nname = "python"\nurls = [\n{urls}]\n',
        encoding="utf-8",
    )
    config = load_config(config_path)
    started = time.perf_counter()
    report = run_build(config)
    seconds = time.perf_counter() - started
    print(f"build: {report.pages} pages ({len(report.failed)} failed) in {seconds:.1f} s")
    httpd.shutdown()

    ours_dir = work / "docmirror"
    shutil.rmtree(ours_dir, ignore_errors=True)
    started = time.perf_counter()
    (result,) = export_docsets(config, ours_dir)
    ours_seconds = time.perf_counter() - started
    started = time.perf_counter()
    (again,) = export_docsets(config, ours_dir)
    fresh_seconds = time.perf_counter() - started
    assert again.fresh, "a second export with nothing changed wrote something"

    theirs_dir = work / "doc2dash"
    shutil.rmtree(theirs_dir, ignore_errors=True)
    theirs_dir.mkdir()
    started = time.perf_counter()
    subprocess.run(
        [doc2dash, "-q", "-n", "python", "-d", str(theirs_dir), str(args.docs)], check=True
    )
    theirs_seconds = time.perf_counter() - started

    index = "Contents/Resources/docSet.dsidx"
    ours = pairs(result.target / index)
    theirs = pairs(theirs_dir / "python.docset" / index)
    ours_types, theirs_types = Counter(t for _, t in ours), Counter(t for _, t in theirs)
    print(f"\n{'type':<12} {'docmirror':>10} {'doc2dash':>10} {'missing':>8}")
    for kind in sorted(ours_types.keys() | theirs_types.keys()):
        missing = sum(1 for pair in theirs - ours if pair[1] == kind)
        print(f"{kind:<12} {ours_types[kind]:>10} {theirs_types[kind]:>10} {missing:>8}")
    print(f"{'all':<12} {len(ours):>10} {len(theirs):>10} {len(theirs - ours):>8}")
    share = len(theirs & ours) / len(theirs)
    ratio = ours_seconds / theirs_seconds
    print(f"\nsample of doc2dash's pairs docmirror lacks: {sorted(theirs - ours)[:12]}")
    print(f"\nshare of doc2dash's (name, type) pairs in docmirror's docset: {share:.1%}")
    print(
        f"docmirror export: {ours_seconds:.2f} s ({fresh_seconds:.2f} s with nothing changed); "
        f"doc2dash: {theirs_seconds:.1f} s; ratio {ratio:.3f}"
    )
    met = share >= SHARE_TARGET and ratio <= TIME_TARGET
    verdict = "met" if met else "MISSED"
    print(f"targets (share >= {SHARE_TARGET:.0%}, ratio <= {TIME_TARGET}): {verdict}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
