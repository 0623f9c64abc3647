"""The config file: valid examples load, bad ones get one message naming the key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mentionwatch.commands.setup import example_config
from mentionwatch.config import ConfigError, parse_config

MINIMAL = """
[[brands]]
name = "Acme"
query = "acme"

[[sources]]
name = "acme-feed"
brand = "Acme"
type = "feed"
urls = ["http://127.0.0.1:1/feed.xml"]
interval = "30m"
"""


def test_example_config_is_valid() -> None:
    config = parse_config(example_config())
    assert config.brands[0].name == "Zamówko"
    assert {s.type for s in config.sources} == {"schemaorg", "feed", "reddit"}


def test_defaults_and_derived_values() -> None:
    config = parse_config(MINIMAL)
    source = config.source("acme-feed")
    assert source.interval_delta == timedelta(minutes=30)
    assert source.match_mode == "query"
    assert config.brand("Acme").alerts.min_negative == 0.41
    assert source.recheck_delta == timedelta(days=1)
    off = parse_config(MINIMAL.replace('interval = "30m"', 'interval = "30m"\nrecheck = "off"'))
    assert off.source("acme-feed").recheck_delta is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[brands]\nname=1", "not valid TOML"),
        (MINIMAL.replace('type = "feed"', 'type = "myspace"'), "sources.0.type"),
        (MINIMAL.replace('brand = "Acme"', 'brand = "Acne"'), "sources[0].brand: 'Acne' is not one of the brands"),
        (MINIMAL.replace('interval = "30m"', 'interval = "often"'), "sources.0.interval: interval 'often' must look like"),
        (MINIMAL.replace('interval = "30m"', 'recheck = "never"'), "sources.0.recheck: interval 'never' must look like"),
        (MINIMAL + '\n[[brands]]\nname = "Acme"\n', "brands: the name 'Acme' is used twice"),
        (MINIMAL.replace('query = "acme"', 'query = "acme"\ntimezone = "Mars/Olympus"'), "brands.0.timezone: unknown time zone"),
        (MINIMAL.replace('query = "acme"', 'query = "acme"\nquerry = "x"'), "brands.0.querry: unknown key"),
    ],
)
def test_bad_config_names_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, origin="bad.toml")
    assert str(info.value).startswith("bad.toml: ")
    assert message in str(info.value)
