"""`mentionwatch demo` runs the whole pipeline offline: crawl, score, alert, digest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mentionwatch.cli import app
from store.db import make_engine, session_scope
from store.queries import export_rows


@pytest.mark.slow
def test_demo_crawls_scores_alerts_and_writes_the_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MENTIONWATCH_SLACK_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["demo", "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    with session_scope(engine) as session:
        rows = list(export_rows(session))
    engine.dispose()
    by_source: dict[str, int] = {}
    for row in rows:
        by_source[row["source"]] = by_source.get(row["source"], 0) + 1
        assert row["sentiment"] in ("negative", "neutral", "positive"), json.dumps(row, ensure_ascii=False)
        assert row["language"] in ("pl", "ru", "en", "uk")
    assert by_source == {"shop-reviews": 8, "city-forum": 5, "google-alerts": 4, "app-store": 6}
    # The sample fraud complaint is a clear negative and must reach the alert console.
    fraud = next(row for row in rows if "zwykłe oszustwo" in row["text"])
    assert fraud["sentiment"] == "negative"
    assert "Oszustwo, nie polecam" in result.output and "URGENT" in result.output
    assert (tmp_path / "digest.html").read_text(encoding="utf-8").count("<img") == 4
    assert "weekly digest preview" in result.output
    assert "Scored 23 new mention(s)" in result.output and "earlier demo run" not in result.output
    # The crawl's child process logs to the real stderr: only warnings, no Scrapy start-up line.
    assert "[scrapy" not in capfd.readouterr().err
    again = CliRunner().invoke(app, ["demo", "--workdir", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert f"{tmp_path} holds an earlier demo run" in " ".join(again.output.split())
    assert "Scored 0 new mention(s)" in again.output and "Queued 0 alert(s), sent 0." in again.output
