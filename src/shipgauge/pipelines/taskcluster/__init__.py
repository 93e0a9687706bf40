"""Taskcluster ETL: Pulse task messages → tasks/task_runs; worker uptime and costs; demo.

Modules: `pulse` (drain/listen), `tasks` (the one write path of tasks and runs), `definitions`
(full task definitions from the Queue), `workers` (uptime and billing imports), `fxci_import`
(fxci-etl's BigQuery tables as exported, read by `arrow_files`).
"""

from shipgauge.pipelines.taskcluster.definitions import (
    DefinitionsResult,
    fetch_task_definitions,
    queue_http,
)
from shipgauge.pipelines.taskcluster.fxci_import import (
    IMPORT_SOURCE,
    ImportResult,
    import_fxci_tables,
    retry_import_letter,
)
from shipgauge.pipelines.taskcluster.pulse import (
    PULSE_SOURCE,
    PulseResult,
    drain_pulse,
    listen_pulse,
    pulse_consumer,
    retry_pulse_letter,
    store_messages,
)
from shipgauge.pipelines.taskcluster.tasks import upsert_task_rows
from shipgauge.pipelines.taskcluster.workers import (
    CostsResult,
    MetricsResult,
    export_worker_metrics,
    load_costs,
    load_uptime_file,
    monitoring_http,
)
from shipgauge.store.dead_letters import RetryHandler

__all__ = [
    "IMPORT_SOURCE",
    "PULSE_SOURCE",
    "RETRY_HANDLERS",
    "CostsResult",
    "DefinitionsResult",
    "ImportResult",
    "MetricsResult",
    "PulseResult",
    "drain_pulse",
    "export_worker_metrics",
    "fetch_task_definitions",
    "import_fxci_tables",
    "listen_pulse",
    "load_costs",
    "load_uptime_file",
    "monitoring_http",
    "pulse_consumer",
    "queue_http",
    "store_messages",
    "upsert_task_rows",
]

RETRY_HANDLERS: dict[str, RetryHandler] = {
    PULSE_SOURCE: retry_pulse_letter,
    IMPORT_SOURCE: retry_import_letter,
}
