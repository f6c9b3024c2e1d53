"""docmirror: mirror documentation pages into a searchable static site that works offline."""

__version__ = "0.1.0"
