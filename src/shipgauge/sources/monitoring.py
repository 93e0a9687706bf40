"""Worker uptime: Cloud Monitoring `timeSeries.list` pages and uptime files → worker_metrics rows.

The request is fxci-etl's `metric export` (upstream.md A.9): metric
`compute.googleapis.com/instance/uptime`, one aligned point per series over the day (ALIGN_SUM,
REDUCE_SUM, grouped by instance name, id and zone). A day is exported only once it has been over
for 10 minutes, because Monitoring keeps filling in points until then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, TypedDict

from shipgauge.errors import BadRequest, SourceError
from shipgauge.sources.taskcluster.rows import parse_time

__all__ = [
    "GCP_UPTIME_METHOD",
    "SAFETY_MARGIN",
    "UPTIME_FILE_COLUMNS",
    "UPTIME_FILE_METHOD",
    "UPTIME_METRIC",
    "WorkerMetricRow",
    "day_interval",
    "time_series_params",
    "time_series_rows",
    "uptime_file_rows",
]

UPTIME_METRIC: Final = "compute.googleapis.com/instance/uptime"
SAFETY_MARGIN: Final = timedelta(minutes=10)
GROUP_BY_FIELDS: Final = (
    "metric.labels.instance_name",
    "resource.labels.instance_id",
    "resource.labels.zone",
)
GCP_UPTIME_METHOD: Final = "gcp_monitoring_instance_uptime"
UPTIME_FILE_METHOD: Final = "uptime_file"
UPTIME_FILE_COLUMNS: Final = (
    "project",
    "zone",
    "instance_id",
    "uptime",
    "interval_start_time",
    "interval_end_time",
)


class WorkerMetricRow(TypedDict):
    """One row of `worker_metrics`: seconds an instance was up in an interval."""

    project: str
    zone: str
    instance_id: str
    interval_start_time: datetime
    interval_end_time: datetime
    uptime: float | None
    cloud_provider: str | None  # None: gcp, as fxci's cost query reads it
    method: str
    submission_date: date


def day_interval(day: date, *, now: datetime) -> tuple[datetime, datetime]:
    """`day` 00:00:00 to 23:59:59 UTC; BadRequest until 10 minutes after the day has ended.

    >>> day_interval(date(2024, 8, 1), now=datetime(2024, 8, 2, 0, 15, tzinfo=UTC))[1]
    datetime.datetime(2024, 8, 1, 23, 59, 59, tzinfo=datetime.timezone.utc)
    """
    start = datetime.combine(day, time(), UTC)
    end = start + timedelta(days=1) - timedelta(seconds=1)
    if now <= end + SAFETY_MARGIN:
        raise BadRequest(
            f"uptime for {day} can be exported from {end + SAFETY_MARGIN:%Y-%m-%d %H:%M} UTC "
            "(Cloud Monitoring fills in points for 10 minutes after the day ends)",
            field="date",
        )
    return start, end


def time_series_params(
    start: datetime, end: datetime, *, page_token: str | None = None
) -> list[tuple[str, str]]:
    """Query parameters of `GET /v3/projects/<project>/timeSeries` for one point per series."""
    params = [
        ("filter", f'metric.type="{UPTIME_METRIC}"'),
        ("interval.startTime", start.isoformat().replace("+00:00", "Z")),
        ("interval.endTime", end.isoformat().replace("+00:00", "Z")),
        ("view", "FULL"),
        ("aggregation.alignmentPeriod", f"{int((end - start).total_seconds())}s"),
        ("aggregation.perSeriesAligner", "ALIGN_SUM"),
        ("aggregation.crossSeriesReducer", "REDUCE_SUM"),
        *(("aggregation.groupByFields", f) for f in GROUP_BY_FIELDS),
    ]
    if page_token:
        params.append(("pageToken", page_token))
    return params


def _point_value(value: Mapping[str, Any]) -> float:
    for kind in ("doubleValue", "int64Value"):
        if kind in value:
            return round(float(value[kind]), 2)
    raise SourceError(f"point value {dict(value)} has no doubleValue", field="value")


def time_series_rows(
    response: Mapping[str, Any], *, project: str, day: date
) -> list[WorkerMetricRow]:
    """The rows of one `timeSeries.list` page: one per series, from its first point."""
    rows: list[WorkerMetricRow] = []
    for series in response.get("timeSeries", []):
        try:
            labels = series["resource"]["labels"]
            point = series["points"][0]
            rows.append(
                {
                    # REDUCE_SUM may drop the project label; the queried project is the same.
                    "project": labels.get("project_id") or project,
                    "zone": labels["zone"],
                    "instance_id": labels["instance_id"],
                    "interval_start_time": _required_time(point["interval"]["startTime"]),
                    "interval_end_time": _required_time(point["interval"]["endTime"]),
                    "uptime": _point_value(point["value"]),
                    "cloud_provider": "gcp",
                    "method": GCP_UPTIME_METHOD,
                    "submission_date": day,
                }
            )
        except (KeyError, IndexError, TypeError) as exc:
            raise SourceError(f"time series of {project} lacks {exc}", field="timeSeries") from None
    return rows


def _required_time(value: object, field: str = "interval") -> datetime:
    parsed = parse_time(value, field=field)
    if parsed is None:
        raise SourceError(f"{field}: missing time", field=field)
    return parsed


def uptime_file_rows(
    records: Iterable[tuple[str, Mapping[str, Any]]], *, day: date
) -> tuple[list[WorkerMetricRow], int]:
    """Rows of an uptime file whose interval starts on `day`, and how many rows were other days.

    Each record has UPTIME_FILE_COLUMNS and optionally `cloud_provider` (default NULL, which the
    models read as gcp, as fxci's cost query does); `where` (e.g. "line 3") goes into errors.
    """
    rows: list[WorkerMetricRow] = []
    skipped = 0
    for where, record in records:
        start = _required_time(record.get("interval_start_time"), f"{where}: interval_start_time")
        if start.date() != day:
            skipped += 1
            continue
        try:
            uptime = float(record["uptime"])
        except (KeyError, TypeError, ValueError):
            raise SourceError(
                f"{where}: column 'uptime': {record.get('uptime')!r} is not a number",
                field="uptime",
            ) from None
        rows.append(
            {
                "project": str(record["project"]),
                "zone": str(record["zone"]),
                "instance_id": str(record["instance_id"]),
                "interval_start_time": start,
                "interval_end_time": _required_time(
                    record.get("interval_end_time"), f"{where}: interval_end_time"
                ),
                "uptime": uptime,
                "cloud_provider": str(record.get("cloud_provider") or "") or None,
                "method": UPTIME_FILE_METHOD,
                "submission_date": day,
            }
        )
    return rows, skipped
