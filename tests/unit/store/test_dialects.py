"""store/dialects.py: each fix of sqlglot's output, and every model in every dialect."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlglot

from shipgauge.errors import NotFound
from shipgauge.store.dialects import DIALECTS, FIXES, get_model_or_raise, model_sql
from shipgauge.store.views import Model, discover_models


def _spark(sql: str) -> str:
    return " ".join(model_sql(Model("m", sql), "spark").split())


def test_quantile_cont_becomes_percentile_on_spark() -> None:
    # sqlglot alone writes PERCENTILE_CONT(x, 0.5), which Spark refuses.
    assert (
        "PERCENTILE_CONT"
        in sqlglot.transpile("SELECT quantile_cont(x, 0.5) FROM t", read="duckdb", write="spark")[0]
    )
    assert "PERCENTILE(x, 0.5)" in _spark("SELECT quantile_cont(x, 0.5) FROM t")
    assert "PERCENTILE(x, ARRAY(0.5, 0.9))" in _spark("SELECT quantile_cont(x, [0.5, 0.9]) FROM t")


def test_epoch_keeps_microseconds_on_spark() -> None:
    assert "CAST(UNIX_MICROS(ts) AS DOUBLE) / 1000000" in _spark("SELECT epoch(ts) FROM t")


def test_timezone_becomes_the_utc_wall_clock_on_spark() -> None:
    assert "CAST(FROM_UTC_TIMESTAMP(ts, 'UTC') AS TIMESTAMP_NTZ)" in _spark(
        "SELECT timezone('UTC', ts) FROM t"
    )


def test_minus_infinity_becomes_year_one_on_spark() -> None:
    assert "CAST('0001-01-01 00:00:00' AS TIMESTAMP)" in _spark(
        "SELECT CAST('-infinity' AS TIMESTAMPTZ) AS start_at"
    )


def test_isodow_becomes_dayofweek_iso_on_spark() -> None:
    assert "EXTRACT(DAYOFWEEK_ISO FROM d)" in _spark("SELECT extract(isodow FROM d) FROM t")


def test_generate_series_in_from_becomes_a_lateral_explode_on_spark() -> None:
    sql = _spark("SELECT m FROM span, generate_series(span.a, span.b, INTERVAL 1 MONTH) AS s(m)")
    assert (
        "LATERAL ( SELECT EXPLODE(SEQUENCE(span.a, span.b, INTERVAL '1' MONTH)) AS m ) AS s" in sql
    )


def test_now_pins_the_clock_on_every_dialect() -> None:
    model = Model("m", "SELECT current_timestamp - INTERVAL 90 DAY AS start_at")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    for dialect in DIALECTS:
        sql = model_sql(model, dialect, now=now)
        assert "2026-12-01 00:00:00+00:00" in sql
        assert "CURRENT_TIMESTAMP" not in sql.upper()


def test_only_spark_has_fixes() -> None:
    assert set(FIXES) == {"spark"}


@pytest.mark.parametrize("dialect", ["bigquery", "trino"])
def test_every_model_parses_back_from_bigquery_and_trino(dialect: str) -> None:
    # (DuckDB, PostgreSQL and Spark run every model: tests/integration/lake, cli/test_engines.)
    for model in discover_models():
        sql = model_sql(model, dialect)
        assert sqlglot.parse_one(sql, read=dialect) is not None, model.name


def test_get_model_or_raise_suggests_the_closest_name() -> None:
    assert get_model_or_raise("push_costs").name == "push_costs"
    with pytest.raises(NotFound, match="Did you mean push_costs"):
        get_model_or_raise("push_cost")
