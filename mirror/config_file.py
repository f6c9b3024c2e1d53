"""`docmirror add`: a source appended to the config file for a docs URL (created with the defaults
when there is none), following the links under the URL's folder. The user's text and comments
are kept; the result is validated before it replaces the file, atomically."""

from __future__ import annotations

import json
import posixpath
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from mirror.config import DEFAULT_DEPTH, DEFAULT_MAX_PAGES, Source, load_config, parse_config
from mirror.errors import ConfigError, StoreError
from mirror.files import write_atomic
from mirror.urls import normalize_url

NEW_CONFIG = """# docmirror: the documentation mirrored for offline reading and search.

[site]
title = "Documentation mirror"
output_dir = "site"          # the static site: open site/index.html
data_dir = ".docmirror"      # raw pages, state.sqlite3, the search index
"""


@dataclass(frozen=True, slots=True)
class AddedSource:
    source: Source
    created: bool  # the config file did not exist and was written with the defaults


def add_source(config_path: Path, url: str, name: str | None = None) -> AddedSource:
    """Append a `[[sources]]` table for `url` to the config at `config_path`: the URL listed,
    the links under its folder followed with the default bounds, named `name` or after the URL.
    Raises ConfigError for a URL that is not http(s), a name in use, a config that does not
    load, or a URL another source lists already."""
    path = Path(config_path).absolute()
    try:
        start = normalize_url(url)
    except ValueError as exc:
        raise ConfigError(f"{url}: {exc}") from None
    created = not path.exists()
    text = NEW_CONFIG if created else path.read_text(encoding="utf-8")
    existing = () if created else load_config(path, check_paths=False).sources
    if any(start in s.urls for s in existing):
        taken = next(s.name for s in existing if start in s.urls)
        raise ConfigError(f"{path}: {start} is mirrored already (source {taken!r})")
    names = {s.name for s in existing}
    name = name or _unique(_name_for(start), names)
    if name in names:
        raise ConfigError(f"{path}: a source named {name!r} exists already")
    folder = _folder_of(start)
    table = (
        f"\n[[sources]]\nname = {json.dumps(name)}\nurls = [{json.dumps(start)}]\n"
        f"follow = [{json.dumps(folder)}]  # the pages under this folder\n"
        f"# depth = {DEFAULT_DEPTH}                  # link steps from the listed URL at most\n"
        f"# max_pages = {DEFAULT_MAX_PAGES}           # followed pages at most\n"
    )
    new_text = text.rstrip("\n") + "\n" + table
    config = parse_config(tomllib.loads(new_text), path)  # the whole file, as a build reads it
    try:
        write_atomic(path, new_text.encode("utf-8"))
    except OSError as exc:
        raise StoreError(f"{path}: cannot write the config file: {exc}") from None
    added = next(s for s in config.sources if s.name == name)
    return AddedSource(added, created)


def _folder_of(url: str) -> str:
    """The folder a page URL is in (the URL itself for a folder)."""
    parts = urlsplit(url)
    folder = parts.path if parts.path.endswith("/") else posixpath.dirname(parts.path) + "/"
    return urlunsplit((parts.scheme, parts.netloc, folder.replace("//", "/"), "", ""))


def _name_for(url: str) -> str:
    """A source name from the URL: its host's main label and its first path segments."""
    parts = urlsplit(url)
    labels = [p for p in (parts.hostname or "").split(".") if p not in ("www", "docs", "com")]
    host = labels[0] if labels else "docs"
    path = [s for s in parts.path.split("/")[:-1] if s and not re.fullmatch(r"[\d.]+|en|stable", s)]
    name = "-".join([host, *path[:2]])
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-").lower() or "docs"


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name}-{number}" in taken:
        number += 1
    return f"{name}-{number}"
