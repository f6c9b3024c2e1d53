"""The search's rules are defined once, on the Python side: site_templates/static/search.js and
analysis.js read them from the exported index's meta.js (mirror.search.export.export_settings),
write none of them as a literal of their own, read only settings that meta.js has, and cite only
Python that exists."""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

from mirror.clean.extract import clean_page
from mirror.search.analysis import PORTER_PATTERNS, STOP_WORDS, porter_tables
from mirror.search.export import export_settings, static_index_files
from mirror.search.index import SearchIndex

from conftest import page_path

STATIC = Path(__file__).resolve().parent.parent / "site_templates" / "static"
SCRIPTS = ("search.js", "analysis.js")

# The numbers other than 0 and 1 that the scripts may write, and why: none is a rule's constant.
# (A subscript of a tuple, `hit[1]`, is no such number either.)
ALLOWED_NUMBERS = {
    "search.js": {
        2: "quoted segments alternate (number % 2, number / 2); the tier after exact names; "
        "the third place of a page's or a document's entry in the export",
        3: "postings are triples; the fourth place of a page's entry in the export",
        16: "file names spell code points in hex (export.shard_name)",
        0.5: "BM25's IDF formula (query.idf)",
    },
    "analysis.js": {
        2: "a swap of neighbours looks two characters back (edit_distance)",
    },
}


class Script:
    """A JavaScript file split into its code, string literals, regular expression literals and
    comments (enough of a lexer for these two files)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.source = (STATIC / name).read_text(encoding="utf-8")
        self.strings: list[str] = []
        self.regexes: list[str] = []
        self.comments: list[str] = []
        code: list[str] = []
        src = self.source
        i = 0
        while i < len(src):
            c = src[i]
            if src.startswith("//", i):
                end = src.find("\n", i)
                end = len(src) if end < 0 else end
                self.comments.append(src[i + 2 : end])
                i = end
            elif src.startswith("/*", i):
                end = src.index("*/", i) + 2
                self.comments.append(src[i + 2 : end - 2])
                i = end
            elif c in "\"'":
                j = i + 1
                while src[j] != c:
                    j += 2 if src[j] == "\\" else 1
                self.strings.append(ast.literal_eval(src[i : j + 1]))
                code.append('""')
                i = j + 1
            elif c == "/" and re.search(r"(^|[(,=:\[!&|?{};]|return)\s*$", "".join(code[-20:])):
                j, in_class = i + 1, False
                while in_class or src[j] != "/":
                    if src[j] == "\\":
                        j += 1
                    elif src[j] in "[]":
                        in_class = src[j] == "["
                    j += 1
                self.regexes.append(src[i + 1 : j])
                code.append("/(regex)/")
                i = j + 1
            else:
                code.append(c)
                i += 1
        self.code = "".join(code)

    def numbers(self) -> list[float]:
        """The numeric literals of the code, but subscripts (`l[2]`)."""
        code = re.sub(r"[\w)\]]\[\d+\]", "", self.code)
        return [float(n) for n in re.findall(r"(?<![\w.$])\d+(?:\.\d+)?(?![\w.])", code)]


@pytest.fixture(scope="module", params=SCRIPTS)
def script(request: pytest.FixtureRequest) -> Script:
    return Script(request.param)


def rule_strings() -> set[str]:
    """The rules' strings a script must not write: the stop words, the stemmer's suffixes,
    replacements and patterns (but one-letter ones, which HTML tags and the like share), the
    settings' strings."""
    found: set[str] = set(STOP_WORDS) | set(PORTER_PATTERNS.values())

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                found.add(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(porter_tables())
    settings = export_settings()
    for key in ("quote", "ellipsis"):
        found.add(settings[key])
    found |= {f"{kind}-" for kind in settings["kinds"].values()}
    return {s for s in found if len(s) > 1} | {settings["quote"], settings["ellipsis"]}


def test_no_rule_written_as_a_literal(script: Script) -> None:
    written = sorted(set(script.strings) & rule_strings())
    written += [s for s in script.strings if export_settings()["ellipsis"] in s]
    assert not written, f"{script.name} writes rules of the Python side: {written}"
    allowed = ALLOWED_NUMBERS[script.name]
    numbers = sorted({n for n in script.numbers() if n not in (0, 1) and n not in allowed})
    assert not numbers, f"{script.name}: numbers neither read from meta.js nor allowed: {numbers}"
    settings = export_settings()
    for key in ("snippetChars", "snippetBefore", "limit", "maxWords", "phraseCandidates"):
        assert not re.search(rf"(?<![\w.]){settings[key]}(?![\w.])", script.source), key
    # Python's \w, spelt for JavaScript once, where analysis.js compiles the rules' patterns
    spelt = sum("\\p{L}" in s for s in script.strings)
    assert spelt == (script.name == "analysis.js"), script.name
    for regex in script.regexes:
        assert "\\p" not in regex and "aeiou" not in regex, regex


@pytest.fixture(scope="module")
def meta(pages: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """meta.js as an export writes it (of one fixture page)."""
    url = "https://docs.example.org" + page_path("queue")
    page = clean_page(pages[page_path("queue")], url)
    index = SearchIndex(tmp_path_factory.mktemp("index"))
    index.update([(page, "queue.html")])
    files = static_index_files(index.index_dir)
    text = files["meta.js"].decode()
    assert text.startswith("DocmirrorSearch.loadMeta(")
    return json.loads(text[len("DocmirrorSearch.loadMeta(") : -len(");\n")])


def test_scripts_read_settings_that_meta_js_has(meta: dict[str, object]) -> None:
    search = Script("search.js").code
    read = set(re.findall(r"\bmeta\.(\w+)", search))
    assert read and read <= set(meta), sorted(read - set(meta))
    assert {"quote", "limit", "snippetChars", "joinWidths", "correctionEdits"} <= read
    assert "A.configure(data.analysis)" in search
    assert meta["analysis"] == json.loads(json.dumps(export_settings()["analysis"]))
    analysis = Script("analysis.js").code
    assert set(re.findall(r"\bsettings\.(\w+)", analysis)) == set(export_settings()["analysis"])
    # every table and pattern of the stemmer is read, none that is not there
    tables = porter_tables()
    assert set(re.findall(r"\btables\.(\w+)", analysis)) == set(tables) - {"patterns"}
    assert set(re.findall(r"\bp\.(\w+)", analysis)) == set(tables["patterns"])


def cited(comment: str) -> list[str]:
    """The Python a comment names: `mirror.x.y`, `mirror/x/y.py`, and in search.js's
    `query.f`, `export.f`, ... the modules of mirror.search."""
    names = re.findall(r"\bmirror(?:\.\w+)+", comment)
    names += [p[:-3].replace("/", ".") for p in re.findall(r"\bmirror/[\w/]+\.py", comment)]
    short = r"(?<![\w./])(query|index|export|snippets|analysis)\.([A-Za-z_]\w*(?:\.\w+)?)"
    found = re.findall(short, comment)
    names += [f"mirror.search.{module}.{name}" for module, name in found if name != "js"]
    return names


def exists(name: str) -> bool:
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def test_comments_cite_python_that_exists(script: Script) -> None:
    names = [n for comment in script.comments for n in cited(comment)]
    assert len(names) > 5
    missing = sorted({n for n in names if not exists(n)})
    assert not missing, f"{script.name} cites what is not there: {missing}"
