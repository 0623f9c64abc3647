"""The scoring job: give every mention that needs one a sentiment score.

A mention needs (re)scoring when it has no score, its text changed since (content hash),
or the model name or version changed. The job is an idempotent function of the database:
run it again, or after a crash, and it picks up exactly what is still missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from mentionwatch.settings import Settings
from store.db import session_scope
from store.models import Mention
from store.queries import count_to_score, mentions_to_score, save_score

if TYPE_CHECKING:
    from sentiment import SentimentClassifier


def classifier_from_settings(settings: Settings) -> SentimentClassifier:
    """The classifier the MENTIONWATCH_SENTIMENT_* settings describe."""
    # Imported here: torch and transformers take seconds, and commands that import this
    # module for SCORE_BATCH or score_pending's signature should not pay for them.
    from sentiment import SentimentClassifier

    return SentimentClassifier(
        settings.sentiment_model,
        label_map=settings.sentiment_label_map,
        device=settings.sentiment_device,
        compile=settings.sentiment_compile,
        cache_dir=settings.cache_dir,
    )


def scoring_text(mention: Mention) -> str:
    """What the model reads: the headline too, when the text does not already hold it.

    A review's headline is often its verdict ("Why I stopped using X", "Best app in
    town") while the body only lists facts; reading both fixed errors the body alone made.
    """
    title = (mention.title or "").strip()
    if not title or title in mention.text:
        return mention.text
    return f"{title}\n{mention.text}"


# Mentions per transaction. The classifier pads each length bucket of the texts it is
# given; random mentions taken 64 at a time wasted 44 % of the model's work on padding,
# 512 at a time 7 % (measured on the project's labeled texts in random order).
SCORE_BATCH = 512


def score_pending(
    engine: Engine, classifier: SentimentClassifier, *, batch_size: int = SCORE_BATCH, limit: int | None = None
) -> int:
    """Score up to ``limit`` (default: all) mentions needing it; returns how many were scored.

    Each batch is its own transaction, so an interrupted run keeps what it finished; on
    PostgreSQL each batch's rows stay locked until it commits, and other scorers skip them.
    """
    with session_scope(engine) as session:
        backlog = count_to_score(session, model_name=classifier.name, model_version=classifier.version)
    classifier.expect(backlog if limit is None else min(backlog, limit))
    scored = 0
    while limit is None or scored < limit:
        size = batch_size if limit is None else min(batch_size, limit - scored)
        with session_scope(engine) as session:
            mentions = mentions_to_score(
                session, model_name=classifier.name, model_version=classifier.version, limit=size
            )
            if not mentions:
                break
            predictions = classifier.classify([scoring_text(mention) for mention in mentions])
            for mention, prediction in zip(mentions, predictions, strict=True):
                save_score(
                    session,
                    mention=mention,
                    label=prediction.label,
                    score=prediction.score,
                    probabilities=prediction.probabilities,
                    model_name=classifier.name,
                    model_version=classifier.version,
                )
        scored += len(mentions)
    return scored
