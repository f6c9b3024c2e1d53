"""How text becomes index terms: whoosh analyzers for prose, API names and the spelling
vocabulary, and the edit distance used to correct typos. site_templates/static/analysis.js is a
port of this module; tests/test_analysis_js.py checks that the two agree."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from whoosh.analysis import STOP_WORDS as WHOOSH_STOP_WORDS
from whoosh.analysis import (
    Analyzer,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
)

# -- the rules, each defined here once: mirror.search.export writes them into the exported
# index's meta.js (`analysis_settings`), where site_templates/static/analysis.js reads them.

WORD = r"\w+"  # a word: Python's \w, as analysis.js matches it too
NAME = r"[\w.]+"  # an API name: words and dots
MIN_WORD_CHARS = 2  # shorter words of prose are not indexed (StopFilter's minsize)
STOP_WORDS: frozenset[str] = frozenset(WHOOSH_STOP_WORDS)  # prose words not indexed
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


# -- the Porter stemmer (M. F. Porter, "An algorithm for suffix stripping", 1980) as tables: the
# suffix lists and patterns of whoosh.lang.porter, with step 1b as Porter wrote it (`stem`).
# Patterns are Python `re` sources, used with re.search ("^" anchors those that start at the
# word's start); analysis.js compiles them with Python's meaning.

PORTER_MIN_CHARS = 3  # shorter words are left as they are
PORTER_LEADING_Y = ("y", "Y")  # a word's first y is a consonant: written Y while stemming
# step 1a: the first of these suffixes that ends the word is replaced
PORTER_STEP1A = (("sses", "ss"), ("ies", "i"), ("ss", "ss"), ("s", ""))
# step 1b: eed becomes ee where the stem before it has m > 0; other words lose ed or ing where
# the stem before them has a vowel, and then a stem ending in at, bl or iz gets its e back, a
# doubled consonant (but l, s, z) is undoubled, or a stem of m == 1 ending cvc (*o) gets an e
PORTER_EED = ("eed", "ee")
PORTER_ED_ING = ("ed", "ing")
PORTER_RESTORE = (("at", "ate"), ("bl", "ble"), ("iz", "ize"))
PORTER_CVC_E = "e"
PORTER_STEP1C = ("y", "i")  # where the stem before it has a vowel
# steps 2 and 3: these suffixes replaced where the stem before them has m > 0
PORTER_STEP2 = {
    "ational": "ate",
    "tional": "tion",
    "enci": "ence",
    "anci": "ance",
    "izer": "ize",
    "bli": "ble",
    "alli": "al",
    "entli": "ent",
    "eli": "e",
    "ousli": "ous",
    "ization": "ize",
    "ation": "ate",
    "ator": "ate",
    "alism": "al",
    "iveness": "ive",
    "fulness": "ful",
    "ousness": "ous",
    "aliti": "al",
    "iviti": "ive",
    "biliti": "ble",
    "logi": "log",
}
PORTER_STEP3 = {
    "icate": "ic",
    "ative": "",
    "alize": "al",
    "iciti": "ic",
    "ical": "ic",
    "ful": "",
    "ness": "",
}
# step 4: these suffixes removed where the stem before them has m > 1; else ion after s or t
PORTER_STEP4 = (
    *("al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ou"),
    *("ism", "ate", "iti", "ous", "ive", "ize"),
)
PORTER_ION = "ion"
PORTER_ION_AFTER = ("s", "t")
PORTER_STEP5_E = "e"  # step 5a: removed where m > 1, or m == 1 and not *o
PORTER_STEP5B = ("ll", "l")  # where m > 1

_CONSONANTS = "[^aeiouy]+"  # a run of consonants (m counts vowel-consonant runs)
_VOWELS = "[aeiou]+"
_VOWEL = "[aeiouy]"


def _either(words: Iterable[str]) -> str:
    return "(" + "|".join(words) + ")"


PORTER_PATTERNS = {
    "mgr0": f"^({_CONSONANTS})?{_VOWELS}{_CONSONANTS}",  # m > 0
    "meq1": f"^({_CONSONANTS})?{_VOWELS}{_CONSONANTS}({_VOWELS})?$",  # m == 1
    "mgr1": f"^({_CONSONANTS})?{_VOWELS}{_CONSONANTS}{_VOWELS}{_CONSONANTS}",  # m > 1
    "vowel": f"^({_CONSONANTS})?{_VOWEL}",  # a vowel in the stem
    "cvc": f"^{_CONSONANTS}{_VOWEL}[^aeiouwxy]$",  # *o, in a stem of m == 1
    "edIng": "^(.*)" + _either(PORTER_ED_ING) + "$",
    "double": r"([^aeiouylsz])\1$",  # a doubled consonant but l, s, z
    "step2": "^(.+?)" + _either(PORTER_STEP2) + "$",
    "step3": "^(.+?)" + _either(PORTER_STEP3) + "$",
    "step4": "^(.+?)" + _either(PORTER_STEP4) + "$",
    "step4Ion": "^(.+?)" + _either(PORTER_ION_AFTER) + _either([PORTER_ION]) + "$",
    "step5": "^(.+?)" + PORTER_STEP5_E + "$",
}
_P = {name: re.compile(source).search for name, source in PORTER_PATTERNS.items()}


def porter_tables() -> dict[str, Any]:
    """The stemmer's tables as site_templates/static/analysis.js reads them (JSON)."""
    return {
        "minChars": PORTER_MIN_CHARS,
        "leadingY": list(PORTER_LEADING_Y),
        "step1a": [list(rule) for rule in PORTER_STEP1A],
        "eed": list(PORTER_EED),
        "restore": [list(rule) for rule in PORTER_RESTORE],
        "cvcE": PORTER_CVC_E,
        "step1c": list(PORTER_STEP1C),
        "step2": PORTER_STEP2,
        "step3": PORTER_STEP3,
        "step5b": list(PORTER_STEP5B),
        "patterns": PORTER_PATTERNS,
    }


def analysis_settings() -> dict[str, Any]:
    """The rules of the query analysis that site_templates/static/analysis.js reads from the
    exported index's meta.js (JSON): the word patterns, the stop words, the stemmer's tables."""
    return {
        "word": WORD,
        "name": NAME,
        "minChars": MIN_WORD_CHARS,
        "stopWords": sorted(STOP_WORDS),
        "porter": porter_tables(),
    }


def _without(w: str, suffix: str) -> str:
    return w[: len(w) - len(suffix)]


def stem(w: str) -> str:
    """The Porter stem of `w`: whoosh.lang.porter.stem with step 1b as Porter wrote it. whoosh
    tests a stem for the endings at/bl/iz and for a doubled consonant with re.match, so only
    stems that are nothing else matched: `running` became runn, `setting` sett, `stopped` stopp,
    apart from `run`, `set` and `stop`. The rest is whoosh's algorithm and tables as they are."""
    if len(w) < PORTER_MIN_CHARS:
        return w
    y, consonant_y = PORTER_LEADING_Y
    first_is_y = w.startswith(y)
    if first_is_y:
        w = consonant_y + w[len(y) :]
    # Step 1a
    for suffix, replacement in PORTER_STEP1A:
        if w.endswith(suffix):
            w = _without(w, suffix) + replacement
            break
    # Step 1b
    eed, ee = PORTER_EED
    if w.endswith(eed):
        if _P["mgr0"](_without(w, eed)):
            w = _without(w, eed) + ee
    else:
        m = _P["edIng"](w)
        if m and _P["vowel"](m.group(1)):
            w = m.group(1)  # no line end in it, so its endings are its last letters
            restored = next((_without(w, s) + r for s, r in PORTER_RESTORE if w.endswith(s)), None)
            if restored is not None:
                w = restored
            elif _P["double"](w):
                w = w[:-1]
            elif _P["cvc"](w):
                w += PORTER_CVC_E
    # Step 1c
    y_end, i_end = PORTER_STEP1C
    if w.endswith(y_end) and _P["vowel"](_without(w, y_end)):
        w = _without(w, y_end) + i_end
    # Step 2
    m = _P["step2"](w)
    if m and _P["mgr0"](m.group(1)):
        w = m.group(1) + PORTER_STEP2[m.group(2)]
    # Step 3
    m = _P["step3"](w)
    if m and _P["mgr0"](m.group(1)):
        w = m.group(1) + PORTER_STEP3[m.group(2)]
    # Step 4
    m = _P["step4"](w)
    if m:
        if _P["mgr1"](m.group(1)):
            w = m.group(1)
    else:
        m = _P["step4Ion"](w)
        if m and _P["mgr1"](m.group(1) + m.group(2)):
            w = m.group(1) + m.group(2)
    # Step 5
    m = _P["step5"](w)
    if m:
        s = m.group(1)
        if _P["mgr1"](s) or (_P["meq1"](s) and not _P["cvc"](s)):
            w = s
    ll, l_end = PORTER_STEP5B
    if w.endswith(ll) and _P["mgr1"](w):
        w = _without(w, ll) + l_end
    if first_is_y:
        w = y + w[len(consonant_y) :]
    return w


def text_chain() -> Any:
    """Prose, token by token: words, identifiers also as their parts, lower case, stop words
    out, Porter stems."""
    return (
        RegexTokenizer(WORD)
        | CodePartsFilter()
        | LowercaseFilter()
        | StopFilter(stoplist=STOP_WORDS, minsize=MIN_WORD_CHARS)
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
_stem = functools.lru_cache(maxsize=50_000)(stem)


def _text_terms(word: str) -> list[str]:
    """`text_chain()`'s index terms of one word, in one call: the word and its parts, lower
    case, without stop words and one-letter words, stemmed."""
    terms = []
    for token in (word, *indexed_parts(word)):
        token = token.lower()
        if len(token) >= MIN_WORD_CHARS and token not in STOP_WORDS:
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
