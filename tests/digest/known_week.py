"""A store filled with a week of mentions whose digest numbers are worked out by hand.

The brand is in Europe/Warsaw (UTC+1 in November), and week 2026-W47 runs from Monday
16 November 00:00 to Sunday 22 November 24:00 Warsaw time. Mentions sit on both sides
of the local and UTC week boundaries so that a digest computed in UTC would differ.
Every expected figure is derived in the comments of test_metrics.py from this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from mentionwatch.config import Brand
from store.db import session_scope
from store.models import HandlingState
from store.queries import (
    BrandSpec,
    SourceSpec,
    relabel,
    save_mention,
    save_score,
    set_handling,
    sync_brands_and_sources,
)

WARSAW = ZoneInfo("Europe/Warsaw")
BRAND = Brand(
    name="Acme",
    timezone="Europe/Warsaw",
    digest_recipients=["cx-lead@example.com", "ceo@example.com"],
)


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A moment in November 2026, Warsaw time."""
    return datetime(2026, month, day, hour, minute, tzinfo=WARSAW)


@dataclass(frozen=True)
class Row:
    key: str
    source: str
    when: datetime | None
    label: str | None
    text: str
    title: str | None = None
    language: str = "en"
    rating: tuple[float, float | None, float | None] | None = None  # rating, best, worst
    manual: str | None = None
    fetched: datetime | None = None
    handling: HandlingState | None = None
    answered_after: timedelta | None = None
    prob_positive: float = 0.5


ROWS = [
    # Week 2026-W47 (Warsaw).
    Row(
        "m1",
        "shop",
        local(16, 10),
        "positive",
        "Arrived a day early and the box was perfect. Thank you, Acme!",
        "Great delivery",
        rating=(5, 5, 1),
        prob_positive=0.97,
    ),
    Row("m9", "forum", local(16, 0, 30), None, "Has anyone compared the Acme kettle with the Brand X one?"),
    Row(
        "m2",
        "shop",
        local(17, 9),
        "positive",
        "Solidne wykonanie, polecam.",
        language="pl",
        rating=(4, 5, 1),
        prob_positive=0.88,
    ),
    Row(
        "m12",
        "shop",
        local(17, 15),
        "positive",
        "Lovely product, small scratch on the lid but support sent a new one.",
        rating=(4.5, 5, 1),
        prob_positive=0.91,
    ),
    Row(
        "m3",
        "shop",
        local(18, 9),
        "negative",
        "Zamówienie przyszło uszkodzone, czekam na zwrot pieniędzy.",
        "Uszkodzona paczka",
        language="pl",
        rating=(2, 5, 1),
        handling=HandlingState.responded,
        answered_after=timedelta(hours=2),
    ),
    Row(
        "m4",
        "shop",
        local(19, 8),
        "positive",
        "Przestał działać po tygodniu. Nie polecam.",
        language="pl",
        rating=(1, 5, 1),
        manual="negative",
        handling=HandlingState.responded,
        answered_after=timedelta(hours=6),
    ),
    Row("m5", "appstore", local(19, 12), "neutral", "Does what it says. The app could sync faster.", rating=(8, 10, 0)),
    Row(
        "m11",
        "appstore",
        local(20, 7),
        "positive",
        "Die beste App für mein Zuhause!",
        language="de",
        rating=(10, 10, 1),
        prob_positive=0.99,
    ),
    Row("m6", "forum", local(20, 18), "negative", "Поддержка Acme не отвечает уже три дня.", language="ru"),
    Row(
        "m13",
        "forum",
        local(20, 21),
        "negative",
        "The Acme app logged me out again and lost my settings.",
        handling=HandlingState.responded,
        answered_after=timedelta(minutes=30),
    ),
    Row(
        "m7",
        "forum",
        None,
        "negative",
        "Acme charged me twice for one order.",
        fetched=local(21, 12),
        handling=HandlingState.acknowledged,
    ),
    Row("m14", "forum", local(22, 9), "negative", "Still waiting for my refund from Acme.", handling=HandlingState.new),
    Row("m8", "forum", local(22, 23, 30), "neutral", "Acme opens a store in Gdańsk next month."),
    # After the week in Warsaw, still inside it in UTC (Sunday 23:10 UTC): not counted.
    Row("m10", "forum", local(23, 0, 10), "negative", "Acme lost my parcel."),
    # Week 2026-W46.
    Row("p1", "shop", local(10, 12), "positive", "Perfect.", rating=(5, 5, 1)),
    Row(
        "p2",
        "shop",
        local(12, 12),
        "negative",
        "Broken on arrival.",
        rating=(1, 5, 1),
        handling=HandlingState.responded,
        answered_after=timedelta(hours=10),
    ),
    # Earlier weeks, for the trend: W44 leans positive, W45 negative, W40-W43 empty.
    Row("t1", "forum", local(28, 12, month=10), "positive", "Acme is great."),
    Row("t2", "forum", local(29, 12, month=10), "positive", "Acme is great again."),
    Row("t3", "forum", local(4, 12), "negative", "Acme let me down."),
]


def fill(engine: Engine, rows: list[Row] = ROWS) -> None:
    """Store `rows` for BRAND the way the pipeline would: mentions, scores, handling."""
    with session_scope(engine) as session:
        ids = sync_brands_and_sources(
            session,
            brands=[BrandSpec(BRAND.name, "acme", BRAND.timezone)],
            sources=[
                SourceSpec(name, kind, BRAND.name)
                for name, kind in (("shop", "schemaorg"), ("appstore", "appstore"), ("forum", "discourse"))
            ],
        )
        brand_id = 1
        for row in rows:
            fields: dict[str, object] = {
                "url": f"https://{row.source}.example/{row.key}",
                "canonical_url": f"https://{row.source}.example/{row.key}",
                "text": row.text,
                "title": row.title,
                "language": row.language,
                "published_at": row.when,
                "author": f"author-{row.key}",
            }
            if row.rating:
                fields["rating"], fields["rating_best"], fields["rating_worst"] = row.rating
            _, mention = save_mention(
                session,
                source_id=ids[row.source],
                brand_id=brand_id,
                dedup_key=row.key,
                content_hash=row.key,
                fields=fields,
            )
            if row.fetched:
                mention.fetched_at = row.fetched
                session.add(mention)
            if row.label:
                save_score(
                    session,
                    mention=mention,
                    label=row.label,
                    score=0.9,
                    model_name="test",
                    model_version="1",
                    probabilities={"positive": row.prob_positive, "negative": 1 - row.prob_positive},
                )
            session.flush()
            assert mention.id is not None
            if row.manual:
                relabel(session, mention_id=mention.id, label=row.manual, by="ania")
            if row.handling:
                happened = row.when or row.fetched
                assert happened is not None
                set_handling(
                    session,
                    mention_id=mention.id,
                    state=row.handling,
                    by="ania",
                    at=happened + (row.answered_after or timedelta(hours=1)),
                )
