"""Sending a brand's weekly digest once per ISO week: the job the scheduler and the CLI call.

`digest_log` has one row per brand and week that was mailed (unique), so a re-run,
a restarted scheduler or a second replica finds the row and sends nothing; `force`
sends again and moves the row's time. The row is written after the mail server
accepted the message: a crash in between means the next run mails again rather than
a week without a digest, and because every automatic attempt at a brand's week carries
the same Message-ID, mail systems that drop duplicates show it once. A forced send gets
a new Message-ID: it is meant to arrive.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from alerts.digest.build import brand_id, build_digest
from alerts.digest.errors import DigestError
from alerts.digest.mail import compose_message, deliver, digest_message_id
from alerts.digest.render import RenderedDigest
from alerts.digest.weeks import IsoWeek
from mentionwatch.config import Brand
from mentionwatch.settings import Settings
from store.db import session_scope
from store.models import DigestLog, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DigestResult:
    brand: str
    week: IsoWeek
    # False: it had been sent before (at `sent_at`) and `force` was not given.
    sent: bool
    recipients: tuple[str, ...]
    sent_at: datetime
    digest: RenderedDigest | None = None


def _logged(session: Session, brand_id: int, week: IsoWeek) -> DigestLog | None:
    return session.exec(select(DigestLog).where(DigestLog.brand_id == brand_id, DigestLog.week == str(week))).first()


def send_digest(
    engine: Engine,
    settings: Settings,
    brand: Brand,
    week: IsoWeek,
    *,
    force: bool = False,
    now: datetime | None = None,
) -> DigestResult:
    """Mail the brand's digest for `week` to its digest_recipients, unless already sent.

    Raises DigestError when the brand has no recipients, no mail server is configured,
    or the server fails; nothing is recorded then, so the next run tries again.
    """
    if not brand.digest_recipients:
        raise DigestError(f"brand {brand.name!r} has no digest_recipients in the config")
    with session_scope(engine) as session:
        id_ = brand_id(session, brand)
        earlier = _logged(session, id_, week)
    if earlier is not None and not force:
        # Debug: the service asks every hour.
        log.debug("digest for %s %s was sent at %s; not sending again", brand.name, week, earlier.sent_at)
        return DigestResult(brand.name, week, False, tuple(earlier.recipients.split(", ")), earlier.sent_at)
    digest = build_digest(engine, brand, week, now=now)
    message_id = None if force else digest_message_id(settings.digest_from, brand_id=id_, week=week)
    message = compose_message(
        digest, sender=settings.digest_from, recipients=brand.digest_recipients, message_id=message_id
    )
    deliver(message, settings)
    sent_at = now or utcnow()
    recipients = ", ".join(brand.digest_recipients)
    with session_scope(engine) as session:
        row = _logged(session, id_, week) or DigestLog(brand_id=id_, week=str(week), recipients=recipients)
        row.recipients, row.sent_at = recipients, sent_at
        session.add(row)
    log.info("sent the %s digest for %s to %d recipients", brand.name, week, len(brand.digest_recipients))
    return DigestResult(brand.name, week, True, tuple(brand.digest_recipients), sent_at, digest)


# Monday 07:00 in the brand's time zone: late-Sunday mentions have been crawled and
# scored by then, and the email is waiting when the managers start the week.
SEND_AFTER_WEEK_END = timedelta(hours=7)


def send_weekly_digests(
    engine: Engine,
    settings: Settings,
    brands: Iterable[Brand],
    *,
    now: datetime | None = None,
    after: timedelta = SEND_AFTER_WEEK_END,
) -> list[DigestResult]:
    """The scheduler's job: mail every brand's last complete week once it is `after` old.

    Safe to run as often as you like (the service runs it hourly, so a failed digest is
    retried until it goes out or the next week's is due): weeks already sent are
    skipped. Brands without digest_recipients are left out; one brand's failure is
    logged, left out of the results, and does not keep the others from being sent.
    """
    moment = now or datetime.now(UTC)
    results = []
    for brand in brands:
        if not brand.digest_recipients:
            continue
        week = IsoWeek.last_complete(brand.tz, now=moment - after)
        try:
            results.append(send_digest(engine, settings, brand, week, now=now))
        except DigestError as exc:
            log.error("digest for %s %s not sent: %s", brand.name, week, exc)
    return results
