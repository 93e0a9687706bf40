"""How `shipgauge dead-letters retry` replays commit-telemetry dead letters.

A replayed message or changeset is looked up, classified and sent again with the current
settings; the pings are written in the retry's transaction. A ping that still cannot be built
raises, so its letter stays with the new reason.
"""

from __future__ import annotations

import json

from shipgauge.config import load_settings
from shipgauge.errors import SourceError, UpstreamError
from shipgauge.pipelines.pushlog import store_pushlog
from shipgauge.pipelines.telemetry.consume import fetch_push, push_works
from shipgauge.pipelines.telemetry.engine import ChangesetWork, PingResult, run_pings
from shipgauge.pipelines.telemetry.records import (
    CHANGESET_SOURCE,
    PING_SOURCE,
    PULSE_SOURCE,
    PingSink,
    write_results,
)
from shipgauge.pipelines.telemetry.services import TelemetryServices
from shipgauge.sources import hg
from shipgauge.store import Transaction
from shipgauge.store.dead_letters import DeadLetter

__all__ = ["RETRY_HANDLERS", "retry_changeset", "retry_message"]


def _ping(services: TelemetryServices, works: list[ChangesetWork], tx: Transaction) -> None:
    results: list[PingResult] = []
    run_pings(services, works, PingSink(store=None, on_result=results.append), send=True)
    failed = next((r for r in results if r.status in ("error", "invalid")), None)
    if failed is not None:
        kind = SourceError if failed.status == "invalid" else UpstreamError
        raise kind(f"changeset {failed.work.node}: {failed.error}")
    write_results(tx, results, services.bugzilla.take_fetched())


def retry_message(tx: Transaction, letter: DeadLetter) -> None:
    """A `telemetry.pulse` letter: read the message again, fetch its push, ping it."""
    message = hg.parse_push_message(letter.payload)
    if message.type != hg.CHANGEGROUP or len(message.pushes) != 1:
        return  # nothing to ping: the letter is done
    with TelemetryServices.from_settings(load_settings()) as services:
        pushlog = fetch_push(services, message.repo, message.pushes[0].push_id)
        store_pushlog(tx, pushlog)
        _ping(services, list(push_works(message, pushlog)), tx)


def retry_changeset(tx: Transaction, letter: DeadLetter) -> None:
    """A `telemetry.changeset` or `telemetry.ping` letter: build and send that ping again."""
    try:
        work = ChangesetWork(**json.loads(letter.payload)["work"])
    except (ValueError, KeyError, TypeError):
        raise SourceError(f"dead letter {letter.id} holds no changeset to retry") from None
    with TelemetryServices.from_settings(load_settings()) as services:
        _ping(services, [work], tx)


RETRY_HANDLERS = {
    PULSE_SOURCE: retry_message,
    CHANGESET_SOURCE: retry_changeset,
    PING_SOURCE: retry_changeset,
}
