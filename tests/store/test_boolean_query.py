"""The brand query language: parsing, matching (Polish, Russian, English) and errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store.boolean_query import (
    And,
    Near,
    Not,
    Or,
    Phrase,
    QuerySyntaxError,
    Term,
    fold,
    parse_query,
    tokenize,
)

BRIEF_QUERY = '(zamówko OR zamowko) -praca "dostawa na czas" zamów* NEAR/3 kurier'


def test_the_documented_example_parses_to_the_expected_tree() -> None:
    q = parse_query(BRIEF_QUERY)
    assert q.root == And(
        (
            Or((Term("zamowko"), Term("zamowko"))),
            Not(Term("praca")),
            Phrase((Term("dostawa"), Term("na"), Term("czas"))),
            Near(Term("zamow", prefix=True), Term("kurier"), 3),
        )
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Zamówko: dostawa na czas, zamówiłem wczoraj i kurier był miły", True),
        ("ZAMOWKO — Dostawa na czas! Kurier zamówienie dowiózł", True),
        # -praca excludes job ads
        ("Zamówko praca: dostawa na czas, zamówiłem i kurier przyszedł", False),
        # the phrase must be contiguous
        ("Zamówko: dostawa była na czas, zamówiłem i kurier przyszedł", False),
        # zamów* and kurier are 4 words apart: too far for NEAR/3
        ("Zamówko dostawa na czas, zamówiłem a b c d kurier", False),
        ("Zamówko dostawa na czas, kurier a b c zamówiłem", True),
    ],
)
def test_the_documented_example_matches(text: str, expected: bool) -> None:
    assert parse_query(BRIEF_QUERY).matches(text) is expected


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        # Polish inflection through the suffix wildcard, with and without diacritics
        ("zamów*", "Zamówienie dotarło", True),
        ("zamów*", "zamowilam wczoraj", True),
        ("zamów*", "Zamówki", True),
        ("zamów*", "Nie zamawiałem", False),
        ("dostaw*", "Dostawca spóźniony, dostawy brak", True),
        ("łódź", "LODZ, ul. Piotrkowska", True),
        ("lodz", "Łódź", True),
        ("żółć", "ZOLC", True),
        ("zolc", "Żółć", True),
        # Russian inflection; ё compares as е
        ("доставк*", "Доставку задержали", True),
        ("доставк*", "Служба доставки", True),
        ("доставк*", "доставщик", False),
        ("ёлка", "ЕЛКА в подарок", True),
        ("елка", "Ёлка", True),
        ("курьер NEAR/2 опоздал", "Курьер снова опоздал", True),
        ("курьер NEAR/1 опоздал", "Опоздал на час курьер", False),
        ("курьер NEAR/2 опоздал", "Опоздал на час курьер", True),
        # й is a letter of its own in Russian, not an и with a diacritic
        ("мой", "мои", False),
        # English, case-insensitive, accents folded
        ("cafe", "Best CAFÉ in town", True),
        ('"best cafe"', "the best café", True),
        ('"best cafe"', "best, the cafe", False),
        ('"best cafe"', "best… Café!", True),
        ('"cafe best"', "the best café", False),
        # operators
        ("a OR b", "b only", True),
        ("a b", "b only", False),
        ("a AND b", "b then a", True),
        ("NOT a", "b", True),
        ("NOT a", "A", False),
        ("-a b", "b", True),
        ("a -(b OR c)", "a c", False),
        ("a -(b OR c)", "a d", True),
        ("-\"a b\" c", "c b a", True),
        ("-\"a b\" c", "c a b", False),
        # lower-case or is a word, not an operator
        ("this or that", "this or that", True),
        ("this or that", "this that", False),
        # precedence: NOT binds tighter than AND, AND tighter than OR
        ("a b OR c", "c", True),
        ("a b OR c", "a", False),
        ("a OR b c", "a", True),
        ("a (b OR c)", "a", False),
        # words are Unicode letter and digit runs: punctuation splits, hyphens too
        ("e-mail", "my e mail address", True),
        ("e-mail", "email", False),
        ('"dont"', "don't", False),
        ("don't", "don't", True),
        ("x2", "model X2, black", True),
        ("snake_case", "snake case", True),
        # NEAR: either order, phrases allowed, the gap counted in words
        ("a NEAR/0 b", "b a", True),
        ("a NEAR/0 b", "a x b", False),
        ('"fast delivery" NEAR/1 late', "late, not fast delivery", True),
        ('"fast delivery" NEAR/1 late', "late, really not fast delivery", False),
        # as in FTS5, one occurrence is near itself
        ("kurier NEAR/5 kurier", "kurier", True),
        ("kurier NEAR/5 kurier", "kurier x kurier", True),
        # a wildcard after a hyphenated word makes a phrase ending in a prefix
        ("e-ma*", "E-mailem", True),
        ("e-ma*", "email", False),
    ],
)
def test_matching(query: str, text: str, expected: bool) -> None:
    assert parse_query(query).matches(text) is expected, parse_query(query).root


@pytest.mark.parametrize(
    ("query", "column", "expected"),
    [
        ("", 1, "a word"),
        ("   ", 4, "a word"),
        ("a OR", 5, "a word"),
        ("OR a", 1, "a word"),
        ("a AND AND b", 7, "a word"),
        ("(a OR b", 8, "')' to close the '(' at column 1"),
        ("a OR b)", 7, "closes nothing"),
        ("()", 2, "inside the parentheses"),
        ('"dostawa na czas', 1, "closing '\"'"),
        ('""', 1, "at least one word"),
        ("zam*ów", 4, "'*' only at the end"),
        ("*", 1, "with letters or digits"),
        ("dostaw-*", 8, "a letter or digit right before '*'"),
        ("a NEAR b", 3, "NEAR/n"),
        ("a NEAR/x b", 3, "NEAR/n"),
        ("(a OR b) NEAR/2 c", 1, "a word or phrase before NEAR/n"),
        ("a NEAR/2 (b c)", 10, "a word or phrase after NEAR/n"),
        ("a NEAR/2 b NEAR/2 c", 12, "NEAR/n joins two"),
        ("a NEAR/1001 b", 3, "at most 1000"),
        ("a NOT", 6, "a word"),
        ("a - b", 3, "with letters or digits"),
        ("a !!! b", 3, "with letters or digits"),
    ],
)
def test_syntax_errors_name_the_column_and_what_was_expected(query: str, column: int, expected: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert caught.value.column == column, str(caught.value)
    assert expected in str(caught.value)
    assert str(caught.value).startswith(f"column {column}: expected ")


def test_phrases_and_near_stay_within_one_field() -> None:
    assert parse_query('"fast delivery"').matches_fields(["fast", "delivery"]) is False
    assert parse_query("fast NEAR/0 delivery").matches_fields(["fast", "delivery"]) is False
    assert parse_query("fast delivery").matches_fields(["fast", "delivery"]) is True
    assert parse_query("fast -delivery").matches_fields([None, "fast"]) is True
    assert parse_query("fast -delivery").matches_fields(["delivery", "fast"]) is False


def test_upper_case_words_that_only_start_like_operators_are_words() -> None:
    assert parse_query("NEARBY ORDER ANDROID NOTE").root == And(
        (Term("nearby"), Term("order"), Term("android"), Term("note"))
    )


def test_fold_and_tokenize() -> None:
    assert fold("ZAMÓWKO Łódź ЁЖ Straße") == "zamowko lodz еж straße"
    assert tokenize("«Доставка» — super_szybka! x2") == ["доставка", "super", "szybka", "x2"]
    # decomposed input (e + combining acute) folds like the precomposed letter
    assert tokenize("cafe\u0301") == tokenize("café") == ["cafe"]


def test_str_is_a_query_that_parses_to_the_same_tree() -> None:
    q = parse_query(BRIEF_QUERY)
    assert parse_query(str(q)).root == q.root


QUERY_ALPHABET = st.sampled_from(
    list("abzółęЁёжд") + [" ", " ", "(", ")", '"', "-", "*", " OR ", " AND ", " NOT ", " NEAR/2 ", "NEAR", "/", "!"]
)


@settings(max_examples=400, deadline=None)
@given(query=st.text(), text=st.text())
def test_any_input_parses_or_raises_query_syntax_error(query: str, text: str) -> None:
    try:
        q = parse_query(query)
    except QuerySyntaxError as exc:
        assert 1 <= exc.column <= len(query) + 1
        return
    assert isinstance(q.matches(text), bool)


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(QUERY_ALPHABET, max_size=12), text=st.text(alphabet="abzółęЁёжд ", max_size=40))
def test_parsed_queries_print_as_equivalent_queries(parts: list[str], text: str) -> None:
    try:
        q = parse_query("".join(parts))
    except QuerySyntaxError:
        return
    again = parse_query(str(q))
    assert again.root == q.root
    assert again.matches(text) is q.matches(text)
