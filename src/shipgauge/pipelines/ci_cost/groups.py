"""From a push to its task group: index lookup, group listing, and the push's new state.

`resolve_push` is a coroutine on the scan's event loop: it only talks HTTP and parses, and
returns rows for the scan to write. The push → task group rules themselves are in
`sources/taskcluster/groups.py`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final
from urllib.parse import quote

from shipgauge.connectors.async_http import AsyncHttpConnector
from shipgauge.errors import SourceError
from shipgauge.sources.taskcluster import groups as source
from shipgauge.sources.taskcluster.group_pages import read_task_group_page

__all__ = [
    "ANSWER_DEAD_LETTER_SOURCE",
    "GroupRoute",
    "PushJob",
    "PushOutcome",
    "UnreadableAnswer",
    "find_task",
    "list_task_group",
    "resolve_push",
    "task_group_of",
]


# Taskcluster answers a push needs that cannot be read (not JSON, no taskId, no tasks list: a
# proxy's error page with HTTP 200, say), keyed by URL. Not retried from the dead-letter table:
# the push stays to be looked at, and the next scan asks again.
ANSWER_DEAD_LETTER_SOURCE: Final = "ci_cost.taskcluster_answer"


class UnreadableAnswer(Exception):
    """A Taskcluster answer that cannot be read; `letter` is its (url, error, body)."""

    def __init__(self, subject: str, letter: tuple[str, str, bytes]) -> None:
        super().__init__(letter[1])
        self.subject = subject
        self.letter = letter


async def _get(tc: AsyncHttpConnector, path: str, **params: Any) -> bytes | None:
    """GET a Taskcluster answer's body; None on 404 (the API's ResourceNotFound)."""
    response = await tc.request("GET", path, params=params or None, ok_statuses=(404,))
    return None if response.status_code == 404 else response.content


def _unreadable(
    tc: AsyncHttpConnector, subject: str, path: str, error: str, body: bytes, **params: Any
) -> UnreadableAnswer:
    return UnreadableAnswer(subject, (tc.url(path, params), error, body))


async def _get_field(
    tc: AsyncHttpConnector, path: str, subject: str, parse: Callable[[Any], str]
) -> str | None:
    body = await _get(tc, path)
    if body is None:
        return None
    try:
        return parse(json.loads(body))
    except ValueError:
        raise _unreadable(tc, subject, path, f"{subject}: answer is not JSON", body) from None
    except SourceError as exc:
        raise _unreadable(tc, subject, path, exc.message, body) from None


async def find_task(tc: AsyncHttpConnector, path: str) -> str | None:
    """The task indexed at `path`, or None when the index has nothing there (yet)."""
    return await _get_field(
        tc,
        f"/api/index/v1/task/{quote(path, safe='')}",
        "index entry",
        functools.partial(source.parse_indexed_task, path=path),
    )


async def task_group_of(tc: AsyncHttpConnector, task_id: str) -> str | None:
    """The group of a task, from its definition (`queue.task`); None when the task is unknown."""
    return await _get_field(
        tc,
        f"/api/queue/v1/task/{quote(task_id, safe='')}",
        f"task {task_id}",
        functools.partial(source.parse_task_group_id, task_id=task_id),
    )


async def list_task_group(
    tc: AsyncHttpConnector, group_id: str, *, page_size: int, submitted: date
) -> source.GroupListing | None:
    """Every task of a group, all pages by continuation token; None when there is no group.
    Raises UnreadableAnswer when an answer is not a page."""
    listing = source.GroupListing(group_id)
    path = f"/api/queue/v1/task-group/{quote(group_id, safe='')}/list"
    params: dict[str, Any] = {"limit": page_size}
    while True:
        body = await _get(tc, path, **params)
        if body is None:
            return None
        try:
            token = read_task_group_page(listing, body, submitted=submitted)
        except SourceError as exc:
            subject = f"group {group_id}"
            raise _unreadable(tc, subject, path, exc.message, body, **params) from None
        listing.pages += 1
        if token is None:
            return listing
        params["continuationToken"] = token


@dataclass(frozen=True)
class GroupRoute:
    """How pushes of one mode find their group, and when the scan gives up on them."""

    mode: str
    template: str
    product: str
    give_up_after: timedelta
    final_after: timedelta
    page_size: int


@dataclass(frozen=True)
class PushJob:
    """A push to look at, with its push_task_groups row from the last scan (if any)."""

    repo: str
    push_id: int
    pushed_at: datetime
    tip_node: str | None
    previous: dict[str, Any] | None


@dataclass(frozen=True)
class PushOutcome:
    """The push's new push_task_groups row and, when the group was listed, its rows; `letter`
    is an answer that could not be read (url, error, body)."""

    row: dict[str, Any]
    listing: source.GroupListing | None
    letter: tuple[str, str, bytes] | None = None


async def _list(
    tc: AsyncHttpConnector, group_id: str, route: GroupRoute, now: datetime
) -> source.GroupListing | None:
    return await list_task_group(tc, group_id, page_size=route.page_size, submitted=now.date())


async def _resolve_group(
    tc: AsyncHttpConnector, decision_task_id: str, route: GroupRoute, now: datetime
) -> tuple[str, source.GroupListing | None]:
    # A decision task starts its own group (taskGroupId == taskId), so list that id first and
    # ask the queue only when the task is not in it: one request fewer per push. measuring_ci
    # always asked (upstream.md §A.6); the answer is the same.
    listing = await _list(tc, decision_task_id, route, now)
    if listing is not None and decision_task_id in listing.task_states:
        return decision_task_id, listing
    group_id = await task_group_of(tc, decision_task_id)
    if group_id is None:
        return decision_task_id, None
    if group_id != decision_task_id or listing is None:
        listing = await _list(tc, group_id, route, now)
    return group_id, listing


def _carried_over_row(job: PushJob, route: GroupRoute, now: datetime) -> dict[str, Any]:
    """The push's push_task_groups row as the last scan left it, checked `now`; no state yet."""
    previous = job.previous or {}
    return {
        "repo": job.repo,
        "push_id": job.push_id,
        "mode": route.mode,
        "revision": job.tip_node,
        "index_path": previous.get("index_path"),
        "decision_task_id": previous.get("decision_task_id"),
        "task_group_id": previous.get("task_group_id"),
        "tasks": previous.get("tasks"),
        "unfinished_tasks": previous.get("unfinished_tasks"),
        "lookups": previous.get("lookups") or 0,
        "listings": previous.get("listings") or 0,
        "first_seen_at": previous.get("first_seen_at") or now,
        "checked_at": now,
    }


async def resolve_push(
    job: PushJob, *, tc: AsyncHttpConnector, route: GroupRoute, now: datetime
) -> PushOutcome:
    """Look the push up (or re-list its known group) and say what state it is in now."""
    age = now - job.pushed_at
    row = _carried_over_row(job, route, now)
    if job.tip_node is None:  # every changeset hidden: nothing was built (quirk Q2)
        return PushOutcome({**row, "state": source.NEVER, "reason": "no visible changeset"}, None)
    group_id = row["task_group_id"]
    try:
        if group_id is None:
            path = source.index_path(
                route.template, repo=job.repo, revision=job.tip_node, product=route.product
            )
            row["index_path"] = path
            row["lookups"] += 1
            task_id = await find_task(tc, path)
            if task_id is None:
                state, reason = source.lookup_state(push_age=age, give_up_after=route.give_up_after)
                return PushOutcome({**row, "state": state, "reason": reason}, None)
            row["decision_task_id"] = task_id
            group_id, listing = await _resolve_group(tc, task_id, route, now)
        else:
            listing = await _list(tc, group_id, route, now)
    except UnreadableAnswer as exc:
        missing = f"{exc.subject} not readable"
        if row["decision_task_id"] is None:  # the index entry itself
            state, reason = source.lookup_state(
                push_age=age, give_up_after=route.give_up_after, missing=missing
            )
        else:  # a push with a decision task is never given up on a bad answer, however old
            state, reason = source.NON_FINAL, f"{missing}; asked again on the next scan"
        return PushOutcome({**row, "state": state, "reason": reason}, None, exc.letter)
    row["listings"] += 1
    if listing is None:
        state, reason = source.lookup_state(
            push_age=age, give_up_after=route.give_up_after, missing=f"group {group_id} not listed"
        )
        return PushOutcome({**row, "state": state, "reason": reason}, None)
    state, reason = source.group_state(listing, push_age=age, final_after=route.final_after)
    row.update(
        task_group_id=group_id,
        tasks=len(listing.task_states),
        unfinished_tasks=listing.unfinished,
        state=state,
        reason=reason,
    )
    return PushOutcome(row, listing)
