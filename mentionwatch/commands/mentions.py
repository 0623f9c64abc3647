"""Reading and acting on stored mentions: export, search, relabel, handle."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from typing import Annotated

import typer

from mentionwatch.context import app_state
from store.db import session_scope
from store.queries import export_rows

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
