"""Following links, opt-in per source: scope prefixes, depth and max_pages bounds."""

from __future__ import annotations

import json

from conftest import NAMES, Project, page_path


def configure(project: Project, **source: object) -> None:
    lines = ["[crawl]", "timeout = 3.0", "retries = 0", "", "[[sources]]", 'name = "library"']
    lines.append(f'urls = ["{project.server.url(page_path("concurrency"))}"]')
    for key, value in source.items():
        lines.append(f"{key} = {json.dumps(value)}")
    project.config_path.write_text("\n".join(lines) + "\n")


def build(project: Project, *args: str) -> dict:
    result = project.run("build", "--json", *args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def requested(project: Project) -> set[str]:
    return {r.path for r in project.server.requests if r.path.endswith(".html")}


def test_follows_links_within_the_prefix_only(project: Project) -> None:
    configure(project, follow=[project.server.url("/3/library/")], depth=1)
    report = build(project)
    # concurrency links to the other nine pages (and to asyncio/_thread, which 404 here)
    for name in NAMES:
        assert project.page_file(name).is_file(), name
    assert "/3/glossary.html" not in requested(project)  # outside the prefix
    assert report["new"] == 10
    failed = {f["url"] for f in report["failed"]}
    assert failed == {
        project.server.url(p) for p in ("/3/library/asyncio.html", "/3/library/_thread.html")
    }
    # depth 1: pages linked only from followed pages are not fetched
    assert "/3/library/exceptions.html" not in requested(project)
    home = (project.site / "index.html").read_text(encoding="utf-8")
    assert home.count('href="127.0.0.1_') == 10


def test_depth_zero_and_max_pages_bound_the_crawl(project: Project) -> None:
    configure(project, follow=[project.server.url("/3/library/")], depth=0)
    report = build(project)
    assert report["pages"] == 1
    assert report["skipped"] and {s["bound"] for s in report["skipped"]} == {"depth"}
    configure(project, follow=[project.server.url("/3/library/")], depth=3, max_pages=4)
    result = project.run("build", "--json")
    report = json.loads(result.stdout)
    assert report["pages"] == 1 + 4  # max_pages bounds the followed pages, not the listed one
    assert len([p for p in requested(project) if p.startswith("/3/library/")]) <= 10 + 1 + 4
    skipped = report["skipped"]
    assert {s["bound"] for s in skipped} == {"max_pages"}
    status = json.loads(project.run("status", "--json").stdout)["pages"]
    assert len(status) == 1 + 4 and not {s["url"] for s in skipped} & {r["url"] for r in status}
    warning = [line for line in result.stderr.splitlines() if "left out" in line]
    assert len(warning) == 1 and f"{len(skipped)} linked pages left out" in warning[0]
    assert "max_pages of source 'library'" in warning[0]


def test_max_pages_never_drops_a_listed_page(project: Project) -> None:
    lines = ["[crawl]", "timeout = 3.0", "retries = 0", "", "[[sources]]", 'name = "library"']
    urls = ", ".join(f'"{project.server.url(page_path(n))}"' for n in NAMES)
    lines += [f"urls = [{urls}]", "max_pages = 2", f'follow = ["{project.server.url("/3/")}"]']
    project.config_path.write_text("\n".join(lines) + "\n")
    report = build(project)
    for name in NAMES:
        assert project.page_file(name).is_file(), name
    assert report["pages"] == len(NAMES) + 2


def test_followed_pages_survive_refreshes_and_leave_when_unlinked(project: Project) -> None:
    configure(project, follow=[project.server.url("/3/library/")], depth=1)
    for missing in ("/3/library/asyncio.html", "/3/library/_thread.html"):
        project.server.set_page(missing, b"<html><body><main><h1>Stub</h1><p>stub text</p></main>")
    first = build(project)
    assert first["failed"] == [] and first["new"] == 12
    before = (project.site / "index.html").read_bytes()
    second = build(project)
    assert second["not_modified"] == 12 and second["removed"] == 0 and second["rendered"] == 0
    assert (project.site / "index.html").read_bytes() == before
    offline = build(project, "--offline")
    assert offline["pages"] == 12 and offline["removed"] == 0
    # the link to sched disappears upstream: sched leaves the mirror
    body = project.server.body_of(page_path("concurrency"))
    project.server.set_page(
        page_path("concurrency"), body.replace(b'href="sched.html"', b'href="#"')
    )
    third = build(project)
    assert third["removed"] == 1 and not project.page_file("sched").exists()


def test_non_page_links_in_scope_are_skipped_quietly(project: Project) -> None:
    body = project.server.body_of(page_path("concurrency"))
    extra = b'<p><a href="data.bin">data</a> <a href="report">report</a></p></section>'
    project.server.set_page(page_path("concurrency"), body.replace(b"</section>", extra, 1))
    project.server.set_page("/3/library/report", b"%PDF-1.4", content_type="application/pdf")
    project.server.set_page("/3/library/data.bin", b"\0\1", content_type="application/octet-stream")
    configure(project, follow=[project.server.url("/3/library/")], depth=1, max_pages=100)
    report = build(project)
    urls = {f["url"] for f in report["failed"]}
    assert project.server.url("/3/library/report") not in urls  # not a page: skipped, no failure
    assert "/3/library/data.bin" not in requested(project)  # a file name that is no page


def test_check_status_and_offline_hold_the_pages_the_build_followed(project: Project) -> None:
    for missing in ("/3/library/asyncio.html", "/3/library/_thread.html"):
        project.server.set_page(missing, b"<html><body><main><h1>Stub</h1><p>stub text</p></main>")
    configure(project, follow=[project.server.url("/3/library/")], depth=2, max_pages=9)
    report = build(project)
    status = json.loads(project.run("status", "--json").stdout)["pages"]
    urls = {row["url"] for row in status}
    assert len(urls) == report["pages"] == 1 + 9 and all(row["mirrored"] for row in status)
    assert {row["source"] for row in status} == {"library"}
    check = json.loads(project.run("build", "--check", "--json").stdout)
    assert len(check["not_modified"]) == report["pages"] and check["removed"] == []
    assert set(check["not_modified"]) == urls
    offline = build(project, "--offline")
    assert offline["pages"] == report["pages"] and offline["removed"] == 0
    assert {r["url"] for r in json.loads(project.run("status", "--json").stdout)["pages"]} == urls
    again = build(project)
    assert again["not_modified"] == report["pages"] and again["removed"] == 0
    assert again["skipped"] == report["skipped"]
