"""The rows behind the DORA report: the deployments, changes, incidents, recoveries and rework
a report's numbers count, each with how it was linked (`link_method`).

Each kind reads one DORA model compiled as the report compiles it (`queries.delivery.model_ctes`:
the service's events only, history before the window skipped where the model allows), so a
tile's number and its rows come from the same SELECTs: the deployment frequency's rows are the
successful deployments it counts, the change fail rate's the deployments it divides, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from shipgauge.errors import BadRequest
from shipgauge.queries.delivery import DoraWindow, model_ctes, with_literals
from shipgauge.store import Store

__all__ = ["METRIC_ROWS", "ROW_KINDS", "RowKind", "dora_rows", "dora_services"]


@dataclass(frozen=True)
class RowKind:
    """One list of rows: the model, the time that places a row in the window, its columns,
    which rows it keeps and which it shows first (`flag`, counted as `flagged`)."""

    model: str
    time: str
    columns: str
    where: str = "TRUE"
    flag: str = "FALSE"


ROW_KINDS: dict[str, RowKind] = {
    "deployments": RowKind(
        "dora_change_failures",
        "deployed_at",
        "deployment_id, event_id, deployed_at, result, is_failure, failure_reason, link_method,"
        " incidents, last_resolved_at",
        flag="is_failure",
    ),
    "successful_deployments": RowKind(
        "dora_change_failures",
        "deployed_at",
        "deployment_id, event_id, deployed_at, result, is_failure, failure_reason, link_method",
        where="result = 'success'",
    ),
    "changes": RowKind(
        "dora_lead_times",
        "deployed_at",
        "commit_sha, pushed_at, deployed_at, lead_time_s, link_method",
    ),
    "incidents": RowKind(
        "dora_incidents",
        "detected_at",
        "incident_id, detected_at, opened_at, resolved_at, deployment_id, cause_commit,"
        " link_method, epoch(resolved_at) - epoch(detected_at) AS restore_s",
        flag="resolved_at IS NULL",
    ),
    "recoveries": RowKind(
        "dora_recovery_times",
        "recovered_at",
        "deployment_id, event_id, deployed_at, failure_reason, recovered_by, recovered_at,"
        " recovery_s, link_method",
    ),
    "rework": RowKind(
        "dora_rework",
        "deployed_at",
        "deployment_id, event_id, deployed_at, is_rework, rework_reason, incident_id, link_method",
        flag="is_rework",
    ),
}
# What each headline metric counts, as a kind of rows.
METRIC_ROWS = {
    "deployment_frequency": "successful_deployments",
    "change_lead_time": "changes",
    "change_fail_rate": "deployments",
    "failed_deployment_recovery_time": "recoveries",
    "deployment_rework_rate": "rework",
}


@lru_cache(maxsize=16)
def _rows_sql(kind: str) -> str:
    """Parameters: environment, then the rows' own [from, to), then limit and offset."""
    spec = ROW_KINDS[kind]
    ctes = ", ".join(model_ctes(spec.model, by_service=True))
    chosen = (
        f"SELECT {spec.columns}, ({spec.flag}) AS flagged, {spec.time} AS placed_at"
        f" FROM {spec.model} WHERE environment = ? AND {spec.where}"
        f" AND {spec.time} >= ? AND {spec.time} < ?"
    )
    return (
        f"WITH {ctes}, chosen AS MATERIALIZED ({chosen})"
        " SELECT *, count(*) OVER () AS total, count(*) FILTER (WHERE flagged) OVER () AS flags"
        " FROM chosen ORDER BY flagged DESC, placed_at DESC LIMIT ? OFFSET ?"
    )


def dora_rows(
    store: Store,
    window: DoraWindow,
    *,
    kind: str,
    service: str,
    environment: str = "production",
    bucket_start: datetime | None = None,
    bucket_days: int = 7,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Rows of `kind` placed in `window` (or in the bucket of `bucket_days` from `bucket_start`
    within it), flagged ones first (failures, open incidents, rework), then newest first."""
    if kind not in ROW_KINDS:
        raise BadRequest(f"kind must be one of {', '.join(ROW_KINDS)}", field="kind")
    low, high = window.start, window.end
    if bucket_start is not None:
        low = max(low, bucket_start)
        high = min(high, bucket_start + timedelta(days=bucket_days))
    sql = with_literals(_rows_sql(kind), window, service)
    rows = store.query(sql, [environment, low, high, limit, offset]).dicts()
    if not rows and offset:  # a page past the last row carries no count: count again
        rows_or_none = store.query(sql, [environment, low, high, 1, 0]).dicts()
        total, flagged = (
            (rows_or_none[0]["total"], rows_or_none[0]["flags"]) if rows_or_none else (0, 0)
        )
    else:
        total, flagged = (rows[0]["total"], rows[0]["flags"]) if rows else (0, 0)
    for row in rows:
        for key in ("total", "flags", "placed_at"):
            row.pop(key)
    return {
        "kind": kind,
        "model": ROW_KINDS[kind].model,
        "service": service,
        "environment": environment,
        "from": low,
        "to": high,
        "total": total,
        "flagged": flagged,
        "offset": offset,
        "rows": rows,
    }


def dora_services(store: Store) -> list[dict[str, Any]]:
    """Every service and environment with a deployment: how many, the first and the last."""
    return store.query(
        "SELECT service, environment, count(*) AS deployments,"
        " min(deployed_at) AS first_deployed_at, max(deployed_at) AS last_deployed_at"
        " FROM dora_deployments GROUP BY service, environment ORDER BY service, environment"
    ).dicts()
