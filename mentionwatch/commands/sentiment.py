"""Sentiment commands: classify text, evaluate the model, export corrections, score the store."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from itertools import islice
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.table import Table

from mentionwatch.context import app_state, fail
from mentionwatch.scoring import SCORE_BATCH, classifier_from_settings, score_pending
from sentiment import LABELS, ModelLoadError, SentimentClassifier
from sentiment.evaluate import Evaluation, evaluate_file
from store.db import session_scope
from store.queries import manual_corrections

app = typer.Typer()
sentiment_app = typer.Typer(
    help="Classify text and check the sentiment model.\n\nExample: echo 'Great service!' | mentionwatch sentiment classify",
    no_args_is_help=True,
)
app.add_typer(sentiment_app, name="sentiment")
console = Console()


def load_classifier(ctx: typer.Context) -> SentimentClassifier:
    """The configured classifier; a model that cannot load ends the command with exit 2."""
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
    file: Annotated[Path, typer.Argument(help="TSV with columns lang, label, text (others ignored).", exists=True, dir_okay=False)],
) -> None:
    """Score the configured model on a labeled TSV: accuracy and macro-F1 per language.

    Example: mentionwatch sentiment evaluate sentiment/data/labeled.pl.tsv
    """
    classifier = load_classifier(ctx)
    try:
        result = evaluate_file(file, classifier)
    except ValueError as exc:
        fail(str(exc))
    console.print(f"Model {classifier.name} (version {classifier.version})")
    for table in evaluation_tables(result):
        console.print(table)


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
    state = app_state(ctx)
    classifier = load_classifier(ctx)
    count = score_pending(state.engine, classifier, batch_size=batch_size, limit=limit)
    console.print(f"Scored {count} mention(s) with {classifier.name} (version {classifier.version}).")
