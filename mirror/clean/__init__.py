"""Cleaning: raw HTML in, a frozen `Page` (or a `Redirect`) out, and Sphinx inventories. Pure."""
