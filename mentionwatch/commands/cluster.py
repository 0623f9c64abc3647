"""Running on several machines: `worker` takes jobs from PostgreSQL, `status` shows the cluster."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mentionwatch.commands.alerts import check_service_setup
from mentionwatch.commands.output import plain
from mentionwatch.context import app_state, fail

app = typer.Typer()
console = Console()


def _queues(value: str) -> list[str]:
    from mentionwatch.cluster.app import QUEUES

    queues = [q.strip() for q in value.split(",") if q.strip()]
    unknown = sorted(set(queues) - set(QUEUES))
    if unknown or not queues:
        raise typer.BadParameter(f"{', '.join(unknown) or 'none given'}: choose from {','.join(QUEUES)}")
    return queues


def _crawl_settings(values: list[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for item in values:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{item!r}: write NAME=VALUE, e.g. DOWNLOAD_TIMEOUT=10")
        try:
            settings[name] = json.loads(raw)
        except json.JSONDecodeError:
            settings[name] = raw
    return settings


@app.command()
def worker(
    ctx: typer.Context,
    concurrency: Annotated[int, typer.Option(help="Jobs this worker runs at once.", min=1)] = 4,
    queues: Annotated[
        str, typer.Option(help="Kinds of work to take, comma-separated: crawl,score,alert,digest.")
    ] = "crawl,score,alert,digest",
    per_host: Annotated[
        int | None,
        typer.Option(
            help="Crawls at a time per host across all workers (default: crawlers' CONCURRENT_REQUESTS_PER_DOMAIN). "
            "Give every worker the same value.",
            min=1,
        ),
    ] = None,
    crawl_setting: Annotated[
        list[str],
        typer.Option("--crawl-setting", help="A Scrapy setting NAME=VALUE for every crawl (repeatable)."),
    ] = [],  # noqa: B006 (typer reads the default; it is never mutated)
) -> None:
    """Take crawl, scoring, alert and digest jobs from PostgreSQL until SIGTERM or Ctrl-C.

    Start any number, on any number of machines, with the same MENTIONWATCH_DATABASE_URL
    and config; each due source is crawled once, each alert posted once. See docs/scaling.md.

    Example: mentionwatch --config mentionwatch.toml worker --concurrency 8 --queues crawl,score
    """
    from crawlers import settings as crawl_defaults
    from mentionwatch.cluster.app import NeedsPostgres, conninfo
    from mentionwatch.cluster.deps import WorkerDeps
    from mentionwatch.cluster.host_slots import HostSlots
    from mentionwatch.cluster.workers import run_worker, startup_lock

    state = app_state(ctx)
    chosen = _queues(queues)
    overrides = _crawl_settings(crawl_setting)
    try:
        conninfo(state.settings.database_url)
    except NeedsPostgres as exc:
        fail(str(exc))
    with startup_lock(state.settings.database_url):
        check_service_setup(state)
    deps = WorkerDeps(
        engine=state.engine,
        settings=state.settings,
        config=state.config,
        host_slots=HostSlots(state.engine, per_host or crawl_defaults.CONCURRENT_REQUESTS_PER_DOMAIN),
        crawl_overrides=overrides,
    )
    run_worker(deps, queues=chosen, concurrency=concurrency)


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of tables.")] = False,
) -> None:
    """Show the workers (host, pid, last seen), queue depths, each source's last crawl and failures.

    Example: mentionwatch status --json
    """
    from mentionwatch.cluster.app import NeedsPostgres, conninfo
    from mentionwatch.cluster.status import cluster_status
    from store.models import utcnow

    state = app_state(ctx)
    try:
        conninfo(state.settings.database_url)
    except NeedsPostgres as exc:
        fail(str(exc))
    report = cluster_status(state.engine, now=utcnow())
    if as_json:
        print(json.dumps(report.to_json(), default=plain, ensure_ascii=False))
        return
    sections: list[tuple[str, list[Any]]] = [
        (f"workers ({sum(w.alive for w in report.workers)} alive)", report.workers),
        ("queues", report.queues),
        ("sources", report.sources),
        ("recent failures", report.failures),
    ]
    for title, rows in sections:
        table = Table(title=title, title_justify="left")
        if not rows:
            console.print(f"{title}: none")
            continue
        names = list(rows[0].__dataclass_fields__)
        for name in names:
            table.add_column(name.replace("_", " "))
        for row in rows:
            table.add_row(*(_cell(getattr(row, name)) for name in names))
        console.print(table)


def _cell(value: Any) -> str:
    value = plain(value)
    if value is None:
        return "-"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
