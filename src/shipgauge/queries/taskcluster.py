"""Reading the Taskcluster models: one task with its runs, CI cost grouped, the totals."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from shipgauge.errors import BadRequest, NotFound
from shipgauge.queries.cache import AnswerCache, Kept
from shipgauge.queries.time import Window
from shipgauge.store import QueryResult, Store

__all__ = [
    "COST_ROLLUP",
    "GROUPINGS",
    "OTHER",
    "ROLLUP_CACHE",
    "CostGrouping",
    "ci_costs",
    "cost_rollup",
    "cost_series",
    "task_with_runs",
    "totals",
]

CostGrouping = Literal["day", "worker_pool", "project"]

# grouping → (model, grouping column); the day model already has one row per day.
_COST_MODELS: dict[str, tuple[str, str]] = {
    "day": ("task_costs_by_day", "day"),
    "worker_pool": ("cost_by_worker_pool", "worker_pool"),
    "project": ("cost_by_project", "project"),
}


def task_with_runs(store: Store, task_id: str) -> dict[str, Any]:
    """`{task, runs}`: the task_costs row and its task_run_costs rows, by run_id."""
    found = store.query("SELECT * FROM task_costs WHERE task_id = ?", [task_id]).dicts()
    if not found:
        raise NotFound(f"no task {task_id}", field="task_id")
    runs = store.query(
        "SELECT * FROM task_run_costs WHERE task_id = ? ORDER BY run_id", [task_id]
    ).dicts()
    row = found[0]
    if isinstance(row["tags"], str):  # DuckDB returns JSON as text, PostgreSQL decoded
        row["tags"] = json.loads(row["tags"])
    return {"task": row, "runs": runs}


def ci_costs(
    store: Store, group_by: CostGrouping, start: date | None, end: date | None
) -> list[dict[str, Any]]:
    """Rows of `{<group>, runs, priced_runs, run_seconds, cost, fallback_cost, unpriced_runs,
    unpriced_seconds}`, largest cost first (by day: in day order), for run days in
    [start, end). A group no run of which is priced has a NULL cost, never 0."""
    if start and end and start >= end:
        raise BadRequest("start must be before end", field="start")
    model, column = _COST_MODELS[group_by]
    where = "day >= coalesce(?, day) AND day < coalesce(?, day + 1)"
    order = "day" if group_by == "day" else f"cost DESC NULLS LAST, {column}"
    sql = f"SELECT {column}, {_MEASURES} FROM {model} WHERE {where} GROUP BY {column}"
    return store.query(f"{sql} ORDER BY {order}", [start, end]).dicts()


# Counts stay integers on PostgreSQL too, where sum(bigint) is numeric; the sum of NULL costs
# (no priced run) stays NULL.
_MEASURES = ", ".join(
    [
        f"CAST(sum({c}) AS BIGINT) AS {c}"
        for c in ("runs", "priced_runs", "run_seconds", "unpriced_runs", "unpriced_seconds")
    ]
    + [f"sum({c}) AS {c}" for c in ("cost", "fallback_cost")]
)


def totals(store: Store) -> tuple[dict[str, Any], QueryResult]:
    """Task and run counts with their cost (NULL when no run is priced) and the run seconds no
    source prices, and the same by worker pool over all days."""
    counts = store.query(
        "SELECT count(*) AS tasks, coalesce(sum(runs), 0) AS runs, sum(total_cost) AS cost"
        " FROM task_costs"
    ).dicts()[0]
    counts["unpriced_seconds"] = store.query(
        "SELECT CAST(coalesce(sum(unpriced_seconds), 0) AS BIGINT) FROM cost_by_worker_pool"
    ).scalar()
    pools = store.query(
        "SELECT worker_pool, CAST(sum(runs) AS BIGINT) AS runs,"
        " CAST(sum(priced_runs) AS BIGINT) AS priced_runs, sum(cost) AS cost,"
        " sum(fallback_cost) AS fallback_cost,"
        " CAST(sum(unpriced_seconds) AS BIGINT) AS unpriced_seconds"
        " FROM cost_by_worker_pool GROUP BY worker_pool"
        " ORDER BY cost DESC NULLS LAST, worker_pool"
    )
    return counts, pools


# The dashboard's CI cost page ----------------------------------------------------------------

COST_ROLLUP = "cost_by_pool_project_day"
GROUPINGS: dict[str, str] = {"pool": "worker_pool", "project": "project"}
_COUNTS = ("runs", "priced_runs", "run_seconds", "unpriced_seconds")
_COSTS = ("cost", "instance_cost", "rate_cost")
_ROLLUP_TYPES = {
    "day": pa.date32(),
    "worker_pool": pa.string(),
    "project": pa.string(),
    **dict.fromkeys(_COUNTS, pa.int64()),
    **dict.fromkeys(_COSTS, pa.float64()),
}
OTHER = "(others)"
# Summing the rollup reads every run (seconds over millions): kept a while (queries.cache).
ROLLUP_CACHE = AnswerCache(ttl_s=120)


def _read_rollup(store: Store) -> pa.Table:
    result = store.query(f"SELECT {', '.join(_ROLLUP_TYPES)} FROM {COST_ROLLUP}")
    columns = list(zip(*result.rows, strict=True)) or [()] * len(_ROLLUP_TYPES)
    return pa.table(
        {
            name: pa.array([_plain(v) for v in values], type=kind)
            for (name, kind), values in zip(_ROLLUP_TYPES.items(), columns, strict=True)
        }
    )


def _plain(value: Any) -> Any:
    """PostgreSQL sums bigints as numeric (Decimal): the rollup holds ints and floats."""
    return float(value) if isinstance(value, Decimal) else value


def cost_rollup(store: Store) -> Kept[pa.Table]:
    """Every row of `cost_by_pool_project_day`, kept for `ROLLUP_CACHE.ttl_s` seconds."""
    return ROLLUP_CACHE.get(store, COST_ROLLUP, _read_rollup)


def _sums(table: pa.Table, keys: list[str]) -> list[dict[str, Any]]:
    """Sums of the measures per `keys`; a cost stays NULL when no run under it is priced."""
    null_if_none = pc.ScalarAggregateOptions(min_count=1)
    aggregates: list[tuple[str, str, Any]] = [(c, "sum", None) for c in _COUNTS]
    aggregates += [(c, "sum", null_if_none) for c in _COSTS]
    grouped = table.group_by(keys, use_threads=False).aggregate(aggregates)
    rows: list[dict[str, Any]] = grouped.to_pylist()
    return [{k.removesuffix("_sum"): v for k, v in row.items()} for row in rows]


def _ranked(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Costliest first, then the most unpriced time, then by name: the same order every load."""
    return sorted(
        rows,
        key=lambda r: (r["cost"] is None, -(r["cost"] or 0), -r["unpriced_seconds"], r[key]),
    )


def cost_series(
    store: Store,
    window: Window,
    *,
    by: str = "pool",
    pool: str | None = None,
    project: str | None = None,
    top: int = 10,
) -> dict[str, Any]:
    """Task-run cost per UTC day of `window` (the days it touches), stacked by worker pool or
    project: the `top` costliest groups and the rest as one, with every group's totals."""
    if by not in GROUPINGS:
        raise BadRequest(f"by must be one of {', '.join(GROUPINGS)}", field="by")
    kept = cost_rollup(store)
    table = kept.value
    first, last = window.start.date(), (window.end - timedelta(microseconds=1)).date()
    mask = pc.and_(pc.greater_equal(table["day"], first), pc.less_equal(table["day"], last))
    for column, value in (("worker_pool", pool), ("project", project)):
        if value is not None:
            mask = pc.and_(mask, pc.equal(table[column], value))
    chosen = table.filter(mask)
    column = GROUPINGS[by]
    groups = {name: _ranked(_sums(chosen, [c]), c) for name, c in GROUPINGS.items()}
    shown = [g[column] for g in groups[by][:top]]
    return {
        "start": window.start,
        "end": window.end,
        "first_day": first,
        "last_day": last,
        "by": by,
        "computed_at": kept.computed_at,
        "compute_seconds": round(kept.compute_s, 3),
        "series": _stacked(chosen, column, shown),
        "groups": groups,
        "totals": _total(groups[by]),
        "newest_day": pc.max(table["day"]).as_py() if len(table) else None,
        "options": {
            "pools": sorted(set(table["worker_pool"].to_pylist())),
            "projects": sorted(set(table["project"].to_pylist())),
        },
    }


def _total(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The sum of rows of measures; a cost is NULL when it is NULL in every row."""
    total: dict[str, Any] = {c: sum(r[c] or 0 for r in rows) for c in _COUNTS}
    for c in _COSTS:
        priced = [r[c] for r in rows if r[c] is not None]
        total[c] = sum(priced) if priced else None
    return total


def _stacked(table: pa.Table, column: str, shown: list[str]) -> list[dict[str, Any]]:
    """Per day, the measures of each group in `shown`, and of all the others as `OTHER`."""
    series: dict[str, list[dict[str, Any]]] = {key: [] for key in shown}
    rest: dict[date, list[dict[str, Any]]] = {}
    others: set[str] = set()
    for row in sorted(_sums(table, ["day", column]), key=lambda r: r["day"]):
        key = row.pop(column)
        if key in series:
            series[key].append(row)
        else:
            others.add(key)
            rest.setdefault(row["day"], []).append(row)
    stacked: list[dict[str, Any]] = [{"key": k, "points": p} for k, p in series.items()]
    if rest:
        points = [{"day": day, **_total(rows)} for day, rows in sorted(rest.items())]
        stacked.append({"key": OTHER, "groups": len(others), "points": points})
    return stacked
