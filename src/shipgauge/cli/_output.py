"""Rendering rows for people (Rich tables) and for scripts (JSON, CSV)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = [
    "console",
    "duration",
    "first_line",
    "json_default",
    "print_json",
    "print_rows",
    "tiered",
    "with_unit",
]

console = Console(highlight=False)
_UNBOUNDED = 100_000
_TIER_STYLE = {"elite": "green", "high": "cyan", "medium": "yellow", "low": "red"}


def json_default(value: Any) -> Any:
    """JSON for the values databases return: times as ISO 8601, bytes as text, decimals as float."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def first_line(exc: BaseException) -> str:
    """An error as one line: its message's first line, or its type when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def duration(seconds: float) -> str:
    """Seconds as people read them: `4.1 d`, `2.9 h`, `12.0 min`, `40 s`."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def with_unit(value: Any, unit: str | None) -> Any:
    """A value of a report column in its unit (see queries.overview.UNITS); None stays None."""
    if value is None or unit is None:
        return value
    number = float(value)
    if unit == "seconds":
        return duration(number)
    if unit == "ratio":
        return f"{number:.0%}"
    if unit == "cost":  # fractions of a cent per run: four decimals
        return f"{number:.4f}"
    return f"{number:.1f}"  # per_week, score


def tiered(text: str, tier: str | None) -> str:
    """A value over its benchmark tier (Rich markup), coloured by tier."""
    return f"{text}\n[{_TIER_STYLE.get(tier or '', 'white')}]{tier}[/]" if tier else text


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=json_default, indent=2) + "\n")


def print_rows(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], *, fmt: str = "table", title: str = ""
) -> None:
    """Rows as a Rich table (`table`), a JSON array of objects (`json`) or CSV (`csv`)."""
    if fmt == "json":
        print_json([dict(zip(columns, r, strict=True)) for r in rows])
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([[json_default(v) if v is not None else "" for v in r] for r in rows])
    else:
        table = Table(title=title or None)
        for c in columns:
            table.add_column(c, overflow="fold")  # wrapped in a narrow terminal, never cut
        for r in rows:
            table.add_row(*("" if v is None else str(json_default(v)) for v in r))
        if console.is_terminal:
            console.print(table)
        else:  # into a pipe or a file, rows keep their whole width (Rich would assume 80)
            whole = console.measure(table, options=console.options.update_width(_UNBOUNDED))
            Console(highlight=False, width=max(whole.maximum, console.width)).print(table)
