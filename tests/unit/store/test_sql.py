"""SQL written once in DuckDB's dialect, rewritten for PostgreSQL."""

import doctest

from shipgauge.store import _sql
from shipgauge.store._sql import to_engine


def test_to_engine_numbers_parameters_in_text_order() -> None:
    sql = "SELECT * FROM d WHERE source = ? AND k LIKE 'a?%' ORDER BY id LIMIT ?"
    assert to_engine(sql, "postgres") == (
        "SELECT * FROM d WHERE source = $1 AND k LIKE 'a?%' ORDER BY id LIMIT $2"
    )


def test_to_engine_leaves_duckdb_sql_alone() -> None:
    sql = "SELECT quantile_cont(x, 0.5) FROM t WHERE a = ?"
    assert to_engine(sql, "duckdb") == sql
    assert to_engine(sql, "postgres") == (
        "SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY x) FROM t WHERE a = $1"
    )


def test_doctests() -> None:
    assert doctest.testmod(_sql).failed == 0
