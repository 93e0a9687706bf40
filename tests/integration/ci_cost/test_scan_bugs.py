"""Each known measuring_ci bug (Q1-Q17 in docs/upstream.md) as a scan showing shipgauge lacks it."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from shipgauge.pipelines.ci_cost import checkpoint_name, scan_ci_cost
from shipgauge.pipelines.ci_cost.prices import load_prices
from shipgauge.store import Store
from tests.conftest import run_cli
from tests.integration.ci_cost.fake_ci import NOW, FakeCI, entry, node, pushlog_doc, renamed

RECENT = int((NOW - timedelta(hours=1)).timestamp()) - 10  # push n is dated RECENT + n


def _scan(store: Store, ci: FakeCI, **kwargs: Any) -> Any:
    settings = ci.settings(**kwargs.pop("settings", {}))
    return scan_ci_cost(store=store, settings=settings, now=kwargs.pop("now", NOW), **kwargs)[0]


def _groups(store: Store) -> dict[int, dict[str, Any]]:
    rows = store.query("SELECT * FROM push_task_groups ORDER BY push_id").dicts()
    return {r["push_id"]: r for r in rows}


def _rate(
    store: Store,
    worker_type: str,
    per_hour: float,
    provisioner: str = "aws-provisioner-v1",
    usage_hours: float = 1.0,
) -> None:
    row = {
        "provider": "aws",
        "provisioner": provisioner,
        "worker_type": worker_type,
        "month": date(2025, 12, 1),
        "usage_hours": usage_hours,
        "cost": per_hour * usage_hours,
        "modified": None,
    }
    with store.transaction() as tx:
        tx.upsert("worker_type_costs", [row])


def _finished(task_id: str, group: str, seconds: int, state: str = "completed") -> dict[str, Any]:
    """A recorded gecko-t-win10-64 entry with one run of `seconds` ending in `state`."""
    item = renamed(entry(), task_id, group)
    run = item["status"]["runs"][0]
    run.update(state=state, started="2025-12-31T22:00:00.000Z")
    run["resolved"] = f"2025-12-31T22:{seconds // 60:02d}:{seconds % 60:02d}.000Z"
    item["status"]["state"] = state
    return item


def test_q1_push_ids_are_integers_across_a_digit_boundary(duck: Store, ci: FakeCI) -> None:
    pushes = {pid: [node(pid)] for pid in (9998, 9999, 10000, 10001)}
    ci.pushlog("mozilla-central", pushlog_doc(pushes, 10001), 9997, 10197)
    ci.pushlog("mozilla-central", pushlog_doc({}, 10001), 10001, 10201)
    first = _scan(duck, ci, since=9997)
    assert first.checkpoint == 10001
    second = _scan(duck, ci)
    assert second.pushes_checked == 0
    assert duck.checkpoint(checkpoint_name("push", "mozilla-central")) == "10001"
    starts = [r.query["startID"] for r in ci.server.requests if r.path.endswith("json-pushes")]
    assert starts == ["9997", "10001"]  # a string max would restart from "9999"
    assert list(_groups(duck)) == [9998, 9999, 10000, 10001]


def test_q1_a_backfill_below_a_digit_boundary_reads_ids_as_integers(
    duck: Store, ci: FakeCI
) -> None:
    for pid in range(9996, 10003):
        ci.index("mozilla-central", node(pid), f"g{pid}")
        ci.group(f"g{pid}", [[_finished(f"g{pid}", f"g{pid}", 60)]])
    doc = {pid: [node(pid)] for pid in range(10000, 10003)}
    ci.pushlog("mozilla-central", pushlog_doc(doc, 10002), 9999, 10199)
    ci.pushlog("mozilla-central", pushlog_doc({}, 10002), 10002, 10202)
    for start in (9997, 9995):  # the two pushes below the oldest one costed
        below = {pid: [node(pid)] for pid in (start + 1, start + 2)}
        ci.pushlog("mozilla-central", pushlog_doc(below, 10002), start, start + 2)
    checkpoint = checkpoint_name("push", "mozilla-central")
    assert _scan(duck, ci, since=9999).checkpoint == 10002
    # As strings the oldest push is "10000" and the newest "9999": a string min would backfill
    # 9997..9999 twice, a string max would move the checkpoint back to 9999.
    for rows in ([9998, 9999], [9996, 9997]):
        result = _scan(duck, ci, backfill=2)
        assert (result.checkpoint, result.pushes_checked) == (10002, 2)
        assert duck.checkpoint(checkpoint) == "10002"
        assert list(_groups(duck))[:2] == rows
    pages = [r.query for r in ci.server.requests if r.path.endswith("json-pushes")]
    assert [(int(q["startID"]), int(q["endID"])) for q in pages] == [
        (9999, 10199),
        (9997, 9999),
        (10002, 10202),
        (9995, 9997),
        (10002, 10202),
    ]
    costs = duck.query("SELECT push_id, group_state, tasks FROM push_costs ORDER BY push_id").rows
    assert costs == [(pid, "final", 1) for pid in range(9996, 10003)]
    assert all(type(pid) is int for pid, _, _ in costs)


def test_q2_a_push_with_every_changeset_hidden_is_never_built(duck: Store, ci: FakeCI) -> None:
    ci.pushlog("mozilla-central", pushlog_doc({1: [node(1)], 2: [], 3: [node(3)]}, 3), 0, 200)
    result = _scan(duck, ci, since=0)
    groups = _groups(duck)
    assert groups[2]["state"] == "never" and groups[2]["reason"] == "no visible changeset"
    assert groups[2]["lookups"] == 0
    assert result.checkpoint == 3 and set(groups) == {1, 2, 3}


def test_q3_a_decision_task_indexed_late_is_found_on_a_later_scan(duck: Store, ci: FakeCI) -> None:
    ci.pushlog("mozilla-central", pushlog_doc({1: [node(1)]}, 1, at=RECENT), 0, 200)
    ci.pushlog("mozilla-central", pushlog_doc({}, 1), 1, 201)
    _scan(duck, ci, since=0)
    assert _groups(duck)[1]["state"] == "not_found_yet"
    ci.index("mozilla-central", node(1), "decision1")
    ci.group("decision1", [[_finished("decision1", "decision1", 60)]])
    _scan(duck, ci)
    found = _groups(duck)[1]
    assert (found["state"], found["task_group_id"], found["lookups"]) == ("final", "decision1", 2)
    assert found["reason"] == "all 1 tasks finished"


def test_q3_lookups_give_up_once_the_push_is_old(duck: Store, ci: FakeCI) -> None:
    ci.pushlog("mozilla-central", pushlog_doc({1: [node(1)]}, 1, at=RECENT), 0, 200)
    ci.pushlog("mozilla-central", pushlog_doc({}, 1), 1, 201)
    _scan(duck, ci, since=0)
    _scan(duck, ci, now=NOW + timedelta(hours=25))
    assert _groups(duck)[1]["state"] == "never"
    lookups = ci.count("/api/index/")
    _scan(duck, ci, now=NOW + timedelta(hours=26))
    assert ci.count("/api/index/") == lookups  # never is final


def test_q4_the_pushlog_is_read_in_bounded_pages(duck: Store, ci: FakeCI) -> None:
    for start, end in ((0, 2), (2, 4), (4, 5)):
        pushes = {p: [node(p)] for p in range(start + 1, end + 1)}
        ci.pushlog("mozilla-central", pushlog_doc(pushes, 5), start, end)
    result = _scan(duck, ci, since=0, settings={"pushlog_page_size": 2})
    assert result.pushes_fetched == 5 and result.checkpoint == 5
    pages = [r.query for r in ci.server.requests if r.path.endswith("json-pushes")]
    # the first page tells lastpushid; the others are fetched http_concurrency at a time
    bounds = [(int(q["startID"]), int(q["endID"])) for q in pages]
    assert bounds[0] == (0, 2) and sorted(bounds) == [(0, 2), (2, 4), (4, 5)]


def _one_group_push(ci: FakeCI, entries: list[dict[str, Any]], *, at: int = RECENT) -> None:
    ci.pushlog("mozilla-central", pushlog_doc({1: [node(1)]}, 1, at=at), 0, 200)
    ci.pushlog("mozilla-central", pushlog_doc({}, 1), 1, 201)
    ci.index("mozilla-central", node(1), "g1")
    ci.group("g1", [entries])


def test_q5_a_zero_usage_month_is_no_price_and_the_provisioner_counts(
    duck: Store, ci: FakeCI
) -> None:
    linux = renamed(entry("failed"), "t2", "g1")
    _one_group_push(ci, [_finished("g1", "g1", 60), linux])
    _scan(duck, ci, since=0)
    _rate(duck, "gecko-t-win10-64", 3.6, usage_hours=0.0)  # cost / 0 h: no rate, not infinity
    _rate(duck, "gecko-3-b-linux", 0.27, provisioner="ec2-manager-production")
    _rate(duck, "gecko-3-b-linux", 0.50, provisioner="aws-provisioner-v1")  # the task's own
    runs = {r["task_id"]: r for r in duck.query("SELECT * FROM push_task_runs").dicts()}
    assert runs["g1"]["pricing_method"] == "unpriced" and runs["g1"]["cost"] is None
    assert runs["t2"]["cost"] == pytest.approx(526.231 / 3600 * 0.50, abs=1e-9)
    push = duck.query("SELECT unpriced_seconds FROM push_costs").dicts()[0]
    assert push["unpriced_seconds"] == pytest.approx(60.0)


def test_q6_the_three_measures_filter_runs_differently(duck: Store, ci: FakeCI) -> None:
    retried = _finished("g1", "g1", 200)
    first_run = {
        **retried["status"]["runs"][0],
        "runId": 0,
        "state": "exception",
        "reasonResolved": "worker-shutdown",
        "resolved": "2025-12-31T22:01:40.000Z",
    }
    retried["status"]["runs"] = [first_run, {**retried["status"]["runs"][0], "runId": 1}]
    failed = _finished("t2", "g1", 300, state="failed")
    unscheduled = renamed(entry("unscheduled"), "t3", "g1")
    _one_group_push(ci, [retried, failed, unscheduled])
    _scan(duck, ci, since=0)
    _rate(duck, "gecko-t-win10-64", 3.6)  # 0.001 $ per second
    push = duck.query("SELECT * FROM push_costs").dicts()[0]
    assert (push["tasks"], push["runs"], push["retried_runs"], push["failed_runs"]) == (3, 3, 1, 2)
    assert push["total_cost"] == pytest.approx(0.6)  # every run: 100 + 200 + 300 s
    assert push["ideal_cost"] == pytest.approx(0.2)  # the last run of the completed task
    assert push["compute_seconds"] == pytest.approx(300.0)  # all runs of the completed task
    assert push["retried_cost_share"] == pytest.approx(0.1 / 0.6)
    assert push["failed_cost_share"] == pytest.approx(0.4 / 0.6)


def test_q7_a_running_group_is_listed_again_until_it_finishes(duck: Store, ci: FakeCI) -> None:
    running = _finished("t2", "g1", 120)
    running["status"]["state"] = "running"
    running["status"]["runs"][0].update(state="running", resolved=None)
    _one_group_push(ci, [_finished("g1", "g1", 60), running])
    _scan(duck, ci, since=0)
    assert _groups(duck)[1]["state"] == "non_final"
    assert _groups(duck)[1]["reason"] == "1 of 2 tasks unfinished"
    ci.group("g1", [[_finished("g1", "g1", 60), _finished("t2", "g1", 120)]])
    _scan(duck, ci)
    assert _groups(duck)[1]["state"] == "final"
    run = duck.query("SELECT state, run_seconds FROM push_task_runs WHERE task_id = 't2'").rows
    assert run == [("completed", pytest.approx(120.0))]
    listed = ci.count("/api/queue/v1/task-group/")
    _scan(duck, ci)
    assert ci.count("/api/queue/v1/task-group/") == listed  # final groups are not listed again


def test_q7_an_unfinished_group_is_final_after_the_age_cut_off(duck: Store, ci: FakeCI) -> None:
    _one_group_push(ci, [renamed(entry("unscheduled"), "g1", "g1")])
    _scan(duck, ci, since=0)
    assert _groups(duck)[1]["state"] == "non_final"
    _scan(duck, ci, now=NOW + timedelta(days=8))
    assert _groups(duck)[1]["state"] == "final"
    assert _groups(duck)[1]["reason"] == "1 tasks unfinished 168 h after the push"


def _push_and_nightly_groups(duck: Store, ci: FakeCI) -> None:
    """Push 1 in both modes: a 60 s run in its push group, a 120 s run in its nightly group."""
    _one_group_push(ci, [_finished("g1", "g1", 60)])
    nightly = f"gecko.v2.mozilla-central.nightly.revision.{node(1)}.firefox.linux64-opt"
    ci.server.add("GET", f"/api/index/v1/task/{nightly}", body={"taskId": "n1"})
    ci.group("n1", [[_finished("n1", "n1", 120)]])
    _scan(duck, ci, since=0)
    _scan(duck, ci, since=0, mode="nightly")


def test_q8_one_cost_file_prices_the_push_and_the_nightly_analyses(
    duck: Store, ci: FakeCI, tmp_path: Path
) -> None:
    """measuring_ci read the cost file under a key (`costs_csv_file`) that the push and nightly
    configs had renamed (`aws_costs_csv_file`): those analyses raised KeyError and only
    releases were priced. Here the cost file is given once, to `ci-cost prices`, and the push
    and the nightly reports both come out priced by it."""
    _push_and_nightly_groups(duck, ci)
    table = tmp_path / "costs.csv"
    header = "modified,year,month,provider,provisioner,worker_type,usage_hours,cost\n"
    table.write_text(
        header + "2026-01-01 00:00:00,2025,12,aws,aws-provisioner-v1,gecko-t-win10-64,10,36\n"
    )
    db = duck.url
    duck.close()
    loaded = run_cli("ci-cost", "prices", str(table), "--json", db=db)
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout) == {"format": "worker_type_8", "months": {"2025-12": 1}}
    for mode, seconds in (("push", 60), ("nightly", 120)):
        shown = run_cli("ci-cost", "report", "--mode", mode, "--json", db=db)
        assert shown.returncode == 0, (mode, shown.stderr)
        (push,) = json.loads(shown.stdout)
        assert (push["push_id"], push["group_state"], push["runs"]) == (1, "final", 1), mode
        assert (push["pricing_methods"], push["unpriced_seconds"]) == ("worker_type_rate", 0), mode
        assert push["total_cost"] == pytest.approx(seconds / 3600 * 3.6), mode  # 36 $ / 10 h


def test_q11_both_modes_share_one_price_table_and_typed_push_times(duck: Store, ci: FakeCI) -> None:
    _push_and_nightly_groups(duck, ci)
    _rate(duck, "gecko-t-win10-64", 3.6)
    rows = duck.query("SELECT mode, pushed_at, total_cost FROM push_costs ORDER BY mode").rows
    assert [(m, c) for m, _, c in rows] == [
        ("nightly", pytest.approx(0.12)),
        ("push", pytest.approx(0.06)),
    ]
    assert rows[0][1] == rows[1][1] and rows[0][1].tzinfo is not None


def test_q9_rescanning_the_same_groups_counts_them_once(duck: Store, ci: FakeCI) -> None:
    _one_group_push(ci, [_finished("g1", "g1", 60), _finished("t2", "g1", 30, state="failed")])
    _scan(duck, ci, since=0)
    _rate(duck, "gecko-t-win10-64", 3.6)
    before = duck.query("SELECT * FROM cost_by_repo_day").rows
    with duck.transaction() as tx:
        tx.delete("push_task_groups", "TRUE")
    _scan(duck, ci, since=0)  # every group listed and written again
    assert duck.query("SELECT * FROM cost_by_repo_day").rows == before
    assert before[0][-3] == pytest.approx(0.09)  # total_cost


def test_q10_a_repo_with_a_slash_keeps_one_key_everywhere(duck: Store, ci: FakeCI) -> None:
    repo = "integration/autoland"
    ci.pushlog(repo, pushlog_doc({1: [node(1)]}, 1), 0, 200)
    ci.pushlog(repo, pushlog_doc({}, 1), 1, 201)
    ci.index("autoland", node(1), "g1")  # the index knows the short name
    ci.group("g1", [[_finished("g1", "g1", 60)]])
    _scan(duck, ci, since=0, repos=[f"/{repo}/"])
    _scan(duck, ci, repos=[repo])
    assert duck.query("SELECT DISTINCT repo FROM push_costs").rows == [(repo,)]
    assert duck.checkpoint(checkpoint_name("push", repo)) == "1"
    assert ci.count("/api/queue/v1/task-group/") == 1  # analysed once, not on every scan


def test_q12_finished_means_every_task_finished_not_24_hours(duck: Store, ci: FakeCI) -> None:
    _one_group_push(ci, [_finished("g1", "g1", 60)], at=RECENT)  # one hour old, all done
    _scan(duck, ci, since=0)
    assert _groups(duck)[1]["state"] == "final"


def test_q12_a_two_day_old_push_with_a_running_task_is_not_final(duck: Store, ci: FakeCI) -> None:
    running = _finished("g1", "g1", 60)
    running["status"]["runs"][0].update(state="running", resolved=None)
    running["status"]["state"] = "running"
    _one_group_push(ci, [running], at=RECENT - 2 * 86400)
    _scan(duck, ci, since=0)
    assert _groups(duck)[1]["state"] == "non_final"


def test_q14_q17_ids_stay_integers_and_an_unstarted_group_costs_zero(
    duck: Store, ci: FakeCI
) -> None:
    _one_group_push(ci, [renamed(entry("unscheduled"), "g1", "g1")], at=RECENT - 30 * 86400)
    _scan(duck, ci, since=0)
    push = duck.query("SELECT * FROM push_costs").dicts()[0]
    assert isinstance(push["push_id"], int) and isinstance(push["tasks"], int)
    assert (push["tasks"], push["runs"], push["total_cost"], push["ideal_cost"]) == (1, 0, 0, 0)


def test_q16_reloading_a_cost_month_replaces_cost_and_modified(duck: Store, tmp_path: Any) -> None:
    header = "modified,year,month,provider,provisioner,worker_type,usage_hours,cost\n"
    table = tmp_path / "costs.csv"
    table.write_text(header + "2025-01-02 10:00:00,2024,12,aws,p,gecko-t-win10-64,10,1.0\n")
    assert load_prices(duck, table).months == {date(2024, 12, 1): 1}
    table.write_text(header + "2025-02-03 10:00:00,2024,12,aws,p,gecko-t-win10-64,10,2.0\n")
    load_prices(duck, table)
    (row,) = duck.query("SELECT cost, modified FROM worker_type_costs").rows
    assert row[0] == 2.0 and row[1].date() == date(2025, 2, 3)
