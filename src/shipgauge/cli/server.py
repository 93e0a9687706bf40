"""Commands that run shipgauge: `serve` (the API) and `demo` (every capability's sample data)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from shipgauge.cli._output import console, print_json, print_rows, tiered, with_unit
from shipgauge.cli._state import state
from shipgauge.demo import run_demo
from shipgauge.queries.overview import OverviewReport, overview_reports
from shipgauge.store import QueryResult

__all__ = ["register"]


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default: setting host).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: setting port).")] = None,
) -> None:
    """Serve the REST API, OpenAPI docs at /docs and metrics at /metrics."""
    # Imported here: FastAPI and uvicorn add a fifth to every other command's start-up time.
    import uvicorn

    from shipgauge.api import create_app

    cli = state(ctx)
    settings = cli.settings
    app = create_app(settings, store=cli.store)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="warning")


def demo(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Create the store and load the bundled sample data of every capability."""
    cli = state(ctx)
    loaded = run_demo(cli.store)
    reports = overview_reports(cli.store)
    if as_json:
        print_json(
            {
                "db": cli.settings.db,
                "loaded": loaded,
                "reports": {report.heading: result.dicts() for report, result in reports},
            }
        )
        return
    print_rows(["table", "rows"], sorted(loaded.items()), title=f"demo store: {cli.settings.db}")
    for report, result in reports:
        columns, rows = _with_units(report, result)
        print_rows(columns, rows, title=report.heading)
    console.print('Try: shipgauge query "SELECT * FROM ingest_status"  ·  shipgauge serve')


def _with_units(report: OverviewReport, result: QueryResult) -> tuple[list[str], list[list[Any]]]:
    """Each value in its column's unit; a `<column>_tier` column goes under its value."""
    shown = [c for c in result.columns if not c.endswith("_tier")]
    rows = []
    for row in result.dicts():
        cells = []
        for column in shown:
            text = with_unit(row[column], report.units.get(column))
            tier = row.get(f"{column}_tier")
            cells.append(tiered(str(text), tier) if text is not None else None)
        rows.append(cells)
    return [c.replace("_", " ") for c in shown], rows


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(demo)
