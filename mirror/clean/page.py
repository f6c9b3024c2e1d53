"""What cleaning makes: a `Page` (its sections, API symbols, links and assets) or a `Redirect`;
a source's `ExtractionRules`; and the JSON form the store keeps of them."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any

from mirror.stages import stage_version


@dataclass(frozen=True, slots=True)
class Section:
    anchor: str  # id to link to ('' for text before the first heading)
    title: str  # heading text
    level: int  # 1 for h1 ... 6 for h6
    text: str  # the section's own text, up to the next heading


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str  # full name as the page's anchor gives it, e.g. concurrent.futures.Executor.submit
    kind: str  # class, function, method, exception, attribute, data, term ...
    anchor: str  # id of the entry's <dt>
    text: str  # the entry's own description, without nested entries


@dataclass(frozen=True, slots=True)
class Page:
    url: str  # normalised source URL
    title: str
    summary: str  # first paragraph, shortened, for listings
    html: str  # sanitised main content; links absolute to their source
    sections: tuple[Section, ...]
    symbols: tuple[Symbol, ...]
    links: tuple[str, ...]  # distinct http(s) URLs linked to, without fragments, in page order
    assets: tuple[str, ...]  # distinct image URLs the content shows
    # absolute URL of the Sphinx inventory (objects.inv) of the site the page belongs to, '' for a
    # page not made by Sphinx; not part of `content_hash` (the inventory is fetched apart)
    inventory: str = ""

    @property
    def content_hash(self) -> str:
        """What decides whether a page really changed: its cleaned content, not its raw bytes."""
        digest = hashlib.sha256()
        for part in (self.title, self.summary, self.html):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class ExtractionRules:
    """A source's own overrides, for the rare site the defaults get wrong (its `content` and `drop`
    config keys). Selectors are validated when the config is loaded."""

    content: str | None = None  # CSS selector of the main content, tried before the defaults
    drop: tuple[str, ...] = ()  # CSS selectors of more chrome to remove from the content

    def __bool__(self) -> bool:
        return self.content is not None or bool(self.drop)


@functools.cache
def clean_version(rules: ExtractionRules | None = None) -> str:
    """What a stored page was cleaned with: the cleaner (`mirror.clean.extract` and what it
    imports, `stage_version`) and the source's rules. Stored with each page, so that a change to
    either cleans the stored raw pages again. Here, not in the cleaner: a build that cleans
    nothing need not import it (nor lxml)."""
    if not rules:
        return stage_version("clean")
    spec = json.dumps([rules.content, list(rules.drop)], ensure_ascii=False)
    return f"{stage_version('clean')}+{hashlib.sha256(spec.encode('utf-8')).hexdigest()[:16]}"


@dataclass(frozen=True, slots=True)
class Redirect:
    """A page that only sends its reader on (a meta refresh), such as the stubs that Sphinx's
    redirect extensions leave where a page used to be: not a page of the mirror."""

    url: str  # normalised source URL of the stub
    target: str  # normalised absolute URL it leads to, without fragment


def document_from_json(text: str) -> Page | Redirect:
    """What `clean_to_json` made."""
    if text.startswith('{"url"') and '"redirect":' in text[:4096]:
        data = json.loads(text)
        if set(data) == {"url", "redirect"}:
            return Redirect(data["url"], data["redirect"])
    return page_from_json(text)


def page_to_json(page: Page) -> str:
    """The page as the store keeps it: `dataclasses.asdict`'s shape, built without its deep
    copies (a fifth less time)."""
    data: dict[str, Any] = {name: getattr(page, name) for name in _PAGE_FIELDS}
    data["sections"] = [{n: getattr(s, n) for n in _SECTION_FIELDS} for s in page.sections]
    data["symbols"] = [{n: getattr(s, n) for n in _SYMBOL_FIELDS} for s in page.symbols]
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


_PAGE_FIELDS = tuple(f.name for f in dataclass_fields(Page))


_SECTION_FIELDS = tuple(f.name for f in dataclass_fields(Section))


_SYMBOL_FIELDS = tuple(f.name for f in dataclass_fields(Symbol))


def page_from_json(text: str) -> Page:
    data = json.loads(text)
    return Page(
        url=data["url"],
        title=data["title"],
        summary=data["summary"],
        html=data["html"],
        sections=tuple(Section(**s) for s in data["sections"]),
        symbols=tuple(Symbol(**s) for s in data["symbols"]),
        links=tuple(data["links"]),
        assets=tuple(data["assets"]),
        inventory=data.get("inventory", ""),  # pages stored before inventories have none
    )
