"""A model's SQL for another engine: sqlglot's transpilation, plus the fixes where it is wrong.

Models are written once in DuckDB's dialect. sqlglot turns them into another dialect, but not
every function comes out right; each rule below rewrites one such construct in the DuckDB tree
before sqlglot writes the target dialect. This is the only place that knows those differences
(tests/unit/store/test_dialects.py runs each rule, tests/integration/lake/ runs every model).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from datetime import datetime
from typing import Literal

import sqlglot
from sqlglot import exp

from shipgauge.errors import NotFound
from shipgauge.store.views import Model, discover_models

__all__ = ["DIALECTS", "FIXES", "Dialect", "get_model_or_raise", "model_sql"]

Dialect = Literal["duckdb", "postgres", "spark", "bigquery", "trino"]
DIALECTS: tuple[Dialect, ...] = ("duckdb", "postgres", "spark", "bigquery", "trino")

Rule = Callable[[exp.Expression], exp.Expression]


def _percentile(node: exp.Expression) -> exp.Expression:
    # sqlglot writes quantile_cont(x, q) as PERCENTILE_CONT(x, q), which Spark refuses (its
    # PERCENTILE_CONT is an ordered-set aggregate). percentile(x, q) is the same exact,
    # linearly interpolated quantile, and takes an array of q as DuckDB does.
    if isinstance(node, exp.PercentileCont) and node.expression is not None:
        return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])
    return node


def _epoch_seconds(node: exp.Expression) -> exp.Expression:
    # epoch(ts) becomes UNIX_TIMESTAMP(ts), whole seconds; DuckDB keeps the microseconds, as a
    # DOUBLE (dividing by 1000000.0 would be Spark's DECIMAL, rounded to six digits).
    if isinstance(node, exp.TimeToUnix):
        micros = exp.Anonymous(this="unix_micros", expressions=[node.this])
        double = exp.Cast(this=micros, to=exp.DataType.build("DOUBLE"))
        return exp.Div(this=double, expression=exp.Literal.number(1_000_000))
    return node


def _utc_wall_clock(node: exp.Expression) -> exp.Expression:
    # DuckDB's timezone(zone, timestamptz) is the wall-clock time in `zone`; Spark has no
    # timezone(). Its sessions run in UTC (connectors/lake/spark.py), so from_utc_timestamp
    # then a cast to TIMESTAMP_NTZ gives the same wall clock.
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "timezone":
        zone, value = node.expressions
        shifted = exp.Anonymous(this="from_utc_timestamp", expressions=[value, zone])
        return exp.Cast(this=shifted, to=exp.DataType.build("TIMESTAMP_NTZ", dialect="spark"))
    return node


def _no_infinity(node: exp.Expression) -> exp.Expression:
    # Spark has no infinite timestamps: '-infinity' as a lower bound becomes year 1.
    if (
        isinstance(node, exp.Cast)
        and isinstance(node.this, exp.Literal)
        and node.this.name == "-infinity"
    ):
        return exp.Cast(this=exp.Literal.string("0001-01-01 00:00:00"), to=node.to)
    return node


def _iso_weekday(node: exp.Expression) -> exp.Expression:
    # EXTRACT(isodow …) is DAYOFWEEK_ISO in Spark (1 = Monday … 7 = Sunday, as in DuckDB).
    if isinstance(node, exp.Extract) and node.this.name.lower() == "isodow":
        return exp.Extract(this=exp.var("DAYOFWEEK_ISO"), expression=node.expression)
    return node


def _series_as_lateral(node: exp.Expression) -> exp.Expression:
    # `FROM x, generate_series(a, b, step) AS s(m)` comes out as an EXPLODE Spark cannot read;
    # a LATERAL subquery that explodes the SEQUENCE is the same rows.
    if not (isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries)):
        return node
    alias = node.args.get("alias")
    table = alias.name if alias else "generate_series"
    column = alias.columns[0].name if alias and alias.columns else "generate_series"
    series = exp.Explode(this=node.this.copy())
    body = exp.select(exp.alias_(series, column)).subquery()
    return exp.Lateral(this=body, alias=exp.TableAlias(this=exp.to_identifier(table)))


FIXES: dict[str, tuple[Rule, ...]] = {
    "spark": (
        _percentile,
        _epoch_seconds,
        _utc_wall_clock,
        _no_infinity,
        _iso_weekday,
        _series_as_lateral,
    ),
}


def get_model_or_raise(name: str) -> Model:
    """The shipped model called `name`, or a NotFound that suggests the closest name."""
    models = {m.name: m for m in discover_models()}
    if name in models:
        return models[name]
    close = difflib.get_close_matches(name, models, n=1)
    hint = f". Did you mean {close[0]}?" if close else ""
    raise NotFound(f"no model named '{name}'{hint}", field="NAME")


def model_sql(model: Model, dialect: str, *, now: datetime | None = None) -> str:
    """`model`'s SELECT in `dialect`, with the fixes of FIXES applied for that dialect.

    `now`, when given, replaces the clock (current_timestamp), so that a model over a lake
    snapshot gives the same rows on every engine and every run.
    """
    tree = sqlglot.parse_one(model.sql, read="duckdb")
    if now is not None:
        instant = exp.Cast(
            this=exp.Literal.string(now.isoformat(sep=" ")),
            to=exp.DataType.build("TIMESTAMPTZ", dialect="duckdb"),
        )
        tree = tree.transform(
            lambda n: instant.copy() if isinstance(n, exp.CurrentTimestamp) else n
        )
    for rule in FIXES.get(dialect, ()):
        tree = tree.transform(rule)
    return tree.sql(dialect=dialect, pretty=True)
