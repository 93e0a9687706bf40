"""Commands over the store itself: `query`, `export` (`lake export`) and `dead-letters`."""

from __future__ import annotations

from typing import Annotated

import typer

from shipgauge.cli import lake
from shipgauge.cli._app import App
from shipgauge.cli._output import console, first_line, print_json, print_rows
from shipgauge.cli._state import state
from shipgauge.errors import BadRequest, ShipgaugeError, StoreError
from shipgauge.pipelines.dead_letters import retry_dead_letters
from shipgauge.store.dead_letters import get_dead_letter, list_dead_letters, purge_dead_letters

__all__ = ["register"]

dead_letters_app = App(help="Input that could not be parsed: list, show, retry, purge.")


def query(
    ctx: typer.Context,
    sql: Annotated[str, typer.Argument(help="SQL in DuckDB dialect over tables and models.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of objects.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV with a header row.")] = False,
    write: Annotated[
        bool, typer.Option("--write", help="Allow statements that change the store.")
    ] = False,
) -> None:
    """Run SQL against the store and print the rows; read-only unless --write."""
    if as_json and as_csv:
        raise BadRequest("choose one of --json and --csv", field="--json")
    if not sql.strip():
        raise BadRequest("give a SQL statement, e.g. 'SELECT * FROM ingest_status'", field="SQL")
    store = state(ctx).store
    try:
        result = store.query_text(sql, write=write)
    except ShipgaugeError:
        raise
    except Exception as exc:  # the engine's own error text is what the user needs
        raise StoreError(f"query failed: {first_line(exc)}") from None
    print_rows(result.columns, result.rows, fmt="json" if as_json else "csv" if as_csv else "table")


@dead_letters_app.command("list")
def dead_letters_list(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List dead letters, newest first."""
    letters = [d.summary() for d in list_dead_letters(state(ctx).store, source=source, limit=limit)]
    if as_json:
        print_json(letters)
        return
    columns = ["id", "source", "key", "received_at", "error", "bytes"]
    print_rows(columns, [[d[c] for c in columns] for d in letters], title="dead letters")


@dead_letters_app.command("show")
def dead_letters_show(
    ctx: typer.Context,
    letter_id: Annotated[int, typer.Argument(help="The dead letter's id.")],
    raw: Annotated[bool, typer.Option("--raw", help="Write only the payload bytes.")] = False,
) -> None:
    """Show one dead letter with its raw payload."""
    letter = get_dead_letter(state(ctx).store, letter_id)
    if raw:
        typer.get_binary_stream("stdout").write(letter.payload)
        return
    print_json({**letter.summary(), "payload": letter.payload.decode("utf-8", errors="replace")})


@dead_letters_app.command("retry")
def dead_letters_retry(
    ctx: typer.Context,
    letter_id: Annotated[int | None, typer.Argument(help="One id; default: all.")] = None,
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
) -> None:
    """Replay dead letters through their source's parser; those that now parse are stored."""
    store = state(ctx).store
    letters = [get_dead_letter(store, letter_id)] if letter_id is not None else None
    result = retry_dead_letters(store, letters, source=source)
    console.print(f"ingested {len(result.ingested)}, still failing {len(result.failed)}")
    for failed_id, error in result.failed.items():
        console.print(f"  {failed_id}: {error}")
    if result.failed:
        raise typer.Exit(1)


@dead_letters_app.command("purge")
def dead_letters_purge(
    ctx: typer.Context,
    letter_id: Annotated[int | None, typer.Argument(help="One id; default: all.")] = None,
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Really delete them.")] = False,
) -> None:
    """Delete dead letters (all, one source's, or one id)."""
    if not yes:
        raise BadRequest("purge deletes input for good: add --yes to confirm", field="--yes")
    count = purge_dead_letters(state(ctx).store, source=source, letter_id=letter_id)
    console.print(f"purged {count} dead letter(s)")


def register(app: typer.Typer) -> None:
    app.command()(query)
    # `export` is `lake export` under its first name (scripts call it); the lake commands and
    # `models sql` register beside it.
    app.command("export", help="The same as `shipgauge lake export`.")(lake.lake_export)
    lake.register(app)
    app.add_typer(dead_letters_app, name="dead-letters")
