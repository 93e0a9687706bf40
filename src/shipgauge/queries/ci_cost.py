"""What the `ci-cost` CLI and the `/api/v1/ci/costs` routes read: the CI cost models, filtered.

Every query here reads models (push_costs, cost_by_repo_day, …), never raw tables.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final

from shipgauge.errors import BadRequest, NotFound
from shipgauge.queries.cache import AnswerCache, Kept
from shipgauge.sources import hg
from shipgauge.store import QueryResult, Store

__all__ = [
    "CI_COST_MODELS",
    "PUSH_CACHE",
    "REPORT_GROUPINGS",
    "cost_report",
    "costliest_pushes",
    "push_detail",
    "push_list",
    "push_rows",
    "push_runs",
    "unpriced_pools",
]

REPORT_GROUPINGS: Final = ("push", "day", "pool", "task")
# What `ci-cost export` writes: the models a lake needs to hold the computed costs.
CI_COST_MODELS: Final = (
    "push_costs",
    "push_task_runs",
    "cost_by_repo_day",
    "cost_by_worker_pool_month",
    "costliest_tasks",
    "unpriced_worker_pools",
    "cost_per_shipped_change",
    "cost_by_review_system",
)
_PUSH_COLUMNS: Final = (
    "repo, push_id, mode, pushed_at, group_state, tasks, runs, compute_seconds, total_cost,"
    " ideal_cost, failed_cost_share, retried_cost_share, unpriced_seconds, pricing_methods"
)
# What `ci-cost report --by push` shows: the columns that fit a terminal.
_REPORT_PUSH_COLUMNS: Final = (
    "repo, push_id, pushed_at, group_state, tasks, runs, total_cost, ideal_cost,"
    " compute_seconds, unpriced_seconds, pricing_methods"
)


def _where(repo: str | None, *filters: tuple[str, Any]) -> tuple[str, list[Any]]:
    """`repo = ?` (the repository as its key: `/integration/autoland/` is
    `integration/autoland`) and each other `clause = ?`, for the values given."""
    key = hg.repo_path(repo) if repo else repo
    kept = [(clause, value) for clause, value in [("repo = ?", key), *filters] if value is not None]
    sql = " AND ".join(clause for clause, _ in kept) or "TRUE"
    return sql, [value for _, value in kept]


def push_rows(
    store: Store,
    *,
    repo: str | None = None,
    mode: str | None = "push",
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 1000,
    columns: str = _PUSH_COLUMNS,
) -> QueryResult:
    """push_costs rows, newest push first, pushed in [start, end)."""
    where, params = _where(
        repo, ("mode = ?", mode), ("pushed_at >= ?", start), ("pushed_at < ?", end)
    )
    return store.query(
        f"SELECT {columns} FROM push_costs WHERE {where}"
        " ORDER BY pushed_at DESC, repo, push_id DESC LIMIT ?",
        [*params, limit],
    )


def cost_report(
    store: Store,
    *,
    by: str = "push",
    repo: str | None = None,
    mode: str = "push",
    since: datetime | None = None,
    limit: int = 50,
) -> QueryResult:
    """The report of `ci-cost report --by push|day|pool|task` (see docs/ci_cost.md)."""
    if by == "push":
        return push_rows(
            store, repo=repo, mode=mode, start=since, limit=limit, columns=_REPORT_PUSH_COLUMNS
        )
    day = None if since is None else since.date()
    if by == "day":
        where, params = _where(repo, ("mode = ?", mode), ("push_day >= ?", day))
        return store.query(
            "SELECT repo, push_day, pushes, pushes_with_group, tasks, runs, compute_seconds,"
            " total_cost, ideal_cost, unpriced_seconds FROM cost_by_repo_day"
            f" WHERE {where} ORDER BY push_day DESC, repo LIMIT ?",
            [*params, limit],
        )
    if by == "pool":
        month = None if day is None else date(day.year, day.month, 1)
        where, params = _where(repo, ("mode = ?", mode), ("month >= ?", month))
        return store.query(
            "SELECT worker_pool, month, sum(runs) AS runs, sum(run_seconds) AS run_seconds,"
            " sum(total_cost) AS total_cost, sum(rate_priced_runs) AS rate_priced_runs,"
            " sum(instance_billed_runs) AS instance_billed_runs,"
            " sum(unpriced_runs) AS unpriced_runs FROM cost_by_worker_pool_month"
            f" WHERE {where} GROUP BY worker_pool, month"
            " ORDER BY month DESC, total_cost DESC NULLS LAST, worker_pool LIMIT ?",
            [*params, limit],
        )
    if by == "task":
        where, params = _where(repo, ("mode = ?", mode), ("push_day >= ?", day))
        return store.query(
            "SELECT label, sum(tasks) AS tasks, sum(runs) AS runs, sum(failed_runs) AS failed_runs,"
            " sum(run_seconds) AS run_seconds, sum(total_cost) AS total_cost,"
            " sum(ideal_cost) AS ideal_cost, sum(unpriced_seconds) AS unpriced_seconds"
            f" FROM costliest_tasks WHERE {where} GROUP BY label"
            " ORDER BY total_cost DESC NULLS LAST, run_seconds DESC, label LIMIT ?",
            [*params, limit],
        )
    raise BadRequest(f"--by must be one of {', '.join(REPORT_GROUPINGS)}, not '{by}'", field="by")


def unpriced_pools(store: Store) -> QueryResult:
    """Worker pools no cost source prices, the most run time first."""
    return store.query(
        "SELECT worker_pool, runs, run_seconds, pushes, first_run_started, last_run_started"
        " FROM unpriced_worker_pools ORDER BY run_seconds DESC, worker_pool"
    )


def push_detail(store: Store, repo: str, push_id: int, *, mode: str = "push") -> dict[str, Any]:
    """One push: its push_costs row, its cost per worker pool, and every task with its runs."""
    repo = hg.repo_path(repo)
    push = store.query(
        "SELECT * FROM push_costs WHERE repo = ? AND push_id = ? AND mode = ?",
        [repo, push_id, mode],
    ).dicts()
    if not push:
        raise NotFound(f"no scanned push {push_id} of {repo} (mode {mode})", field="push_id")
    key = [repo, push_id, mode]
    pools = store.query(
        "SELECT worker_pool, count(run_id) AS runs, sum(run_seconds) AS run_seconds,"
        " sum(CASE WHEN in_total THEN cost END) AS total_cost,"
        " sum(CASE WHEN in_ideal THEN cost END) AS ideal_cost,"
        " string_agg(DISTINCT pricing_method, ',' ORDER BY pricing_method) AS pricing_methods"
        " FROM push_task_runs WHERE repo = ? AND push_id = ? AND mode = ?"
        " GROUP BY worker_pool ORDER BY total_cost DESC NULLS LAST, worker_pool",
        key,
    ).dicts()
    tasks = store.query(
        "SELECT task_id, label, kind, worker_pool,"
        " coalesce(max(task_state), 'unscheduled') AS state, count(run_id) AS runs,"
        " sum(run_seconds) AS run_seconds,"
        " sum(CASE WHEN in_total THEN cost END) AS total_cost,"
        " string_agg(DISTINCT pricing_method, ',' ORDER BY pricing_method) AS pricing_methods"
        " FROM push_task_runs WHERE repo = ? AND push_id = ? AND mode = ?"
        " GROUP BY task_id, label, kind, worker_pool ORDER BY total_cost DESC NULLS LAST, task_id",
        key,
    ).dicts()
    return {"push": push[0], "pools": pools, "tasks": tasks}


# The dashboard's CI cost page: the costliest pushes of a window -------------------------------

# push_costs reads every task run to price them (seconds over millions of runs): kept a while.
PUSH_CACHE = AnswerCache(ttl_s=120)
_PUSH_LIST = (
    "repo, push_id, pushed_at, push_user, revision, group_state, tasks, runs, failed_runs,"
    " compute_seconds, run_seconds, total_cost, ideal_cost, unpriced_seconds, pricing_methods"
)


def _read_pushes(store: Store) -> list[dict[str, Any]]:
    return store.query(
        f"SELECT {_PUSH_LIST} FROM push_costs WHERE mode = 'push' ORDER BY pushed_at, repo, push_id"
    ).dicts()


def push_list(store: Store) -> Kept[list[dict[str, Any]]]:
    """Every push of push_costs (mode push), oldest first, kept for `PUSH_CACHE.ttl_s`."""
    return PUSH_CACHE.get(store, "push_costs", _read_pushes)


def costliest_pushes(
    store: Store, *, start: datetime, end: datetime, repo: str | None = None, limit: int = 20
) -> dict[str, Any]:
    """The pushes of [start, end) (of `repo`), costliest first; an unpriced push (cost NULL)
    after the priced ones, by its unpriced run time; with the window's totals and repositories."""
    kept = push_list(store)
    key = hg.repo_path(repo) if repo else None
    chosen = [
        p for p in kept.value if start <= p["pushed_at"] < end and (key is None or p["repo"] == key)
    ]
    chosen.sort(
        key=lambda p: (
            p["total_cost"] is None,
            -(p["total_cost"] or 0),
            -(p["unpriced_seconds"] or 0),
            -p["pushed_at"].timestamp(),
            p["repo"],
            -p["push_id"],
        )
    )
    priced = [p["total_cost"] for p in chosen if p["total_cost"] is not None]
    return {
        "computed_at": kept.computed_at,
        "pushes": chosen[:limit],
        "total": len(chosen),
        "total_cost": sum(priced) if priced else None,
        "unpriced_pushes": len(chosen) - len(priced),
        "unpriced_seconds": sum(p["unpriced_seconds"] or 0 for p in chosen),
        "repos": sorted({p["repo"] for p in kept.value}),
    }


def push_runs(store: Store, repo: str, push_id: int, *, mode: str = "push") -> list[dict[str, Any]]:
    """Every run of a push's task group with its cost and how it was priced (push_task_runs)."""
    return store.query(
        "SELECT task_id, run_id, label, worker_pool, state, started, resolved, run_seconds, cost,"
        " pricing_method, attribution_method, rate_month, in_total, in_ideal"
        " FROM push_task_runs WHERE repo = ? AND push_id = ? AND mode = ? AND run_id IS NOT NULL"
        " ORDER BY task_id, run_id",
        [hg.repo_path(repo), push_id, mode],
    ).dicts()
