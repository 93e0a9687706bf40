"""A recorded hg pushlog and Taskcluster index/queue for the CI-cost tests.

Recorded answers come from tests/fixtures/hgpush (the taskhuddler `listTaskGroup` chain and
the treeherder pushlog). Synthetic groups, where a test needs a state the recordings lack
(running, retried), are built from the recorded entries with only the named fields changed.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from shipgauge.config import Settings, load_settings
from tests.support.recorded_http import RecordedHttpServer, fixtures_dir

HGPUSH = fixtures_dir() / "hgpush"
TASKHUDDLER = HGPUSH / "taskhuddler"
CHAIN = ("completed", "continuation1", "continuation2", "failed", "unscheduled")
RECORDED_GROUP = "eShtp2faQgy4iZZOIhXvhw"
PUSHLOG = HGPUSH / "treeherder" / "hg_pushlog.v2-full.json"
EXPECTED = json.loads((TASKHUDDLER / "expected-values.json").read_text())
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def recorded_page(name: str) -> dict[str, Any]:
    """One recorded `listTaskGroup` page, parsed."""
    doc: dict[str, Any] = json.loads((TASKHUDDLER / f"listTaskGroup.{name}.json").read_text())
    return doc


def recorded_pushlog() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(PUSHLOG.read_text())
    return doc


def node(n: int) -> str:
    """A made-up 40-hex changeset id."""
    return f"{n:040x}"


def pushlog_doc(pushes: dict[int, list[str]], last: int, *, at: int = 1_700_000_000) -> Any:
    """A `json-pushes?version=2` answer; push n is dated `at + n` seconds."""
    return {
        "lastpushid": last,
        "pushes": {
            str(pid): {"changesets": nodes, "date": at + pid, "user": "someone@example.com"}
            for pid, nodes in pushes.items()
        },
    }


def entry(name: str = "completed", index: int = 0, **status: Any) -> dict[str, Any]:
    """A recorded `{status, task}` entry with `status` fields replaced."""
    found = copy.deepcopy(recorded_page(name)["tasks"][index])
    found["status"].update(status)
    return dict(found)


def renamed(item: dict[str, Any], task_id: str, group_id: str) -> dict[str, Any]:
    """An entry moved to another task id and group."""
    out = copy.deepcopy(item)
    out["status"].update(taskId=task_id, taskGroupId=group_id)
    out["task"]["taskGroupId"] = group_id
    return out


class FakeCI:
    """Registers the pushlog, index and queue answers a test needs on one recorded server."""

    def __init__(self, server: RecordedHttpServer) -> None:
        self.server = server

    def settings(self, **overrides: Any) -> Settings:
        values = {
            "hg_url": self.server.url,
            "taskcluster_root_url": self.server.url,
            "http_retries": 0,
            "ci_cost_repos": ["mozilla-central"],
            **overrides,
        }
        return load_settings(**values)

    def pushlog(self, repo: str, doc: Any, start: int, end: int) -> None:
        query = {"startID": str(start), "endID": str(end)}
        self.server.add("GET", f"/{repo}/json-pushes", body=doc, query=query)

    def index(self, project: str, revision: str, task_id: str) -> str:
        path = f"/api/index/v1/task/gecko.v2.{project}.revision.{revision}.taskgraph.decision"
        self.server.add("GET", path, body={"taskId": task_id, "namespace": path, "rank": 0})
        return path

    def task(self, task_id: str, group_id: str) -> None:
        self.server.add("GET", f"/api/queue/v1/task/{task_id}", body={"taskGroupId": group_id})

    def group(self, group_id: str, pages: list[list[dict[str, Any]]]) -> str:
        """Serve a group's pages, chained by continuation tokens `p1`, `p2`, …"""
        path = f"/api/queue/v1/task-group/{group_id}/list"
        for number, tasks in enumerate(pages):
            page: dict[str, Any] = {"taskGroupId": group_id, "tasks": tasks}
            if number + 1 < len(pages):
                page["continuationToken"] = f"p{number + 1}"
            query = {"continuationToken": f"p{number}"} if number else None
            self.server.add("GET", path, body=page, query=query)
        return path

    def recorded_group(self, decision_task: str = "A-8AqzvvRsqH9b0VHBXYjA") -> str:
        """The taskhuddler chain, as recorded, behind a decision task of that group."""
        path = f"/api/queue/v1/task-group/{RECORDED_GROUP}/list"
        self.server.add("GET", path, file=TASKHUDDLER / "listTaskGroup.completed.json")
        for token in CHAIN[1:]:
            query = {"continuationToken": token}
            self.server.add(
                "GET", path, file=TASKHUDDLER / f"listTaskGroup.{token}.json", query=query
            )
        self.task(decision_task, RECORDED_GROUP)
        return path

    def count(self, prefix: str) -> int:
        return sum(r.path.startswith(prefix) for r in self.server.requests)
