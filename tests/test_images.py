"""Page requisites: the images mirrored pages show are downloaded into the site."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

from conftest import Project, page_path, snapshot


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A small solid-colour PNG, written here so the test needs no image files."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\0" + bytes(rgb) * width
    raw = zlib.compress(row * height)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


IMAGE_PATH = "/3/_images/pipeline.png"  # multiprocessing.html shows ../_images/pipeline.png


def build(project: Project, *args: str) -> dict:
    result = project.run("build", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_images_are_downloaded_and_shown_from_disk(project: Project) -> None:
    project.server.set_page(IMAGE_PATH, png(40, 20, (200, 30, 30)), content_type="image/png")
    report = build(project)
    assert report["images"] == 1 and report["images_failed"] == []
    page = project.page_file("multiprocessing").read_text(encoding="utf-8")
    assert 'src="../../../_assets/127.0.0.1_' in page and "pipeline.png" in page
    copies = list((project.site / "_assets").rglob("pipeline.png"))
    assert len(copies) == 1 and copies[0].read_bytes() == png(40, 20, (200, 30, 30))

    before = snapshot(project.site)
    project.server.reset_log()
    again = build(project)
    assert again["rendered"] == 0 and snapshot(project.site) == before
    image_requests = project.server.requests_for(IMAGE_PATH)
    assert len(image_requests) == 1 and "If-None-Match" in image_requests[0].headers

    project.server.set_page(IMAGE_PATH, png(40, 20, (30, 200, 30)), content_type="image/png")
    build(project)
    assert copies[0].read_bytes() == png(40, 20, (30, 200, 30))


def test_a_missing_image_is_a_warning_and_a_link(project: Project) -> None:
    result = project.run("build", "--json")
    assert result.exit_code == 0  # an image is not a page: the build still succeeds
    report = json.loads(result.stdout)
    assert [f["url"] for f in report["images_failed"]] == [project.server.url(IMAGE_PATH)]
    assert "docmirror: warning: image" in result.stderr
    page = project.page_file("multiprocessing").read_text(encoding="utf-8")
    assert "<img" not in page.split('<article class="document">')[1]
    assert 'class="offsite image-link"' in page


def test_images_no_page_shows_leave_the_site(project: Project) -> None:
    project.server.set_page(IMAGE_PATH, png(8, 8, (0, 0, 255)), content_type="image/png")
    build(project)
    assert list((project.site / "_assets").rglob("pipeline.png"))
    body = project.server.body_of(page_path("multiprocessing"))
    project.server.set_page(
        page_path("multiprocessing"), body.replace(b"pipeline.png", b"gone.png")
    )
    project.server.set_page("/3/_images/gone.png", b"not an image", content_type="text/plain")
    report = build(project)
    assert not list((project.site / "_assets").rglob("pipeline.png"))
    assert [f["url"] for f in report["images_failed"]] == [
        project.server.url("/3/_images/gone.png")
    ]
    assert "not an image" in report["images_failed"][0]["error"]


def test_image_renders_offline_in_chromium(project: Project, browser: Any) -> None:
    project.server.set_page(IMAGE_PATH, png(40, 20, (200, 30, 30)), content_type="image/png")
    build(project)
    target = project.page_file("multiprocessing").as_uri()
    project.server.stop()  # no network at all from here
    page: Any = browser.new_page()
    remote: list[str] = []
    page.on("request", lambda r: r.url.startswith("file:") or remote.append(r.url))
    page.goto(target)
    size = page.evaluate(
        "() => { const i = document.querySelector('article img'); "
        "return i && i.complete ? [i.naturalWidth, i.naturalHeight] : null; }"
    )
    page.close()
    assert size == [40, 20] and remote == []
