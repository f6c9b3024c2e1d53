"""What each stage's stored output depends on, declared once: the modules a stage runs, so that a
change to any of them (or to a module they import from the package) redoes that stage's outputs
at the next build. Reads the package's own source files; imports nothing from it."""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

PACKAGE = "mirror"
_ROOT = Path(__file__).resolve().parent

# The modules each stage runs to make what it stores; the modules they import from the package
# count too (found in their source, `code_version`).
STAGE_MODULES: dict[str, tuple[str, ...]] = {
    # raw page -> cleaned page as the store keeps it (its JSON form is made in clean.py)
    "clean": ("mirror.clean.extract",),
    # cleaned page + inventory entries -> whoosh documents and the index
    "index": ("mirror.search.index", "mirror.clean.inventory"),
    # the whoosh index -> the site's static search files (with the ranking's rules, meta.js)
    "export": ("mirror.search.export",),
    # cleaned page + its context -> the site file (the templates are hashed by the renderer)
    "render": ("mirror.site.render",),
}

# Modules a stage's modules import that shape nothing the stage stores, not counted for it:
# `SearchIndex.search` ranks and cuts snippets with them, so a change to the ranking would
# otherwise index every page again (the export, which carries the ranking's rules, counts them).
QUERY_TIME = ("mirror.search.query", "mirror.search.snippets")
STAGE_EXCLUDED: dict[str, tuple[str, ...]] = {"index": QUERY_TIME}


def stage_version(stage: str) -> str:
    """A short hash of the code of `stage` (a key of `STAGE_MODULES`)."""
    return code_version(*STAGE_MODULES[stage], excluded=STAGE_EXCLUDED.get(stage, ()))


@functools.cache
def code_version(*modules: str, excluded: tuple[str, ...] = ()) -> str:
    """A short hash of the source of `modules` and of every package module they import,
    directly or not, but `excluded` and what only they import."""
    digest = hashlib.sha256()
    for name in sorted(package_imports(*modules, excluded=excluded)):
        digest.update(name.encode() + b"\0")
        digest.update(_source(name) + b"\0")
    return digest.hexdigest()[:16]


def package_imports(*modules: str, excluded: tuple[str, ...] = ()) -> frozenset[str]:
    """`modules` and the package modules they import, transitively (imports inside functions
    and for type checking included: a stage may run them), not following `excluded`."""
    seen: set[str] = set(excluded)
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(direct_imports(name))
    return frozenset(seen - set(excluded))


# an import statement, at a line's start (or after `;`): `import a.b, c as d` or
# `from a.b import (x, y)`, its names up to the end of the line or of the parentheses
_IMPORT = re.compile(
    r"^[ \t]*(?:import[ \t]+([\w., \t]+)|from[ \t]+([\w.]+)[ \t]+import[ \t]*(\([^)]*\)|[^\n#;]*))",
    re.MULTILINE,
)


@functools.cache
def direct_imports(module: str) -> tuple[str, ...]:
    """The package modules `module` imports itself, at its top or inside functions. Read from
    its import statements with a pattern, not parsed (a build computes this at its start: the
    parse took tens of milliseconds); a line in a string that reads as an import can only add a
    module, never hide one."""
    found: list[str] = []
    for match in _IMPORT.finditer(_source(module).decode("utf-8")):
        imported, base, names = match.groups()
        if imported is not None:
            for part in imported.split(","):
                name = part.split()[0] if part.split() else ""
                if _in_package(name):
                    found.append(name)
        elif base == PACKAGE:  # from mirror import x: x may be a module
            for part in names.strip("()").split(","):
                if part.split():
                    candidate = f"{PACKAGE}.{part.split()[0]}"
                    if _path(candidate):
                        found.append(candidate)
            found.append(PACKAGE)
        elif _in_package(base):
            found.append(base)
    return tuple(name for name in found if _path(name) is not None)


def _in_package(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def _path(module: str) -> Path | None:
    """The source file of a package module, None for a name that is not one."""
    parts = module.split(".")[1:]
    if not parts:
        return _ROOT / "__init__.py"
    base = _ROOT.joinpath(*parts)
    return next((p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()), None)


@functools.cache
def _source(module: str) -> bytes:
    path = _path(module)
    if path is None:
        raise ValueError(f"{module} is not a module of {PACKAGE}")
    return path.read_bytes()
