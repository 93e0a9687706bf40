"""The window every dashboard page asks for, and the cache of answers too costly per request."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from shipgauge.errors import BadRequest
from shipgauge.queries.cache import AnswerCache
from shipgauge.queries.time import parse_window
from shipgauge.store import Store

NOW = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)


def test_a_window_is_a_range_back_from_now_or_from_to_dates() -> None:
    assert parse_window(None, None, None, now=NOW).start == NOW - timedelta(days=90)
    week = parse_window("7d", None, None, now=NOW)
    assert (week.start, week.end) == (NOW - timedelta(days=7), NOW)
    days = parse_window(None, "2026-11-01", "2026-11-30", now=NOW)
    assert (days.start, days.end) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),  # `to` includes its day
    )
    assert days.previous().start == datetime(2026, 10, 2, tzinfo=UTC)
    assert parse_window("30d", "2026-11-01", None, now=NOW).end == NOW  # from/to win over range


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("90", None, None), "range"),
        (("soon", None, None), "range"),
        ((None, "2026-12-01", "2026-11-01"), "to"),
        ((None, "2026-13-01", None), "from"),
        (("5000d", None, None), "range"),
    ],
)
def test_a_bad_window_names_its_parameter(args: tuple[str | None, ...], field: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_window(*args, now=NOW)
    assert caught.value.field == field


def test_the_cache_computes_once_then_serves_stale_while_refreshing() -> None:
    cache = AnswerCache(ttl_s=0.05)
    store = Store.__new__(Store)  # only its identity is used
    calls: list[int] = []
    gate = threading.Event()

    def compute(_: Store) -> int:
        calls.append(1)
        if len(calls) > 1:
            gate.wait(5)
        return len(calls)

    assert cache.get(store, "k", compute).value == 1
    assert cache.get(store, "k", compute).value == 1  # fresh: no second compute
    time.sleep(0.06)
    assert cache.get(store, "k", compute).value == 1  # stale: served, refreshed behind
    gate.set()
    deadline = time.monotonic() + 5
    while cache.get(store, "k", compute).value != 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.get(store, "k", compute).value == 2
    cache.clear(store)
    assert cache.get(store, "k", compute).value == 3
