"""SQL is written once in the DuckDB dialect; this turns it into the engine's own."""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp

__all__ = ["quote_ident", "split_statements", "to_engine"]


def _numbered_parameters(node: exp.Expression, counter: list[int]) -> exp.Expression:
    # PostgreSQL's own `$n` parameters leave a literal `%` alone, unlike psycopg's `%s`.
    if isinstance(node, exp.Placeholder) and not node.this:
        counter[0] += 1
        return exp.Parameter(this=exp.Literal.number(counter[0]))
    return node


@lru_cache(maxsize=1024)
def to_engine(sql: str, engine: str) -> str:
    """`sql` in DuckDB dialect (`?` parameters), rewritten for `engine`.

    >>> to_engine("SELECT epoch(t) FROM x WHERE a = ?", "postgres")
    "SELECT DATE_PART('epoch', t) FROM x WHERE a = $1"
    """
    if engine == "duckdb":
        return sql
    statements = sqlglot.parse(sql, read="duckdb")
    if len(statements) != 1 or statements[0] is None:
        raise ValueError(f"expected one SQL statement, got {len(statements)}")
    counter = [0]
    tree = statements[0].transform(lambda node: _numbered_parameters(node, counter))
    return tree.sql(dialect=engine)


def split_statements(script: str) -> list[str]:
    """A script of several DuckDB statements, one string each (still in DuckDB dialect)."""
    return [tree.sql(dialect="duckdb") for tree in sqlglot.parse(script, read="duckdb") if tree]


def quote_ident(name: str) -> str:
    """A double-quoted identifier; both engines accept the same form."""
    return '"' + name.replace('"', '""') + '"'
