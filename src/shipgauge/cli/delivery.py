"""Commands for delivery events and DORA: `events send|import` and `dora report`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from shipgauge.cli._app import App
from shipgauge.cli._output import console, print_json, tiered, with_unit
from shipgauge.cli._state import state
from shipgauge.json_input import load_json
from shipgauge.pipelines.delivery.events import IMPORT_SOURCE, import_events, record_event
from shipgauge.queries.delivery import (
    HEADLINE_METRICS,
    DoraWindow,
    dora_report,
    report_json,
)
from shipgauge.queries.time import parse_moment, parse_since

__all__ = ["register"]

events_app = App(help="Delivery events: send one, import a file.", no_args_is_help=True)
dora_app = App(help="DORA metrics per service and environment.", no_args_is_help=True)
# The choices Typer checks (bad usage, exit 2); tests keep them equal to the sources' own.
Kind = Literal["push", "deploy", "test_run", "test_pass", "incident", "change"]
ImportFormat = Literal["auto", "csv", "jsonl"]
Interval = Literal["all", "day", "daily", "week", "weekly", "month", "monthly"]
Benchmark = Literal["2021", "2023", "2024"]
_COLUMNS = {
    "deployment_frequency": "deploys /week",
    "change_lead_time": "lead time",
    "change_fail_rate": "change fail",
    "failed_deployment_recovery_time": "recovery",
    "deployment_rework_rate": "rework",
}


@events_app.command("send")
def events_send(
    ctx: typer.Context,
    service: Annotated[str, typer.Argument(help="The service (repository).")],
    kind: Annotated[Kind, typer.Argument(help="What happened.")],
    time: Annotated[str | None, typer.Option(help="RFC 3339 time; default now.")] = None,
    environment: Annotated[str | None, typer.Option(help="Default production.")] = None,
    commit: Annotated[list[str] | None, typer.Option(help="A commit sha; repeatable.")] = None,
    result: Annotated[str | None, typer.Option(help="success or failure.")] = None,
    action: Annotated[str | None, typer.Option(help="incident: opened|resolved; change.")] = None,
    event_id: Annotated[str | None, typer.Option(help="Default: a hash of the event.")] = None,
    deployment_id: Annotated[str | None, typer.Option()] = None,
    incident_id: Annotated[str | None, typer.Option()] = None,
    change_id: Annotated[str | None, typer.Option()] = None,
    cause_commit: Annotated[str | None, typer.Option()] = None,
    rollback: Annotated[bool | None, typer.Option("--rollback", help="A rollback.")] = None,
    hotfix: Annotated[bool | None, typer.Option("--hotfix", help="A hotfix.")] = None,
    planned: Annotated[bool | None, typer.Option("--planned/--unplanned")] = None,
    metadata: Annotated[str | None, typer.Option(help="A JSON object.")] = None,
) -> None:
    """Validate one event and store it (into --db; reporters/ post to a server instead)."""
    fields: dict[str, Any] = {
        "service": service,
        "kind": kind,
        "time": time,
        "environment": environment,
        "commits": commit or None,
        "result": result,
        "action": action,
        "event_id": event_id,
        "deployment_id": deployment_id,
        "incident_id": incident_id,
        "change_id": change_id,
        "cause_commit": cause_commit,
        "rollback": rollback,
        "hotfix": hotfix,
        "planned": planned,
    }
    if metadata is not None:
        max_depth = state(ctx).settings.max_json_depth
        fields["metadata"] = load_json(metadata, what="--metadata", max_depth=max_depth)
    doc = {name: value for name, value in fields.items() if value is not None}
    row = record_event(state(ctx).store, doc, origin="cli")
    console.print(f"stored {row.kind} event {row.event_id} for {row.service}")


@events_app.command("import")
def events_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A Time,Repo,Event,Metadata CSV or JSON lines.")],
    fmt: Annotated[
        ImportFormat,
        typer.Option("--format", help="auto (by header or extension), csv or jsonl."),
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import events; lines that fail validation are kept as dead letters."""
    result = import_events(state(ctx).store, file, fmt=fmt)
    rejects = [{"line": r.index, "field": r.field, "error": r.message} for r in result.rejects]
    if as_json:
        print_json({"stored": result.stored, "rejected": len(rejects), "rejects": rejects})
        return
    console.print(f"stored {result.stored} events, rejected {len(rejects)}")
    for reject in rejects[:10]:
        console.print(f"  line {reject['line']}: {reject['error']}")
    if rejects:
        console.print(
            f"rejects are dead letters: shipgauge dead-letters list --source {IMPORT_SOURCE}"
        )


@dora_app.command("report")
def dora_report_command(
    ctx: typer.Context,
    service: Annotated[str | None, typer.Option(help="Only this service.")] = None,
    environment: Annotated[str, typer.Option(help="An environment, or * for all.")] = "production",
    since: Annotated[str, typer.Option(help="Window start: 90d, 12w, 48h or a date.")] = "90d",
    until: Annotated[str | None, typer.Option(help="Window end (a date includes it).")] = None,
    interval: Annotated[Interval, typer.Option(help="Series buckets.")] = "week",
    benchmark: Annotated[
        Benchmark | None, typer.Option(help="Tiers of this DORA report (default: setting).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="The API's JSON, series included.")
    ] = False,
) -> None:
    """The five DORA metrics per service, each with its benchmark tier and Quick Check score."""
    cli = state(ctx)
    end = (
        parse_moment(until, "--until", end=True, require_offset=True)
        if until
        else datetime.now(UTC)
    )
    window = DoraWindow(
        parse_since(since, "--since", now=end, require_offset=True),
        end,
        interval,
        benchmark or cli.settings.delivery_benchmark,
    )
    report = dora_report(
        cli.store, window, service=service, environment=None if environment == "*" else environment
    )
    if as_json:  # the API's bytes: the same serialisation, `Z` times and all
        sys.stdout.write(report_json(report).decode() + "\n")
        return
    one_environment = environment != "*"
    table = Table(
        title=f"DORA {window.start:%Y-%m-%d} - {window.end:%Y-%m-%d}"
        + (f", {environment}" if one_environment else "")
        + f" (tiers: {window.benchmark} report; score: Quick Check 0-10)"
    )
    table.add_column("service", no_wrap=True)
    if not one_environment:
        table.add_column("environment", no_wrap=True)
    for heading in (*_COLUMNS.values(), "score"):
        table.add_column(heading)
    for group in report["services"]:
        metrics = group["metrics"]
        cells = [_cell(name, metrics.get(name)) for name in HEADLINE_METRICS]
        overall = metrics.get("quick_check_overall", {}).get("value")
        score = "" if overall is None else f"{overall:.1f}"
        names = [group["service"]] + ([] if one_environment else [group["environment"]])
        table.add_row(*names, *cells, score)
    console.print(table)
    if not report["services"]:
        console.print("no deployments in this window; try --since 365d or --environment '*'")


def _cell(metric: str, data: dict[str, Any] | None) -> str:
    if not data or data["value"] is None:
        return "-"
    value = data["value"]
    if metric == "deployment_frequency":
        text = with_unit(value * 7, "per_week")
    else:
        text = with_unit(value, "ratio" if data["unit"] == "ratio" else "seconds")
    return tiered(text, data.get("tier"))


def register(app: typer.Typer) -> None:
    app.add_typer(events_app, name="events")
    app.add_typer(dora_app, name="dora")
