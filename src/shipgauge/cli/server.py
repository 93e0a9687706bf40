"""Commands that run shipgauge: `serve` (the API) and `demo` (every capability's sample data)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from shipgauge.cli._output import console, print_json, print_rows
from shipgauge.cli._state import state
from shipgauge.config import Settings
from shipgauge.demo import run_demo
from shipgauge.errors import ConfigError
from shipgauge.queries.overview import overview_reports
from shipgauge.store import Store, is_postgres_url

__all__ = ["register"]

WORKER_HEALTHCHECK_S = 60


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default: setting host).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: setting port).")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes; more than 1 needs PostgreSQL.")
    ] = 1,
) -> None:
    """Serve the REST API, OpenAPI docs at /docs and metrics at /metrics."""
    # Imported here: FastAPI and uvicorn add a fifth to every other command's start-up time.
    import uvicorn

    from shipgauge.api import create_app

    cli = state(ctx)
    settings = cli.settings
    if workers > 1:
        _serve_workers(settings, host=host or settings.host, port=port or settings.port, n=workers)
        return
    app = create_app(settings, store=cli.store)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="warning")


def _serve_workers(settings: Settings, *, host: str, port: int, n: int) -> None:
    """uvicorn with `n` worker processes, each building the app from the environment."""
    import uvicorn

    from shipgauge.api.app import APP_FACTORY

    if not is_postgres_url(settings.db):
        raise ConfigError(
            f"--workers {n} needs PostgreSQL: the DuckDB store {settings.db} is open in one"
            " process at a time, so more workers would only wait for their turns on the file;"
            " serve with one worker, or set SHIPGAUGE_DB=postgresql://…",
            field="workers",
        )
    Store.open(settings.db).close()  # migrate once, before the workers open it together
    os.environ["SHIPGAUGE_DB"] = settings.db  # --db reaches the workers through the environment
    # A worker answers uvicorn's health check only once it has imported everything, which takes
    # longer than uvicorn's 5 s on a busy small machine: it would be killed and started again.
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        workers=n,
        host=host,
        port=port,
        log_level="warning",
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
    )


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
