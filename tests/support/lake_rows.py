"""Model results of two engines compared as rows: the same rows, floats within 1e-9 relative."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds

__all__ = ["assert_same_rows", "read_rows"]

REL_TOL = 1e-9
# Seconds between two times are differences of two epochs near 1.8e9, where a double's last bit
# is 2.4e-7 s: DuckDB's epoch() and Spark's rounding can differ by that bit, which is more than
# 1e-9 of a short duration. The inputs' own resolution (a microsecond) bounds that difference.
ABS_TOL = 1e-6


def _plain(value: Any) -> Any:
    """Numbers as floats (DuckDB sums to HUGEINT, Spark to BIGINT or DECIMAL), times as UTC
    without a zone (Spark writes TIMESTAMP_NTZ where DuckDB has a naive TIMESTAMP)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def read_rows(folder: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The columns and rows of the Parquet files in `folder`, values made plain."""
    table = ds.dataset(folder, format="parquet").to_table()
    rows = [tuple(_plain(v) for v in row.values()) for row in table.to_pylist()]
    return table.column_names, rows


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # Floats rounded, so that noise in the last digits does not change the order.
    return tuple(
        (0, "") if v is None else (1, f"{v:.6g}") if isinstance(v, float) else (2, str(v))
        for v in row
    )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        both_nan = math.isnan(a) and math.isnan(b)
        return both_nan or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return bool(a == b)


def assert_same_rows(model: str, expected: Path, actual: Path) -> int:
    """Assert the two folders hold the same rows (any order); return how many."""
    columns, rows = read_rows(expected)
    other_columns, other_rows = read_rows(actual)
    assert other_columns == columns, f"{model}: columns differ"
    assert len(other_rows) == len(rows), f"{model}: {len(other_rows)} rows, not {len(rows)}"
    for left, right in zip(
        sorted(rows, key=_sort_key), sorted(other_rows, key=_sort_key), strict=True
    ):
        differing = [
            (c, a, b) for c, a, b in zip(columns, left, right, strict=True) if not _same(a, b)
        ]
        assert not differing, f"{model}: {differing[:3]} in {left}"
    return len(rows)
