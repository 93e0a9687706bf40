"""Per-commit facts kept at ingest, on both engines: whatever the arrival order, batching and
replays, they equal a recomputation from the stored events; and a report whose window starts
mid-history still counts failures from before it that recover inside it."""

from __future__ import annotations

import random
from typing import Any

import pytest

from shipgauge.pipelines.delivery.facts import refresh_delivery_facts
from shipgauge.store import Store
from tests.integration.delivery.delivery_api import Api
from tests.integration.delivery.delivery_history import history

HOUR = 3600
FACTS = {
    "delivery_commit_pushes": "SELECT * FROM delivery_commit_pushes ORDER BY 1, 2",
    "delivery_service_environments": "SELECT * FROM delivery_service_environments ORDER BY 1, 2",
    "delivery_commit_deployments": "SELECT * FROM delivery_commit_deployments ORDER BY 1, 2, 3",
}
# Commits pushed again later and deployed twice: only the earliest of each counts.
LATER = [
    {"event_id": "p1-again", "service": "web", "kind": "push", "time": "2024-03-03T09:00:00Z",
     "commits": ["a1"]},
    {"event_id": "D1-again", "service": "web", "kind": "deploy", "time": "2024-03-05T09:00:00Z",
     "commits": ["a1", "b1"]},
    {"event_id": "S0", "service": "web", "kind": "deploy", "time": "2024-03-05T09:00:00Z",
     "commits": ["a1"], "environment": "staging"},
]  # fmt: skip


def _facts(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    return {table: store.query(sql).rows for table, sql in FACTS.items()}


def _post(api: Api, events: list[dict[str, Any]]) -> None:
    response = api.client.post("/api/v1/events", json=events, headers=api.auth)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("seed", [1, 2])
def test_facts_do_not_depend_on_arrival_order(api: Api, seed: int) -> None:
    events = history() + LATER
    shuffle = random.Random(seed)
    shuffle.shuffle(events)
    cut = sorted(shuffle.sample(range(1, len(events)), 4))
    batches = [events[a:b] for a, b in zip([0, *cut], [*cut, len(events)], strict=True)]
    for batch in [*batches, batches[1]]:  # the last one is a replay
        _post(api, batch)
    kept = _facts(api.store)
    refresh_delivery_facts(api.store)
    assert _facts(api.store) == kept
    web = {
        (env, sha): (pushed.isoformat()[:16], deployed and deployed.isoformat()[:16], event)
        for service, env, sha, pushed, deployed, event in kept["delivery_commit_deployments"]
        if service == "web" and sha in ("a1", "b1")
    }
    assert web == {
        ("production", "a1"): ("2024-03-01T09:00", "2024-03-01T11:00", "D1"),
        ("production", "b1"): ("2024-03-02T10:00", "2024-03-02T14:00", "D3"),
        ("staging", "a1"): ("2024-03-01T09:00", "2024-03-05T09:00", "S0"),
        ("staging", "b1"): ("2024-03-02T10:00", None, None),
    }


def test_a_known_id_sent_again_with_other_content_changes_nothing(api: Api) -> None:
    _post(api, history())
    kept = _facts(api.store)
    # p1 again, earlier and with another commit; and a new id sent twice in one batch.
    resent = {"event_id": "p1", "service": "web", "kind": "push", "time": "2024-02-01T09:00:00Z",
              "commits": ["zz"]}  # fmt: skip
    first, second = (
        {**resent, "event_id": "p-new", "commits": ["z1"]},
        {**resent, "event_id": "p-new"},
    )
    _post(api, [resent, first, second])
    commits = (
        "SELECT event_id, commit_sha FROM delivery_event_commits WHERE event_id IN ('p1', 'p-new')"
    )
    assert sorted(api.store.query(commits).rows) == [("p-new", "z1"), ("p1", "a1"), ("p1", "a2")]
    facts = _facts(api.store)
    new_pushes = [row for row in facts["delivery_commit_pushes"] if row not in kept[
        "delivery_commit_pushes"]]  # fmt: skip
    assert [(service, sha) for service, sha, _ in new_pushes] == [("web", "z1")]
    assert kept["delivery_commit_deployments"] == [
        row for row in facts["delivery_commit_deployments"] if row[2] != "z1"
    ]


def test_a_window_from_mid_history_keeps_earlier_failures_that_recover_in_it(api: Api) -> None:
    _post(api, history())
    response = api.client.get(
        "/api/v1/dora",
        params={"service": "web", "start": "2024-03-04T13:00:00Z", "end": "2024-03-31"},
    )
    assert response.status_code == 200, response.text
    (group,) = response.json()["services"]
    recovery = group["metrics"]["failed_deployment_recovery_time"]
    # Recovered inside the window: D4 (I1, 5 h) and D1 (I3, 8 days), both deployed before the
    # window and before its last earlier success D5; D5 (I2, 46 h); D6 (rolled back, 24 h).
    assert recovery["samples"] == 4
    assert (recovery["p50"], recovery["p75"]) == (35 * HOUR, pytest.approx(82.5 * HOUR))
    fail = group["metrics"]["change_fail_rate"]
    assert (fail["samples"], fail["value"]) == (2, 0.5)  # D6 failed (D7 rolled it back), D7 not
    rework = group["metrics"]["deployment_rework_rate"]
    assert (rework["samples"], rework["value"]) == (2, 0.5)  # D7, a rollback
