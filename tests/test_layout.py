"""The package's layout: imports run one way, from the pure middle out to the command line, and
each module stays small enough to read in one sitting."""

from __future__ import annotations

from pathlib import Path

from mirror.stages import direct_imports

PACKAGE = Path(__file__).parent.parent / "mirror"
# A module may import only from its own layer or the layers before it.
LAYERS = (
    {"mirror", "mirror.errors", "mirror.stages"},
    {"mirror.urls", "mirror.config", "mirror.files", "mirror.config_file"},
    {"mirror.clean"},
    {"mirror.fetch"},
    {
        "mirror.search",
        "mirror.site",
        "mirror.build.store",
        "mirror.build.statedb",
        "mirror.build.membership",
    },
    {"mirror.build", "mirror.export"},
    {"mirror.cli", "mirror.__main__"},
)


def layer_of(module: str) -> int:
    for depth in range(module.count("."), -1, -1):
        prefix = ".".join(module.split(".")[: depth + 1])
        for i, names in enumerate(LAYERS):
            if prefix in names:
                return i
    raise AssertionError(f"{module} is in no layer")


def modules() -> list[str]:
    return sorted(
        ".".join(("mirror", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(
            ".__init__"
        )
        for p in PACKAGE.rglob("*.py")
    )


def test_imports_run_one_way() -> None:
    found = modules()
    assert "mirror.build.run" in found and "mirror.clean.extract" in found
    wrong = [
        f"{module} imports {imported}"
        for module in found
        for imported in direct_imports(module)
        if layer_of(imported) > layer_of(module)
    ]
    assert wrong == []


def test_modules_stay_under_500_lines() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 500} == {}
