"""Full task definitions from the Queue (`POST /api/queue/v1/tasks`), for tasks lacking tags.

Legacy and deadline-exception messages carry no `task.tags`; the definition has them. Fetched
definitions go to `task_definitions` (which is also the cache: a task is asked for once) and
fill the task's tag columns. fxci-etl asks in chunks of 100 (upstream.md A.6 step 6).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shipgauge.config import Settings
from shipgauge.connectors.http import HttpConnector
from shipgauge.errors import UpstreamError
from shipgauge.pipelines.taskcluster.tasks import upsert_task_rows
from shipgauge.sources.taskcluster import definition_row, task_row_from_definition
from shipgauge.store import Store, in_text_list

__all__ = ["DEFINITIONS_CHUNK", "DefinitionsResult", "fetch_task_definitions", "queue_http"]

DEFINITIONS_CHUNK = 100
_MISSING_SQL = """
SELECT t.task_id FROM tasks AS t
WHERE t.tags IS NULL
  AND NOT EXISTS (SELECT 1 FROM task_definitions AS d WHERE d.task_id = t.task_id)
ORDER BY t.task_id
"""


@dataclass(frozen=True)
class DefinitionsResult:
    """Tasks asked for, definitions stored, and ids the Queue no longer knows (expired)."""

    asked: int
    stored: int
    missing: list[str]


def fetch_task_definitions(
    *, store: Store, http: HttpConnector, task_ids: Iterable[str] | None = None
) -> DefinitionsResult:
    """Fetch and store the definitions of `task_ids`, or of every task without tags or one.

    Ids that already have a stored definition are not asked again.
    """
    if task_ids is None:
        wanted = [r[0] for r in store.query(_MISSING_SQL).rows]
    else:
        ids = sorted(set(task_ids))
        known = {
            r[0]
            for r in store.query(
                f"SELECT task_id FROM task_definitions WHERE {in_text_list('task_id')}",
                [ids],
            ).rows
        }
        wanted = [i for i in ids if i not in known]
    stored: set[str] = set()
    for start in range(0, len(wanted), DEFINITIONS_CHUNK):
        chunk = wanted[start : start + DEFINITIONS_CHUNK]
        entries = _fetch_chunk(http, chunk)
        submitted = datetime.now(UTC).date()
        with store.transaction() as tx:
            tx.upsert(
                "task_definitions",
                [definition_row(e["taskId"], e["task"], submitted=submitted) for e in entries],
            )
            upsert_task_rows(
                tx,
                [
                    task_row_from_definition(e["taskId"], e["task"], submitted=submitted)
                    for e in entries
                ],
                [],
            )
        stored.update(e["taskId"] for e in entries)
    return DefinitionsResult(len(wanted), len(stored), [i for i in wanted if i not in stored])


def _fetch_chunk(http: HttpConnector, task_ids: list[str]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        params = {"continuationToken": token} if token else None
        page = http.post_json("/api/queue/v1/tasks", {"taskIds": task_ids}, params=params).json()
        if not isinstance(page, dict) or not isinstance(page.get("tasks"), list):
            raise UpstreamError(f"{http.name}: /api/queue/v1/tasks answered without a task list")
        entries += page["tasks"]
        token = page.get("continuationToken")
        if not token:
            return entries


def queue_http(settings: Settings) -> HttpConnector:
    """The Taskcluster Queue the settings name."""
    return HttpConnector(
        settings.taskcluster_root_url,
        name="taskcluster queue",
        timeout_s=settings.http_timeout_s,
        retries=settings.http_retries,
    )
