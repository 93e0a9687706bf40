"""`ci-cost scan`: pushlog increment → tip-most changeset → decision task → task group → rows.

Per repository (its full hg path, e.g. `integration/autoland`):
1. the pushlog is paged from where this scan (or the shared pushlog checkpoint) got to, with
   integer ids, both bounds and `lastpushid` (`pipelines/pushlog.py`);
2. the pushes after the checkpoint, plus every push whose decision task was not indexed yet or
   whose group was still running, are resolved on an event loop of their own thread
   (`groups.resolve_push`, `concurrency` requests in flight), which fetches and parses;
3. this thread writes the results in push order, in batches: tasks, runs, dead letters,
   push_task_groups and the checkpoint `ci_cost.<mode>:<repo>` commit in one transaction, so a
   killed scan resumes from its last batch and a rerun changes nothing. DuckDB releases the GIL
   while it merges and commits, so parsing goes on meanwhile.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

from shipgauge.config import Settings
from shipgauge.connectors.async_http import AsyncHttpConnector, EventLoopThread
from shipgauge.connectors.http import HttpConnector
from shipgauge.pipelines import pushlog
from shipgauge.pipelines.ci_cost.groups import GroupRoute, PushJob, PushOutcome, resolve_push
from shipgauge.pipelines.ci_cost.writer import DEAD_LETTER_SOURCE, GROUP_FIELDS, BatchWriter
from shipgauge.pipelines.memory import bounded_memory
from shipgauge.sources import hg
from shipgauge.sources.taskcluster import groups as source
from shipgauge.store import Store

__all__ = [
    "DEAD_LETTER_SOURCE",
    "MODES",
    "ProgressFn",
    "RepoScan",
    "ScanOptions",
    "checkpoint_name",
    "scan_ci_cost",
    "scan_repo",
]

# A DuckDB store while a scan runs: its writes on the writer's thread alone (its worker threads
# spent ~0.4 ms of CPU per push on the chunks' inserts against ~0.2 ms more on the writer's
# thread without them, and the event loop keeps the other core busy anyway), and a memory
# limit, which tasks and task_runs, having no key index (migration 9), can no longer outgrow.
STORE_MEMORY_LIMIT: Final = "64MB"

MODES: Final = ("push", "nightly")
# Pushes resolved at once: each push makes its requests one after another, so twice as many
# pushes as requests in flight keep the connector busy, and WRITE_AHEAD_PUSHES more let the loop
# go on while the writer commits a batch (a push's rows take ~250 kB until they are written).
WRITE_AHEAD_PUSHES: Final = 128

# (repo, phase, done, total): phase "pushlog" counts pages, "pushes" counts resolved pushes
# (written in batches: a resolved push is committed with the batch it ends up in).
ProgressFn = Callable[[str, str, int, int | None], None]
T = TypeVar("T")
R = TypeVar("R")


def checkpoint_name(mode: str, repo: str) -> str:
    """The checkpoint of a repository's scan in one mode, e.g. `ci_cost.push:mozilla-central`."""
    return f"ci_cost.{mode}:{repo}"


@dataclass(frozen=True)
class ScanOptions:
    """Everything a scan needs besides the store and the connectors."""

    route: GroupRoute
    concurrency: int = 16
    write_batch_pushes: int = 1000
    first_scan_pushes: int = 100
    pushlog_page_size: int = pushlog.DEFAULT_PAGE_SIZE

    @classmethod
    def from_settings(cls, settings: Settings, *, mode: str = "push") -> ScanOptions:
        templates = {
            "push": settings.ci_cost_decision_route,
            "nightly": settings.ci_cost_nightly_route,
        }
        route = GroupRoute(
            mode=mode,
            template=templates[mode],
            product=settings.ci_cost_product,
            give_up_after=timedelta(hours=settings.ci_cost_lookup_give_up_hours),
            final_after=timedelta(hours=settings.ci_cost_group_final_after_hours),
            page_size=settings.ci_cost_group_page_size,
        )
        return cls(
            route=route,
            concurrency=settings.ci_cost_concurrency,
            write_batch_pushes=settings.ci_cost_write_batch_pushes,
            first_scan_pushes=settings.ci_cost_first_scan_pushes,
            pushlog_page_size=settings.pushlog_page_size,
        )


@dataclass
class RepoScan:
    """What one repository's scan did; `error` is set when its pushlog could not be read."""

    repo: str
    mode: str
    pushlog_pages: int = 0
    pushes_fetched: int = 0
    pushes_checked: int = 0
    groups_listed: int = 0
    tasks: int = 0
    runs: int = 0
    dead_letters: int = 0
    states: dict[str, int] = field(default_factory=dict)
    checkpoint: int | None = None
    error: str | None = None


def _in_order(
    loop: EventLoopThread,
    start: Callable[[T], Coroutine[Any, Any, R]],
    items: Iterable[T],
    window: int,
) -> Iterator[R]:
    """`start(item)` run on `loop` for each item, results in input order, at most `window` in
    flight (so memory stays flat however many items there are)."""
    todo = iter(items)
    running: deque[Future[R]] = deque(loop.submit(start(i)) for i in itertools.islice(todo, window))
    try:
        while running:
            result = running.popleft().result()
            for item in itertools.islice(todo, 1):
                running.append(loop.submit(start(item)))
            yield result
    finally:
        for future in running:
            future.cancel()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a scan runs. A scan holds a batch and a window of rows
    (a few hundred thousand dicts, none in a cycle) and allocates more all the time, so the
    collector kept walking them: 10-20 % of the scan's CPU in bench_ci_cost_scan.py."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _last_push_id(store: Store, hg_http: HttpConnector, repo: str) -> int | None:
    """`lastpushid` of a repository (an empty page), or None when the answer is unreadable
    (then kept as a dead letter of the pushlog, like any bad page)."""
    page = pushlog.fetch_page(hg_http, repo, 0, 0)
    if page.pushlog is not None:
        return page.pushlog.last_push_id
    with store.transaction() as tx:
        pushlog.dead_letter_page(tx, repo, page)
    return None


def _jobs(store: Store, repo: str, mode: str, low: int) -> list[PushJob]:
    """New pushes above `low` without a row, and every push whose state is looked at again."""
    retried = ", ".join(f"'{s}'" for s in source.RETRIED_STATES)
    previous_columns = ", ".join(f"g.{c}" for c in GROUP_FIELDS)
    result = store.query(
        f"SELECT p.push_id, p.pushed_at, p.tip_node, {previous_columns}"
        " FROM pushes AS p LEFT JOIN push_task_groups AS g"
        " ON g.repo = p.repo AND g.push_id = p.push_id AND g.mode = ?"
        f" WHERE p.repo = ? AND ((g.state IS NULL AND p.push_id > ?) OR g.state IN ({retried}))"
        " ORDER BY p.push_id",
        [mode, repo, low],
    )
    jobs = []
    for row in result.dicts():
        previous = None if row["state"] is None else {k: row[k] for k in GROUP_FIELDS}
        jobs.append(PushJob(repo, row["push_id"], row["pushed_at"], row["tip_node"], previous))
    return jobs


def _start(
    store: Store,
    hg_http: HttpConnector,
    repo: str,
    position: int | None,
    since: int | None,
    first_scan_pushes: int,
) -> int | None:
    """The push id this scan starts after: --since, else the checkpoint, else the newest
    pushes minus `first_scan_pushes` (None when even that could not be read)."""
    if since is not None:
        return since
    if position is not None:
        return position
    last = _last_push_id(store, hg_http, repo)
    return None if last is None else max(0, last - first_scan_pushes)


def scan_repo(
    *,
    store: Store,
    hg_http: HttpConnector,
    tc: AsyncHttpConnector,
    loop: EventLoopThread,
    repo: str,
    options: ScanOptions,
    since: int | None = None,
    backfill: int | None = None,
    now: datetime | None = None,
    on_progress: ProgressFn | None = None,
) -> RepoScan:
    """Scan one repository in one mode (see the module docstring); `tc` is used on `loop`.
    Raises UpstreamError when hg or Taskcluster stay unreachable, leaving every committed batch
    and its checkpoint."""
    repo = hg.repo_path(repo)
    now = now or datetime.now(UTC)
    mode = options.route.mode
    progress = on_progress or (lambda *_: None)
    result = RepoScan(repo, mode)
    saved = store.checkpoint(checkpoint_name(mode, repo))
    writer = BatchWriter(
        store,
        checkpoint_name(mode, repo),
        None if saved is None else int(saved),
        batch_pushes=options.write_batch_pushes,
    )
    low = _start(store, hg_http, repo, writer.position, since, options.first_scan_pushes)
    if low is None:
        result.error = f"pushlog of {repo} is unreadable"
        return result
    ranges: list[tuple[int, int | None]] = []
    if backfill:
        oldest = store.query(
            "SELECT min(push_id) FROM push_task_groups WHERE repo = ? AND mode = ?", [repo, mode]
        ).scalar()
        top = low if oldest is None else int(oldest) - 1
        ranges.append((max(0, top - backfill), top))
    shared = int(store.checkpoint(pushlog.checkpoint_source(repo)) or 0)
    ranges.append((max(low, shared), None))
    covered = _fetch_pushes(store, hg_http, repo, ranges, options, result, progress)
    jobs = _jobs(store, repo, mode, min(low, *(s for s, _ in ranges)))
    progress(repo, "pushes", 0, len(jobs))

    def resolve(job: PushJob) -> Coroutine[Any, Any, PushOutcome]:
        return resolve_push(job, tc=tc, route=options.route, now=now)

    window = 2 * max(options.concurrency, 1) + WRITE_AHEAD_PUSHES
    with writer:
        for resolved, outcome in enumerate(_in_order(loop, resolve, jobs, window), 1):
            writer.add(outcome)
            progress(repo, "pushes", resolved, len(jobs))
        writer.flush(covered=covered)
    result.pushes_checked, result.groups_listed = writer.pushes, writer.groups
    result.tasks, result.runs, result.dead_letters = writer.tasks, writer.runs, writer.dead_letters
    result.states, result.checkpoint = dict(writer.states), writer.position
    return result


def _fetch_pushes(
    store: Store,
    hg_http: HttpConnector,
    repo: str,
    ranges: list[tuple[int, int | None]],
    options: ScanOptions,
    result: RepoScan,
    progress: ProgressFn,
) -> int | None:
    """Page the pushlog over `ranges` into `pushes`; the last push covered by the open-ended
    range when it read without error (the checkpoint may move there), else None."""
    covered = None
    for start, end in ranges:
        page = pushlog.scan_pushlog(
            store=store,
            http=hg_http,
            repo=repo,
            start_id=start,
            end_id=end,
            page_size=options.pushlog_page_size,
        )
        result.pushlog_pages += page.pages
        result.pushes_fetched += page.pushes
        progress(repo, "pushlog", result.pushlog_pages, None)
        result.error = result.error or page.error
        if end is None and page.error is None:
            covered = page.last_push_id
    return covered


def scan_ci_cost(
    *,
    store: Store,
    settings: Settings,
    repos: list[str] | None = None,
    mode: str = "push",
    since: int | None = None,
    backfill: int | None = None,
    now: datetime | None = None,
    on_progress: ProgressFn | None = None,
) -> list[RepoScan]:
    """Scan each repository (default: `ci_cost_repos`) with connectors built from settings."""
    options = ScanOptions.from_settings(settings, mode=mode)
    common: dict[str, Any] = {
        "timeout_s": settings.http_timeout_s,
        "retries": settings.http_retries,
    }
    loop = EventLoopThread(name="ci-cost scan")
    tc = AsyncHttpConnector(
        settings.taskcluster_root_url,
        name="taskcluster",
        concurrency=settings.ci_cost_concurrency,
        **common,
    )
    try:
        with (
            _collector_paused(),
            bounded_memory(store, STORE_MEMORY_LIMIT, {"threads": "1"}),
            HttpConnector(
                settings.hg_url, name="hg pushlog", concurrency=settings.http_concurrency, **common
            ) as hg_http,
        ):
            return [
                scan_repo(
                    store=store,
                    hg_http=hg_http,
                    tc=tc,
                    loop=loop,
                    repo=repo,
                    options=options,
                    since=since,
                    backfill=backfill,
                    now=now,
                    on_progress=on_progress,
                )
                for repo in (repos or settings.ci_cost_repos)
            ]
    finally:
        loop.run(tc.aclose())
        loop.close()
