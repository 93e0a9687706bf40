"""sources/taskcluster/groups.py on the recorded taskhuddler pages and on the state rules."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from shipgauge.config import Settings
from shipgauge.errors import SourceError
from shipgauge.sources.taskcluster import groups as source
from tests.support.recorded_http import fixtures_dir

TASKHUDDLER = fixtures_dir() / "hgpush" / "taskhuddler"
EXPECTED = json.loads((TASKHUDDLER / "expected-values.json").read_text())
CHAIN = ("completed", "continuation1", "continuation2", "failed", "unscheduled")
DAY = date(2026, 1, 1)


def _page(name: str) -> source.TaskGroupPage:
    body = (TASKHUDDLER / f"listTaskGroup.{name}.json").read_bytes()
    return source.parse_task_group_page(body, task_group_id="asked")


def _listing(*names: str) -> source.GroupListing:
    listing = source.GroupListing("eShtp2faQgy4iZZOIhXvhw")
    for name in names:
        source.rows_from_entries(listing, _page(name).entries, submitted=DAY)
    return listing


def test_parse_task_group_page_follows_the_recorded_chain() -> None:
    tokens = [_page(name).continuation_token for name in CHAIN]
    assert tokens == [*CHAIN[1:], None]
    assert _page("completed").task_group_id == EXPECTED["graph"]["taskGroupId"]


def test_rows_from_entries_keeps_order_states_and_runs() -> None:
    listing = _listing(*CHAIN)
    graph = EXPECTED["graph"]
    assert [t["task_id"] for t in listing.tasks] == graph["task_ids_in_order"]
    states = list(listing.task_states.values())
    assert {s: states.count(s) for s in set(states)} == graph["current_states"]
    assert listing.unfinished == 1 and len(listing.runs) == 5 and not listing.rejects
    first = listing.runs[0]
    assert first["resolved"] is not None and first["started"] is not None
    assert (first["resolved"] - first["started"]).total_seconds() == pytest.approx(852.561)
    assert listing.tasks[0]["label"] == EXPECTED["tasks"]["listTaskGroup.completed.json#0"]["label"]


def test_rows_from_entries_keeps_a_run_that_never_started() -> None:
    (run,) = _listing("missing").runs
    expected = EXPECTED["tasks"]["listTaskGroup.missing.json#0"]
    assert (run["state"], run["started"], run["resolved"]) == ("failed", None, None)
    assert run["scheduled"] is not None
    assert run["scheduled"].isoformat().startswith(expected["scheduled"][:19])


def test_rows_from_entries_turns_a_bad_entry_into_a_reject() -> None:
    listing = source.GroupListing("g")
    entries = [b'{"task": {}}', b'"text"', b'{"status": {"taskId": "t1"}, "task": {"tags": 3}}']
    source.rows_from_entries(listing, entries, submitted=DAY)
    keys = [key for key, _, _ in listing.rejects]
    assert keys == ["g/?", "g/?", "g/t1"]
    assert [error.partition(" (")[0] for _, error, _ in listing.rejects] == [
        "entry has no status object",
        "entry has no status object",
        "task t1: tags is not an object",
    ]
    assert [payload for _, _, payload in listing.rejects] == entries  # kept byte for byte


def test_rows_from_entries_keeps_the_tags_as_they_came() -> None:
    listing = source.GroupListing("g")
    raw = b'{"status": %s, "task": {"payload": {"big": [1, 2]}, "tags": {"kind":  "test"}}}'
    status = json.dumps(json.loads(_page("completed").entries[0])["status"])
    source.rows_from_entries(listing, [raw % status.encode()], submitted=DAY)
    (task,) = listing.tasks
    assert task["tags"] == '{"kind":  "test"}' and task["kind"] == "test"


def test_parse_answers_without_ids_raise() -> None:
    with pytest.raises(SourceError, match="has no taskId"):
        source.parse_indexed_task({"namespace": "x"}, path="x")
    with pytest.raises(SourceError, match="has no taskGroupId"):
        source.parse_task_group_id({}, task_id="t")
    with pytest.raises(SourceError, match="no tasks list"):
        source.parse_task_group_page(b'{"tasks": null}', task_group_id="g")
    with pytest.raises(SourceError, match="page is not JSON"):
        source.parse_task_group_page(b"<html>", task_group_id="g")


def test_index_path_fills_the_route_templates() -> None:
    settings = Settings()
    revision = "a" * 40
    assert (
        source.index_path(
            settings.ci_cost_decision_route,
            repo="integration/autoland",
            revision=revision,
            product="firefox",
        )
        == f"gecko.v2.autoland.revision.{revision}.taskgraph.decision"
    )
    assert (
        source.index_path(
            settings.ci_cost_nightly_route,
            repo="mozilla-central",
            revision=revision,
            product="firefox",
        )
        == f"gecko.v2.mozilla-central.nightly.revision.{revision}.firefox.linux64-opt"
    )
    with pytest.raises(SourceError, match="unknown placeholder 'branch'"):
        source.index_path("gecko.{branch}", repo="r", revision=revision, product="p")


def test_default_root_url_is_not_the_dead_one() -> None:
    assert Settings().taskcluster_root_url != "https://taskcluster.net"  # quirk Q13


@pytest.mark.parametrize(
    ("age_h", "state"), [(1, source.NOT_FOUND_YET), (24, source.NEVER), (30, source.NEVER)]
)
def test_lookup_state_retries_until_the_give_up_age(age_h: int, state: str) -> None:
    found, _ = source.lookup_state(
        push_age=timedelta(hours=age_h), give_up_after=timedelta(hours=24)
    )
    assert found == state


def test_group_state_is_final_only_when_no_task_can_still_run() -> None:
    week = timedelta(days=7)
    whole = _listing(*CHAIN)  # one unscheduled task
    assert source.group_state(whole, push_age=timedelta(hours=1), final_after=week) == (
        source.NON_FINAL,
        "1 of 6 tasks unfinished",
    )
    assert source.group_state(whole, push_age=week, final_after=week)[0] == source.FINAL
    done = _listing("completed", "failed")
    assert source.group_state(done, push_age=timedelta(0), final_after=week) == (
        source.FINAL,
        "all 2 tasks finished",
    )
    empty = source.GroupListing("g")
    assert source.group_state(empty, push_age=timedelta(0), final_after=week)[0] == source.NON_FINAL
