"""The sentiment commands and the scoring job, end to end on SQLite with the tiny model."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from mentionwatch.cli import app
from mentionwatch.config import AlertRules
from mentionwatch.commands.sentiment import lines_ahead
from mentionwatch.scoring import score_pending, scoring_text
from sentiment import LABELS, SentimentClassifier
from store.db import session_scope
from store.models import Mention, SentimentScore
from store.queries import BrandSpec, SourceSpec, count_to_score, relabel, save_mention, sync_brands_and_sources
from tests.sentiment.conftest import SaveTiny

runner = CliRunner()
MENTIONS = ["The parcel was late", "great shop", "okay delivery", "bad service", "fine"]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tiny_checkpoint: Path, tmp_path: Path) -> Path:
    """The CLI pointed at a fresh SQLite store and the tiny model through settings."""
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MENTIONWATCH_SENTIMENT_MODEL", str(tiny_checkpoint))
    monkeypatch.chdir(tmp_path)
    return tiny_checkpoint


def store_mentions(engine: Engine, texts: list[str]) -> list[int]:
    with session_scope(engine) as session:
        ids = sync_brands_and_sources(session, brands=[BrandSpec("Acme")], sources=[SourceSpec("feed", "feed", "Acme")])
        saved = [
            save_mention(
                session, source_id=ids["feed"], brand_id=1, dedup_key=f"k{i}", content_hash=f"hash:{text}",
                fields={"url": f"https://e.example/{i}", "canonical_url": f"https://e.example/{i}", "text": text, "language": "en"},
            )[1]
            for i, text in enumerate(texts)
        ]
        return [mention.id for mention in saved if mention.id is not None]


def stored_scores(engine: Engine) -> list[SentimentScore]:
    with session_scope(engine) as session:
        return list(session.exec(select(SentimentScore).order_by(SentimentScore.mention_id)))


def test_classify_prints_one_json_object_per_line_in_order(env: Path) -> None:
    lines = ["bad service", "Paczka nie doszła.", "", "great shop"]
    result = runner.invoke(app, ["sentiment", "classify", "--batch-size", "3"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["text"] for row in rows] == lines
    assert all(set(row) == {"text", "label", "score"} and row["label"] in LABELS for row in rows)
    clf = SentimentClassifier(str(env))
    expected = clf.classify(lines[:3]) + clf.classify(lines[3:])  # the command's chunks
    assert [row["label"] for row in rows] == [p.label for p in expected]


def test_a_bad_model_setting_ends_with_one_clear_message(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTIONWATCH_SENTIMENT_MODEL", "/no/such/model")
    result = runner.invoke(app, ["sentiment", "classify"], input="hello\n")
    assert result.exit_code == 2
    assert "/no/such/model" in result.output and "does not exist" in result.output


def test_evaluate_prints_scores_per_language_and_the_confusion_matrix(env: Path, tmp_path: Path) -> None:
    gold = tmp_path / "gold.tsv"
    gold.write_text("lang\tlabel\ttext\nen\tnegative\tbad service\npl\tpositive\tSuper!\n", encoding="utf-8")
    result = runner.invoke(app, ["sentiment", "evaluate", str(gold)])
    assert result.exit_code == 0, result.output
    for expected in ("macro-F1", "accuracy", "en", "pl", "all", "Confusion matrix", "gold \\ predicted", "precision of negative"):
        assert expected in result.output
    assert f"negative alerts at P(negative) >= {AlertRules().min_negative:g}" in result.output
    folder = tmp_path / "sets"
    folder.mkdir()
    (folder / "pl_allegro.tsv").write_text("text\tlabel\nzle\tnegative\nsuper\tpositive\n", encoding="utf-8")
    (folder / "en_airline_tweets.tsv").write_text("text\tlabel\tlang\nlate\tnegative\nok\tneutral\n", encoding="utf-8")
    by_folder = runner.invoke(app, ["sentiment", "evaluate", str(folder), "--min-negative", "0.35"])
    assert by_folder.exit_code == 0, by_folder.output
    for expected in ("pl_allegro (binary)", "en_airline_tweets", "English three-class", "binary sets", ">= 0.35"):
        assert expected in by_folder.output
    bad = tmp_path / "bad.tsv"
    bad.write_text("lang\ttext\nen\thello\n", encoding="utf-8")
    refused = runner.invoke(app, ["sentiment", "evaluate", str(bad)])
    assert refused.exit_code == 2 and "lacks the column(s) label" in refused.output


@pytest.mark.parametrize(
    ("content", "args", "expected"),
    [
        (b"lang\ttext\nen\thello\n", [], "lacks the column(s) label"),
        (b"lang\tlabel\ttext\nen\tbad\thello\n", [], "gold.tsv:2: label 'bad' is not one of negative, neutral, positive"),
        (b"lang\tlabel\ttext\nen\tneutral\n", [], "gold.tsv:2: fewer tab-separated columns"),
        (b"lang\tlabel\ttext\nen\tneutral\t\xff\n", [], "gold.tsv: not UTF-8 text"),
        (b"lang\tlabel\ttext\n", [], "no labeled rows in"),
        (b"split\tlang\tlabel\ttext\ntrain\ten\tneutral\tok\n", ["--split", "test"], "no labeled rows with split 'test'"),
    ],
)
def test_evaluate_checks_its_input_before_loading_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str, content: bytes, args: list[str], expected: str
) -> None:
    # A model that cannot load: were it loaded first, its error would be the one shown.
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MENTIONWATCH_SENTIMENT_MODEL", str(tmp_path / "no-such-model"))
    gold = tmp_path / "gold.tsv"
    gold.write_bytes(content)
    result = runner.invoke(app, ["sentiment", "evaluate", str(gold), *args])
    assert result.exit_code == 2
    assert expected in result.output and "no-such-model" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_evaluate_reads_several_files_and_only_the_chosen_split(env: Path, tmp_path: Path) -> None:
    header = "split\tlang\tlabel\ttext\n"
    (tmp_path / "a.tsv").write_text(header + "test\ten\tnegative\tbad service\ntrain\ten\tpositive\tnice\n", encoding="utf-8")
    (tmp_path / "b.tsv").write_text(header + "test\tpl\tpositive\tSuper!\n", encoding="utf-8")
    result = runner.invoke(app, ["sentiment", "evaluate", str(tmp_path / "a.tsv"), str(tmp_path / "b.tsv"), "--split", "test"])
    assert result.exit_code == 0, result.output
    counts: dict[str, str] = {}
    for line in result.output.splitlines():  # the first table naming a row: datasets, then languages
        row = re.match(r"│ (a|b|en|pl)(?: \(binary\))? +│ +(\d+) ", line)
        if row:
            counts.setdefault(row[1], row[2])
    assert counts == {"a": "1", "b": "1", "en": "1", "pl": "1"}


def test_score_scores_each_mention_once_then_again_for_a_new_model(
    env: Path, sqlite_engine: Engine, save_tiny: SaveTiny, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_mentions(sqlite_engine, MENTIONS)
    first = runner.invoke(app, ["score"])
    assert first.exit_code == 0, first.output
    assert "Scored 5 mention(s)" in first.output
    scores = stored_scores(sqlite_engine)
    assert len(scores) == 5 and {s.model_name for s in scores} == {str(env)}
    assert all(s.prob_negative + s.prob_neutral + s.prob_positive == pytest.approx(1, abs=1e-4) for s in scores)
    assert "Scored 0 mention(s)" in runner.invoke(app, ["score"]).output
    monkeypatch.setenv("MENTIONWATCH_SENTIMENT_MODEL", str(save_tiny(name="retrained", seed=7)))
    assert "Scored 2 mention(s)" in runner.invoke(app, ["score", "--limit", "2"]).output
    assert "Scored 3 mention(s)" in runner.invoke(app, ["score"]).output


def test_score_pending_resumes_in_batches_and_rescores_edits(env: Path, sqlite_engine: Engine) -> None:
    classifier = SentimentClassifier(str(env))
    store_mentions(sqlite_engine, MENTIONS)
    assert score_pending(sqlite_engine, classifier, batch_size=2, limit=3) == 3
    with session_scope(sqlite_engine) as session:
        assert count_to_score(session, model_name=classifier.name, model_version=classifier.version) == 2
    assert score_pending(sqlite_engine, classifier, batch_size=2) == 2
    assert score_pending(sqlite_engine, classifier) == 0
    store_mentions(sqlite_engine, ["The parcel was never delivered", *MENTIONS[1:]])  # k0 edited
    assert score_pending(sqlite_engine, classifier) == 1


def test_export_corrections_writes_people_s_labels_as_training_data(env: Path, sqlite_engine: Engine) -> None:
    ids = store_mentions(sqlite_engine, ["Oh great,\tanother\ndelay", "fine"])
    with session_scope(sqlite_engine) as session:
        relabel(session, mention_id=ids[0], label="negative", by="ania")
    result = runner.invoke(app, ["sentiment", "export-corrections"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "lang\tlabel\ttext\nen\tnegative\tOh great, another delay\n"
    out = env.parent / "corrections.tsv"
    assert runner.invoke(app, ["sentiment", "export-corrections", "-o", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8") == result.stdout


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        ("Why I stopped using Acme", "Three late deliveries.", "Why I stopped using Acme\nThree late deliveries."),
        (None, "Three late deliveries.", "Three late deliveries."),
        ("  ", "Fine.", "Fine."),
        ("Late again", "Late again: the third time this month.", "Late again: the third time this month."),
    ],
)
def test_the_model_reads_the_headline_unless_the_text_holds_it(title: str | None, text: str, expected: str) -> None:
    mention = Mention(source_id=1, brand_id=1, dedup_key="k", url="u", canonical_url="u", title=title, text=text, content_hash="h")
    assert scoring_text(mention) == expected


def test_classify_knows_how_many_lines_a_redirected_file_holds_but_not_a_pipe(tmp_path: Path) -> None:
    path = tmp_path / "mentions.txt"
    path.write_text("one\ntwo\nthree\n", encoding="utf-8")
    with path.open(encoding="utf-8") as stream:
        assert stream.readline() == "one\n"
        assert lines_ahead(stream) == 2
        assert stream.readline() == "two\n"  # rewound to where it was
    assert lines_ahead(io.StringIO("one\ntwo\n")) is None
