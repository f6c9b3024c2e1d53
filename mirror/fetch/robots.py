"""robots.txt as RFC 9309 reads it: which group applies to us, and its rules parsed by Protego
(the parser Scrapy uses). Pure: the crawler fetches the file (`Crawler._load_robots`)."""

from __future__ import annotations

import re

from protego import Protego

ROBOTS_MAX_BYTES = 512_000  # RFC 9309 2.5: at most 500 KiB of a robots.txt is read and parsed
ROBOTS_MAX_REDIRECTS = 5  # RFC 9309 2.3.1.2: five consecutive redirects are followed


def parse_robots(body: bytes, user_agent: str) -> Protego:
    """The rules of the robots.txt `body` for the product token of `user_agent` (the part before
    '/'), as one "*" group: ask it with `can_fetch(url, "*")` and `crawl_delay("*")`."""
    text = body[:ROBOTS_MAX_BYTES].decode("utf-8-sig", "replace")
    token = user_agent.split("/")[0].strip()
    return Protego.parse(robots_group(text, token))


# A user-agent line as Protego reads one ("user-agent", "useragent" or "user agent", then a colon
# or a space), and the records Protego keeps in a group: allow, disallow (and the misspellings of
# it that Protego accepts), crawl-delay, request-rate, visit-time. Sitemap and Host are not.
_USER_AGENT_LINE = re.compile(r"user[-\s]?agent(?:\s*:|\s|$)\s*(.*)", re.IGNORECASE)
_GROUP_RECORD = re.compile(
    r"(?:allow|disallow|dissallow|dissalow|disalow|diasllow|disallaw"
    r"|crawl[-\s]delay|request[-\s]rate|visit[-\s]time)(?:\s*:|\s|$)",
    re.IGNORECASE,
)
_NOT_IN_TOKEN = re.compile(r"[^A-Za-z_-]")  # a product token is made of A-Z a-z _ -


def robots_group(text: str, token: str) -> str:
    """The lines of the robots.txt groups that apply to the product token `token`, under one
    "User-agent: *" line, for Protego to match URLs and read Crawl-delay from.

    The group is chosen here as RFC 9309 2.2.1 says, since Protego lets a group apply when its
    name is a mere prefix (a substring, in older versions) of the token, and lets any line it
    does not know end a group (2.2.4: other records MUST NOT interfere with the groups). A group
    is its user-agent lines and what follows up to the next user-agent line after a record of
    the group (a rule, or Crawl-delay as every parser reading it takes it); the groups naming the
    token (case-insensitively) apply, all merged, else the "*" groups. A user-agent value is read
    up to its first character that a product token cannot hold ("FooBot/1.0" or "FooBot Images"
    names FooBot), as Google's parser does.
    """
    token = token.lower()
    groups: list[tuple[set[str], list[str]]] = []  # names ("*" for all), lines
    in_rules = False  # the current group has had a record: a user-agent line starts a new one
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        agent = _USER_AGENT_LINE.fullmatch(line)
        if agent is not None:
            if not groups or in_rules:
                groups.append((set(), []))
                in_rules = False
            value = agent.group(1)
            name = "*" if value.split()[:1] == ["*"] else _NOT_IN_TOKEN.split(value, 1)[0]
            if name:
                groups[-1][0].add(name.lower())
        elif groups:  # a line before any user-agent line belongs to no group
            in_rules = in_rules or _GROUP_RECORD.match(line) is not None
            groups[-1][1].append(line)
    chosen = [lines for names, lines in groups if token and token in names]
    if not chosen:
        chosen = [lines for names, lines in groups if "*" in names]
    return "\n".join(["User-agent: *", *(line for lines in chosen for line in lines)])
