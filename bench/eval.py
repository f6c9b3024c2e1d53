"""Search quality: docmirror against the Python docs' own Sphinx search, on the queries of
bench/queries.json (each with the page and anchor a person would want to land on).

    python bench/eval.py [--docs /usr/share/doc/python3.11/html] [--scope ten|all|both]
                         [--out bench/results/eval.json] [--no-sphinx] [--static]

The docs tree is copied and served on 127.0.0.1 under /3/. docmirror mirrors the ten concurrency
pages ("ten") and/or every .html page of the tree ("all"); each query goes through
`SearchIndex.search(query, limit=10)`. The same queries go through the docs' own search.html in
headless Chromium (its index always covers the whole tree; for "ten" its results are filtered to
the ten pages, order kept). Per query: the rank of the first hit on the expected page and of the
first hit on the expected page and anchor (an anchor matches the expected id or a label id that
names the same section or entry). Metrics: hit@1 and MRR over the top 10, per scope and per kind.
--static also runs the queries through the mirror's static site/search.html (file://) and counts
the queries whose first hit (and whole top ten) is the one `SearchIndex.search` gives.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from run import DEFAULT_DOCS, Server  # bench/run.py (this folder is sys.path[0])

HERE = Path(__file__).resolve().parent
QUERIES_FILE = HERE / "queries.json"


def default_pages() -> tuple[str, ...]:
    """The pages of docmirror's default config (config.toml), as paths under /3/."""
    config = tomllib.loads((HERE.parent / "config.toml").read_text(encoding="utf-8"))
    return tuple(url.split("/3/", 1)[1] for source in config["sources"] for url in source["urls"])


TEN_PAGES = default_pages()
KINDS = ("name", "typo", "task")
LIMIT = 10
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Sphinx's searchtools.js writes this paragraph's text only in _finishSearch, after the last
# result is in the list ("Search finished, found N page(s)..." or "Your search did not match...")
SPHINX_DONE = """() => {
  const p = document.querySelector('#search-results p.search-summary');
  return p !== null && p.textContent.trim() !== '';
}"""
SPHINX_LINKS = """() => Array.from(
  document.querySelectorAll('#search-results ul.search > li > a'), a => a.href)"""
SPHINX_GLOSSARY = """() => {
  const box = document.getElementById('glossary-result');
  if (!box || box.style.display === 'none') return null;
  const a = box.querySelector('a.glossary-title');
  return a ? a.href : null;
}"""
# docmirror's search.js replaces the hint with a list, a p.no-results or an error text
STATIC_DONE = """() => {
  const c = document.getElementById('search-results');
  return c !== null && (c.querySelector('ul li a') !== null || c.querySelector('p.no-results')
    !== null || c.textContent.startsWith('Search is unavailable'));
}"""
STATIC_LINKS = """() => {
  const c = document.getElementById('search-results');
  const root = (document.querySelector('script[data-root]') || {getAttribute: () => ''})
    .getAttribute('data-root') || '';
  return {
    links: Array.from(c.querySelectorAll('ul > li > a'), a => a.getAttribute('href')),
    root: root,
    error: c.textContent.startsWith('Search is unavailable') ? c.textContent : null,
    none: c.querySelector('p.no-results') !== null,
  };
}"""


# ---------------------------------------------------------------- expectations


def load_queries(docs: Path, path: Path = QUERIES_FILE) -> list[dict[str, Any]]:
    """The queries, each with `aliases` (ids naming the expected place); exits on any query whose
    page is not one of the ten or whose anchor is not an id in that page."""
    from bs4 import BeautifulSoup

    queries = json.loads(path.read_text(encoding="utf-8"))
    soups = {}
    errors = []
    for i, q in enumerate(queries):
        missing = {"query", "page", "anchor", "kind"} - q.keys()
        if missing or q["kind"] not in KINDS or q["page"] not in TEN_PAGES:
            errors.append(f"#{i} {q.get('query')!r}: bad entry (keys, kind or page)")
            continue
        if q["page"] not in soups:
            soups[q["page"]] = BeautifulSoup(
                (docs / q["page"]).read_text(encoding="utf-8"), "html.parser"
            )
        element = soups[q["page"]].find(id=q["anchor"])
        if element is None:
            errors.append(f"#{i} {q['query']!r}: no id={q['anchor']!r} in {q['page']}")
            continue
        q["aliases"] = sorted(same_place_ids(element))
    texts = [q["query"] for q in queries]
    errors += [f"duplicate query {t!r}" for t in sorted({t for t in texts if texts.count(t) > 1})]
    if errors:
        sys.exit(f"eval: {path} is wrong:\n  " + "\n  ".join(errors))
    return queries


def _empty_span(el: Any) -> bool:
    return bool(el.name == "span" and el.get("id") and not el.get_text(strip=True))


def _siblings(el: Any, backwards: bool) -> list[Any]:
    """The element siblings before (nearest first) or after `el`, skipping whitespace."""
    found = el.find_previous_siblings() if backwards else el.find_next_siblings()
    return list(found)


def same_place_ids(element: Any) -> set[str]:
    """The expected id and the label ids Sphinx puts on the same place: empty <span id> labels
    just before a section, at the start of a section (before its heading) or just before the <dl>
    of an API entry."""
    target = element
    if _empty_span(element):
        after = next(iter(_siblings(element, backwards=False)), None)
        if after is not None and after.name == "section":
            target = after
        elif after is not None and after.name == "dl" and after.find("dt", id=True):
            target = after.find("dt", id=True)
        elif after is not None and after.name in ("h1", "h2", "h3", "h4", "h5", "h6"):
            target = element.parent
    ids = {element["id"], target.get("id", element["id"])}
    outer = target.parent if target.name == "dt" else target
    if target.name == "section":
        for child in target.find_all(recursive=False):
            if not _empty_span(child):
                break
            ids.add(child["id"])
    if target.name == "section" or (target.name == "dt" and outer.find("dt") is target):
        for before in _siblings(outer, backwards=True):
            if not _empty_span(before):
                break
            ids.add(before["id"])
    return ids


# ---------------------------------------------------------------- ranks and metrics


def page_and_anchor(url: str) -> tuple[str, str]:
    """("library/x.html", "anchor") of a served URL http://host/3/library/x.html?q#anchor."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    path = path[len("/3/") :] if path.startswith("/3/") else path.lstrip("/")
    return path, unquote(parts.fragment)


def ranks(q: dict[str, Any], located: list[tuple[str, str]]) -> dict[str, Any]:
    page_rank = anchor_rank = None
    for i, (page, anchor) in enumerate(located[:LIMIT], 1):
        if page == q["page"]:
            page_rank = page_rank or i
            if anchor in q["aliases"]:
                anchor_rank = anchor_rank or i
    return {
        "query": q["query"],
        "kind": q["kind"],
        "expected": f"{q['page']}#{q['anchor']}",
        "page_rank": page_rank,
        "anchor_rank": anchor_rank,
        "top3": [f"{p}#{a}" if a else p for p, a in located[:3]],
    }


def metrics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def summary(part: list[dict[str, Any]]) -> dict[str, float | int]:
        n = len(part) or 1
        return {
            "n": len(part),
            "page_hit1": sum(r["page_rank"] == 1 for r in part) / n,
            "anchor_hit1": sum(r["anchor_rank"] == 1 for r in part) / n,
            "page_mrr": sum(1 / r["page_rank"] for r in part if r["page_rank"]) / n,
            "anchor_mrr": sum(1 / r["anchor_rank"] for r in part if r["anchor_rank"]) / n,
        }

    return {
        "all": summary(rows),
        "by_kind": {k: summary([r for r in rows if r["kind"] == k]) for k in KINDS},
    }


# ---------------------------------------------------------------- docmirror


def build_mirror(docmirror: str, base: str, corpus: Path, scope: str, work: Path) -> dict[str, Any]:
    """`docmirror build` of the ten pages or of every .html page; returns its report."""
    if scope == "ten":
        rel = list(TEN_PAGES)
    else:
        rel = sorted(f.relative_to(corpus).as_posix() for f in corpus.rglob("*.html"))
    work.mkdir(parents=True)
    config = work / "config.toml"
    config.write_text(
        '[site]\ntitle = "Python docs"\n[crawl]\n'
        "workers = 16\nper_host = 16\ntimeout = 30\nrobots = false\n"
        '[[sources]]\nname = "python"\nurls = [\n'
        + "".join(f'  "{base}/3/{quote(r)}",\n' for r in rel)
        + "]\n"
    )
    print(f"[{scope}] docmirror build of {len(rel)} pages ...", flush=True)
    started = time.perf_counter()
    proc = subprocess.run(
        [docmirror, "build", "--json", "-q", "-c", str(config)],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        report = None
    if proc.returncode not in (0, 1) or report is None:
        sys.exit(f"eval: docmirror build failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    failed = report.get("failed", [])
    print(
        f"[{scope}] built in {seconds:.1f} s, {report.get('pages')} pages, {len(failed)} failed",
        flush=True,
    )
    return {"pages": len(rel), "seconds": seconds, "exit": proc.returncode, "report": report}


def run_docmirror(index: Any, queries: list[dict[str, Any]]) -> tuple[list[dict], dict]:
    rows = []
    paths = {}
    for q in queries:
        hits = index.search(q["query"], limit=LIMIT)
        paths[q["query"]] = [h.path for h in hits]
        rows.append(ranks(q, [page_and_anchor(h.url) for h in hits]))
    return rows, paths


# ---------------------------------------------------------------- browsers


def run_sphinx(browser: Any, base: str, queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every result link of the docs' own search.html, in order, per query."""
    page = browser.new_page()
    out = []
    for q in queries:
        started = time.perf_counter()
        page.goto(f"{base}/3/search.html?q={quote(q['query'])}")
        page.wait_for_function(SPHINX_DONE, timeout=180_000)
        links = page.evaluate(SPHINX_LINKS)
        out.append(
            {
                "links": [page_and_anchor(link) for link in links],
                "summary": page.inner_text("#search-results p.search-summary"),
                "glossary": page.evaluate(SPHINX_GLOSSARY),
                "seconds": time.perf_counter() - started,
            }
        )
    page.close()
    return out


def run_static(
    browser: Any, site: Path, queries: list[dict[str, Any]], expected: dict[str, list[str]]
) -> dict[str, Any]:
    """The static search's links per query against `SearchIndex.search`'s site paths."""
    page = browser.new_page()
    rows = []
    for q in queries:
        page.goto(f"{(site / 'search.html').as_uri()}?q={quote(q['query'])}")
        page.wait_for_function(STATIC_DONE, timeout=60_000)
        got = page.evaluate(STATIC_LINKS)
        root = got["root"]
        links = [unquote(h[len(root) :] if h.startswith(root) else h) for h in got["links"]]
        want = expected[q["query"]]
        rows.append(
            {
                "query": q["query"],
                "same_first": (links[:1] == want[:1]),
                "same_top10": links == want,
                "static": links,
                "index": want,
                "error": got["error"],
                "no_results": got["none"],
            }
        )
    page.close()
    return {
        "n": len(rows),
        "same_first": sum(r["same_first"] for r in rows),
        "same_top10": sum(r["same_top10"] for r in rows),
        "mismatches": [r for r in rows if not r["same_top10"]],
    }


# ---------------------------------------------------------------- report


def print_tables(results: dict[str, Any]) -> None:
    print()
    header = f"{'scope':<6} {'engine':<10} {'kind':<5} {'n':>3} "
    header += f"{'page@1':>7} {'anchor@1':>9} {'pageMRR':>8} {'anchorMRR':>10}"
    print(header)
    print("-" * len(header))
    for scope, data in results["scopes"].items():
        for engine in ("docmirror", "sphinx"):
            if engine not in data:
                continue
            m = data[engine]["metrics"]
            for kind, s in [("all", m["all"]), *m["by_kind"].items()]:
                print(
                    f"{scope:<6} {engine:<10} {kind:<5} {s['n']:>3} {s['page_hit1']:>7.2f} "
                    f"{s['anchor_hit1']:>9.2f} {s['page_mrr']:>8.2f} {s['anchor_mrr']:>10.2f}"
                )
    for scope, data in results["scopes"].items():
        rows = data["docmirror"]["per_query"]
        wrong_page = [r for r in rows if r["page_rank"] != 1]
        wrong_anchor = [r for r in rows if r["page_rank"] == 1 and r["anchor_rank"] != 1]
        print(f"\n[{scope}] docmirror, wrong page first ({len(wrong_page)}):")
        for r in wrong_page:
            first = r["top3"][0] if r["top3"] else "(no hits)"
            print(f"  {r['query']!r} -> {first}  (page rank {r['page_rank']}; {r['expected']})")
        print(f"[{scope}] docmirror, right page, wrong anchor first ({len(wrong_anchor)}):")
        for r in wrong_anchor:
            print(
                f"  {r['query']!r} -> {r['top3'][0]}  (anchor rank {r['anchor_rank']}; "
                f"{r['expected']})"
            )
        if "static" in data:
            s = data["static"]
            print(
                f"[{scope}] static search vs SearchIndex.search: same first hit "
                f"{s['same_first']}/{s['n']}, same top ten {s['same_top10']}/{s['n']}"
            )
            for r in s["mismatches"][:10]:
                static, index = (
                    [h.split("/3/", 1)[-1] for h in r[side][:3]] for side in ("static", "index")
                )
                print(f"  {r['query']!r}: static {static}; index {index}")


def code_version() -> str:
    """The commit of the checkout, with "+dirty" when mirror/ or site_templates/ have edits."""

    def git(*cmd: str) -> str:
        return subprocess.run(
            ["git", *cmd], cwd=HERE.parent, capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+dirty" if git("status", "--porcelain", "mirror", "site_templates") else "")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    parser.add_argument("--scope", choices=("ten", "all", "both"), default="both")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "eval.json")
    parser.add_argument(
        "--queries",
        type=Path,
        default=QUERIES_FILE,
        help="the query set (queries-heldout.json: written blind after the ranking was tuned)",
    )
    parser.add_argument("--no-sphinx", action="store_true", help="skip the docs' own search")
    parser.add_argument("--static", action="store_true", help="check the static site's search")
    args = parser.parse_args()
    if not (args.docs / "search.html").exists() or not all(
        (args.docs / p).exists() for p in TEN_PAGES
    ):
        sys.exit(f"eval: {args.docs} is not a Python docs tree (apt-get install python3.11-doc)")
    queries = load_queries(args.docs, args.queries)
    scopes = ["ten", "all"] if args.scope == "both" else [args.scope]
    venv_docmirror = Path(sys.executable).parent / "docmirror"
    docmirror = str(venv_docmirror) if venv_docmirror.exists() else shutil.which("docmirror")
    if not docmirror:
        sys.exit("eval: no docmirror executable (pip install -e .)")
    sys.path.insert(0, str(HERE.parent))
    from mirror.search.index import SearchIndex

    results: dict[str, Any] = {
        "docs": str(args.docs),
        "code": code_version(),
        "queries": len(queries),
        "kinds": {k: sum(q["kind"] == k for q in queries) for k in KINDS},
        "limit": LIMIT,
        "scopes": {s: {} for s in scopes},
    }
    work = Path(tempfile.mkdtemp(prefix="docmirror-eval-"))
    playwright = browser = None
    try:
        corpus = work / "corpus" / "3"
        shutil.copytree(args.docs, corpus, symlinks=False)
        if not args.no_sphinx or args.static:
            from playwright.sync_api import sync_playwright

            playwright = sync_playwright().start()
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with Server(work / "corpus", 0.0) as server:
            for scope in scopes:
                data = results["scopes"][scope]
                data["build"] = build_mirror(docmirror, server.base, corpus, scope, work / scope)
                index = SearchIndex(work / scope / ".docmirror" / "index")
                rows, paths = run_docmirror(index, queries)
                index.close()
                data["docmirror"] = {"metrics": metrics(rows), "per_query": rows}
                if args.static:
                    print(f"[{scope}] static search in Chromium ...", flush=True)
                    data["static"] = run_static(browser, work / scope / "site", queries, paths)
            if not args.no_sphinx:
                print("Sphinx search in Chromium ...", flush=True)
                sphinx = run_sphinx(browser, server.base, queries)
                for scope in scopes:
                    rows = []
                    for q, found in zip(queries, sphinx, strict=True):
                        links = found["links"]
                        if scope == "ten":
                            links = [link for link in links if link[0] in TEN_PAGES]
                        row = ranks(q, links)
                        row["results"] = len(links)
                        row["glossary"] = found["glossary"]
                        rows.append(row)
                    results["scopes"][scope]["sphinx"] = {
                        "metrics": metrics(rows),
                        "per_query": rows,
                    }
                results["sphinx_seconds"] = [round(f["seconds"], 2) for f in sphinx]
    finally:
        if browser is not None:
            browser.close()
        if playwright is not None:
            playwright.stop()
        shutil.rmtree(work, ignore_errors=True)

    print_tables(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
