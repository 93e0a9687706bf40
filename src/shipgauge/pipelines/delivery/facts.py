"""Per-commit delivery facts, kept in the ingest transaction of the events they come from.

`delivery_commit_pushes` holds each commit's first push; `delivery_commit_deployments` holds, for
each commit in each environment its service deploys to, that first push again and the commit's
first successful deployment there: the two ends of a change lead time on one row, so a DORA report
reads the rows of its window and joins nothing (migration 0007 describes the tables).

Every write is a merge on the table's key that keeps the earlier value, so facts do not depend on
the order events arrive in, and a replay changes nothing. A push names no environment, so it is
written once per environment the service is known to deploy to; an environment seen for the
first time takes the first pushes of all its service's commits. Writers take turns on one
`ingest_checkpoints` row, so on PostgreSQL two processes never miss each other's pushes and
deployments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any, TypeVar

import sqlglot
from sqlglot import exp

from shipgauge.store import DELIVERY_TURN, Store, Transaction, in_text_list

__all__ = ["refresh_delivery_facts", "take_turn", "write_commit_facts"]

_FACTS_MIGRATION = "0007_delivery_facts.sql"
_FACT_TABLES = (
    "delivery_commit_pushes",
    "delivery_service_environments",
    "delivery_commit_deployments",
)
_EARLIER_PUSH = (
    "delivery_commit_{t}.pushed_at IS NULL OR excluded.pushed_at < delivery_commit_{t}.pushed_at"
)
_EARLIER_DEPLOYMENT = (
    "delivery_commit_deployments.deployed_at IS NULL"
    " OR excluded.deployed_at < delivery_commit_deployments.deployed_at"
    " OR (excluded.deployed_at = delivery_commit_deployments.deployed_at"
    " AND excluded.event_id < delivery_commit_deployments.event_id)"
)
Key = tuple[str, str]
_K = TypeVar("_K")
_V = TypeVar("_V", datetime, tuple[datetime, str])


def write_commit_facts(
    tx: Transaction, events: Sequence[Mapping[str, Any]], commits: Sequence[Mapping[str, Any]]
) -> None:
    """Merge the facts of `events` (their `delivery_events` rows) and `commits` into `tx`,
    whose writer holds the turn (`take_turn`)."""
    pushes = _earliest(
        ((c["service"], c["commit_sha"]), c["occurred_at"]) for c in commits if c["kind"] == "push"
    )
    deployments = _earliest(
        ((c["service"], c["environment"], c["commit_sha"]), (c["occurred_at"], c["event_id"]))
        for c in commits
        if c["kind"] == "deploy" and c["result"] == "success" and c["environment"] is not None
    )
    places = {
        (e["service"], e["environment"])
        for e in events
        if e["kind"] == "deploy" and e["environment"] is not None
    }
    if not (pushes or places):
        return
    tx.upsert(
        "delivery_commit_pushes",
        [{"service": s, "commit_sha": sha, "pushed_at": at} for (s, sha), at in pushes.items()],
        update=["pushed_at"],
        update_where=_EARLIER_PUSH.format(t="pushes"),
    )
    known = _environments(tx, {s for s, _ in pushes} | {s for s, _ in places})
    for service, environment in sorted(places - known):
        _add_environment(tx, service, environment)
    tx.insert_ignore(
        "delivery_service_environments",
        [{"service": s, "environment": env} for s, env in places - known],
    )
    environments: dict[str, set[str]] = {}
    for service, environment in known | places:
        environments.setdefault(service, set()).add(environment)
    tx.upsert(
        "delivery_commit_deployments",
        [
            {"service": s, "environment": env, "commit_sha": sha, "pushed_at": at}
            for (s, sha), at in pushes.items()
            for env in sorted(environments.get(s, ()))
        ],
        update=["pushed_at"],
        update_where=_EARLIER_PUSH.format(t="deployments"),
    )
    _merge_first_deployments(tx, deployments)


def _add_environment(tx: Transaction, service: str, environment: str) -> None:
    """An environment new to its service takes the first push of every commit of the service.

    Through the store's merge, whose join is built on these rows: the same statements in SQL
    (an UPDATE of earlier pushes, an INSERT … WHERE NOT EXISTS) joined the whole table and
    raised `events import`'s peak at 300,000 lines from 269-271 to 283-284 MB. The rows are
    held once per new environment: a service's commits, a few MB per 10,000."""
    pushes = tx.execute(
        "SELECT commit_sha, pushed_at FROM delivery_commit_pushes WHERE service = ?", [service]
    ).rows
    tx.upsert(
        "delivery_commit_deployments",
        [
            {"service": service, "environment": environment, "commit_sha": sha, "pushed_at": at}
            for sha, at in pushes
        ],
        update=["pushed_at"],
        update_where=_EARLIER_PUSH.format(t="deployments"),
    )


def _merge_first_deployments(
    tx: Transaction, deployments: Mapping[tuple[str, str, str], tuple[datetime, str]]
) -> None:
    """Merge each commit's first successful deployment in each environment, `(deployed_at,
    event_id)` keyed by `(service, environment, commit_sha)`; a stored earlier one is kept
    (on a tie in time, the smaller event id)."""
    tx.upsert(
        "delivery_commit_deployments",
        [
            {
                "service": s,
                "environment": env,
                "commit_sha": sha,
                "deployed_at": at,
                "event_id": eid,
            }
            for (s, env, sha), (at, eid) in deployments.items()
        ],
        update=["deployed_at", "event_id"],
        update_where=_EARLIER_DEPLOYMENT,
    )


def take_turn(tx: Transaction) -> None:
    """Write (and so lock until `tx` ends) the writers' checkpoint row: the time of the write.

    One statement, not `tx.set_checkpoint`, whose staged upsert costs a group commit ~10 ms.
    """
    now = datetime.now(UTC)
    tx.execute(
        "INSERT INTO ingest_checkpoints VALUES (?, ?, ?) ON CONFLICT (source)"
        " DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
        [DELIVERY_TURN, now.isoformat(), now],
    )


def _earliest(pairs: Iterable[tuple[_K, _V]]) -> dict[_K, _V]:
    earliest: dict[_K, _V] = {}
    for key, value in pairs:
        earliest[key] = min(earliest[key], value) if key in earliest else value
    return earliest


def _environments(tx: Transaction, services: set[str]) -> set[Key]:
    if not services:
        return set()
    rows = tx.execute(
        "SELECT service, environment FROM delivery_service_environments"
        f" WHERE {in_text_list('service')}",
        [sorted(services)],
    ).rows
    return {(service, environment) for service, environment in rows}


def refresh_delivery_facts(store: Store) -> None:
    """Recompute every fact from the stored events, in one transaction.

    For history written by SQL straight into `delivery_events` and `delivery_event_commits` (a
    bulk load, the DORA benchmark); events that come through the pipeline keep their facts. It
    re-runs the backfill of the migration that created the tables, so both agree by construction.
    """
    script = (resources.files("shipgauge.store") / "migrations" / _FACTS_MIGRATION).read_text(
        encoding="utf-8"
    )
    backfill = [
        tree.sql(dialect="duckdb")
        for tree in sqlglot.parse(script, read="duckdb")
        if isinstance(tree, exp.Insert) and _target(tree) in _FACT_TABLES
    ]
    with store.transaction() as tx:
        take_turn(tx)
        for table in _FACT_TABLES:
            tx.delete(table, "TRUE")
        for statement in backfill:
            tx.execute(statement)


def _target(insert: exp.Insert) -> str:
    table = insert.this if isinstance(insert.this, exp.Table) else insert.this.find(exp.Table)
    return table.name if table else ""
