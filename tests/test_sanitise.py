"""The sanitiser, by property: whatever active content the main content of a page holds, nothing
of it reaches `Page.html`. Every allowed tag is tried with every HTML event-handler attribute and
with every URL-bearing attribute holding `javascript:`, `vbscript:` and `data:` URLs, spelt in
any case, behind character references, white space and control characters; then styles, SVG,
MathML, embedded documents and the mutation-XSS shapes that trip sanitisers whose parser and the
browser's disagree. What comes out is read back with lxml and with the standard library's
tokenizer, and must hold allowed tags and attributes only, no handler, and no URL of another
scheme than http, https and mailto; and so must what `sanitise` alone makes of the same markup."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirror.clean.extract import clean_page
from mirror.clean.page import Page
from mirror.clean.sanitise import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, sanitise

URL = "https://docs.example.org/guide/start.html"
INTRO = "The intro paragraph that every test page starts with."

# Event-handler content attributes: HTML's GlobalEventHandlers, WindowEventHandlers and
# DocumentAndElementEventHandlers, SVG's animation events, and the older or vendor ones browsers
# still fire.
EVENT_HANDLERS = """
onabort onafterprint onanimationcancel onanimationend onanimationiteration onanimationstart
onauxclick onbeforecopy onbeforecut onbeforeinput onbeforematch onbeforepaste onbeforeprint
onbeforetoggle onbeforeunload onbegin onblur oncancel oncanplay oncanplaythrough onchange
onclick onclose oncontentvisibilityautostatechange oncontextlost oncontextmenu
oncontextrestored oncopy oncuechange oncut ondblclick ondrag ondragend ondragenter ondragexit
ondragleave ondragover ondragstart ondrop ondurationchange onemptied onend onended onerror
onfocus onfocusin onfocusout onformdata onfullscreenchange onfullscreenerror
ongotpointercapture onhashchange oninput oninvalid onkeydown onkeypress onkeyup
onlanguagechange onload onloadeddata onloadedmetadata onloadend onloadstart
onlostpointercapture onmessage onmessageerror onmousedown onmouseenter onmouseleave
onmousemove onmouseout onmouseover onmouseup onmousewheel onoffline ononline onpagehide
onpagereveal onpageshow onpageswap onpaste onpause onplay onplaying onpointercancel
onpointerdown onpointerenter onpointerleave onpointerlockchange onpointerlockerror
onpointermove onpointerout onpointerover onpointerrawupdate onpointerup onpopstate onprogress
onratechange onreadystatechange onrejectionhandled onrepeat onreset onresize onscroll
onscrollend onscrollsnapchange onscrollsnapchanging onsearch onsecuritypolicyviolation
onseeked onseeking onselect onselectionchange onselectstart onshow onslotchange onstalled
onstorage onsubmit onsuspend ontimeupdate ontoggle ontouchcancel ontouchend ontouchmove
ontouchstart ontransitioncancel ontransitionend ontransitionrun ontransitionstart
onunhandledrejection onunload onvisibilitychange onvolumechange onwaiting
onwebkitanimationend onwebkitanimationiteration onwebkitanimationstart
onwebkittransitionend onwheel onzoom
""".split()

# Attributes that hold a URL somewhere in HTML, SVG or MathML, or did in some browser.
URL_ATTRIBUTES = """href src srcset action formaction poster cite background xlink:href data
codebase ping longdesc usemap lowsrc dynsrc manifest icon archive classid profile""".split()

SCHEMES = (
    "javascript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
)


def _entities(text: str, form: str) -> str:
    """`text` with every character a character reference of `form`."""
    return "".join(form.format(ord(c)) for c in text)


# Ways to write a URL in an attribute that a browser still reads as that URL: `spell(url)` is
# the attribute's source text (quoted, so its white space stays in the value).
SPELLINGS = {
    "plain": lambda u: u,
    "upper": lambda u: u.upper(),
    "mixed": lambda u: "".join(c.upper() if i % 2 else c for i, c in enumerate(u)),
    "leading-space": lambda u: " \t\n\r\f" + u,
    "trailing-space": lambda u: u + " \t\n",
    "tab-inside": lambda u: u[:4] + "\t" + u[4:],
    "newline-inside": lambda u: u[:4] + "\n" + u[4:],
    "cr-inside": lambda u: u[:2] + "\r" + u[2:],
    "control-first": lambda u: "\x01\x02\x1f" + u,
    "decimal-first": lambda u: f"&#{ord(u[0])};{u[1:]}",
    "hex-first": lambda u: f"&#x{ord(u[0]):X};{u[1:]}",
    "hex-lower": lambda u: f"&#x{ord(u[0]):x};{u[1:]}",
    "zero-padded": lambda u: f"&#0000{ord(u[0])};{u[1:]}",
    "no-semicolon": lambda u: f"&#{ord(u[0])}{u[1:]}",
    "tab-entity": lambda u: u[:4] + "&#x09;" + u[4:],
    "named-tab": lambda u: u[:4] + "&Tab;" + u[4:],
    "named-newline": lambda u: u[:4] + "&NewLine;" + u[4:],
    "named-colon": lambda u: u.replace(":", "&colon;", 1),
    "all-decimal": lambda u: _entities(u, "&#{};"),
    "all-hex": lambda u: _entities(u, "&#x{:x};"),
    "encoded-space-first": lambda u: "&#x20;&#9;" + u,
}

_VOID = frozenset("br col hr img wbr".split())
# Where a tag must stand to stay itself in the parsed tree.
_CONTEXT = {
    **dict.fromkeys(["td", "th"], "<table><tbody><tr>{}</tr></tbody></table>"),
    "tr": "<table><tbody>{}</tbody></table>",
    **dict.fromkeys(["tbody", "thead", "tfoot", "caption", "colgroup"], "<table>{}</table>"),
    "col": "<table><colgroup>{}</colgroup></table>",
    "li": "<ul>{}</ul>",
    **dict.fromkeys(["dt", "dd"], "<dl>{}</dl>"),
    **dict.fromkeys(["rt", "rp"], "<ruby>base{}</ruby>"),
    "summary": "<details>{}</details>",
    "figcaption": "<figure>{}</figure>",
}


def _page(payload: str) -> bytes:
    """A small Sphinx-like page with `payload` in its main content (`div[role=main]`)."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Start &#8212; Guide</title>
<script src="_static/doctools.js"></script></head><body>
<div class="related" role="navigation"><a href="genindex.html">index</a></div>
<div class="document"><div class="body" role="main">
<section id="start"><h1>Start</h1>
<p>{INTRO}</p>
{payload}
</section></div></div></body></html>""".encode()


def _element(tag: str, attributes: str, ident: str) -> str:
    """One `tag` element with `attributes` (source text) and the id `ident`, in the context it
    needs."""
    start = f'<{tag} id="{ident}" {attributes}>'
    markup = start if tag in _VOID else f"{start}text of {ident}</{tag}>"
    return _CONTEXT.get(tag, "<div>{}</div>").format(markup)


class _Tokens(HTMLParser):
    """The start tags of a document and their attributes, values unescaped, as the standard
    library's tokenizer reads them: a second reader, so that no markup lxml would read one way
    and a browser another slips by."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


# What a browser ignores in a URL: ASCII white space and C0 controls anywhere (it strips them
# around the URL and drops tabs and newlines inside it), DEL.
_URL_IGNORED = re.compile(r"[\x00-\x20\x7f]")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_ACTIVE = re.compile(
    r"<\s*/?\s*(script|style|svg|math|iframe|frame|object|embed|applet|base|meta|link|form|"
    r"template|noscript|textarea|xmp|plaintext|noembed|noframes|select|option|input|button|"
    r"video|audio|source|track|marquee|isindex|portal|image|animate|set|foreignobject)\b",
    re.IGNORECASE,
)


def _allowed(tag: str, attribute: str) -> bool:
    return attribute in ALLOWED_ATTRIBUTES["*"] or attribute in ALLOWED_ATTRIBUTES.get(tag, ())


def _assert_inert(markup: str) -> None:
    """`markup` holds allowed tags and attributes only, no event handler, no style, and no URL
    of another scheme than http, https or mailto, read by lxml and by the tokenizer."""
    assert not _ACTIVE.search(markup), markup
    root = lxml.html.fragment_fromstring(markup, create_parent="div")
    elements = [(e.tag, list(e.attrib.items())) for e in root.iterdescendants()]
    for tag, attributes in [*elements, *_Tokens(markup).tags]:
        assert isinstance(tag, str) and tag in ALLOWED_TAGS, (tag, markup)
        for name, value in attributes:
            name = name.lower()
            assert not name.startswith("on") and name not in ("style", "srcdoc"), (tag, name)
            assert _allowed(tag, name), (tag, name, markup)
            text = _URL_IGNORED.sub("", value or "").lower()
            assert "expression(" not in text and "url(javascript:" not in text, (tag, name, value)
            scheme = _SCHEME.match(text)
            assert scheme is None or scheme.group(1) in ("http", "https", "mailto"), (name, value)


def _clean(payload: str) -> Page:
    """`payload` cleaned as a page's content, checked inert; and `sanitise` alone checked on it
    too, the last layer: the cleaner drops some script URLs itself (it rewrites links), which
    would hide a sanitiser that let them through."""
    page = clean_page(_page(payload), URL)
    assert INTRO in page.html  # the content was found and kept: the checks are not vacuous
    _assert_inert(page.html)
    _assert_inert(sanitise(payload))
    return page


def _survivors(page: Page, prefix: str) -> dict[str, lxml.html.HtmlElement]:
    """The elements of `page.html` whose id starts with `prefix`, by id."""
    root = lxml.html.fragment_fromstring(page.html, create_parent="div")
    return {e.get("id"): e for e in root.iterdescendants() if e.get("id", "").startswith(prefix)}


@pytest.mark.parametrize("tag", sorted(ALLOWED_TAGS))
def test_no_event_handler_survives_on_any_allowed_tag(tag: str) -> None:
    """Each handler on its own element, in one of several spellings (case, quoting, the
    separator before it), next to an allowed attribute that must stay."""
    spellings = (
        ' {}="alert(1)"',
        " {}=alert(1)",
        "/{}='alert(1)'",
        "\n{} = alert(1)",
        " {}",
    )
    elements = []
    for i, handler in enumerate(EVENT_HANDLERS):
        name = (handler, handler.upper(), handler.title())[i % 3]
        attribute = spellings[i % len(spellings)].format(name)
        elements.append(_element(tag, f'title="t{i}"{attribute}', f"h-{i}"))
    page = _clean("\n".join(elements))
    survivors = _survivors(page, "h-")
    assert len(survivors) == len(EVENT_HANDLERS)  # every element stays, with its title alone
    for i, element in enumerate(survivors.values()):
        assert element.tag == tag
        assert dict(element.attrib) == {"id": f"h-{i}", "title": f"t{i}"}


@pytest.mark.parametrize("tag", sorted(ALLOWED_TAGS))
def test_no_script_url_survives_in_any_url_attribute_of_any_allowed_tag(tag: str) -> None:
    """Every URL attribute with every script URL in every spelling, each on its own element."""
    elements, must_stay = [], set()
    for attribute in URL_ATTRIBUTES:
        for scheme in SCHEMES:
            for spelling, spell in SPELLINGS.items():
                value = spell(scheme).replace('"', "&quot;")
                ident = f"u-{attribute.replace(':', '-')}-{SCHEMES.index(scheme)}-{spelling}"
                elements.append(_element(tag, f'{attribute}="{value}"', ident))
                if (tag, attribute) != ("img", "src"):  # an image with no usable source goes
                    must_stay.add(ident)
    page = _clean("\n".join(elements))
    survivors = _survivors(page, "u-")  # the elements stay, without the URL
    assert must_stay <= survivors.keys()
    assert {e.tag for e in survivors.values()} == {tag}


@st.composite
def _obfuscated(draw: st.DrawFn) -> str:
    """A script URL as a page may hide it: each character in either case, or a character
    reference, with white space, controls or references to them anywhere."""
    url = draw(st.sampled_from(SCHEMES))
    noise = st.sampled_from(["\t", "\n", "\r", "&#9;", "&#x0A;", "&Tab;", "&NewLine;", ""])
    out = [draw(st.sampled_from(["", " ", "\x01", "\x1f", "&#x20;", "\x0c"]))]
    for char in url:
        upper = char.upper() if draw(st.booleans()) else char
        out.append(draw(st.sampled_from([upper, f"&#{ord(char)};", f"&#x{ord(char):x};"])))
        out.append(draw(noise))
    return "".join(out).replace('"', "&quot;")


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(ALLOWED_TAGS)), st.sampled_from(URL_ATTRIBUTES)),
        min_size=1,
        max_size=8,
    ),
    _obfuscated(),
)
def test_no_obfuscated_script_url_survives(places: list[tuple[str, str]], url: str) -> None:
    """The same URL in links, images and random tags and attributes at once."""
    elements = [
        _element("a", f'href="{url}"', "link"),
        _element("img", f'src="https://docs.example.org/x.png" lowsrc="{url}"', "image"),
    ]
    elements += [_element(tag, f'{name}="{url}"', f"p{i}") for i, (tag, name) in enumerate(places)]
    page = _clean("\n".join(elements))
    # nothing was taken for a link or an image but relative ones, harmless (an older libxml2
    # does not know `&Tab;`: `java&Tab;script:x` is a relative URL to it, and to browsers)
    assert all(link.startswith("https://docs.example.org/guide/") for link in page.links)
    assert all(src.startswith("https://docs.example.org/") for src in page.assets)


# Active content in every other shape: styles, SVG and MathML, embedded documents, elements
# that change how the page is read, and the mutation-XSS shapes (markup a sanitiser reads one
# way and the browser, after serialising and parsing again, another).
SHAPES = [
    '<p style="background: url(javascript:alert(1))">s</p>',
    '<p style="width: expression(alert(1))">s</p>',
    '<p STYLE="x:e&#x78;pression(alert(1))">s</p>',
    "<style>p { background: url(javascript:alert(1)) }</style><p>s</p>",
    "<style>@import 'javascript:alert(1)';</style>",
    '<link rel="stylesheet" href="javascript:alert(1)">',
    "<svg><script>alert(1)</script></svg>",
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>',
    '<svg><a href="javascript:alert(1)"><text>x</text></a></svg>',
    '<svg><animate attributeName="href" values="javascript:alert(1)"/></svg>',
    '<svg><a><animate attributeName="href" to="javascript:alert(1)"/><text>x</text></a></svg>',
    '<svg><set attributeName="onload" to="alert(1)"/></svg>',
    '<svg><use href="data:image/svg+xml,&lt;svg id=x onload=alert(1)&gt;#x"/></svg>',
    "<svg><foreignObject><img src=x onerror=alert(1)></foreignObject></svg>",
    "<svg><foreignObject><script>alert(1)</script></foreignObject></svg>",
    "<svg><style><img src=x onerror=alert(1)></style></svg>",
    '<svg></p><style><a id="</style><img src=x onerror=alert(1)>">',
    "<svg><title><img src=x onerror=alert(1)></title></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;img src=1 '
    'onerror=alert(1)&gt;">',
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    '<math href="javascript:alert(1)">x</math>',
    '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>',
    '<math><annotation-xml encoding="text/html"><img src=x onerror=alert(1)>'
    "</annotation-xml></math>",
    '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<object data="data:text/html,<script>alert(1)</script>"></object>',
    '<embed src="javascript:alert(1)">',
    '<embed src="data:image/svg+xml,<svg onload=alert(1)>">',
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<button formaction="javascript:alert(1)">go</button>',
    '<input type="image" src="javascript:alert(1)">',
    '<isindex action="javascript:alert(1)" type="image">',
    "<template><img src=x onerror=alert(1)></template>",
    "<template><script>alert(1)</script></template>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<noscript><style></noscript><img src=x onerror=alert(1)></style></noscript>",
    '<noembed><img title="</noembed><img src=x onerror=alert(1)>"></noembed>',
    '<noframes><img title="</noframes><img src=x onerror=alert(1)>"></noframes>',
    '<xmp><img title="</xmp><img src=x onerror=alert(1)>"></xmp>',
    '<textarea><img title="</textarea><img src=x onerror=alert(1)>"></textarea>',
    '<title><img title="</title><img src=x onerror=alert(1)>"></title>',
    "<plaintext><img src=x onerror=alert(1)>",
    "<!--><img src=x onerror=alert(1)>-->",
    "<!-- --!><img src=x onerror=alert(1)> -->",
    '<!-- --!><a href="javascript:alert(1)">x</a> -->',
    '<!--<!--><a href="javascript:alert(1)">x</a>-->',
    '<?xml x="?><a href="javascript:alert(1)">x</a>">',
    '<![CDATA[><a href="javascript:alert(1)">x</a>]]>',
    '</x <a href="javascript:alert(1)">x</a>>',
    '<a href="javascript:alert(1)" href="https://docs.example.org/">first wins</a>',
    '<a HREF="javascript:alert(1)">upper</a>',
    "<a href=javascript:alert(1)>unquoted</a>",
    "<a href=`javascript:alert(1)`>backticks</a>",
    '<a href="javascript:alert(1)#https://docs.example.org/">fragment</a>',
    '<a href="#" onclick="alert(1)">fragment only</a>',
    '<a href="//evil.example/%0Ajavascript:alert(1)">protocol-relative</a>',
    '<a href="mailto:x@example.org" onmouseover="alert(1)">mail</a>',
    '<a href="\x00javascript:alert(1)">nul</a><img src="\x00javascript:alert(1)">',
    '<img src="x" onerror="alert(1)" srcset="javascript:alert(1) 1x">',
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    '<img """><script>alert(1)</script>">',
    '<img src="https://docs.example.org/x.png" style="behavior: url(x.htc)">',
    '<video poster="javascript:alert(1)" onerror="alert(1)"><source src="x"></video>',
    '<audio src="x" onerror="alert(1)"></audio>',
    '<details open ontoggle="alert(1)"><summary>s</summary>d</details>',
    '<marquee onstart="alert(1)">m</marquee>',
    '<table background="javascript:alert(1)"><tr><td background="javascript:alert(1)">c</td>'
    "</tr></table>",
    '<blockquote cite="javascript:alert(1)">q</blockquote><q cite="javascript:alert(1)">q</q>',
    '<del cite="javascript:alert(1)">d</del><ins cite="javascript:alert(1)">i</ins>',
    '<a href="https://docs.example.org/" ping="javascript:alert(1)">ping</a>',
    '<img src="https://docs.example.org/x.png" usemap="#m"><map name="m"><area '
    'href="javascript:alert(1)" shape="rect" coords="0,0,9,9"></map>',
    '<div data-bind="javascript:alert(1)" is="x-y" slot="s" contenteditable>attrs</div>',
    '<p id="x" xmlns="http://www.w3.org/2000/svg" onload="alert(1)">namespaced</p>',
    "<select><template><img src=x onerror=alert(1)></template></select>",
    "<table><caption><svg><script>alert(1)</script></svg></caption></table>",
]


@pytest.mark.parametrize("shape", SHAPES)
def test_no_active_content_survives_in_any_shape(shape: str) -> None:
    page = _clean(shape)
    assert all(link.startswith(("https://", "http://")) for link in page.links)


def test_a_base_element_changes_nothing() -> None:
    page = _clean('<base href="javascript:alert(1)//"><a href="page.html">relative</a>')
    assert page.links == ("https://docs.example.org/guide/page.html",)
    assert '<a href="https://docs.example.org/guide/page.html">relative</a>' in page.html


def test_text_about_script_urls_stays_text() -> None:
    """What a page says about markup is escaped once: neither run nor decoded again."""
    page = _clean("<p>Write &lt;a href=&quot;javascript:...&quot;&gt; &amp;#106; never.</p>")
    assert html.unescape(page.html).count("<a href") == 1
    assert "&lt;a href=" in page.html and "&amp;#106;" in page.html


# -- added by mutation testing (docs/testing.md) ------------------------------------------------


def test_http_https_and_mailto_links_and_images_keep_their_urls() -> None:
    """The allowed schemes pass: a sanitiser that dropped http:// hrefs would still be inert."""
    page = _clean(
        '<p><a href="http://other.example.org/a.html">a</a> <a href="https://x.example/b">b</a>'
        ' <a href="mailto:doc@example.org">c</a> <img src="http://other.example.org/i.png"></p>'
    )
    for url in (
        'href="http://other.example.org/a.html"',
        'href="https://x.example/b"',
        'href="mailto:doc@example.org"',
        'src="http://other.example.org/i.png"',
    ):
        assert url in page.html, page.html


def test_sanitise_itself_keeps_only_http_https_and_mailto_urls() -> None:
    """`sanitise` is the last layer, whatever the cleaner before it let through: other schemes
    nh3 would allow by default (ftp, tel, sms, ...) go too."""
    html = sanitise(
        '<a href="ftp://x.org/f">f</a><a href="tel:+123">t</a><img src="ftp://x.org/a.png">'
        '<a href="https://x.org/ok">ok</a><a href="mailto:a@x.org">m</a>'
    )
    assert "ftp:" not in html and "tel:" not in html
    assert 'href="https://x.org/ok"' in html and 'href="mailto:a@x.org"' in html
