"""Loading and validating config.toml."""

from pathlib import Path

import pytest

from mirror.config import load_config, parse_config
from mirror.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
[site]
title = "Docs"
output_dir = "out"

[crawl]
workers = 4
timeout = 2

[[sources]]
name = "one"
urls = ["https://Example.org/a.html", "https://example.org/b.html#frag"]

[[sources]]
name = "two"
urls = ["https://example.org/a.html", "https://example.org/c.html"]
"""


def test_good_config(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.site.title == "Docs"
    assert config.site.output_dir == (tmp_path / "out").resolve()
    assert config.site.data_dir == (tmp_path / ".docmirror").resolve()
    assert config.crawl.workers == 4 and config.crawl.timeout == 2 and config.crawl.per_host == 6
    assert config.urls == (
        "https://example.org/a.html",
        "https://example.org/b.html",
        "https://example.org/c.html",
    )


def test_the_shipped_config_loads() -> None:
    config = load_config(Path(__file__).parent.parent / "config.toml")
    assert len(config.urls) == 10
    assert all(u.startswith("https://docs.python.org/3/library/") for u in config.urls)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[site]\ntitle = "x"\ncolour = "red"\n[[sources]]\nurls=["http://a.org/"]',
            "unknown key site.colour",
        ),
        ('[[sources]]\nurls = ["file:///etc/passwd"]', "file:///etc/passwd"),
        ("[crawl]\nworkers = 0\n[[sources]]\nurls=['http://a.org/']", "crawl.workers"),
        ("[crawl]\nrobots = 1\n[[sources]]\nurls=['http://a.org/']", "crawl.robots"),
        ("[crawl]\ntimeout = true\n[[sources]]\nurls=['http://a.org/']", "crawl.timeout"),
        ("[site]\ntitle = \n", "invalid TOML"),
        ("[site]\ntitle = 'x'\n", "no URLs"),
        (
            "[[sources]]\nname='a'\nurls=['http://a.org/']\n[[sources]]\nname='a'\nurls=[]",
            "used twice",
        ),
        ("[[sources]]\nurls=['http://a.org/x/', 'http://a.org/x/index.html']", "same local file"),
    ],
)
def test_bad_configs_name_the_file_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_extraction_overrides(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """[[sources]]
name = "plain"
urls = ["https://example.org/a.html"]

[[sources]]
name = "odd"
urls = ["https://example.org/b.html"]
content = "div.page > .text"
drop = ["aside.promo", "#feedback, .rating"]
""",
        )
    )
    plain, odd = config.sources
    assert (plain.content, plain.drop) == (None, ())
    assert (odd.content, odd.drop) == ("div.page > .text", ("aside.promo", "#feedback, .rating"))


@pytest.mark.parametrize(
    ("rule", "key"),
    [
        ('content = "div..text"', "sources[0].content"),
        ('content = ""', "sources[0].content"),
        ('drop = ["aside", "div["]', "sources[0].drop"),
        ('drop = ["p:has("]', "sources[0].drop"),
    ],
)
def test_a_bad_css_selector_names_the_file_and_the_key(tmp_path: Path, rule: str, key: str) -> None:
    path = write(tmp_path, f'[[sources]]\nurls = ["https://example.org/a.html"]\n{rule}\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message and key in message and "invalid CSS selector" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('content = ["div"]', "sources[0].content has the wrong type"),
        ('drop = "aside"', "sources[0].drop has the wrong type"),
        ("drop = [1]", "sources[0].drop must be a list of CSS selector strings"),
    ],
)
def test_extraction_overrides_of_the_wrong_type(tmp_path: Path, rule: str, message: str) -> None:
    path = write(tmp_path, f'[[sources]]\nurls = ["https://example.org/a.html"]\n{rule}\n')
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(path)


def test_the_local_file_check_can_be_left_to_the_build(tmp_path: Path) -> None:
    """`search` and `serve` load a config of thousands of URLs without mapping each to its
    file; the build (the default) refuses two URLs that share one."""
    data = {"sources": [{"urls": ["https://a.org/x/", "https://a.org/x/index.html"]}]}
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError, match="same local file"):
        parse_config(data, path)
    assert len(parse_config(data, path, check_paths=False).urls) == 2
