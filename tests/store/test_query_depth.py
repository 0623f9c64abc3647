"""Query nesting is limited in the parser, so check, search, crawls and the API share one limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from mentionwatch.cli import app
from mentionwatch.config import ConfigError, parse_config
from store.boolean_query import MAX_DEPTH, Not, QuerySyntaxError, parse_query
from store.db import session_scope
from store.search import MentionFilter, search_mentions
from tests.analyst.sample_store import fill_sample_store


def _grouped(depth: int, inner: str = "kurier") -> str:
    return "(" * depth + inner + ")" * depth


def test_the_deepest_allowed_query_parses_matches_and_searches_on_both_databases(engine: Engine) -> None:
    ids = fill_sample_store(engine)
    negated = parse_query("NOT " * (MAX_DEPTH - 1) + "-zgubił")
    assert isinstance(negated.root, Not) and negated.matches("zgubił") and not negated.matches("kurier")
    grouped = parse_query(_grouped(MAX_DEPTH - 2, "kurier OR -(zgubił)"))
    assert grouped.matches("kurier zgubił")
    with session_scope(engine) as session:
        found = {row["id"] for row in search_mentions(session, filters=MentionFilter(query=grouped))}
    assert ids["acme-1"] in found


@pytest.mark.parametrize(
    ("query", "column"),
    [
        (_grouped(MAX_DEPTH + 1), MAX_DEPTH + 1),
        (_grouped(200), MAX_DEPTH + 1),  # was a RecursionError
        ("a " + "-" * 300 + "b", 3 + MAX_DEPTH),
        ("NOT " * 1000 + "b", 1 + 4 * MAX_DEPTH),
        ("x AND " + "(NOT " * 20 + "y" + ")" * 20, 7 + 5 * 16),
    ],
)
def test_deeper_queries_are_a_syntax_error_at_the_first_level_too_many(query: str, column: int) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert str(caught.value) == f"column {column}: query nested deeper than {MAX_DEPTH} levels of parentheses and NOT"


CONFIG = """
[[brands]]
name = "Acme"
query = "{query}"

[[sources]]
name = "acme-feed"
brand = "Acme"
type = "feed"
urls = ["http://127.0.0.1:1/feed.xml"]
"""


def test_config_refuses_a_brand_query_that_cannot_be_read() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(CONFIG.format(query="(acme OR"), origin="bad.toml")
    assert str(caught.value).startswith("bad.toml: brands.0.query: bad query: column 9: expected a word")


def test_check_refuses_a_brand_query_nested_300_deep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It passed `check`, then every crawl died with a 3,000-line RecursionError."""
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    config = tmp_path / "deep.toml"
    config.write_text(CONFIG.format(query=_grouped(300, "acme")), encoding="utf-8")
    for command in (["check"], ["crawl"]):
        result = CliRunner().invoke(app, ["--config", str(config), *command])
        assert result.exit_code == 2, result.output
        assert "brands.0.query: bad query: column 33: query nested deeper than 32" in result.output
        assert "Traceback" not in result.output and "RecursionError" not in result.output


def test_search_command_refuses_a_query_nested_200_deep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTIONWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    result = CliRunner().invoke(app, ["mentions", "search", _grouped(200)])
    assert result.exit_code == 2
    assert "bad query: column 33: query nested deeper than 32" in result.output
