"""Which optional parts are off for this process, and why, in words for `check` and `run`.

Without a Slack token alerts print to the console, and without a mail server no digest
is mailed. Both are fine choices (a laptop, a first try), so they are no errors; but a
service that silently runs without them looks broken, so `run` and `check` say so.
"""

from __future__ import annotations

from mentionwatch.config import Config
from mentionwatch.settings import Settings


def feature_notes(config: Config, settings: Settings) -> list[str]:
    """One sentence per part that is off, naming what turns it on."""
    notes = []
    if settings.slack_token is None and any(brand.alerts.enabled for brand in config.brands):
        notes.append("Alerts print to the console: set MENTIONWATCH_SLACK_TOKEN to post them to Slack.")
    mailed = [brand.name for brand in config.brands if brand.digest_recipients]
    if not mailed:
        notes.append("Weekly digests are off: no brand has digest_recipients in the config.")
    elif not settings.smtp_host:
        notes.append(
            "Weekly digests are off: set MENTIONWATCH_SMTP_HOST to mail them (brands with digest_recipients: "
            f"{', '.join(mailed)}); `digest --send` refuses until then."
        )
    return notes
