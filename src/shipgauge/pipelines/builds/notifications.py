"""S3 event notifications POSTed to the API (directly or by Amazon SNS over HTTPS) or given as
files, by one rule: what is not a notification is refused, naming why, and nothing is stored."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from shipgauge.config import Settings
from shipgauge.errors import SourceError
from shipgauge.pipelines.builds.connectors import BuildhubConnectors, connectors_from_settings
from shipgauge.pipelines.builds.events import EventResult, ingest_event_messages
from shipgauge.pipelines.builds.sns import SnsConnector
from shipgauge.sources.s3.events import read_notification
from shipgauge.sources.sns import is_sns_message, parse_sns_message
from shipgauge.store import Store

__all__ = ["EVENT_FILES_PER_COMMIT", "ingest_event_files", "ingest_http_notification"]

# Notification files stored per transaction by `ingest_event_files` (a few kB each).
EVENT_FILES_PER_COMMIT = 500


def ingest_http_notification(
    store: Store, settings: Settings, body: bytes, message_id: str
) -> dict[str, Any]:
    """One notification POSTed to the API: an SNS message is verified as AWS documents it (its
    certificate URL on an SNS host, its signature) before anything else, so a subscription is
    confirmed and events ingested only on AWS's word; a message that fails is a 400 and no
    connection is made to an address it names.

    One rule for what is not ingested: a body that is not a notification (not JSON, not an
    object, no `Records` array, no SNS `Message` string) is a 400 naming what is wrong; a
    notification whose content cannot be processed becomes a dead letter."""
    doc = read_notification(body, max_depth=settings.max_json_depth)
    if is_sns_message(doc):
        message = parse_sns_message(doc, settings.sns_cert_host_pattern)
        with SnsConnector(
            cert_host_pattern=settings.sns_cert_host_pattern, timeout_s=settings.http_timeout_s
        ) as sns:
            if message.type == "SubscriptionConfirmation":
                sns.confirm_subscription(message)
                return {"subscribed": True}
            sns.authenticate(message)
        if message.type == "UnsubscribeConfirmation":
            return {"unsubscribed": True}
    connectors = connectors_from_settings(settings)
    try:
        return vars(ingest_event_messages(store, connectors, [(message_id, body)]))
    finally:
        connectors.close()


def ingest_event_files(
    store: Store,
    connectors: BuildhubConnectors,
    files: Sequence[tuple[str, Callable[[], bytes]]],
    *,
    max_depth: int,
) -> EventResult:
    """Notifications given as `(file name, read its content)`, by the rule of the S3-event
    route: a file that is not a notification (not JSON, nested deeper than `max_depth`, no
    `Records` array…) is a SourceError naming it, and nothing is stored; what a notification
    holds that cannot be processed becomes a dead letter, as it would from a queue.

    Every file is checked first, then read again and stored EVENT_FILES_PER_COMMIT at a time:
    memory follows a batch, not the number of files. A file that changed in between is a
    SourceError naming it; the batches before it stay stored (storing them again changes
    nothing)."""
    digests = []
    for name, read in files:
        body = read()
        read_notification(body, what=name, max_depth=max_depth)
        digests.append(hashlib.sha256(body).digest())
    result = EventResult()
    for start in range(0, len(files), EVENT_FILES_PER_COMMIT):
        batch = [(name, read()) for name, read in files[start : start + EVENT_FILES_PER_COMMIT]]
        for (name, body), checked in zip(batch, digests[start : start + len(batch)], strict=True):
            if hashlib.sha256(body).digest() != checked:
                raise SourceError(f"{name}: changed while it was being read; run again")
        result.add(ingest_event_messages(store, connectors, batch))
    return result
