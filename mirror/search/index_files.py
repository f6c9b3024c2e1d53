"""The search index's folder as files, known without whoosh: the version the state keeps for the
index, whether there is one, removing it; so that a build that changes nothing opens neither the
index nor whoosh."""

from __future__ import annotations

import shutil
from pathlib import Path

from mirror.stages import stage_version

# The index's format: bump when the schema changes. Together with the code that makes the index
# (`index_version`), it decides when the index is rebuilt from the stored pages.
INDEX_VERSION = "10"


def index_version() -> str:
    """What the index was made with: its format (`INDEX_VERSION`) and the indexing code, kept in
    the state; an index made with anything else is made again."""
    return f"{INDEX_VERSION}+{stage_version('index')}"


def has_index(index_dir: Path) -> bool:
    """Whether `index_dir` holds an index: a table of segments (`_MAIN_<generation>.toc`), as
    whoosh finds one; whether it can be read is `SearchIndex.verify`'s to say."""
    return any(Path(index_dir).glob("_MAIN_*.toc"))


def remove_index(index_dir: Path) -> None:
    """Remove the index in `index_dir`, whole (it is rebuilt from the stored pages)."""
    shutil.rmtree(index_dir, ignore_errors=True)
