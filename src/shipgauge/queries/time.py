"""Every date, time and window argument of the CLI and the API, read one way.

- a day: `2024-05-01`; as the end of a range it includes that day;
- a month: `2024-05` (its first day);
- a moment: a day, or an ISO 8601 / RFC 3339 time (`2024-05-01T12:00:00Z`); a time without
  an offset is UTC unless the caller asks for one;
- a window back from now: `12h`, `30d`, `2w`;
- a dashboard's window: `range` (a window back from now) or `start`/`end` (moments, `end`
  inclusive as a day), as one `Window`.
Every result is an aware UTC datetime (or a date), and every mistake a BadRequest naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from shipgauge.errors import BadRequest

__all__ = [
    "DEFAULT_RANGE",
    "Window",
    "parse_day",
    "parse_moment",
    "parse_month",
    "parse_since",
    "parse_window",
    "window_start",
]

_WINDOW = re.compile(r"(\d{1,9})([hdw])")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
DEFAULT_RANGE = "90d"
_MAX_WINDOW = timedelta(days=3660)


def parse_day(value: str, field: str) -> date:
    """`YYYY-MM-DD`."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(f"{field} '{value}' is not a date (YYYY-MM-DD)", field=field) from None


def parse_month(value: str, field: str) -> date:
    """`YYYY-MM`, as the month's first day."""
    try:
        return date.fromisoformat(f"{value.strip()}-01")
    except ValueError:
        raise BadRequest(f"{field} '{value}' is not a month (YYYY-MM)", field=field) from None


def parse_moment(
    value: str, field: str, *, end: bool = False, require_offset: bool = False
) -> datetime:
    """A day (as an `end`, the day after it, so the day is included) or a time, in UTC."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time(), tzinfo=UTC) + timedelta(days=1 if end else 0)
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise BadRequest(
            f"{field} '{value}' is not a date (2024-05-01) or an ISO 8601 time", field=field
        ) from None
    if moment.tzinfo is None:
        if require_offset:
            raise BadRequest(f"{field} '{value}' needs an offset, such as Z", field=field)
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise BadRequest(f"{field} '{value}' is out of range", field=field) from None


def window_start(end: datetime, length: timedelta, field: str) -> datetime:
    """`end - length`; a BadRequest naming `field` when that is before year 1."""
    try:
        return end - length
    except OverflowError:
        raise BadRequest(f"{field} reaches back before year 1", field=field) from None


def parse_since(value: str, field: str, *, now: datetime, require_offset: bool = False) -> datetime:
    """A window back from `now` (`12h`, `30d`, `2w`) or a moment.

    >>> parse_since("2d", "since", now=datetime(2024, 1, 3, tzinfo=UTC)).isoformat()
    '2024-01-01T00:00:00+00:00'
    """
    if match := _WINDOW.fullmatch(value.strip()):
        try:
            length = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        except OverflowError:
            length = timedelta.max
        try:
            return now - length
        except OverflowError:
            raise BadRequest(f"'{value}' reaches back before year 1", field=field) from None
    if re.fullmatch(r"\d+\w", value.strip()):
        raise BadRequest(
            f"{field} '{value}' is neither a window like 30d, 12h, 2w nor a date", field=field
        )
    return parse_moment(value, field, require_offset=require_offset)


@dataclass(frozen=True)
class Window:
    """[start, end) in UTC, as a dashboard asked for it."""

    start: datetime
    end: datetime

    @property
    def days(self) -> float:
        return (self.end - self.start) / timedelta(days=1)

    def previous(self) -> Window:
        """The window of the same length just before this one."""
        return Window(window_start(self.start, self.end - self.start, "start"), self.start)


def parse_window(
    range_: str | None,
    start: str | None,
    end: str | None,
    *,
    now: datetime,
    default: str = DEFAULT_RANGE,
) -> Window:
    """A dashboard's window: `start`/`end` when given (`end` a day includes it; a missing end is
    now), else `range` (`7d`, `12w`, `24h`) back from `end` or now, else `default`.

    >>> w = parse_window("7d", None, None, now=datetime(2024, 1, 8, tzinfo=UTC))
    >>> w.start.isoformat(), w.end.isoformat()
    ('2024-01-01T00:00:00+00:00', '2024-01-08T00:00:00+00:00')
    >>> parse_window(None, "2024-01-01", "2024-01-01", now=datetime.now(UTC)).days
    1.0
    """
    end_at = parse_moment(end, "to", end=True) if end else now
    if start:
        start_at = parse_moment(start, "from")
    else:
        text = (range_ or default).strip()
        if not _WINDOW.fullmatch(text):
            raise BadRequest(
                f"range '{text}' is not a window like 7d, 30d, 90d, 12w or 24h", field="range"
            )
        start_at = parse_since(text, "range", now=end_at)
    if end_at <= start_at:
        raise BadRequest("the window ends before it starts: 'to' must be after 'from'", field="to")
    if end_at - start_at > _MAX_WINDOW:
        raise BadRequest("a window covers at most 10 years", field="range")
    return Window(start_at, end_at)
