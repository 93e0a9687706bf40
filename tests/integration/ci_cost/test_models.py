"""The CI cost models on both engines, over the recorded group, the telemetry demo's review
systems and one deployment event."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shipgauge.demo import telemetry as telemetry_demo
from shipgauge.pipelines.delivery import events as delivery
from shipgauge.sources.delivery.events import parse_event
from shipgauge.store import Store
from tests.integration.ci_cost.fake_ci import FakeCI, recorded_pushlog
from tests.integration.ci_cost.test_scan_golden import load_unit_costs, scan_recorded_group

TIP_33270 = recorded_pushlog()["pushes"]["33270"]["changesets"][-1]["node"]


def _deploy(store: Store, commits: list[str]) -> None:
    event = {
        "kind": "deploy",
        "service": "firefox",
        "environment": "production",
        "deployment_id": "dep-1",
        "commits": commits,
        "time": "2013-09-05T00:00:00Z",
    }
    delivery.ingest_events(store, [parse_event(event, received_at=datetime.now(UTC))])


def test_ci_cost_models_join_reviews_and_deployments(store: Store, ci: FakeCI) -> None:
    telemetry_demo.load_demo(
        store
    )  # pushes 33268-33277 of mozilla-central, each changeset classified
    ci.pushlog("mozilla-central", {"lastpushid": 33277, "pushes": {}}, 33277, 33477)
    scan_recorded_group(store, ci)
    # No cost table yet: every run is unpriced, so the costs are unknown, not 0.
    unknown = "SELECT total_cost, ideal_cost, unpriced_seconds, run_seconds FROM push_costs"
    (before,) = [r for r in store.query(unknown).rows if r[3]]
    assert before[:2] == (None, None) and before[2] == pytest.approx(before[3])
    load_unit_costs(store)
    _deploy(store, [TIP_33270.upper(), "f" * 40])

    day = store.query("SELECT * FROM cost_by_repo_day").dicts()
    assert len(day) == 1 and day[0]["push_day"] == date(2013, 9, 4)
    assert (day[0]["pushes"], day[0]["pushes_with_group"], day[0]["tasks"]) == (10, 1, 6)
    assert day[0]["total_cost"] == pytest.approx(0.080838, abs=5e-7)

    pools = store.query(
        "SELECT worker_pool, runs, total_cost, rate_priced_runs, unpriced_runs"
        " FROM cost_by_worker_pool_month ORDER BY worker_pool"
    ).rows
    assert pools == [
        ("aws-provisioner-v1/gecko-3-b-linux", 1, pytest.approx(526.231 / 3600 * 0.31), 1, 0),
        ("aws-provisioner-v1/gecko-t-win10-64", 1, pytest.approx(852.561 / 3600 * 0.15), 1, 0),
        ("scriptworker-prov-v1/signing-linux-v1", 3, None, 0, 3),  # unpriced, not free
    ]

    # the labels that ran only on the unpriced signing pool (463.955 s of it in all)
    unpriced = store.query(
        "SELECT total_cost, unpriced_seconds FROM costliest_tasks"
        " WHERE unpriced_seconds > 0 AND unpriced_seconds = run_seconds"
    ).rows
    assert {cost for cost, _ in unpriced} == {None}
    assert sum(seconds for _, seconds in unpriced) == pytest.approx(463.955)
    costliest = store.query(
        "SELECT label, total_cost FROM costliest_tasks ORDER BY total_cost DESC, label LIMIT 2"
    ).rows
    windows = "test-windows10-64-nightly/opt-web-platform-tests-e10s-3"
    assert costliest == [
        ("nightly-l10n-linux-nightly-2/opt", pytest.approx(0.045314, abs=5e-7)),
        (windows, pytest.approx(0.035523, abs=5e-7)),
    ]

    shipped = store.query("SELECT * FROM cost_per_shipped_change").dicts()
    assert len(shipped) == 1
    one = shipped[0]
    assert (one["deployment_id"], one["commits"], one["commits_in_pushlog"], one["pushes"]) == (
        "dep-1",
        2,
        1,
        1,
    )
    assert one["total_cost"] == pytest.approx(0.080838, abs=5e-7)
    assert one["total_cost_per_commit"] == pytest.approx(0.080838 / 2, abs=5e-7)

    review = store.query(
        "SELECT review_system, changesets, changesets_with_group, total_cost"
        " FROM cost_by_review_system WHERE total_cost > 0"
    ).rows
    assert review == [("bmo", 4, 1, pytest.approx(0.080838, abs=5e-7))]  # push 33270: bug 909264
    changesets = store.query("SELECT sum(changesets) FROM cost_by_review_system").scalar()
    assert changesets == 15  # every changeset of the sample, priced or not


def test_push_task_runs_flags_the_last_run_of_each_task(store: Store) -> None:
    started = datetime(2025, 12, 1, 10, tzinfo=UTC)
    tasks = {"rerun": ["completed", "failed"], "retried": ["exception", "exception", "completed"]}
    with store.transaction() as tx:
        tx.insert_ignore("tasks", [
            {"task_id": t, "task_group_id": "g", "scheduler_id": "s", "task_queue_id": "p/w",
             "provisioner_id": "p", "worker_type": "w", "submission_date": started.date()}
            for t in [*tasks, "unscheduled"]
        ])  # fmt: skip
        tx.insert_ignore("task_runs", [
            {"task_id": t, "run_id": n, "state": state, "started": started,
             "resolved": started + timedelta(seconds=100), "submission_date": started.date()}
            for t, states in tasks.items() for n, state in enumerate(states)
        ])  # fmt: skip
        tx.insert_ignore("pushes", [
            {"repo": "r", "push_id": 1, "pushed_at": started, "changeset_count": 1}
        ])  # fmt: skip
        tx.insert_ignore("push_task_groups", [
            {"repo": "r", "push_id": 1, "mode": "push", "task_group_id": "g", "state": "final",
             "reason": "x", "lookups": 1, "listings": 1, "first_seen_at": started,
             "checked_at": started}
        ])  # fmt: skip
    rows = store.query(
        "SELECT task_id, run_id, is_last_run, task_state, in_ideal, in_compute, pricing_method"
        " FROM push_task_runs ORDER BY task_id, run_id"
    ).rows
    assert rows == [
        # a completed task rerun (queue.rerunTask) that then failed: failed, never ideal
        ("rerun", 0, False, "failed", False, False, "unpriced"),
        ("rerun", 1, True, "failed", False, False, "unpriced"),
        ("retried", 0, False, "completed", False, True, "unpriced"),
        ("retried", 1, False, "completed", False, True, "unpriced"),
        ("retried", 2, True, "completed", True, True, "unpriced"),
        ("unscheduled", None, None, None, False, False, None),
    ]
    push = store.query("SELECT tasks, runs, retried_runs FROM push_costs").rows
    assert push == [(3, 5, 3)]
