"""`lake export|run` (the Parquet lake, and the models on Spark over it) and `models sql`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipgauge.cli._app import App
from shipgauge.cli._output import console, print_json, print_rows
from shipgauge.cli._state import state
from shipgauge.pipelines.lake import lake_engine, run_models
from shipgauge.pipelines.lake.run import LakeEngineName
from shipgauge.queries.time import parse_moment
from shipgauge.store.dialects import Dialect, get_model_or_raise, model_sql
from shipgauge.store.lake import export_lake

__all__ = ["lake_export", "register"]

lake_app = App(help="The Parquet lake: export the store to it; run the models over it on Spark.")
models_app = App(help="The SQL models: each one's SQL for another engine.")


def lake_export(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="The lake: <name>/day=…/part-0.parquet.")],
    only: Annotated[
        list[str] | None,
        typer.Option("--only", "--table", help="Only these tables or models (repeatable)."),
    ] = None,
    models: Annotated[
        bool, typer.Option("--models/--no-models", help="Export the models too.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Write the tables (by day of their time column) and models that changed since the last
    export to the lake, each partition replaced atomically, each schema beside its data."""
    done = export_lake(state(ctx).store, folder, only=only or (), models=models)
    rows = [
        (d.name, d.kind, d.rows, d.written, d.removed, d.partitioned_by or "", str(d.path))
        for d in done
    ]
    columns = ["name", "kind", "rows", "written", "removed", "partitioned_by", "path"]
    if as_json:
        print_json([dict(zip(columns, r, strict=True)) for r in rows])
        return
    if any(r[3] or r[4] for r in rows):
        print_rows(columns, [r for r in rows if r[3] or r[4]], title="written")
    written = sum(d.written for d in done)
    console.print(f"{written} partition(s) written, {sum(d.removed for d in done)} removed")


@lake_app.command("run")
def lake_run(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="The lake `lake export` wrote.")],
    engine: Annotated[LakeEngineName, typer.Option(help="Where the models run.")] = "spark",
    model: Annotated[
        list[str] | None,
        typer.Option(help="Only this model and the models it reads (repeatable); default all."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder of the results, one <model>/ each; default DIR/_run."),
    ] = None,
    master: Annotated[
        str | None, typer.Option(help="Spark master URL; default the spark_master setting.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(help="The time a model reading the clock takes; default the lake's export."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run the SQL models over the lake, in dependency order, each result written as Parquet."""
    now = parse_moment(as_of, "--as-of") if as_of else None
    runner = lake_engine(engine, state(ctx).settings, master=master)
    try:
        runs = run_models(
            folder, out or folder / "_run", engine=runner, models=model or (), now=now
        )
    finally:
        runner.close()
    rows = [(r.model, r.rows, round(r.seconds, 3), r.requested, str(r.path)) for r in runs]
    columns = ["model", "rows", "seconds", "requested", "path"]
    if as_json:
        print_json([dict(zip(columns, r, strict=True)) for r in rows])
    else:
        print_rows(columns, rows, title=f"models on {engine}")


@models_app.command("sql")
def models_sql(
    name: Annotated[str, typer.Argument(help="The model, e.g. push_costs.")],
    dialect: Annotated[Dialect, typer.Option(help="The engine's SQL dialect.")] = "duckdb",
) -> None:
    """Print a model's SQL for an engine (transpiled by sqlglot, with shipgauge's fixes)."""
    typer.echo(model_sql(get_model_or_raise(name), dialect))


def register(app: typer.Typer) -> None:
    lake_app.command("export")(lake_export)
    app.add_typer(lake_app, name="lake")
    app.add_typer(models_app, name="models")
