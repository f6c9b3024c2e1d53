"""site_templates/static/analysis.js in real headless Chromium against the Python side: the
Porter stemmer (mirror.search.analysis.stem), the stop words and the text and symbol analyzers
must give identical terms. analysis.js is given its rules as the site gives them, from the
exported meta.js's settings (mirror.search.export.export_settings)."""

from __future__ import annotations

import json
import random
import re
import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from whoosh.analysis import STOP_WORDS

from mirror.search.analysis import edit_distance, stem, symbol_analyzer, text_analyzer
from mirror.search.export import export_settings

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "site_templates" / "static" / "analysis.js"
PAGES = Path(__file__).resolve().parent / "pages"

CSP = "default-src 'none'; script-src 'self'"  # as in base.html: no eval, no inline code

TRICKY = """
generalizations oscillators relational conditional rational valenci hesitanci digitizer
conformabli radicalli differentli vileli analogousli vietnamization predication operator
feudalism decisiveness hopefulness callousness formaliti sensitiviti sensibiliti triplicate
formative formalize electriciti electrical hopeful goodness revival allowance inference airliner
gyroscopic adjustable defensible irritant replacement adjustment dependent adoption homologou
communism activate angulariti homologous effective bowdlerize probate rate cease controll roll
y by sky a is ies caresses ponies ties caress cats feed agreed plastered bled motoring sing
conflated troubled sized hopping tanned falling hissing fizzed failing filing happy
threadpoolexecutor copy_context multiprocessing concurrent.futures Popen.communicate x86_64
naïve café 日本語 ünïcödé __init__ _private a.b.c ... co-operate
at bl iz tt ss yy yes yeses yield yielding you young eed ed ing sses ying dying lying agreeing
hopefully fundamentally willows sensational traditional oed yeed""".split()

# Whole texts for the analyzers: prose, dotted names, odd punctuation and other scripts.
TEXTS = [
    "Run a command and capture its output",
    "concurrent.futures.ThreadPoolExecutor",
    "The GIL's effect on threads",
    "snake_case camelCase dotted.name",
    "..leading.and..trailing.. dots . .. a..b x. .y",
    "It is what it is: to be, or not to be (TBD) — yet you may",
    "naïve café Ünïcödé ΟΔΟΣ ΣΑΣ İstanbul straße ǅemal ﬁnance",
    "nai\u0308ve decomposed combining marks e\u0301te\u0301",
    "日本語のテキスト 中文 한국어 ١٢٣ ४५६ ௧௨ ½ Ⅻ ² 𝐀𝐁𝐂 𝟙𝟚 𐐀𐐨 😀 x‿y a·b",
    "multiprocessing.shared_memory.SharedMemory.buf os.path.join() __init__.py",
    "",
    "   ",
    "a I x y z",
]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Any]:
    site = tmp_path_factory.mktemp("site")
    (site / "_static").mkdir()
    shutil.copy(SCRIPT, site / "_static" / "analysis.js")
    rules = json.dumps(export_settings()["analysis"], ensure_ascii=False)
    (site / "_static" / "rules.js").write_text(
        f"DocmirrorAnalysis.configure({rules});\n", encoding="utf-8"
    )
    (site / "index.html").write_text(
        '<!DOCTYPE html><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<script src="_static/analysis.js"></script><script src="_static/rules.js"></script>',
        encoding="utf-8",
    )
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("console", lambda m: m.type == "error" and errors.append(m.text))
    tab.goto((site / "index.html").as_uri())
    assert tab.evaluate("typeof DocmirrorAnalysis") == "object", errors
    assert errors == []
    yield tab
    tab.close()


def js(page: Any, function: str, inputs: list[str]) -> list[Any]:
    """DocmirrorAnalysis[function] applied to every input, in one round trip."""
    return page.evaluate("([f, xs]) => xs.map((x) => DocmirrorAnalysis[f](x))", [function, inputs])


def py_terms(analyzer: Any, text: str) -> list[str]:
    return [t.text for t in analyzer(text, mode="query")]


def page_words() -> list[str]:
    words: set[str] = set()
    for path in sorted(PAGES.rglob("*.html")):
        words.update(w.lower() for w in re.findall(r"\w+", path.read_text(encoding="utf-8")))
    return sorted(words)


def fuzz_words(count: int = 5000) -> list[str]:
    """Random strings over the letters the stemmer's rules care about, plus line ends (Python's
    "$" matches before a final "\\n", its "." matches "\\r") and a non-BMP letter now and then."""
    rng = random.Random(1234)
    alphabet = [*"aeiouyYslztbcdgnmrw", "\n", "\r", "\u2028", "é", "𝐀"]
    suffixes = ["", "s", "ed", "ing", "eed", "ies", "sses", "ational", "ness", "ement", "\n"]
    return [
        "".join(rng.choices(alphabet, k=rng.randint(1, 10))) + rng.choice(suffixes)
        for _ in range(count)
    ]


def assert_same(inputs: list[str], expected: list[Any], got: list[Any]) -> None:
    bad = [(x, e, g) for x, e, g in zip(inputs, expected, got, strict=True) if e != g]
    assert not bad, f"{len(bad)} of {len(inputs)} differ, e.g. {bad[:10]}"


def test_stop_words(page: Any) -> None:
    assert set(page.evaluate("[...DocmirrorAnalysis.STOP_WORDS]")) == set(STOP_WORDS)


def test_stem(page: Any) -> None:
    words = page_words()
    assert len(words) > 1000
    words += TRICKY + [w.lower() for w in TRICKY] + [w + "\n" for w in TRICKY] + fuzz_words()
    assert_same(words, [stem(w) for w in words], js(page, "stem", words))


@pytest.mark.parametrize("name", ["textTerms", "symbolTerms"])
def test_analyzers(page: Any, name: str) -> None:
    analyzer = text_analyzer() if name == "textTerms" else symbol_analyzer()
    inputs = TEXTS + TRICKY + [" ".join(TRICKY)]
    inputs += [p.read_text(encoding="utf-8") for p in sorted(PAGES.rglob("*.html"))]
    assert_same(inputs, [py_terms(analyzer, s) for s in inputs], js(page, name, inputs))


def test_every_character(page: Any) -> None:
    """\\w, lower() (final sigma included) and code-point lengths over every character that
    Python's Unicode database (unicodedata.unidata_version) assigns, but the private-use planes:
    each alone (too short, but "İ" lowers to 2 characters) and doubled (a word)."""
    chars = [chr(c) for c in range(0xF0000) if unicodedata.category(chr(c)) not in ("Cn", "Cs")]
    inputs = [" ".join(chars), " ".join(c + c for c in chars)]
    got = page.evaluate(  # joined, as 300k strings are slow to hand over one by one
        "(xs) => ['textTerms', 'symbolTerms'].map("
        "  (f) => xs.map((x) => DocmirrorAnalysis[f](x).join('\\n')))",
        inputs,
    )
    for terms, analyzer in zip(got, (text_analyzer(), symbol_analyzer()), strict=True):
        for text, joined in zip(inputs, terms, strict=True):
            py = py_terms(analyzer, text)
            assert len(py) > 1 or text == inputs[0]
            if "\n".join(py) != joined:
                assert py == joined.split("\n")  # pytest shows the first differing term


def test_edit_distance(page: Any) -> None:
    """The bounded alignment distance that picks typo corrections, on random pairs of short
    words (with swaps, repeats, accents and a non-BMP letter) and every limit up to 3."""
    rng = random.Random(99)
    alphabet = [*"abcdeé", "𝐀"]
    pairs = []
    for _ in range(3000):
        a = "".join(rng.choices(alphabet, k=rng.randint(0, 7)))
        b = list(a)
        for _ in range(rng.randint(0, 3)):  # a few edits of `a`
            i = rng.randint(0, max(0, len(b) - 1))
            b[i:i + 2] = rng.choice([b[i:i + 2][::-1], [rng.choice(alphabet)], []])
        pairs.append(["".join(b) if rng.random() < 0.8 else "".join(rng.choices(alphabet, k=5)),
                      a, rng.randint(0, 3)])  # fmt: skip
    got = page.evaluate(
        "(ps) => ps.map(([a, b, k]) => DocmirrorAnalysis.editDistance(a, b, k))", pairs
    )
    assert_same([f"{a!r} {b!r} {k}" for a, b, k in pairs],
                [edit_distance(a, b, k) for a, b, k in pairs], got)  # fmt: skip
    assert {0, 1, 2, 3, 4} <= set(got)  # every distance up to 3, and "more than 3"
