"""Reading the review models: share of each review system per repository and period."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shipgauge.errors import BadRequest
from shipgauge.store import Store

__all__ = ["INTERVALS", "REVIEWED", "review_repos", "review_shares", "unreviewed"]

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


REVIEWED = ("phabricator", "bmo", "mozreview")


def review_repos(store: Store) -> list[str]:
    """The repositories with a pinged changeset."""
    return [r[0] for r in store.query("SELECT DISTINCT repo FROM review_systems_by_day").rows]


def unreviewed(
    store: Store,
    *,
    start: datetime,
    end: datetime,
    repo: str | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    """The changesets pushed in [start, end) that landed without an expected review
    (`unreviewed_changes`), newest first, with how many there are in all."""
    where, params = "pushed_at >= ? AND pushed_at < ?", [start, end, repo]
    if repo is None:
        params.pop()
    else:
        where += " AND repo = ?"
    rows = store.query(
        "SELECT repo, changeset, push_id, pushed_at, review_system, rule, bug_id, author,"
        " summary, count(*) OVER () AS total FROM unreviewed_changes"
        f" WHERE {where} ORDER BY pushed_at DESC, repo, changeset LIMIT ?",
        [*params, limit],
    ).dicts()
    total = rows[0]["total"] if rows else 0
    for row in rows:
        del row["total"]
    return {"total": total, "rows": rows}
