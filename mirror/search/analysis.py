"""How text becomes index terms: whoosh analyzers for prose, API names and the spelling
vocabulary, and the edit distance used to correct typos. site_templates/static/analysis.js is a
port of this module; tests/test_analysis_js.py checks that the two agree."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

from whoosh.analysis import (
    Analyzer,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
)
from whoosh.lang import porter

# Python's \w; dotted names for API symbols
WORD = r"\w+"
NAME = r"[\w.]+"
# camelCase and HTTPServer boundaries (ASCII only, so the browser splits exactly alike)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def code_parts(token: str) -> list[str]:
    """The words inside an identifier: `copy_context` -> copy, context; `ThreadPoolExecutor` ->
    Thread, Pool, Executor. Empty when the token is a single word."""
    if "_" not in token and (
        token.islower() or (token.isalpha() and (token.istitle() or token.isupper()))
    ):
        return []  # most words: nothing to split
    parts = [p for piece in token.split("_") for p in _CAMEL.split(piece) if p]
    return parts if len(parts) > 1 or (parts and parts[0] != token) else []


class CodePartsFilter(Filter):
    """Indexes an identifier as itself and as its words, so `copy context` finds `copy_context`
    and `thread pool` finds `ThreadPoolExecutor`. Queries keep the whole token, which the
    document side holds too."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            whole = token.text
            yield token
            for part in indexed_parts(whole) if token.mode == "index" else ():
                token.text = part
                yield token


def indexed_parts(token: str) -> list[str]:
    """The words of an identifier indexed besides it (`code_parts`), each once."""
    return [part for part in dict.fromkeys(code_parts(token)) if part != token]


class DottedNameFilter(Filter):
    """For `a.b.C`: the whole name and each dotted suffix (`b.c`, `c`), so a symbol is found
    by its full name, by `Class.method` and by its last component; an exact match on any of
    these ranks the symbol first. Middle parts (`b`) are left to the text fields."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            for variant in dotted_suffixes(token.text):
                token.text = variant
                yield token


def dotted_suffixes(name: str) -> list[str]:
    """`a.b.C` and its dotted suffixes `b.C`, `C`, each once (none for dots alone)."""
    name = name.strip(".")
    parts = [p for p in name.split(".") if p]
    variants = [name] + [".".join(parts[i:]) for i in range(1, len(parts))]
    return [v for v in dict.fromkeys(variants) if v]


_AT_BL_IZ = re.compile(r"(at|bl|iz)$")
_DOUBLE = re.compile(r"([^aeiouylsz])\1$")


def stem(w: str) -> str:
    """The Porter stem of `w`: whoosh.lang.porter.stem with step 1b as Porter wrote it. whoosh
    tests a stem for the endings at/bl/iz and for a doubled consonant with re.match, so only
    stems that are nothing else matched: `running` became runn, `setting` sett, `stopped` stopp,
    apart from `run`, `set` and `stop`. The rest is whoosh's code and patterns as they are."""
    if len(w) < 3:
        return w
    first_is_y = w[0] == "y"
    if first_is_y:
        w = "Y" + w[1:]
    # Step 1a
    if w.endswith("s"):
        if w.endswith("sses") or w.endswith("ies"):
            w = w[:-2]
        elif w[-2] != "s":
            w = w[:-1]
    # Step 1b
    if w.endswith("eed"):
        if porter._mgr0.match(w[:-3]):
            w = w[:-1]
    else:
        m = porter._ed_ing.match(w)
        if m and porter._s_v.match(m.group(1)):
            w = m.group(1)
            if _AT_BL_IZ.search(w):
                w += "e"
            elif _DOUBLE.search(w):
                w = w[:-1]
            elif porter._c_v.match(w):
                w += "e"
    # Step 1c
    if w.endswith("y") and porter._s_v.match(w[:-1]):
        w = w[:-1] + "i"
    # Step 2
    m = porter._step2.match(w)
    if m and porter._mgr0.match(m.group(1)):
        w = m.group(1) + porter._step2list[m.group(2)]
    # Step 3
    m = porter._step3.match(w)
    if m and porter._mgr0.match(m.group(1)):
        w = m.group(1) + porter._step3list[m.group(2)]
    # Step 4
    m = porter._step4_1.match(w)
    if m:
        if porter._mgr1.match(m.group(1)):
            w = m.group(1)
    else:
        m = porter._step4_2.match(w)
        if m and porter._mgr1.match(m.group(1) + m.group(2)):
            w = m.group(1) + m.group(2)
    # Step 5
    m = porter._step5.match(w)
    if m:
        s = m.group(1)
        if porter._mgr1.match(s) or (porter._meq1.match(s) and not porter._c_v.match(s)):
            w = s
    if w.endswith("ll") and porter._mgr1.match(w):
        w = w[:-1]
    if first_is_y:
        w = "y" + w[1:]
    return w


def text_chain() -> Any:
    """Prose, token by token: words, identifiers also as their parts, lower case, stop words
    out, Porter stems."""
    return (
        RegexTokenizer(WORD)
        | CodePartsFilter()
        | LowercaseFilter()
        | StopFilter(minsize=2)
        | StemFilter(stemfn=stem, cachesize=50000)
    )


def symbol_chain() -> Any:
    """API names, token by token: the name and its dotted suffixes, lower case."""
    return RegexTokenizer(NAME) | LowercaseFilter() | DottedNameFilter()


def vocabulary_chain() -> Any:
    """Words as written, lower case."""
    return RegexTokenizer(WORD) | LowercaseFilter()


# name -> (word pattern, chain), built once and shared by every analyzer of that name
_CHAINS = {
    "text": (re.compile(WORD), text_chain()),
    "symbols": (re.compile(NAME), symbol_chain()),
    "words": (re.compile(WORD), vocabulary_chain()),
}
_STOP_WORDS = next(f.stops for f in _CHAINS["text"][1].items if isinstance(f, StopFilter))
_stem = functools.lru_cache(maxsize=50_000)(stem)


def _text_terms(word: str) -> list[str]:
    """`text_chain()`'s index terms of one word, in one call: the word and its parts, lower
    case, without stop words and one-letter words, stemmed."""
    terms = []
    for token in (word, *indexed_parts(word)):
        token = token.lower()
        if len(token) >= 2 and token not in _STOP_WORDS:
            terms.append(_stem(token))
    return terms


# each chain's index terms of one word (a match of its pattern), computed without the chain's
# generators: the memos' misses, tens of thousands of words in a build of a few hundred pages
_WORD_TERMS: dict[str, Callable[[str], list[str]]] = {
    "text": _text_terms,
    "symbols": lambda word: dotted_suffixes(word.lower()),
    "words": lambda word: [word.lower()],
}
_MEMO_SIZE = 100_000  # distinct words remembered per analyzer, then forgotten all at once
_memos: dict[str, dict[str, list[str]]] = {name: {} for name in _CHAINS}


class MemoizedAnalyzer(Analyzer):
    """One of the chains above, whose filters all work token by token: when indexing, each
    distinct word's terms are computed once and remembered (the chain of generators per token
    was most of whoosh's indexing time); queries go through the chain itself. Its only state
    is the chain's name, which is all the index's pickled schema holds."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, value: str, mode: str = "", **kwargs: Any) -> Iterator[Token]:
        if mode != "index":
            yield from _CHAINS[self.name][1](value, mode=mode, **kwargs)
            return
        token = Token(positions=False, chars=False, boosts=True, mode=mode)
        token.boost = 1.0
        token.stopped = False
        for term in self.index_terms(value):
            token.text = term
            yield token

    def index_terms(self, value: str) -> list[str]:
        """The terms of `value` as indexing makes them, in order."""
        pattern = _CHAINS[self.name][0]
        word_terms = _WORD_TERMS[self.name]
        memo = _memos[self.name]
        found: list[str] = []
        for word in pattern.findall(value):
            terms = memo.get(word)
            if terms is None:
                if len(memo) >= _MEMO_SIZE:
                    memo.clear()
                terms = memo[word] = word_terms(word)
            found += terms
        return found

    def chain_terms(self, value: str) -> list[str]:
        """The terms of `value` as the chain itself makes them when indexing (what
        `index_terms` must give)."""
        return [t.text for t in _CHAINS[self.name][1](value, mode="index")]


def text_analyzer() -> Any:
    """Prose: words (`\\w+`, so dotted names split), identifiers also as their parts, lower
    case, stop words out, Porter stems."""
    return MemoizedAnalyzer("text")


def symbol_analyzer() -> Any:
    """API names: the full dotted name and its dotted suffixes, lower case."""
    return MemoizedAnalyzer("symbols")


def vocabulary_analyzer() -> Any:
    """The words as written (lower case, not stemmed): what typo correction and "did you mean"
    choose from."""
    return MemoizedAnalyzer("words")


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (insertions, deletions, substitutions and swaps of
    neighbours), or `limit + 1` as soon as it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[len(b)] if previous[len(b)] <= limit else limit + 1


def analyze(analyzer: Any, text: str, mode: str = "query") -> list[str]:
    """The terms `analyzer` makes of `text`."""
    return [t.text for t in analyzer(text, mode=mode) if t.text]


@functools.cache
def query_analyzers() -> dict[str, Any]:
    """Each field's analysis of one query word."""
    text, symbols = text_analyzer(), symbol_analyzer()
    return {
        "symbols": lambda word: analyze(symbols, word),
        "section": lambda word: analyze(text, word),
        "title": lambda word: analyze(text, word),
        "text": lambda word: analyze(text, word),
    }
