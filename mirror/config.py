"""Load and validate `config.toml` into frozen dataclasses; `ConfigError` names any problem."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mirror import __version__
from mirror.errors import ConfigError
from mirror.urls import local_path_for, normalize_url

DEFAULT_TITLE = "Documentation mirror"
DEFAULT_DEPTH = 5
DEFAULT_MAX_PAGES = 1000
DEFAULT_USER_AGENT = f"docmirror/{__version__} (+https://github.com/docmirror/docmirror)"


@dataclass(frozen=True, slots=True)
class SiteSettings:
    title: str = DEFAULT_TITLE
    output_dir: Path = Path("site")  # the static site, absolute once loaded
    data_dir: Path = Path(".docmirror")  # raw pages, state.sqlite3, the whoosh index


@dataclass(frozen=True, slots=True)
class CrawlSettings:
    workers: int = 10  # threads in the pool
    per_host: int = 6  # concurrent requests to one host at most
    timeout: float = 10.0  # seconds, for connect and for each read
    retries: int = 3  # extra attempts for connection errors, timeouts, 429 and 5xx
    delay: float = 0.0  # minimum seconds between request starts to one host
    robots: bool = True  # honour robots.txt
    user_agent: str = DEFAULT_USER_AGENT
    max_bytes: int = 20_000_000  # a larger body is refused


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    urls: tuple[str, ...]  # normalised, in the order the config gives
    # Overrides for the rare site the default extraction gets wrong, as valid CSS selectors:
    content: str | None = None  # the element holding the main content
    drop: tuple[str, ...] = ()  # elements to remove from it
    follow: tuple[str, ...] = ()  # URL prefixes: links into them are mirrored too
    depth: int = DEFAULT_DEPTH  # links followed at most this many steps from the listed URLs
    max_pages: int = DEFAULT_MAX_PAGES  # pages of this source at most, listed ones included


@dataclass(frozen=True, slots=True)
class ExportSettings:
    docset: bool = False  # `build` keeps a Dash/Zeal docset per source current
    zim: bool = False  # `build` keeps a Kiwix ZIM file of the site current
    dir: Path = Path("exports")  # where exports go, absolute once loaded


@dataclass(frozen=True, slots=True)
class Config:
    path: Path  # the config file, absolute
    site: SiteSettings = field(default_factory=SiteSettings)
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    sources: tuple[Source, ...] = ()
    export: ExportSettings = field(default_factory=ExportSettings)

    @property
    def urls(self) -> tuple[str, ...]:
        """Every configured URL once, in source order."""
        return tuple(dict.fromkeys(u for s in self.sources for u in s.urls))


_SITE_KEYS = {"title": str, "output_dir": str, "data_dir": str}
_CRAWL_KEYS: dict[str, type | tuple[type, ...]] = {
    "workers": int,
    "per_host": int,
    "timeout": (int, float),
    "retries": int,
    "delay": (int, float),
    "robots": bool,
    "user_agent": str,
    "max_bytes": int,
}
_EXPORT_KEYS = {"docset": bool, "zim": bool, "dir": str}
_SOURCE_KEYS = {
    "name": str,
    "urls": list,
    "content": str,
    "drop": list,
    "follow": list,
    "depth": int,
    "max_pages": int,
}


def load_config(path: Path, *, check_paths: bool = True) -> Config:
    """Read and validate the config at `path`; relative paths in it are relative to its folder."""
    path = Path(path).absolute()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse_config(data, path, check_paths=check_paths)


def parse_config(data: dict[str, Any], path: Path, *, check_paths: bool = True) -> Config:
    """Validate the parsed TOML `data` of the config file at `path`. `check_paths`: also refuse
    two URLs that map to one local file (a build needs it; a search of thousands of pages need
    not pay for it)."""
    _check_keys(data, {"site": dict, "crawl": dict, "sources": list, "export": dict}, path, "")
    site_data = data.get("site", {})
    _check_keys(site_data, _SITE_KEYS, path, "site.")
    crawl_data = data.get("crawl", {})
    _check_keys(crawl_data, _CRAWL_KEYS, path, "crawl.")
    export_data = data.get("export", {})
    _check_keys(export_data, _EXPORT_KEYS, path, "export.")

    base = path.parent
    site = SiteSettings(
        title=site_data.get("title", DEFAULT_TITLE),
        output_dir=(base / site_data.get("output_dir", "site")).resolve(),
        data_dir=(base / site_data.get("data_dir", ".docmirror")).resolve(),
    )
    if site.output_dir == site.data_dir:
        raise ConfigError(f"{path}: site.output_dir and site.data_dir must be different folders")

    crawl = CrawlSettings(**{k: v for k, v in crawl_data.items()})
    for key in ("workers", "per_host"):
        if getattr(crawl, key) < 1:
            raise ConfigError(f"{path}: crawl.{key} must be at least 1")
    for key in ("retries", "delay"):
        if getattr(crawl, key) < 0:
            raise ConfigError(f"{path}: crawl.{key} must not be negative")
    if crawl.timeout <= 0 or crawl.max_bytes <= 0:
        raise ConfigError(f"{path}: crawl.timeout and crawl.max_bytes must be positive")

    sources = []
    names: set[str] = set()
    for i, src in enumerate(data.get("sources", [])):
        where = f"sources[{i}]."
        if not isinstance(src, dict):
            raise ConfigError(f"{path}: sources[{i}] must be a table ([[sources]])")
        _check_keys(src, _SOURCE_KEYS, path, where)
        name = src.get("name") or f"source-{i + 1}"
        if name in names:
            raise ConfigError(f"{path}: {where}name {name!r} is used twice")
        names.add(name)
        urls = _url_list(src, "urls", path, where)
        follow = _url_list(src, "follow", path, where)
        depth = src.get("depth", DEFAULT_DEPTH)
        max_pages = src.get("max_pages", DEFAULT_MAX_PAGES)
        if depth < 0 or max_pages < 1:
            raise ConfigError(f"{path}: {where}depth must be 0 or more and max_pages at least 1")
        content = src.get("content")
        if content is not None:
            _check_selector(content, path, f"{where}content")
        drop = src.get("drop", [])
        for selector in drop:
            if not isinstance(selector, str):
                raise ConfigError(f"{path}: {where}drop must be a list of CSS selector strings")
            _check_selector(selector, path, f"{where}drop")
        sources.append(
            Source(
                name=name,
                urls=tuple(urls),
                content=content,
                drop=tuple(drop),
                follow=tuple(follow),
                depth=depth,
                max_pages=max_pages,
            )
        )
    taken: dict[str, str] = {}
    for url in dict.fromkeys(u for s in sources for u in s.urls) if check_paths else ():
        local = local_path_for(url)
        if local in taken:
            raise ConfigError(
                f"{path}: {taken[local]} and {url} map to the same local file {local}"
            )
        taken[local] = url
    if not any(s.urls for s in sources):
        raise ConfigError(f"{path}: no URLs to mirror: add a [[sources]] table with urls = [...]")
    export = ExportSettings(
        docset=export_data.get("docset", False),
        zim=export_data.get("zim", False),
        dir=(base / export_data.get("dir", "exports")).resolve(),
    )
    return Config(path=path, site=site, crawl=crawl, sources=tuple(sources), export=export)


def _url_list(table: dict[str, Any], key: str, path: Path, where: str) -> list[str]:
    """The normalised http(s) URLs of a list-of-strings key."""
    found = []
    for raw in table.get(key, []):
        if not isinstance(raw, str):
            raise ConfigError(f"{path}: {where}{key} must be a list of URL strings")
        try:
            found.append(normalize_url(raw))
        except ValueError as exc:
            raise ConfigError(f"{path}: {where}{key}: {exc}") from None
    return found


def _check_selector(selector: str, path: Path, key: str) -> None:
    """A selector the cleaner cannot use would fail every page of the source: refuse it here,
    compiled as the cleaner compiles it, and tried on an empty page (an undeclared namespace
    prefix, `ns|div`, compiles but fails when it runs)."""
    # only configs with selectors pay for importing these
    from lxml.cssselect import CSSSelector, SelectorError
    from lxml.etree import Element, XPathError

    try:
        CSSSelector(selector, translator="html")(Element("html"))
    except (SelectorError, XPathError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{path}: {key}: invalid CSS selector {selector!r}: {reason}") from None


def _check_keys(table: dict[str, Any], allowed: dict[str, Any], path: Path, prefix: str) -> None:
    for key, value in table.items():
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise ConfigError(f"{path}: unknown key {prefix}{key} (known: {known})")
        expected = allowed[key]
        # bool is an int in Python: never accept true for a number, or 1 for a flag
        if isinstance(value, bool) != (expected is bool) or not isinstance(value, expected):
            raise ConfigError(f"{path}: {prefix}{key} has the wrong type ({type(value).__name__})")
