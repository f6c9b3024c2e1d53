"""The exception tree; `cli.py` turns each into one line and the exit code in brackets.

DocmirrorError
├── ConfigError    the config file or a command-line option is wrong (2)
├── NotBuiltError  nothing to work on yet: no mirror, site or index; run a build first (3)
├── StoreError     the data folder or its state database cannot be used (4)
├── DamagedError   a file docmirror stored is damaged; a build repairs it (6)
├── BusyError      another docmirror build is using the data folder (7)
├── RenderError    the site could not be written (4)
├── ExportError    a docset or ZIM file could not be written (4)
├── ServeError     the server cannot listen on the address asked for (5)
├── FetchError     a URL could not be fetched (reported per URL; the build exits 1)
└── InventoryError a Sphinx inventory (objects.inv) cannot be read (never fatal to a build)
"""

from __future__ import annotations

import os


class DocmirrorError(Exception):
    """Base of every error docmirror raises on purpose; its message is one line for the user."""


class ConfigError(DocmirrorError):
    """The configuration (file or options) is invalid."""


class NotBuiltError(DocmirrorError):
    """A command needs what a build makes (the state database, the site, the search index) and
    there is none yet."""


class FetchError(DocmirrorError):
    """A page could not be fetched; the message names the URL's host and the reason."""


class StoreError(DocmirrorError):
    """The data folder or the state database could not be read or written."""


class DamagedError(DocmirrorError):
    """A file docmirror stored (the search index, its export, a raw page, the state database,
    a site page) is not what was written: truncated, zeroed, missing or unreadable. A build
    rebuilds it from what is intact; `path` names the file, `reason` says what is wrong."""

    def __init__(self, path: str | os.PathLike[str], what: str, reason: str) -> None:
        self.path = str(path)
        self.what = what
        self.reason = reason
        super().__init__(
            f"{self.path}: {what} is damaged ({reason}); run `docmirror build` to repair it"
        )


class BusyError(DocmirrorError):
    """Another docmirror build (or export, or `build --check`) holds the data folder's lock."""


class RenderError(DocmirrorError):
    """The site could not be rendered or written."""


class ExportError(DocmirrorError):
    """A docset or ZIM file could not be written (the output folder, a full disk, libzim)."""


class ServeError(DocmirrorError):
    """`docmirror serve` cannot listen where it was asked to."""


class InventoryError(DocmirrorError):
    """A Sphinx inventory is not in a format docmirror reads (bad header, version or zlib data)."""
