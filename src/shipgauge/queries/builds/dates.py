"""Dates in Elasticsearch's answers: epoch milliseconds, ISO text, calendar bucket steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["bucket_starts", "iso_millis", "millis"]

_FIXED_STEPS = {
    "minute": timedelta(minutes=1), "hour": timedelta(hours=1),
    "day": timedelta(days=1), "week": timedelta(weeks=1),
}  # fmt: skip
_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def millis(value: datetime) -> int:
    """Epoch milliseconds, ES's numeric form of a date (naive values are UTC)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


def iso_millis(value: datetime) -> str:
    """ES's `strict_date_optional_time` rendering: `2019-06-14T09:12:01.000Z`."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def bucket_starts(first: datetime, last: datetime, part: str, limit: int) -> list[datetime]:
    """Every bucket start from `first` to `last` (both truncated to `part`), step by step.

    ValueError when there would be more than `limit` buckets.
    """
    starts = [first]
    while starts[-1] < last:
        if len(starts) >= limit:
            raise ValueError(f"more than {limit} buckets")
        current = starts[-1]
        if part in _FIXED_STEPS:
            starts.append(current + _FIXED_STEPS[part])
        else:
            month = current.month - 1 + _MONTHS[part]
            starts.append(current.replace(year=current.year + month // 12, month=month % 12 + 1))
    return starts
