"""CI cost: pushes → decision tasks → task groups → priced runs (measuring_ci as a capability).

Modules: `scan` (the incremental scan and its checkpoints), `groups` (index lookup and group
listing for one push), `writer` (batches committed with the checkpoint), `prices` (cost
tables), `report` (what the CLI and API read from the models), `export` (the models as
Parquet), `demo`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from shipgauge.errors import SourceError
from shipgauge.pipelines.ci_cost.scan import (
    DEAD_LETTER_SOURCE,
    MODES,
    RepoScan,
    ScanOptions,
    checkpoint_name,
    scan_ci_cost,
    scan_repo,
)
from shipgauge.pipelines.ci_cost.writer import write_listings
from shipgauge.sources.taskcluster import groups as source
from shipgauge.store import Transaction
from shipgauge.store.dead_letters import DeadLetter, RetryHandler

__all__ = [
    "DEAD_LETTER_SOURCE",
    "MODES",
    "RETRY_HANDLERS",
    "RepoScan",
    "ScanOptions",
    "checkpoint_name",
    "retry_task_group_letter",
    "scan_ci_cost",
    "scan_repo",
]


def retry_task_group_letter(tx: Transaction, letter: DeadLetter) -> None:
    """Re-read a dead-lettered `listTaskGroup` entry (its raw JSON) and store its task and runs."""
    listing = source.GroupListing((letter.key or "").partition("/")[0])
    source.rows_from_entries(listing, [letter.payload], submitted=datetime.now(UTC).date())
    if listing.rejects:
        raise SourceError(listing.rejects[0][1])
    write_listings(tx, [listing])


RETRY_HANDLERS: dict[str, RetryHandler] = {DEAD_LETTER_SOURCE: retry_task_group_letter}
