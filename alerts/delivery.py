"""The one interface behind which alerts are shown: Slack, or the console without a token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from alerts.view import Alert
from store.models import AlertOutbox


class PermanentSendError(Exception):
    """Sending cannot work until a person fixes something (channel, token, scopes)."""


class TransientSendError(Exception):
    """Sending failed for now (Slack down, timeouts, rate limits); a later try may work."""


@dataclass(frozen=True)
class Delivery:
    """Where the message is: Slack's `ts` (None on the console); `recovered` when it was
    found already posted by an earlier attempt instead of being posted now."""

    ts: str | None
    recovered: bool = False


class Transport(Protocol):
    # Seconds to leave between two messages to one channel (Slack allows about one a second).
    min_interval: float

    def deliver(self, row: AlertOutbox, alert: Alert, *, thread_ts: str | None) -> Delivery:
        """Show the alert once, or raise PermanentSendError / TransientSendError.

        `row.attempts` > 0 says an earlier attempt may have posted it already.
        """
        ...
