"""A small store of real-looking mentions in Polish, Russian and English for analyst tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from store.db import session_scope
from store.models import HandlingState
from store.queries import BrandSpec, SourceSpec, relabel, save_mention, save_score, set_handling, sync_brands_and_sources

OCT = datetime(2026, 10, 14, 9, 30, tzinfo=UTC)
NOV = datetime(2026, 11, 3, 18, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Sample:
    key: str
    source: str
    text: str
    title: str | None = None
    language: str | None = "pl"
    rating: float | None = None
    best: float | None = None
    worst: float | None = None
    published: datetime | None = NOV
    label: str | None = None


SAMPLES = [
    Sample("pl-ok", "shop", "Zamówienie dotarło na czas, kurier bardzo miły.", "Polecam", rating=5, best=5, worst=1,
           label="positive"),
    Sample("pl-late", "shop", "Dostawa spóźniona o tydzień, kurier nie odbierał telefonu. Łódź, Piotrkowska.",
           rating=1, best=5, worst=1, label="negative"),
    Sample("pl-job", "forum", "Szukamy kurierów do Zamówko, praca od zaraz.", "Praca w Zamówko", label="neutral"),
    Sample("ru-late", "forum", "Доставку задержали на три дня, курьер опоздал.", language="ru", rating=4, best=10,
           worst=0, published=OCT, label="negative"),
    Sample("ru-ok", "forum", "Ёлку привезли вовремя, спасибо за быструю доставку!", language="ru", published=OCT,
           label="positive"),
    Sample("en-mixed", "shop", "Best café-style packaging; e-mail support was fast.", language="en", rating=4,
           label="positive"),
    Sample("en-late", "shop", "Delivery on time? Not really — late again.", language="en", rating=2, best=5,
           worst=1, published=None, label="negative"),
    Sample("acme-1", "acme-feed", "Acme kurier zgubił paczkę", label="negative"),
]


def fill_sample_store(engine: Engine) -> dict[str, int]:
    """Store SAMPLES with scores, a manual relabel and handling states; key -> mention id."""
    ids: dict[str, int] = {}
    with session_scope(engine) as session:
        sources = sync_brands_and_sources(
            session,
            brands=[BrandSpec("Zamówko", "zamówko", "Europe/Warsaw"), BrandSpec("Acme")],
            sources=[
                SourceSpec("shop", "schemaorg", "Zamówko"),
                SourceSpec("forum", "phpbb", "Zamówko"),
                SourceSpec("acme-feed", "feed", "Acme"),
            ],
        )
        brand_of = {"shop": 1, "forum": 1, "acme-feed": 2}
        for sample in SAMPLES:
            fields: dict[str, Any] = {
                "url": f"https://example.test/{sample.key}",
                "canonical_url": f"https://example.test/{sample.key}",
                "title": sample.title,
                "text": sample.text,
                "language": sample.language,
                "rating": sample.rating,
                "rating_best": sample.best,
                "rating_worst": sample.worst,
                "published_at": sample.published,
                "author": "Ania",
            }
            _, mention = save_mention(
                session, source_id=sources[sample.source], brand_id=brand_of[sample.source], dedup_key=sample.key,
                content_hash=sample.key, fields=fields,
            )
            assert mention.id is not None
            ids[sample.key] = mention.id
            # Seen right when published, so that response times are fixed numbers.
            mention.fetched_at = sample.published or NOV
            session.add(mention)
            if sample.label:
                probabilities = {sample.label: 0.9}
                save_score(session, mention=mention, label=sample.label, score=0.9, probabilities=probabilities,
                           model_name="test-model", model_version="1")
        session.flush()
        relabel(session, mention_id=ids["en-mixed"], label="neutral", by="ola")
        set_handling(session, mention_id=ids["pl-late"], state=HandlingState.acknowledged, by="ola",
                     at=datetime(2026, 11, 3, 19, 0, tzinfo=UTC))
        set_handling(session, mention_id=ids["pl-job"], state=HandlingState.ignored, by="ola")
        set_handling(session, mention_id=ids["ru-late"], state=HandlingState.responded, by="ivan",
                     response_url="https://forum.example/t/1#p2", at=datetime(2026, 10, 14, 12, 0, tzinfo=UTC))
    return ids
