"""A pool whose runs no source prices has a NULL cost in every cost model, never 0, with the run
seconds that are unpriced; on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from shipgauge.pipelines.delivery import events as delivery
from shipgauge.queries.taskcluster import ci_costs, totals
from shipgauge.sources.delivery.events import parse_event
from shipgauge.store import Store

START = datetime(2026, 5, 10, 10, tzinfo=UTC)
NODE = "a" * 40


def _seed_one_unpriced_push(store: Store) -> None:
    """One push whose group ran two tasks on a pool no cost table knows, its changeset reviewed
    on Phabricator, and a deployment that shipped it."""
    with store.transaction() as tx:
        tx.upsert("tasks", [
            {"task_id": t, "task_group_id": "G", "scheduler_id": "s",
             "task_queue_id": "proj-x/unknown", "provisioner_id": "proj-x",
             "worker_type": "unknown", "project": "try", "label": f"build-{t}",
             "submission_date": START.date()}
            for t in ("T1", "T2")
        ])  # fmt: skip
        tx.upsert("task_runs", [
            {"task_id": t, "run_id": 0, "state": "completed", "worker_group": "nowhere",
             "worker_id": "9", "started": START, "resolved": START + timedelta(seconds=s),
             "submission_date": START.date()}
            for t, s in (("T1", 600), ("T2", 1200))
        ])  # fmt: skip
        tx.upsert("pushes", [
            {"repo": "try", "push_id": 1, "pushed_at": START, "changeset_count": 1}
        ])  # fmt: skip
        tx.upsert(
            "changesets", [{"repo": "try", "node": NODE, "push_id": 1, "position_in_push": 0}]
        )
        tx.upsert("push_task_groups", [
            {"repo": "try", "push_id": 1, "mode": "push", "task_group_id": "G", "state": "final",
             "reason": "x", "lookups": 1, "listings": 1, "first_seen_at": START,
             "checked_at": START}
        ])  # fmt: skip
        tx.upsert("hgpush_pings", [
            {"repo": "try", "changeset": NODE, "push_id": 1, "repository": "try",
             "document_id": "d", "review_system": "phabricator", "rule": "r", "payload": "{}",
             "status": "sent", "attempts": 1, "created_at": START}
        ])  # fmt: skip
    event = {"kind": "deploy", "service": "web", "commits": [NODE], "time": "2026-05-11T00:00:00Z"}
    delivery.ingest_events(store, [parse_event(event, received_at=datetime.now(UTC))])


def test_every_cost_model_leaves_an_unpriced_pool_unpriced(store: Store) -> None:
    _seed_one_unpriced_push(store)
    costs = {
        "cost_by_worker_pool": "cost, fallback_cost, unpriced_seconds",
        "cost_by_project": "cost, fallback_cost, unpriced_seconds",
        "task_costs_by_day": "cost, fallback_cost, unpriced_seconds",
        "cost_by_worker_pool_month": "total_cost, ideal_cost, unpriced_seconds",
        "push_costs": "total_cost, ideal_cost, unpriced_seconds",
        "cost_by_repo_day": "total_cost, ideal_cost, unpriced_seconds",
        "costliest_tasks": "sum(total_cost), sum(ideal_cost), sum(unpriced_seconds)",
        "cost_by_review_system": "total_cost, ideal_cost, unpriced_seconds",
        "cost_per_shipped_change": "total_cost, ideal_cost, unpriced_seconds",
    }
    for model, columns in costs.items():
        rows = store.query(f"SELECT {columns} FROM {model}").rows
        assert [(r[0], r[1], float(r[2])) for r in rows] == [(None, None, 1800.0)], model
    assert store.query("SELECT total_cost, unpriced_runs FROM task_costs").rows == [
        (None, 1),
        (None, 1),
    ]
    assert store.query("SELECT unpriced_runs FROM cost_by_worker_pool").scalar() == 2
    counts, pools = totals(store)
    assert (counts["cost"], counts["unpriced_seconds"]) == (None, 1800)
    assert [(p["cost"], p["unpriced_seconds"]) for p in pools.dicts()] == [(None, 1800)]
    by_pool = ci_costs(store, "worker_pool", date(2026, 5, 10), None)
    assert [(r["cost"], r["unpriced_runs"], r["unpriced_seconds"]) for r in by_pool] == [
        (None, 2, 1800)
    ]
