"""The `shipgauge` command: one Typer app, one sub-app per capability, one error exit path."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

import shipgauge
from shipgauge.cli import (
    admin,
    builds,
    ci_cost,
    data,
    delivery,
    server,
    taskcluster,
    telemetry,
)
from shipgauge.cli._app import App
from shipgauge.cli._output import first_line
from shipgauge.cli._state import CliState
from shipgauge.errors import ConfigError, ShipgaugeError
from shipgauge.store import engine_errors

__all__ = ["app", "main"]

app = App(
    name="shipgauge",
    help="How your software ships: CI cost, review systems, builds and DORA metrics.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err_console = Console(stderr=True, highlight=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shipgauge {shipgauge.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    db: Annotated[
        str | None, typer.Option(help="Store: DuckDB file path or postgresql:// URL.")
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    ctx.obj = CliState(overrides={"db": db} if db else {})


for module in (data, admin, server, telemetry, builds, delivery, taskcluster, ci_cost):
    module.register(app)


def main() -> None:
    """Console entry point: Typer answers bad usage (exit 2); this answers ours (1, or 2)."""
    debug = "--traceback" in sys.argv or os.environ.get("SHIPGAUGE_DEBUG") == "1"
    if "--traceback" in sys.argv:
        sys.argv.remove("--traceback")
    try:
        app()
    except ShipgaugeError as exc:
        if debug:
            raise
        err_console.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        raise SystemExit(2 if isinstance(exc, ConfigError) else 1) from None
    except Exception as exc:
        # A path that cannot be read or written; a statement the store's engine could not run.
        if debug or not isinstance(exc, (OSError, *engine_errors())):
            raise
        err_console.print(f"[red]error:[/red] {escape(first_line(exc))}", soft_wrap=True)
        raise SystemExit(1) from None
