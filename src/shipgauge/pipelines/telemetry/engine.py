"""One changeset → its hgpush ping: json-rev, classification, diffstat, schema check, send.

The lookups and the send are coroutines on the services' event loop. `run_pings` runs them over
any stream of changesets, `concurrency` at a time, and hands every result to a sink on the calling
thread: that thread alone pulls the stream and writes the store, while requests stay in flight.
"""

from __future__ import annotations

import asyncio
import logging
import queue
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TypeVar

from shipgauge.errors import NotFound, SourceError, UpstreamError
from shipgauge.pipelines.telemetry.services import TelemetryServices
from shipgauge.sources import hg
from shipgauge.sources.diffstat import Diffstat, parse_diffstat
from shipgauge.sources.hgpush_ping import DIFFSTAT_SYSTEMS, build_ping, validate_ping
from shipgauge.sources.review import Classification, classify_bug, triage

__all__ = [
    "ChangesetWork",
    "PingResult",
    "ResultSink",
    "compute_ping",
    "fetch_revision",
    "run_bounded",
    "run_pings",
    "send_ping",
]

log = logging.getLogger("shipgauge.telemetry")
# With nothing finished for this long, the sink may commit what it holds.
IDLE_S = 0.05
Status = Literal["pending", "sent", "failed", "invalid", "error"]
T = TypeVar("T")


@dataclass(frozen=True)
class ChangesetWork:
    """A changeset to ping: `repo` is the path key, `repository` the URL the ping reports."""

    repo: str
    repository: str
    node: str
    push_id: int | None = None
    push_date: int | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PingResult:
    """A changeset's ping and how it went. `error` explains `failed`, `invalid` and `error`."""

    work: ChangesetWork
    status: Status
    ping: dict[str, Any] | None = None
    classification: Classification | None = None
    diffstat: Diffstat | None = None
    document_id: str | None = None
    http_status: int | None = None
    error: str | None = None
    sent_at: datetime | None = None
    attempts: int = 0  # sends tried so far (each through the connector's own retries)


class ResultSink(Protocol):
    """Where finished pings go: the store, the console, a list."""

    def add(self, result: PingResult) -> None: ...

    def idle(self) -> None: ...


async def fetch_revision(services: TelemetryServices, repo: str, node: str) -> hg.Revision:
    """`{hg}/{repo}/json-rev/{node}`; NotFound when hg.mozilla.org does not know it."""
    response = await services.hg.request("GET", f"/{repo}/json-rev/{node}", ok_statuses=(404,))
    if response.status_code == 404:
        raise NotFound(f"no changeset {node} in {repo}", field="changeset")
    try:
        return hg.parse_json_rev(response.json())
    except ValueError:
        raise UpstreamError(f"hg.mozilla.org: json-rev of {repo}/{node} is not JSON") from None


async def compute_ping(services: TelemetryServices, work: ChangesetWork) -> PingResult:
    """Look the changeset up, classify it, build and validate its ping (nothing is sent).

    Lookup failures (unknown changeset, upstream down) come back as status `error`; a ping that
    breaks the schema as `invalid`. Neither raises, so one changeset never stops a batch.
    """
    try:
        revision = await fetch_revision(services, work.repo, work.node)
        verdict = triage(revision)
        if verdict.system is None and verdict.bug_id is not None:
            verdict = classify_bug(await services.bugzilla.review(verdict.bug_id), verdict.bug_id)
        assert verdict.system is not None
        diffstat = None
        if verdict.system in DIFFSTAT_SYSTEMS:
            patch = await services.hg.request("GET", f"/{work.repo}/raw-rev/{work.node}")
            diffstat = parse_diffstat(patch.text)
    except (NotFound, SourceError, UpstreamError) as exc:
        log.warning("changeset %s of %s: %s", work.node, work.repo, exc.message)
        return PingResult(work, "error", error=exc.message)
    # upstream reports the id it was given; a short id typed into `dump` gets the full one
    changeset = work.node if len(work.node) == 40 else revision.node
    ping = build_ping(
        changeset=changeset,
        repository=work.repository,
        push_date=revision.push_date if revision.push_date is not None else work.push_date,
        review_system=verdict.system,
        landing_system=revision.landing_system,
        diffstat=diffstat,
    )
    try:
        validate_ping(ping)
        docid = services.target.docid(changeset)
    except SourceError as exc:
        log.warning("changeset %s of %s: %s; not sent", work.node, work.repo, exc.message)
        return PingResult(work, "invalid", ping, verdict, diffstat, error=exc.message)
    return PingResult(work, "pending", ping, verdict, diffstat, document_id=docid)


async def send_ping(services: TelemetryServices, result: PingResult) -> PingResult:
    """PUT the ping to ingestion (the connector retries 5xx and timeouts); `sent` or `failed`."""
    if result.document_id is None:
        return result
    path = services.target.path(result.document_id)
    tries = result.attempts + 1
    try:
        response = await services.ingestion.request(
            "PUT", path, json=result.ping, ok_statuses=range(400, 500)
        )
    except UpstreamError as exc:
        return replace(result, status="failed", error=exc.message, http_status=None, attempts=tries)
    if response.is_error:
        error = f"telemetry ingestion refused {path}: HTTP {response.status_code}"
        return replace(
            result, status="failed", error=error, http_status=response.status_code, attempts=tries
        )
    return replace(
        result,
        status="sent",
        error=None,
        http_status=response.status_code,
        sent_at=datetime.now(UTC),
        attempts=tries,
    )


def run_pings(
    services: TelemetryServices,
    works: Iterable[ChangesetWork],
    sink: ResultSink,
    *,
    send: bool,
) -> None:
    """Compute (and with `send`, send) the ping of every changeset, `concurrency` at a time."""

    async def one(work: ChangesetWork) -> PingResult:
        result = await compute_ping(services, work)
        return await send_ping(services, result) if send and result.status == "pending" else result

    run_bounded(services, one, works, sink)


def run_bounded(
    services: TelemetryServices,
    fn: Callable[[T], Awaitable[PingResult]],
    items: Iterable[T],
    sink: ResultSink,
) -> None:
    """`fn` over `items` on the services' loop, `concurrency` at a time; results to `sink` here.

    `items` is pulled lazily on this thread (a generator may write to the store as it goes), at
    most twice the concurrency ahead, so memory stays flat however many changesets stream by.
    With nothing finished for IDLE_S the sink is told it is idle (it may commit what it holds).
    """
    loop = services.loop.loop
    gate = asyncio.Semaphore(services.concurrency)
    finished: queue.SimpleQueue[PingResult | Exception] = queue.SimpleQueue()
    tasks: set[asyncio.Task[None]] = set()

    async def one(item: T) -> None:
        async with gate:
            try:
                finished.put(await fn(item))
            except Exception as exc:
                finished.put(exc)

    def start(batch: list[T]) -> None:  # on the loop
        for item in batch:
            task = loop.create_task(one(item))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    def cancel_all() -> None:  # on the loop
        for task in list(tasks):
            task.cancel()

    pending, ahead = 0, services.concurrency * 2
    source = iter(items)
    exhausted = False
    try:
        while True:
            batch: list[T] = []
            while not exhausted and pending + len(batch) < ahead:
                try:
                    batch.append(next(source))
                except StopIteration:
                    exhausted = True
            if batch:
                loop.call_soon_threadsafe(start, batch)
                pending += len(batch)
            if not pending:
                return
            try:
                got = finished.get(timeout=IDLE_S)
            except queue.Empty:
                sink.idle()
                continue
            pending -= _hand_over(got, finished, sink)
    except BaseException:
        loop.call_soon_threadsafe(cancel_all)
        raise


def _hand_over(
    got: PingResult | Exception,
    finished: queue.SimpleQueue[PingResult | Exception],
    sink: ResultSink,
) -> int:
    """Add `got` and every other result already finished to `sink`, without waiting; how many.

    An exception that `fn` raised is raised here, so the run stops on it.
    """
    count = 0
    while True:
        count += 1
        if isinstance(got, Exception):
            raise got
        sink.add(got)
        try:
            got = finished.get_nowait()
        except queue.Empty:
            return count
