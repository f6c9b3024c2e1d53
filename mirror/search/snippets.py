"""Snippets: the words of a section around its first match, the matching words marked.
site_templates/static/search.js makes the same ones with the constants below, which it reads from
the exported meta.js (mirror.search.export.export_settings)."""

from __future__ import annotations

import html
import re

from mirror.search.analysis import WORD, query_analyzers
from mirror.search.query import PHRASE_CHARS

SNIPPET_CHARS = 160  # of a section's text shown
SNIPPET_BEFORE = SNIPPET_CHARS // 3  # of them before its first match, at most
ELLIPSIS = "…"  # where the text shown is cut


_TOKEN = re.compile(WORD)


def snippet(text: str, terms: set[str]) -> str:
    """About SNIPPET_CHARS of `text` around its first matching word, HTML-escaped, with the words
    whose stem is among `terms` in <mark>."""
    if not text:
        return ""
    text_terms = query_analyzers()["text"]
    known: dict[str, bool] = {}
    # Stemming only changes a word's ending, so a word whose first two letters start no term
    # cannot match: skip analysing it (most words of a long section).
    openings = {t[:2] for t in terms}

    def matches(word: str) -> bool:
        if word not in known:
            known[word] = word[:2].lower() in openings and any(
                term in terms for term in text_terms(word)
            )
        return known[word]

    first = next((m.start() for m in _TOKEN.finditer(text) if matches(m.group(0))), None)
    start = max(0, first - SNIPPET_BEFORE) if first is not None else 0
    if start and first is not None:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    out = [f"{ELLIPSIS} " if start else ""]
    position = start
    for match in _TOKEN.finditer(text, start, end):
        if matches(match.group(0)):
            out.append(html.escape(text[position : match.start()], quote=False))
            out.append(f"<mark>{html.escape(match.group(0), quote=False)}</mark>")
            position = match.end()
    out.append(html.escape(text[position:end], quote=False))
    if end < len(text):
        out.append(f" {ELLIPSIS}")
    return "".join(out)


STATIC_TEXT_CHARS = PHRASE_CHARS  # of each section's text kept for snippets and phrases
