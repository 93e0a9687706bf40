"""SQL is written once in the DuckDB dialect; this turns it into the engine's own."""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.tokenizer_core import TokenType

__all__ = ["in_text_list", "quote_ident", "split_statements", "to_engine", "writing_kind"]


def _numbered(sql: str) -> str:
    """`?` placeholders rewritten as `$1`, `$2`… in the order they appear in the text.

    Numbering from the text, not from the parsed tree, whose order need not follow the SQL's.
    """
    starts = [
        token.start
        for token in sqlglot.tokenize(sql, read="duckdb")
        if token.token_type == TokenType.PLACEHOLDER and token.text == "?"
    ]
    for number, start in reversed(list(enumerate(starts, 1))):
        sql = f"{sql[:start]}${number}{sql[start + 1 :]}"
    return sql


def _native_parameter(node: exp.Expression) -> exp.Expression:
    # PostgreSQL's own `$n` parameters leave a literal `%` alone, unlike psycopg's `%s`.
    if isinstance(node, exp.Placeholder) and node.this:
        return exp.Parameter(this=exp.Literal.number(node.this))
    return node


@lru_cache(maxsize=1024)
def to_engine(sql: str, engine: str) -> str:
    """`sql` in DuckDB dialect (`?` parameters), rewritten for `engine`.

    >>> to_engine("SELECT epoch(t) FROM x WHERE a = ? LIMIT ?", "postgres")
    "SELECT DATE_PART('epoch', t) FROM x WHERE a = $1 LIMIT $2"
    """
    if engine == "duckdb":
        return sql
    statements = sqlglot.parse(_numbered(sql), read="duckdb")
    if len(statements) != 1 or statements[0] is None:
        raise ValueError(f"expected one SQL statement, got {len(statements)}")
    return statements[0].transform(_native_parameter).sql(dialect=engine)


# Statements `shipgauge query` refuses without --write, by the parse of sqlglot. Anything else
# runs, but in a read-only transaction rolled back after it: text sqlglot reads as no statement
# at all (`SELEC 1`) then gets the engine's own syntax error.
_WRITES = (
    exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Copy,
    exp.TruncateTable, exp.Set, exp.Transaction, exp.Commit, exp.Rollback, exp.Grant,
    exp.Revoke, exp.Comment, exp.Attach, exp.Detach, exp.Install, exp.Use, exp.Analyze,
    exp.Export,
)  # fmt: skip
_DML = (exp.Insert, exp.Update, exp.Delete, exp.Merge)


def writing_kind(sql: str) -> str | None:
    """What kind of statement `sql` (DuckDB dialect, one statement) is when it writes.

    >>> writing_kind("WITH a AS (SELECT 1) SELECT * FROM a"), writing_kind("DELETE FROM t")
    (None, 'DELETE')
    """
    tree = sqlglot.parse_one(sql, read="duckdb")
    if isinstance(tree, exp.Command):  # VACUUM, CALL, LOAD …: only EXPLAIN reads
        command = str(tree.this).upper()
        return None if command == "EXPLAIN" else command
    if isinstance(tree, _WRITES):
        return "TRUNCATE" if isinstance(tree, exp.TruncateTable) else tree.key.upper()
    written = tree.find(*_DML)  # a data-modifying WITH
    return None if written is None else written.key.upper()


def split_statements(script: str) -> list[str]:
    """A script of several DuckDB statements, one string each (still in DuckDB dialect)."""
    return [tree.sql(dialect="duckdb") for tree in sqlglot.parse(script, read="duckdb") if tree]


def in_text_list(expression: str) -> str:
    """`expression IN` the texts of one list parameter (pass the list as that parameter).

    One parameter, not one `?` per value: the statement's text, and so its transpiled form, is
    the same for every list length (a 5,000-placeholder IN list took 2 s to transpile for
    PostgreSQL)."""
    return f"{expression} IN (SELECT unnest(CAST(? AS VARCHAR[])))"


def quote_ident(name: str) -> str:
    """A double-quoted identifier; both engines accept the same form."""
    return '"' + name.replace('"', '""') + '"'
