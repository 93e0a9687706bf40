"""The DevOps Toolkit's event formats (docs/upstream.md, B.1-B.5) → `DeliveryEventRow`.

- `POST /process-event` body: `{"Repo", "Event", "Metadata"?, "Time"?}`. Metadata is a string that
  by convention holds JSON; free text is kept as `{"text": …}` so the seed's reporters keep working.
  Its `commit_id` / `commit_ids` become the event's commits, a test run's `pass` its result.
- The `Time,Repo,Event,Metadata` CSV its tests wrote (times without offset, in UTC).
- JSON lines mixing shipgauge events and seed bodies, for `shipgauge events import`.

Unlike the seed, nothing is accepted silently: a bad body raises SourceError naming the field,
and the `calc_*` rows the seed wrote for itself are refused (shipgauge computes them in SQL).

>>> from datetime import UTC, datetime
>>> row = parse_seed_event(
...     {"Repo": "web", "Event": "deploy", "Metadata": '{"commit_ids": [100, 200]}'},
...     received_at=datetime(2024, 1, 9, tzinfo=UTC),
... )
>>> row.kind, row.commits, row.occurred_at.isoformat()
('deploy', ('100', '200'), '2024-01-09T00:00:00+00:00')
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from shipgauge.errors import SourceError
from shipgauge.sources.delivery._fields import (
    read_choice,
    read_commits,
    read_identifier,
    read_metadata,
    read_time,
)
from shipgauge.sources.delivery.events import (
    DEFAULT_MAX_FUTURE,
    DeliveryEventRow,
    Reject,
    build_row,
    parse_event,
    parse_json,
)

__all__ = ["SEED_EVENTS", "parse_event_lines", "parse_seed_csv", "parse_seed_event"]

SEED_EVENTS = ("push", "deploy", "test_pass", "test_run")
SEED_COMPUTED = ("calc_deploy_frequency", "calc_deploy_lead_time")
SEED_FIELDS = ("Repo", "Event", "Metadata", "Time")
_CSV_COLUMNS = ("Time", "Repo", "Event", "Metadata")
_TRUE = (True, "true", "True", "1", 1)


def parse_seed_event(
    doc: Any,
    *,
    received_at: datetime,
    origin: str = "process-event",
    event_id: str | None = None,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
) -> DeliveryEventRow:
    """A `/process-event` body → row. Without `Time` the event happened when it was received."""
    if not isinstance(doc, dict) or not doc:
        raise SourceError("the body must be a JSON object with Repo and Event", field="body")
    unknown = [name for name in doc if name not in SEED_FIELDS]
    if unknown:
        raise SourceError(
            f"field '{unknown[0]}' is not one of {', '.join(SEED_FIELDS)}", field=unknown[0]
        )
    for name in ("Repo", "Event"):
        if doc.get(name) is None:
            raise SourceError(f"{name} is required", field=name)
    if doc["Event"] in SEED_COMPUTED:
        raise SourceError(
            f"Event '{doc['Event']}' is computed by shipgauge, not reported", field="Event"
        )
    kind = read_choice(doc["Event"], "Event", SEED_EVENTS)
    metadata = _seed_metadata(doc.get("Metadata"))
    values: dict[str, Any] = {
        "service": read_identifier(doc["Repo"], "Repo"),
        "kind": kind,
        "metadata": metadata,
    }
    if doc.get("Time") is not None:
        values["occurred_at"] = read_time(
            doc["Time"], "Time", received_at=received_at, max_future=max_future, naive_is_utc=True
        )
    if event_id is not None:
        event_id = read_identifier(event_id, "Idempotency-Key")
    commits = _seed_commits(metadata)
    if commits:
        values["commits"] = commits
    if kind == "test_run" and "pass" in metadata:
        values["result"] = "success" if metadata["pass"] in _TRUE else "failure"
    return build_row(values, received_at=received_at, origin=origin, event_id=event_id)


def parse_seed_csv(
    lines: Iterable[str], *, received_at: datetime
) -> Iterator[DeliveryEventRow | Reject]:
    """The seed's `Time,Repo,Event,Metadata` CSV, line by line → its rows and rejects, in file
    order; a reject's index is its line. SourceError (at the first item) without the header.

    A reject's payload is the row as a `/process-event` body, so a retry can parse it alone.
    """
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or [h.strip() for h in header[:3]] != ["Time", "Repo", "Event"]:
        raise SourceError("the CSV must start with the header Time,Repo,Event,Metadata")
    for record in reader:
        if not record:
            continue
        # Unquoted commas in Metadata split it into more columns; join them back.
        doc = dict(zip(_CSV_COLUMNS, [*record[:3], ",".join(record[3:])], strict=False))
        if not doc.get("Metadata"):
            doc.pop("Metadata", None)
        yield _row_or_reject(
            partial(parse_seed_event, doc, received_at=received_at, origin="import"),
            reader.line_num,
            json.dumps(doc).encode(),
        )


def parse_event_lines(
    lines: Iterable[str], *, received_at: datetime
) -> Iterator[DeliveryEventRow | Reject]:
    """JSON lines, each a shipgauge event or a seed body (it has `Repo`) → rows and rejects, in
    file order. Lines end where `str.splitlines` ends them, as when the file was read whole."""
    physical_lines = (part for line in lines for part in line.splitlines())
    for number, line in enumerate(physical_lines, start=1):
        if line.strip():
            yield _row_or_reject(
                partial(parse_import_line, line.encode(), received_at=received_at),
                number,
                line.encode(),
            )


def parse_import_line(raw: bytes, *, received_at: datetime) -> DeliveryEventRow:
    """One imported JSON line (a shipgauge event or a seed body) → row."""
    doc = parse_json(raw, field="line")
    if isinstance(doc, dict) and "Repo" in doc:
        return parse_seed_event(doc, received_at=received_at, origin="import")
    return parse_event(doc, received_at=received_at, origin="import")


def _row_or_reject(
    parse: Callable[[], DeliveryEventRow], index: int, payload: bytes
) -> DeliveryEventRow | Reject:
    try:
        return parse()
    except SourceError as exc:
        return Reject(index, exc.field, exc.message, payload)


def _seed_metadata(value: Any) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return read_metadata(value, "Metadata")
    if not isinstance(value, str):
        raise SourceError("Metadata must be a string or a JSON object", field="Metadata")
    try:
        parsed = parse_json(value.encode("utf-8", errors="replace"), field="Metadata")
    except SourceError:
        parsed = None
    # The seed accepted free text; keeping it whole loses nothing and stays a JSON object.
    return read_metadata(parsed if isinstance(parsed, dict) else {"text": value}, "Metadata")


def _seed_commits(metadata: dict[str, Any]) -> tuple[str, ...]:
    if metadata.get("commit_ids") is not None:
        return read_commits(metadata["commit_ids"], "Metadata.commit_ids", numbers=True)
    if metadata.get("commit_id") is not None:
        return read_commits([metadata["commit_id"]], "Metadata.commit_id", numbers=True)
    return ()
