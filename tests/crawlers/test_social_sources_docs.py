"""The config examples in docs/crawling-social.md are valid and ask for what the text says."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawlers.job import SourceJob
from mentionwatch.config import parse_config
from tests.crawlers.conftest import make_spider

DOC = Path(__file__).resolve().parents[2] / "docs" / "crawling-social.md"
BRAND = '[[brands]]\nname = "Acme"\nquery = "acme"\n'

# type -> the path of its first request, as the section says.
FIRST_PATHS = {
    "reddit": "/r/acme/new.json",
    "hackernews": "/api/v1/search_by_date",
    "mastodon": "/api/v1/timelines/tag/acme",
    "bluesky": "/xrpc/app.bsky.feed.searchPosts",
    "stackexchange": "/2.3/search/advanced",
    "googleplay": "/_/PlayStoreUi/data/batchexecute",
    "youtube": "/youtube/v3/commentThreads",
    "telegram": "/s/acme_news",
    "vk": "/method/newsfeed.search",
}


def _examples() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_every_type_has_an_example() -> None:
    types = {parse_config(BRAND + block).sources[0].type for block in _examples()}
    assert types == set(FIRST_PATHS)


@pytest.mark.parametrize("block", _examples(), ids=lambda block: re.search(r'type = "(\w+)"', block).group(1))  # type: ignore[union-attr]
def test_example_builds_its_requests(block: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", "token")
    monkeypatch.setenv("YOUTUBE_API_KEY", "AIza-example")
    monkeypatch.setenv("VK_TOKEN", "vk1.a.example")
    config = parse_config(BRAND + block)
    source = config.sources[0]
    spider = make_spider(SourceJob(source=source, brand=config.brands[0], source_id=1, brand_id=1))
    requests = list(spider.first_requests())
    assert requests
    assert urlsplit(requests[0].url).path == FIRST_PATHS[source.type]
    assert all("AIza-example" not in request.url and "vk1.a.example" not in request.url for request in requests)
