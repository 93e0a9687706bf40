"""Reading the review models: share of each review system per repository and period."""

from __future__ import annotations

from datetime import date
from typing import Any

from shipgauge.errors import BadRequest
from shipgauge.store import Store

__all__ = ["INTERVALS", "review_shares"]

INTERVALS = ("day", "week", "month")


def review_shares(
    store: Store,
    *,
    repo: str | None = None,
    start: date | None = None,
    end: date | None = None,
    interval: str = "week",
) -> list[dict[str, Any]]:
    """Rows of (repo, period, review_system, changesets, share) from `review_systems_by_day`.

    `period` is the first day of the day, ISO week (Monday) or month; `start` is inclusive and
    `end` exclusive, both on push days. The shares of one repository and period sum to 1.
    """
    if interval not in INTERVALS:
        raise BadRequest(
            f"interval '{interval}' is not one of {', '.join(INTERVALS)}", field="interval"
        )
    clauses, params = ["TRUE"], []
    for condition, value in (("repo = ?", repo), ("push_day >= ?", start), ("push_day < ?", end)):
        if value is not None:
            clauses.append(condition)
            params.append(value)
    period = f"CAST(date_trunc('{interval}', push_day) AS DATE)"
    return store.query(
        f"""
        SELECT repo, period, review_system, changesets,
               CAST(changesets AS DOUBLE) / sum(changesets) OVER (PARTITION BY repo, period)
                   AS share
        FROM (
            SELECT repo, {period} AS period, review_system,
                   CAST(sum(changesets) AS BIGINT) AS changesets
            FROM review_systems_by_day
            WHERE {" AND ".join(clauses)}
            GROUP BY repo, {period}, review_system
        ) AS grouped
        ORDER BY repo, period, changesets DESC, review_system
        """,
        params,
    ).dicts()
