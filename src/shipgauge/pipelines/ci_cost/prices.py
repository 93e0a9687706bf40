"""`ci-cost prices`: a measuring_ci cost CSV (every month in it) into `worker_type_costs`.

The parsing and the per-month replace are the Taskcluster ETL's (`sources/billing.py`,
`pipelines/taskcluster/workers.load_costs`); this only checks the header first, with a message
that names the expected columns, and loads each month the 8-column table holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from shipgauge.errors import BadRequest, SourceError
from shipgauge.pipelines.taskcluster.files import read_table
from shipgauge.pipelines.taskcluster.workers import load_costs
from shipgauge.sources import billing
from shipgauge.store import Store

__all__ = ["PricesResult", "load_prices"]

_EXPECTED = " or ".join(
    f"{len(billing.BILLING_FORMATS[f])} columns {','.join(billing.BILLING_FORMATS[f])}"
    for f in billing.WORKER_TYPE_FORMATS
)


@dataclass(frozen=True)
class PricesResult:
    """What a cost CSV gave: its format and the rows stored per month."""

    format: str
    months: dict[date, int]


def _months(records: list[tuple[str, dict[str, object]]]) -> list[date]:
    found = set()
    for where, record in records:
        try:
            found.add(date(int(str(record["year"])), int(str(record["month"])), 1))
        except (KeyError, TypeError, ValueError):
            raise SourceError(
                f"{where}: year/month {record.get('year')!r}/{record.get('month')!r}"
                " is not a month",
                field="month",
            ) from None
    return sorted(found)


def load_prices(store: Store, path: Path, *, month: date | None = None) -> PricesResult:
    """Load a cost CSV; the 5-column table names no month, so it needs `month`.

    The header is checked before anything is written: a wrong one writes nothing.
    """
    columns, records = read_table(path)
    try:
        fmt = billing.detect_format(columns)
    except SourceError as exc:
        fmt = ""
        reason = exc.message
    else:
        reason = f"it is a {fmt} file"
    if fmt not in billing.WORKER_TYPE_FORMATS:
        raise SourceError(
            f"{path}: not a cost CSV ({reason}); expected the header {_EXPECTED}", field="columns"
        )
    if fmt == "worker_type_5":
        if month is None:
            raise BadRequest(
                f"{path}: a 5-column cost CSV names no month; give --month", field="month"
            )
        months = [month.replace(day=1)]
    else:
        months = [m for m in _months(records) if month is None or m == month.replace(day=1)]
    loaded = {}
    for first_day in months:
        result = load_costs(store=store, paths=[path], day=first_day, gcp_projects=[])
        loaded[first_day] = result.worker_type_costs
    return PricesResult(fmt, loaded)
