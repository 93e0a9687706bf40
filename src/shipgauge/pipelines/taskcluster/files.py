"""Reading the tabular files the worker imports take: CSV, JSON lines (or a JSON array), Parquet.

Records come back flat (a nested `{"project": {"id": …}}` becomes `project.id`, as BigQuery
names the column in a CSV export) with where each came from, for error messages.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shipgauge.errors import BadRequest, SourceError
from shipgauge.json_input import load_json

__all__ = ["Table", "read_table"]

Table = tuple[list[str], list[tuple[str, dict[str, Any]]]]  # columns, [(where, record)]


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _json_records(path: Path, text: str) -> list[tuple[str, Mapping[str, Any]]]:
    if text.lstrip().startswith("["):
        found = [(f"record {i}", r) for i, r in enumerate(load_json(text, what=str(path)), 1)]
    else:
        found = [
            (f"line {i}", load_json(line, what=f"{path} line {i}"))
            for i, line in enumerate(text.splitlines(), 1)
            if line.strip()
        ]
    for where, record in found:
        if not isinstance(record, Mapping):
            raise SourceError(f"{path} {where}: a record is a JSON object", field="file")
    return found


def read_table(path: Path) -> Table:
    """The columns and records of a `.csv`, `.json`/`.jsonl`/`.ndjson` or `.parquet` file."""
    if not path.is_file():
        raise BadRequest(f"{path}: no such file", field="file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with path.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle, skipinitialspace=True)
                raw = [(f"line {reader.line_num}", row) for row in reader]
                columns = [c.strip() for c in reader.fieldnames or []]
                records = [(w, {k.strip(): v for k, v in r.items() if k}) for w, r in raw]
                return columns, records
        if suffix in (".json", ".jsonl", ".ndjson"):
            text = path.read_text(encoding="utf-8")
            flat = [(w, _flatten(r)) for w, r in _json_records(path, text)]
        elif suffix == ".parquet":
            flat = [
                (f"row {i}", _flatten(r)) for i, r in enumerate(pq.read_table(path).to_pylist(), 1)
            ]
        else:
            raise BadRequest(
                f"{path}: unknown file type; use .csv, .jsonl or .parquet", field="file"
            )
    except (UnicodeDecodeError, csv.Error, OSError, pa.ArrowException) as exc:
        raise SourceError(f"{path}: unreadable: {exc}", field="file") from None
    columns = list(dict.fromkeys(k for _, r in flat for k in r))
    return columns, flat
