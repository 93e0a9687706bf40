"""Billing exports → `worker_costs` rows, and measuring_ci cost CSVs → `worker_type_costs` rows.

Formats, told apart by their columns (records arrive flat: nested `project.id` is a dotted key):
- `gcp`: GCP detailed billing export rows (upstream.md A.10). Kept: the day's rows of the worker
  projects whose `resource.global_name` names an instance; net cost = cost + credits.
- `azure`: Azure daily actual-load rows. Kept: `chargeType = Usage` rows of `vm-…` virtual
  machines; VM hours (`Virtual Machines`, `1 Hour`) also give uptime = quantity * 3600.
- `worker_type_8` / `worker_type_5`: measuring_ci's per-worker-type monthly CSVs, with their exact
  headers (upstream.md A.10); the month is the one that holds the day asked for. The hourly
  rate is cost / usage_hours, except in the 5-column file, whose `unit_cost` column is the rate
  (measuring_ci E1 read that column).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, TypedDict, TypeVar

from shipgauge.errors import SourceError
from shipgauge.sources.monitoring import WorkerMetricRow
from shipgauge.sources.taskcluster.rows import parse_time

__all__ = [
    "AZURE_UPTIME_METHOD",
    "BILLING_FORMATS",
    "WORKER_TYPE_FORMATS",
    "BillingRows",
    "WorkerCostRow",
    "WorkerTypeCostRow",
    "billing_rows",
    "detect_format",
    "sum_rows",
]

Record = tuple[str, Mapping[str, Any]]  # ("line 3", {column: value})
AZURE_UPTIME_METHOD: Final = "azure_billing_vm_quantity"
BILLING_FORMATS: Final[dict[str, tuple[str, ...]]] = {
    "gcp": (
        "project.id",
        "resource.name",
        "resource.global_name",
        "usage_start_time",
        "cost",
        "credits",
    ),
    "azure": (
        "subscriptionName",
        "date",
        "ResourceId",
        "resourceLocation",
        "costInBillingCurrency",
        "chargeType",
        "quantity",
        "meterCategory",
        "unitOfMeasure",
    ),
    "worker_type_8": (
        "modified",
        "year",
        "month",
        "provider",
        "provisioner",
        "worker_type",
        "usage_hours",
        "cost",
    ),
    "worker_type_5": ("provisioner", "worker_type", "usage_hours", "cost", "unit_cost"),
}
WORKER_TYPE_FORMATS: Final = ("worker_type_8", "worker_type_5")
_ZONE = re.compile(r"/zones/([^/]+)")
_INSTANCE = re.compile(r"/instances/([^/]+)")
_AZURE_VM = re.compile(r"(?i)/virtualmachines/vm-")
_AZURE_NAME = re.compile(r"(?i)/virtualmachines/([^/]+)$")
R = TypeVar("R", bound=Mapping[str, Any])


class WorkerCostRow(TypedDict):
    """One row of `worker_costs`: an instance's cost on one day."""

    cloud_provider: str
    project: str
    zone: str
    instance_id: str
    name: str
    usage_start_date: date
    cost: float
    credits: float
    total_cost: float


class WorkerTypeCostRow(TypedDict):
    """One row of `worker_type_costs`: a worker type's hours and cost in one month."""

    provider: str
    provisioner: str
    worker_type: str
    month: date
    usage_hours: float
    cost: float
    modified: datetime | None


@dataclass(frozen=True)
class BillingRows:
    """What one billing file gives; `providers` are the scopes a re-import of the day replaces."""

    format: str
    providers: frozenset[str]
    costs: list[WorkerCostRow] = field(default_factory=list)
    uptime: list[WorkerMetricRow] = field(default_factory=list)
    type_costs: list[WorkerTypeCostRow] = field(default_factory=list)
    skipped: int = 0


def detect_format(columns: Sequence[str]) -> str:
    """The billing format whose columns `columns` has; SourceError naming what is missing."""
    present = set(columns)
    best = max(BILLING_FORMATS, key=lambda f: len(present & set(BILLING_FORMATS[f])))
    wanted = BILLING_FORMATS[best]
    if not present & set(wanted):
        raise SourceError(
            f"unknown billing format: columns {', '.join(columns) or '(none)'}; expected a GCP "
            "or Azure billing export or a measuring_ci cost CSV",
            field="columns",
        )
    missing = [c for c in wanted if c not in present]
    if missing:
        raise SourceError(f"missing column '{missing[0]}' for a {best} file", field=missing[0])
    if best in WORKER_TYPE_FORMATS and len(present) != len(wanted):
        extra = sorted(present - set(wanted))[0]
        raise SourceError(f"unexpected column '{extra}' in a {best} cost CSV", field=extra)
    return best


def _number(record: Mapping[str, Any], column: str, where: str) -> float:
    value = record.get(column)
    try:
        return float(value.strip() if isinstance(value, str) else value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SourceError(
            f"{where}: column '{column}': {value!r} is not a number", field=column
        ) from None


def _day(record: Mapping[str, Any], column: str, where: str) -> date:
    value = record.get(column)
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", value.strip()):
        value = datetime.strptime(value.strip(), "%m/%d/%Y")  # Azure's US form
    elif isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        parsed = parse_time(value, field=column)
    except SourceError:
        parsed = None
    if parsed is None:
        raise SourceError(f"{where}: column '{column}': bad date {value!r}", field=column)
    return parsed.date()


def _credits(value: Any, where: str) -> float:
    # JSON/Parquet exports give a list of {amount, …}; CSVs give it as JSON text or a number.
    if value is None or value == "":
        return 0.0
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SourceError(f"{where}: column 'credits': {value!r} is unreadable") from None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return sum(_number(c, "amount", f"{where}: credits") for c in value)
    raise SourceError(f"{where}: column 'credits': {value!r} is unreadable", field="credits")


def _gcp(records: Iterable[Record], day: date, projects: Sequence[str]) -> BillingRows:
    rows: list[WorkerCostRow] = []
    skipped = 0
    for where, record in records:
        global_name = str(record.get("resource.global_name") or "")
        project = str(record.get("project.id") or "")
        if (
            _day(record, "usage_start_time", where) != day
            or (projects and project not in projects)
            or "/instances/" not in global_name
        ):
            skipped += 1
            continue
        resource = str(record.get("resource.name") or "")
        zone, instance = _ZONE.search(global_name), _INSTANCE.search(global_name)
        cost, credit = _number(record, "cost", where), _credits(record.get("credits"), where)
        rows.append(
            {
                "cloud_provider": "gcp",
                "project": project,
                "zone": zone.group(1) if zone else "",
                "instance_id": instance.group(1) if instance else "",
                "name": resource.rpartition("/instances/")[2],
                "usage_start_date": day,
                "cost": cost,
                "credits": credit,
                "total_cost": cost + credit,
            }
        )
    return BillingRows("gcp", frozenset({"gcp"}), costs=rows, skipped=skipped)


def _azure(records: Iterable[Record], day: date) -> BillingRows:
    costs: list[WorkerCostRow] = []
    uptime: list[WorkerMetricRow] = []
    skipped = 0
    start = datetime.combine(day, time(), UTC)
    for where, record in records:
        resource = str(record.get("ResourceId") or "")
        name = _AZURE_NAME.search(resource)
        if (
            _day(record, "date", where) != day
            or record.get("chargeType") != "Usage"
            or not _AZURE_VM.search(resource)
            or name is None
        ):
            skipped += 1
            continue
        key = {
            "project": str(record["subscriptionName"]),
            "zone": str(record["resourceLocation"]),
            "instance_id": name.group(1),
        }
        cost = _number(record, "costInBillingCurrency", where)
        costs.append(
            {
                "cloud_provider": "azure",
                **key,  # type: ignore[typeddict-item]
                "name": name.group(1),
                "usage_start_date": day,
                "cost": cost,
                "credits": 0.0,
                "total_cost": cost,
            }
        )
        if record.get("meterCategory") == "Virtual Machines" and (
            record.get("unitOfMeasure") == "1 Hour"
        ):
            uptime.append(
                {
                    **key,  # type: ignore[typeddict-item]
                    "interval_start_time": start,
                    "interval_end_time": start + timedelta(days=1) - timedelta(seconds=1),
                    "uptime": _number(record, "quantity", where) * 3600,
                    "cloud_provider": "azure",
                    "method": AZURE_UPTIME_METHOD,
                    "submission_date": day,
                }
            )
    return BillingRows("azure", frozenset({"azure"}), costs=costs, uptime=uptime, skipped=skipped)


def _worker_types(records: Iterable[Record], fmt: str, day: date) -> BillingRows:
    rows: list[WorkerTypeCostRow] = []
    skipped = 0
    month = day.replace(day=1)
    for where, record in records:
        clean = {k: v.strip() if isinstance(v, str) else v for k, v in record.items()}
        if fmt == "worker_type_8" and (
            int(_number(clean, "year", where)),
            int(_number(clean, "month", where)),
        ) != (day.year, day.month):
            skipped += 1
            continue
        modified = clean.get("modified")
        usage_hours = _number(clean, "usage_hours", where)
        # measuring_ci E1 priced the 5-column file by its unit_cost, cost / usage_hours rounded
        # to cents (upstream.md A.10): kept as the cost of the hours at that rate, so that
        # the rate every model takes (cost / usage_hours) is the file's own.
        cost = (
            _number(clean, "unit_cost", where) * usage_hours
            if fmt == "worker_type_5"
            else _number(clean, "cost", where)
        )
        rows.append(
            {
                # The 5-column file is measuring_ci's AWS table and names no provider.
                "provider": str(clean.get("provider") or "aws"),
                "provisioner": str(clean["provisioner"]),
                "worker_type": str(clean["worker_type"]),
                "month": month,
                "usage_hours": usage_hours,
                "cost": cost,
                "modified": parse_time(modified, field=f"{where}: modified") if modified else None,
            }
        )
    providers = frozenset(r["provider"] for r in rows) or frozenset({"aws"})
    return BillingRows(fmt, providers, type_costs=rows, skipped=skipped)


def billing_rows(
    records: Iterable[Record], columns: Sequence[str], *, day: date, gcp_projects: Sequence[str]
) -> BillingRows:
    """The rows of one billing file for `day`; SourceError names the column and line at fault."""
    fmt = detect_format(columns)
    if fmt == "gcp":
        return _gcp(records, day, gcp_projects)
    if fmt == "azure":
        return _azure(records, day)
    return _worker_types(records, fmt, day)


def sum_rows(rows: Iterable[R], *, key: Callable[[R], Any], fields: Sequence[str]) -> list[R]:
    """Rows sharing a key folded into one, `fields` summed (billing has many lines per instance)."""
    folded: dict[Any, dict[str, Any]] = {}
    for row in rows:
        held = folded.get(key(row))
        if held is None:
            folded[key(row)] = dict(row)
        else:
            for name in fields:
                held[name] += row[name]
    return list(folded.values())  # type: ignore[arg-type]
