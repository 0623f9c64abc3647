"""Alerts as Rich panels on the console, where no Slack token is set (the demo uses this).

Rows are still marked sent, so a later run with a token does not post old alerts.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from alerts.delivery import Delivery
from alerts.slack_blocks import TEXT_LIMIT, sentiment_text, stars_text, trim
from alerts.view import Alert, MentionAlert, SpikeAlert
from store.models import AlertOutbox


class ConsoleTransport:
    min_interval = 0.0

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()

    def deliver(self, row: AlertOutbox, alert: Alert, *, thread_ts: str | None) -> Delivery:
        self.console.print(mention_panel(alert) if isinstance(alert, MentionAlert) else spike_panel(alert))
        return Delivery(None)


def mention_panel(alert: MentionAlert) -> Panel:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("Source", f"{alert.source} ({alert.source_type})")
    facts.add_row("Author", alert.author or "unknown")
    facts.add_row("Time", alert.local_time)
    facts.add_row("Rating", stars_text(alert.stars, alert.rating, alert.rating_best))
    facts.add_row("Sentiment", sentiment_text(alert))
    facts.add_row("Language", alert.language or "unknown")
    facts.add_row("Open", alert.url)
    body = Text(trim(alert.text, TEXT_LIMIT))
    if alert.title:
        body = Text.assemble((trim(alert.title, 200) + "\n", "bold"), body)
    parts: list[Table | Text] = [facts, Text(""), body]
    if alert.critical_words:
        parts.append(Text("Critical words: " + ", ".join(alert.critical_words), style="bold red"))
    if alert.reasons:
        parts.append(Text("Why: " + ", ".join(alert.reasons)))
    if alert.thread_note:
        # The console has no threads: say where Slack puts it, and why.
        parts.append(Text(alert.thread_note + " In Slack it is posted as a reply there.", style="italic"))
    subtitle = f"alert #{alert.outbox_id}"
    if alert.thread_parent:
        subtitle += f" · in the thread of alert #{alert.thread_parent}"
    return Panel(
        Group(*parts),
        title=("URGENT: " if alert.urgent else "") + alert.headline,
        subtitle=subtitle,
        border_style="red" if alert.urgent else "yellow",
    )


def spike_panel(alert: SpikeAlert) -> Panel:
    return Panel(
        f"{alert.count} negative mentions in the last {alert.window_minutes} minutes "
        f"(usually {alert.baseline_mean:.1f} an hour). Each follows in this alert's thread.",
        title=f"Spike: {alert.brand}",
        subtitle=f"alert #{alert.outbox_id}",
        border_style="bold red",
    )
