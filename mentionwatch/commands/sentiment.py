"""Sentiment commands: classify text, evaluate the model, export corrections, score the store."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer
from rich.console import Console
from rich.table import Table

from mentionwatch.context import app_state, fail
from mentionwatch.scoring import SCORE_BATCH
from store.db import session_scope
from store.queries import manual_corrections

if TYPE_CHECKING:
    # The sentiment package loads torch and transformers (seconds): only the commands that
    # classify import it, so that every other command starts fast.
    from sentiment import SentimentClassifier
    from sentiment.dataset import LabeledText
    from sentiment.evaluate import Evaluation

app = typer.Typer()
sentiment_app = typer.Typer(
    help="Classify text and check the sentiment model.\n\nExample: echo 'Great service!' | mentionwatch sentiment classify",
    no_args_is_help=True,
)
app.add_typer(sentiment_app, name="sentiment")
console = Console()


def load_classifier(ctx: typer.Context) -> SentimentClassifier:
    """The configured classifier; a model that cannot load ends the command with exit 2."""
    from mentionwatch.scoring import classifier_from_settings
    from sentiment import ModelLoadError

    try:
        return classifier_from_settings(app_state(ctx).settings)
    except (ModelLoadError, ValueError) as exc:
        fail(str(exc))


def chunks(lines: TextIO, size: int) -> Iterator[list[str]]:
    """Lines without their newline, ``size`` at a time, so output starts before input ends."""
    stripped = (line.rstrip("\r\n") for line in lines)
    while chunk := list(islice(stripped, size)):
        yield chunk


@sentiment_app.command("classify")
def classify(
    ctx: typer.Context,
    batch_size: Annotated[int, typer.Option(help="Lines classified together.", min=1)] = 64,
) -> None:
    """Label each line of standard input; print one JSON object per line.

    Each output line is {"text": ..., "label": "negative"|"neutral"|"positive", "score": ...},
    in input order; score is the probability of the label.

    Example: printf 'Paczka nie doszła.\\nGreat service!\\n' | mentionwatch sentiment classify
    """
    classifier = load_classifier(ctx)
    for texts in chunks(sys.stdin, batch_size):
        for text, prediction in zip(texts, classifier.classify(texts), strict=True):
            row = {"text": text, "label": prediction.label, "score": round(prediction.score, 4)}
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        sys.stdout.flush()


def evaluation_tables(result: Evaluation) -> tuple[Table, Table]:
    """Per-language scores and the confusion matrix, as Rich tables."""
    from sentiment import LABELS

    scores = Table("language", "texts", "accuracy", "macro-F1", title="Sentiment model on the file")
    for lang, row in [*result.by_language.items(), ("all", result.overall)]:
        scores.add_row(lang, str(row.count), f"{row.accuracy:.3f}", f"{row.macro_f1:.3f}")
    confusion = Table("gold \\ predicted", *LABELS, title="Confusion matrix (all languages)")
    for label, counts in zip(LABELS, result.confusion, strict=True):
        confusion.add_row(label, *map(str, counts))
    return scores, confusion


@sentiment_app.command("evaluate")
def evaluate(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE...", help="TSVs with the columns lang, label, text (others ignored).", exists=True, dir_okay=False
        ),
    ],
    split: Annotated[
        str | None, typer.Option(help="Only the rows whose split column holds this (the project's data: train, dev, test).")
    ] = None,
) -> None:
    """Score the configured model on labeled TSVs: accuracy and macro-F1 per language.

    Example: mentionwatch sentiment evaluate sentiment/data/labeled.*.tsv --split test
    """
    from sentiment.evaluate import evaluate_rows

    # The files are read before the model loads, so a mistake in them is reported at once.
    rows = [row for file in files for row in _labeled_rows(file, split)]
    if not rows:
        fail(f"no labeled rows{f' with split {split!r}' if split else ''} in {', '.join(map(str, files))}")
    classifier = load_classifier(ctx)
    result = evaluate_rows(rows, classifier)
    console.print(f"Model {classifier.name} (version {classifier.version})")
    for table in evaluation_tables(result):
        console.print(table)


def _labeled_rows(file: Path, split: str | None) -> list[LabeledText]:
    """The rows of one TSV (only `split`'s, if given); a file that cannot be used ends the command."""
    from sentiment.dataset import read_tsv

    try:
        rows = read_tsv(file)
    except UnicodeDecodeError:
        fail(f"{file}: not UTF-8 text; save the TSV as UTF-8")
    except ValueError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{file}: cannot read it ({exc.strerror})")
    return [row for row in rows if split is None or row.split == split]


@sentiment_app.command("export-corrections")
def export_corrections(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="TSV file (default: stdout).", dir_okay=False)] = None,
) -> None:
    """Write every label a person corrected as TSV training data (lang, label, text).

    Example: mentionwatch sentiment export-corrections -o corrections.tsv
    """
    state = app_state(ctx)
    with session_scope(state.engine) as session, (output.open("w", encoding="utf-8") if output else nullcontext(sys.stdout)) as out:
        out.write("lang\tlabel\ttext\n")
        for lang, label, text in manual_corrections(session):
            # No quoting in our TSV: tabs and newlines inside a mention become spaces.
            out.write(f"{lang}\t{label}\t{' '.join(text.split())}\n")


@app.command("score")
def score(
    ctx: typer.Context,
    limit: Annotated[int | None, typer.Option(help="Score at most this many mentions.", min=1)] = None,
    batch_size: Annotated[int, typer.Option(help="Mentions per batch and transaction.", min=1)] = SCORE_BATCH,
) -> None:
    """Score every stored mention that has no score, changed, or was scored by another model.

    Safe to interrupt and run again: it continues where it stopped.

    Example: mentionwatch score --limit 1000
    """
    from mentionwatch.scoring import score_pending

    engine = app_state(ctx).engine  # a store that cannot be opened is reported before the model loads
    classifier = load_classifier(ctx)
    count = score_pending(engine, classifier, batch_size=batch_size, limit=limit)
    console.print(f"Scored {count} mention(s) with {classifier.name} (version {classifier.version}).")
