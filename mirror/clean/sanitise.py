"""What of a page's HTML may reach the site: the tags and attributes kept, through nh3 (Rust's
ammonia), and nothing that can run or load active content. Pure."""

from __future__ import annotations

import nh3

# What a documentation page needs.
ALLOWED_TAGS = frozenset(
    """a abbr acronym address article aside b bdi bdo blockquote br caption cite code col colgroup
    dd del details dfn div dl dt em figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol
    p pre q rp rt ruby s samp section small span strong sub summary sup table tbody td tfoot th
    thead time tr u ul var wbr""".split()
)
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "scope", "headers"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "details": {"open"},
    "time": {"datetime"},
}


def sanitise(html: str) -> str:
    """`html` with only the allowed tags and attributes, http(s) and mailto links, no comments."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
        strip_comments=True,
    )
