"""Writing ping results: `hgpush_pings` rows, dead letters, the Bugzilla cache, in group commits."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shipgauge.pipelines.telemetry.bugzilla import BugzillaClient
from shipgauge.pipelines.telemetry.engine import PingResult
from shipgauge.store import Store, Transaction, in_text_list

__all__ = [
    "CHANGESET_SOURCE",
    "PING_SOURCE",
    "PULSE_SOURCE",
    "PingCounts",
    "PingSink",
    "ping_row",
    "sent_changesets",
    "write_results",
]

PULSE_SOURCE = "telemetry.pulse"  # a message we cannot read, or whose push we cannot fetch
CHANGESET_SOURCE = "telemetry.changeset"  # a changeset we could not look up
PING_SOURCE = "telemetry.ping"  # a ping that breaks the schema (never sent)
FLUSH_EVERY = 500
_PING_UPDATE = [
    "push_id",
    "repository",
    "document_id",
    "pushed_at",
    "review_system",
    "rule",
    "bug_id",
    "landing_system",
    "changed_files",
    "additions",
    "deletions",
    "payload",
    "status",
    "attempts",
    "http_status",
    "last_error",
    "sent_at",
]


def ping_row(result: PingResult, *, created_at: datetime) -> dict[str, Any]:
    """The `hgpush_pings` row of a built ping (status pending, sent or failed)."""
    ping, verdict, diffstat = result.ping, result.classification, result.diffstat
    assert ping is not None and verdict is not None and result.document_id is not None
    push_date = ping.get("pushDate")
    return {
        "repo": result.work.repo,
        "changeset": ping["changesetID"],
        "push_id": result.work.push_id,
        "repository": ping["repository"],
        "document_id": result.document_id,
        "pushed_at": None if push_date is None else datetime.fromtimestamp(push_date, UTC),
        "review_system": ping["reviewSystemUsed"],
        "rule": verdict.rule,
        "bug_id": verdict.bug_id,
        "landing_system": ping["landingSystem"],
        "changed_files": diffstat.changed_files if diffstat else None,
        "additions": diffstat.additions if diffstat else None,
        "deletions": diffstat.deletions if diffstat else None,
        "payload": ping,
        "status": result.status,
        "attempts": result.attempts,
        "http_status": result.http_status,
        "last_error": result.error,
        "created_at": created_at,
        "sent_at": result.sent_at,
    }


def write_results(
    tx: Transaction, results: Sequence[PingResult], bugzilla_rows: Sequence[dict[str, Any]] = ()
) -> None:
    """Store pings (a sent ping is never downgraded), dead-letter the rest, cache Bugzilla."""
    now = datetime.now(UTC)
    rows = [
        ping_row(r, created_at=now) for r in results if r.status in ("pending", "sent", "failed")
    ]
    tx.upsert(
        "hgpush_pings", rows, update=_PING_UPDATE, update_where="hgpush_pings.status <> 'sent'"
    )
    tx.dead_letters(
        (
            PING_SOURCE if r.status == "invalid" else CHANGESET_SOURCE,
            f"{r.work.repo}:{r.work.node}",
            r.error or r.status,
            json.dumps({"work": r.work.as_json(), "ping": r.ping}, sort_keys=True),
        )
        for r in results
        if r.status in ("invalid", "error")
    )
    tx.upsert("bugzilla_bug_reviews", list(bugzilla_rows))


@dataclass
class PingCounts:
    """How many changesets ended in each state."""

    sent: int = 0
    failed: int = 0
    pending: int = 0
    invalid: int = 0
    error: int = 0

    def add(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.pending + self.invalid + self.error


class PingSink:
    """Counts results, shows them to `on_result`, and (with a store) commits them in groups.

    A group is committed every FLUSH_EVERY results and whenever the engine is idle, so a crash
    loses (and later re-sends) at most the pings finished since the last commit.
    """

    def __init__(
        self,
        *,
        store: Store | None,
        bugzilla: BugzillaClient | None = None,
        on_result: Callable[[PingResult], None] | None = None,
        counts: PingCounts | None = None,
    ) -> None:
        self.store = store
        self.bugzilla = bugzilla
        self.on_result = on_result
        self.counts = counts if counts is not None else PingCounts()
        self._buffer: list[PingResult] = []

    def add(self, result: PingResult) -> None:
        self.counts.add(result.status)
        if self.on_result is not None:
            self.on_result(result)
        if self.store is not None:
            self._buffer.append(result)
            if len(self._buffer) >= FLUSH_EVERY:
                self.flush()

    def idle(self) -> None:
        if self._buffer:
            self.flush()

    def flush(self) -> None:
        if self.store is None:
            return
        cached = self.bugzilla.take_fetched() if self.bugzilla else []
        if not self._buffer and not cached:
            return
        with self.store.transaction() as tx:
            write_results(tx, self._buffer, cached)
        self._buffer = []


def sent_changesets(store: Store, repo: str, nodes: Iterable[str]) -> set[str]:
    """Which of `nodes` already have a sent ping (so a replay or backfill skips them)."""
    result = store.query(
        "SELECT changeset FROM hgpush_pings WHERE repo = ? AND status = 'sent'"
        f" AND {in_text_list('changeset')}",
        [repo, list(nodes)],
    )
    return {r[0] for r in result.rows}
