"""The Mercurial pushlog → `pushes` and `changesets`, paged, with a checkpoint per repository.

Pages are `json-pushes?version=2&full=1&startID=a&endID=b`: `startID` is exclusive and `endID`
inclusive, so a page covers pushes a+1 … b; `lastpushid` says where the repository ends
(upstream.md §A.5). Both bounds are always sent: an unbounded request
returns only the last 10 pushes, or everything. Pages are fetched a few at a time and stored in
order; the checkpoint `hg:<repo>` only moves forward over pushes that are stored.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from shipgauge.connectors.http import HttpConnector
from shipgauge.errors import SourceError
from shipgauge.sources import hg
from shipgauge.store import Store, Transaction
from shipgauge.store.dead_letters import DeadLetter

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "RETRY_HANDLERS",
    "PushlogPage",
    "ScanResult",
    "checkpoint_source",
    "dead_letter_page",
    "fetch_page",
    "iter_pushlog",
    "retry_pushlog_letter",
    "scan_pushlog",
    "store_pushlog",
]

DEFAULT_PAGE_SIZE = 200
DEAD_LETTER_SOURCE = "hg.pushlog"
_BARE_COLUMNS = ("repo", "node", "push_id", "position_in_push")


def checkpoint_source(repo: str) -> str:
    """The checkpoint name of a repository's pushlog, e.g. `hg:integration/autoland`."""
    return f"hg:{repo}"


@dataclass(frozen=True)
class PushlogPage:
    """One fetched page, pushes `start_id` (exclusive) … `end_id` (inclusive).

    Either `pushlog` is set, or `error` says why the raw `body` (from `url`) could not be read.
    """

    start_id: int
    end_id: int
    url: str
    body: bytes
    pushlog: hg.Pushlog | None
    error: str | None = None


def fetch_page(http: HttpConnector, repo: str, start_id: int, end_id: int) -> PushlogPage:
    """Pushes `start_id` (exclusive) to `end_id` (inclusive), read or not (see PushlogPage)."""
    path = f"/{repo}/json-pushes"
    params = {"version": 2, "full": 1, "startID": start_id, "endID": end_id}
    body = http.request("GET", path, params=params).content
    url = http.url(path, params)
    try:
        return PushlogPage(start_id, end_id, url, body, hg.parse_pushlog_bytes(body, repo=repo))
    except SourceError as exc:
        return PushlogPage(start_id, end_id, url, body, None, exc.message)


def iter_pushlog(
    http: HttpConnector,
    *,
    repo: str,
    start_id: int,
    end_id: int | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Iterator[PushlogPage]:
    """Pages from `start_id` (exclusive) to `end_id` (inclusive; None: the last push), in order.

    The first page tells `lastpushid`; the others are fetched `http.concurrency` at a time, so
    memory stays bounded however long the range. Iteration stops after a page with an error.
    """
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    if end_id is not None and end_id <= start_id:
        return
    first_end = start_id + page_size if end_id is None else min(start_id + page_size, end_id)
    first = fetch_page(http, repo, start_id, first_end)
    yield first
    if first.pushlog is None or first.pushlog.last_push_id is None:
        return
    stop = first.pushlog.last_push_id if end_id is None else min(end_id, first.pushlog.last_push_id)
    bounds = ((a, min(a + page_size, stop)) for a in range(first_end, stop, page_size))
    window = max(http.concurrency, 1) * 2
    while chunk := list(itertools.islice(bounds, window)):
        for page in http.map(lambda b: fetch_page(http, repo, *b), chunk):
            yield page
            if page.pushlog is None:
                return


def dead_letter_page(tx: Transaction, repo: str, page: PushlogPage) -> None:
    """Keep a page that could not be read, raw, with its URL; its key names the repository
    (and range) for `retry_pushlog_letter`."""
    error = f"{page.error or 'unreadable'} (GET {page.url})"
    tx.dead_letter(DEAD_LETTER_SOURCE, f"{repo}:{page.start_id}-{page.end_id}", error, page.body)


def store_pushlog(tx: Transaction, pushlog: hg.Pushlog) -> None:
    """Upsert a page's pushes and changesets and dead-letter its rejects, inside `tx`.

    A changeset read without `full=1` updates only its push and position, so it never erases
    metadata stored from a full page.
    """
    tx.upsert("pushes", [p.as_row() for p in pushlog.pushes])
    tx.upsert("changesets", [c.as_row() for c in pushlog.changesets if c.full])
    bare = [
        {k: v for k, v in c.as_row().items() if k in _BARE_COLUMNS}
        for c in pushlog.changesets
        if not c.full
    ]
    tx.upsert("changesets", bare, update=["push_id", "position_in_push"])
    tx.dead_letters(
        (DEAD_LETTER_SOURCE, reject.key, reject.error, reject.payload) for reject in pushlog.rejects
    )


@dataclass
class ScanResult:
    """What a scan stored, where the repository ends, and where its checkpoint is now."""

    repo: str
    pages: int = 0
    pushes: int = 0
    changesets: int = 0
    rejected: int = 0
    last_push_id: int | None = None
    checkpoint: int = 0
    error: str | None = None


def scan_pushlog(
    *,
    store: Store,
    http: HttpConnector,
    repo: str,
    start_id: int | None = None,
    end_id: int | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> ScanResult:
    """Fetch pushes after `start_id` (default: the checkpoint) up to `end_id` and store them.

    Each page is stored with its dead letters and the checkpoint in one transaction. The
    checkpoint advances only over pages contiguous with it, so scanning an old range (a backfill)
    never moves it back or past a gap. A page that is not JSON is kept as a dead letter and ends
    the scan (`error`), so the next scan retries it.
    """
    source = checkpoint_source(repo)
    checkpoint = int(store.checkpoint(source) or 0)
    result = ScanResult(repo, checkpoint=checkpoint)
    start = checkpoint if start_id is None else start_id
    for page in iter_pushlog(http, repo=repo, start_id=start, end_id=end_id, page_size=page_size):
        result.pages += 1
        with store.transaction() as tx:
            if page.pushlog is None:
                dead_letter_page(tx, repo, page)
                result.error = page.error
                break
            store_pushlog(tx, page.pushlog)
            last = page.pushlog.last_push_id
            covered = page.end_id if last is None else min(page.end_id, last)
            if page.start_id <= checkpoint < covered:
                checkpoint = covered
                tx.set_checkpoint(source, checkpoint)
        result.pushes += len(page.pushlog.pushes)
        result.changesets += len(page.pushlog.changesets)
        result.rejected += len(page.pushlog.rejects)
        result.last_push_id = page.pushlog.last_push_id
    result.checkpoint = checkpoint
    return result


def retry_pushlog_letter(tx: Transaction, letter: DeadLetter) -> None:
    """Re-read a dead-lettered page (or one rejected push) and store it; raises if still bad."""
    repo = (letter.key or "").rpartition(":")[0]
    if not repo:
        raise SourceError(f"dead letter {letter.id} has no repository in its key", field="key")
    store_pushlog(tx, hg.parse_pushlog_bytes(letter.payload, repo=repo, on_error="raise"))


RETRY_HANDLERS = {DEAD_LETTER_SOURCE: retry_pushlog_letter}
