"""fxci-etl's BigQuery tables as exported (CSV, JSON lines, Parquet) → store rows, as Arrow.

The four tables of `fxci_derived` that hold history no Pulse queue replays: tasks_v2,
task_runs_v1, worker_metrics_v1 and worker_costs_v1 (schemas in the bigquery-etl YAMLs,
docs/taskcluster.md maps every column). Columns keep upstream's names; the `tags` RECORD of
tasks_v2 comes flattened (`tags.kind`, as Parquet and JSON give it; `tags_kind` too, as a CSV
export of `SELECT tags.kind AS tags_kind` names it). Everything here is pure: an Arrow table of
one batch in, the store table's rows and the rows that could not be read out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from shipgauge.errors import BadRequest
from shipgauge.sources.monitoring import GCP_UPTIME_METHOD
from shipgauge.sources.taskcluster.arrow_values import Kind, arrow_type, read_column
from shipgauge.sources.taskcluster.rows import KNOWN_TAGS, RUN_STATES

__all__ = ["TABLES", "FxciTable", "Rejected", "conform_batch", "fxci_table", "missing_columns"]

_TAG_COLUMNS: Final[dict[str, Kind]] = {f"tags.{t}": "text" for t in KNOWN_TAGS}
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True)
class FxciTable:
    """One upstream table: its columns (upstream name → kind), the ones a row needs, and the
    store table it loads."""

    name: str
    target: str
    columns: Mapping[str, Kind]
    required: tuple[str, ...]  # a row without one of these is a dead letter
    # A file without one of these columns is refused as a whole: columns upstream requires (or
    # the store's key needs), never a nullable one, which a JSON export may leave out of a line.
    needed: tuple[str, ...]


@dataclass(frozen=True)
class Rejected:
    """A row of the batch that cannot be stored, and why."""

    index: int
    reason: str


TABLES: Final = {
    t.name: t
    for t in (
        FxciTable(
            "tasks_v2",
            "tasks",
            {"task_id": "text", "task_group_id": "text", "scheduler_id": "text",
             "task_queue_id": "text", "submission_date": "date", **_TAG_COLUMNS},
            ("task_id", "task_group_id", "scheduler_id", "task_queue_id"),
            ("task_id", "task_group_id", "scheduler_id", "task_queue_id"),
        ),
        FxciTable(
            "task_runs_v1",
            "task_runs",
            {"task_id": "text", "run_id": "int", "state": "text", "reason_created": "text",
             "reason_resolved": "text", "scheduled": "time", "started": "time",
             "resolved": "time", "worker_group": "text", "worker_id": "text",
             "submission_date": "date"},
            ("task_id", "run_id", "state"),
            ("task_id", "run_id", "state", "scheduled", "resolved"),
        ),
        FxciTable(
            "worker_metrics_v1",
            "worker_metrics",
            {"project": "text", "zone": "text", "instance_id": "text",
             "interval_start_time": "time", "interval_end_time": "time", "uptime": "float",
             "submission_date": "date"},
            ("project", "zone", "instance_id", "interval_start_time", "interval_end_time"),
            ("project", "zone", "instance_id", "interval_start_time", "interval_end_time"),
        ),
        FxciTable(
            "worker_costs_v1",
            "worker_costs",
            {"project": "text", "name": "text", "zone": "text", "instance_id": "text",
             "total_cost": "float", "usage_start_date": "date", "cloud_provider": "text"},
            ("project", "name", "instance_id", "usage_start_date"),
            ("project", "name", "instance_id", "usage_start_date"),
        ),
    )
}  # fmt: skip


def fxci_table(name: str) -> FxciTable:
    """The table named `name` (tasks_v2, task_runs_v1, worker_metrics_v1, worker_costs_v1)."""
    try:
        return TABLES[name]
    except KeyError:
        raise BadRequest(
            f"no fxci-etl table '{name}'; import one of {', '.join(TABLES)}", field="TABLE"
        ) from None


def _upstream_name(name: str) -> str:
    """A column as upstream names it: `tags_kind` (a flattened CSV export) is `tags.kind`."""
    if name.startswith("tags_") and name.removeprefix("tags_") in KNOWN_TAGS:
        return "tags." + name.removeprefix("tags_")
    return name


def missing_columns(table: FxciTable, names: Sequence[str]) -> list[str]:
    """The columns `table` needs that a file with columns `names` lacks."""
    present = {_upstream_name(n) for n in names}
    return [c for c in table.needed if c not in present]


def conform_batch(
    table: FxciTable, batch: pa.Table, *, today: date
) -> tuple[pa.Table, list[Rejected]]:
    """The store rows of one batch of `table`, and the rows that cannot be stored.

    Unknown columns are ignored; a missing optional column is NULL; `submission_date`, when a
    row has none, is the day the row was first stored (`today`), as for Pulse messages.
    """
    batch = batch.rename_columns([_upstream_name(n) for n in batch.column_names])
    values: dict[str, pa.Array] = {}
    checks: list[tuple[pa.Array, str]] = []
    for column, kind in table.columns.items():
        if column in batch.column_names:
            values[column], unreadable = read_column(batch.column(column), kind)
            checks.append((unreadable, f"{column}: not a {_KIND_WORDS[kind]}"))
        else:
            values[column] = pa.nulls(batch.num_rows, arrow_type(kind))
    for column in table.required:
        checks.append((pc.is_null(values[column]), f"{column} is missing"))
    rows, more = _BUILDERS[table.name](values, batch.num_rows, today)
    checks += more
    bad = _any(checks, batch.num_rows)
    rejected = _rejections(checks, bad)
    return (rows.filter(pc.invert(bad)) if rejected else rows), rejected


_KIND_WORDS: Final = {
    "text": "text value",
    "int": "whole number",
    "float": "number",
    "time": "time (ISO 8601 or 2024-08-01 12:00:00 UTC)",
    "date": "date (YYYY-MM-DD)",
}


def _any(checks: list[tuple[pa.Array, str]], rows: int) -> pa.Array:
    bad = pa.repeat(pa.scalar(False), rows)
    for mask, _ in checks:
        bad = pc.or_(bad, pc.fill_null(mask, False))
    return bad


def _rejections(checks: list[tuple[pa.Array, str]], bad: pa.Array) -> list[Rejected]:
    """Each bad row with the first check it fails (there are few: this is Python per row)."""
    if not pc.any(bad).as_py():
        return []
    reasons: dict[int, str] = {}
    for mask, reason in checks:
        for index in pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist():
            reasons.setdefault(index, reason)
    return [Rejected(i, reasons[i]) for i in sorted(reasons)]


Built = tuple[pa.Table, list[tuple[pa.Array, str]]]


def _submission(values: Mapping[str, pa.Array], today: date) -> pa.Array:
    return pc.fill_null(values["submission_date"], pa.scalar(today, pa.date32()))


def _tasks(values: Mapping[str, pa.Array], rows: int, today: date) -> Built:
    queue = values["task_queue_id"]
    parts = pc.extract_regex(queue, r"^(?P<provisioner>[^/]+)/(?P<worker_type>.+)$")
    provisioner = pc.struct_field(parts, "provisioner")
    worker_type = pc.struct_field(parts, "worker_type")
    tags = {t: values[f"tags.{t}"] for t in KNOWN_TAGS}
    columns = {
        "task_id": values["task_id"],
        "task_group_id": values["task_group_id"],
        "scheduler_id": values["scheduler_id"],
        "task_queue_id": queue,
        "provisioner_id": provisioner,
        "worker_type": worker_type,
        **tags,
        "tags": _tags_json(tags, rows),
        "submission_date": _submission(values, today),
    }
    not_pair = pc.and_(pc.is_valid(queue), pc.is_null(provisioner))
    return pa.table(columns), [(not_pair, "task_queue_id: not provisioner/worker-type")]


def _tags_json(tags: Mapping[str, pa.Array], rows: int) -> pa.Array:
    """The known tags of each row as a JSON object (fxci_derived keeps no others); NULL when the
    row has none, so that a definition fetched later may still fill them."""
    if all(column.null_count == rows for column in tags.values()):
        return pa.nulls(rows, pa.string())
    lists = {name: column.to_pylist() for name, column in tags.items()}
    out: list[str | None] = []
    for i in range(rows):
        known = {name: values[i] for name, values in lists.items() if values[i] is not None}
        out.append(_encode(known).decode() if known else None)
    return pa.array(out, pa.string())


def _task_runs(values: Mapping[str, pa.Array], rows: int, today: date) -> Built:
    columns = {
        name: values[name]
        for name in ("task_id", "run_id", "state", "reason_created", "reason_resolved",
                     "worker_group", "worker_id", "scheduled", "started", "resolved")
    }  # fmt: skip
    columns["run_id"] = values["run_id"].cast(pa.int32())
    columns["submission_date"] = _submission(values, today)
    state = values["state"]
    unknown = pc.invert(pc.fill_null(pc.is_in(state, pa.array(RUN_STATES)), True))
    return pa.table(columns), [(unknown, f"state: not one of {', '.join(RUN_STATES)}")]


def _worker_metrics(values: Mapping[str, pa.Array], rows: int, today: date) -> Built:
    start = values["interval_start_time"]
    columns = {
        name: values[name]
        for name in ("project", "zone", "instance_id", "interval_start_time",
                     "interval_end_time", "uptime")
    }  # fmt: skip
    columns["cloud_provider"] = pa.nulls(rows, pa.string())  # worker_metrics_v1 has none: gcp
    columns["method"] = pa.repeat(pa.scalar(GCP_UPTIME_METHOD), rows)
    # the partition the export replaced: the day of the interval when a row has no date
    columns["submission_date"] = pc.fill_null(
        values["submission_date"], pc.cast(start, pa.date32())
    )
    return pa.table(columns), []


def _worker_costs(values: Mapping[str, pa.Array], rows: int, today: date) -> Built:
    columns = {
        "cloud_provider": values["cloud_provider"],  # NULL before 2026-05: gcp
        "project": values["project"],
        "zone": pc.fill_null(values["zone"], ""),  # as `costs` stores a billing row without one
        "instance_id": values["instance_id"],
        "name": values["name"],
        "usage_start_date": values["usage_start_date"],
        "cost": pa.nulls(rows, pa.float64()),  # worker_costs_v1 keeps the net total only
        "credits": pa.nulls(rows, pa.float64()),
        "total_cost": values["total_cost"],
    }
    return pa.table(columns), []


_BUILDERS: Final[dict[str, Callable[[Mapping[str, pa.Array], int, date], Built]]] = {
    "tasks_v2": _tasks,
    "task_runs_v1": _task_runs,
    "worker_metrics_v1": _worker_metrics,
    "worker_costs_v1": _worker_costs,
}
