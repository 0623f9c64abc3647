"""Reading and acting on stored mentions: export, search, relabel, handle."""

from __future__ import annotations

import csv
import getpass
import json
import sys
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from mentionwatch.api.schemas import HandleIn
from mentionwatch.commands.output import OutputFormat, write_rows
from mentionwatch.context import app_state, err_console, fail
from store.boolean_query import QuerySyntaxError, parse_query
from store.db import session_scope
from store.mention_view import mention_view
from store.models import HandlingState
from store.queries import export_rows, relabel, set_handling
from store.search import FilterError, MentionFilter, check_filter, get_mention, search_mentions

mentions_app = typer.Typer(
    help="Search, export and act on stored mentions.\n\nExample: mentionwatch mentions export --format jsonl",
    no_args_is_help=True,
)
app = typer.Typer()
app.add_typer(mentions_app, name="mentions")


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


@mentions_app.command("export")
def export(
    ctx: typer.Context,
    format: Annotated[ExportFormat, typer.Option("--format", "-f", help="jsonl or csv.")] = ExportFormat.jsonl,
    brand: Annotated[str | None, typer.Option(help="Only this brand's mentions.")] = None,
) -> None:
    """Print every stored mention, streamed, one per line (JSON Lines) or as CSV.

    Example: mentionwatch mentions export --format jsonl > mentions.jsonl
    """
    state = app_state(ctx)
    with session_scope(state.engine) as session:
        rows = export_rows(session, brand=brand)
        if format is ExportFormat.jsonl:
            for row in rows:
                sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
            return
        writer: csv.DictWriter[str] | None = None
        for row in rows:
            if writer is None:
                writer = csv.DictWriter(sys.stdout, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(row)


class Label(StrEnum):
    negative = "negative"
    neutral = "neutral"
    positive = "positive"


def query_error(query: str, exc: QuerySyntaxError) -> str:
    """The error with the query and a caret under the column it names."""
    return f"bad query: {exc}\n  {query}\n  {' ' * (exc.column - 1)}^"


def _day(value: datetime | None, *, days: int = 0) -> datetime | None:
    # Dates on the command line are whole UTC days; --until includes its day.
    return None if value is None else value.replace(tzinfo=UTC) + timedelta(days=days)


_TABLE_COLUMNS = ("id", "happened_at", "brand", "source", "language", "sentiment", "rating_5", "handled", "text")
_TABLE_LIMIT = 50


def _table_row(row: dict[str, Any]) -> list[Any]:
    text = " ".join(filter(None, (row["title"], row["text"])))
    happened = row["happened_at"]
    stars = row["rating_5"]
    values = {
        **row,
        "happened_at": happened.strftime("%Y-%m-%d %H:%M") if happened else None,
        "rating_5": f"{stars:.1f}" if stars is not None else None,
        "text": text if len(text) <= 120 else text[:119] + "…",
    }
    return [values[c] for c in _TABLE_COLUMNS]


@mentions_app.command("search")
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Brand query (see the README, Query language); '' for filters only.")] = "",
    brand: Annotated[str | None, typer.Option(help="Only this brand.")] = None,
    source: Annotated[str | None, typer.Option(help="Only this source (its name in the config).")] = None,
    language: Annotated[str | None, typer.Option(help="Language code, e.g. pl, ru, en.")] = None,
    sentiment: Annotated[Label | None, typer.Option(help="Effective label: a manual relabel wins.")] = None,
    rating_min: Annotated[float | None, typer.Option(min=1, max=5, help="Lowest rating, on 1-5.")] = None,
    rating_max: Annotated[float | None, typer.Option(min=1, max=5, help="Highest rating, on 1-5.")] = None,
    since: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="From this UTC day on.")] = None,
    until: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Up to this UTC day, included.")] = None,
    state: Annotated[HandlingState | None, typer.Option(help="Handling state.")] = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, csv, jsonl or json.")] = (
        OutputFormat.table
    ),
    limit: Annotated[int | None, typer.Option(min=1, help=f"At most this many (table default {_TABLE_LIMIT}).")] = None,
) -> None:
    """Find stored mentions with the brand query language and filters, newest first.

    Example: mentionwatch mentions search 'доставк* -"на время"' --language ru --since 2026-10-01 --until 2026-10-31
    """
    try:
        parsed = parse_query(query) if query.strip() else None
    except QuerySyntaxError as exc:
        fail(query_error(query, exc))
    filters = MentionFilter(
        query=parsed, brand=brand, source=source, language=language, sentiment=sentiment,
        rating_min=rating_min, rating_max=rating_max, since=_day(since), until=_day(until, days=1), state=state,
    )
    state_ = app_state(ctx)
    with session_scope(state_.engine) as session:
        try:
            check_filter(session, filters)
        except FilterError as exc:
            fail(str(exc))
        if format is OutputFormat.table:
            shown = limit or _TABLE_LIMIT
            rows = list(search_mentions(session, filters=filters, limit=shown + 1))
            write_rows(_TABLE_COLUMNS, (_table_row(r) for r in rows[:shown]), format)
            if len(rows) > shown:
                err_console.print(f"Showing the newest {shown}; use --limit, or --format csv|jsonl|json for all.")
            return
        columns = [c.name for c in mention_view.columns]
        matches = search_mentions(session, filters=filters, limit=limit)
        write_rows(columns, ([r[c] for c in columns] for r in matches), format)


def _show(ctx: typer.Context, mention_id: int) -> None:
    with session_scope(app_state(ctx).engine) as session:
        row = get_mention(session, mention_id=mention_id)
    assert row is not None
    first = row["first_response_at"]
    typer.echo(
        f"mention {mention_id}: {row['handled']} by {row['handled_by'] or '-'}"
        f"{f', first answered {first.isoformat()}' if first else ''}; sentiment {row['sentiment'] or '-'}"
    )


@mentions_app.command("handle")
def handle(
    ctx: typer.Context,
    mention_id: Annotated[int, typer.Argument(metavar="ID", help="The mention's id (see `mentions search`).")],
    responded: Annotated[str | None, typer.Option(metavar="URL", help="Answered in public, at this URL.")] = None,
    acknowledged: Annotated[bool, typer.Option("--acknowledged", help="Seen; someone is on it.")] = False,
    ignored: Annotated[bool, typer.Option("--ignored", help="Needs no answer.")] = False,
    by: Annotated[str | None, typer.Option(help="Who (default: your login name).")] = None,
) -> None:
    """Record where the team is with a mention: acknowledged, responded (with the answer's URL) or ignored.

    Example: mentionwatch mentions handle 4211 --responded https://forum.example/t/88#p3 --by ola
    """
    given = {HandlingState.responded: responded is not None, HandlingState.acknowledged: acknowledged,
             HandlingState.ignored: ignored}
    chosen = [state for state, on in given.items() if on]
    if len(chosen) != 1:
        fail("give exactly one of --responded URL, --acknowledged, --ignored")
    try:
        # The API's own model: the command line and POST /mentions/{id}/handle accept the same.
        change = HandleIn(state=chosen[0].value, response_url=responded)
    except ValidationError:
        fail(f"--responded needs the http(s) URL of the public answer, not {responded!r}")
    url = str(change.response_url) if change.response_url else None
    with session_scope(app_state(ctx).engine) as session:
        try:
            set_handling(session, mention_id=mention_id, state=chosen[0], by=by or getpass.getuser(), response_url=url)
        except LookupError as exc:
            fail(str(exc))
    _show(ctx, mention_id)


@mentions_app.command("relabel")
def relabel_command(
    ctx: typer.Context,
    mention_id: Annotated[int, typer.Argument(metavar="ID", help="The mention's id.")],
    label: Annotated[Label, typer.Argument(help="negative, neutral or positive.")],
    by: Annotated[str | None, typer.Option(help="Who (default: your login name).")] = None,
) -> None:
    """Correct a mention's sentiment; the correction wins over the model from now on.

    Example: mentionwatch mentions relabel 4211 negative --by ola
    """
    with session_scope(app_state(ctx).engine) as session:
        try:
            relabel(session, mention_id=mention_id, label=label.value, by=by or getpass.getuser())
        except LookupError as exc:
            fail(str(exc))
    _show(ctx, mention_id)
