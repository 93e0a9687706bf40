"""`shipgauge builds`: load inventories, S3 events and files; derive keys; search; look up."""

from __future__ import annotations

import re
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from shipgauge.cli._app import App
from shipgauge.cli._output import console, print_json, print_rows
from shipgauge.cli._state import state
from shipgauge.pipelines.builds.backfill import backfill
from shipgauge.pipelines.builds.connectors import connectors_from_settings
from shipgauge.pipelines.builds.events import amqp_consumer, consume_amqp, consume_sqs, sqs_queue
from shipgauge.pipelines.builds.files import import_build_files
from shipgauge.pipelines.builds.inventory import load_inventory
from shipgauge.pipelines.builds.notifications import ingest_event_files
from shipgauge.pipelines.builds.records import explain_key
from shipgauge.queries.builds.lookup import find_builds, latest_builds
from shipgauge.queries.builds.query import column_of
from shipgauge.queries.builds.search import search_builds

__all__ = ["register"]

ConsumeFrom = Literal["amqp", "sqs"]
builds_app = App(help="Build catalog (Buildhub): inventories, S3 events, search.")
# The web UI's search box: fields and boosts (upstream.md §6.2).
UI_FIELDS = [
    "source.product",
    "target.channel^1.2",
    "target.version^10",
    "target.locale^3",
    "target.platform^2",
    "build.id",
]
SEARCH_COLUMNS = ("build.id", "source.product", "target.channel", "target.version",
                  "target.platform", "target.locale", "download.date")  # fmt: skip


def _report(result: Any, as_json: bool, title: str) -> None:
    figures = dict(vars(result))
    if as_json:
        print_json(figures)
    else:
        print_rows(["what", "count"], list(figures.items()), title=title)


@builds_app.command("inventory")
def inventory(
    ctx: typer.Context,
    location: Annotated[
        str,
        typer.Argument(
            help="manifest.json or folder, s3://bucket/key, or a key or prefix in the inventory"
            " bucket."
        ),
    ],
    max_age_hours: Annotated[
        float | None, typer.Option(help="Skip rows last modified more than N hours ago (0: off).")
    ] = None,
    retries: Annotated[
        int | None, typer.Option(help="HTTP/S3 retries (default: setting buildhub_retries).")
    ] = None,
    timeout: Annotated[float | None, typer.Option(help="Seconds per archive request.")] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Folder for data files and the metadata ETag cache.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Load an S3 inventory: build archives → records completed with archive metadata."""
    cli = state(ctx)
    settings = cli.settings
    folder = cache_dir or Path(settings.buildhub_cache_dir)
    connectors = connectors_from_settings(
        settings, retries=retries, timeout_s=timeout, cache_dir=folder
    )
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=as_json, transient=True) as progress:
        task = progress.add_task("inventory rows: 0", total=None)
        seen = [0]

        def advance(rows: int) -> None:
            seen[0] += rows
            progress.update(task, description=f"inventory rows: {seen[0]:,}")

        try:
            result = load_inventory(
                store=cli.store,
                connectors=connectors,
                location=location,
                cache_dir=folder,
                max_age_hours=settings.buildhub_max_age_hours
                if max_age_hours is None
                else max_age_hours,
                progress=advance,
            )
        finally:
            connectors.close()
    _report(result, as_json, f"inventory {result.manifest}")


@builds_app.command("backfill")
def backfill_command(
    ctx: typer.Context,
    resume: Annotated[
        bool, typer.Option("--resume", help="Start after the last checkpointed key.")
    ] = False,
    bucket: Annotated[
        str | None, typer.Option(help="Bucket to list (default: setting s3_bucket).")
    ] = None,
    prefix: Annotated[str, typer.Option(help="Only keys under this prefix.")] = "",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the bucket; insert buildhub.json files that are new or whose ETag changed."""
    cli = state(ctx)
    connectors = connectors_from_settings(cli.settings)
    try:
        with nullcontext() if as_json else console.status("listing the bucket…"):
            result = backfill(
                store=cli.store,
                s3=connectors.s3,
                bucket=bucket or connectors.bucket,
                resume=resume,
                prefix=prefix,
            )
    finally:
        connectors.close()
    _report(result, as_json, "backfill")


@builds_app.command("events")
def events(
    ctx: typer.Context,
    files: Annotated[
        list[Path] | None, typer.Argument(help="Event JSON files; none: read one from stdin.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ingest S3 event notifications given as files (SNS, SQS or S3 shapes)."""
    cli = state(ctx)
    if files:
        messages = [(str(p), p.read_bytes) for p in files]
    else:
        body = sys.stdin.buffer.read()
        messages = [("stdin", lambda: body)]
    connectors = connectors_from_settings(cli.settings)
    try:
        max_depth = cli.settings.max_json_depth
        result = ingest_event_files(cli.store, connectors, messages, max_depth=max_depth)
    finally:
        connectors.close()
    _report(result, as_json, "S3 events")


@builds_app.command("consume")
def consume(
    ctx: typer.Context,
    source: Annotated[
        ConsumeFrom,
        typer.Option("--from", help="amqp (MinIO/Ceph bucket notifications) or sqs."),
    ] = "amqp",
    idle_timeout: Annotated[
        float, typer.Option(help="Stop after this many idle seconds (0: never).")
    ] = 5.0,
    max_messages: Annotated[int | None, typer.Option(help="Stop after this many messages.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Consume S3 event notifications from RabbitMQ or SQS; ack/delete after each commit."""
    cli = state(ctx)
    settings = cli.settings
    connectors = connectors_from_settings(settings)
    try:
        if source == "amqp":
            result = consume_amqp(
                cli.store, connectors, amqp_consumer(settings),
                idle_timeout_s=idle_timeout or None, max_messages=max_messages,
            )  # fmt: skip
        else:
            queue = sqs_queue(settings)
            result = consume_sqs(
                cli.store, connectors, queue,
                wait_s=min(int(idle_timeout or 20), 20), stop_when_empty=bool(idle_timeout),
            )  # fmt: skip
    finally:
        connectors.close()
    _report(result, as_json, f"S3 events from {source}")


@builds_app.command("import")
def import_files(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="buildhub.json files, folders of them, or .jsonl files of Buildhub2 records."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Store build records from local files (validated, beta copies, dead letters; idempotent)."""
    result = import_build_files(state(ctx).store, paths)
    _report(result, as_json, "build files")


@builds_app.command("derive")
def derive(
    ctx: typer.Context,
    keys: Annotated[
        list[str], typer.Argument(help="Archive keys (pub/firefox/…) or archive URLs.")
    ],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """What each archive key derives to, from its path alone (no network), or why it is no build."""
    settings = state(ctx).settings
    base = (settings.archive_public_url or settings.archive_url).rstrip("/")
    products = settings.buildhub_products.split()
    answers: list[dict[str, Any]] = []
    for given in keys:
        # A URL on any host is read by its path, as the archive's keys are.
        key = given.split("://", 1)[1].partition("/")[2] if "://" in given else given.lstrip("/")
        derived = explain_key(key, archive_url=base, products=products)
        if isinstance(derived, str):
            answers.append({"key": given, "build": False, "not_a_build": derived})
        else:
            answers.append({"key": given, "build": True, "record_id": derived.record_id,
                            "record": derived.record})  # fmt: skip
    if as_json:
        print_json(answers)
        return
    rows = [
        [a["key"], a["not_a_build"]]
        if not a["build"]
        else [a["key"], f"{a['record_id']}  {_flat(a['record'])}"]
        for a in answers
    ]
    print_rows(["key", "record (or: not a build, because)"], rows, title="derived records")


def _flat(record: dict[str, Any]) -> str:
    return " ".join(
        f"{part}.{name}={value}"
        for part, fields in record.items()
        for name, value in fields.items()
    )


@builds_app.command("search")
def search(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(help="Query string, as in Buildhub's search box (e.g. 'firefox 57.0 fr')."),
    ],
    size: Annotated[int, typer.Option(help="How many hits.")] = 30,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the Elasticsearch-shaped response.")
    ] = False,
) -> None:
    """Search build records like Buildhub's web UI (query string, AND, newest first)."""
    request = {
        "size": size,
        "query": {"query_string": {"query": query, "fields": UI_FIELDS, "default_operator": "AND"}},
        "sort": [{"download.date": "desc"}],
    }
    settings = state(ctx).settings
    result = search_builds(
        state(ctx).store,
        request,
        max_size=settings.buildhub_max_search_size,
        max_query_string_chars=settings.max_query_string_chars,
    )
    if as_json:
        print_json(result)
        return
    total = result["hits"]["total"]
    rows = [[_pick(h["_source"], c) for c in SEARCH_COLUMNS] for h in result["hits"]["hits"]]
    print_rows(list(SEARCH_COLUMNS), rows, title=f"{total} build records")
    fields = ", ".join(f.split("^")[0] for f in UI_FIELDS)
    console.print(
        f"Searched {fields} for every term of {query!r} (whole values, case-sensitive).",
        soft_wrap=True,
    )
    for hint in search_hints(query) if total == 0 else []:
        console.print(f"Hint: {hint}", soft_wrap=True)


def search_hints(query: str) -> list[str]:
    """Why a query string may have found nothing: field names no build has, or letter case."""
    hints = [
        f"no field is named {name!r} (fields are like target.version, source.product)"
        for name in re.findall(r"([\w.]+):", query)
        if column_of(name) is None and "*" not in name
    ]
    if query != query.lower():
        hints.append(
            f"values are matched with their case; stored ones are lower case: try {query.lower()!r}"
        )
    return hints


def _pick(doc: dict[str, Any], path: str) -> Any:
    part, name = path.split(".")
    return doc.get(part, {}).get(name)


@builds_app.command("get")
def get(
    ctx: typer.Context,
    build: Annotated[
        str, typer.Argument(help="Build id (YYYYMMDDHHMMSS), v1 record id, or build hash.")
    ],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show the build records of a build id, a v1 record id or a build hash."""
    found = find_builds(state(ctx).store, build)
    if as_json:
        print_json(found)
        return
    rows = [
        [r["build_hash"], r["record_id"], *(_pick(r["document"], c) for c in SEARCH_COLUMNS[1:6])]
        for r in found
    ]
    print_rows(["build_hash", "record_id", *SEARCH_COLUMNS[1:6]], rows, title=f"build {build}")


@builds_app.command("latest")
def latest(
    ctx: typer.Context,
    product: Annotated[str | None, typer.Option(help="Only this product.")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The newest build of each product, channel, platform and locale (model builds_latest)."""
    rows = latest_builds(state(ctx).store, product=product, channel=channel)
    columns = ["product", "channel", "platform", "locale", "version", "build_id", "download_date"]
    if as_json:
        print_json(rows)
    else:
        print_rows(columns, [[r[c] for c in columns] for r in rows], title="latest builds")


def register(app: typer.Typer) -> None:
    app.add_typer(builds_app, name="builds")
