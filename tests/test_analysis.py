"""mirror.search.analysis on the Python side: the memoized analyzers index a word exactly as their
whoosh chains do, computed without the chains."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from mirror.clean.extract import clean_page
from mirror.search.analysis import (
    MemoizedAnalyzer,
    stem,
    symbol_analyzer,
    text_analyzer,
    vocabulary_analyzer,
)

PAGES = Path(__file__).resolve().parent / "pages"

ODD = """ThreadPoolExecutor copy_context HTTPServer getURLForID IOError ALLCAPS_NAME mixed_CamelCase
__init__ _private a_b_c a I it's the The THE an x86_64 3.11 Popen.communicate concurrent.futures
.a.b. ... a..b naïve café İstanbul Straße ß ǅungla 日本語 ünïcödé Ⅻ ½ generalizations running
settings calculated hopping sized conflated the_end end_the Thread_thread co-operate""".split()


@pytest.mark.parametrize("make", [text_analyzer, symbol_analyzer, vocabulary_analyzer])
def test_index_terms_are_the_chain_s(pages: dict[str, bytes], make: object) -> None:
    """Every word of the test pages, and odd ones, gets the terms the chain would give it."""
    analyzer = make()  # type: ignore[operator]
    assert isinstance(analyzer, MemoizedAnalyzer)
    texts = [" ".join(ODD)]
    for path, body in pages.items():
        page = clean_page(body, f"https://docs.example.org{path}")
        texts += [page.title] + [f"{s.title} {s.text}" for s in page.sections]
        texts += [f"{s.name} {s.text}" for s in page.symbols]
    checked = 0
    for text in texts:
        expected = analyzer.chain_terms(text)
        assert analyzer.index_terms(text) == expected, text[:80]
        assert analyzer.index_terms(text) == expected  # and again, from the memo
        checked += len(expected)
    assert checked > 3000


# -- the Porter stemmer: unchanged since its tables moved from whoosh into analysis.py ---------

# The stemmer as it was before: whoosh.lang.porter's patterns and suffix lists (copied verbatim
# from whoosh 2.7.4, whose private names analysis.py read then) with step 1b as Porter wrote it.
# An oracle of its own, so that the tables of mirror.search.analysis are checked against it.
_C, _V = "[^aeiouy]+", "[aeiou]+"
_MGR0 = re.compile("^(" + _C + ")?" + _V + _C)
_MEQ1 = re.compile("^(" + _C + ")?" + _V + _C + "(" + _V + ")?$")
_MGR1 = re.compile("^(" + _C + ")?" + _V + _C + _V + _C)
_S_V = re.compile("^(" + _C + ")?[aeiouy]")
_C_V = re.compile("^" + _C + "[aeiouy][^aeiouwxy]$")
_ED_ING = re.compile("^(.*)(ed|ing)$")
_AT_BL_IZ = re.compile(r"(at|bl|iz)$")
_DOUBLE = re.compile(r"([^aeiouylsz])\1$")
_STEP2_LIST = {
    "ational": "ate", "tional": "tion", "enci": "ence", "anci": "ance", "izer": "ize",
    "bli": "ble", "alli": "al", "entli": "ent", "eli": "e", "ousli": "ous", "ization": "ize",
    "ation": "ate", "ator": "ate", "alism": "al", "iveness": "ive", "fulness": "ful",
    "ousness": "ous", "aliti": "al", "iviti": "ive", "biliti": "ble", "logi": "log",
}  # fmt: skip
_STEP3_LIST = {
    "icate": "ic", "ative": "", "alize": "al", "iciti": "ic", "ical": "ic", "ful": "", "ness": "",
}  # fmt: skip
_STEP4 = "al|ance|ence|er|ic|able|ible|ant|ement|ment|ent|ou|ism|ate|iti|ous|ive|ize"
_STEP2 = re.compile("^(.+?)(" + "|".join(_STEP2_LIST) + ")$")
_STEP3 = re.compile("^(.+?)(" + "|".join(_STEP3_LIST) + ")$")
_STEP4_1 = re.compile("^(.+?)(" + _STEP4 + ")$")
_STEP4_2 = re.compile("^(.+?)(s|t)(ion)$")
_STEP5 = re.compile("^(.+?)e$")


def stem_before(w: str) -> str:  # the stemmer as it was, verbatim
    if len(w) < 3:
        return w
    first_is_y = w[0] == "y"
    if first_is_y:
        w = "Y" + w[1:]
    if w.endswith("s"):
        if w.endswith("sses") or w.endswith("ies"):
            w = w[:-2]
        elif w[-2] != "s":
            w = w[:-1]
    if w.endswith("eed"):
        if _MGR0.match(w[:-3]):
            w = w[:-1]
    else:
        m = _ED_ING.match(w)
        if m and _S_V.match(m.group(1)):
            w = m.group(1)
            if _AT_BL_IZ.search(w):
                w += "e"
            elif _DOUBLE.search(w):
                w = w[:-1]
            elif _C_V.match(w):
                w += "e"
    if w.endswith("y") and _S_V.match(w[:-1]):
        w = w[:-1] + "i"
    m = _STEP2.match(w)
    if m and _MGR0.match(m.group(1)):
        w = m.group(1) + _STEP2_LIST[m.group(2)]
    m = _STEP3.match(w)
    if m and _MGR0.match(m.group(1)):
        w = m.group(1) + _STEP3_LIST[m.group(2)]
    m = _STEP4_1.match(w)
    if m:
        if _MGR1.match(m.group(1)):
            w = m.group(1)
    else:
        m = _STEP4_2.match(w)
        if m and _MGR1.match(m.group(1) + m.group(2)):
            w = m.group(1) + m.group(2)
    m = _STEP5.match(w)
    if m:
        s = m.group(1)
        if _MGR1.match(s) or (_MEQ1.match(s) and not _C_V.match(s)):
            w = s
    if w.endswith("ll") and _MGR1.match(w):
        w = w[:-1]
    if first_is_y:
        w = "y" + w[1:]
    return w


def stem_words() -> list[str]:
    """Every word of the test pages, and some 15,000 made to reach each rule: every suffix the
    stemmer knows on bases of every shape (vowels, consonants, y, doubled letters, line ends and
    a non-BMP letter, which Python's "$" and "." treat apart), and random strings over those
    letters."""
    words = {w.lower() for p in PAGES.rglob("*.html") for w in re.findall(r"\w+", p.read_text())}
    suffixes = [
        *_STEP2_LIST, *_STEP3_LIST, *_STEP4.split("|"), "sion", "tion", "ion", "e", "ll", "l",
        "s", "ss", "sses", "ies", "ied", "eed", "ed", "ing", "y", "ying", "at", "bl", "iz",
        "ated", "bled", "izing", "", "\n", "s\n", "ed\n", "eed\n", "y\n",
    ]  # fmt: skip
    bases = [
        "", "a", "y", "b", "ab", "by", "ya", "hop", "hopp", "fil", "fill", "tann", "fizz", "sky",
        "agr", "feud", "rat", "conflat", "troubl", "siz", "valen", "Yy", "yel", "cr\ny", "a\rb",
        "x\u2028y", "é", "𝐀b", "b𝐀", "ouy", "tre", "strength", "ee", "oo", "ie", "ai",
    ]  # fmt: skip
    words.update(b + s for b in bases for s in suffixes)
    words.update(b + s + t for b in bases[:12] for s in suffixes for t in ("s", "ing", "ness"))
    rng = random.Random(2024)
    alphabet = [*"aeiouyYslztbcdgnmrw", "\n", "\r", "\u2028", "é", "𝐀"]
    for _ in range(12000):
        words.add("".join(rng.choices(alphabet, k=rng.randint(0, 9))) + rng.choice(suffixes))
    return sorted(words)


def test_stem_is_unchanged() -> None:
    words = stem_words()
    assert len(words) > 15000
    changed = [(w, stem_before(w), stem(w)) for w in words if stem(w) != stem_before(w)]
    assert not changed, f"{len(changed)} of {len(words)} stems changed, e.g. {changed[:10]}"
    assert len({stem_before(w) for w in words}) > 10000  # the rules do something
