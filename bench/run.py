"""Benchmark: docmirror against wget and the network floor, on a real docs tree served on
127.0.0.1 with a fixed latency per request.

    python bench/run.py [--docs /usr/share/doc/python3.11/html] [--scope library|all]
                        [--latency 0.05] [--workers 16] [--out bench/results/latest.json]
    python bench/run.py --corpus pandas [--docs /usr/share/doc/python-pandas-doc/html]

Prints a table and writes JSON. The corpus comes from `apt-get install python3.11-doc`; with
`--corpus pandas`, from `apt-get install python-pandas-doc`: 500 pages and every page are built
in one run, and each gives the KB of site files a fresh page loads per query of `PANDAS_QUERIES`
in Chromium, fresh and warm search times, build seconds per page, peak RSS and a refresh.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DEFAULT_DOCS = Path("/usr/share/doc/python3.11/html")
QUERIES = [
    "ThreadPoolExecutor",
    "ThreadPoolExecuter",
    "conext var",
    "Popen.comm",
    "shared memory",
    "copy_context",
    "Popen.communicate",
    "thread local data",
    "run a command and capture output",
    "asyncio gather",
    "json dumps indent",
    "pathlib glob",
    "dataclass frozen",
]
PANDAS_DOCS = Path("/usr/share/doc/python-pandas-doc/html")
PANDAS_QUERIES = [
    "DataFrame.merge",
    "read_csv",
    "merge",
    "groupby aggregate",
    "missing values",
    "datafrane",
    "DataFr",
    "pivot table",
    "to_datetime",
    "Series.str.contains",
    "rolling window",
    "concat",
]


class LatencyHandler(SimpleHTTPRequestHandler):
    """Static files with a fixed delay before each answer (SimpleHTTPRequestHandler sends
    Last-Modified and answers If-Modified-Since with 304), over HTTP/1.1 connections kept
    alive, as docs hosts keep them."""

    latency = 0.05
    protocol_version = "HTTP/1.1"

    def send_head(self):  # type: ignore[no-untyped-def]
        time.sleep(self.latency)
        return super().send_head()

    def log_message(self, format: str, *args: object) -> None:
        pass


class DocsHTTPServer(ThreadingHTTPServer):
    # a listen backlog as a docs host has (nginx: 511), not socketserver's 5: with more clients
    # connecting at once, the connections dropped are retried by TCP a second later
    request_queue_size = 128


class Server:
    def __init__(self, root: Path, latency: float) -> None:
        handler = type("Handler", (LatencyHandler,), {"latency": latency})
        self.httpd = DocsHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class TreeSampler(threading.Thread):
    """Samples a process and its descendants (the build's worker pool) from /proc every 0.1 s:
    the peak of their summed RSS, and the CPU seconds each used, summed at the end."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak_rss = 0
        self.cpu: dict[int, float] = {}
        self.done = threading.Event()
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.tick = os.sysconf("SC_CLK_TCK")

    def sample(self) -> None:
        stats: dict[int, tuple[int, float, int]] = {}  # pid -> (parent, cpu seconds, rss bytes)
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                cpu = (int(fields[11]) + int(fields[12])) / self.tick
                stats[int(entry.name)] = (int(fields[1]), cpu, int(fields[21]) * self.page)
        tree = {self.root}
        grew = True
        while grew:
            found = {pid for pid, (parent, _, _) in stats.items() if parent in tree} - tree
            grew = bool(found)
            tree |= found
        self.peak_rss = max(self.peak_rss, sum(stats[p][2] for p in tree if p in stats))
        for pid in tree & stats.keys():
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), stats[pid][1])

    def run(self) -> None:
        while not self.done.wait(0.1):
            self.sample()


# docmirror runs as installed for a user: Python writes its bytecode (pip compiles an installed
# package's; an editable install writes it at the first run), which some sandboxes turn off
USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    """Run `cmd` alone (nothing sampled meanwhile: the sampler would take the GIL from the
    server threads of this process); its seconds and output."""
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=USER_ENV, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stderr)
    return seconds, done.stdout


def peak_rss_of(cmd: list[str], cwd: Path) -> tuple[float, int, str, int, float]:
    """Run `cmd`; its seconds, the peak RSS of it and its worker processes together, its
    output, exit code, and CPU seconds (its own and its reaped descendants', per os.wait4)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, text=True, env=USER_ENV)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read()
        if proc.returncode not in (0, 1):
            sys.stderr.write(err.read())
    peak = max(sampler.peak_rss, usage.ru_maxrss * 1024)
    cpu = max(usage.ru_utime + usage.ru_stime, sum(sampler.cpu.values()))
    return seconds, peak, text, proc.returncode, cpu


def browser_load_sizes(site: Path, queries: list[str]) -> dict[str, float]:
    """KB of site files a fresh page loads for `search.html?q=QUERY` in Chromium from file://
    (search.html, its CSS and scripts, meta.js and every search file it asks for), per query."""
    from urllib.parse import quote, unquote, urlsplit

    from playwright.sync_api import sync_playwright

    sizes = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        for query in queries:
            context = browser.new_context()  # nothing cached
            page = context.new_page()
            loaded: set[str] = set()
            page.on("request", lambda r, seen=loaded: seen.add(r.url))
            page.goto(f"{(site / 'search.html').as_uri()}?q={quote(query)}")
            page.wait_for_selector("#search-results li, #search-results .no-results")
            files = {Path(unquote(urlsplit(u).path)) for u in loaded if u.startswith("file:")}
            sizes[query] = sum(f.stat().st_size for f in files if f.is_file()) / 1000
            context.close()
        browser.close()
    return sizes


def search_times(docmirror: str, config: Path, queries: list[str]) -> dict[str, float]:
    """A fresh `docmirror search` per query (median, max seconds) and warm searches in this
    process (p50, p95 milliseconds)."""
    fresh = []
    for query in queries:
        secs, _ = timed([docmirror, "search", query, "-c", str(config)], config.parent)
        fresh.append(secs)
    sys.path.insert(0, str(Path(__file__).parent.parent))
    from mirror.search.index import SearchIndex

    index = SearchIndex(config.parent / ".docmirror" / "index")
    index.search("warm up")
    timings = []
    for _ in range(5):
        for query in queries:
            started = time.perf_counter()
            index.search(query)
            timings.append(time.perf_counter() - started)
    timings.sort()
    return {
        "fresh_median_s": statistics.median(fresh),
        "fresh_max_s": max(fresh),
        "warm_p50_ms": 1000 * timings[len(timings) // 2],
        "warm_p95_ms": 1000 * timings[int(len(timings) * 0.95) - 1],
    }


def pandas_main(args: argparse.Namespace, docmirror: str) -> int:
    """`--corpus pandas`: 500 pages and every page, each built, refreshed, searched."""
    docs = args.docs if args.docs != DEFAULT_DOCS else PANDAS_DOCS
    if not (docs / "index.html").exists():
        sys.exit(f"bench: {docs} is not the pandas docs (apt-get install python-pandas-doc)")
    work = Path(tempfile.mkdtemp(prefix="docmirror-bench-pandas-"))
    (work / "corpus" / "pandas-docs").mkdir(parents=True)
    (work / "corpus" / "pandas-docs" / "stable").symlink_to(docs)
    files = sorted(docs.rglob("*.html"))
    pages = [f for f in files if "http-equiv" not in f.read_text(errors="replace")[:2000].lower()]
    scopes = {"500": pages[:500], "all": files}
    results: dict[str, object] = {"corpus": "pandas", "latency": args.latency}
    try:
        with Server(work / "corpus", args.latency) as server:
            for scope, chosen in scopes.items():
                folder = work / scope
                folder.mkdir()
                urls = [
                    f"{server.base}/pandas-docs/stable/{f.relative_to(docs).as_posix()}"
                    for f in chosen
                ]
                config = folder / "config.toml"
                config.write_text(
                    f'[site]\ntitle = "pandas"\n[crawl]\nworkers = {args.workers}\n'
                    f"per_host = {args.workers}\ntimeout = 30\nrobots = false\n"
                    '[[sources]]\nname = "pandas"\nurls = [\n'
                    + "".join(f'  "{u}",\n' for u in urls)
                    + "]\n"
                )
                build = [docmirror, "build", "--json", "-q", "-c", str(config)]
                secs, rss, out, _, _ = peak_rss_of(build, folder)
                report = json.loads(out)
                refresh, _ = timed(build, folder)
                kb = browser_load_sizes(folder / "site", PANDAS_QUERIES)
                results[scope] = {
                    "pages": report["pages"],
                    "build_seconds": secs,
                    "build_ms_per_page": 1000 * secs / max(1, report["pages"]),
                    "peak_rss_mb": rss / 1e6,
                    "refresh_unchanged_seconds": refresh,
                    "stages": report["stages"],
                    "kb_per_query": kb,
                    "kb_max": max(kb.values()),
                    "search": search_times(docmirror, config, PANDAS_QUERIES),
                }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'query':<22}" + "".join(f"{s + ' pages KB':>16}" for s in scopes))
    for query in PANDAS_QUERIES:
        row = "".join(f"{results[s]['kb_per_query'][query]:>16.0f}" for s in scopes)  # type: ignore[index]
        print(f"{query:<22}{row}")
    for key in ("pages", "build_ms_per_page", "peak_rss_mb", "refresh_unchanged_seconds", "kb_max"):
        print(f"{key:<22}" + "".join(f"{results[s][key]:>16.1f}" for s in scopes))  # type: ignore[index]
    for key in ("fresh_median_s", "fresh_max_s", "warm_p50_ms", "warm_p95_ms"):
        print(f"{key:<22}" + "".join(f"{results[s]['search'][key]:>16.3f}" for s in scopes))  # type: ignore[index]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nJSON: {args.out}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    parser.add_argument("--scope", choices=("library", "all"), default="library")
    parser.add_argument("--corpus", choices=("python", "pandas"), default="python")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "latest.json"
    )
    args = parser.parse_args()
    docmirror = shutil.which("docmirror") or str(Path(sys.executable).parent / "docmirror")
    if args.corpus == "pandas":
        return pandas_main(args, docmirror)
    if not (args.docs / "library" / "index.html").exists():
        sys.exit(f"bench: {args.docs} is not a Python docs tree (apt-get install python3.11-doc)")

    work = Path(tempfile.mkdtemp(prefix="docmirror-bench-"))
    corpus = work / "corpus" / "3"
    shutil.copytree(args.docs, corpus, symlinks=False)
    if args.scope == "library":
        files = sorted((corpus / "library").glob("*.html"))
    else:
        files = sorted(corpus.rglob("*.html"))
    rel = [f.relative_to(corpus.parent).as_posix() for f in files]
    results: dict[str, object] = {
        "pages": len(rel),
        "latency": args.latency,
        "workers": args.workers,
    }
    try:
        with Server(work / "corpus", args.latency) as server:
            urls = [f"{server.base}/{r}" for r in rel]
            (work / "urls.txt").write_text("\n".join(urls) + "\n")
            config = work / "config.toml"
            config.write_text(
                '[site]\ntitle = "Python docs"\n[crawl]\n'
                f"workers = {args.workers}\nper_host = {args.workers}\n"
                "timeout = 30\nrobots = false\n"
                '[[sources]]\nname = "python"\nurls = [\n'
                + "".join(f'  "{u}",\n' for u in urls)
                + "]\n"
            )
            build = [docmirror, "build", "--json", "-q", "-c", str(config)]

            secs, rss, out, _, cpu = peak_rss_of(build, work)
            report = json.loads(out)
            results["full_build"] = {
                "seconds": secs,
                "cpu_seconds": cpu,
                "peak_rss_mb": rss / 1e6,
                "report": report,
            }

            wget_dir = work / "wget"
            wget_dir.mkdir()
            if shutil.which("wget"):
                started = time.perf_counter()
                subprocess.run(
                    ["wget", "-q", "-i", str(work / "urls.txt")], cwd=wget_dir, check=False
                )
                results["wget_seconds"] = time.perf_counter() - started
            results["network_floor_seconds"] = math.ceil(len(urls) / args.workers) * args.latency

            secs, out = timed(build, work)
            results["refresh_unchanged"] = {"seconds": secs, "report": json.loads(out)}

            for f in files[:: max(1, len(files) // 5)][:5]:
                text = f.read_text(encoding="utf-8")
                f.write_text(
                    text.replace("</h1>", "</h1>\n<p>Benchmark edit: a changed paragraph.</p>", 1),
                    encoding="utf-8",
                )
                os.utime(f, (time.time() + 5, time.time() + 5))
            secs, out = timed(build, work)
            results["refresh_5_changed"] = {"seconds": secs, "report": json.loads(out)}

            fresh = []
            for query in QUERIES[:5]:
                secs, _ = timed([docmirror, "search", query, "-c", str(config)], work)
                fresh.append(secs)
            results["search_fresh_process_seconds"] = {
                "median": statistics.median(fresh),
                "max": max(fresh),
            }

            sys.path.insert(0, str(Path(__file__).parent.parent))
            from mirror.search.index import SearchIndex

            index = SearchIndex(work / ".docmirror" / "index")
            index.search("warm up")
            timings = []
            for _ in range(5):
                for query in QUERIES:
                    started = time.perf_counter()
                    index.search(query)
                    timings.append(time.perf_counter() - started)
            timings.sort()
            kb = browser_load_sizes(work / "site", QUERIES)
            results["static_search_kb_per_query"] = {
                "max": max(kb.values()),
                "median": statistics.median(kb.values()),
            }
            results["search_warm_ms"] = {
                "p50": 1000 * timings[len(timings) // 2],
                "p95": 1000 * timings[int(len(timings) * 0.95) - 1],
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)

    full = results["full_build"]["seconds"]  # type: ignore[index]
    rows = [
        ("pages", f"{results['pages']}"),
        ("latency per request", f"{args.latency * 1000:.0f} ms"),
        ("docmirror full build", f"{full:.2f} s"),
        ("  its CPU time, all processes", f"{results['full_build']['cpu_seconds']:.1f} s"),  # type: ignore[index]
        (
            "  its stages",
            " ".join(f"{k} {v:.1f}" for k, v in results["full_build"]["report"]["stages"].items()),  # type: ignore[index]
        ),
        ("wget -i (download only)", f"{results.get('wget_seconds', float('nan')):.2f} s"),
        (
            "build / wget",
            f"{full / results['wget_seconds']:.2f}" if "wget_seconds" in results else "n/a",
        ),
        ("network floor", f"{results['network_floor_seconds']:.2f} s"),
        ("refresh, nothing changed", f"{results['refresh_unchanged']['seconds']:.2f} s"),  # type: ignore[index]
        ("refresh / full build", f"{results['refresh_unchanged']['seconds'] / full:.3f}"),  # type: ignore[index]
        ("refresh, 5 pages changed", f"{results['refresh_5_changed']['seconds']:.2f} s"),  # type: ignore[index]
        (
            "search, fresh process (median)",
            f"{results['search_fresh_process_seconds']['median']:.2f} s",
        ),  # type: ignore[index]
        (
            "search, warm p50 / p95",
            f"{results['search_warm_ms']['p50']:.1f} / {results['search_warm_ms']['p95']:.1f} ms",
        ),  # type: ignore[index]
        (
            "static search load per query (max)",
            f"{results['static_search_kb_per_query']['max']:.0f} KB",
        ),  # type: ignore[index]
        ("peak RSS of the build, all processes", f"{results['full_build']['peak_rss_mb']:.0f} MB"),  # type: ignore[index]
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
