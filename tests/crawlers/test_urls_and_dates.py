"""URL clean-up and time parsing: the parts of normalization that decide identity and order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crawlers.dates import parse_time
from crawlers.urls import canonical_url, strip_params, unwrap_redirect

WARSAW = ZoneInfo("Europe/Warsaw")
MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize(
    ("wrapped", "target"),
    [
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://news.example.com/a/&ct=ga&usg=AFQ",
            "https://news.example.com/a/",
        ),
        ("https://www.google.pl/url?q=https://blog.example.org/x%3Fa%3D1&sa=U", "https://blog.example.org/x?a=1"),
        ("https://l.facebook.com/l.php?u=https%3A%2F%2Fshop.example%2Fp%2F1&h=AT0", "https://shop.example/p/1"),
        ("https://vk.com/away.php?to=https%3A%2F%2Fshop.example%2F", "https://shop.example/"),
        ("https://www.google.com/search?q=zamowko", "https://www.google.com/search?q=zamowko"),
        ("https://www.google.com/url?url=javascript:alert(1)", "https://www.google.com/url?url=javascript:alert(1)"),
    ],
)
def test_unwrap_redirect(wrapped: str, target: str) -> None:
    assert unwrap_redirect(wrapped) == target


def test_canonical_url_drops_tracking_sorts_query_keeps_fragment() -> None:
    url = "https://Shop.Example/p/1?utm_source=x&b=2&fbclid=F&a=1&gclid=G&UTM_Campaign=c#review-3"
    assert canonical_url(url) == "https://shop.example/p/1?a=1&b=2#review-3"
    assert canonical_url("https://www.google.com/url?url=https://a.example/x?utm_medium=rss") == "https://a.example/x"


def test_strip_params_removes_only_the_named_ones() -> None:
    assert strip_params("https://f.example/viewtopic.php?p=4&sid=abc#p4", {"sid"}) == "https://f.example/viewtopic.php?p=4#p4"


@pytest.mark.parametrize(
    ("text", "languages", "zone", "expected"),
    [
        ("2026-11-20T14:05:00+01:00", [], WARSAW, datetime(2026, 11, 20, 13, 5, tzinfo=UTC)),
        ("2026-11-20T13:05:00Z", [], WARSAW, datetime(2026, 11, 20, 13, 5, tzinfo=UTC)),
        ("2026-11-20", [], WARSAW, datetime(2026, 11, 19, 23, 0, tzinfo=UTC)),
        ("Sat, 21 Nov 2026 08:30:00 +0100", [], UTC, datetime(2026, 11, 21, 7, 30, tzinfo=UTC)),
        ("Pon 20 lis 2026, 14:05", ["pl"], WARSAW, datetime(2026, 11, 20, 13, 5, tzinfo=UTC)),
        ("Пн 16 ноя 2026, 18:20", ["ru"], MOSCOW, datetime(2026, 11, 16, 15, 20, tzinfo=UTC)),
        ("21.01.2009, 05:42", ["de"], UTC, datetime(2009, 1, 21, 5, 42, tzinfo=UTC)),
    ],
)
def test_parse_time(text: str, languages: list[str], zone: ZoneInfo, expected: datetime) -> None:
    assert parse_time(text, zone=zone, languages=languages) == expected


def test_relative_forum_dates_are_read_in_the_source_zone() -> None:
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
    assert parse_time("вчера, 12:30", zone=MOSCOW, languages=["ru"], now=now) == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert parse_time("wczoraj, 12:30", zone=WARSAW, languages=["pl"], now=now) == datetime(2026, 11, 24, 11, 30, tzinfo=UTC)


def test_naive_and_unreadable_times() -> None:
    naive = datetime(2026, 7, 1, 12, 0)
    assert parse_time(naive, zone=WARSAW) == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert parse_time("not a date at all", zone=UTC, languages=["en"]) is None
    assert parse_time("   ", zone=UTC) is None
    assert parse_time(None, zone=UTC) is None
    aware = parse_time("2026-11-20T14:05:00+01:00", zone=UTC)
    assert aware is not None and aware.utcoffset() == timedelta(0)
