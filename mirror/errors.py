"""The exception tree; `cli.py` turns each into one line and an exit code.

DocmirrorError
├── ConfigError    the config file or a command-line option is wrong (exit 2)
├── FetchError     a URL could not be fetched (reported per URL, exit 1)
├── StoreError     the data folder or its state database cannot be used
├── RenderError    the site could not be written
└── InventoryError a Sphinx inventory (objects.inv) cannot be read (never fatal to a build)
"""


class DocmirrorError(Exception):
    """Base of every error docmirror raises on purpose; its message is one line for the user."""


class ConfigError(DocmirrorError):
    """The configuration (file or options) is invalid."""


class FetchError(DocmirrorError):
    """A page could not be fetched; the message names the URL's host and the reason."""


class StoreError(DocmirrorError):
    """The data folder or the state database could not be read or written."""


class RenderError(DocmirrorError):
    """The site could not be rendered or written."""


class InventoryError(DocmirrorError):
    """A Sphinx inventory is not in a format docmirror reads (bad header, version or zlib data)."""
