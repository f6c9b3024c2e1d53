"""URL normalisation, safe local paths and relative links."""

import posixpath
import re
from urllib.parse import quote, unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirror.urls import (
    in_scope,
    local_asset_path_for,
    local_path_for,
    name_from_url,
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
    url_a = normalize_url("http://x.org/" + "/".join(quote(s, safe="") for s in a) + ".html")
    url_b = normalize_url("http://x.org/" + "/".join(quote(s, safe="") for s in b) + ".html")
    path_a, path_b = local_path_for(url_a), local_path_for(url_b)
    for path in (path_a, path_b):
        assert posixpath.normpath(path) == path and not path.startswith(("/", ".."))
    if url_a != url_b:
        assert path_a != path_b


# -- one URL, one file -------------------------------------------------------------------
# `local_path_for` tells apart any two normalised URLs except for the aliases it makes on
# purpose, which `_page_key` spells out: the scheme does not count (http and https are the same
# page), empty segments do not count (`a//b` is `a/b`), a last segment without a page suffix is
# `.html` (`a` is `a.html`), a trailing '/' is `index.html`, and the page suffix is folded to
# lower case (`a.HTML` is `a.html`). Everything else counts: the case of the path, '%2F' (a slash
# inside a segment), '%25', dots, non-UTF-8 bytes, the query. `local_asset_path_for` keeps every
# name as it is, and only drops empty segments ('/' is `index`).


def _decoded(segment: str) -> str:
    """A path segment %-decoded with every byte kept, even one that is not UTF-8."""
    return unquote(segment, errors="surrogateescape")


def _page_key(url: str) -> tuple[object, ...]:
    """What `local_path_for` must tell apart: equal keys give one file, different keys two."""
    parts = urlsplit(url)
    *dirs, last = [_decoded(s) for s in parts.path.split("/")[1:]]
    last = last or "index.html"
    suffix = next((s for s in (".html", ".htm") if last.lower().endswith(s)), "")
    stem = last[: len(last) - len(suffix)]
    dirs = [d for d in dirs if d]
    return (parts.hostname, parts.port, tuple(dirs), stem, suffix or ".html", parts.query)


def _asset_key(url: str) -> tuple[object, ...]:
    """What `local_asset_path_for` must tell apart."""
    parts = urlsplit(url)
    segments = tuple(_decoded(s) for s in parts.path.split("/") if s) or ("index",)
    return (parts.hostname, parts.port, segments, parts.query)


_WINDOWS_NAMES = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)


def _assert_safe(path: str) -> None:
    """`path` is a plain relative path that stays where it is put, on any file system."""
    parts = path.split("/")
    assert not path.startswith("/") and posixpath.normpath(path) == path, path
    for part in parts:
        assert part not in ("", ".", ".."), path
        # no hidden file, but the page of a URL ending in '/.html' (an empty name)
        assert not part.startswith(".") or part in (".html", ".htm"), path
        assert not any(c in part for c in '\\:*?"<>|') and part.isprintable(), path
        assert not part.endswith((".", " ")) and not _WINDOWS_NAMES.match(part), path
        assert len(part.encode()) <= 255, path


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://x.org/a/b%2Fc.html", "http://x.org/a/b/c.html"),  # '/' inside a segment
        ("http://x.org/a%2Fb/c.html", "http://x.org/a/b/c.html"),
        ("http://x.org/a%2Fb", "http://x.org/a/b"),
        ("http://x.org/a/b%252Fc.html", "http://x.org/a/b%2Fc.html"),  # an escaped '%'
        ("http://x.org/a%25.html", "http://x.org/a%2525.html"),
        ("http://x.org/..%2Fetc/x.html", "http://x.org/etc/x.html"),
        ("http://x.org/%2E%2E%2Fa.html", "http://x.org/a.html"),
        ("http://x.org/.a.html", "http://x.org/%252Ea.html"),
        ("http://x.org/A/b.html", "http://x.org/a/b.html"),  # the path's case counts
        ("http://x.org/caf%C3%A9.html", "http://x.org/caf%E9.html"),  # UTF-8 and Latin-1
        ("http://x.org/%FF.html", "http://x.org/%FE.html"),  # bytes that are not UTF-8
        ("http://x.org/%FF.html", "http://x.org/%EF%BF%BD.html"),  # ... nor U+FFFD
        ("http://x.org/a.html?q=1", "http://x.org/a.html"),
        ("http://x.org/a.html?q=1", "http://x.org/a.html?q=2"),
        ("http://x.org/a.html?q=%2F", "http://x.org/a.html?q=/"),
        ("http://x.org:8080/a.html", "http://x.org/a.html"),
    ],
)
def test_distinct_urls_get_distinct_files(a: str, b: str) -> None:
    a, b = normalize_url(a), normalize_url(b)
    assert a != b
    assert local_path_for(a) != local_path_for(b)
    assert local_asset_path_for(a) != local_asset_path_for(b)


def test_an_encoded_slash_is_escaped_in_its_segment() -> None:
    url = normalize_url("http://x.org/a/b%2Fc.html")
    assert local_path_for(url) == "x.org/a/b%2Fc.html"
    assert local_asset_path_for(url) == "_assets/x.org/a/b%2Fc.html"
    url = normalize_url("http://x.org/a%2F..%2F..%2Fb")
    assert local_path_for(url) == "x.org/a%2F..%2F..%2Fb.html"
    assert local_asset_path_for(url) == "_assets/x.org/a%2F..%2F..%2Fb"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://x.org/a.html", "https://x.org/a.html"),
        ("http://x.org/a//b.html", "http://x.org/a/b.html"),
        ("http://x.org/a", "http://x.org/a.html"),
        ("http://x.org/a/", "http://x.org/a/index.html"),
        ("http://x.org/a.HTML", "http://x.org/a.html"),
        ("http://x.org/a%40b.html", "http://x.org/a@b.html"),  # decoded: the same name
    ],
)
def test_the_page_aliases_are_one_file(a: str, b: str) -> None:
    """The aliases `_page_key` allows are real: the property test below is not vacuous."""
    a, b = normalize_url(a), normalize_url(b)
    assert _page_key(a) == _page_key(b) and local_path_for(a) == local_path_for(b)


# Pieces of path segments: escapes that decode to separators, to '%' and to dots, dots
# themselves, bytes that are not UTF-8, names Windows reserves, case, page suffixes, and names
# around the length where they are cut and hashed.
_WORDS = """a A b %2F %2f %25 %252F %2E . .. %2E%2E ~ %7E é %C3%A9 %E9 %FF %FE %EF%BF%BD %00 %0A
    %F0%9F%98%80 %20 %3F %23 %5C con CON nul.txt x. .html .HTML .htm index @ %40 ; = , + -"""
_PIECES = st.sampled_from([*_WORDS.split(), "a" * 100, "é" * 19])
_ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=3).map(
    lambda s: quote(s, safe="")
)
_SEGMENTS = st.lists(_PIECES | _ANY_TEXT, max_size=5).map("".join)
_URLS = st.builds(
    lambda scheme, host, segments, query: normalize_url(
        f"{scheme}://{host}/" + "/".join(segments) + query
    ),
    st.sampled_from(["http", "https"]),
    st.sampled_from(["x.org", "X.org", "x.org:8080", "x.org:80", "x.org:443", "y.org", "[::1]"]),
    st.lists(_SEGMENTS, min_size=1, max_size=4),
    st.sampled_from(["", "?", "?a=1", "?a=2", "?A=1", "?a=%2F", "?a=/", "?%FF"]),
)
# Look-alikes: the members of a group are different URLs that a slip in splitting, decoding,
# escaping or hashing would give one file. A list of URLs made from one skeleton of groups, each
# URL taking any member of each, holds such pairs often, as random URLs hardly ever do.
_LOOKALIKES = (
    ("/", "%2F", "%2f", "%252F", "//"),
    ("%25", "%2525", "%252525"),
    (".", "%2E", "..", "%2E%2E", "x."),
    ("%FF", "%FE", "%EF%BF%BD", "%C3%BF", "%C3"),
    ("a", "A"),
    ("é", "%C3%A9", "%E9", "e"),
    ("~", "%7E", "%257E"),
    ("con", "CON", "c0n", "nul.txt"),
    ("a" * 125 + "b", "a" * 125 + "c", "a" * 124 + "b"),  # cut, then told apart by a hash
    ("é" * 30 + "b", "é" * 30 + "c"),
)


@st.composite
def _lookalike_urls(draw: st.DrawFn) -> list[str]:
    skeleton = draw(st.lists(st.sampled_from(_LOOKALIKES), min_size=1, max_size=5))
    host = draw(st.sampled_from(["x.org", "x.org:8080"]))
    variant = st.builds(
        lambda pieces, ending, query: normalize_url(
            f"http://{host}/" + "".join(pieces) + ending + query
        ),
        st.tuples(*(st.sampled_from(group) for group in skeleton)),
        st.sampled_from(["", "/", ".html", ".HTML", ".htm", "/index.html"]),
        st.sampled_from(["", "?a=1", "?a=2", "?A=1", "?a=%2F", "?a=/"]),
    )
    return draw(st.lists(variant, min_size=2, max_size=12))


@settings(max_examples=300, deadline=None)
@given(_lookalike_urls() | st.lists(_URLS, min_size=2, max_size=12))
def test_local_paths_are_one_to_one_up_to_the_aliases(urls: list[str]) -> None:
    """Any two URLs share a page file exactly when `_page_key` says so, and an asset file
    exactly when `_asset_key` does; every file stays inside its folder."""
    pages: dict[str, tuple[object, ...]] = {}
    assets: dict[str, tuple[object, ...]] = {}
    for url in urls:
        page, asset = local_path_for(url), local_asset_path_for(url)
        _assert_safe(page)
        _assert_safe(asset)
        assert page.endswith((".html", ".htm")) and asset.startswith("_assets/")
        assert pages.setdefault(page, _page_key(url)) == _page_key(url), (url, page)
        assert assets.setdefault(asset, _asset_key(url)) == _asset_key(url), (url, asset)
    # and the other way: one key, one file
    assert len(set(pages.values())) == len(pages)
    assert len(set(assets.values())) == len(assets)


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


# -- what mutation testing found unpinned (docs/testing.md) -------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://x.org/a/b/.", "http://x.org/a/b/"),
        ("http://x.org/a/b/..", "http://x.org/a/"),
        ("http://x.org/a/b/%2E", "http://x.org/a/b/"),
        ("http://x.org/a/b/%2e%2E", "http://x.org/a/"),
        ("http://x.org/..", "http://x.org/"),
        # '..' above the root is dropped; the empty segment after it is not (RFC 3986 5.2.4)
        ("http://x.org/..//a.html", "http://x.org//a.html"),
    ],
)
def test_a_trailing_dot_segment_names_the_folder(raw: str, expected: str) -> None:
    """`a/b/.` is the folder `a/b/` (its index page), not the page `a/b`."""
    url = normalize_url(raw)
    assert url == expected
    if url.endswith("/"):
        assert local_path_for(url).endswith("/index.html")


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("http://", "has no host"),
        ("https:///a.html", "has no host"),
        ("http://x.org:99999/", "has an invalid port"),
        ("http://x.org:8o/", "has an invalid port"),
    ],
)
def test_a_refused_url_is_reported_with_the_url_and_the_reason(bad: str, reason: str) -> None:
    """The message is what a config error shows the user (`config.toml: urls: <message>`)."""
    with pytest.raises(ValueError) as refused:
        normalize_url(bad)
    assert str(refused.value) == f"{bad!r} {reason}"


@pytest.mark.parametrize(
    ("url", "wanted"),
    [
        ("http://x.org/docs/", True),
        ("http://x.org/docs/guide", True),  # no suffix: a page
        ("http://x.org/docs/a.html", True),
        ("http://x.org/docs/A.HTM", True),
        ("http://x.org/docs/v1.2/intro", True),  # a dot in a folder's name, not in the page's
        ("http://x.org/api/x.html?q=1", True),  # the second prefix
        ("http://x.org/docs/logo.png", False),
        ("http://x.org/docs/v1.2/archive.tar.gz", False),
        ("http://x.org/docs/a.html.bak", False),
        ("http://x.org/blog/a.html", False),  # under no prefix
        ("http://x.org/docs", False),
        ("https://y.org/docs/a.html", False),
    ],
)
def test_in_scope_takes_the_pages_under_a_prefix(url: str, wanted: bool) -> None:
    from mirror.urls import in_scope

    prefixes = (normalize_url("http://x.org/docs/"), normalize_url("http://x.org/api/"))
    assert in_scope(normalize_url(url), prefixes) is wanted


def _assert_names_read_back(url: str) -> None:
    """Every folder and asset name of `url`, %-decoded, is its URL path segment, unless the
    name was too long and cut (then it holds a '~', which an escaped name never does)."""
    path = urlsplit(url).path
    segments = [_decoded(s) for s in path.split("/") if s] or ["index"]
    names = local_asset_path_for(url).split("/")[2:]
    folders = [_decoded(s) for s in path.split("/")[1:-1] if s]
    page_folders = local_path_for(url).split("/")[1:-1]
    for name, segment in [
        *zip(names, segments, strict=True),
        *zip(page_folders, folders, strict=True),
    ]:
        if "~" in name:
            assert len(name.encode()) <= 120, (url, name)
        else:
            assert unquote(name, errors="surrogateescape") == segment, (url, name)


@pytest.mark.parametrize(
    "url",
    [
        "http://x.org/con/Con.txt/nul.tar.gz",  # names Windows reserves, in any case
        "http://x.org/x./..a/.b./%2Ex",  # dots Windows drops or that hide a file
        "http://x.org/a%2Fb/caf%C3%A9/%FF/~%25",
        "http://x.org/",
    ],
)
def test_file_names_read_back_as_the_url_path(url: str) -> None:
    """A name is escaped only where a file system needs it, so the site's folders show which
    page is which, and two URLs can only share a name if they are one segment."""
    _assert_names_read_back(normalize_url(url))


@settings(max_examples=200, deadline=None)
@given(st.lists(_SEGMENTS, min_size=1, max_size=4))
def test_any_file_name_reads_back_as_the_url_path(segments: list[str]) -> None:
    _assert_names_read_back(normalize_url("http://x.org/" + "/".join(segments)))


def test_a_name_is_cut_only_past_120_bytes() -> None:
    kept = normalize_url("http://x.org/d/" + "a" * 120)
    assert local_asset_path_for(kept) == "_assets/x.org/d/" + "a" * 120
    assert local_path_for(kept) == "x.org/d/" + "a" * 120 + ".html"
    for longer in ("a" * 121, "a" * 119 + "%C3%A9"):
        name = local_asset_path_for(normalize_url("http://x.org/d/" + longer)).split("/")[-1]
        assert len(name.encode()) <= 120 and name.startswith("a" * 100) and "~" in name


def test_the_names_a_mirror_has_on_disk_stay_the_same() -> None:
    """The escapes and hashes are the mirror's layout: a change would move those files on the
    next build and break a reader's bookmarks, so their exact form is pinned."""
    assert local_path_for("http://x.org/a./b.html") == "x.org/a%2E/b.html"  # Windows drops a
    name = local_path_for("http://x.org/" + "a" * 121 + ".html").split("/")[-1]
    assert re.fullmatch(r"a{102}~[0-9a-f]{16}\.html", name), name  # 119 bytes and the suffix
    assert re.fullmatch(r"x\.org/page~[0-9a-f]{12}\.html", local_path_for("http://x.org/page?a=1"))
    asset = local_asset_path_for("http://x.org/plot.png?v=3")
    assert re.fullmatch(r"_assets/x\.org/plot~[0-9a-f]{12}\.png", asset), asset


def test_a_host_without_a_path_is_its_index_page() -> None:
    assert local_path_for("http://x.org") == local_path_for("http://x.org/") == "x.org/index.html"
    assert in_scope("http://x.org", ("http://x.org",))


def test_a_file_link_keeps_the_characters_a_file_url_allows() -> None:
    assert relative_href("d/a.html", "d/a+b,c=d@e~f.html") == "a+b,c=d@e~f.html"
    assert relative_href("a.html", "d/b.html") == "d/b.html"  # from the site's root


def test_an_asset_keeps_its_name_and_its_type() -> None:
    """A query string adds a hash before the suffix, never after it: a server chooses the
    Content-Type by the suffix, and a browser shows an SVG only as image/svg+xml."""
    import mimetypes

    root = local_asset_path_for(normalize_url("http://x.org/"))
    assert root == "_assets/x.org/index"
    assert local_asset_path_for(normalize_url("http://x.org/index")) == root
    logo = local_asset_path_for(normalize_url("http://x.org/img/logo.svg?v=3"))
    assert re.fullmatch(r"_assets/x\.org/img/logo~[0-9a-f]{6,}\.svg", logo), logo
    assert mimetypes.guess_type(logo)[0] == "image/svg+xml"
    assert logo != local_asset_path_for(normalize_url("http://x.org/img/logo.svg?v=4"))
    plot = local_asset_path_for(normalize_url("http://x.org/img/plot?v=3"))
    assert re.fullmatch(r"_assets/x\.org/img/plot~[0-9a-f]{6,}", plot), plot


@pytest.mark.parametrize(
    ("from_dir", "to_path"),
    [
        ("a/..", "x.html"),
        ("h/../g", "g/a.html"),
        (".", "h/a.html"),
        ("", "a/../x.html"),
        ("h", "h//a.html"),
        ("h", "."),
    ],
)
def test_relative_path_of_paths_that_are_not_plain(from_dir: str, to_path: str) -> None:
    """'..' and empty segments (a template may pass any path) get relpath's answer too: never
    a link from the site's root (`/a.html`), nor one through a folder that is not there."""
    assert relative_path(from_dir, to_path) == posixpath.relpath(to_path, from_dir or ".")


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("caf%C3%A9", "caf%C3%A9"),  # escaped in the source: not escaped again
        ("café", "caf%C3%A9"),
        ("a b", "a%20b"),
        ("a%20b", "a%20b"),
        ("module-os.path", "module-os.path"),
        ("x<y>", "x%3Cy%3E"),
    ],
)
def test_a_fragment_is_escaped_as_a_browser_would_once(fragment: str, expected: str) -> None:
    assert relative_href("a/b.html", "a/c.html", fragment) == f"c.html#{expected}"


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://x.org/docs/reference/api/pandas.DataFrame.merge.html", "pandas.DataFrame.merge"),
        ("https://x.org/docs/user_guide/", "user_guide"),
        ("https://x.org/docs/user_guide/index.html", "user_guide"),
        ("https://x.org/caf%C3%A9.htm", "café"),
        ("https://x.org/docs/guide/INDEX.HTM", "guide"),
        ("https://x.org/docs/guide//", "guide"),  # an empty last segment
        ("https://x.org/Notes.HTML", "Notes"),
        ("https://x.org/", "x.org"),
    ],
)
def test_a_page_without_a_title_is_named_after_its_url(url: str, name: str) -> None:
    assert name_from_url(url) == name
