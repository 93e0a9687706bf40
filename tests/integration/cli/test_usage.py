"""Bad usage is exit 2 with Typer's usage message, and help carries no type tags."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
import typer
from typer.testing import CliRunner

from shipgauge.cli import app, builds, ci_cost, delivery, telemetry
from shipgauge.pipelines.ci_cost import MODES
from shipgauge.queries.ci_cost import REPORT_GROUPINGS
from shipgauge.queries.delivery import BENCHMARKS, INTERVALS
from shipgauge.queries.telemetry import INTERVALS as REVIEW_INTERVALS
from shipgauge.sources.delivery.events import KINDS
from tests.conftest import run_cli

BAD_USAGE = [
    ("ci-cost", "report", "--by", "foo"),
    ("ci-cost", "report", "--mode", "x"),
    ("ci-cost", "report", "--since", "soon"),
    ("ci-cost", "report", "--limit", "0"),
    ("ci-cost", "prices", "prices.csv", "--month", "2024-13"),
    ("dora", "report", "--interval", "fortnight"),
    ("dora", "report", "--benchmark", "1999"),
    ("dora", "report", "--since", "soon"),
    ("dora", "report", "--until", "2024-05-01T00:00:00"),  # no offset
    ("events", "send", "web", "kaboom"),
    ("events", "send", "web", "deploy", "--metadata", "{"),
    ("events", "import", "events.csv", "--format", "xml"),
    ("builds", "consume", "--from", "kafka"),
    ("telemetry", "reviews", "--interval", "fortnight"),
    ("telemetry", "reviews", "--start", "yesterday"),
    ("telemetry", "dump", "not-a-sha!"),
    ("taskcluster", "metrics", "--date", "notaday", "--file", "uptime.csv"),
    ("query", "SELECT 1", "--json", "--csv"),
    ("query", ""),
    ("query", "   "),
    ("serve", "--port", "70000"),
    ("dead-letters", "purge"),
    ("nosuch",),
]


@pytest.mark.parametrize("args", BAD_USAGE, ids=" ".join)
def test_bad_usage_exits_2_with_the_usage_message(args: tuple[str, ...], tmp_path: Path) -> None:
    # In-process (the console script costs seconds of imports each): main() adds nothing to
    # what Typer does with bad usage, as test_bad_usage_through_the_console_script shows.
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "x.duckdb"), *args])
    assert result.exit_code == 2, (result.stderr, result.exception)
    assert result.stderr.startswith("Usage: shipgauge"), result.stderr


def test_bad_usage_through_the_console_script(tmp_path: Path) -> None:
    result = run_cli("dora", "report", "--interval", "fortnight", db=str(tmp_path / "x.duckdb"))
    assert result.returncode == 2
    assert result.stderr.startswith("Usage: shipgauge dora report [OPTIONS]\n")
    assert "'fortnight' is not one of" in result.stderr
    assert "Traceback" not in result.stderr


def test_choices_are_the_ones_the_product_knows() -> None:
    assert get_args(ci_cost.ModeName) == MODES
    assert get_args(ci_cost.Grouping) == REPORT_GROUPINGS
    assert get_args(delivery.Kind) == KINDS
    assert get_args(delivery.Interval) == tuple(INTERVALS)
    assert get_args(delivery.Benchmark) == BENCHMARKS
    assert get_args(builds.ConsumeFrom) == ("amqp", "sqs")
    assert get_args(telemetry.Interval) == REVIEW_INTERVALS


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


# Type tags as Typer (`<str>`, `<int range>`) or Click (`TEXT`, `INTEGER`) would print them.
_TYPE_TAG = re.compile(r"<(str|int|float|bool|path|file|directory|list\[|int range|float range)")
_CLICK_TAG = re.compile(r"\b(TEXT|INTEGER|FLOAT|BOOLEAN|PATH|FILENAME)\b")


def test_help_carries_no_type_tags() -> None:
    runner = CliRunner()
    every = list(_commands(typer.main.get_command(app)))
    assert len(every) > 40  # every group and command
    for path in every:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (path, result.output)
        assert not _TYPE_TAG.search(result.output), (path, result.output)
        assert not _CLICK_TAG.search(result.output), (path, result.output)
    choices = runner.invoke(app, ["ci-cost", "report", "--help"], env={"COLUMNS": "200"})
    assert "<push|day|pool|task>" in choices.output  # a choice's values are worth showing
