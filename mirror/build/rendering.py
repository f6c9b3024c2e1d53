"""The render stage: each page whose inputs changed written again, then the home, search and changes
pages."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from mirror.build.membership import Membership
from mirror.build.repair import file_sha256, page_damage, written_stat
from mirror.build.report import Repair
from mirror.build.store import PageState, Store
from mirror.site.listing import PageEntry, SourceListing, folder_tree
from mirror.site.render import (
    SITE_PAGES,
    PageContext,
    PageLink,
    SiteRenderer,
    display_date,
    format_day,
)
from mirror.urls import local_path_for, name_from_url, normalize_url

SITE_PAGES_META = "site_pages"  # the state's meta key: the digest and sha256s of SITE_PAGES


def render_site(
    store: Store,
    renderer: SiteRenderer,
    membership: Membership,
    states: dict[str, PageState],
    full: bool,
    images: dict[str, str],
    repaired: list[Repair] | None = None,
) -> tuple[int, int]:
    """Render each page whose inputs changed, or whose file is missing or not as written (by
    the hash stored when it was: each such file goes into `repaired`), then the site-wide pages
    (rendered when their data changed or a file of theirs is not as written); (written,
    offsite links)."""
    members = membership.by_source
    mirrored = [u for u in membership.pages if u in states and states[u].has_copy]
    local_paths = {url: local_path_for(url) for url in mirrored}
    for url in mirrored:  # an HTTP redirect's target is the same local page
        final = states[url].final_url
        if final:
            with contextlib.suppress(ValueError):
                local_paths.setdefault(normalize_url(final), local_paths[url])
    for stub, target in membership.redirects:  # and so is an HTML redirect's
        if target in local_paths:
            local_paths.setdefault(stub, local_paths[target])
    graph = store.links()
    shown = store.page_assets()
    rendered = 0
    offsite_total = 0
    for source, urls in members.items():
        pages = [u for u in urls if u in local_paths and u in states and states[u].has_copy]
        for i, url in enumerate(pages):
            state = states[url]
            path = local_paths[url]
            context = PageContext(
                path=path,
                source=source,
                previous=_link_to(pages[i - 1], states, local_paths) if i > 0 else None,
                next=_link_to(pages[i + 1], states, local_paths) if i + 1 < len(pages) else None,
                last_changed=display_date(state.last_modified)
                or (format_day(state.changed_at) if state.changed_at else None),
                local_links=tuple(
                    sorted(
                        (dst, local_paths[dst]) for dst in graph.get(url, ()) if dst in local_paths
                    )
                ),
                local_images=tuple(
                    sorted((src, images[src]) for src in shown.get(url, ()) if src in images)
                ),
            )
            digest = renderer.page_digest(state.content_hash or "", context)
            output = renderer.output_dir / path
            damage = None
            if not full and digest == state.render_digest:
                damage = page_damage(output, state.site_sha256, state.site_stat)
                if damage is not None and repaired is not None:
                    repaired.append(Repair("page", str(output), damage))
            if full or digest != state.render_digest or damage is not None:
                page = store.load_page(url)
                if page is None:
                    continue
                written, offsite = renderer.render_page(page, context)
                rendered += written
                with store.transaction():
                    store.set_rendered(
                        url, digest, offsite, file_sha256(output), written_stat(output)
                    )
                offsite_total += offsite
            else:
                offsite_total += state.offsite_links or 0

    sources = []
    for source, urls in members.items():
        entries = [
            PageEntry(
                url=u,
                path=local_paths[u],
                title=states[u].title or name_from_url(u),
                summary=states[u].summary or "",
                source=source,
            )
            for u in urls
            if u in local_paths and u in states
        ]
        checked = [c for u in urls if u in states and (c := states[u].checked_at) is not None]
        refreshed = format_day(max(checked)) if checked else ""
        sources.append(SourceListing(source, len(entries), refreshed, folder_tree(entries)))
    changes = [
        (format_day(c.at), c.kind, c.title, local_paths.get(c.url) if c.kind != "removed" else None)
        for c in store.recent_changes()
    ]
    digest = renderer.site_pages_digest(sources, changes)
    record = store.get_meta(SITE_PAGES_META)
    if full or not _site_pages_as_written(renderer.output_dir, digest, record):
        renderer.render_home(sources)
        renderer.render_search()
        renderer.render_changes(changes)
        files = {name: file_sha256(renderer.output_dir / name) for name in SITE_PAGES}
        with store.transaction():
            store.set_meta(SITE_PAGES_META, json.dumps({"digest": digest, "files": files}))
    renderer.write_static()
    return rendered, offsite_total


def _site_pages_as_written(site: Path, digest: str, written: str | None) -> bool:
    """Whether the site-wide pages in `site` are those the last build wrote from the same data
    (`digest`), by the state's record of them (`written`): if so, a build need not render them
    (a refresh that changed nothing renders no page at all)."""
    try:
        record = json.loads(written or "{}")
        return bool(record.get("digest") == digest) and all(
            page_damage(site / name, record["files"][name]) is None for name in SITE_PAGES
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return False


def _link_to(url: str, states: dict[str, PageState], local_paths: dict[str, str]) -> PageLink:
    return PageLink(path=local_paths[url], title=states[url].title or name_from_url(url))
