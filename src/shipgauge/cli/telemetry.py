"""`shipgauge telemetry`: consume, dump, backfill, resend and reviews (commit telemetry)."""

from __future__ import annotations

import json
import logging
import re
import signal
import sys
import threading
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from shipgauge.cli._app import App
from shipgauge.cli._output import console, print_json, print_rows
from shipgauge.cli._state import state
from shipgauge.config import Settings
from shipgauge.errors import BadRequest, SourceError, UpstreamError
from shipgauge.pipelines import telemetry
from shipgauge.queries.telemetry import review_shares
from shipgauge.queries.time import parse_day

__all__ = ["register"]

Interval = Literal["day", "week", "month"]  # as queries.telemetry.INTERVALS
telemetry_app = App(
    help="Commit telemetry: which review system each changeset used, sent as hgpush pings.",
    no_args_is_help=True,
)
_NODE = re.compile(r"^[0-9a-fA-F]{1,40}$")
NoSend = Annotated[
    bool, typer.Option("--no-send", help="Compute and print the pings; send and store nothing.")
]
Debug = Annotated[bool, typer.Option("--debug", help="Log every request and decision.")]


def _logging(debug: bool, *, quiet: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.ERROR if quiet else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for noisy in ("httpx", "httpcore", "amqp", "kombu", "sqlglot"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)


def _print_ping(result: telemetry.PingResult) -> None:
    sys.stdout.write(json.dumps(result.ping, sort_keys=True) + "\n")
    sys.stdout.flush()


def _repo_url(settings: Settings, repo: str) -> str:
    """A repository URL as given, or a path under the hg base URL."""
    if "://" in repo:
        return repo.rstrip("/")
    return f"{settings.hg_url.rstrip('/')}/{repo.strip('/')}"


def _summary(counts: telemetry.PingCounts) -> str:
    return (
        f"{counts.sent} sent, {counts.failed} failed, {counts.pending} computed, "
        f"{counts.invalid} invalid, {counts.error} not found or unreachable"
    )


def _check_failures(counts: telemetry.PingCounts) -> None:
    if counts.failed:
        raise UpstreamError(
            f"{counts.failed} ping(s) could not be sent and are kept as failed; "
            "run `shipgauge telemetry resend` later"
        )


@telemetry_app.command()
def consume(
    ctx: typer.Context,
    no_send: NoSend = False,
    debug: Debug = False,
    idle_timeout: Annotated[
        float, typer.Option(help="Stop after the queue was empty this many seconds.")
    ] = 2.0,
    forever: Annotated[bool, typer.Option("--forever", help="Never stop when idle.")] = False,
    max_messages: Annotated[int | None, typer.Option(help="Stop after this many.")] = None,
) -> None:
    """Consume the hgpushes queue: classify every changeset, send its ping, ack after storing."""
    _logging(debug)
    cli = state(ctx)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with telemetry.TelemetryServices.from_settings(cli.settings) as services:
        result = telemetry.consume(
            store=cli.store,
            services=services,
            consumer=telemetry.amqp_consumer(cli.settings),
            send=not no_send,
            on_result=_print_ping if no_send else None,
            idle_timeout_s=None if forever else idle_timeout,
            max_messages=max_messages,
            should_stop=stop.is_set,
        )
    kept = " (nothing acknowledged: every message stays queued)" if no_send else ""
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"{result.messages} messages, {result.pushes} pushes, {result.skipped} skipped, "
        f"{result.dead_letters} dead-lettered; pings: {_summary(result.pings)}{kept}"
    )
    _check_failures(result.pings)


@telemetry_app.command()
def dump(
    ctx: typer.Context,
    sha: Annotated[str, typer.Argument(help="The changeset id (full or short hex).")],
    repo: Annotated[
        str, typer.Option(help="Repository URL or path (default: mozilla-central).")
    ] = "mozilla-central",
    debug: Debug = False,
) -> None:
    """Print the ping one changeset would send; sends nothing."""
    _logging(debug, quiet=True)
    if not _NODE.match(sha):
        raise BadRequest(f"'{sha}' is not a changeset id (1 to 40 hex digits)", field="SHA")
    settings = state(ctx).settings
    with telemetry.TelemetryServices.from_settings(settings, concurrency=1) as services:
        result = telemetry.dump_ping(services, sha, repo_url=_repo_url(settings, repo))
    sys.stdout.write(json.dumps(result.ping, indent=4, sort_keys=True) + "\n")
    if result.status == "invalid":
        raise SourceError(result.error or "the ping does not validate")


@telemetry_app.command()
def backfill(
    ctx: typer.Context,
    repo_url: Annotated[str, typer.Argument(help="Repository URL or path.")],
    start_pushid: Annotated[int, typer.Argument(help="First push id (exclusive, as upstream).")],
    end_pushid: Annotated[int, typer.Argument(help="Last push id (inclusive).")],
    no_send: NoSend = False,
    debug: Debug = False,
    page_size: Annotated[int | None, typer.Option(help="Pushes per pushlog request.")] = None,
) -> None:
    """Ping every changeset of a pushlog range; a changeset already sent is not sent again."""
    _logging(debug)
    cli = state(ctx)
    settings = cli.settings
    url = _repo_url(settings, repo_url)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    columns = (TextColumn("pushes"), BarColumn(), MofNCompleteColumn())
    with (
        telemetry.TelemetryServices.from_settings(settings) as services,
        Progress(*columns, console=err, transient=True) as progress,
    ):
        task = progress.add_task("pushes", total=max(end_pushid - start_pushid, 0))
        result = telemetry.backfill(
            store=cli.store,
            services=services,
            repo_url=url,
            start_id=start_pushid,
            end_id=end_pushid,
            send=not no_send,
            page_size=page_size or settings.pushlog_page_size,
            on_result=_print_ping if no_send else None,
            on_page=lambda r: progress.update(task, completed=r.pushes),
        )
    err.print(
        f"{url} pushes {start_pushid}-{end_pushid}: {result.pushes} pushes, "
        f"{result.changesets} changesets ({result.already_sent} already sent); "
        f"pings: {_summary(result.pings)}"
    )
    if result.error:
        raise SourceError(result.error)
    _check_failures(result.pings)


@telemetry_app.command()
def resend(
    ctx: typer.Context,
    repo: Annotated[str | None, typer.Option(help="Only this repository (path).")] = None,
    debug: Debug = False,
) -> None:
    """Send again the stored pings whose send failed (or that were never sent)."""
    _logging(debug)
    cli = state(ctx)
    with telemetry.TelemetryServices.from_settings(cli.settings) as services:
        counts = telemetry.resend(store=cli.store, services=services, repo=repo)
    console.print(f"resent: {_summary(counts)}")
    _check_failures(counts)


@telemetry_app.command()
def reviews(
    ctx: typer.Context,
    repo: Annotated[str | None, typer.Option(help="Only this repository (path).")] = None,
    start: Annotated[str | None, typer.Option(help="From this push day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Before this push day (YYYY-MM-DD).")] = None,
    interval: Annotated[Interval, typer.Option(help="Rows per repository and period.")] = "week",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Share of each review system per repository and period."""
    rows = review_shares(
        state(ctx).store,
        repo=repo,
        start=parse_day(start, "--start") if start else None,
        end=parse_day(end, "--end") if end else None,
        interval=interval,
    )
    if as_json:
        print_json(rows)
        return
    print_rows(
        ["repo", "period", "review system", "changesets", "share"],
        [(r["repo"], r["period"], r["review_system"], r["changesets"], f"{r['share']:.1%}")
         for r in rows],
        title=f"review systems by {interval}",
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(telemetry_app, name="telemetry")
