"""Running the service and the Slack alerts: `run`, `alerts send`, `alerts list`, `alerts retry`."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mentionwatch.context import AppState, app_state, fail
from mentionwatch.features import feature_notes
from store.db import session_scope

log = logging.getLogger(__name__)
app = typer.Typer()
alerts_app = typer.Typer(
    help="Slack alerts for negative mentions.\n\nExample: mentionwatch alerts list --failed",
    no_args_is_help=True,
)
app.add_typer(alerts_app, name="alerts")
console = Console()


def check_service_setup(state: AppState) -> None:
    """Mirror the config into the store and fail early on a brand whose alerts cannot go out,
    or on a Slack token Slack refuses."""
    # The alerts package (slack_sdk, tenacity) loads only in the commands that send.
    from alerts.outbox import AlertSetupError, check_setup
    from alerts.slack_client import check_token

    state.sync_config()
    try:
        check_setup(state.config, state.settings)
        identity = check_token(state.settings)
    except AlertSetupError as exc:
        fail(str(exc))
    if identity:
        log.info("posting alerts to Slack as %s", identity)


@app.command("run")
def run(ctx: typer.Context) -> None:
    """Run the service: crawl each source at its interval, score, alert, mail weekly digests.

    Runs until SIGTERM or Ctrl-C, then stops cleanly. Without MENTIONWATCH_SLACK_TOKEN
    alerts are printed here instead of posted.

    Example: mentionwatch --config mentionwatch.toml run
    """
    # The service's jobs crawl (Scrapy), score (torch) and build digests (matplotlib).
    from mentionwatch.service import Service, service_jobs

    state = app_state(ctx)
    check_service_setup(state)
    for note in feature_notes(state.config, state.settings):
        log.info(note)
    stop = threading.Event()
    Service(service_jobs(state.engine, state.settings, state.config, stop), stop=stop).run_until_stopped()


@alerts_app.command("send")
def send(
    ctx: typer.Context,
    reclaim_after: Annotated[
        int | None,
        typer.Option(
            help="Seconds without a heartbeat after which another sender's claimed alert is taken over "
            "(and looked up in Slack before it is posted). 0 takes every claim at once: only when no other "
            "sender is running. Default: the sender's (20 s).",
            min=0,
        ),
    ] = None,
) -> None:
    """Queue the negative mentions that qualify and send every due alert, once.

    Exits with status 1 when some alerts failed for good (see `alerts list --failed`).

    Example: mentionwatch alerts send
    """
    from alerts.sender import SendPolicy, send_alerts

    state = app_state(ctx)
    check_service_setup(state)
    policy = SendPolicy() if reclaim_after is None else SendPolicy(reclaim_after=timedelta(seconds=reclaim_after))
    stats = send_alerts(state.engine, state.settings, state.config, policy=policy)
    console.print(
        f"queued {stats.enqueued}, sent {stats.sent} ({stats.recovered} found already posted), "
        f"failed {stats.failed}, to retry {stats.retrying}"
    )
    if stats.held:
        console.print(f"{stats.held} older mentions stored without an alert (said before the brand's max_age)")
    if stats.failed:
        for error in stats.errors:
            console.print(f"[red]{error}[/]", highlight=False)
        raise typer.Exit(1)


@alerts_app.command("list")
def list_alerts(
    ctx: typer.Context,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only alerts that failed for good, with the reason.")
    ] = False,
    limit: Annotated[int, typer.Option(help="How many, newest first.", min=1)] = 50,
) -> None:
    """List queued and sent alerts, newest first; --failed shows why some were not sent.

    Example: mentionwatch alerts list --failed
    """
    from alerts.outbox import list_rows

    state = app_state(ctx)
    with session_scope(state.engine) as session:
        rows = list_rows(session, failed_only=failed, limit=limit)
    table = Table(title="failed alerts" if failed else "alerts")
    for column in ("id", "brand", "channel", "kind", "mention", "status", "tries", "queued", "sent", "error"):
        table.add_column(column, overflow="fold")
    for row, brand in rows:
        table.add_row(
            str(row.id),
            brand,
            row.channel,
            row.kind + (" (urgent)" if row.urgent else ""),
            str(row.mention_id or ""),
            row.status,
            str(row.attempts),
            f"{row.created_at:%Y-%m-%d %H:%M}",
            f"{row.sent_at:%Y-%m-%d %H:%M}" if row.sent_at else "",
            row.last_error or "",
        )
    console.print(table if rows else ("No failed alerts." if failed else "No alerts yet."))


@alerts_app.command("retry")
def retry(
    ctx: typer.Context,
    ids: Annotated[list[int] | None, typer.Argument(help="Alert ids (default: every failed alert).")] = None,
) -> None:
    """Queue failed alerts again once their cause (channel, token, scopes) is fixed.

    Example: mentionwatch alerts retry 12 13
    """
    from alerts.outbox import requeue_failed

    count = requeue_failed(app_state(ctx).engine, ids=ids)
    console.print(f"{count} failed alerts queued again; `mentionwatch alerts send` sends them.")
