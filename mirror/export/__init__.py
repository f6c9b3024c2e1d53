"""Exports of the mirror for other readers: Dash/Zeal docsets and Kiwix ZIM files."""
