"""`shipgauge taskcluster …`: drain/listen Pulse task messages, import worker uptime and costs."""

from __future__ import annotations

import signal
import threading
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from shipgauge.cli._app import App
from shipgauge.cli._output import console, print_json, print_rows
from shipgauge.cli._state import state
from shipgauge.pipelines.taskcluster import (
    IMPORT_SOURCE,
    PulseResult,
    drain_pulse,
    export_worker_metrics,
    fetch_task_definitions,
    import_fxci_tables,
    listen_pulse,
    load_costs,
    load_uptime_file,
    monitoring_http,
    pulse_consumer,
    queue_http,
)
from shipgauge.queries.taskcluster import totals
from shipgauge.queries.time import parse_day

__all__ = ["register"]

taskcluster_app = App(
    help="Taskcluster ETL: Pulse task messages → tasks/task_runs; worker uptime and costs.",
    no_args_is_help=True,
)
err = Console(stderr=True, highlight=False)
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
_COUNTS = ("messages", "tasks", "runs", "dead_letters", "batches", "reconnects")


def _pulse_line(result: PulseResult) -> str:
    return ", ".join(f"{getattr(result, c)} {c.replace('_', ' ')}" for c in _COUNTS)


def _report(result: PulseResult, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    counts = {c: getattr(result, c) for c in _COUNTS}
    if as_json:
        print_json({**counts, **(extra or {})})
    else:
        console.print(_pulse_line(result))
        for key, value in (extra or {}).items():
            console.print(f"{key.replace('_', ' ')}: {value}")


@taskcluster_app.command()
def drain(
    ctx: typer.Context,
    threshold: Annotated[
        int | None, typer.Option(help="Stop once fewer messages than this are ready.")
    ] = None,
    idle_timeout: Annotated[float, typer.Option(help="Stop after this many idle seconds.")] = 2.0,
    fetch_definitions: Annotated[
        bool | None,
        typer.Option(
            "--fetch-definitions/--no-fetch-definitions",
            help="Then fetch full definitions of tasks whose messages had no tags.",
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Consume the Pulse queue until it is (nearly) empty, then exit: for cron."""
    cli = state(ctx)
    settings = cli.settings
    fetch = (
        settings.taskcluster_fetch_definitions if fetch_definitions is None else fetch_definitions
    )
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err
    ) as progress:
        bar = progress.add_task("draining", total=None)
        result = drain_pulse(
            store=cli.store,
            consumer=pulse_consumer(settings),
            threshold=settings.taskcluster_drain_threshold if threshold is None else threshold,
            idle_timeout_s=idle_timeout,
            track_lacking_tags=fetch,
            on_batch=lambda r: progress.update(bar, description=_pulse_line(r)),
        )
    extra: dict[str, Any] = {}
    if fetch and result.lacking_tags:
        with queue_http(settings) as http:
            fetched = fetch_task_definitions(
                store=cli.store, http=http, task_ids=result.lacking_tags
            )
        extra = {"definitions_stored": fetched.stored, "definitions_missing": len(fetched.missing)}
    _report(result, as_json, extra)


@taskcluster_app.command()
def listen(ctx: typer.Context, as_json: Json = False) -> None:
    """Consume the Pulse queue until interrupted (Ctrl-C or SIGTERM)."""
    cli = state(ctx)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with err.status("listening") as status:
        result = listen_pulse(
            store=cli.store,
            consumer=pulse_consumer(cli.settings),
            stop=stop,
            on_batch=lambda r: status.update(_pulse_line(r)),
        )
    _report(result, as_json)


@taskcluster_app.command()
def definitions(
    ctx: typer.Context,
    task_id: Annotated[
        list[str] | None, typer.Option("--task-id", help="Only these tasks (repeatable).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Fetch full task definitions for tasks whose messages carried no tags."""
    cli = state(ctx)
    with queue_http(cli.settings) as http:
        result = fetch_task_definitions(store=cli.store, http=http, task_ids=task_id)
    if as_json:
        print_json(asdict(result))
    else:
        console.print(
            f"asked {result.asked}, stored {result.stored}, missing {len(result.missing)}"
        )


@taskcluster_app.command()
def metrics(
    ctx: typer.Context,
    day: Annotated[
        str | None, typer.Option("--date", help="UTC day, YYYY-MM-DD (default: yesterday).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(help="Read uptime from this CSV/JSON/Parquet file instead of GCP."),
    ] = None,
    project: Annotated[
        list[str] | None, typer.Option(help="GCP project (repeatable; default: setting).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print; write nothing.")] = False,
    as_json: Json = False,
) -> None:
    """Worker uptime for one day into worker_metrics, replacing that day."""
    cli = state(ctx)
    settings = cli.settings
    now = datetime.now(UTC)
    when = parse_day(day, "--date") if day else (now - timedelta(days=1)).date()
    if file is not None:
        result = load_uptime_file(store=cli.store, path=file, day=when, dry_run=dry_run)
    else:
        with monitoring_http(settings) as http:
            result = export_worker_metrics(
                store=cli.store,
                http=http,
                projects=project or settings.taskcluster_gcp_projects,
                day=when,
                now=now,
                dry_run=dry_run,
            )
    columns = ["project", "zone", "instance_id", "uptime", "interval_start_time"]
    if as_json:
        print_json({"date": when, "written": result.written, "rows": result.rows})
        return
    if dry_run:
        print_rows(columns, [[r[c] for c in columns] for r in result.rows], title=f"uptime {when}")  # type: ignore[literal-required]
    verb = "replaced" if result.written else "would replace (dry run)"
    console.print(f"{verb} {when}: {len(result.rows)} instance(s)")


@taskcluster_app.command()
def costs(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Billing exports or worker-type cost CSVs.")],
    day: Annotated[str, typer.Option("--date", help="UTC day to load, YYYY-MM-DD.")],
    as_json: Json = False,
) -> None:
    """Load GCP/Azure billing rows and worker-type cost CSVs for one day, replacing it."""
    cli = state(ctx)
    result = load_costs(
        store=cli.store,
        paths=files,
        day=parse_day(day, "--date"),
        gcp_projects=cli.settings.taskcluster_gcp_projects,
    )
    if as_json:
        print_json(asdict(result))
        return
    for path, fmt in result.files.items():
        console.print(f"{path}: {fmt}")
    console.print(
        f"replaced {result.day}: {result.worker_costs} instance cost(s), "
        f"{result.worker_type_costs} worker-type cost(s), {result.uptime_rows} uptime row(s); "
        f"{result.skipped} row(s) of other days or resources skipped"
    )


@taskcluster_app.command("import")
def import_tables(
    ctx: typer.Context,
    table: Annotated[
        str,
        typer.Argument(help="tasks_v2, task_runs_v1, worker_metrics_v1 or worker_costs_v1."),
    ],
    files: Annotated[
        list[Path],
        typer.Argument(help="BigQuery exports of it: CSV with a header row, JSON lines, Parquet."),
    ],
    batch_rows: Annotated[
        int, typer.Option(min=1, help="Rows per transaction (Parquet; CSV and JSON by size).")
    ] = 250_000,
    as_json: Json = False,
) -> None:
    """Load fxci-etl's BigQuery tables (fxci_derived) as exported; re-importing changes nothing."""
    total = sum(f.stat().st_size for f in files if f.is_file())
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        bar = progress.add_task(table, total=total or None, rows=0)
        result = import_fxci_tables(
            state(ctx).store,
            table,
            files,
            batch_rows=batch_rows,
            on_progress=lambda done, rows: progress.update(bar, completed=done, rows=rows),
        )
    if as_json:
        print_json(asdict(result))
        return
    console.print(
        f"{result.table} → {result.target}: {result.rows} row(s) read, {result.stored} stored"
        f" ({result.new} new), {result.dead_letters} dead letter(s)"
    )
    if result.dead_letters:
        console.print(f"see them: shipgauge dead-letters list --source {IMPORT_SOURCE}")


@taskcluster_app.command()
def summary(ctx: typer.Context, as_json: Json = False) -> None:
    """Task and run counts, and CI cost by worker pool over all days."""
    counts, pools = totals(state(ctx).store)
    if as_json:
        print_json({**counts, "by_worker_pool": pools.dicts()})
        return
    cost = "unpriced" if counts["cost"] is None else f"{counts['cost']:.4f}"
    unpriced = counts["unpriced_seconds"] / 3600
    console.print(
        f"{counts['tasks']} tasks, {counts['runs']} runs, cost {cost}"
        + (f" ({unpriced:.2f} run hours unpriced)" if unpriced else "")
    )
    rows = [[round(v, 4) if isinstance(v, float) else v for v in row] for row in pools.rows]
    print_rows(pools.columns, rows, title="cost by worker pool")


def register(app: typer.Typer) -> None:
    app.add_typer(taskcluster_app, name="taskcluster")
