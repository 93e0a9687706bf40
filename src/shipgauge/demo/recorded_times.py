"""Moving the demo's recorded times into the present, so a dashboard's default range shows them.

The recordings date from 2013 to 2022. `shipgauge demo` moves each recording by whole weeks (the
weekday and the time of day stay), so that its newest time falls in the last seven days, and
everything recorded with it moves by the same amount: a push's task group with the push, a day's
billing and uptime with that day's runs, a month's worker-type rates by as many months as the
runs they price. Within a recording every interval is kept. The move of each recording is chosen
on the first load and kept as the checkpoint `demo.moved:<recording>` (days), so loading again
moves nothing twice; `shipgauge demo` prints them. The loaders move nothing unless asked
(`move=True`): tests read the recorded times.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from shipgauge.store import Store

__all__ = [
    "MOVED_SOURCE",
    "add_months",
    "month_offset",
    "move_iso_times",
    "moved_cost_table",
    "recording_shift",
]

MOVED_SOURCE = "demo.moved"
_ISO = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)")


def recording_shift(
    store: Store,
    recording: str,
    newest: datetime,
    *,
    rates_day: date | None = None,
    taken_months: Collection[date] = (),
) -> timedelta:
    """How far `recording` moves: whole weeks bringing `newest` into the last seven days,
    chosen once per store (see the module's docstring). A recording with worker-type rates
    for its runs of `rates_day` moves a week further back until those runs land in a month no
    other recording's rates hold (`taken_months`): a month has one cost table per provider."""
    source = f"{MOVED_SOURCE}:{recording}"
    kept = store.checkpoint(source)
    if kept is not None:
        return timedelta(days=int(kept))
    weeks = (datetime.now(UTC) - newest) // timedelta(weeks=1)
    shift = timedelta(weeks=max(weeks, 0))
    while (
        rates_day
        and (datetime.combine(rates_day, time(), UTC) + shift).date().replace(day=1) in taken_months
    ):
        shift -= timedelta(weeks=1)
    with store.transaction() as tx:
        tx.set_checkpoint(source, shift.days)
    return shift


def move_iso_times(text: str, shift: timedelta) -> str:
    """Every ISO 8601 time with an offset in `text`, moved by `shift` (whole seconds), written
    as it was (same fraction digits, same `Z` or offset)."""
    if not shift:
        return text
    if shift % timedelta(seconds=1):
        raise ValueError("recorded times move by whole seconds")

    def moved(match: re.Match[str]) -> str:
        day, clock, fraction, zone = match.groups()
        when = datetime.fromisoformat(f"{day}T{clock}{zone}") + shift
        # the fraction is carried over as written: a whole-second shift never touches it
        return when.strftime("%Y-%m-%dT%H:%M:%S") + (fraction or "") + zone

    return _ISO.sub(moved, text)


def month_offset(anchor: datetime, shift: timedelta) -> int:
    """How many calendar months the month of `anchor` moves when `anchor` moves by `shift`."""
    moved = anchor + shift
    return (moved.year - anchor.year) * 12 + moved.month - anchor.month


def add_months(month: date, months: int) -> date:
    """The first day of the month `months` after `month`'s."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def moved_cost_table(source: Path, target: Path, shift: timedelta, months: int) -> Path:
    """An 8-column worker-type cost table (measuring_ci's) written to `target` with each row's
    month moved by `months` and its `modified` time by `shift`: runs moved by `shift` keep the
    rate of the month they ran in."""
    with source.open(newline="") as read, target.open("w", newline="") as write:
        rows = csv.DictReader(read)
        out = csv.DictWriter(write, fieldnames=list(rows.fieldnames or ()))
        out.writeheader()
        for row in rows:
            month = add_months(date(int(row["year"]), int(row["month"]), 1), months)
            modified = datetime.fromisoformat(row["modified"]) + shift
            moved = {
                "year": month.year,
                "month": month.month,
                "modified": f"{modified:%Y-%m-%d %H:%M:%S}",
            }
            out.writerow(row | moved)
    return target
