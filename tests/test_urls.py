"""URL normalisation, safe local paths and relative links."""

import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mirror.urls import (
    local_path_for,
    normalize_url,
    relative_href,
    relative_path,
    resolve_link,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "HTTPS://Docs.Python.org/3/library/queue.html#x",
            "https://docs.python.org/3/library/queue.html",
        ),
        ("http://example.org:80", "http://example.org/"),
        ("https://example.org:8443/a", "https://example.org:8443/a"),
        ("http://x.org/a/./b/../c.html", "http://x.org/a/c.html"),
        ("http://x.org/../../etc/passwd", "http://x.org/etc/passwd"),
        ("http://x.org/a?b=1", "http://x.org/a?b=1"),
        ("http://x.org/a/%2e%2E/b%2fc%7e.html", "http://x.org/b%2Fc~.html"),
    ],
)
def test_normalize_url(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


@pytest.mark.parametrize(
    "bad", ["file:///etc/passwd", "ftp://x.org/", "javascript:alert(1)", "http://", "x.html"]
)
def test_normalize_url_refuses_other_schemes(bad: str) -> None:
    with pytest.raises(ValueError):
        normalize_url(bad)


def test_local_path_follows_the_url_path() -> None:
    assert (
        local_path_for("https://docs.python.org/3/library/queue.html")
        == "docs.python.org/3/library/queue.html"
    )
    assert local_path_for("https://docs.python.org/3/") == "docs.python.org/3/index.html"
    assert local_path_for("http://127.0.0.1:8000/a/b") == "127.0.0.1_8000/a/b.html"


@pytest.mark.parametrize(
    "url",
    [
        "http://x.org/a/..%2f..%2f..%2fetc/passwd",
        "http://x.org/%2e%2e/%2e%2e/etc/passwd",
        "http://x.org/%2E%2E%2F%2E%2E%2Fetc",
        "http://x.org/a/%00/b",
        "http://x.org/con/aux.html",
        "http://x.org/" + "a" * 400,
        "http://x.org/a:b*c?d=<e>",
    ],
)
def test_local_path_cannot_escape(url: str) -> None:
    path = local_path_for(normalize_url(url))
    parts = path.split("/")
    assert not path.startswith("/")
    assert ".." not in parts and "." not in parts
    assert all(len(p.encode()) <= 130 for p in parts)
    assert not any(c in path for c in '\\:*?"<>|\x00')
    assert posixpath.normpath(path) == path


def test_query_strings_get_distinct_names() -> None:
    a = local_path_for(normalize_url("http://x.org/page?a=1"))
    b = local_path_for(normalize_url("http://x.org/page?a=2"))
    assert a != b and a.endswith(".html") and b.endswith(".html")


_segment = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


@given(st.lists(_segment, min_size=1, max_size=4), st.lists(_segment, min_size=1, max_size=4))
def test_local_paths_are_safe_and_distinct(a: list[str], b: list[str]) -> None:
    from urllib.parse import quote

    url_a = normalize_url("http://x.org/" + "/".join(quote(s, safe="") for s in a) + ".html")
    url_b = normalize_url("http://x.org/" + "/".join(quote(s, safe="") for s in b) + ".html")
    path_a, path_b = local_path_for(url_a), local_path_for(url_b)
    for path in (path_a, path_b):
        assert posixpath.normpath(path) == path and not path.startswith(("/", ".."))
    if url_a != url_b:
        assert path_a != path_b


def test_relative_href_between_pages() -> None:
    assert relative_href("h/3/library/a.html", "h/3/library/b.html", "x") == "b.html#x"
    assert relative_href("h/3/library/a.html", "h/3/glossary.html") == "../glossary.html"
    assert relative_href("index.html", "h/3/library/a.html") == "h/3/library/a.html"
    # a file name with an escape sequence is linked to with '%' encoded
    assert relative_href("index.html", "h/%2E%2E.html") == "h/%252E%252E.html"


@pytest.mark.parametrize("from_dir", ["", "h", "h/3", "h/3/library", "h/4/x", "g", "./h", "h//3"])
@pytest.mark.parametrize(
    "to_path",
    ["index.html", "h/3/library/a.html", "h/3/b.html", "h/3", "h", "g/a.html", "h/./a", "../x"],
)
def test_relative_path_is_posixpath_relpath(from_dir: str, to_path: str) -> None:
    """Compared segment by segment for plain site paths, through relpath for the others."""
    assert relative_path(from_dir, to_path) == posixpath.relpath(to_path, from_dir or ".")


def test_resolve_link() -> None:
    page = "https://docs.python.org/3/library/queue.html"
    assert (
        resolve_link(page, "threading.html#threading.Lock")
        == "https://docs.python.org/3/library/threading.html#threading.Lock"
    )
    assert resolve_link(page, "../glossary.html") == "https://docs.python.org/3/glossary.html"
    assert resolve_link(page, "mailto:a@b.c") is None
    assert resolve_link(page, "javascript:alert(1)") is None
