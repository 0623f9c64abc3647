"""Getting started: writing a config file and preparing the store."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mentionwatch.context import app_state, fail, report_error
from mentionwatch.features import feature_notes

app = typer.Typer()
db_app = typer.Typer(help="Manage the mention store.\n\nExample: mentionwatch db upgrade", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()


def example_config() -> str:
    return files("mentionwatch").joinpath("example_config.toml").read_text(encoding="utf-8")


@app.command()
def init(
    ctx: typer.Context,
    path: Annotated[Path | None, typer.Argument(help="Where to write it (default: the --config path).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example config file to start from.

    Example: mentionwatch init mentionwatch.toml
    """
    target = path or app_state(ctx).config_path
    if target.exists() and not force:
        fail(f"{target} exists; pass --force to overwrite it")
    target.write_text(example_config(), encoding="utf-8")
    console.print(f"Wrote {target}. Edit the brands and sources, then run: mentionwatch --config {target} crawl")


@app.command()
def check(ctx: typer.Context) -> None:
    """Validate the config file, the settings and the store; list the brands and sources.

    Reports, one line each and with exit status 2, whatever `crawl`, `alerts send` and
    `digest` would refuse later: a brand query that cannot be read, a source that lacks
    URLs, options or API keys, an alert without a channel, a Slack token Slack refuses,
    a database that cannot be opened. Fetches nothing but Slack's token check.

    Example: mentionwatch --config mentionwatch.toml check
    """
    # Scrapy and slack_sdk: only this command and those that crawl or send need them.
    from alerts.outbox import AlertSetupError, check_setup
    from alerts.slack_client import check_token
    from crawlers.preflight import source_problems

    state = app_state(ctx)
    config = state.config
    engine = state.engine  # opening the store reports an unusable MENTIONWATCH_DATABASE_URL
    problems = [f"{state.config_path}: {problem}" for problem in source_problems(config)]
    try:
        check_setup(config, state.settings)
    except AlertSetupError as exc:
        problems.append(f"{state.config_path}: {exc}")
    try:
        check_token(state.settings)
    except AlertSetupError as exc:  # the token is a setting, not part of the config file
        problems.append(str(exc))
    table = Table(
        title=f"{state.config_path}: {len(config.brands)} brands, {len(config.sources)} sources",
        caption=f"store: {engine.url.render_as_string(hide_password=True)}",
    )
    for column in ("source", "brand", "type", "every", "keeps", "targets"):
        table.add_column(column)
    for source in config.sources:
        targets = ", ".join(source.urls + [f"search: {term}" for term in source.search])
        table.add_row(source.name, source.brand, source.type, source.interval, source.match_mode, targets)
    console.print(table)
    for note in feature_notes(config, state.settings):
        console.print(note, highlight=False)
    if problems:
        for problem in problems:
            report_error(problem)
        raise typer.Exit(2)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply schema migrations to the database in $MENTIONWATCH_DATABASE_URL.

    Example: MENTIONWATCH_DATABASE_URL=postgresql://mw@localhost/mw mentionwatch db upgrade
    """
    engine = app_state(ctx).engine
    console.print(f"Schema is up to date on {engine.url.render_as_string(hide_password=True)}")
