"""Compile a parsed brand query (store.boolean_query) to each database's full-text syntax.

Words in the tree are already folded and consist only of letters and digits, so they
can be quoted without escaping. SQLite's FTS5 cannot express a NOT on its own (its NOT
is binary: `a NOT b`), so `fts5_expression` returns None for such a subtree and the
search code combines MATCH subqueries with SQL's NOT instead. PostgreSQL's tsquery has
a distance operator but only for an exact distance in one order, so NEAR/n compiles to
AND there and the search code confirms each candidate with Query.matches_fields.
"""

from __future__ import annotations

from store.boolean_query import And, Near, Node, Not, Or, Phrase, Term


def _fts5_phrase(node: Term | Phrase) -> str:
    terms = node.terms if isinstance(node, Phrase) else (node,)
    return " + ".join(f'"{t.word}"' + ("*" if t.prefix else "") for t in terms)


def fts5_expression(node: Node) -> str | None:
    """An FTS5 MATCH expression for `node`, or None where FTS5 cannot say it alone."""
    match node:
        case Term() | Phrase():
            return _fts5_phrase(node)
        case Near(left, right, distance):
            return f"NEAR({_fts5_phrase(left)} {_fts5_phrase(right)}, {distance})"
        case Or(children):
            parts = [fts5_expression(c) for c in children]
            return None if None in parts else " OR ".join(f"({p})" for p in parts)
        case And(children):
            positives = [fts5_expression(c) for c in children if not isinstance(c, Not)]
            negatives = [fts5_expression(c.child) for c in children if isinstance(c, Not)]
            if not positives or None in positives or None in negatives:
                return None
            return "(" + " AND ".join(f"({p})" for p in positives) + ")" + "".join(f" NOT ({n})" for n in negatives)
    return None


def _ts_phrase(node: Term | Phrase) -> str:
    terms = node.terms if isinstance(node, Phrase) else (node,)
    return " <-> ".join(f"'{t.word}'" + (":*" if t.prefix else "") for t in terms)


def tsquery_expression(node: Node) -> str | None:
    """A to_tsquery() string that every match of `node` satisfies, or None for "any row".

    NEAR/n loosens to AND, which is right where it counts for a match; under a NOT it
    must not loosen (NOT (a & b) would drop true matches), so there it stands for "no
    row" and the NOT for "any row". `_compile` carries that polarity: None means any row
    where `positive`, no row where not.
    """
    return _compile(node, positive=True)


def _compile(node: Node, *, positive: bool) -> str | None:
    match node:
        case Term() | Phrase():
            return _ts_phrase(node)
        case Near(left, right, _):
            return f"({_ts_phrase(left)}) & ({_ts_phrase(right)})" if positive else None
        case Not(child):
            inner = _compile(child, positive=not positive)
            return None if inner is None else f"!({inner})"
        case And(children) | Or(children):
            is_and = isinstance(node, And)
            known = [p for c in children if (p := _compile(c, positive=positive)) is not None]
            # None ("any row" when positive) drops out of an AND and absorbs an OR;
            # ("no row" when negative) it drops out of an OR and absorbs an AND.
            drops_out = is_and == positive
            if not known or (len(known) < len(children) and not drops_out):
                return None
            return (" & " if is_and else " | ").join(f"({p})" for p in known)
    raise TypeError(f"not a query node: {node!r}")
