"""HTML redirects: where a page that is only a meta refresh sends its reader. Pure."""

from __future__ import annotations

import re

from mirror.clean.tree import parse_html
from mirror.urls import resolve_link, split_fragment

# A meta refresh within this many seconds is a redirect; a longer one is a page that reloads.
MAX_REFRESH_DELAY = 5


_REFRESH_HINT = re.compile(rb"http-equiv\s*=\s*[\"']?\s*refresh", re.IGNORECASE)


_REFRESH_DELAY = re.compile(r"[ \t\n\f\r]*([0-9]*)([0-9.]*)")


_REFRESH_URL_KEY = re.compile(r"url[ \t\n\f\r]*=[ \t\n\f\r]*", re.IGNORECASE)


_HTML_SPACE = " \t\n\f\r"


def meta_refresh_target(body: bytes, url: str) -> str | None:
    """Where the page at `url` sends its reader with `<meta http-equiv="refresh" content="N;
    URL=...">` within `MAX_REFRESH_DELAY` seconds: the first such element, its content read as
    browsers read it (HTML's declarative refresh steps: any case, quoted or not, `;` or `,`),
    resolved against the page's `<base>`. None for any other page, for a refresh of the page
    itself, and for a target that is not http(s)."""
    if not _REFRESH_HINT.search(body):
        return None
    root = parse_html(body)
    for meta in root.iter("meta"):
        if (meta.get("http-equiv") or "").strip().lower() != "refresh":
            continue
        refresh = _parse_refresh(meta.get("content") or "")
        if refresh is None:
            continue
        delay, href = refresh
        if delay > MAX_REFRESH_DELAY or not href:
            return None
        base = next((b.get("href") for b in root.iter("base") if b.get("href")), None)
        page = (resolve_link(url, base) if base else None) or url
        target = resolve_link(page, href)
        if target is None:
            return None
        target = split_fragment(target)[0]
        return None if target == url else target
    return None


def _parse_refresh(content: str) -> tuple[int, str] | None:
    """(delay in whole seconds, URL text or '') of a refresh's `content`; None when browsers
    ignore it."""
    delay = _REFRESH_DELAY.match(content)
    assert delay is not None  # the pattern matches the empty string
    digits, fraction = delay.groups()
    if not digits and not fraction.startswith("."):
        return None
    rest = content[delay.end() :]
    if not rest.strip(_HTML_SPACE):
        return int(digits or 0), ""
    if rest[0] not in ";," + _HTML_SPACE:
        return None
    rest = rest.lstrip(_HTML_SPACE)
    if rest[:1] in (";", ","):
        rest = rest[1:].lstrip(_HTML_SPACE)
    if key := _REFRESH_URL_KEY.match(rest):
        rest = rest[key.end() :]
    if rest[:1] in ("'", '"'):
        rest = rest[1:].split(rest[0], 1)[0]
    return int(digits or 0), rest.strip(_HTML_SPACE)
