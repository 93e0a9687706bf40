"""Commands that run shipgauge: `serve` (the API) and `demo` (every capability's sample data)."""

from __future__ import annotations

from typing import Annotated

import typer

from shipgauge.cli._output import console, print_json, print_rows
from shipgauge.cli._state import state
from shipgauge.demo import run_demo
from shipgauge.queries.overview import overview_reports

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
                "reports": {title: result.dicts() for title, result in reports},
            }
        )
        return
    print_rows(["table", "rows"], sorted(loaded.items()), title=f"demo store: {cli.settings.db}")
    for title, result in reports:
        print_rows(result.columns, result.rows, title=title)
    console.print('Try: shipgauge query "SELECT * FROM ingest_status"  ·  shipgauge serve')


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(demo)
