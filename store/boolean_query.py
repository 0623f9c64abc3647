"""The brand query language: parse a query once, then match texts or compile it to SQL.

One language serves three places: the crawler keeps an item when it matches the brand's
query, `mentionwatch mentions search` and the API find stored mentions with it, and the
search code compiles the same tree to SQLite FTS5 and PostgreSQL tsquery. So matching
here must agree with how the databases tokenize: words are runs of Unicode letters and
digits (SQLite's unicode61 tokenizer), compared lower-cased and without diacritics.

    (zamówko OR zamowko) -praca "dostawa na czas" zamów* NEAR/3 kurier

Operators: AND (implicit between adjacent terms), OR, NOT / `-word`, "exact phrase",
parentheses, `word*` (suffix wildcard, for inflected Polish and Russian forms) and
`a NEAR/n b` (both within n words of each other, either order). Precedence, tightest
first: NEAR, NOT, AND, OR. Operators are upper-case; `or` is an ordinary word.
Groups and negations nest at most MAX_DEPTH deep, so that no query can exhaust the
parser's, the matcher's or a database's recursion.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache

__all__ = [
    "And",
    "Near",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "MAX_DEPTH",
    "Query",
    "QuerySyntaxError",
    "Term",
    "fold",
    "parse_query",
    "tokenize",
]

# Letters with diacritics that Unicode does not decompose but users type without them;
# SQLite's unicode61 tokenizer keeps them, so the store's triggers apply the same map.
EXTRA_FOLDS: dict[str, str] = {"ł": "l", "ё": "е"}

# Precomposed Latin letters lose their diacritics (ó -> o), as with unicode61's
# remove_diacritics 2; letters of other scripts (Cyrillic й) keep theirs.
_LATIN_RANGES = ((0x00C0, 0x024F), (0x1E00, 0x1EFF))
_COMBINING_MARKS = range(0x0300, 0x0370)


@cache
def _fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(k): v for k, v in EXTRA_FOLDS.items()}
    for low, high in _LATIN_RANGES:
        for code in range(low, high + 1):
            base = "".join(c for c in unicodedata.normalize("NFD", chr(code)) if not unicodedata.combining(c))
            if base and base != chr(code):
                table[code] = base
    for code in _COMBINING_MARKS:
        table[code] = None
    return table


def fold(text: str) -> str:
    """Lower-case `text` and strip Latin diacritics, ł and ё included: how words compare."""
    return text.lower().translate(_fold_table())


# A word: letters, digits, or private-use characters (unicode61's "L* N* Co").
_WORD = re.compile(r"(?:[^\W_]|[\ue000-\uf8ff])+")


def tokenize(text: str) -> list[str]:
    """The folded words of `text`, in order: what a query's terms are compared with."""
    return _WORD.findall(fold(text))


class QuerySyntaxError(ValueError):
    """A query that cannot be parsed; `column` (1-based) points at the problem."""

    def __init__(
        self, query: str, position: int, expected: str, found: str | None = None, *, problem: str | None = None
    ) -> None:
        self.query = query
        self.position = position
        self.column = position + 1
        self.expected = expected
        self.found = found
        what = f", found {found}" if found else ""
        super().__init__(f"column {self.column}: {problem or f'expected {expected}{what}'}")


# --- the tree -----------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One folded word; with `prefix`, any word that starts with it (`zamów*`)."""

    word: str
    prefix: bool = False

    def __str__(self) -> str:
        return self.word + ("*" if self.prefix else "")


@dataclass(frozen=True)
class Phrase:
    """Consecutive words; only the last may be a prefix (from `e-ma*`)."""

    terms: tuple[Term, ...]

    def __str__(self) -> str:
        if self.terms[-1].prefix:
            # Quotes keep `*` literal, so a phrase ending in a prefix is written hyphenated.
            return "-".join(str(t) for t in self.terms)
        return '"' + " ".join(t.word for t in self.terms) + '"'


@dataclass(frozen=True)
class Near:
    """Both sides within `distance` words of each other, in either order."""

    left: Term | Phrase
    right: Term | Phrase
    distance: int

    def __str__(self) -> str:
        return f"{self.left} NEAR/{self.distance} {self.right}"


@dataclass(frozen=True)
class Not:
    child: Node

    def __str__(self) -> str:
        return f"NOT {_wrapped(self.child)}"


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " AND ".join(_wrapped(c) for c in self.children)


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " OR ".join(_wrapped(c) for c in self.children)


Node = Term | Phrase | Near | Not | And | Or


def _wrapped(node: Node) -> str:
    return f"({node})" if isinstance(node, And | Or) else str(node)


# --- matching -----------------------------------------------------------------------

Span = tuple[int, int]  # first and last word position of one occurrence

MAX_NEAR = 1000
# Parentheses and NOTs inside each other. People write two or three; a few hundred made
# the parser (and so `check`, every crawl and the API) die with a RecursionError.
MAX_DEPTH = 32
# Words of different fields (title, text) are this far apart, so that a phrase or a
# NEAR pair never spans two fields, as in FTS5 where positions are per column.
_FIELD_GAP = 1 << 32


@dataclass
class _Document:
    positions: dict[str, list[int]]
    vocabulary: list[str] = field(default_factory=list)  # sorted, built for the first prefix

    @classmethod
    def of(cls, texts: Iterable[str | None]) -> _Document:
        positions: dict[str, list[int]] = {}
        for number, text in enumerate(texts):
            for i, word in enumerate(tokenize(text or ""), start=number * _FIELD_GAP):
                positions.setdefault(word, []).append(i)
        return cls(positions)

    def term_positions(self, term: Term) -> list[int]:
        if not term.prefix:
            return self.positions.get(term.word, [])
        if not self.vocabulary:
            self.vocabulary = sorted(self.positions)
        found: list[int] = []
        for word in self.vocabulary[bisect_left(self.vocabulary, term.word) :]:
            if not word.startswith(term.word):
                break
            found.extend(self.positions[word])
        return sorted(found)

    def spans(self, node: Term | Phrase) -> list[Span]:
        if isinstance(node, Term):
            return [(i, i) for i in self.term_positions(node)]
        first, *rest = node.terms
        starts = set(self.term_positions(first))
        for offset, term in enumerate(rest, start=1):
            starts &= {i - offset for i in self.term_positions(term)}
        last = len(node.terms) - 1
        return [(i, i + last) for i in sorted(starts)]

    def evaluate(self, node: Node) -> bool:
        match node:
            case Term() | Phrase():
                return bool(self.spans(node))
            case Near(left, right, distance):
                return any(_gap(a, b) <= distance for a in self.spans(left) for b in self.spans(right))
            case Not(child):
                return not self.evaluate(child)
            case And(children):
                return all(self.evaluate(c) for c in children)
            case Or(children):
                return any(self.evaluate(c) for c in children)
        raise TypeError(f"not a query node: {node!r}")


def _gap(a: Span, b: Span) -> int:
    """Words between the end of the earlier-starting occurrence and the start of the other.

    This is FTS5's NEAR rule: overlapping occurrences (a gap below zero) are near.
    """
    first, second = (a, b) if a[0] <= b[0] else (b, a)
    return second[0] - first[1] - 1


@dataclass(frozen=True)
class Query:
    """A parsed query: `root` is the tree the search code compiles to SQL."""

    text: str
    root: Node

    def matches(self, text: str) -> bool:
        """Whether `text` (a mention's title and text, or any text) satisfies the query."""
        return _Document.of([text]).evaluate(self.root)

    def matches_fields(self, fields: Iterable[str | None]) -> bool:
        """Like `matches` over several fields: each word may be in any field, but a phrase
        or a NEAR pair must lie within one, as the database's full-text search sees it."""
        return _Document.of(fields).evaluate(self.root)

    def __str__(self) -> str:
        return str(self.root)


# --- parsing ------------------------------------------------------------------------

_NEAR = re.compile(r"NEAR/(\d+)$")
_OPERATORS = {"AND", "OR", "NOT"}


@dataclass(frozen=True)
class _Token:
    kind: str  # WORD PHRASE LPAREN RPAREN AND OR NOT NEG NEAR END
    text: str
    position: int

    def describe(self) -> str:
        return "the end of the query" if self.kind == "END" else repr(self.text)


def _lex(query: str) -> Iterator[_Token]:
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            yield _Token("LPAREN" if char == "(" else "RPAREN", char, i)
            i += 1
        elif char == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError(query, i, "a closing '\"' for this phrase")
            yield _Token("PHRASE", query[i + 1 : end], i)
            i = end + 1
        elif char == "-" and i + 1 < n and not query[i + 1].isspace():
            yield _Token("NEG", char, i)
            i += 1
        else:
            start = i
            while i < n and not query[i].isspace() and query[i] not in '()"':
                i += 1
            word = query[start:i]
            if word in _OPERATORS:
                yield _Token(word, word, start)
            elif word == "NEAR" or word.startswith("NEAR/"):
                if not _NEAR.match(word):
                    raise QuerySyntaxError(query, start, "NEAR/n with a number of words, like NEAR/3", repr(word))
                yield _Token("NEAR", word, start)
            else:
                yield _Token("WORD", word, start)
    yield _Token("END", "", n)


_STARTS_OPERAND = {"WORD", "PHRASE", "LPAREN", "NOT", "NEG"}
_OPERAND = "a word, a \"phrase\" or '('"


class _Parser:
    """Recursive descent over: or := and (OR and)*; and := unary ([AND] unary)*;
    unary := (NOT | -) unary | near; near := primary [NEAR/n primary];
    primary := WORD | PHRASE | '(' or ')'."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = list(_lex(query))
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, expected: str, token: _Token | None = None) -> QuerySyntaxError:
        token = token or self.current
        return QuerySyntaxError(self.query, token.position, expected, token.describe())

    @contextmanager
    def nested(self, token: _Token) -> Iterator[None]:
        """One level deeper (a group or a negation starting at `token`), within MAX_DEPTH."""
        if self.depth == MAX_DEPTH:
            problem = f"query nested deeper than {MAX_DEPTH} levels of parentheses and NOT"
            raise QuerySyntaxError(self.query, token.position, f"at most {MAX_DEPTH} levels", problem=problem)
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def parse(self) -> Node:
        node = self.or_expr()
        if self.current.kind == "RPAREN":
            raise self.error("an operator or the end of the query (this ')' closes nothing)")
        if self.current.kind != "END":
            raise self.error(f"{_OPERAND} or an operator")
        return node

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while self.current.kind == "OR":
            self.advance()
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self) -> Node:
        children = [self.unary()]
        while self.current.kind == "AND" or self.current.kind in _STARTS_OPERAND:
            if self.current.kind == "AND":
                self.advance()
            children.append(self.unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self) -> Node:
        if self.current.kind in ("NOT", "NEG"):
            with self.nested(self.advance()):
                return Not(self.unary())
        return self.near()

    def near(self) -> Node:
        start = self.current
        left = self.primary()
        if self.current.kind != "NEAR":
            return left
        operator = self.advance()
        if not isinstance(left, Term | Phrase):
            raise QuerySyntaxError(self.query, start.position, "a word or phrase before NEAR/n, not a group")
        right_token = self.current
        right = self.primary()
        if not isinstance(right, Term | Phrase):
            raise QuerySyntaxError(self.query, right_token.position, "a word or phrase after NEAR/n, not a group")
        if self.current.kind == "NEAR":
            raise self.error("AND here: NEAR/n joins two words or phrases (write `a NEAR/2 b AND b NEAR/2 c`)")
        distance = int(_NEAR.match(operator.text).group(1))  # type: ignore[union-attr]
        if distance > MAX_NEAR:
            raise QuerySyntaxError(self.query, operator.position, f"NEAR/n with n at most {MAX_NEAR}", operator.text)
        return Near(left, right, distance)

    def primary(self) -> Node:
        token = self.current
        if token.kind == "LPAREN":
            with self.nested(self.advance()):
                if self.current.kind == "RPAREN":
                    raise self.error(f"{_OPERAND} inside the parentheses")
                node = self.or_expr()
            if self.current.kind != "RPAREN":
                raise self.error(f"')' to close the '(' at column {token.position + 1}")
            self.advance()
            return node
        if token.kind == "PHRASE":
            self.advance()
            words = tokenize(token.text)
            if not words:
                raise QuerySyntaxError(self.query, token.position, "at least one word inside the quotes")
            return _sequence([Term(w) for w in words])
        if token.kind == "WORD":
            self.advance()
            return self.word(token)
        raise self.error(_OPERAND)

    def word(self, token: _Token) -> Node:
        text, prefix = token.text, token.text.endswith("*")
        if prefix:
            text = text[:-1]
        if "*" in text:
            raise QuerySyntaxError(
                self.query, token.position + text.index("*"), "'*' only at the end of a word", repr(token.text)
            )
        words = tokenize(text)
        if not words:
            raise QuerySyntaxError(self.query, token.position, f"{_OPERAND} with letters or digits", repr(token.text))
        if prefix and not re.search(r"(?:[^\W_]|[\ue000-\uf8ff])$", text):
            # `dostaw-*` would silently mean the whole word set; make the user say what they mean.
            raise QuerySyntaxError(self.query, token.position + len(text), "a letter or digit right before '*'")
        terms = [Term(w) for w in words]
        terms[-1] = Term(words[-1], prefix)
        return _sequence(terms)


def _sequence(terms: list[Term]) -> Term | Phrase:
    return terms[0] if len(terms) == 1 else Phrase(tuple(terms))


def parse_query(query: str) -> Query:
    """Parse `query`; raises QuerySyntaxError naming the column and what was expected."""
    return Query(query, _Parser(query).parse())
