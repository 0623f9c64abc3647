"""Labeled texts: the project's own TSV files, real labelled sets, and any TSV like them."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sentiment.prediction import LABELS

DATA_DIR = Path(__file__).with_name("data")
REQUIRED_COLUMNS = ("label", "text")


@dataclass(frozen=True)
class LabeledText:
    """One text with its gold label; lang, split, kind and dataset are empty where a file has none."""

    lang: str
    label: str
    text: str
    split: str = ""
    kind: str = ""
    dataset: str = ""


def parse_tsv(lines: Iterable[str], source: str) -> list[LabeledText]:
    """Rows of a tab-separated file with a header naming at least label and text.

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
                lang=row.get("lang") or "",
                label=row["label"],
                text=row["text"],
                split=row.get("split") or "",
                kind=row.get("kind") or "",
                dataset=row.get("dataset") or "",
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


def read_labeled(path: Path) -> list[LabeledText]:
    """The rows of a TSV file, or of every ``*.tsv`` in a folder (sorted by name).

    A row without a ``dataset`` column is named after its file, so per-dataset scores of
    a folder of files need no extra column.
    """
    files = sorted(path.glob("*.tsv")) if path.is_dir() else [path]
    if not files:
        raise ValueError(f"{path}: no .tsv files in this folder")
    return [
        row if row.dataset else dataclasses.replace(row, dataset=file.stem) for file in files for row in read_tsv(file)
    ]
