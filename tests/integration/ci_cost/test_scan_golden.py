"""The taskhuddler page chain through the real scan: expected-values.json and the worked example.

Research: ../shared/research/seed-hgpush-measuring-ci.md §A.8 (expected values) and §A.9 (the
worked example: 6 tasks, compute_time 1316.516 s, total $0.067886, ideal $0.028419 with the
draft 5-column table's unit costs, loaded by `ci-cost prices`).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from shipgauge.pipelines.ci_cost import scan_ci_cost
from shipgauge.pipelines.ci_cost.prices import load_prices
from shipgauge.store import Store
from tests.integration.ci_cost.fake_ci import EXPECTED, HGPUSH, NOW, FakeCI, recorded_pushlog

DRAFT_CSV = HGPUSH / "measuring-ci" / "aws_cost_estimates.draft-2018-08.csv"


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def scan_recorded_group(store: Store, ci: FakeCI) -> int:
    """Scan the treeherder pushlog; push 33270's decision task leads to the taskhuddler group."""
    pushlog = recorded_pushlog()
    ci.pushlog("mozilla-central", pushlog, 33267, 33467)
    tip = pushlog["pushes"]["33270"]["changesets"][-1]["node"]
    ci.index("mozilla-central", tip, "A-8AqzvvRsqH9b0VHBXYjA")
    ci.recorded_group()
    scan_ci_cost(store=store, settings=ci.settings(), since=33267, now=NOW)
    return 33270


def load_draft_unit_costs(store: Store) -> None:
    """The draft 5-column table through `ci-cost prices`: its unit_cost per worker type is the
    hourly rate, as measuring_ci E1 read it (column 5 by position; research §A.10)."""
    assert load_prices(store, DRAFT_CSV, month=date(2018, 8, 1)).format == "worker_type_5"


def test_recorded_group_reproduces_expected_values(store: Store, ci: FakeCI) -> None:
    push_id = scan_recorded_group(store, ci)
    graph = EXPECTED["graph"]
    runs = store.query(
        "SELECT task_id, task_state, started, resolved, run_seconds, label, kind"
        " FROM push_task_runs WHERE push_id = ? ORDER BY task_id",
        [push_id],
    ).dicts()
    assert sorted(r["task_id"] for r in runs) == sorted(graph["task_ids_in_order"])
    states = [r["task_state"] or "unscheduled" for r in runs]
    assert {s: states.count(s) for s in set(states)} == graph["current_states"]
    started = [r["started"] for r in runs if r["started"]]
    resolved = [r["resolved"] for r in runs if r["resolved"]]
    assert _iso(min(started)) == graph["earliest_start_time"]
    assert _iso(max(resolved)) == graph["latest_finished_time"]
    wall = (max(resolved) - min(started)).total_seconds()
    assert wall == pytest.approx(graph["total_wall_time_seconds"], abs=1e-6)
    by_id = {r["task_id"]: r for r in runs}
    first = by_id["A-8AqzvvRsqH9b0VHBXYjA"]
    expected_first = EXPECTED["tasks"]["listTaskGroup.completed.json#0"]
    assert _iso(first["started"]) == expected_first["started"]
    assert _iso(first["resolved"]) == expected_first["resolved"]
    assert first["run_seconds"] == pytest.approx(expected_first["run_durations_seconds"][0])
    assert (first["label"], first["kind"]) == (expected_first["label"], expected_first["kind"])
    failed = by_id["A0VWjOkmRNqkKrRUj83BEA"]
    assert failed["task_state"] == "failed"
    assert failed["run_seconds"] == pytest.approx(526.231, abs=1e-6)
    assert by_id["A0cabJ3WTeCrDN15nbTPYw"]["started"] is None  # unscheduled: no run at all

    push = store.query("SELECT * FROM push_costs WHERE push_id = ?", [push_id]).dicts()[0]
    assert push["tasks"] == 6
    assert push["compute_seconds"] == pytest.approx(graph["total_compute_time_seconds"], abs=1e-6)
    assert push["task_group_id"] == graph["taskGroupId"]


def test_worked_example_with_the_draft_unit_costs(store: Store, ci: FakeCI) -> None:
    push_id = scan_recorded_group(store, ci)
    load_draft_unit_costs(store)
    push = store.query("SELECT * FROM push_costs WHERE push_id = ?", [push_id]).dicts()[0]
    assert push["tasks"] == 6
    assert push["compute_seconds"] == pytest.approx(1316.516, abs=1e-6)
    assert push["total_cost"] == pytest.approx(0.067886, abs=5e-7)
    assert push["ideal_cost"] == pytest.approx(0.028419, abs=5e-7)
    # signing-linux-v1 is not in the draft table: its 463.955 s are reported, not priced as 0.
    assert push["unpriced_seconds"] == pytest.approx(463.955, abs=1e-6)
    assert push["pricing_methods"] == "unpriced,worker_type_rate"
    pools = store.query("SELECT worker_pool, runs, run_seconds FROM unpriced_worker_pools").dicts()
    assert pools == [
        {
            "worker_pool": "scriptworker-prov-v1/signing-linux-v1",
            "runs": 3,
            "run_seconds": pytest.approx(463.955, abs=1e-6),
        },
    ]


def test_the_draft_table_prices_by_its_unit_cost_not_cost_over_hours(duck: Store) -> None:
    load_draft_unit_costs(duck)
    rates = duck.query(
        "SELECT worker_type, usage_hours, cost / usage_hours FROM worker_type_costs"
        " WHERE worker_type IN ('gecko-t-win10-64', 'gecko-3-b-linux') ORDER BY worker_type"
    ).rows
    # The draft's rows: 46844.15 $ over 391335.66 h is 0.1197 $/h, written 0.12 in unit_cost.
    assert rates == [
        ("gecko-3-b-linux", 69519.97, pytest.approx(0.27)),
        ("gecko-t-win10-64", 391335.66, pytest.approx(0.12)),
    ]
