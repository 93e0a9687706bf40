"""Commands that run shipgauge: `serve` (the API) and `demo` (every capability's sample data)."""

from __future__ import annotations

import os
import socket
from typing import Annotated, Any

import typer

import shipgauge
from shipgauge.cli._output import console, print_json, print_rows, tiered, with_unit
from shipgauge.cli._state import state
from shipgauge.config import Settings, masked_settings
from shipgauge.demo import run_demo
from shipgauge.errors import ConfigError, ShipgaugeError
from shipgauge.queries.overview import OverviewReport, overview_reports
from shipgauge.store import QueryResult, Store, is_postgres_url

__all__ = ["register"]

WORKER_HEALTHCHECK_S = 60


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default: setting host).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Port (default: setting port; 0: any free port)."),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes; more than 1 needs PostgreSQL.")
    ] = 1,
) -> None:
    """Serve the dashboard at /, the REST API, OpenAPI docs at /docs and metrics at /metrics."""
    # Imported here: FastAPI and uvicorn add a fifth to every other command's start-up time.
    import uvicorn

    from shipgauge.api import create_app

    cli = state(ctx)
    settings = cli.settings
    if workers > 1:
        _serve_workers(settings, host=host or settings.host, port=port or settings.port, n=workers)
        return
    app = create_app(settings, store=cli.store)
    host = host or settings.host
    listening = _listen(host, settings.port if port is None else port)
    config = uvicorn.Config(app, log_config=_LOG_CONFIG, access_log=settings.access_log)
    _say_where(cli.store.engine.name, host, listening.getsockname()[1])
    uvicorn.Server(config).run(sockets=[listening])


def _say_where(engine: str, host: str, port: int) -> None:
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    console.print(
        f"shipgauge {shipgauge.__version__} on {engine}: dashboard {url}/"
        f"  ·  API docs {url}/docs  ·  metrics {url}/metrics  (Ctrl-C stops)",
        soft_wrap=True,
    )


# uvicorn's own lines only from warnings up (we print the URL ourselves); one line per request
# on stdout unless the access_log setting is false.
_LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "default": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"},
        "access": {
            "()": "uvicorn.logging.AccessFormatter",
            "fmt": '%(asctime)s %(client_addr)s "%(request_line)s" %(status_code)s',
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            "use_colors": False,
        },
    },
    "handlers": {
        "default": {"formatter": "default", "class": "logging.StreamHandler"},
        "access": {
            "formatter": "access",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
        },
    },
    "loggers": {
        "uvicorn": {"handlers": ["default"], "level": "WARNING", "propagate": False},
        "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the URL is printed (port 0: the one given)."""
    listening = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
        listening.listen()
    except OSError as exc:
        listening.close()
        raise ShipgaugeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return listening


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
    _say_where("postgres", host, port)  # uvicorn binds next; a busy port stops it at once
    # A worker answers uvicorn's health check only once it has imported everything, which takes
    # longer than uvicorn's 5 s on a busy small machine: it would be killed and started again.
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        workers=n,
        host=host,
        port=port,
        log_config=_LOG_CONFIG,
        access_log=settings.access_log,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
    )


def demo(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Create the store and load the bundled sample data of every capability."""
    cli = state(ctx)
    loaded = run_demo(cli.store)
    reports = overview_reports(cli.store)
    db = masked_settings(cli.settings)["db"]  # a PostgreSQL URL's password stays unprinted
    if as_json:
        print_json(
            {
                "db": db,
                "loaded": loaded,
                "reports": {report.heading: result.dicts() for report, result in reports},
            }
        )
        return
    print_rows(["table", "rows"], sorted(loaded.items()), title=f"demo store: {db}")
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
