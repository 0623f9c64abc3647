"""Labeled texts: the project's own TSV files, and any TSV in the same format."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sentiment.prediction import LABELS

DATA_DIR = Path(__file__).with_name("data")
REQUIRED_COLUMNS = ("lang", "label", "text")


@dataclass(frozen=True)
class LabeledText:
    """One text with its gold label; split and kind are empty where a file has none."""

    lang: str
    label: str
    text: str
    split: str = ""
    kind: str = ""


def parse_tsv(lines: Iterable[str], source: str) -> list[LabeledText]:
    """Rows of a tab-separated file with a header naming at least lang, label, text.

    Quotes are ordinary characters (no CSV quoting), so a text may contain any quote.
    """
    reader = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    missing = [column for column in REQUIRED_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(
            f"{source}: the header lacks the column(s) {', '.join(missing)}; its first line must name "
            f"the columns {', '.join(REQUIRED_COLUMNS)}, separated by tabs"
        )
    rows = []
    for row in reader:
        if row["text"] is None:
            raise ValueError(f"{source}:{reader.line_num}: fewer tab-separated columns than the header names")
        if row["label"] not in LABELS:
            raise ValueError(
                f"{source}:{reader.line_num}: label {row['label']!r} is not one of {', '.join(LABELS)}"
            )
        rows.append(
            LabeledText(
                lang=row["lang"],
                label=row["label"],
                text=row["text"],
                split=row.get("split") or "",
                kind=row.get("kind") or "",
            )
        )
    return rows


def read_tsv(path: Path) -> list[LabeledText]:
    """The labeled rows of one TSV file."""
    with path.open(encoding="utf-8", newline="") as lines:
        return parse_tsv(lines, str(path))


def project_data(data_dir: Path = DATA_DIR) -> list[LabeledText]:
    """Every hand-written text in ``data_dir/labeled.*.tsv``, all splits."""
    return [row for path in sorted(data_dir.glob("labeled.*.tsv")) for row in read_tsv(path)]
