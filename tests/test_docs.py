"""The README and docs/ say what the code does: keys, commands and example output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mentionwatch.cli import app
from store.db import make_engine
from tests.analyst.sample_store import fill_sample_store

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
runner = CliRunner()


def test_the_readme_lists_every_export_key(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(sqlite_url)
    fill_sample_store(engine)
    engine.dispose()
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", sqlite_url)
    exported = runner.invoke(app, ["mentions", "export"])
    assert exported.exit_code == 0, exported.output
    keys = list(json.loads(exported.stdout.splitlines()[0]))
    sentence = re.search(r"with the stable keys (.*?)\. `mentionwatch sql`", README, re.S)
    assert sentence is not None
    assert re.findall(r"`(\w+)`", sentence.group(1)) == keys


def test_docs_run_the_benchmarks_as_modules() -> None:
    # A plain `python benchmarks/alerts.py` lets the script shadow the alerts package.
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for module in re.findall(r"python -m benchmarks\.(\w+)", page.read_text(encoding="utf-8")):
            assert (ROOT / "benchmarks" / f"{module}.py").exists(), f"{page.name}: benchmarks.{module}"
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert "python benchmarks/" not in page.read_text(encoding="utf-8"), page.name


def test_the_evaluate_example_scores_the_test_split_not_the_training_data() -> None:
    result = runner.invoke(app, ["sentiment", "evaluate", "--help"])
    example = " ".join(result.output.split()).split("Example: ")[1]
    assert example.startswith("mentionwatch sentiment evaluate sentiment/data/labeled.*.tsv --split test")


@pytest.mark.slow
def test_the_readme_classify_example_is_what_the_model_says(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    example = re.search(r'echo "(.*?)" \| mentionwatch sentiment classify\n# (\{.*\})', README)
    assert example is not None
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", sqlite_url)
    monkeypatch.delenv("MENTIONWATCH_SENTIMENT_MODEL", raising=False)
    result = runner.invoke(app, ["sentiment", "classify"], input=example.group(1) + "\n")
    assert result.exit_code == 0, result.output
    shown, actual = json.loads(example.group(2)), json.loads(result.stdout)
    assert actual["text"] == shown["text"] and actual["label"] == shown["label"]
    # int8, bf16 and fp32 kernels differ in the last digits from one CPU to another.
    assert actual["score"] == pytest.approx(shown["score"], abs=0.002)
