"""`shipgauge ci-cost`: scan, report, push, unpriced, prices and export (CI cost)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from shipgauge.cli._app import App
from shipgauge.cli._output import console, print_json, print_rows
from shipgauge.cli._state import state
from shipgauge.errors import SourceError
from shipgauge.pipelines import ci_cost
from shipgauge.pipelines.ci_cost.prices import load_prices
from shipgauge.queries import ci_cost as report
from shipgauge.queries.time import parse_month, parse_since
from shipgauge.store import QueryResult
from shipgauge.store.export import export_models

__all__ = ["register"]

ci_cost_app = App(
    help="CI cost: pushes → decision task → task group → priced runs, per push, repo, pool, day.",
    no_args_is_help=True,
)
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
# The choices Typer checks (bad usage, exit 2); tests keep them equal to the queries' own.
ModeName = Literal["push", "nightly"]
Grouping = Literal["push", "day", "pool", "task"]
Mode = Annotated[ModeName, typer.Option(help="push (decision task) or nightly (nightly route).")]


class _ScanProgress:
    """One Rich bar per repository: pushlog pages, then pushes resolved."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.bars: dict[str, TaskID] = {}

    def __call__(self, repo: str, phase: str, done: int, total: int | None) -> None:
        if repo not in self.bars:
            self.bars[repo] = self.progress.add_task(repo, total=None)
        self.progress.update(
            self.bars[repo], description=f"{repo} {phase}", completed=done, total=total
        )


@ci_cost_app.command()
def scan(
    ctx: typer.Context,
    repo: Annotated[
        list[str] | None, typer.Option(help="Repository path, e.g. integration/autoland; repeat.")
    ] = None,
    backfill: Annotated[
        int | None,
        typer.Option(min=1, help="Also cost this many pushes below the oldest scanned one."),
    ] = None,
    since: Annotated[
        int | None,
        typer.Option(min=0, help="Start after this push id (exclusive), not the checkpoint."),
    ] = None,
    mode: Mode = "push",
    as_json: Json = False,
) -> None:
    """Fetch new pushes, find their task groups, list them, re-list unfinished ones."""
    cli = state(ctx)
    err = Console(stderr=True, highlight=False)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    quiet = as_json or not err.is_terminal
    with Progress(*columns, console=err, transient=True, disable=quiet) as progress:
        results = ci_cost.scan_ci_cost(
            store=cli.store,
            settings=cli.settings,
            repos=repo,
            mode=mode,
            since=since,
            backfill=backfill,
            on_progress=_ScanProgress(progress),
        )
    if as_json:
        print_json([dataclasses.asdict(r) for r in results])
    else:
        for r in results:
            states = ", ".join(f"{n} {s}" for s, n in sorted(r.states.items())) or "nothing new"
            console.print(
                f"{r.repo} ({r.mode}): {r.pushes_fetched} pushes fetched, {r.pushes_checked}"
                f" checked ({states}); {r.groups_listed} groups listed, {r.tasks} tasks,"
                f" {r.runs} runs; checkpoint {r.checkpoint}"
            )
    failed = [r for r in results if r.error]
    if failed:
        raise SourceError(
            "; ".join(f"{r.repo}: {r.error}" for r in failed)
            + " (kept as dead letters: `shipgauge dead-letters list`)"
        )


def _show(result: QueryResult, *, as_json: bool, title: str) -> None:
    if as_json:
        print_json(result.dicts())
        return
    print_rows(result.columns, [tuple(_cell(v) for v in row) for row in result.rows], title=title)


def _cell(value: Any) -> Any:
    # Costs are fractions of a cent per run: four decimals in a table; JSON keeps the float.
    return round(value, 4) if isinstance(value, float) else value


@ci_cost_app.command("report")
def report_command(
    ctx: typer.Context,
    repo: Annotated[str | None, typer.Option(help="Only this repository path.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Window: 30d, 12h, 2w, or an ISO date (default: all).")
    ] = None,
    by: Annotated[Grouping, typer.Option(help="Rows per push, day, pool or task.")] = "push",
    mode: Mode = "push",
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 50,
    as_json: Json = False,
) -> None:
    """CI cost per push (with the pricing method), per day, per worker pool or per task label."""
    result = report.cost_report(
        state(ctx).store,
        by=by,
        repo=repo,
        mode=mode,
        since=parse_since(since, "--since", now=datetime.now(UTC)) if since else None,
        limit=limit,
    )
    _show(result, as_json=as_json, title=f"CI cost by {by}")


@ci_cost_app.command()
def push(
    ctx: typer.Context,
    repo: Annotated[str, typer.Argument(help="Repository path, e.g. integration/autoland.")],
    push_id: Annotated[int, typer.Argument(help="The push id.")],
    mode: Mode = "push",
    as_json: Json = False,
) -> None:
    """One push: its group, its cost per worker pool, and its tasks."""
    detail = report.push_detail(state(ctx).store, repo, push_id, mode=mode)
    if as_json:
        print_json(detail)
        return
    pushed = detail["push"]
    print_rows(["field", "value"], [(k, _cell(v)) for k, v in pushed.items()], title="push")
    for part in ("pools", "tasks"):
        rows = detail[part]
        if rows:
            print_rows(
                list(rows[0]), [tuple(_cell(v) for v in r.values()) for r in rows], title=part
            )


@ci_cost_app.command()
def unpriced(ctx: typer.Context, as_json: Json = False) -> None:
    """Worker pools that ran push tasks but are in no cost source (never counted as 0)."""
    result = report.unpriced_pools(state(ctx).store)
    _show(result, as_json=as_json, title="unpriced worker pools")
    if not as_json and not result.rows:
        console.print("every worker pool that ran push tasks has a price")


@ci_cost_app.command()
def prices(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="measuring_ci cost CSV (8 or 5 columns).")],
    month: Annotated[
        str | None, typer.Option(help="YYYY-MM: the 5-column table's month; else only this month.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Load a worker-type cost CSV into worker_type_costs, every month it holds."""
    first = None
    if month is not None:
        first = parse_month(month, "--month")
    result = load_prices(state(ctx).store, file, month=first)
    rows = [(m.isoformat()[:7], n) for m, n in result.months.items()]
    if as_json:
        print_json({"format": result.format, "months": dict(rows)})
    else:
        print_rows(["month", "worker types"], rows, title=f"{file} ({result.format})")


@ci_cost_app.command()
def export(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="Folder to write <model>.parquet into.")],
    as_json: Json = False,
) -> None:
    """Write the CI cost models as Parquet files."""
    written = export_models(state(ctx).store, folder, models=report.CI_COST_MODELS)
    rows = [(e.model, e.rows, str(e.path)) for e in written]
    if as_json:
        print_json([{"model": m, "rows": n, "path": p} for m, n, p in rows])
    else:
        print_rows(["model", "rows", "path"], rows, title="exported")


def register(app: typer.Typer) -> None:
    app.add_typer(ci_cost_app, name="ci-cost")
