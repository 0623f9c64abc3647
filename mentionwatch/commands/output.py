"""Rows to the terminal or to a pipe: a Rich table, or CSV / JSON Lines / JSON streamed.

The machine formats write each row as it comes, so `mentions search` and `sql` can
export millions of rows in constant memory; the table is for reading a page.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    jsonl = "jsonl"
    json = "json"


def plain(value: Any) -> Any:
    """A JSON- and CSV-friendly value: times as ISO 8601, decimals as floats."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def write_rows(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    fmt: OutputFormat,
    *,
    out: TextIO | None = None,
    title: str | None = None,
) -> int:
    """Write `rows` (value sequences in `columns` order) in `fmt`; returns how many."""
    out = out or sys.stdout
    count = 0
    if fmt is OutputFormat.table:
        table = Table(title=title, show_lines=False)
        for name in columns:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*("" if v is None else str(plain(v)) for v in row))
            count += 1
        Console(file=out).print(table)
        return count
    if fmt is OutputFormat.csv:
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([plain(v) for v in row])
            count += 1
        return count
    if fmt is OutputFormat.json:
        out.write("[")
    for row in rows:
        record = json.dumps({k: plain(v) for k, v in zip(columns, row, strict=True)}, ensure_ascii=False)
        if fmt is OutputFormat.json:
            out.write(("," if count else "") + "\n" + record)
        else:
            out.write(record + "\n")
        count += 1
    if fmt is OutputFormat.json:
        out.write("\n]\n")
    return count
