"""The exports a command or the config asks for, run one after the other."""

from __future__ import annotations

from pathlib import Path

from mirror.config import Config
from mirror.export.common import ExportResult
from mirror.export.docset import export_docsets
from mirror.export.zim import export_zim


def run_exports(
    config: Config, kind: str | None, output: Path | None = None, source: str | None = None
) -> list[ExportResult]:
    """The docsets (`kind` "docset") or the ZIM file ("zim") of `source` or of every source,
    written to `output` or the config's export folder; `kind` None: those `[export]` asks for."""
    kinds = [kind] if kind else [k for k in ("docset", "zim") if getattr(config.export, k)]
    results: list[ExportResult] = []
    if "docset" in kinds:
        results += export_docsets(config, output, source)
    if "zim" in kinds:
        results.append(export_zim(config, output, source))
    return results
