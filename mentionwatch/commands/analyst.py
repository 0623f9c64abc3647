"""Analyst access: read-only SQL, the HTTP API and its tokens."""

from __future__ import annotations

from itertools import islice
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mentionwatch.api.tokens import Scope, create_token, list_tokens, revoke_token
from mentionwatch.commands.output import OutputFormat, write_rows
from mentionwatch.context import app_state, err_console, fail
from store.db import StoreUnavailable, normalize_url, session_scope

app = typer.Typer()
token_app = typer.Typer(
    help="Manage bearer tokens for the HTTP API.\n\nExample: mentionwatch api-token create --name looker --scope read",
    no_args_is_help=True,
)
app.add_typer(token_app, name="api-token")
console = Console()
TABLE_ROWS = 1000  # a Rich table is built in memory; machine formats stream every row


@app.command("sql")
def sql(
    ctx: typer.Context,
    statement: Annotated[str, typer.Argument(metavar="SQL", help="One SELECT (or WITH, VALUES) statement.")],
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, csv, jsonl or json.")] = (
        OutputFormat.table
    ),
    timeout: Annotated[
        float, typer.Option(min=0.1, max=86400, help="Stop the query after this many seconds.")
    ] = 30.0,
    limit: Annotated[
        int | None,
        typer.Option(min=1, help=f"Print at most this many rows (default: {TABLE_ROWS} for the table, all otherwise)."),
    ] = None,
) -> None:
    """Run a read-only SQL query on the store, within a time limit; the database itself refuses writes.

    Start from mention_view (one row per mention with brand, source, sentiment and handling).
    $MENTIONWATCH_SQL_DATABASE_URL points it at another database URL, such as a read-only role.

    Example: mentionwatch sql "SELECT brand, sentiment, count(*) FROM mention_view GROUP BY 1, 2" --format csv
    """
    from store.sql import ReadOnlySQLError, read_only_query  # psycopg: only for this command

    settings = app_state(ctx).settings
    # Not app_state(ctx).engine: that would open the store read-write and migrate it.
    variable, url = (
        ("MENTIONWATCH_SQL_DATABASE_URL", settings.sql_database_url)
        if settings.sql_database_url
        else ("MENTIONWATCH_DATABASE_URL", settings.database_url)
    )
    shown = limit if limit is not None else TABLE_ROWS if format is OutputFormat.table else None
    try:
        normalize_url(url)  # a URL that cannot be used is refused before connecting
        with read_only_query(url, statement, timeout=timeout) as result:
            write_rows(result.columns, islice(result.rows, shown), format)
            more = shown is not None and next(result.rows, None) is not None
    except StoreUnavailable as exc:
        fail(f"{variable}: {exc}")
    except ReadOnlySQLError as exc:
        fail(str(exc))
    if more:
        err_console.print(f"Showing the first {shown} rows; --limit N or --format csv for more.", highlight=False)


@app.command("api")
def api(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 for every one).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs); clients need a token from `api-token create`.

    Example: mentionwatch api --host 0.0.0.0 --port 8000
    """
    import uvicorn  # imported here: every other command starts faster without it

    from mentionwatch.api import create_app

    state = app_state(ctx)
    uvicorn.run(create_app(state.engine, state.settings), host=host, port=port, log_level="info")


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="Who or what uses the token, e.g. 'looker' or 'ola'.")],
    scope: Annotated[Scope, typer.Option(help="read: GET only; write: also handle and relabel.")] = Scope.read,
) -> None:
    """Create a token and print it once; only its hash is stored.

    Example: mentionwatch api-token create --name community-bot --scope write
    """
    with session_scope(app_state(ctx).engine) as session:
        try:
            secret = create_token(session, name=name, scope=scope)
        except ValueError as exc:
            fail(str(exc))
    typer.echo(secret)
    Console(stderr=True).print(f"Token '{name}' ({scope.value}). It is shown only now: store it in a secret manager.")


@token_app.command("list")
def token_list(ctx: typer.Context) -> None:
    """List tokens: name, scope, created and last used (never the secrets).

    Example: mentionwatch api-token list
    """
    table = Table("name", "scope", "created", "last used")
    with session_scope(app_state(ctx).engine) as session:
        for token in list_tokens(session):
            last = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never"
            table.add_row(token.name, token.scope, token.created_at.isoformat(timespec="seconds"), last)
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The token's name.")],
) -> None:
    """Delete the tokens with this name; clients using them get 401 from now on.

    Example: mentionwatch api-token revoke looker
    """
    with session_scope(app_state(ctx).engine) as session:
        count = revoke_token(session, name=name)
    if not count:
        fail(f"no token named {name!r}")
    console.print(f"Revoked {count} token(s) named '{name}'.")
