"""sources/taskcluster/group_pages.py: whole pages to Arrow give exactly the entry-by-entry rows."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest

from shipgauge.sources.taskcluster import group_pages as pages
from shipgauge.sources.taskcluster import groups as source
from tests.support.recorded_http import fixtures_dir

TASKHUDDLER = fixtures_dir() / "hgpush" / "taskhuddler"
PAGES = ("completed", "continuation1", "continuation2", "failed", "unscheduled", "missing")
DAY = date(2026, 1, 1)


def _entry_by_entry(body: bytes) -> source.GroupListing:
    listing = source.GroupListing("g")
    page = source.parse_task_group_page(body, task_group_id="g")
    source.rows_from_entries(listing, page.entries, submitted=DAY)
    return listing


def _whole_page(body: bytes) -> tuple[source.GroupListing, str | None]:
    listing = source.GroupListing("g")
    token = pages.read_task_group_page(listing, body, submitted=DAY)
    return listing, token


@pytest.mark.parametrize("name", PAGES)
def test_whole_page_gives_the_entry_by_entry_rows(name: str) -> None:
    body = (TASKHUDDLER / f"listTaskGroup.{name}.json").read_bytes()
    expected = _entry_by_entry(body)
    listing, token = _whole_page(body)
    assert listing.task_tables and not listing.tasks  # the whole-page path was taken
    assert token == source.parse_task_group_page(body, task_group_id="g").continuation_token
    assert pages.task_table(listing).to_pylist() == pages.task_table(expected).to_pylist()
    assert pages.run_table(listing).to_pylist() == pages.run_table(expected).to_pylist()
    assert listing.task_states == expected.task_states
    assert (listing.task_count, listing.run_count) == (expected.task_count, expected.run_count)


def _variant(edit: str) -> bytes:
    doc = json.loads((TASKHUDDLER / "listTaskGroup.completed.json").read_bytes())
    status = doc["tasks"][0]["status"]
    if edit == "legacy queue":  # provisionerId/workerType only: taken whole, same rows
        queue = status.pop("taskQueueId", None) or "aws-provisioner-v1/gecko-t-linux"
        status["provisionerId"], status["workerType"] = queue.split("/")
    elif edit == "epoch time":
        status["runs"][0]["started"] = 1561577770
    elif edit == "naive time":
        status["runs"][0]["started"] = "2019-06-26T19:36:10"
    elif edit == "no state":  # a second entry without a state: kept as a reject
        other = copy.deepcopy(doc["tasks"][0])
        other["status"]["taskId"] = "other"
        del other["status"]["state"]
        doc["tasks"].append(other)
    return json.dumps(doc).encode()


@pytest.mark.parametrize("edit", ["legacy queue", "epoch time", "naive time", "no state"])
def test_unusual_pages_give_the_entry_by_entry_rows_and_rejects(edit: str) -> None:
    body = _variant(edit)
    expected = _entry_by_entry(body)
    listing, _ = _whole_page(body)
    assert pages.task_table(listing).to_pylist() == pages.task_table(expected).to_pylist()
    assert pages.run_table(listing).to_pylist() == pages.run_table(expected).to_pylist()
    assert listing.rejects == expected.rejects
    assert bool(listing.rejects) == (edit == "no state")


def test_tag_spellings_give_the_entry_by_entry_known_tags() -> None:
    # Known-tag columns are read key by key over the page: two spellings of one tag in a task
    # keep the later one, a task without tags or without that tag gets NULL, as known_tags does.
    doc = json.loads((TASKHUDDLER / "listTaskGroup.completed.json").read_bytes())
    first, second, third = (copy.deepcopy(doc["tasks"][0]) for _ in range(3))
    first["task"]["tags"] = {"createdForUser": "a@x", "created-for-user": "b@x", "os": "linux"}
    second["task"]["tags"] = {"created_for_user": "c@x", "createdForUser": "d@x"}
    third["task"]["tags"] = {}
    for n, entry in enumerate((first, second, third)):
        entry["status"]["taskId"] = f"t{n}"
    doc["tasks"] = [first, second, third]
    body = json.dumps(doc).encode()
    listing, _ = _whole_page(body)
    assert listing.task_tables and not listing.tasks
    tasks = pages.task_table(listing)
    assert tasks.to_pylist() == pages.task_table(_entry_by_entry(body)).to_pylist()
    assert tasks.column("created_for_user").to_pylist() == ["b@x", "d@x", None]
    assert tasks.column("os").to_pylist() == ["linux", None, None]
