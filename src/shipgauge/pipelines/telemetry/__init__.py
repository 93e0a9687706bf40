"""Commit telemetry: hg pushes → review system of every changeset → validated hgpush pings.

The shipgauge form of mozilla-conduit/commit-telemetry-service (docs/upstream.md
part B): `consume` drains the Pulse hgpushes queue, `backfill` reads a pushlog range, `dump_ping`
shows one changeset's ping, `resend` retries pings whose send failed.
"""

from shipgauge.pipelines.telemetry.backfill import BackfillResult, backfill, dump_ping, resend
from shipgauge.pipelines.telemetry.consume import ConsumeResult, amqp_consumer, consume
from shipgauge.pipelines.telemetry.engine import ChangesetWork, PingResult
from shipgauge.pipelines.telemetry.records import PingCounts
from shipgauge.pipelines.telemetry.retry import RETRY_HANDLERS
from shipgauge.pipelines.telemetry.services import PingTarget, TelemetryServices

__all__ = [
    "RETRY_HANDLERS",
    "BackfillResult",
    "ChangesetWork",
    "ConsumeResult",
    "PingCounts",
    "PingResult",
    "PingTarget",
    "TelemetryServices",
    "amqp_consumer",
    "backfill",
    "consume",
    "dump_ping",
    "resend",
]
