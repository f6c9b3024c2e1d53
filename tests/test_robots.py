"""robots.txt as RFC 9309 reads it (`mirror.fetch.crawl` with Protego), through the real `Crawler`
against the loopback `DocServer`: no mocks, every decision is a fetch that reaches the server or
is refused before any request for the page is sent.

The first part replays the allow/disallow decisions of Google's robots.txt test suite
(google/robotstxt, robots_test.cc); the rest covers what RFC 9309 adds around the rules: the
longest match, the product token's group, the 500 KiB limit, redirects, 4xx/5xx/unreachable
robots.txt and a fractional Crawl-delay.
"""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from requests.utils import requote_uri

from mirror.config import DEFAULT_USER_AGENT, CrawlSettings
from mirror.fetch.crawl import Crawler, FetchRequest, FetchResult
from mirror.fetch.robots import ROBOTS_MAX_BYTES

from conftest import NAMES, crawl_settings, fetch_each, page_path
from docserver import DocServer

TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
PAGE = b"<!DOCTYPE html><html><head><title>page</title></head><body>page</body></html>"
DISALLOWED = "disallowed by robots.txt"


def make_settings(**overrides: object) -> CrawlSettings:
    """Fast settings for tests, robots.txt honoured."""
    return crawl_settings(**{"robots": True, **overrides})


fetch_all = fetch_each


def set_robots(server: DocServer, body: str | bytes) -> None:
    server.set_page(
        "/robots.txt", body.encode() if isinstance(body, str) else body, content_type=TEXT
    )


def page_paths_requested(server: DocServer) -> list[str]:
    return [r.path for r in server.requests if r.path != "/robots.txt"]


def assert_refused(server: DocServer, result: FetchResult, path: str) -> None:
    """Refused by robots.txt, and no request for `path` (query and all) reached the server."""
    assert not result.ok and result.error == DISALLOWED, result.error
    assert result.attempts == 0
    assert [r for r in server.requests if r.path == path] == []


def assert_fetched(server: DocServer, result: FetchResult, path: str) -> None:
    assert result.ok, result.error
    assert result.status == 200
    assert server.requests_for(path) != []


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that is bound but not listening: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


# -- Google's robots.txt test suite ----------------------------------------------------------
#
# Every allow/disallow decision of google/robotstxt's robots_test.cc (the version at commit
# c8ac4b1d93183ddcab30d09415356bf52550c6a5), as (test name, robots.txt, agent, URL, allowed).
# The agent is Google's crawler name, used as our product token ("FooBot" -> "FooBot/1.0"); the
# URL's host (foo.bar, foo.com, example.com) becomes the test server, its path and query stay.
#
# Left out, the decisions where Google's answer is Google's own and Protego's is the RFC's:
#   - ID_Encoding, "/foo/bar/ツ" refused under "Allow: /foo/bar/ツ" and under
#     "Allow: /foo/bar/%E3%83%84" (two decisions): Google's matcher expects its caller to
#     percent-encode the URL first and so compares the raw bytes; RFC 9309 2.2.2 says octets
#     outside US-ASCII MUST be percent-encoded before comparison, so the URL is
#     /foo/bar/%E3%83%84 and the Allow rule matches (Protego encodes it; allowed).
#   - ID_Encoding, "/foo/bar/baz" refused under "Allow: /foo/bar/%62%61%7A": RFC 9309 2.2.2 says
#     a percent-encoded unreserved octet MUST be decoded before comparison (its table maps
#     /foo/bar/%62%61%7A to /foo/bar/baz), so the rule matches (Protego decodes; allowed).
#   - GoogleOnly_LineTooLong, the two decisions that depend on Google cutting a line after
#     8 * 2083 bytes ("Matches cut off disallow rule", "Matches cut off allow rule"): RFC 9309
#     sets no line length limit, and Protego reads the whole line.
# Left out as they decide nothing about a URL: ID_VerifyValidUserAgentsToObey and the
# IsValidUserAgentToObey check in GoogleOnly_AcceptUserAgentUpToFirstSpace (Google's check of a
# crawler's own name), ID_LinesNumbersAreCountedCorrectly, ID_UTF8ByteOrderMarkIsSkipped and
# ID_NonStandardLineExample_Sitemap (they count what a parse handler sees; line endings and the
# byte order mark are covered by decisions of our own further down), TestGetPathParamsQuery and
# TestMaybeEscapePattern (Google's internal helpers).
#
# Protego choosing the group by itself decides nine of the decisions below otherwise: an unknown
# line ends its group (ID_LineSyntax_Groups_OtherRules-3), and "User-Agent: FOO BAR" is no group
# for Foo (ID_UserAgentValueCaseInsensitive's six refusals, both decisions of
# GoogleOnly_AcceptUserAgentUpToFirstSpace). So `mirror.fetch.crawl` picks the group itself
# (`robots_group`) and leaves matching the group's rules to Protego.

_SYSTEM = "user-agent: FooBot\ndisallow: /\n"
_GROUPS = (
    "allow: /foo/bar/\n"
    "\n"
    "user-agent: FooBot\n"
    "disallow: /\n"
    "allow: /x/\n"
    "user-agent: BarBot\n"
    "disallow: /\n"
    "allow: /y/\n"
    "\n"
    "\n"
    "allow: /w/\n"
    "user-agent: BazBot\n"
    "\n"
    "user-agent: FooBot\n"
    "allow: /z/\n"
    "disallow: /\n"
)
_OTHER_RULES_SITEMAP = (
    "User-agent: BarBot\nSitemap: https://foo.bar/sitemap\nUser-agent: *\nDisallow: /\n"
)
_OTHER_RULES_UNKNOWN = (
    "User-agent: FooBot\nInvalid-Unknown-Line: unknown\nUser-agent: *\nDisallow: /\n"
)
_NAMES_UPPER = "USER-AGENT: FooBot\nALLOW: /x/\nDISALLOW: /\n"
_NAMES_LOWER = "user-agent: FooBot\nallow: /x/\ndisallow: /\n"
_NAMES_CAMEL = "uSeR-aGeNt: FooBot\nAlLoW: /x/\ndIsAlLoW: /\n"
_AGENT_UPPER = "User-Agent: FOO BAR\nAllow: /x/\nDisallow: /\n"
_AGENT_LOWER = "User-Agent: foo bar\nAllow: /x/\nDisallow: /\n"
_AGENT_CAMEL = "User-Agent: FoO bAr\nAllow: /x/\nDisallow: /\n"
_UP_TO_SPACE = "User-Agent: *\nDisallow: /\nUser-Agent: Foo Bar\nAllow: /x/\nDisallow: /\n"
_GLOBAL = "user-agent: *\nallow: /\nuser-agent: FooBot\ndisallow: /\n"
_ONLY_SPECIFIC = (
    "user-agent: FooBot\nallow: /\nuser-agent: BarBot\ndisallow: /\nuser-agent: BazBot\n"
    "disallow: /\n"
)
_INDEX_HTML = "User-Agent: *\nAllow: /allowed-slash/index.html\nDisallow: /\n"
_FISH = "user-agent: FooBot\ndisallow: /\nallow: /fish\n"
_FISH_STAR = "user-agent: FooBot\ndisallow: /\nallow: /fish*\n"
_FISH_SLASH = "user-agent: FooBot\ndisallow: /\nallow: /fish/\n"
_PHP = "user-agent: FooBot\ndisallow: /\nallow: /*.php\n"
_PHP_END = "user-agent: FooBot\ndisallow: /\nallow: /*.php$\n"
_FISH_PHP = "user-agent: FooBot\ndisallow: /\nallow: /fish*.php\n"

# GoogleOnly_LineTooLong builds lines around Google's 8 * 2083-byte limit
_MAX_LINE = 2083 * 8
_LONG_DISALLOW = "/x/" + "a" * (_MAX_LINE - len("/x/") - len("disallow: ") + 1 - len("/x/"))
_LONG_A = "/x/" + "a" * (_MAX_LINE - len("/x/") - len("allow: ") + 1 - len("/x/"))
_LONG_B = "/x/" + "b" * (len(_LONG_A) - len("/x/"))
_LINE_TOO_LONG_1 = f"user-agent: FooBot\ndisallow: {_LONG_DISALLOW}/qux\n"
_LINE_TOO_LONG_2 = f"user-agent: FooBot\ndisallow: /\nallow: {_LONG_A}/qux\nallow: {_LONG_B}/qux\n"

Case = tuple[str, str, str, str, bool]  # test name, robots.txt, agent, URL, allowed


def cases(name: str, robots: str, agent: str, *decisions: tuple[str, bool]) -> list[Case]:
    return [(name, robots, agent, url, allowed) for url, allowed in decisions]


# fmt: off
GOOGLE_CASES: list[Case] = [
    # GoogleOnly_SystemTest ("" as URL is "/", as Google's GetPathParamsQuery reads it)
    *cases(
        "GoogleOnly_SystemTest", "", "FooBot",
        ("", True),
    ),
    *cases(
        "GoogleOnly_SystemTest", _SYSTEM, "",
        ("", True),
    ),
    *cases(
        "GoogleOnly_SystemTest", _SYSTEM, "FooBot",
        ("", False),
    ),
    *cases(
        "GoogleOnly_SystemTest", "", "",
        ("", True),
    ),
    # ID_LineSyntax_Line
    *cases(
        "ID_LineSyntax_Line", "user-agent: FooBot\ndisallow: /\n", "FooBot",
        ("http://foo.bar/x/y", False),
    ),
    *cases(
        "ID_LineSyntax_Line", "foo: FooBot\nbar: /\n", "FooBot",
        ("http://foo.bar/x/y", True),
    ),
    *cases(
        "ID_LineSyntax_Line", "user-agent FooBot\ndisallow /\n", "FooBot",
        ("http://foo.bar/x/y", False),
    ),
    # ID_LineSyntax_Groups
    *cases(
        "ID_LineSyntax_Groups", _GROUPS, "FooBot",
        ("http://foo.bar/x/b", True),
        ("http://foo.bar/z/d", True),
        ("http://foo.bar/y/c", False),
    ),
    *cases(
        "ID_LineSyntax_Groups", _GROUPS, "BarBot",
        ("http://foo.bar/y/c", True),
        ("http://foo.bar/w/a", True),
        ("http://foo.bar/z/d", False),
    ),
    *cases(
        "ID_LineSyntax_Groups", _GROUPS, "BazBot",
        ("http://foo.bar/z/d", True),
    ),
    *cases(
        "ID_LineSyntax_Groups", _GROUPS, "FooBot",
        ("http://foo.bar/foo/bar/", False),
    ),
    *cases(
        "ID_LineSyntax_Groups", _GROUPS, "BarBot",
        ("http://foo.bar/foo/bar/", False),
    ),
    *cases(
        "ID_LineSyntax_Groups", _GROUPS, "BazBot",
        ("http://foo.bar/foo/bar/", False),
    ),
    # ID_LineSyntax_Groups_OtherRules
    *cases(
        "ID_LineSyntax_Groups_OtherRules", _OTHER_RULES_SITEMAP, "FooBot",
        ("http://foo.bar/", False),
    ),
    *cases(
        "ID_LineSyntax_Groups_OtherRules", _OTHER_RULES_SITEMAP, "BarBot",
        ("http://foo.bar/", False),
    ),
    *cases(
        "ID_LineSyntax_Groups_OtherRules", _OTHER_RULES_UNKNOWN, "FooBot",
        ("http://foo.bar/", False),
    ),
    *cases(
        "ID_LineSyntax_Groups_OtherRules", _OTHER_RULES_UNKNOWN, "BarBot",
        ("http://foo.bar/", False),
    ),
    # ID_REPLineNamesCaseInsensitive
    *cases(
        "ID_REPLineNamesCaseInsensitive", _NAMES_UPPER, "FooBot",
        ("http://foo.bar/x/y", True),
    ),
    *cases(
        "ID_REPLineNamesCaseInsensitive", _NAMES_LOWER, "FooBot",
        ("http://foo.bar/x/y", True),
    ),
    *cases(
        "ID_REPLineNamesCaseInsensitive", _NAMES_CAMEL, "FooBot",
        ("http://foo.bar/x/y", True),
    ),
    *cases(
        "ID_REPLineNamesCaseInsensitive", _NAMES_UPPER, "FooBot",
        ("http://foo.bar/a/b", False),
    ),
    *cases(
        "ID_REPLineNamesCaseInsensitive", _NAMES_LOWER, "FooBot",
        ("http://foo.bar/a/b", False),
    ),
    *cases(
        "ID_REPLineNamesCaseInsensitive", _NAMES_CAMEL, "FooBot",
        ("http://foo.bar/a/b", False),
    ),
    # ID_UserAgentValueCaseInsensitive
    *cases(
        "ID_UserAgentValueCaseInsensitive", _AGENT_UPPER, "Foo",
        ("http://foo.bar/x/y", True),
    ),
    *cases(
        "ID_UserAgentValueCaseInsensitive", _AGENT_LOWER, "Foo",
        ("http://foo.bar/x/y", True),
    ),
    *cases(
        "ID_UserAgentValueCaseInsensitive", _AGENT_CAMEL, "Foo",
        ("http://foo.bar/x/y", True),
    ),
    *cases(
        "ID_UserAgentValueCaseInsensitive", _AGENT_UPPER, "Foo",
        ("http://foo.bar/a/b", False),
    ),
    *cases(
        "ID_UserAgentValueCaseInsensitive", _AGENT_LOWER, "Foo",
        ("http://foo.bar/a/b", False),
    ),
    *cases(
        "ID_UserAgentValueCaseInsensitive", _AGENT_CAMEL, "Foo",
        ("http://foo.bar/a/b", False),
    ),
    *cases(
        "ID_UserAgentValueCaseInsensitive", _AGENT_UPPER, "foo",
        ("http://foo.bar/x/y", True),
    ),
    *cases(
        "ID_UserAgentValueCaseInsensitive", _AGENT_LOWER, "foo",
        ("http://foo.bar/x/y", True),
    ),
    *cases(
        "ID_UserAgentValueCaseInsensitive", _AGENT_CAMEL, "foo",
        ("http://foo.bar/x/y", True),
    ),
    *cases(
        "ID_UserAgentValueCaseInsensitive", _AGENT_UPPER, "foo",
        ("http://foo.bar/a/b", False),
    ),
    *cases(
        "ID_UserAgentValueCaseInsensitive", _AGENT_LOWER, "foo",
        ("http://foo.bar/a/b", False),
    ),
    *cases(
        "ID_UserAgentValueCaseInsensitive", _AGENT_CAMEL, "foo",
        ("http://foo.bar/a/b", False),
    ),
    # GoogleOnly_AcceptUserAgentUpToFirstSpace
    *cases(
        "GoogleOnly_AcceptUserAgentUpToFirstSpace", _UP_TO_SPACE, "Foo",
        ("http://foo.bar/x/y", True),
    ),
    *cases(
        "GoogleOnly_AcceptUserAgentUpToFirstSpace", _UP_TO_SPACE, "Foo Bar",
        ("http://foo.bar/x/y", False),
    ),
    # ID_GlobalGroups_Secondary
    *cases(
        "ID_GlobalGroups_Secondary", "", "FooBot",
        ("http://foo.bar/x/y", True),
    ),
    *cases(
        "ID_GlobalGroups_Secondary", _GLOBAL, "FooBot",
        ("http://foo.bar/x/y", False),
    ),
    *cases(
        "ID_GlobalGroups_Secondary", _GLOBAL, "BarBot",
        ("http://foo.bar/x/y", True),
    ),
    *cases(
        "ID_GlobalGroups_Secondary", _ONLY_SPECIFIC, "QuxBot",
        ("http://foo.bar/x/y", True),
    ),
    # ID_AllowDisallow_Value_CaseSensitive
    *cases(
        "ID_AllowDisallow_Value_CaseSensitive", "user-agent: FooBot\ndisallow: /x/\n", "FooBot",
        ("http://foo.bar/x/y", False),
    ),
    *cases(
        "ID_AllowDisallow_Value_CaseSensitive", "user-agent: FooBot\ndisallow: /X/\n", "FooBot",
        ("http://foo.bar/x/y", True),
    ),
    # ID_LongestMatch
    *cases(
        "ID_LongestMatch", "user-agent: FooBot\ndisallow: /x/page.html\nallow: /x/\n", "FooBot",
        ("http://foo.bar/x/page.html", False),
    ),
    *cases(
        "ID_LongestMatch", "user-agent: FooBot\nallow: /x/page.html\ndisallow: /x/\n", "FooBot",
        ("http://foo.bar/x/page.html", True),
        ("http://foo.bar/x/", False),
    ),
    *cases(
        "ID_LongestMatch", "user-agent: FooBot\ndisallow: \nallow: \n", "FooBot",
        ("http://foo.bar/x/page.html", True),
    ),
    *cases(
        "ID_LongestMatch", "user-agent: FooBot\ndisallow: /\nallow: /\n", "FooBot",
        ("http://foo.bar/x/page.html", True),
    ),
    *cases(
        "ID_LongestMatch", "user-agent: FooBot\ndisallow: /x\nallow: /x/\n", "FooBot",
        ("http://foo.bar/x", False),
        ("http://foo.bar/x/", True),
    ),
    *cases(
        "ID_LongestMatch",
        "user-agent: FooBot\ndisallow: /x/page.html\nallow: /x/page.html\n",
        "FooBot",
        ("http://foo.bar/x/page.html", True),
    ),
    *cases(
        "ID_LongestMatch", "user-agent: FooBot\nallow: /page\ndisallow: /*.html\n", "FooBot",
        ("http://foo.bar/page.html", False),
        ("http://foo.bar/page", True),
    ),
    *cases(
        "ID_LongestMatch", "user-agent: FooBot\nallow: /x/page.\ndisallow: /*.html\n", "FooBot",
        ("http://foo.bar/x/page.html", True),
        ("http://foo.bar/x/y.html", False),
    ),
    *cases(
        "ID_LongestMatch",
        "User-agent: *\nDisallow: /x/\nUser-agent: FooBot\nDisallow: /y/\n",
        "FooBot",
        ("http://foo.bar/x/page", True),
        ("http://foo.bar/y/page", False),
    ),
    # ID_Encoding (three decisions left out, see above)
    *cases(
        "ID_Encoding",
        "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar?qux=taz&baz=http://foo.bar?tar&par\n",
        "FooBot",
        ("http://foo.bar/foo/bar?qux=taz&baz=http://foo.bar?tar&par", True),
    ),
    *cases(
        "ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/ツ\n", "FooBot",
        ("http://foo.bar/foo/bar/%E3%83%84", True),
    ),
    *cases(
        "ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%E3%83%84\n", "FooBot",
        ("http://foo.bar/foo/bar/%E3%83%84", True),
    ),
    *cases(
        "ID_Encoding", "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar/%62%61%7A\n", "FooBot",
        ("http://foo.bar/foo/bar/%62%61%7A", True),
    ),
    # ID_SpecialCharacters
    *cases(
        "ID_SpecialCharacters",
        "User-agent: FooBot\nDisallow: /foo/bar/quz\nAllow: /foo/*/qux\n",
        "FooBot",
        ("http://foo.bar/foo/bar/quz", False),
        ("http://foo.bar/foo/quz", True),
        ("http://foo.bar/foo//quz", True),
        ("http://foo.bar/foo/bax/quz", True),
    ),
    *cases(
        "ID_SpecialCharacters",
        "User-agent: FooBot\nDisallow: /foo/bar$\nAllow: /foo/bar/qux\n",
        "FooBot",
        ("http://foo.bar/foo/bar", False),
        ("http://foo.bar/foo/bar/qux", True),
        ("http://foo.bar/foo/bar/", True),
        ("http://foo.bar/foo/bar/baz", True),
    ),
    *cases(
        "ID_SpecialCharacters",
        "User-agent: FooBot\n# Disallow: /\nDisallow: /foo/quz#qux\nAllow: /\n",
        "FooBot",
        ("http://foo.bar/foo/bar", True),
        ("http://foo.bar/foo/quz", False),
    ),
    # GoogleOnly_IndexHTMLisDirectory
    *cases(
        "GoogleOnly_IndexHTMLisDirectory", _INDEX_HTML, "foobot",
        ("http://foo.com/allowed-slash/", True),
        ("http://foo.com/allowed-slash/index.htm", False),
        ("http://foo.com/allowed-slash/index.html", True),
        ("http://foo.com/anyother-url", False),
    ),
    # GoogleOnly_LineTooLong (two decisions left out, see above)
    *cases(
        "GoogleOnly_LineTooLong", _LINE_TOO_LONG_1, "FooBot",
        ("http://foo.bar/fux", True),
    ),
    *cases(
        "GoogleOnly_LineTooLong", _LINE_TOO_LONG_2, "FooBot",
        ("http://foo.bar/", False),
        (f"http://foo.bar{_LONG_A}/qux", True),
    ),
    # GoogleOnly_DocumentationChecks: "/fish"
    *cases(
        "GoogleOnly_DocumentationChecks", _FISH, "FooBot",
        ("http://foo.bar/bar", False),
        ("http://foo.bar/fish", True),
        ("http://foo.bar/fish.html", True),
        ("http://foo.bar/fish/salmon.html", True),
        ("http://foo.bar/fishheads", True),
        ("http://foo.bar/fishheads/yummy.html", True),
        ("http://foo.bar/fish.html?id=anything", True),
        ("http://foo.bar/Fish.asp", False),
        ("http://foo.bar/catfish", False),
        ("http://foo.bar/?id=fish", False),
    ),
    # "/fish*"
    *cases(
        "GoogleOnly_DocumentationChecks", _FISH_STAR, "FooBot",
        ("http://foo.bar/bar", False),
        ("http://foo.bar/fish", True),
        ("http://foo.bar/fish.html", True),
        ("http://foo.bar/fish/salmon.html", True),
        ("http://foo.bar/fishheads", True),
        ("http://foo.bar/fishheads/yummy.html", True),
        ("http://foo.bar/fish.html?id=anything", True),
        ("http://foo.bar/Fish.bar", False),
        ("http://foo.bar/catfish", False),
        ("http://foo.bar/?id=fish", False),
    ),
    # "/fish/"
    *cases(
        "GoogleOnly_DocumentationChecks", _FISH_SLASH, "FooBot",
        ("http://foo.bar/bar", False),
        ("http://foo.bar/fish/", True),
        ("http://foo.bar/fish/salmon", True),
        ("http://foo.bar/fish/?salmon", True),
        ("http://foo.bar/fish/salmon.html", True),
        ("http://foo.bar/fish/?id=anything", True),
        ("http://foo.bar/fish", False),
        ("http://foo.bar/fish.html", False),
        ("http://foo.bar/Fish/Salmon.html", False),
    ),
    # "/*.php"
    *cases(
        "GoogleOnly_DocumentationChecks", _PHP, "FooBot",
        ("http://foo.bar/bar", False),
        ("http://foo.bar/filename.php", True),
        ("http://foo.bar/folder/filename.php", True),
        ("http://foo.bar/folder/filename.php?parameters", True),
        ("http://foo.bar//folder/any.php.file.html", True),
        ("http://foo.bar/filename.php/", True),
        ("http://foo.bar/index?f=filename.php/", True),
        ("http://foo.bar/php/", False),
        ("http://foo.bar/index?php", False),
        ("http://foo.bar/windows.PHP", False),
    ),
    # "/*.php$"
    *cases(
        "GoogleOnly_DocumentationChecks", _PHP_END, "FooBot",
        ("http://foo.bar/bar", False),
        ("http://foo.bar/filename.php", True),
        ("http://foo.bar/folder/filename.php", True),
        ("http://foo.bar/filename.php?parameters", False),
        ("http://foo.bar/filename.php/", False),
        ("http://foo.bar/filename.php5", False),
        ("http://foo.bar/php/", False),
        ("http://foo.bar/filename?php", False),
        ("http://foo.bar/aaaphpaaa", False),
        ("http://foo.bar//windows.PHP", False),
    ),
    # "/fish*.php"
    *cases(
        "GoogleOnly_DocumentationChecks", _FISH_PHP, "FooBot",
        ("http://foo.bar/bar", False),
        ("http://foo.bar/fish.php", True),
        ("http://foo.bar/fishheads/catfish.php?parameters", True),
        ("http://foo.bar/Fish.PHP", False),
    ),
    # order of precedence for group-member records
    *cases(
        "GoogleOnly_DocumentationChecks", "user-agent: FooBot\nallow: /p\ndisallow: /\n", "FooBot",
        ("http://example.com/page", True),
    ),
    *cases(
        "GoogleOnly_DocumentationChecks",
        "user-agent: FooBot\nallow: /folder\ndisallow: /folder\n",
        "FooBot",
        ("http://example.com/folder/page", True),
    ),
    *cases(
        "GoogleOnly_DocumentationChecks",
        "user-agent: FooBot\nallow: /page\ndisallow: /*.htm\n",
        "FooBot",
        ("http://example.com/page.htm", False),
    ),
    *cases(
        "GoogleOnly_DocumentationChecks", "user-agent: FooBot\nallow: /$\ndisallow: /\n", "FooBot",
        ("http://example.com/", True),
        ("http://example.com/page.html", False),
    ),
]
# fmt: on


def _google_ids() -> list[str]:
    """The robots_test.cc test name, numbered within the test."""
    seen: dict[str, int] = {}
    ids = []
    for name, *_ in GOOGLE_CASES:
        seen[name] = seen.get(name, 0) + 1
        ids.append(f"{name}-{seen[name]}")
    return ids


def url_path(url: str) -> str:
    """Path and query of one of Google's URLs ("" is "/", as Google reads it)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def served_path(path: str) -> str:
    """The path the server gets for `path`: as requests re-quotes it, and with a leading "//"
    made "/" as http.server does."""
    sent = requote_uri(path)
    return "/" + sent.lstrip("/") if sent.startswith("//") else sent


@pytest.mark.parametrize(
    ("name", "robots", "agent", "url", "allowed"), GOOGLE_CASES, ids=_google_ids()
)
def test_google_robotstxt_decision(
    docserver: DocServer, name: str, robots: str, agent: str, url: str, allowed: bool
) -> None:
    set_robots(docserver, robots)
    path = url_path(url)
    served = served_path(path)
    docserver.set_page(served.split("?", 1)[0], PAGE, content_type=HTML)
    crawler = Crawler(make_settings(user_agent=f"{agent}/1.0", retries=0))
    (result,) = crawler.fetch_all([FetchRequest(docserver.url(path))])
    assert len(docserver.requests_for("/robots.txt")) == 1
    if allowed:
        assert result.ok, result.error
        assert result.body == PAGE
        assert page_paths_requested(docserver) == [served]
    else:
        assert_refused(docserver, result, served)
        assert page_paths_requested(docserver) == []


# -- derived from Google's parse-only tests: line endings and the byte order mark -------------

_LINES = ["User-Agent: foo", "Allow: /some/path", "User-Agent: bar", "", "", "Disallow: /"]


@pytest.mark.parametrize(
    "body",
    [
        "\n".join(_LINES) + "\n",
        "\r\n".join(_LINES) + "\r\n",
        "\r".join(_LINES) + "\r",
        "\n".join(_LINES),
        "User-Agent: foo\nAllow: /some/path\r\nUser-Agent: bar\n\r\n\nDisallow: /",
    ],
    ids=["unix", "dos", "mac", "no-final-newline", "mixed"],
)
def test_every_line_ending_splits_lines(docserver: DocServer, body: str) -> None:
    """As ID_LinesNumbersAreCountedCorrectly parses them, decided: bar's group is
    "Disallow: /" (the blank lines do not end it), foo's allows /some/path."""
    set_robots(docserver, body)
    docserver.set_page("/some/path", PAGE, content_type=HTML)
    bar = Crawler(make_settings(user_agent="bar/1.0")).fetch(FetchRequest(docserver.url("/x")))
    assert_refused(docserver, bar, "/x")
    foo = Crawler(make_settings(user_agent="foo/1.0")).fetch(
        FetchRequest(docserver.url("/some/path"))
    )
    assert_fetched(docserver, foo, "/some/path")


def test_byte_order_mark_is_skipped(docserver: DocServer) -> None:
    """As ID_UTF8ByteOrderMarkIsSkipped: the rules after a UTF-8 BOM are read."""
    set_robots(docserver, b"\xef\xbb\xbfUser-Agent: foo\nDisallow: /\n")
    result = Crawler(make_settings(user_agent="foo/1.0")).fetch(FetchRequest(docserver.url("/x")))
    assert_refused(docserver, result, "/x")


# -- the longest match, wildcards, ties ------------------------------------------------------


def test_longer_allow_beats_shorter_disallow(docserver: DocServer) -> None:
    set_robots(docserver, "User-agent: *\nDisallow: /3/\nAllow: /3/library/\n")
    docserver.set_page("/3/other.html", PAGE, content_type=HTML)
    queue, other = docserver.url(page_path("queue")), docserver.url("/3/other.html")
    results = fetch_all(Crawler(make_settings()), [queue, other])
    assert_fetched(docserver, results[queue], page_path("queue"))
    assert_refused(docserver, results[other], "/3/other.html")


def test_star_and_dollar_are_special(docserver: DocServer) -> None:
    """`*` matches any run of characters, `$` ends the pattern. The pattern is matched against
    the path and its query (RFC 9309 2.2.2 matches the rules against the URI, its examples
    include queries, and so does Protego), so queue.html?x=1 does not end in ".html"."""
    set_robots(docserver, "User-agent: *\nDisallow: /3/library/q*.html$\n")
    queue = docserver.url(page_path("queue"))
    query = docserver.url(page_path("queue") + "?x=1")
    sched = docserver.url(page_path("sched"))
    results = fetch_all(Crawler(make_settings()), [queue, query, sched])
    assert_refused(docserver, results[queue], page_path("queue"))
    assert results[query].ok and results[sched].ok
    assert sorted(page_paths_requested(docserver)) == [
        page_path("queue") + "?x=1",
        page_path("sched"),
    ]


@pytest.mark.parametrize(
    "robots",
    [
        "User-agent: *\nDisallow: /3/library/queue.html\nAllow: /3/library/queue.html\n",
        "User-agent: *\nAllow: /3/library/queue.html\nDisallow: /3/library/queue.html\n",
        # different patterns of the same length (16 octets), both matching
        "User-agent: *\nDisallow: /3/library/queue\nAllow: /3/library/*html\n",
        "User-agent: *\nAllow: /3/library/*html\nDisallow: /3/library/queue\n",
    ],
    ids=["same-disallow-first", "same-allow-first", "equal-disallow-first", "equal-allow-first"],
)
def test_allow_wins_a_tie(docserver: DocServer, robots: str) -> None:
    set_robots(docserver, robots)
    result = Crawler(make_settings()).fetch(FetchRequest(docserver.url(page_path("queue"))))
    assert_fetched(docserver, result, page_path("queue"))


# -- the group of our product token ----------------------------------------------------------

_OURS_AND_ALL = (
    "User-agent: DOCMIRROR\nDisallow: /3/library/queue.html\n\n"
    "User-agent: *\nDisallow: /3/library/sched.html\n"
)


@pytest.mark.parametrize(
    "agent",
    [DEFAULT_USER_AGENT, "DocMirror/2.0", "docmirror"],
    ids=["default", "mixed-case", "no-version"],
)
def test_group_of_the_product_token_applies_whatever_its_case(
    docserver: DocServer, agent: str
) -> None:
    set_robots(docserver, _OURS_AND_ALL)
    queue, sched = docserver.url(page_path("queue")), docserver.url(page_path("sched"))
    results = fetch_all(Crawler(make_settings(user_agent=agent)), [queue, sched])
    assert_refused(docserver, results[queue], page_path("queue"))
    assert_fetched(docserver, results[sched], page_path("sched"))  # the * group is not ours


@pytest.mark.parametrize(
    "name",
    ["doc", "mirror", "docmirror-tests", "docmirrors", "github", "compatible"],
)
def test_a_group_naming_another_token_does_not_apply(docserver: DocServer, name: str) -> None:
    """Only the product token itself, matched whole: not a prefix or part of it, not a longer
    name, not a word elsewhere in the User-Agent header (ours names github.com)."""
    set_robots(
        docserver,
        f"User-agent: {name}\nDisallow: /\n\nUser-agent: *\nDisallow: /3/library/sched.html\n",
    )
    agent = "docmirror/0.1 (compatible; +https://github.com/docmirror/docmirror)"
    queue, sched = docserver.url(page_path("queue")), docserver.url(page_path("sched"))
    results = fetch_all(Crawler(make_settings(user_agent=agent)), [queue, sched])
    assert_fetched(docserver, results[queue], page_path("queue"))
    assert_refused(docserver, results[sched], page_path("sched"))  # the * group applies


def test_groups_naming_the_token_are_merged(docserver: DocServer) -> None:
    set_robots(
        docserver,
        "User-agent: docmirror\nDisallow: /3/library/queue.html\n\n"
        "User-agent: *\nDisallow: /\n\n"
        "User-agent: otherbot\nUser-agent: DocMirror\nDisallow: /3/library/sched.html\n",
    )
    urls = [docserver.url(page_path(n)) for n in ("queue", "sched", "threading")]
    results = fetch_all(Crawler(make_settings()), urls)
    assert_refused(docserver, results[urls[0]], page_path("queue"))
    assert_refused(docserver, results[urls[1]], page_path("sched"))
    assert_fetched(docserver, results[urls[2]], page_path("threading"))


# -- the 500 KiB limit -----------------------------------------------------------------------


def padded(head: str, tail: str, tail_ends_at: int) -> bytes:
    """`head`, comment lines, then `tail` placed to end at byte `tail_ends_at`."""
    room = tail_ends_at - len(head) - len(tail)
    filler = ("#" + "x" * 98 + "\n") * (room // 100) + ("#" * (room % 100 - 1) + "\n") * (
        room % 100 > 0
    )
    body = (head + filler + tail).encode()
    assert len(body) == tail_ends_at
    return body


def test_a_rule_after_500_kib_is_ignored(docserver: DocServer) -> None:
    head = "User-agent: *\nDisallow: /3/library/sched.html\n"
    tail = "Disallow: /3/library/queue.html\n"
    body = padded(head, "", ROBOTS_MAX_BYTES) + tail.encode()
    set_robots(docserver, body)
    queue, sched = docserver.url(page_path("queue")), docserver.url(page_path("sched"))
    results = fetch_all(Crawler(make_settings()), [queue, sched])
    assert ROBOTS_MAX_BYTES == 512_000
    assert_fetched(docserver, results[queue], page_path("queue"))
    assert_refused(docserver, results[sched], page_path("sched"))  # the file was read


@pytest.mark.parametrize(("ends_at", "allowed"), [(512_000, True), (512_001, False)])
def test_the_file_is_cut_at_exactly_512000_bytes(
    docserver: DocServer, ends_at: int, allowed: bool
) -> None:
    """A rule for queue.htmlx does not match queue.html; cut short by one byte, it does."""
    body = padded("User-agent: *\n", "Disallow: /3/library/queue.htmlx", ends_at) + b"\n# end\n"
    set_robots(docserver, body)
    result = Crawler(make_settings()).fetch(FetchRequest(docserver.url(page_path("queue"))))
    if allowed:
        assert_fetched(docserver, result, page_path("queue"))
    else:
        assert_refused(docserver, result, page_path("queue"))


def test_a_robots_txt_over_max_bytes_is_cut_not_refused(docserver: DocServer) -> None:
    """max_bytes bounds pages; robots.txt is read up to its own 500 KiB limit instead."""
    body = padded("User-agent: *\nDisallow: /3/library/sched.html\n", "", 600_000)
    set_robots(docserver, body)
    queue, sched = docserver.url(page_path("queue")), docserver.url(page_path("sched"))
    results = fetch_all(Crawler(make_settings(max_bytes=100_000)), [queue, sched])
    assert_fetched(docserver, results[queue], page_path("queue"))
    assert_refused(docserver, results[sched], page_path("sched"))


# -- redirects -------------------------------------------------------------------------------


@pytest.mark.parametrize("hops", [1, 2, 3, 4, 5])
def test_redirects_up_to_five_are_followed(docserver: DocServer, hops: int) -> None:
    """The rules at the end of the chain apply to the first host, even from another host."""
    with DocServer() as other:
        chain = ["/robots.txt", *(f"/hop{n}.txt" for n in range(1, hops))]
        for n, (source, target) in enumerate(zip(chain, [*chain[1:], None], strict=True)):
            if target is None:  # the last hop leads to the other server's robots.txt
                docserver.redirect(source, other.url("/robots.txt"))
            else:  # relative and absolute locations in turn
                docserver.redirect(source, target if n % 2 else docserver.url(target))
        set_robots(other, "User-agent: *\nDisallow: /3/library/queue.html\n")
        queue, sched = docserver.url(page_path("queue")), docserver.url(page_path("sched"))
        results = fetch_all(Crawler(make_settings()), [queue, sched])
        assert_refused(docserver, results[queue], page_path("queue"))
        assert_fetched(docserver, results[sched], page_path("sched"))
        for source in chain:
            assert len(docserver.requests_for(source)) == 1
        assert [r.path for r in other.requests] == ["/robots.txt"]


def test_more_than_five_redirects_mean_no_robots_txt(docserver: DocServer) -> None:
    """RFC 9309 2.3.1.2: after more than five redirects the robots.txt MAY be taken as
    unavailable; chosen here, so everything is allowed and the sixth target is not fetched."""
    chain = ["/robots.txt", *(f"/hop{n}.txt" for n in range(1, 7))]
    for source, target in itertools.pairwise(chain):
        docserver.redirect(source, target)
    docserver.set_page("/hop6.txt", b"User-agent: *\nDisallow: /\n", content_type=TEXT)
    urls = [docserver.url(page_path(n)) for n in NAMES[:3]]
    results = fetch_all(Crawler(make_settings()), urls)
    assert all(r.ok for r in results.values()), [r.error for r in results.values()]
    for source in chain[:-1]:
        assert len(docserver.requests_for(source)) == 1
    assert docserver.requests_for("/hop6.txt") == []


def test_a_redirect_to_a_missing_file_allows_everything(docserver: DocServer) -> None:
    docserver.redirect("/robots.txt", "/elsewhere/robots.txt")
    result = Crawler(make_settings()).fetch(FetchRequest(docserver.url(page_path("queue"))))
    assert_fetched(docserver, result, page_path("queue"))
    assert len(docserver.requests_for("/elsewhere/robots.txt")) == 1


def test_a_redirect_to_a_failing_server_disallows_everything(docserver: DocServer) -> None:
    docserver.redirect("/robots.txt", "/elsewhere/robots.txt")
    docserver.fail("/elsewhere/robots.txt", 503, times=None, headers={"Retry-After": "0"})
    result = Crawler(make_settings()).fetch(FetchRequest(docserver.url(page_path("queue"))))
    assert not result.ok and result.error == "robots.txt unavailable (HTTP 503)"
    assert page_paths_requested(docserver) == ["/elsewhere/robots.txt"] * 2  # one retry


# -- robots.txt missing, failing, unreachable --------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_a_4xx_robots_txt_allows_everything(docserver: DocServer, status: int) -> None:
    docserver.fail("/robots.txt", status, times=None, body=b"User-agent: *\nDisallow: /\n")
    urls = [docserver.url(page_path(n)) for n in NAMES]
    results = fetch_all(Crawler(make_settings(retries=2)), urls)
    assert all(r.ok for r in results.values()), [r.error for r in results.values()]
    assert len(docserver.requests_for("/robots.txt")) == 1  # not retried, asked once
    assert len(page_paths_requested(docserver)) == len(NAMES)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_robots_txt_fails_every_page_of_the_host(docserver: DocServer, status: int) -> None:
    docserver.fail("/robots.txt", status, times=None, headers={"Retry-After": "0"})
    urls = [docserver.url(page_path(n)) for n in NAMES]
    results = fetch_all(Crawler(make_settings(retries=1)), urls)
    for result in results.values():
        assert not result.ok and result.error == f"robots.txt unavailable (HTTP {status})"
        assert result.attempts == 0
    assert len(docserver.requests_for("/robots.txt")) == 2  # one retry, once for the host
    assert page_paths_requested(docserver) == []


def test_a_robots_txt_cut_off_every_time_fails_every_page(docserver: DocServer) -> None:
    docserver.reset("/robots.txt", times=None)
    urls = [docserver.url(page_path(n)) for n in NAMES]
    results = fetch_all(Crawler(make_settings(retries=1)), urls)
    for result in results.values():
        assert not result.ok and result.error is not None
        assert result.error.startswith("robots.txt unreachable (") and "127.0.0.1" in result.error
        assert result.attempts == 0
    assert len(docserver.requests_for("/robots.txt")) == 2
    assert page_paths_requested(docserver) == []


def test_a_refused_connection_fails_every_page_naming_robots_txt(closed_port: int) -> None:
    asked: list[str] = []
    lock = threading.Lock()

    class RecordingSession(requests.Session):
        def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
            with lock:
                asked.append(str(url))
            return super().request(method, url, *args, **kwargs)

    base = f"http://127.0.0.1:{closed_port}"
    urls = [f"{base}{page_path(n)}" for n in NAMES[:4]]
    crawler = Crawler(make_settings(retries=1), session_factory=RecordingSession)
    results = fetch_all(crawler, urls)
    for result in results.values():
        assert not result.ok
        assert result.error == "robots.txt unreachable (connection refused by 127.0.0.1)"
        assert result.attempts == 0 and result.status == 0
    assert asked == [f"{base}/robots.txt"] * 2  # one retry; no page was asked for


# -- Crawl-delay -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "robots",
    [
        "User-agent: *\nCrawl-delay: 0.25\n",
        "User-agent: otherbot\nCrawl-delay: 3\n\nUser-agent: DocMirror\nCrawl-delay: 0.25\n"
        "Disallow: /private/\n\nUser-agent: *\nCrawl-delay: 3\n",
    ],
    ids=["star-group", "our-group"],
)
def test_fractional_crawl_delay_spaces_requests(docserver: DocServer, robots: str) -> None:
    """The crawler's clock stands still, so it waits the whole Crawl-delay before each further
    request whatever the requests took: the gaps the server sees are 0.25 s, not 0 (ignored),
    1 s (rounded up) or 3 s (another group's)."""
    set_robots(docserver, robots)
    crawler = Crawler(make_settings(workers=1, per_host=1), clock=lambda: 1000.0)
    urls = [docserver.url(page_path(n)) for n in NAMES[:2]]
    results = fetch_all(crawler, urls)
    assert all(r.ok for r in results.values())
    first, second = sorted(r.time for r in docserver.requests if r.path != "/robots.txt")
    assert 0.25 * 0.95 <= second - first < 0.9


def test_crawl_delay_is_a_floor_over_the_delay_setting(docserver: DocServer) -> None:
    set_robots(docserver, "User-agent: *\nCrawl-delay: 0.05\n")
    crawler = Crawler(make_settings(workers=1, per_host=1, delay=0.3), clock=lambda: 1000.0)
    fetch_all(crawler, [docserver.url(page_path(n)) for n in NAMES[:2]])
    first, second = sorted(r.time for r in docserver.requests if r.path != "/robots.txt")
    assert second - first >= 0.3 * 0.95


def test_robots_txt_is_fetched_once_per_host(docserver: DocServer) -> None:
    set_robots(docserver, "User-agent: *\nDisallow: /3/library/sched.html\n")
    with DocServer() as other:
        set_robots(other, "User-agent: *\nDisallow: /3/library/queue.html\n")
        other.set_page(page_path("sched"), PAGE, content_type=HTML)
        other.set_page(page_path("queue"), PAGE, content_type=HTML)
        urls = [s.url(page_path(n)) for s in (docserver, other) for n in ("queue", "sched")] * 3
        crawler = Crawler(make_settings(workers=6, per_host=3))
        results = list(crawler.fetch_all(FetchRequest(u) for u in urls))
        refused = {r.url for r in results if r.error == DISALLOWED}
        assert refused == {docserver.url(page_path("sched")), other.url(page_path("queue"))}
        assert len(docserver.requests_for("/robots.txt")) == 1
        assert len(other.requests_for("/robots.txt")) == 1


# -- added by mutation testing (docs/testing.md) ------------------------------------------------


def test_a_robots_txt_that_is_not_utf8_is_still_read(docserver: DocServer) -> None:
    """A byte that is not UTF-8 (a Latin-1 comment, a file cut mid-character) is replaced, not
    fatal: the rules around it still apply and the fetch reports no crash."""
    set_robots(docserver, b"User-agent: *\n# caf\xe9, \xff\xfe\nDisallow: /x\n")
    docserver.set_page("/y", PAGE, content_type=HTML)
    crawler = Crawler(make_settings())
    refused = crawler.fetch(FetchRequest(docserver.url("/x")))
    assert_refused(docserver, refused, "/x")
    assert_fetched(docserver, crawler.fetch(FetchRequest(docserver.url("/y"))), "/y")


def test_a_star_followed_by_more_text_names_every_robot(docserver: DocServer) -> None:
    """As Google's parser reads it, a user-agent value that starts with "*" names every robot,
    whatever follows: a comment without a space before it, or more words."""
    set_robots(
        docserver,
        "User-agent: *# everyone\nDisallow: /x\n\n"
        "User-agent: otherbot\nUser-agent: * robots\nDisallow: /y\n",
    )
    docserver.set_page("/z", PAGE, content_type=HTML)
    crawler = Crawler(make_settings())
    assert_refused(docserver, crawler.fetch(FetchRequest(docserver.url("/x"))), "/x")
    assert_refused(docserver, crawler.fetch(FetchRequest(docserver.url("/y"))), "/y")
    assert_fetched(docserver, crawler.fetch(FetchRequest(docserver.url("/z"))), "/z")


def test_a_robots_txt_answering_300_allows_everything(docserver: DocServer) -> None:
    """300 Multiple Choices is no redirect to follow (requests follows 301, 302, 303, 307, 308):
    no robots.txt, whatever its body says, as for a 4xx."""
    docserver.fail("/robots.txt", 300, times=None, body=b"User-agent: *\nDisallow: /\n")
    result = Crawler(make_settings()).fetch(FetchRequest(docserver.url(page_path("queue"))))
    assert_fetched(docserver, result, page_path("queue"))
    assert len(docserver.requests_for("/robots.txt")) == 1


def test_a_redirected_robots_txt_over_max_bytes_is_cut_not_refused(docserver: DocServer) -> None:
    """The 500 KiB cut holds at the end of a redirect too, whatever max_bytes says."""
    body = padded("User-agent: *\nDisallow: /3/library/sched.html\n", "", 600_000)
    docserver.redirect("/robots.txt", "/elsewhere/robots.txt")
    docserver.set_page("/elsewhere/robots.txt", body, content_type=TEXT)
    queue, sched = docserver.url(page_path("queue")), docserver.url(page_path("sched"))
    results = fetch_all(Crawler(make_settings(max_bytes=100_000)), [queue, sched])
    assert_fetched(docserver, results[queue], page_path("queue"))
    assert_refused(docserver, results[sched], page_path("sched"))


def test_robots_txt_is_asked_for_once_when_requests_respells_its_url(
    docserver: DocServer,
) -> None:
    """requests writes the host in lower case, so the answer's URL differs from the one asked
    for: that is no redirect, and robots.txt is read from that one answer."""
    set_robots(docserver, "User-agent: *\nDisallow: /3/library/sched.html\n")
    base = f"http://LOCALHOST:{docserver.port}"
    crawler = Crawler(make_settings())
    assert crawler.fetch(FetchRequest(base + page_path("queue"))).ok
    assert crawler.fetch(FetchRequest(base + page_path("sched"))).error == DISALLOWED
    assert len(docserver.requests_for("/robots.txt")) == 1
