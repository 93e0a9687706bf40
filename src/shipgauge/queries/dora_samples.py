"""The samples a DORA report aggregates, kept in process between writes of delivery events.

Computing `dora_metric_samples` is most of a report's cost (the change failures, incident links
and lead times of every deployment); aggregating them per bucket is little. So the samples of a
service (or of every service) from a week start on are computed once by the store and kept in an
in-memory DuckDB database; each report then runs `dora_summary` over them (queries/delivery.py).
The samples from the week of the window's start on are what `dora_summary` reads of the models
(`weekday_deploy_days` reads whole weeks), whatever the window's end, and they are the same
however much earlier history is skipped (see the `report_start` of the models), so kept samples
serve every later window too.

Kept samples are those of one write generation: every write of delivery events takes its turn on
one `ingest_checkpoints` row in its own transaction (`DELIVERY_TURN`), so a changed position
means new events, and the next report computes its samples again. Writes that bypass the
pipeline (SQL typed by hand) are seen after the next pipeline write.

Times are kept as UTC `TIMESTAMP`: DuckDB truncates those to days and weeks ~10x faster than
`TIMESTAMPTZ` (whose calendar is ICU's), and in UTC both give the same values. The samples'
strings are kept as ENUMs.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa

from shipgauge.store import DELIVERY_TURN, Store

__all__ = ["KeptSamples", "SampleCache", "week_start"]

# The kept tables and their columns. Times lose their zone (Arrow keeps them in UTC); `CAST`
# to these types also evens out what PostgreSQL sends (NUMERIC seconds, all-NULL batches).
_TABLES = {
    "kept_samples": pa.schema(
        [("service", pa.string()), ("environment", pa.string()), ("metric", pa.string()),
         ("sampled_at", pa.timestamp("us")), ("value", pa.float64()),
         ("link_method", pa.string())]
    ),
    "kept_deployments": pa.schema(
        [("service", pa.string()), ("environment", pa.string()),
         ("deployed_at", pa.timestamp("us")), ("result", pa.string())]
    ),
    "dora_benchmarks": pa.schema(
        [("report", pa.string()), ("metric", pa.string()), ("tier", pa.string()),
         ("lower_bound", pa.float64()), ("upper_bound", pa.float64()),
         ("upper_inclusive", pa.bool_()), ("label", pa.string()),
         ("score_low", pa.float64()), ("score_high", pa.float64())]
    ),
}  # fmt: skip
_BENCHMARKS_SQL = f"SELECT {', '.join(_TABLES['dora_benchmarks'].names)} FROM dora_benchmarks"


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 UTC of `moment`'s week (DuckDB's `date_trunc('week', …)` in UTC)."""
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class KeptSamples:
    """The samples of `service` (None: every service) from `since` on, as of `generation`."""

    generation: str | None
    service: str | None
    since: datetime
    rows: int
    db: duckdb.DuckDBPyConnection

    def covers(self, generation: str | None, service: str | None, since: datetime) -> bool:
        return (
            self.generation == generation
            and self.service in (None, service)
            and self.since <= since
        )

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own to the kept tables (one per request: threads share none)."""
        cursor = self.db.cursor()
        cursor.execute("SET TimeZone = 'UTC'")
        return cursor


class SampleCache:
    """Kept samples per store: per service and for every service, at most `max_entries` per
    store and only sets of at most `max_rows` samples (a longer window is computed per request)."""

    def __init__(self, *, max_rows: int, max_entries: int) -> None:
        self.max_rows = max_rows
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._kept: weakref.WeakKeyDictionary[Store, dict[str | None, KeptSamples]] = (
            weakref.WeakKeyDictionary()
        )
        self._building: dict[tuple[int, str | None], threading.Lock] = {}

    def samples(
        self,
        store: Store,
        service: str | None,
        since: datetime,
        sources: Callable[[], Mapping[str, str]],
    ) -> KeptSamples:
        """The samples of `service` (None: every service) from `since` on: kept ones, or
        computed now from `sources`, the SELECTs of `kept_samples` and `kept_deployments`."""
        # Read before the samples: a write in between makes them newer, never older, than this.
        generation = store.checkpoint(DELIVERY_TURN)
        found = self._find(store, generation, service, since)
        if found is not None:
            return found
        with self._build_lock(store, service):
            found = self._find(store, generation, service, since)
            if found is None:
                found = _compute(store, generation, service, since, sources())
                self._keep(store, found)
        return found

    def _find(
        self, store: Store, generation: str | None, service: str | None, since: datetime
    ) -> KeptSamples | None:
        with self._lock:
            kept = self._kept.get(store, {})
            for key in dict.fromkeys((service, None)):
                entry = kept.get(key)
                if entry is not None and entry.covers(generation, service, since):
                    return entry
        return None

    def _build_lock(self, store: Store, service: str | None) -> threading.Lock:
        with self._lock:
            return self._building.setdefault((id(store), service), threading.Lock())

    def _keep(self, store: Store, entry: KeptSamples) -> None:
        if entry.rows > self.max_rows:
            return
        with self._lock:
            kept = self._kept.setdefault(store, {})
            for key in [k for k, v in kept.items() if v.generation != entry.generation]:
                del kept[key]
            kept.pop(entry.service, None)
            while len(kept) >= self.max_entries:
                del kept[next(iter(kept))]  # the one kept longest
            kept[entry.service] = entry


def _compute(
    store: Store,
    generation: str | None,
    service: str | None,
    since: datetime,
    sources: Mapping[str, str],
) -> KeptSamples:
    sources = {**sources, "dora_benchmarks": _BENCHMARKS_SQL}
    # One service's samples are too few to share out: no threads of its own per kept service.
    db = duckdb.connect(config={"threads": 1} if service is not None else {})
    db.execute("SET TimeZone = 'UTC'")
    for table, schema in _TABLES.items():
        batches = store.iter_batches(sources[table])
        data = pa.Table.from_batches([b.select(schema.names).cast(schema) for b in batches], schema)
        db.register("data", data)
        columns = []
        for name in schema.names:
            if table == "kept_samples" and schema.field(name).type == pa.string():
                # An ENUM of the values: a third of the memory, a third less CPU per report.
                db.execute(
                    f"CREATE TYPE {name}_value AS ENUM"
                    f" (SELECT DISTINCT {name} FROM data WHERE {name} IS NOT NULL)"
                )
                name = f"CAST({name} AS {name}_value) AS {name}"
            columns.append(name)
        # Sorted by service, so that one service's rows are found by the tables' zone maps.
        order = " ORDER BY service" if "service" in schema.names else ""
        db.execute(f"CREATE TABLE {table} AS SELECT {', '.join(columns)} FROM data{order}")
        db.unregister("data")
    rows = db.execute("SELECT count(*) FROM kept_samples").fetchone()
    return KeptSamples(generation, service, since, int(rows[0]) if rows else 0, db)
