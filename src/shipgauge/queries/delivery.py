"""The DORA report: the `dora_summary` model run over a chosen window, shaped per service.

The report runs the models' own SQL. The samples (`dora_metric_samples`) come from one query
where every model it reads is a CTE (computed once, however often it is read) and the event
tables are cut to the asked service before anything else (every DORA model works within one
service, so this changes no value); they are kept until the next write of delivery events
(queries/dora_samples.py). `dora_summary` then runs over the kept samples, its `report_window`
CTE taking the asked window. The views and the report are the same SELECTs and cannot drift apart.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import sqlglot
from pydantic import TypeAdapter
from sqlglot import exp

from shipgauge.errors import BadRequest
from shipgauge.queries.dora_samples import SampleCache, week_start
from shipgauge.store import QueryResult, Store
from shipgauge.store.views import Model, discover_models, model_order

__all__ = [
    "BENCHMARKS",
    "DEFAULT_BENCHMARK",
    "DEFAULT_WINDOW",
    "HEADLINE_METRICS",
    "INTERVALS",
    "UNITS",
    "DoraWindow",
    "dora_report",
    "model_ctes",
    "report_json",
    "summary_rows",
    "with_literals",
]

INTERVALS = {
    "all": "all",
    "day": "day",
    "daily": "day",
    "week": "week",
    "weekly": "week",
    "month": "month",
    "monthly": "month",
}
BENCHMARKS = ("2021", "2023", "2024")
DEFAULT_BENCHMARK = "2023"
DEFAULT_WINDOW = timedelta(days=90)
HEADLINE_METRICS = (
    "deployment_frequency",
    "change_lead_time",
    "change_fail_rate",
    "failed_deployment_recovery_time",
    "deployment_rework_rate",
)
UNITS = {
    "deployment_frequency": "deployments/day",
    "deployment_days": "days",
    "deploy_days_per_week_median": "days/week",
    "change_lead_time": "seconds",
    "coding_time": "seconds",
    "review_time": "seconds",
    "deploy_time": "seconds",
    "change_fail_rate": "ratio",
    "failed_deployment_recovery_time": "seconds",
    "time_to_restore": "seconds",
    "deployment_rework_rate": "ratio",
    "quick_check_overall": "score",
}
_LINK_METHODS = ("explicit_id", "commit_sha", "time_heuristic")
_EMPTY: dict[str, Any] = {
    "value": None,
    "samples": 0,
    "p50": None,
    "p75": None,
    "p90": None,
    "tier": None,
    "tier_label": None,
    "tier_report": None,
    "score": None,
    **{f"{m}_links": 0 for m in _LINK_METHODS},
}
# `dora_summary` rows of the one bucket covering the window are the totals; the others, the series.
_PART_SQL = "CASE WHEN bucket = 'all' THEN 'total' ELSE 'series' END AS part"


@dataclass(frozen=True)
class DoraWindow:
    """What a report covers: [start, end), bucketed by `interval`, tiered by `benchmark`."""

    start: datetime
    end: datetime
    interval: str = "week"
    benchmark: str = DEFAULT_BENCHMARK

    def __post_init__(self) -> None:
        if self.interval not in INTERVALS:
            raise BadRequest(
                f"interval '{self.interval}' is not one of {', '.join(INTERVALS)}",
                field="interval",
            )
        if self.benchmark not in BENCHMARKS:
            raise BadRequest(
                f"benchmark '{self.benchmark}' is not one of {', '.join(BENCHMARKS)}",
                field="benchmark",
            )
        if self.end <= self.start:
            raise BadRequest("end must be after start", field="end")
        if self.end - self.start > timedelta(days=3660):
            raise BadRequest("a report covers at most 10 years", field="start")


# The tables the DORA models read, cut to the asked service: its deploy, incident and change
# events (no model reads pushes, metadata or receive times) are copied once, as most models
# read them; the commit tables, read once each, are only filtered.
_SCOPED_TABLES = {
    "delivery_events": (
        "MATERIALIZED",
        "service, event_id, kind, action, occurred_at, environment, result, deployment_id,"
        " incident_id, change_id, cause_commit, is_rollback, is_hotfix, is_planned",
        " AND kind IN ('deploy', 'incident', 'change')",
    ),
    "delivery_event_commits": ("NOT MATERIALIZED", "*", ""),
    "delivery_commit_pushes": ("NOT MATERIALIZED", "*", ""),
    "delivery_commit_deployments": ("NOT MATERIALIZED", "*", ""),
}
_SERVICE = "'<shipgauge:service>'"
_START = "'<shipgauge:start>'"
_END = "'<shipgauge:end>'"
# The report reads only the samples of its window: the bounds are cut into this model's CTE,
# so they reach the scans under it (the summary filters on the same bounds).
_WINDOWED_MODEL = "dora_metric_samples"
# Models that can skip history before the report (their `report_start` CTE, all history in the
# view) get the window's start.
_START_SQL = f"SELECT CAST({_START} AS TIMESTAMPTZ) AS start_at"
_WINDOWED_SQL = (
    f"SELECT * FROM ({{sql}}) AS samples WHERE sampled_at >= CAST({_START} AS TIMESTAMPTZ)"
    f" AND sampled_at < CAST({_END} AS TIMESTAMPTZ)"
)


# Summaries run over kept samples (queries/dora_samples.py), cut to the asked service and
# environment (every computation of `dora_summary` is within one of each, so this changes no
# value); `dora_summary`'s `report_window` takes the window, in the kept tables' UTC TIMESTAMPs.
_KEPT_SCOPE = {"dora_metric_samples": "kept_samples", "dora_deployments": "kept_deployments"}
_KEPT_WINDOW_SQL = (
    "SELECT CAST(CAST(? AS TIMESTAMPTZ) AS TIMESTAMP) AS start_at,"
    " CAST(CAST(? AS TIMESTAMPTZ) AS TIMESTAMP) AS end_at,"
    " CAST(? AS VARCHAR) AS bucket, CAST(? AS VARCHAR) AS benchmark"
)
_SAMPLES = SampleCache(max_rows=2_000_000, max_entries=64)
# What is kept of `dora_deployments`: the deployments from the samples' first week on, and one
# row per service and environment with no result, its first deployment, standing for the pair
# (`pairs` in `dora_summary` counts every pair that ever deployed; the summary counts successes).
_KEPT_DEPLOYMENTS_SQL = (
    "SELECT service, environment, deployed_at, result FROM dora_deployments"
    f" WHERE deployed_at >= CAST({_START} AS TIMESTAMPTZ){{and_service}}"
    " UNION ALL SELECT service, environment, min(deployed_at), CAST(NULL AS VARCHAR)"
    " FROM dora_deployments{where_service} GROUP BY service, environment"
)


@lru_cache(maxsize=8)
def _summary_sql(by_service: bool, by_environment: bool, series: bool) -> str:
    """The report over kept samples: totals (bucket all) and the series if asked, from one pass
    of `dora_summary` whose `report_window` holds a row per bucket kind.

    Parameters, in order: the environment twice (if asked), then each bucket kind's window row.
    The service is written in (`_SERVICE`, replaced per call)."""
    models = {m.name: m for m in discover_models()}
    summary = sqlglot.parse_one(models["dora_summary"].sql, read="duckdb")
    window = next(c for c in summary.find_all(exp.CTE) if c.alias == "report_window")
    rows = " UNION ALL ".join([_KEPT_WINDOW_SQL] * (2 if series else 1))
    window.set("this", sqlglot.parse_one(rows, read="duckdb"))
    scope = [f"service = {_SERVICE}"] * by_service + ["environment = ?"] * by_environment
    where = " AND ".join(scope) or "TRUE"
    scoped = ", ".join(f"{model} AS (SELECT * FROM {kept} WHERE {where})"
                       for model, kept in _KEPT_SCOPE.items())  # fmt: skip
    return (
        f"WITH {scoped} SELECT {_PART_SQL},"
        " * REPLACE (CAST(bucket_start AS TIMESTAMPTZ) AS bucket_start)"
        f" FROM ({summary.sql(dialect='duckdb')}) AS r"
    )


@lru_cache(maxsize=2)
def _samples_sql(by_service: bool) -> str:
    """`dora_metric_samples` as a report computes it (see `model_ctes`), to the end of time."""
    ctes = ", ".join(model_ctes("dora_metric_samples", by_service))
    return (
        f"WITH {ctes} SELECT service, environment, metric, sampled_at, value, link_method"
        " FROM dora_metric_samples"
    )


def _sample_sources(service: str | None, since: datetime) -> dict[str, str]:
    """The SELECTs of the kept tables of `service` (None: every service) from `since` on."""
    where = f" WHERE service = {_SERVICE}" if service is not None else ""
    deployments = _KEPT_DEPLOYMENTS_SQL.format(
        and_service=where.replace(" WHERE", " AND"), where_service=where
    )
    return {
        table: _filled(sql, service, since.isoformat(), "infinity")
        for table, sql in (
            ("kept_samples", _samples_sql(service is not None)),
            ("kept_deployments", deployments),
        )
    }


def model_ctes(target: str, by_service: bool) -> list[str]:
    """The CTEs computing `target` (and every model it reads) as a report does: the event tables
    cut to the service (`_SERVICE`, when `by_service`), history before the window's start
    (`_START`) skipped where a model allows it; `with_literals` fills those in."""
    models = {m.name: m for m in discover_models()}
    ctes: list[str] = []
    if by_service:
        ctes += [
            f"scoped_{table} AS {how} (SELECT {columns} FROM {table}"
            f" WHERE service = {_SERVICE}{kinds})"
            for table, (how, columns, kinds) in _SCOPED_TABLES.items()
        ]
    needed = _dependencies(target, models)
    for model in model_order([models[name] for name in needed]):
        tree = _scoped(sqlglot.parse_one(model.sql, read="duckdb"), by_service)
        for cte in tree.find_all(exp.CTE):
            if cte.alias == "report_start":
                cte.set("this", sqlglot.parse_one(_START_SQL, read="duckdb"))
        inlined = "NOT MATERIALIZED " if not by_service and _is_projection(tree) else ""
        body = tree.sql(dialect="duckdb")
        if model.name == _WINDOWED_MODEL:
            body = _WINDOWED_SQL.format(sql=body)
        ctes.append(f"{model.name} AS {inlined}({body})")
    return ctes


def with_literals(sql: str, window: DoraWindow, service: str | None) -> str:
    """`sql` with the service and the window's bounds written in: DuckDB prunes far better on
    a constant than on a parameter (4.5 s against 0.5 s for one service of the 1M-deployment
    benchmark)."""
    return _filled(sql, service, window.start.isoformat(), window.end.isoformat())


def _filled(sql: str, service: str | None, start: str, end: str) -> str:
    if service is not None:
        sql = sql.replace(_SERVICE, _literal(service))
    return sql.replace(_START, _literal(start)).replace(_END, _literal(end))


def _dependencies(name: str, models: Mapping[str, Model]) -> set[str]:
    found = {name}
    for ref in models[name].references() & models.keys():
        found |= _dependencies(ref, models)
    return found


def _is_projection(tree: exp.Expr) -> bool:
    """Whether a model only filters and renames one table's rows: such a CTE is cheaper read
    again than materialised (DuckDB would copy 5M commit rows for `dora_deployment_commits`)."""
    heavy = (exp.Group, exp.Join, exp.Window, exp.Distinct, exp.With, exp.Union, exp.AggFunc)
    return not any(tree.find(kind) for kind in heavy)


def _scoped(tree: exp.Expr, scoped: bool) -> exp.Expr:
    """Point the event tables at their service-scoped CTEs."""
    if scoped:
        for table in tree.find_all(exp.Table):
            if table.name in _SCOPED_TABLES and not table.db:
                alias = table.alias or table.name
                table.set("this", exp.to_identifier(f"scoped_{table.name}"))
                table.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return tree


def summary_rows(
    store: Store,
    window: DoraWindow,
    *,
    service: str | None = None,
    environment: str | None = None,
    series: bool = False,
) -> list[dict[str, Any]]:
    """`dora_summary` rows for `window`: `part` total (one bucket), and with `series` also the
    rows cut by `window.interval` (`part` series)."""
    since = week_start(window.start)
    kept = _SAMPLES.samples(store, service, since, lambda: _sample_sources(service, since))
    params: list[Any] = [environment] * 2 if environment is not None else []
    params += [window.start, window.end, "all", window.benchmark]
    if series:
        params += [window.start, window.end, INTERVALS[window.interval], window.benchmark]
    sql = _summary_sql(service is not None, environment is not None, series)
    if service is not None:
        sql = sql.replace(_SERVICE, _literal(service))
    with contextlib.closing(kept.cursor()) as cursor:
        cursor.execute(sql, params)
        columns = [d[0] for d in cursor.description or ()]
        return QueryResult(columns, cursor.fetchall()).dicts()


def _literal(text: str) -> str:
    return exp.Literal.string(text).sql(dialect="duckdb")


def dora_report(
    store: Store,
    window: DoraWindow,
    *,
    service: str | None = None,
    environment: str | None = "production",
) -> dict[str, Any]:
    """The report: per service and environment, each metric's value, tier, score and series."""
    series = INTERVALS[window.interval] != "all"
    rows = summary_rows(store, window, service=service, environment=environment, series=series)
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        if row["part"] == "total":
            group = groups.setdefault(
                (row["service"], row["environment"]),
                {"service": row["service"], "environment": row["environment"], "metrics": {}},
            )
            group["metrics"][row["metric"]] = _metric(row)
    for group in groups.values():  # a headline metric with no sample is still reported
        for metric in HEADLINE_METRICS:
            group["metrics"].setdefault(metric, _metric(_EMPTY | {"metric": metric}))
        group["metrics"] = dict(sorted(group["metrics"].items()))  # the same order every time
    for row in sorted(rows, key=lambda r: r["bucket_start"]):
        owner = groups.get((row["service"], row["environment"]))
        if row["part"] == "series" and owner and row["metric"] in owner["metrics"]:
            owner["metrics"][row["metric"]]["series"].append(
                {"start": row["bucket_start"], "value": row["value"], "samples": row["samples"]}
            )
    return {
        "start": window.start,
        "end": window.end,
        "interval": INTERVALS[window.interval],
        "benchmark": window.benchmark,
        "service": service,
        "environment": environment,
        "services": [groups[key] for key in sorted(groups)],
    }


def _metric(row: Mapping[str, Any]) -> dict[str, Any]:
    metric = row["metric"]
    out: dict[str, Any] = {
        "value": row["value"],
        "unit": UNITS.get(metric, ""),
        "samples": row["samples"],
    }
    if UNITS.get(metric) == "seconds":
        out.update(p50=row["p50"], p75=row["p75"], p90=row["p90"])
    if metric in (*HEADLINE_METRICS, "time_to_restore", "quick_check_overall"):
        out.update(
            tier=row["tier"],
            tier_label=row["tier_label"],
            tier_report=row["tier_report"],
            score=row["score"],
        )
    if metric in ("change_lead_time", *HEADLINE_METRICS[2:]):
        out["link_methods"] = {m: row[f"{m}_links"] for m in _LINK_METHODS}
    out["series"] = []
    return out


_REPORT = TypeAdapter(dict[str, Any])


def report_json(report: dict[str, Any]) -> bytes:
    """The report as the API sends it, byte for byte (`GET /api/v1/dora` and `dora report
    --json` both write this): compact JSON, times in RFC 3339 with `Z` for UTC."""
    return _REPORT.dump_json(report)
