"""The brand query compiles to FTS5 MATCH and to_tsquery syntax as documented."""

from __future__ import annotations

import pytest

from store.boolean_query import parse_query
from store.fulltext import fts5_expression, tsquery_expression


@pytest.mark.parametrize(
    ("query", "fts5", "tsquery"),
    [
        ("zamów*", '"zamow"*', "'zamow':*"),
        ('"dostawa na czas"', '"dostawa" + "na" + "czas"', "'dostawa' <-> 'na' <-> 'czas'"),
        ("e-ma*", '"e" + "ma"*', "'e' <-> 'ma':*"),
        ("a NEAR/3 b", 'NEAR("a" "b", 3)', "('a') & ('b')"),
        ("a OR b", '("a") OR ("b")', "('a') | ('b')"),
        ("a -b -c", '(("a")) NOT ("b") NOT ("c")', "('a') & (!('b')) & (!('c'))"),
        # FTS5 has no unary NOT: the search code uses SQL's NOT for these
        ("-b", None, "!('b')"),
        ("a OR -b", None, "('a') | (!('b'))"),
        # under NOT, NEAR cannot be loosened to AND: any row is a candidate there
        ("-(a NEAR/1 b)", None, None),
        ("c -(a NEAR/1 b)", '(("c")) NOT (NEAR("a" "b", 1))', "('c')"),
        ("c OR -(a NEAR/1 b)", None, None),
    ],
)
def test_compiled_forms(query: str, fts5: str | None, tsquery: str | None) -> None:
    root = parse_query(query).root
    assert fts5_expression(root) == fts5
    assert tsquery_expression(root) == tsquery
