"""Build the same docs with two checkouts of docmirror and compare the sites byte for byte (the
pages, the home, search and changes pages, and the exported search index).

    python bench/compare_builds.py OLD_CHECKOUT NEW_CHECKOUT [--docs /usr/share/doc/python3.11/html]

A checkout is a folder holding `mirror/` and `site_templates/` (a `git worktree` of another
commit, for example). The docs are served on 127.0.0.1 without latency; each checkout builds
all their pages into its own folder. Exits 1 and lists the files that differ, if any.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DEFAULT_DOCS = Path("/usr/share/doc/python3.11/html")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def build(checkout: Path, base: str, pages: list[str], folder: Path) -> dict:
    folder.mkdir(parents=True)
    urls = "".join(f'  "{base}/{p}",\n' for p in pages)
    (folder / "config.toml").write_text(
        f'[site]\ntitle = "Python docs"\n\n[[sources]]\nname = "python"\nurls = [\n{urls}]\n',
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    proc = subprocess.run(
        [sys.executable, "-m", "mirror", "build", "--json", "-c", str(folder / "config.toml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
    )
    if proc.returncode not in (0, 1):
        sys.exit(f"{checkout}: build failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def differing(a: Path, b: Path) -> list[str]:
    """Files that are not the same bytes in both folders, or are in one only."""
    out: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        out.extend(f"{prefix}{n} (only in one)" for n in cmp.left_only + cmp.right_only)
        _, mismatch, errors = filecmp.cmpfiles(
            cmp.left, cmp.right, cmp.common_files, shallow=False
        )
        out.extend(f"{prefix}{n}" for n in mismatch + errors)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(a, b), "")
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    args = parser.parse_args()
    pages = sorted(p.relative_to(args.docs).as_posix() for p in args.docs.rglob("*.html"))
    handler = partial(QuietHandler, directory=str(args.docs))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    with tempfile.TemporaryDirectory() as scratch:
        reports = {}
        for name, checkout in (("old", args.old), ("new", args.new)):
            reports[name] = build(checkout.resolve(), base, pages, Path(scratch) / name)
            print(f"{name}: {reports[name]['pages']} pages in {reports[name]['seconds']:.1f} s")
        diff = differing(Path(scratch) / "old" / "site", Path(scratch) / "new" / "site")
    httpd.shutdown()
    if diff:
        print(f"{len(diff)} files differ:")
        for name in diff[:50]:
            print(f"  {name}")
        sys.exit(1)
    print("the two sites are byte-identical, search export included")


if __name__ == "__main__":
    main()
