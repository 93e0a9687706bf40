"""What a scan fetches, where it starts, and what it does with bad or missing upstreams."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from shipgauge.errors import UpstreamError
from shipgauge.pipelines.ci_cost import DEAD_LETTER_SOURCE, checkpoint_name, scan_ci_cost, writer
from shipgauge.pipelines.ci_cost.groups import ANSWER_DEAD_LETTER_SOURCE
from shipgauge.pipelines.dead_letters import retry_dead_letters
from shipgauge.store import Store
from shipgauge.store.dead_letters import DeadLetter, list_dead_letters
from tests.conftest import free_port
from tests.integration.ci_cost.fake_ci import NOW, FakeCI, entry, node, pushlog_doc, renamed

RECENT = int((NOW - timedelta(hours=1)).timestamp()) - 10
RE_ASKED = "%s not readable; asked again on the next scan"


def _scan(store: Store, ci: FakeCI, **kwargs: Any) -> Any:
    settings = ci.settings(**kwargs.pop("settings", {}))
    return scan_ci_cost(store=store, settings=settings, now=NOW, **kwargs)


def _done(task_id: str, group: str) -> dict[str, Any]:
    return renamed(entry(), task_id, group)


def _running(task_id: str, group: str) -> dict[str, Any]:
    item = renamed(entry(), task_id, group)
    item["status"]["state"] = "running"
    item["status"]["runs"][0].update(state="running", resolved=None)
    return item


def _requests(ci: FakeCI, since: int) -> dict[str, int]:
    kinds = {"json-pushes": 0, "index": 0, "queue task": 0, "task-group": 0}
    for request in ci.server.requests[since:]:
        if request.path.endswith("json-pushes"):
            kinds["json-pushes"] += 1
        elif request.path.startswith("/api/index/"):
            kinds["index"] += 1
        elif request.path.startswith("/api/queue/v1/task-group/"):
            kinds["task-group"] += 1
        else:
            kinds["queue task"] += 1
    return kinds


def test_second_scan_fetches_only_new_pushes_and_unfinished_groups(duck: Store, ci: FakeCI) -> None:
    pushes = {1: [node(1)], 2: [node(2)], 3: [node(3)]}
    ci.pushlog("mozilla-central", pushlog_doc(pushes, 3, at=RECENT), 0, 200)
    ci.index("mozilla-central", node(1), "g1")
    ci.group("g1", [[_done("g1", "g1")], [_done("t1", "g1")]])  # two pages, all finished
    ci.index("mozilla-central", node(2), "g2")
    ci.group("g2", [[_done("g2", "g2"), _running("t2", "g2")]])  # one task still running
    # push 3: the index has nothing yet
    first = _scan(duck, ci, since=0)[0]
    assert first.states == {"final": 1, "non_final": 1, "not_found_yet": 1}
    assert _requests(ci, 0) == {"json-pushes": 1, "index": 3, "queue task": 0, "task-group": 3}

    before = len(ci.server.requests)
    ci.pushlog("mozilla-central", pushlog_doc({4: [node(4)]}, 4, at=RECENT), 3, 203)
    ci.index("mozilla-central", node(4), "g4")
    ci.group("g4", [[_done("g4", "g4")]])
    second = _scan(duck, ci)[0]
    # the new push 4 (index + group), push 3 again (index), group g2 again; never g1
    assert _requests(ci, before) == {"json-pushes": 1, "index": 2, "queue task": 0, "task-group": 2}
    assert second.pushes_checked == 3 and second.checkpoint == 4
    listed = [r.path for r in ci.server.requests[before:] if "task-group" in r.path]
    assert sorted(listed) == [
        "/api/queue/v1/task-group/g2/list",
        "/api/queue/v1/task-group/g4/list",
    ]


def test_a_group_listed_again_updates_its_stored_runs(duck: Store, ci: FakeCI) -> None:
    # The second scan's batch meets stored tasks: its plain insert is refused, and the batch is
    # written again with merges (the new group's rows too).
    ci.pushlog("mozilla-central", pushlog_doc({1: [node(1)]}, 1, at=RECENT), 0, 200)
    ci.index("mozilla-central", node(1), "g1")
    ci.group("g1", [[_done("g1", "g1"), _running("t1", "g1")]])
    assert _scan(duck, ci, since=0)[0].states == {"non_final": 1}
    ci.pushlog("mozilla-central", pushlog_doc({2: [node(2)]}, 2, at=RECENT), 1, 201)
    ci.index("mozilla-central", node(2), "g2")
    ci.group("g1", [[_done("g1", "g1"), _done("t1", "g1")]])
    ci.group("g2", [[_done("g2", "g2")]])
    second = _scan(duck, ci)[0]
    assert second.states == {"final": 2} and second.checkpoint == 2
    runs = duck.query("SELECT task_id, run_id, state FROM task_runs ORDER BY task_id").rows
    assert runs == [("g1", 0, "completed"), ("g2", 0, "completed"), ("t1", 0, "completed")]


def test_a_batch_meeting_stored_rows_after_a_written_chunk_merges_that_chunk_too(
    duck: Store, ci: FakeCI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A chunk per group: push 1's new group is inserted (and kept packed) before push 2's group,
    # listed again, meets its stored rows; the batch rolls back and both chunks are merged.
    monkeypatch.setattr(writer, "WRITE_CHUNK_ROWS", 1)
    ci.pushlog("mozilla-central", pushlog_doc({1: [node(1)], 2: [node(2)]}, 2, at=RECENT), 0, 200)
    ci.pushlog("mozilla-central", pushlog_doc({}, 2), 2, 202)
    ci.index("mozilla-central", node(2), "g2")
    ci.group("g2", [[_done("g2", "g2"), _running("t2", "g2")]])
    assert _scan(duck, ci, since=0)[0].states == {"not_found_yet": 1, "non_final": 1}
    ci.index("mozilla-central", node(1), "g1")
    ci.group("g1", [[_done("g1", "g1")]])
    ci.group("g2", [[_done("g2", "g2"), _done("t2", "g2")]])
    second = _scan(duck, ci)[0]
    assert second.states == {"final": 2} and (second.tasks, second.runs) == (3, 3)
    runs = duck.query("SELECT task_id, run_id, state FROM task_runs ORDER BY task_id").rows
    assert runs == [("g1", 0, "completed"), ("g2", 0, "completed"), ("t2", 0, "completed")]
    groups = duck.query("SELECT push_id, task_group_id FROM push_task_groups ORDER BY 1").rows
    assert groups == [(1, "g1"), (2, "g2")]


def test_a_group_that_is_not_the_decision_tasks_id_is_asked_of_the_queue(
    duck: Store, ci: FakeCI
) -> None:
    ci.pushlog("mozilla-central", pushlog_doc({1: [node(1)]}, 1), 0, 200)
    ci.index("mozilla-central", node(1), "decision")
    ci.task("decision", "other-group")
    ci.group("other-group", [[_done("decision", "other-group")]])
    _scan(duck, ci, since=0)
    row = duck.query("SELECT decision_task_id, task_group_id, state FROM push_task_groups").rows
    assert row == [("decision", "other-group", "final")]
    assert _requests(ci, 0)["queue task"] == 1


def test_first_scan_starts_first_scan_pushes_below_the_newest(duck: Store, ci: FakeCI) -> None:
    ci.pushlog("mozilla-central", pushlog_doc({}, 1000), 0, 0)
    pushes = {p: [node(p)] for p in (999, 1000)}
    ci.pushlog("mozilla-central", pushlog_doc(pushes, 1000), 998, 1198)
    result = _scan(duck, ci, settings={"ci_cost_first_scan_pushes": 2})[0]
    assert result.pushes_checked == 2 and result.checkpoint == 1000


def test_backfill_costs_pushes_below_the_oldest_scanned(duck: Store, ci: FakeCI) -> None:
    ci.pushlog("mozilla-central", pushlog_doc({11: [node(11)], 12: [node(12)]}, 12), 10, 210)
    _scan(duck, ci, since=10)
    ci.pushlog("mozilla-central", pushlog_doc({9: [node(9)], 10: [node(10)]}, 12), 8, 10)
    ci.pushlog("mozilla-central", pushlog_doc({}, 12), 12, 212)
    result = _scan(duck, ci, backfill=2)[0]
    assert result.pushes_checked == 2 and result.checkpoint == 12
    assert [r[0] for r in duck.query("SELECT push_id FROM push_task_groups ORDER BY 1").rows] == [
        9,
        10,
        11,
        12,
    ]


@pytest.mark.parametrize(
    "body",
    [b"<html>502 Bad Gateway</html>", json.dumps({"error": "unknown revision"}).encode()],
    ids=["not-json", "error-object-with-200"],
)
def test_a_bad_pushlog_page_stops_only_its_repository(duck: Store, ci: FakeCI, body: bytes) -> None:
    ci.server.add(
        "GET", "/integration/autoland/json-pushes", body=body, query={"startID": "0"}, status=200
    )
    ci.pushlog("mozilla-central", pushlog_doc({1: [node(1)]}, 1), 0, 200)
    broken, fine = _scan(duck, ci, since=0, repos=["integration/autoland", "mozilla-central"])
    assert broken.error and broken.pushes_checked == 0 and broken.checkpoint is None
    assert fine.error is None and fine.checkpoint == 1
    (letter,) = list_dead_letters(duck, source="hg.pushlog")
    assert letter.payload == body and letter.key == "integration/autoland:0-200"
    url = f"{ci.server.url}/integration/autoland/json-pushes?version=2&full=1&startID=0&endID=200"
    assert letter.error.endswith(f" (GET {url})")
    assert duck.checkpoint(checkpoint_name("push", "integration/autoland")) is None


def test_unreachable_taskcluster_fails_with_the_checkpoint_intact(duck: Store, ci: FakeCI) -> None:
    ci.pushlog("mozilla-central", pushlog_doc({1: [node(1)]}, 1), 0, 200)
    _scan(duck, ci, since=0)
    ci.pushlog("mozilla-central", pushlog_doc({2: [node(2)]}, 2), 1, 201)
    path = f"/api/index/v1/task/gecko.v2.mozilla-central.revision.{node(2)}.taskgraph.decision"
    ci.server.add("GET", path, status=503, body={"code": "ServiceUnavailable"})
    with pytest.raises(UpstreamError, match="taskcluster: HTTP 503"):
        _scan(duck, ci)
    assert duck.checkpoint(checkpoint_name("push", "mozilla-central")) == "1"
    assert duck.query("SELECT push_id FROM push_task_groups").rows == [(1,)]


def test_unreachable_hg_fails_after_retries_with_the_checkpoint_intact(
    duck: Store, ci: FakeCI
) -> None:
    ci.pushlog("mozilla-central", pushlog_doc({1: [node(1)]}, 1), 0, 200)
    _scan(duck, ci, since=0)
    checkpoints = "SELECT source, position FROM ingest_checkpoints ORDER BY source"
    before = duck.query(checkpoints).rows
    assert ("ci_cost.push:mozilla-central", "1") in before
    ci.server.add("GET", "/mozilla-central/json-pushes", status=503, body={"error": "busy"})
    asked = len(ci.server.requests)
    with pytest.raises(UpstreamError, match=r"hg pushlog: HTTP 503 .* after 3 tries"):
        _scan(duck, ci, settings={"http_retries": 2})
    assert _requests(ci, asked)["json-pushes"] == 3  # the first try and two retries
    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(UpstreamError, match="hg pushlog: ConnectError"):
        _scan(duck, ci, settings={"hg_url": dead, "http_retries": 1})
    assert duck.query(checkpoints).rows == before


def test_a_group_answer_that_is_not_a_page_is_a_dead_letter_and_is_listed_again(
    duck: Store, ci: FakeCI
) -> None:
    ci.pushlog("mozilla-central", pushlog_doc({1: [node(1)], 2: [node(2)]}, 2, at=RECENT), 0, 200)
    ci.index("mozilla-central", node(1), "g1")
    path = ci.group("g1", [[_done("g1", "g1")]])
    ci.index("mozilla-central", node(2), "g2")
    ci.group("g2", [[_done("g2", "g2")]])
    proxy_error = b"<html><body>502 Bad Gateway</body></html>"  # with HTTP 200, once
    ci.server.add("GET", path, body=proxy_error, headers={"Content-Type": "text/html"}, times=1)
    first = _scan(duck, ci, since=0)[0]
    assert first.states == {"non_final": 1, "final": 1}
    assert (first.dead_letters, first.tasks) == (1, 1)  # push 2 went on
    (letter,) = list_dead_letters(duck, source=ANSWER_DEAD_LETTER_SOURCE)
    assert letter.key is not None and letter.key.startswith(f"{ci.server.url}{path}?limit=")
    assert (letter.error, letter.payload) == ("task group g1: page is not JSON", proxy_error)
    reason = "SELECT state, reason FROM push_task_groups WHERE push_id = 1"
    assert duck.query(reason).rows == [("non_final", RE_ASKED % "group g1")]
    ci.pushlog("mozilla-central", pushlog_doc({}, 2), 2, 202)
    second = _scan(duck, ci)[0]
    assert (second.pushes_checked, second.states, second.tasks) == (1, {"final": 1}, 1)
    assert duck.query("SELECT count(*) FROM tasks WHERE task_group_id = 'g1'").scalar() == 1


def test_a_bad_answer_for_an_old_running_group_does_not_give_it_up(duck: Store, ci: FakeCI) -> None:
    old = int((NOW - timedelta(hours=30)).timestamp())  # past the 24 h lookup give-up
    ci.pushlog("mozilla-central", pushlog_doc({1: [node(1)]}, 1, at=old), 0, 200)
    ci.index("mozilla-central", node(1), "g1")
    path = ci.group("g1", [[_done("g1", "g1"), _running("t1", "g1")]])
    assert _scan(duck, ci, since=0)[0].states == {"non_final": 1}
    ci.pushlog("mozilla-central", pushlog_doc({}, 1), 1, 201)
    ci.server.add("GET", path, body=b"<html>502</html>", times=1)
    assert _scan(duck, ci)[0].states == {"non_final": 1}
    state = "SELECT state, reason FROM push_task_groups WHERE push_id = 1"
    assert duck.query(state).rows == [("non_final", RE_ASKED % "group g1")]
    ci.group("g1", [[_done("g1", "g1"), _done("t1", "g1")]])
    assert _scan(duck, ci)[0].states == {"final": 1}
    runs = "SELECT state FROM task_runs WHERE task_id = 't1'"
    assert duck.query(runs).rows == [("completed",)]


def test_an_index_answer_without_a_task_id_is_a_dead_letter(duck: Store, ci: FakeCI) -> None:
    ci.pushlog("mozilla-central", pushlog_doc({1: [node(1)]}, 1, at=RECENT), 0, 200)
    path = ci.index("mozilla-central", node(1), "g1")
    ci.server.add("GET", path, body={"code": "InternalServerError", "message": "try later"})
    result = _scan(duck, ci, since=0)[0]
    assert (result.states, result.dead_letters) == ({"not_found_yet": 1}, 1)
    (letter,) = list_dead_letters(duck, source=ANSWER_DEAD_LETTER_SOURCE)
    namespace = path.rpartition("/")[2]
    assert (letter.key, letter.error) == (
        f"{ci.server.url}{path}",
        f"index answer for {namespace} has no taskId",
    )
    assert json.loads(letter.payload)["code"] == "InternalServerError"
    reason = "SELECT reason FROM push_task_groups WHERE push_id = 1"
    assert duck.query(reason).scalar() == "index entry not readable yet"


def test_an_unreadable_task_entry_is_a_dead_letter_that_can_be_replayed(
    duck: Store, ci: FakeCI
) -> None:
    bad = _done("t2", "g1")
    del bad["status"]["runs"]
    ci.pushlog("mozilla-central", pushlog_doc({1: [node(1)]}, 1), 0, 200)
    ci.index("mozilla-central", node(1), "g1")
    ci.group("g1", [[_done("g1", "g1"), bad]])
    result = _scan(duck, ci, since=0)[0]
    assert result.dead_letters == 1 and result.tasks == 1
    (letter,) = list_dead_letters(duck, source=DEAD_LETTER_SOURCE)
    assert (letter.key, letter.error) == ("g1/t2", "task t2: status lacks runs")
    fixed = DeadLetter(
        letter.id,
        letter.source,
        letter.key,
        letter.received_at,
        letter.error,
        json.dumps(_done("t2", "g1")).encode(),
    )
    assert retry_dead_letters(duck, [fixed]).ingested == [letter.id]
    assert duck.query("SELECT count(*) FROM tasks WHERE task_group_id = 'g1'").scalar() == 2
