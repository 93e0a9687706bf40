"""The taskhuddler page chain through the real scan: expected-values.json and the worked example.

docs/upstream.md, measuring_ci §A.8 (expected values) and §A.9 (the worked example: 6 tasks,
compute_time 1316.516 s; with the synthetic 5-column table's unit costs, loaded by `ci-cost
prices`, total $0.080838 and ideal $0.035523).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from shipgauge.pipelines.ci_cost import scan_ci_cost
from shipgauge.pipelines.ci_cost.prices import load_prices
from shipgauge.store import Store
from tests.integration.ci_cost.fake_ci import (
    CHAIN,
    EXPECTED,
    HGPUSH,
    NOW,
    RECORDED_GROUP,
    FakeCI,
    node,
    pushlog_doc,
    recorded_page,
    recorded_pushlog,
)

COSTS_CSV = HGPUSH / "measuring-ci" / "aws_cost_estimates.synthetic.csv"


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


def load_unit_costs(store: Store) -> None:
    """The synthetic 5-column table through `ci-cost prices`: its unit_cost per worker type is
    the hourly rate, as measuring_ci E1 read it (column 5 by position; upstream.md §A.10).
    gecko-t-win10-64 costs 0.15 $/h there, gecko-3-b-linux 0.31 $/h; signing-linux-v1 and
    beetmoverworker-v1 are not in it."""
    assert load_prices(store, COSTS_CSV, month=date(2018, 8, 1)).format == "worker_type_5"


def _iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else _iso(value)


def _fixture_task_id(key: str) -> str:
    """The task id behind an expected-values.json key such as `listTaskGroup.failed.json#0`."""
    page, _, index = key.removeprefix("listTaskGroup.").partition(".json#")
    return str(recorded_page(page)["tasks"][int(index)]["status"]["taskId"])


def _stored_task(store: Store, task_id: str) -> dict[str, Any]:
    """taskhuddler's per-task properties (upstream.md §A.8), computed from the stored rows.

    The task-level `status.state` is not stored: a task's state is its last run's, and a task
    without any run is `unscheduled` (the recorded chain has no `pending` task)."""
    (task,) = store.query("SELECT label, kind FROM tasks WHERE task_id = ?", [task_id]).dicts()
    runs = store.query(
        "SELECT state, scheduled, started, resolved FROM task_runs WHERE task_id = ?"
        " ORDER BY run_id",
        [task_id],
    ).dicts()
    last = runs[-1] if runs else {}
    state = last.get("state", "unscheduled")
    return {
        "state": state,
        "completed": state == "completed",
        "scheduled": _iso_or_none(last.get("scheduled")),
        "started": _iso_or_none(last.get("started")),
        "resolved": _iso_or_none(last.get("resolved")),
        "run_durations_seconds": [
            (r["resolved"] - r["started"]).total_seconds()
            for r in runs
            if r["started"] and r["resolved"]
        ],
        "has_failures": any(r["state"] in ("failed", "exception") for r in runs),
        "label": task["label"],
        "kind": task["kind"],
    }


def _assert_task(store: Store, key: str) -> None:
    """Every property expected-values.json gives for `key`, but `scopes`: the scan stores no
    task definition scopes (tasks has no such column), so they cannot be compared."""
    expected = {k: v for k, v in EXPECTED["tasks"][key].items() if k != "scopes"}
    stored = _stored_task(store, _fixture_task_id(key))
    assert {k: stored[k] for k in expected} == {
        k: pytest.approx(v, abs=1e-6) if k == "run_durations_seconds" else v
        for k, v in expected.items()
    }, key


def _taskhuddler_merged_seconds(spans: list[tuple[datetime, datetime]]) -> float:
    """taskhuddler `merge_date_list` over [started, resolved] spans. Its overlap and contain
    tests are strict (`<`, `>`), so two identical spans are not merged: the two signing tasks
    that ran 03:54:26.312-03:57:42.727 count twice, which is why the file says 1245.391 s where
    a plain union of the spans is 1048.976 s."""

    def overlap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
        return a[0] < b[0] and b[0] < a[1] < b[1]

    def contains(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
        return (a[0] < b[0] and a[1] > b[1]) or (b[0] < a[0] and b[1] > a[1])

    todo, merged = list(spans), []
    while todo:
        current = todo.pop()
        joined = [
            s for s in todo if overlap(current, s) or overlap(s, current) or contains(current, s)
        ]
        if not joined:
            merged.append(current)
            continue
        for span in joined:
            current = (min(current[0], span[0]), max(current[1], span[1]))
            todo.remove(span)
        todo.append(current)
    return sum((end - start).total_seconds() for start, end in merged)


def test_recorded_group_reproduces_expected_values(store: Store, ci: FakeCI) -> None:
    push_id = scan_recorded_group(store, ci)
    graph = EXPECTED["graph"]
    runs = store.query(
        "SELECT task_id, task_state, is_last_run, started, resolved, run_seconds, label, kind"
        " FROM push_task_runs WHERE push_id = ? ORDER BY task_id",
        [push_id],
    ).dicts()
    # The store keeps no listing order (tasks and task_runs have no position column, and the
    # file's order is neither by id nor by time), so `task_ids_in_order` is compared as a set
    # here, and its order through the pages the scan asked for, below.
    assert sorted(r["task_id"] for r in runs) == sorted(graph["task_ids_in_order"])
    assert len(runs) == len(graph["task_ids_in_order"])  # one run each, or none
    states = [r["task_state"] or "unscheduled" for r in runs]
    assert {s: states.count(s) for s in set(states)} == graph["current_states"]
    assert all(s == "completed" for s in states) is graph["all_completed"]
    started = [r["started"] for r in runs if r["started"]]
    resolved = [r["resolved"] for r in runs if r["resolved"]]
    assert _iso(min(started)) == graph["earliest_start_time"]
    assert _iso(max(resolved)) == graph["latest_finished_time"]
    wall = (max(resolved) - min(started)).total_seconds()
    assert wall == pytest.approx(graph["total_wall_time_seconds"], abs=1e-6)
    spans = [
        (r["started"], r["resolved"])
        for r in runs
        if r["is_last_run"] and r["task_state"] == "completed"
    ]
    assert _taskhuddler_merged_seconds(spans) == pytest.approx(
        graph["total_compute_wall_time_seconds"], abs=1e-6
    )
    for key in EXPECTED["tasks"]:
        if not key.startswith("listTaskGroup.missing."):  # not in the chain: the next test
            _assert_task(store, key)

    push = store.query("SELECT * FROM push_costs WHERE push_id = ?", [push_id]).dicts()[0]
    assert push["tasks"] == len(graph["task_ids_in_order"])
    assert push["compute_seconds"] == pytest.approx(graph["total_compute_time_seconds"], abs=1e-6)
    assert push["task_group_id"] == graph["taskGroupId"]

    # The order: the scan asked for the chain's pages one after another, first page first, and
    # those pages' tasks in that order are the file's order.
    group = f"/api/queue/v1/task-group/{graph['taskGroupId']}/list"
    tokens = [r.query.get("continuationToken") for r in ci.server.requests if r.path == group]
    assert tokens == [None, *CHAIN[1:]]
    pages = [CHAIN[0], *(str(token) for token in tokens[1:])]
    listed = [t["status"]["taskId"] for page in pages for t in recorded_page(page)["tasks"]]
    assert listed == graph["task_ids_in_order"]


def test_the_run_without_start_or_end_keeps_its_scheduled_time(store: Store, ci: FakeCI) -> None:
    """listTaskGroup.missing.json, a stand-alone page, as the only page of push 1's group."""
    key = "listTaskGroup.missing.json#0"
    task_id = _fixture_task_id(key)
    ci.pushlog("mozilla-central", pushlog_doc({1: [node(1)]}, 1), 0, 200)
    ci.index("mozilla-central", node(1), task_id)
    ci.task(task_id, RECORDED_GROUP)
    ci.group(RECORDED_GROUP, [recorded_page("missing")["tasks"]])
    scan_ci_cost(store=store, settings=ci.settings(), since=0, now=NOW)
    _assert_task(store, key)
    (run,) = store.query(
        "SELECT pricing_method, run_seconds FROM push_task_runs WHERE task_id = ?", [task_id]
    ).rows
    assert run == ("unfinished", None)


def test_worked_example_with_the_synthetic_unit_costs(store: Store, ci: FakeCI) -> None:
    push_id = scan_recorded_group(store, ci)
    load_unit_costs(store)
    push = store.query("SELECT * FROM push_costs WHERE push_id = ?", [push_id]).dicts()[0]
    assert push["tasks"] == 6
    assert push["compute_seconds"] == pytest.approx(1316.516, abs=1e-6)
    # 852.561 s of gecko-t-win10-64 at 0.15 $/h + 526.231 s of gecko-3-b-linux at 0.31 $/h
    assert push["total_cost"] == pytest.approx(0.080838, abs=5e-7)
    assert push["ideal_cost"] == pytest.approx(0.035523, abs=5e-7)  # the completed task only
    # signing-linux-v1 is not in the table: its 463.955 s are reported, not priced as 0.
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


def test_the_5_column_table_prices_by_its_unit_cost_not_cost_over_hours(duck: Store) -> None:
    load_unit_costs(duck)
    rates = duck.query(
        "SELECT worker_type, usage_hours, cost / usage_hours FROM worker_type_costs"
        " WHERE worker_type IN ('gecko-t-win10-64', 'gecko-3-b-linux') ORDER BY worker_type"
    ).rows
    # The file's rows: 42305.15 $ over 284500.00 h is 0.1487 $/h, written 0.15 in unit_cost;
    # 17835.77 $ over 58210.75 h is 0.3064 $/h, written 0.31.
    assert rates == [
        ("gecko-3-b-linux", 58210.75, pytest.approx(0.31)),
        ("gecko-t-win10-64", 284500.00, pytest.approx(0.15)),
    ]
