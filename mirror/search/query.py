"""What a search does with what was typed: words, quoted phrases, completions of the word being
typed, typo corrections, BM25F ranking blended with the page's, exact API names first (and names
being typed), then headings that are the query, and results grouped by page.
Pure: it reads the index through a `TermSource`. site_templates/static/search.js runs the same
steps over the exported index, so the site and `docmirror search` rank alike; it reads the
constants below from the exported meta.js (mirror.search.export.export_settings)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mirror.search.analysis import NAME, WORD, edit_distance

# Term counts are multiplied by these before saturation (BM25F): an API name or a heading match
# outranks a passing mention in the text.
FIELD_BOOSTS = {"symbols": 6.0, "section": 3.0, "title": 2.0, "text": 1.0}
# An API entry matched by its last component alone (`set`, `wait`): in a query of several words
# that is usually a common verb, not the entry meant.
MEMBER_BOOST = 2.0
# BM25F length normalisation and saturation: a word's frequency is summed over fields with the
# boosts above, so it saturates later than a single field's count would (K1 4-6 ranked alike)
B, K1 = 0.75, 4.0
MAX_QUERY_WORDS = 32
PAGE_WEIGHT = 0.4  # of a page's score in each of its documents' (0.35-0.45 ranked alike)
PAGE_DOCS = 20  # a page's score: the sum of its best documents' scores over this many
PREFIX_MIN = 3  # characters typed before completions are looked up
PREFIX_TERMS = 8  # completions per field: the shortest terms starting with the word
PREFIX_WEIGHT = 0.5  # a completion counts half as much as the word itself
GROUP_SIZE = 3  # hits of one page listed together under its best one, at most
PHRASE_CANDIDATES = 50  # best documents holding every word of a phrase checked for it in order
PHRASE_CHARS = 1500  # of a section's text searched for a phrase (what the site keeps too)
HEADING_CANDIDATES = 20  # best documents checked for a heading that is the query itself
JOINS = ("_", "", ".")  # how words typed apart may join into an API name
JOIN_WIDTHS = (3, 2)  # words typed apart that may join into one API name, longest runs first
TYPED_NAME_WORDS = 3  # words at most of an API name being typed (`typed_name`)
QUOTE = '"'  # delimits a phrase
CORRECTION_MIN_CHARS = 4  # shorter words are not corrected
CORRECTION_SHORT_CHARS = 5  # a word of up to this many letters is corrected by at most ...
CORRECTION_EDITS = (1, 2)  # ... the first number of edits, a longer one by the second
DEFAULT_LIMIT = 10  # hits a search lists unless told otherwise (the site lists this many)
TEXT_FIELDS = ("section", "title", "text")  # the fields analysed as prose

_NAME = re.compile(NAME)
_SINGLE_WORD = re.compile(WORD)


class TermSource(Protocol):
    """The index as a search reads it. Documents are opaque; `order` sorts them stably."""

    documents: int
    average_lengths: dict[str, float]

    def postings(self, field: str, term: str) -> list[tuple[Any, float, int]]:
        """(document, weight, field length) of the live documents holding `term`."""
        ...

    def completions(self, field: str, prefix: str, count: int) -> list[str]:
        """Up to `count` live terms of `field` starting with `prefix`: shortest, then in code
        point order."""
        ...

    def vocabulary(self, first: str) -> list[str]:
        """The unstemmed words of the live documents starting with `first`."""
        ...

    def frequency(self, word: str) -> int:
        """How many pages hold the vocabulary word `word`."""
        ...

    def order(self, doc: Any) -> Hashable:
        """Sort key of a document, for ties."""
        ...

    def page(self, doc: Any) -> Hashable:
        """The page a document belongs to."""
        ...

    def phrase_text(self, doc: Any) -> tuple[str, str]:
        """(section title, first PHRASE_CHARS of the text) where phrases are looked for."""
        ...


@dataclass(frozen=True, slots=True)
class QueryWord:
    text: str  # as typed
    start: int  # offset in the query
    phrase: int  # number of the quoted phrase holding it, -1 outside quotes
    last: bool  # the query ends with it: it may be a word still being typed


def parse_query(text: str) -> list[QueryWord]:
    """The words of `text` (`[\\w.]+`), with the phrase each is in: double quotes delimit
    phrases, an unclosed quote runs to the end, a one-word phrase is a plain word."""
    words: list[QueryWord] = []
    position = 0
    for number, segment in enumerate(text.split(QUOTE)):
        inside = number % 2 == 1
        found = list(_NAME.finditer(segment))
        phrase = number // 2 if inside and len(found) > 1 else -1
        for match in found:
            start = position + match.start()
            last = start + len(match.group(0)) == len(text)
            words.append(QueryWord(match.group(0), start, phrase, last and phrase < 0))
        position += len(segment) + len(QUOTE)
    return words[:MAX_QUERY_WORDS]


Analyzers = dict[str, Callable[[str], list[str]]]  # field -> terms of a query word


def alternatives(word: str, analyzers: Analyzers) -> list[tuple[str, str]]:
    """(field, term) pairs a word looks up, field by field in FIELD_BOOSTS order."""
    found: list[tuple[str, str]] = []
    for field in FIELD_BOOSTS:
        for term in dict.fromkeys(analyzers[field](word)):
            found.append((field, term))
    return found


def correction(word: str, source: TermSource) -> str | None:
    """The vocabulary word closest to `word` (same first letter; CORRECTION_EDITS edits at most,
    by its length), most frequent first among equals; None when nothing is close."""
    lowered = word.lower()
    length = len(lowered)
    if length < CORRECTION_MIN_CHARS or not _SINGLE_WORD.fullmatch(lowered):
        return None
    short, long = CORRECTION_EDITS
    limit = short if length <= CORRECTION_SHORT_CHARS else long
    best: tuple[int, int, str] | None = None
    for candidate in source.vocabulary(lowered[0]):
        if candidate == lowered or abs(len(candidate) - length) > limit:
            continue
        distance = edit_distance(lowered, candidate, limit)
        if distance <= limit:
            frequency = source.frequency(candidate)
            key = (distance, -frequency, candidate)
            if frequency and (best is None or key < best):
                best = key
    return best[2] if best else None


def corrected_word(word: str, source: TermSource, analyzers: Analyzers) -> str | None:
    """`word` with its misspelt parts corrected: the whole word, or each part of a dotted name
    that the text does not know (`Popen.comunicate` -> `Popen.communicate`); None if none."""
    if "." not in word:
        return correction(word, source)
    parts = []
    for part in word.split("."):
        known = not part or any(
            source.postings(f, t) for f in TEXT_FIELDS for t in analyzers[f](part)
        )
        parts.append(part if known else correction(part, source) or part)
    fixed = ".".join(parts)
    return fixed if fixed != word else None


@dataclass(frozen=True, slots=True)
class Plan:
    """What each query word looks up: [(field, term, completion?)], and the corrected query."""

    words: tuple[QueryWord, ...]
    lookups: tuple[tuple[tuple[str, str, bool], ...], ...]
    suggestion: str  # the query with typos corrected, "" when nothing was corrected
    exact: tuple[str, str] | None  # ("symbols", name) for a query naming an API entry
    joins: tuple[tuple[str, int, int], ...]  # (API name, first word, end) of words typed apart
    texts: tuple[str, ...]  # each word as looked up: as typed, or corrected


def plan_query(text: str, source: TermSource, analyzers: Analyzers) -> Plan:
    """Decide the lookups of each word: its own terms that occur in the index; for the word
    being typed, also its completions as an API name unless it is one already, and in every
    field when nothing else matched; failing all that, the terms of its closest correction."""
    # stop words out (a dotted name stays whatever its parts)
    words = [w for w in parse_query(text) if analyzers["text"](w.text) or "." in w.text]
    lookups = []
    corrected: list[tuple[QueryWord, str]] = []

    def indexed(word: str) -> list[tuple[str, str, bool]]:
        return [(f, t, False) for f, t in alternatives(word, analyzers) if source.postings(f, t)]

    fixed: list[str | None] = []  # each word's correction
    for word in words:
        own = indexed(word.text)
        if word.last and len(word.text) >= PREFIX_MIN:
            # an API name being typed: its completions; any other field only if nothing matched
            as_name = any(field == "symbols" for field, _, _ in own)
            fields = [f for f in FIELD_BOOSTS if not own or (f == "symbols" and not as_name)]
            prefix = word.text.lower()
            for field in fields:
                own += [(field, t, True) for t in source.completions(field, prefix, PREFIX_TERMS)]
        named = any(field == "symbols" for field, _, _ in own)  # as typed, or completed
        better = None
        if not own or ("." in word.text and not named):
            better = corrected_word(word.text, source, analyzers)
        if better is not None:
            own = indexed(better)
            corrected.append((word, better))
        fixed.append(better)
        lookups.append(tuple(own))
    suggestion = ""
    if corrected:
        parts, position = [], 0
        for word, better in corrected:
            parts += [text[position : word.start], better]
            position = word.start + len(word.text)
        suggestion = "".join(parts) + text[position:]
    texts = tuple(c or w.text for w, c in zip(words, fixed, strict=True))
    exact = None
    if len(words) == 1 and words[0].phrase < 0 and lookups[0]:
        names = analyzers["symbols"](texts[0])  # as corrected: `ThreadPoolExecuter`
        if names and ("symbols", names[0], False) in lookups[0]:
            exact = ("symbols", names[0])
    joins = joined_names(list(texts), source)
    if exact is None and not any(w.phrase >= 0 for w in words):
        exact = next((("symbols", t) for t, i, j in joins if j - i == len(words)), None)
        if exact is None and words:
            name = typed_name([w.text for w in words], words[-1].last, source)
            if name is not None:
                exact = ("symbols", name)
                if len(words) > 1:  # a single word looks up its completions already
                    joins += ((name, 0, len(words)),)
    return Plan(tuple(words), tuple(lookups), suggestion, exact, joins, texts)


def typed_name(texts: list[str], typing: bool, source: TermSource) -> str | None:
    """The API name a query is being typed towards (`Semaph`, `threading sema`, `ThreadPoolEx`):
    the shortest name starting with its 1 to TYPED_NAME_WORDS words joined, when its last word is
    still being typed and is not yet a word of the docs (`finish` is a word, not the start of a
    name)."""
    last = texts[-1].rsplit(".", 1)[-1].lower()
    if not typing or len(texts) > TYPED_NAME_WORDS or len(last) < PREFIX_MIN:
        return None
    if source.frequency(last):
        return None
    lowered = [t.lower() for t in texts]
    for glue in JOINS if len(texts) > 1 else ("",):
        found = source.completions("symbols", glue.join(lowered), 1)
        if found:
            return found[0]
    return None


def joined_names(texts: list[str], source: TermSource) -> tuple[tuple[str, int, int], ...]:
    """API names typed as separate words: `copy context` (copy_context), `imap unordered`,
    `popen communicate` (Popen.communicate), `process pool executor`. Runs of JOIN_WIDTHS words
    joined by one of JOINS (`_`, nothing or `.`) that name an entry: (name, first word, end)."""
    lowered = [t.lower() for t in texts]
    found = []
    for width in JOIN_WIDTHS:
        for i in range(len(lowered) - width + 1):
            for glue in JOINS:
                term = glue.join(lowered[i : i + width])
                if source.postings("symbols", term):
                    found.append((term, i, i + width))
                    break
    return tuple(found)


def idf(documents: int, frequency: int) -> float:
    """BM25's inverse document frequency, never negative."""
    return math.log(1.0 + (documents - frequency + 0.5) / (frequency + 0.5))


def boost_of(field: str, term: str, completion: bool) -> float:
    """The weight of a match on `term` in `field` (completions of a name being typed count as
    the name)."""
    if field == "symbols" and "." not in term and not completion:
        return MEMBER_BOOST
    return FIELD_BOOSTS[field]


def field_frequency(weight: float, boost: float, length: float, average: float) -> float:
    """A term count in one field, weighted by the field and normalised by its length (BM25F)."""
    return weight * boost / (1.0 - B + B * length / average)


def score(plan: Plan, source: TermSource) -> tuple[dict[Any, float], dict[Any, set[int]]]:
    """Each matching document's BM25F score and the words it matched. A word's frequency in a
    document is summed over its fields (weighted, length-normalised; its best completion at
    PREFIX_WEIGHT) and saturated once, with the IDF of the documents holding it in any field;
    words typed apart that join into an API name count as one more such word. The sum over
    words is scaled by the share of words matched."""
    totals: dict[Any, float] = {}
    matched: dict[Any, set[int]] = {}

    def add(frequencies: dict[Any, float], words: range) -> None:
        weight_idf = idf(source.documents, len(frequencies))
        for doc, x in frequencies.items():
            totals[doc] = totals.get(doc, 0.0) + weight_idf * x * (K1 + 1.0) / (x + K1)
            matched.setdefault(doc, set()).update(words)

    for number, lookups in enumerate(plan.lookups):
        frequencies: dict[Any, float] = {}
        best: dict[Any, float] = {}
        for field, term, completion in lookups:
            average = source.average_lengths[field]
            boost = boost_of(field, term, completion)
            for doc, weight, length in source.postings(field, term):
                value = field_frequency(weight, boost, length, average)
                if completion:
                    best[doc] = max(best.get(doc, 0.0), value)
                else:
                    frequencies[doc] = frequencies.get(doc, 0.0) + value
        for doc, value in best.items():
            frequencies[doc] = frequencies.get(doc, 0.0) + PREFIX_WEIGHT * value
        add(frequencies, range(number, number + 1))
    average = source.average_lengths["symbols"]
    for term, first, end in plan.joins:  # the words typed apart count as the name too
        add(
            {
                doc: field_frequency(weight, FIELD_BOOSTS["symbols"], length, average)
                for doc, weight, length in source.postings("symbols", term)
            },
            range(first, end),
        )
    count = len(plan.lookups)
    return {doc: total * len(matched[doc]) / count for doc, total in totals.items()}, matched


def with_page_scores(
    scores: dict[Any, float], page_of: Callable[[Any], Hashable]
) -> dict[Any, float]:
    """Each score blended with its page's (PAGE_WEIGHT): the sum of the page's best PAGE_DOCS
    scores over PAGE_DOCS. A section is a better answer on a page that is about the query as a
    whole than on one that mentions a rare word of it once (`discard the output of a command`)."""
    pages: dict[Hashable, list[float]] = {}
    for doc, value in scores.items():
        pages.setdefault(page_of(doc), []).append(value)
    page_scores = {}
    for page, values in pages.items():
        total = 0.0
        for value in sorted(values, reverse=True)[:PAGE_DOCS]:
            total += value  # in this order, as search.js does (sum() compensates since 3.12)
        page_scores[page] = total / PAGE_DOCS
    return {
        doc: (1.0 - PAGE_WEIGHT) * value + PAGE_WEIGHT * page_scores[page_of(doc)]
        for doc, value in scores.items()
    }


def phrase_terms(plan: Plan, analyzers: Analyzers) -> list[list[str]]:
    """Each quoted phrase as the sequence of its text terms."""
    phrases: dict[int, list[str]] = {}
    for word in plan.words:
        if word.phrase >= 0:
            phrases.setdefault(word.phrase, []).extend(analyzers["text"](word.text))
    return [terms for terms in phrases.values() if len(terms) > 1]


def holds_phrase(text: str, terms: Sequence[str], analyzer: Callable[[str], list[str]]) -> bool:
    """Whether the text terms of `text` contain `terms` in a row."""
    found = word_terms(text, analyzer)
    width = len(terms)
    return any(found[i : i + width] == list(terms) for i in range(len(found) - width + 1))


def run_query(
    text: str,
    source: TermSource,
    analyzers: Analyzers,
    limit: int,
    keep: Callable[[Any], bool] | None = None,
) -> tuple[list[tuple[Any, float]], Plan]:
    """The best documents for `text` with their scores, grouped by page, and the plan (its
    `suggestion` is the corrected query, "" if none was needed). With `keep`, only the
    documents it keeps (those of the sources searched), scored as among all."""
    plan = plan_query(text, source, analyzers)
    if not any(plan.lookups):
        return [], plan
    scores, matched = score(plan, source)
    scores = with_page_scores(scores, source.page)
    exact = exact_names(plan, source)
    ordered = sorted(scores, key=lambda d: (exact.get(d, 2), -scores[d], source.order(d)))
    if keep is not None:
        ordered = [d for d in ordered if keep(d)]
    titled = titled_as_query(plan, ordered, matched, source, analyzers) - exact.keys()
    if titled:  # next after the exact API names
        ordered.sort(key=lambda d: (exact.get(d, 2), d not in titled, -scores[d], source.order(d)))
    phrases = phrase_terms(plan, analyzers)
    if phrases:
        in_phrase = {i for i, w in enumerate(plan.words) if w.phrase >= 0}
        candidates = [d for d in ordered if in_phrase <= matched[d]][:PHRASE_CANDIDATES]
        kept = []
        for doc in candidates:
            section, body = source.phrase_text(doc)
            if all(
                holds_phrase(section, terms, analyzers["text"])
                or holds_phrase(body, terms, analyzers["text"])
                for terms in phrases
            ):
                kept.append(doc)
        ordered = kept
    return [(doc, scores[doc]) for doc in group_by_page(ordered, source.page)[:limit]], plan


def exact_names(plan: Plan, source: TermSource) -> dict[Any, int]:
    """The documents holding the API name the query is: 0 where it is the entry's whole name
    (`queue.Empty`), 1 where it ends the name (`queue.Queue.empty`, letter case aside)."""
    if plan.exact is None:
        return {}
    parts = plan.exact[1].count(".") + 1  # an entry's symbols: its name and dotted suffixes
    return {doc: int(length != parts) for doc, _, length in source.postings(*plan.exact)}


def titled_as_query(
    plan: Plan,
    ordered: list[Any],
    matched: dict[Any, set[int]],
    source: TermSource,
    analyzers: Analyzers,
) -> set[Any]:
    """The best documents (HEADING_CANDIDATES at most, each matching every word) whose heading
    is the query: the same words, nothing more (`replace os.system` -> "Replacing os.system()").
    Words are compared as the text analysis sees them, stop words out."""
    wanted = {t for text in plan.texts for t in analyzers["section"](text)}
    if not wanted:
        return set()
    everything = set(range(len(plan.words)))
    candidates = [d for d in ordered if matched[d] == everything][:HEADING_CANDIDATES]
    heading = analyzers["section"]
    return {d for d in candidates if set(word_terms(source.phrase_text(d)[0], heading)) == wanted}


def word_terms(text: str, analyzer: Callable[[str], list[str]]) -> list[str]:
    """The terms of `text` word by word (`\\w+`, so `os.system()` is os, system), in order."""
    return [t for word in _SINGLE_WORD.findall(text) for t in analyzer(word)]


def group_by_page(ordered: list[Any], page_of: Callable[[Any], Hashable]) -> list[Any]:
    """Each page's best hits (GROUP_SIZE at most) together, pages in the order of their best."""
    groups: dict[Hashable, list[Any]] = {}
    for doc in ordered:
        group = groups.setdefault(page_of(doc), [])
        if len(group) < GROUP_SIZE:
            group.append(doc)
    return [doc for group in groups.values() for doc in group]
