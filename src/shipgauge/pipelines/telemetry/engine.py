"""One changeset → its hgpush ping: json-rev, classification, diffstat, schema check, send.

`run_pings` runs that over any stream of changesets on `concurrency` threads and hands each
result to a sink on the calling thread, so all store writes stay on one thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from shipgauge.errors import NotFound, SourceError, UpstreamError
from shipgauge.pipelines.telemetry.services import TelemetryServices
from shipgauge.sources import hg
from shipgauge.sources.diffstat import Diffstat, parse_diffstat
from shipgauge.sources.hgpush_ping import DIFFSTAT_SYSTEMS, build_ping, validate_ping
from shipgauge.sources.review import Classification, classify

__all__ = [
    "ChangesetWork",
    "PingResult",
    "ResultSink",
    "compute_ping",
    "fetch_revision",
    "run_pings",
    "send_ping",
]

log = logging.getLogger("shipgauge.telemetry")
# With nothing finished for this long, the sink may commit what it holds.
IDLE_S = 0.05
Status = Literal["pending", "sent", "failed", "invalid", "error"]


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


def fetch_revision(services: TelemetryServices, repo: str, node: str) -> hg.Revision:
    """`{hg}/{repo}/json-rev/{node}`; NotFound when hg.mozilla.org does not know it."""
    response = services.hg.request("GET", f"/{repo}/json-rev/{node}", ok_statuses=(404,))
    if response.status_code == 404:
        raise NotFound(f"no changeset {node} in {repo}", field="changeset")
    try:
        return hg.parse_json_rev(response.json())
    except ValueError:
        raise UpstreamError(f"hg.mozilla.org: json-rev of {repo}/{node} is not JSON") from None


def compute_ping(services: TelemetryServices, work: ChangesetWork) -> PingResult:
    """Look the changeset up, classify it, build and validate its ping (nothing is sent).

    Lookup failures (unknown changeset, upstream down) come back as status `error`; a ping that
    breaks the schema as `invalid`. Neither raises, so one changeset never stops a batch.
    """
    try:
        revision = fetch_revision(services, work.repo, work.node)
        verdict = classify(revision, services.bugzilla.review)
        assert verdict.system is not None
        diffstat = None
        if verdict.system in DIFFSTAT_SYSTEMS:
            patch = services.hg.request("GET", f"/{work.repo}/raw-rev/{work.node}").text
            diffstat = parse_diffstat(patch)
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
    result = PingResult(work, "pending", ping, verdict, diffstat)
    try:
        validate_ping(ping)
        docid = services.target.docid(changeset)
    except SourceError as exc:
        log.warning("changeset %s of %s: %s; not sent", work.node, work.repo, exc.message)
        return replace(result, status="invalid", error=exc.message)
    return replace(result, document_id=docid)


def send_ping(services: TelemetryServices, result: PingResult) -> PingResult:
    """PUT the ping to ingestion (the connector retries 5xx and timeouts); `sent` or `failed`."""
    if result.document_id is None:
        return result
    path = services.target.path(result.document_id)
    tries = result.attempts + 1
    try:
        response = services.ingestion.request(
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
    """Compute (and with `send`, send) the ping of every changeset, `concurrency` at a time.

    `works` is pulled lazily on this thread (a generator may write to the store as it goes), at
    most twice the concurrency ahead, so memory stays flat however many changesets stream by.
    """

    def one(work: ChangesetWork) -> PingResult:
        result = compute_ping(services, work)
        return send_ping(services, result) if send and result.status == "pending" else result

    _bounded(one, works, services.concurrency, sink)


def _bounded(
    fn: Callable[[ChangesetWork], PingResult],
    works: Iterable[ChangesetWork],
    workers: int,
    sink: ResultSink,
) -> None:
    items = iter(works)
    running: set[Future[PingResult]] = set()
    exhausted = False
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="telemetry") as pool:
        while True:
            while not exhausted and len(running) < workers * 2:
                work = next(items, None)
                if work is None:
                    exhausted = True
                else:
                    running.add(pool.submit(fn, work))
            if not running:
                return
            done, running = wait(running, timeout=IDLE_S, return_when=FIRST_COMPLETED)
            if not done:
                sink.idle()
            for future in done:
                sink.add(future.result())
