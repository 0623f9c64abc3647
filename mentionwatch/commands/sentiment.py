"""Sentiment commands: classify text, evaluate the model, export corrections, score the store."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer
from rich.console import Console
from rich.table import Table

from mentionwatch.config import AlertRules
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


def lines_ahead(stream: TextIO) -> int | None:
    """How many lines a redirected file still holds (read once, then rewound); None for a
    pipe or terminal, whose length cannot be known in advance."""
    try:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            return None
        start = stream.tell()
        count = sum(1 for _ in stream)
        stream.seek(start)
    except (OSError, ValueError):  # no real file behind the stream (io.UnsupportedOperation is both)
        return None
    return count


def chunks(lines: TextIO, size: int) -> Iterator[list[str]]:
    """Lines without their newline, ``size`` at a time, so output starts before input ends."""
    stripped = (line.rstrip("\r\n") for line in lines)
    while chunk := list(islice(stripped, size)):
        yield chunk


@sentiment_app.command("classify")
def classify(
    ctx: typer.Context,
    batch_size: Annotated[
        int, typer.Option(help="Lines classified together (larger: less padding, output later).", min=1)
    ] = SCORE_BATCH,
) -> None:
    """Label each line of standard input; print one JSON object per line.

    Each output line is {"text": ..., "label": "negative"|"neutral"|"positive", "score": ...},
    in input order; score is the probability of the label.

    Example: printf 'Paczka nie doszła.\\nGreat service!\\n' | mentionwatch sentiment classify
    """
    classifier = load_classifier(ctx)
    ahead = lines_ahead(sys.stdin)
    if ahead is not None:
        classifier.expect(ahead)
    for texts in chunks(sys.stdin, batch_size):
        for text, prediction in zip(texts, classifier.classify(texts), strict=True):
            row = {"text": text, "label": prediction.label, "score": round(prediction.score, 4)}
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        sys.stdout.flush()


def evaluation_tables(result: Evaluation) -> list[Table]:
    """Scores per dataset and language, the confusion matrix, group scores and alerts, as Rich tables."""
    from sentiment import LABELS
    from sentiment.real_data import group_scores

    tables = []
    for title, scores_by in (("dataset", result.by_dataset), ("language", result.by_language)):
        if not scores_by:
            continue
        table = Table(title, "texts", "accuracy", "macro-F1", title=f"Sentiment model per {title}")
        for name, row in scores_by.items():
            marked = f"{name} (binary)" if title == "dataset" and name in result.binary else name
            table.add_row(marked, str(row.count), f"{row.accuracy:.3f}", f"{row.macro_f1:.3f}")
        tables.append(table)
    overall = result.overall
    tables.append(Table("texts", "accuracy", "macro-F1", title="All texts"))
    tables[-1].add_row(str(overall.count), f"{overall.accuracy:.3f}", f"{overall.macro_f1:.3f}")
    confusion = Table("gold \\ predicted", *LABELS, title="Confusion matrix (all texts)")
    for label, counts in zip(LABELS, result.confusion, strict=True):
        confusion.add_row(label, *map(str, counts))
    tables.append(confusion)
    # Issue 12's target rows: groups of the real labelled sets, where present.
    targets = Table("group", "score", title="Mean macro-F1 per group of datasets; pooled precision of negative")
    for name, value in group_scores(result).items():
        targets.add_row(name, f"{value:.3f}")
    tables.append(targets)
    title = f"negative alerts at P(negative) >= {result.alerts.threshold:g}"
    alerts = Table("language", "alerts", "negatives", "precision", "recall", title=title)
    for lang, row in [*result.alerts_by_language.items(), ("all", result.alerts)]:
        alerts.add_row(lang, str(row.alerts), str(row.negatives), f"{row.precision:.3f}", f"{row.recall:.3f}")
    tables.append(alerts)
    return tables


@sentiment_app.command("evaluate")
def evaluate(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH...",
            help="TSVs with columns text, label and optionally lang, dataset, split; or folders of such TSVs "
            "(a file without a dataset column counts as one dataset).",
            exists=True,
        ),
    ],
    split: Annotated[
        str | None, typer.Option(help="Only the rows whose split column holds this (the project's data: train, dev, test).")
    ] = None,
    min_negative: Annotated[
        float, typer.Option(help="Alert threshold on P(negative) to measure alerts at.", min=0.0, max=1.0)
    ] = AlertRules.model_fields["min_negative"].default,
) -> None:
    """Score the configured model on labeled texts: macro-F1 per dataset and language,
    the confusion matrix, and precision/recall of negative alerts at the threshold.

    Example: mentionwatch sentiment evaluate sentiment/data/labeled.*.tsv --split test
    """
    from sentiment.evaluate import evaluate_rows

    # The files are read before the model loads, so a mistake in them is reported at once.
    rows = [row for path in paths for row in _labeled_rows(path, split)]
    if not rows:
        fail(f"no labeled rows{f' with split {split!r}' if split else ''} in {', '.join(map(str, paths))}")
    classifier = load_classifier(ctx)
    result = evaluate_rows(rows, classifier, min_negative)
    console.print(f"Model {classifier.name} (version {classifier.version})")
    for table in evaluation_tables(result):
        console.print(table)


def _labeled_rows(path: Path, split: str | None) -> list[LabeledText]:
    """The rows of a TSV or a folder of TSVs (only `split`'s, if given); a file that cannot
    be used ends the command."""
    from sentiment.dataset import read_labeled

    try:
        rows = read_labeled(path)
    except UnicodeDecodeError:
        fail(f"{path}: not UTF-8 text; save the TSV as UTF-8")
    except ValueError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{path}: cannot read it ({exc.strerror})")
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
