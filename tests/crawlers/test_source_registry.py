"""The registry of source types: every type is checked against the config before a crawl,
and has its docs section and its test."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from crawlers.sources import source_kind, type_names
from mentionwatch.config import parse_config
from tests.crawlers.conftest import make_config

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / "crawling.md", ROOT / "docs" / "crawling-social.md"]
BRAND = '[[brands]]\nname = "Acme"\nquery = "acme"\n'


def _sections() -> dict[str, str]:
    """`### <name>` heading -> the section's text, over both crawling pages."""
    sections: dict[str, str] = {}
    for doc in DOCS:
        parts = re.split(r"^### (\S+)\s*$", doc.read_text(encoding="utf-8"), flags=re.MULTILINE)
        sections.update(zip(parts[1::2], parts[2::2], strict=True))
    return sections


def _problems(**source: Any) -> list[str]:
    """The config check's complaints about one source, as 'location: message'."""
    with pytest.raises(ValidationError) as raised:
        make_config({"name": "s", **source})
    return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in raised.value.errors()]


@pytest.mark.parametrize("name", type_names())
def test_every_type_has_a_docs_section_with_a_valid_example(name: str) -> None:
    section = _sections().get(name)
    assert section is not None, f"docs/crawling*.md has no '### {name}' section"
    example = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert example is not None, f"the {name} section has no config example"
    assert parse_config(BRAND + example.group(1).replace('"Zamówko"', '"Acme"')).sources[0].type == name


@pytest.mark.parametrize("name", type_names())
def test_every_type_has_a_test_that_configures_it(name: str) -> None:
    used = re.compile(rf"""["']type["']:\s*["']{name}["']|make_job\(\s*["']{name}["']|type = "{name}\"""")
    tests = [p for p in (ROOT / "tests" / "crawlers").glob("test_*.py") if p.name != Path(__file__).name]
    assert any(used.search(p.read_text(encoding="utf-8")) for p in tests), f"no crawler test configures a {name} source"


def test_every_type_module_declares_its_kind() -> None:
    for name in type_names():
        kind = source_kind(name)
        assert kind.spider.source_type == name
        assert kind.reads <= {"urls", "search"}


def test_unknown_options_name_the_ones_the_type_takes() -> None:
    assert _problems(type="appstore", options={"app_id": "1", "country": "pl"}) == [
        "sources.0.options.country: extra inputs are not permitted; appstore takes timezone, app_id, countries"
    ]


def test_every_mistake_of_a_source_is_named_at_once() -> None:
    problems = _problems(type="hackernews", urls=["https://news.ycombinator.com/"], options={"token_env": "X", "timezone": "Mars/Base"})
    assert problems == [
        "sources.0.options.timezone: unknown time zone 'Mars/Base' (use an IANA name like 'Europe/Warsaw')",
        "sources.0.options.token_env: extra inputs are not permitted; hackernews takes timezone",
        "sources.0.urls: hackernews does not read urls; it reads search",
    ]


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ({"type": "schemaorg", "urls": ["https://shop.example/"], "search": ["acme"]}, "sources.0.search: schemaorg does not read search; it reads urls"),
        ({"type": "googleplay", "urls": ["https://play.google.com/"], "options": {"app_id": "x"}}, "sources.0.urls: googleplay does not read urls"),
        ({"type": "feed"}, "sources.0: feed needs urls"),
        ({"type": "discourse"}, "sources.0: discourse needs search or urls"),
        ({"type": "feed", "urls": ["ftp://feeds.example/x"]}, "sources.0.urls.0: 'ftp://feeds.example/x' is not an http(s) URL"),
        ({"type": "googleplay"}, "sources.0.options.app_id: field required"),
        ({"type": "appstore"}, "sources.0: appstore needs options.app_id or urls of feed pages"),
        ({"type": "mastodon", "search": ["#acme"]}, "sources.0: mastodon needs base_url, the server to read"),
        ({"type": "youtube", "options": {"token_env": "YT_KEY"}}, "sources.0: youtube needs options.video_ids, video links in urls or options.channel_ids"),
        ({"type": "youtube", "options": {"video_ids": ["x"]}}, "sources.0.options.token_env: field required"),
        ({"type": "bluesky", "search": ["acme"], "options": {"token_env": "eyJhbGciOi.secret"}}, "sources.0.options.token_env: eyJh... is not an environment variable name (like 'VK_TOKEN')"),
        ({"type": "reddit", "search": ["acme"], "options": {"comments": "sometimes"}}, "sources.0.options.comments: input should be a valid boolean, unable to interpret input"),
    ],
)
def test_wrong_use_of_a_type_is_refused(source: dict[str, Any], problem: str) -> None:
    assert _problems(**source) == [problem]


def test_unknown_type_lists_the_known_ones() -> None:
    (problem,) = _problems(type="twitter", urls=["https://x.com/acme"])
    assert problem.startswith("sources.0.type: Value error, unknown source type 'twitter' (one of: appstore, bluesky, ")


def test_owned_types_keep_every_item_by_default() -> None:
    config = make_config(
        {"name": "shop", "type": "schemaorg", "urls": ["https://shop.example/"]},
        {"name": "hn", "type": "hackernews", "search": ["acme"]},
    )
    assert [s.match_mode for s in config.sources] == ["all", "query"]
