"""Pure URL logic: normalisation, safe local paths for URLs, and relative links between them."""

from __future__ import annotations

import functools
import hashlib
import posixpath
import re
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters kept as they are in a local file name; everything else is %XX-escaped, so the
# mapping stays injective ('%' itself is escaped) and names are legal on Linux, macOS and Windows.
_SAFE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+,=@")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)
_MAX_SEGMENT = 120  # bytes; longer names are cut and given a hash suffix
_PAGE_SUFFIXES = (".html", ".htm")


def normalize_url(url: str) -> str:
    """The canonical form of an http(s) URL: lower-case scheme and host, no default port,
    no fragment, '/' for an empty path. Raises ValueError for anything else."""
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"{url!r} is not an http or https URL")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"{url!r} has no host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{url!r} has an invalid port") from None
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = _remove_dot_segments(_normalize_escapes(parts.path) or "/")
    return urlunsplit((scheme, netloc, path, parts.query, ""))


_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")


def _normalize_escapes(path: str) -> str:
    """RFC 3986 6.2.2: decode escaped unreserved characters (`%2E` is `.`, as clients send it),
    upper-case the other escapes."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else f"%{match.group(1).upper()}"

    return _ESCAPE.sub(fix, path)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal on an encoded path (`/a/./b/../c` -> `/a/c`)."""
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    result = "/".join(out)
    return result if result.startswith("/") else "/" + result


def split_fragment(url: str) -> tuple[str, str]:
    """(URL without fragment, fragment) for an absolute URL."""
    base, _, fragment = url.partition("#")
    return base, fragment


def resolve_link(page_url: str, href: str) -> str | None:
    """The absolute, normalised URL (fragment kept) that `href` on `page_url` points to,
    or None for links that are not http(s) (mailto:, javascript:, ...)."""
    absolute = urljoin(page_url, href.strip())
    base, fragment = split_fragment(absolute)
    try:
        target = normalize_url(base)
    except ValueError:
        return None
    return f"{target}#{fragment}" if fragment else target


def _safe_segment(segment: str) -> str:
    """A file-system-safe, reversible name for one decoded URL path segment (`_decode`'s: a
    byte that is not UTF-8 is a surrogate escape, written back as the byte it stands for)."""
    out = []
    for i, ch in enumerate(segment):
        if ch in _SAFE_CHARS and not (i == 0 and ch == "."):
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogateescape"))
    name = "".join(out)
    if _WINDOWS_RESERVED.match(name):
        name = f"%{ord(name[0]):02X}{name[1:]}"
    if name.endswith("."):  # Windows drops trailing dots
        name = name[:-1] + "%2E"
    if len(name.encode()) > _MAX_SEGMENT:
        digest = hashlib.sha256(segment.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        name = f"{name[: _MAX_SEGMENT - 18]}~{digest}"
    return name


# Remembered, a build maps the same folders' names thousands of times. The cache is kept apart
# from the function, which mutation testing then reaches (mutmut leaves decorated ones alone).
_segment_name = functools.lru_cache(maxsize=1 << 14)(_safe_segment)


def _decode(segment: str) -> str:
    """One URL path segment %-decoded, bytes that are not UTF-8 kept as surrogate escapes:
    `unquote` would make each of them U+FFFD, giving `%FF` and `%FE` the same file."""
    return unquote(segment, errors="surrogateescape")


def local_asset_path_for(url: str) -> str:
    """The site-relative path of a downloaded image: like `local_path_for`, but the name keeps
    its own suffix, under `_assets/` so it can never be taken for a page."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    host_dir = _segment_name(host if parts.port is None else f"{host}_{parts.port}")
    segments = [_segment_name(_decode(s)) for s in parts.path.split("/") if s]
    if not segments:
        segments = ["index"]
    if parts.query:
        stem, dot, suffix = segments[-1].rpartition(".")
        digest = hashlib.sha256(parts.query.encode()).hexdigest()[:12]
        segments[-1] = f"{stem}~{digest}.{suffix}" if dot else f"{suffix}~{digest}"
    return posixpath.join("_assets", host_dir, *segments)


def local_path_for(url: str) -> str:
    """The site-relative POSIX path of the page for a normalised http(s) URL.

    `https://docs.python.org/3/library/queue.html` -> `docs.python.org/3/library/queue.html`.
    A path ending in '/' becomes `.../index.html`; a last segment without a page suffix gets
    `.html` appended; a query string adds a hash to the name. Every segment is decoded and then
    escaped, so no URL can produce '..', an absolute path or an illegal file name.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    host_dir = _segment_name(host if parts.port is None else f"{host}_{parts.port}")
    raw_segments = parts.path.split("/")[1:] or [""]
    # decode after splitting on '/', so an encoded %2F stays inside its segment
    segments = [_decode(s) for s in raw_segments]
    *dirs, last = segments
    safe_dirs = [_segment_name(s) for s in dirs if s != ""]
    if last == "":
        stem, suffix = "index", ".html"
    else:
        lower = last.lower()
        suffix = next((s for s in _PAGE_SUFFIXES if lower.endswith(s)), "")
        stem = last[: len(last) - len(suffix)] if suffix else last
        suffix = suffix or ".html"
    name = _segment_name(stem)
    if parts.query:
        name += "~" + hashlib.sha256(parts.query.encode()).hexdigest()[:12]
    return posixpath.join(host_dir, *safe_dirs, name + suffix)


def in_scope(url: str, prefixes: tuple[str, ...]) -> bool:
    """Whether the normalised `url` starts with one of the normalised URL `prefixes` and looks
    like a page (not an archive, image or source file that the link merely points at)."""
    if not any(url.startswith(prefix) for prefix in prefixes):
        return False
    last = urlsplit(url).path.rsplit("/", 1)[-1]
    return "." not in last or last.lower().endswith(_PAGE_SUFFIXES)


# What a browser leaves as it is in a link's fragment (WHATWG URL: all printable ASCII but the
# space, '"', '<', '>' and '`'); '%' among them, so an escaped fragment is not escaped twice.
_FRAGMENT_SAFE = "".join(c for c in map(chr, range(0x21, 0x7F)) if c not in '"<>`')


def relative_href(from_path: str, to_path: str, fragment: str = "") -> str:
    """A relative link from the page at site path `from_path` to the site path `to_path`, with
    `fragment` (as the source's link gave it) escaped as a browser would escape it."""
    href = _file_href(posixpath.dirname(from_path), to_path)
    if fragment:
        href += "#" + quote(fragment, safe=_FRAGMENT_SAFE)
    return href


def _relative_file_href(from_dir: str, to_path: str) -> str:
    """The quoted relative path from the folder `from_dir` to `to_path`, both site paths."""
    return quote(relative_path(from_dir, to_path), safe="/~+,=@")


# Remembered: a site's pages link to the same few hundred others from a few folders (the cache
# apart from the function, as `_segment_name`'s)
_file_href = functools.lru_cache(maxsize=1 << 16)(_relative_file_href)


def relative_path(from_dir: str, to_path: str) -> str:
    """`posixpath.relpath(to_path, from_dir or ".")`, by comparing path segments where both are
    plain relative paths (no '.', '..' or empty segments), as site paths are: relpath makes both
    absolute first, several times slower, and rendering asks this for every local link."""
    start = from_dir.split("/") if from_dir else []
    target = to_path.split("/")
    if any(s in ("", ".", "..") for s in start) or any(s in ("", ".", "..") for s in target):
        return posixpath.relpath(to_path, from_dir or ".")
    common = 0
    for a, b in zip(start, target, strict=False):
        if a != b:
            break
        common += 1
    return "/".join([".."] * (len(start) - common) + target[common:]) or "."


def name_from_url(url: str) -> str:
    """A title for a page that has none, nor any heading: its file name without the page
    suffix, or for a folder's own page (`/a/b/`, `/a/b/index.html`) the folder's name."""
    parts = urlsplit(url)
    name = posixpath.basename(parts.path)
    if name.lower() in ("", "index.html", "index.htm"):
        name = posixpath.basename(posixpath.dirname(parts.path).rstrip("/"))
    lower = name.lower()
    suffix = next((s for s in _PAGE_SUFFIXES if lower.endswith(s)), "")
    return unquote(name[: len(name) - len(suffix)] if suffix else name) or parts.hostname or url
