"""`telemetry backfill`, `dump` and `resend`: pings from the pushlog, one changeset, the store."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from shipgauge.errors import NotFound, UpstreamError
from shipgauge.pipelines.memory import bounded_memory
from shipgauge.pipelines.pushlog import (
    DEAD_LETTER_SOURCE,
    DEFAULT_PAGE_SIZE,
    iter_pushlog,
    store_pushlog,
)
from shipgauge.pipelines.telemetry.engine import (
    ChangesetWork,
    PingResult,
    compute_ping,
    run_bounded,
    run_pings,
    send_ping,
)
from shipgauge.pipelines.telemetry.records import PingCounts, PingSink, sent_changesets
from shipgauge.pipelines.telemetry.services import TelemetryServices
from shipgauge.sources import hg
from shipgauge.sources.diffstat import Diffstat
from shipgauge.sources.review import Classification, ReviewSystem
from shipgauge.store import Store

__all__ = ["BackfillResult", "backfill", "dump_ping", "resend"]

# A checkpoint every 2 MB of WAL (with bounded_memory's allocator settings). At DuckDB's 16 MB
# a backfill of 10,000 pushes checkpointed twice, and its peak was 29 % above that of 1,000
# pushes, which never checkpoints; now 17 %. No memory limit: it would have to hold the key
# indexes of pushes and bugzilla_bug_reviews, which grow with the store (changesets and pings
# have none on DuckDB since migration 13).
STORE_OPTIONS = {"checkpoint_threshold": "2MB"}


@dataclass
class BackfillResult:
    """Pushes and changesets read, changesets skipped as already sent, and how the pings went."""

    pushes: int = 0
    changesets: int = 0
    already_sent: int = 0
    pings: PingCounts = field(default_factory=PingCounts)
    error: str | None = None


def backfill(
    *,
    store: Store,
    services: TelemetryServices,
    repo_url: str,
    start_id: int,
    end_id: int,
    send: bool = True,
    page_size: int = DEFAULT_PAGE_SIZE,
    on_result: Callable[[PingResult], None] | None = None,
    on_page: Callable[[BackfillResult], None] | None = None,
) -> BackfillResult:
    """Ping every changeset of pushes `start_id` (exclusive) … `end_id` (inclusive).

    The range is read once, page by page, and pinged as `consume` would; a changeset whose ping
    was already sent is not sent again. With `send=False` the pings go to `on_result` only:
    nothing is sent or stored. A page that cannot be read is dead-lettered and ends the run.
    """
    repo = hg.repo_path(repo_url)
    result = BackfillResult()
    if send:
        services.bugzilla.preload(store)
    sink = PingSink(
        store=store if send else None,
        bugzilla=services.bugzilla,
        on_result=on_result,
        counts=result.pings,
    )

    def works() -> Iterator[ChangesetWork]:
        pages = iter_pushlog(
            services.pushlog, repo=repo, start_id=start_id, end_id=end_id, page_size=page_size
        )
        for page in pages:
            if page.pushlog is None:
                key = f"{repo}:{page.start_id}-{page.end_id}"
                result.error = f"pushlog {key}: {page.error}"
                if send:
                    with store.transaction() as tx:
                        tx.dead_letter(DEAD_LETTER_SOURCE, key, result.error, page.body)
                return
            todo = _page_works(
                page.pushlog, repo, repo_url, store=store if send else None, result=result
            )
            if on_page is not None:
                on_page(result)
            yield from todo

    with bounded_memory(store, None, STORE_OPTIONS) if send else contextlib.nullcontext():
        run_pings(services, works(), sink, send=send)
        sink.flush()
    return result


def _page_works(
    pushlog: hg.Pushlog, repo: str, repo_url: str, *, store: Store | None, result: BackfillResult
) -> list[ChangesetWork]:
    """The changesets of one pushlog page to ping, counted into `result`. With a `store` the
    page is stored first and changesets whose ping was already sent are left out."""
    dates = {p.push_id: int(p.pushed_at.timestamp()) for p in pushlog.pushes}
    todo = [
        ChangesetWork(repo, repo_url, c.node, c.push_id, dates[c.push_id])
        for c in pushlog.changesets
    ]
    if store is not None:
        with store.transaction() as tx:
            store_pushlog(tx, pushlog)
        sent = sent_changesets(store, repo, [w.node for w in todo])
        todo = [w for w in todo if w.node not in sent]
        result.already_sent += len(sent)
    result.pushes += len(pushlog.pushes)
    result.changesets += len(pushlog.changesets)
    return todo


def dump_ping(services: TelemetryServices, node: str, *, repo_url: str) -> PingResult:
    """The ping of one changeset, computed and not sent; NotFound if hg does not know it."""
    work = ChangesetWork(hg.repo_path(repo_url), repo_url, node)
    result = services.run(compute_ping(services, work))
    if result.status == "error":
        kind = NotFound if (result.error or "").startswith("no changeset") else UpstreamError
        raise kind(result.error or "lookup failed", field="changeset")
    return result


def resend(
    *, store: Store, services: TelemetryServices, repo: str | None = None, batch: int = 1000
) -> PingCounts:
    """Send again every stored ping that is `failed` or `pending`, and record how it went."""
    sink = PingSink(store=store)
    where = "status IN ('failed', 'pending')" + (" AND repo = ?" if repo else "")
    after = ("", "")
    while True:
        rows = store.query(
            f"SELECT * FROM hgpush_pings WHERE {where} AND (repo > ? OR (repo = ? AND "
            f"changeset > ?)) ORDER BY repo, changeset LIMIT {int(batch)}",
            [*([repo] if repo else []), after[0], after[0], after[1]],
        ).dicts()
        if not rows:
            return sink.counts
        after = (rows[-1]["repo"], rows[-1]["changeset"])
        run_bounded(services, lambda row: send_ping(services, _stored(row)), rows, sink)
        sink.flush()


def _stored(row: dict[str, Any]) -> PingResult:
    """A stored ping as a result ready to send again (JSON comes back as text from DuckDB)."""
    payload = row["payload"]
    ping = json.loads(payload) if isinstance(payload, str) else payload
    return PingResult(
        work=ChangesetWork(row["repo"], row["repository"], row["changeset"], row["push_id"]),
        status="pending",
        ping=ping,
        classification=Classification(
            ReviewSystem(row["review_system"]), row["rule"], row["bug_id"]
        ),
        diffstat=None
        if row["changed_files"] is None
        else Diffstat(row["changed_files"], row["additions"], row["deletions"]),
        document_id=row["document_id"],
        attempts=int(row["attempts"]),
    )
