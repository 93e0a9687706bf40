"""Worker uptime and worker costs into the store, one day at a time, replacing that day.

Re-running a day gives the same rows (fxci-etl's partition replace, upstream.md A.7), and every
file is read and checked before anything is written, so a bad file leaves the day as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from shipgauge.config import Settings
from shipgauge.connectors.http import HttpConnector
from shipgauge.errors import SourceError, UpstreamError
from shipgauge.pipelines.taskcluster.files import read_table
from shipgauge.sources import billing, monitoring
from shipgauge.sources.monitoring import WorkerMetricRow
from shipgauge.store import Store, Transaction

__all__ = [
    "COSTS_SOURCE",
    "METRICS_SOURCE",
    "CostsResult",
    "MetricsResult",
    "export_worker_metrics",
    "load_costs",
    "load_uptime_file",
    "monitoring_http",
]

METRICS_SOURCE = "taskcluster.metrics"
COSTS_SOURCE = "taskcluster.costs"


@dataclass(frozen=True)
class MetricsResult:
    """Uptime rows of a day; `written` is False on a dry run."""

    day: date
    rows: list[WorkerMetricRow]
    written: bool
    skipped: int = 0


@dataclass(frozen=True)
class CostsResult:
    """What `load_costs` stored for a day, per file format."""

    day: date
    files: dict[str, str]  # path → format
    worker_costs: int
    worker_type_costs: int
    uptime_rows: int
    skipped: int


def _replace_uptime(
    tx: Transaction, rows: Sequence[WorkerMetricRow], *, day: date, methods: Sequence[str]
) -> None:
    for method in methods:
        tx.delete("worker_metrics", "submission_date = ? AND method = ?", [day, method])
    tx.upsert("worker_metrics", monitoring_sum(rows))


def monitoring_sum(rows: Sequence[WorkerMetricRow]) -> list[WorkerMetricRow]:
    """Uptime rows of the same instance and interval added up (billing has one per meter)."""
    return billing.sum_rows(
        rows,
        key=lambda r: (r["project"], r["zone"], r["instance_id"], r["interval_start_time"]),
        fields=("uptime",),
    )


def export_worker_metrics(
    *,
    store: Store,
    http: HttpConnector,
    projects: Sequence[str],
    day: date,
    now: datetime,
    dry_run: bool = False,
) -> MetricsResult:
    """Instance uptime of `day` from Cloud Monitoring for each project; replaces the day."""
    start, end = monitoring.day_interval(day, now=now)
    rows: list[WorkerMetricRow] = []
    for project in projects:
        token: str | None = None
        while True:
            page = http.get_json(
                f"/v3/projects/{project}/timeSeries",
                params=monitoring.time_series_params(start, end, page_token=token),
            )
            rows += monitoring.time_series_rows(page, project=project, day=day)
            token = page.get("nextPageToken")
            if not token:
                break
    if not rows:
        raise UpstreamError(f"no uptime records retrieved for {day} from {', '.join(projects)}")
    if not dry_run:
        with store.transaction() as tx:
            _replace_uptime(tx, rows, day=day, methods=[monitoring.GCP_UPTIME_METHOD])
            tx.set_checkpoint(METRICS_SOURCE, day.isoformat())
    return MetricsResult(day, rows, written=not dry_run)


def load_uptime_file(
    *, store: Store, path: Path, day: date, dry_run: bool = False
) -> MetricsResult:
    """Uptime of workers outside GCP from a file (UPTIME_FILE_COLUMNS); replaces the day."""
    columns, records = read_table(path)
    missing = [c for c in monitoring.UPTIME_FILE_COLUMNS if c not in columns]
    if missing:
        raise SourceError(f"{path}: missing column '{missing[0]}'", field=missing[0])
    try:
        rows, skipped = monitoring.uptime_file_rows(records, day=day)
    except SourceError as exc:
        raise SourceError(f"{path}: {exc.message}", field=exc.field) from None
    if not dry_run:
        with store.transaction() as tx:
            _replace_uptime(tx, rows, day=day, methods=[monitoring.UPTIME_FILE_METHOD])
    return MetricsResult(day, rows, written=not dry_run, skipped=skipped)


def load_costs(
    *, store: Store, paths: Sequence[Path], day: date, gcp_projects: Sequence[str]
) -> CostsResult:
    """Billing exports and worker-type cost CSVs for `day`, replacing that day per provider."""
    parsed: dict[str, billing.BillingRows] = {}
    for path in paths:
        columns, records = read_table(path)
        try:
            parsed[str(path)] = billing.billing_rows(
                records, columns, day=day, gcp_projects=gcp_projects
            )
        except SourceError as exc:
            raise SourceError(f"{path}: {exc.message}", field=exc.field) from None
    batches = list(parsed.values())
    worker_costs = billing.sum_rows(
        (r for b in batches for r in b.costs),
        key=lambda r: (r["cloud_provider"], r["project"], r["zone"], r["instance_id"], r["name"]),
        fields=("cost", "credits", "total_cost"),
    )
    uptime = [r for b in batches for r in b.uptime]
    type_costs = [r for b in batches for r in b.type_costs]
    month = day.replace(day=1)
    with store.transaction() as tx:
        for batch in batches:
            for provider in batch.providers:
                if batch.format in billing.WORKER_TYPE_FORMATS:
                    tx.delete("worker_type_costs", "month = ? AND provider = ?", [month, provider])
                else:
                    # rows without a provider are gcp's (fxci-etl's before 2026-05)
                    tx.delete(
                        "worker_costs",
                        "usage_start_date = ? AND coalesce(cloud_provider, 'gcp') = ?",
                        [day, provider],
                    )
        if any(b.format == "azure" for b in batches):
            _replace_uptime(tx, uptime, day=day, methods=[billing.AZURE_UPTIME_METHOD])
        tx.upsert("worker_costs", worker_costs)
        tx.upsert("worker_type_costs", type_costs)
        tx.set_checkpoint(COSTS_SOURCE, day.isoformat())
    return CostsResult(
        day,
        {path: b.format for path, b in parsed.items()},
        worker_costs=len(worker_costs),
        worker_type_costs=len(type_costs),
        uptime_rows=len(monitoring_sum(uptime)),
        skipped=sum(b.skipped for b in batches),
    )


def monitoring_http(settings: Settings) -> HttpConnector:
    """Cloud Monitoring as the settings name it, with its token when one is set."""
    token = settings.taskcluster_monitoring_token
    return HttpConnector(
        settings.taskcluster_monitoring_url,
        name="cloud monitoring",
        timeout_s=settings.http_timeout_s,
        retries=settings.http_retries,
        headers={"Authorization": f"Bearer {token.get_secret_value()}"} if token else None,
    )
