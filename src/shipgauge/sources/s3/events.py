"""S3 event notifications in every envelope they travel in → one list of object events.

Shapes read (upstream.md §4.4, §6.1): an SNS notification whose `Message` is a JSON string (S3 →
SNS → SQS, or SNS → HTTP), the Lambda form `Records[].Sns.Message`, S3's own `{"Records": [...]}`
(S3 → SQS directly, and the bucket notifications MinIO and Ceph publish to AMQP, which add
`EventName`/`Key` at the top), and S3's `s3:TestEvent`, which carries no object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from shipgauge.errors import BadRequest, SourceError
from shipgauge.json_input import DEFAULT_MAX_JSON_DEPTH, load_json

__all__ = ["S3ObjectEvent", "parse_s3_event_message", "read_notification"]


@dataclass(frozen=True)
class S3ObjectEvent:
    """One object an event is about; `key` is decoded (events encode spaces as `+`)."""

    bucket: str
    key: str
    size: int | None
    etag: str | None
    event_time: datetime | None
    event_name: str

    @property
    def created(self) -> bool:
        """Whether the object was created (events without a name are taken as creations)."""
        return not self.event_name or "ObjectCreated" in self.event_name


def read_notification(
    body: bytes | str | Mapping[str, Any],
    *,
    what: str = "body",
    max_depth: int = DEFAULT_MAX_JSON_DEPTH,
) -> Mapping[str, Any]:
    """The envelope of a notification: a JSON object with an SNS `Message` string, S3's
    `Records` array, or S3's test event. A SourceError naming `what` (the body, a file) and
    what is wrong for anything else; what is inside is read by `parse_s3_event_message`."""
    if isinstance(body, Mapping):
        doc: Any = body
    else:
        try:
            doc = load_json(body, what=what, max_depth=max_depth)
        except BadRequest as exc:
            raise SourceError(exc.message, field=what) from None
    if not isinstance(doc, Mapping):
        raise SourceError(
            f"{what}: an S3 event notification is a JSON object, not {_json_kind(doc)}",
            field=what,
        )
    if "Message" in doc:  # SNS notification
        _message_text(doc["Message"])
    elif not _carries_no_object(doc) and not isinstance(doc.get("Records"), list):
        raise SourceError(
            f"{what}: not an S3 event notification: no SNS Message and no Records array",
            field="Records",
        )
    return doc


def _json_kind(value: Any) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")


def _carries_no_object(doc: Mapping[str, Any]) -> bool:
    return doc.get("Event") == "s3:TestEvent" or doc.get("Type") in (
        "SubscriptionConfirmation",
        "UnsubscribeConfirmation",
    )


def parse_s3_event_message(
    body: bytes | str | Mapping[str, Any], *, max_depth: int = DEFAULT_MAX_JSON_DEPTH
) -> list[S3ObjectEvent]:
    """Every object event in a message, whatever its envelope; SourceError if none is known."""
    doc = read_notification(body, max_depth=max_depth)
    if "Message" in doc:
        return parse_s3_event_message(doc["Message"], max_depth=max_depth)
    if _carries_no_object(doc):
        return []
    events: list[S3ObjectEvent] = []
    for record in doc["Records"]:
        if not isinstance(record, Mapping):
            continue
        if record.get("EventSource") == "aws:sns" and isinstance(record.get("Sns"), Mapping):
            message = _message_text(record["Sns"].get("Message"))
            events.extend(parse_s3_event_message(message, max_depth=max_depth))
        elif isinstance(record.get("s3"), Mapping):
            events.append(_object_event(record))
        # Records without `s3` are not about objects; Buildhub2 skips them too.
    return events


def _message_text(message: Any) -> str:
    if not isinstance(message, str):
        raise SourceError("SNS Message must be a JSON string", field="Message")
    return message


def _object_event(record: Mapping[str, Any]) -> S3ObjectEvent:
    s3 = record["s3"]
    obj = s3.get("object") if isinstance(s3.get("object"), Mapping) else {}
    key = obj.get("key")
    if not isinstance(key, str) or not key:
        raise SourceError("S3 event record without s3.object.key", field="s3.object.key")
    bucket = s3.get("bucket", {}).get("name", "") if isinstance(s3.get("bucket"), Mapping) else ""
    size = obj.get("size")
    etag = obj.get("eTag") or obj.get("etag")
    return S3ObjectEvent(
        bucket=str(bucket),
        key=unquote_plus(key),
        size=int(size) if isinstance(size, int | float | str) and str(size).isdigit() else None,
        etag=str(etag).strip('"') if etag else None,
        event_time=_event_time(record.get("eventTime")),
        event_name=str(record.get("eventName", "")),
    )


def _event_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise SourceError(f"eventTime '{value}' is not ISO 8601", field="eventTime") from None
