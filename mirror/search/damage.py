"""A damaged whoosh index (a file truncated, zeroed or deleted) told apart from a bug: what whoosh
raises reading one, turned into a DamagedError naming the file at fault."""

from __future__ import annotations

import pickle
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from whoosh import index
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import SegmentReader

from mirror.errors import DamagedError

# What whoosh raises reading a damaged file: from the file system, from unpickling its table of
# segments, from decoding a segment's structures.
READ_ERRORS = (
    index.IndexError,  # whoosh's own: a table of segments of another format (zeroed)
    OSError,
    EOFError,
    struct.error,
    pickle.UnpicklingError,
    zlib.error,
    IndexError,
    KeyError,
    ValueError,
)


@contextmanager
def reading(index_dir: Path) -> Iterator[None]:
    """Turn what whoosh raises on a damaged file of the index in `index_dir` into a
    DamagedError naming the file."""
    try:
        yield
    except DamagedError:
        raise
    except READ_ERRORS as exc:
        path = getattr(exc, "filename", None) or damaged_file(index_dir)
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        raise DamagedError(path, "the search index", reason) from None


def damaged_file(index_dir: Path) -> Path:
    """The file a read failed on, as far as it can be told (whoosh's errors do not say): the
    table of segments when it cannot be read, else the first segment that cannot be opened,
    else the index's folder."""
    storage = FileStorage(str(index_dir))
    try:
        toc = index.TOC.read(storage, "MAIN")
    except READ_ERRORS:
        tables = sorted(index_dir.glob("_MAIN_*.toc"), key=lambda p: p.stat().st_mtime)
        return tables[-1] if tables else index_dir
    for segment in toc.segments:
        try:
            SegmentReader(storage, toc.schema, segment).close()
        except READ_ERRORS:
            found = sorted(index_dir.glob(f"*{segment.segid}*"))
            return found[0] if found else index_dir
    return index_dir
