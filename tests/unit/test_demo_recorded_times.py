"""Moving the demo's recorded times: whole weeks, written as recorded, months carried along."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shipgauge.demo.recorded_times import add_months, month_offset, move_iso_times


def test_recorded_times_move_by_whole_weeks_as_written() -> None:
    text = '{"a": "2019-06-26T18:45:37.148Z", "b": "2019-10-16T21:24:22.032307+00:00"} 2017-06-02'
    moved = move_iso_times(text, timedelta(weeks=2))
    assert (
        moved
        == '{"a": "2019-07-10T18:45:37.148Z", "b": "2019-10-30T21:24:22.032307+00:00"} 2017-06-02'
    )
    with pytest.raises(ValueError):
        move_iso_times(text, timedelta(milliseconds=5))
    assert month_offset(datetime(2013, 9, 30, tzinfo=UTC), timedelta(days=1)) == 1
    assert add_months(date(2013, 9, 1), 159) == date(2026, 12, 1)
