"""BigQuery export files read as a stream of Arrow batches: CSV with a header row, newline-
delimited JSON, Parquet. Memory holds one batch at a time, whatever the file's size.

Rows a reader cannot parse at all (a CSV row with the wrong number of fields, a JSON line that is
not an object) come with their batch as `Unreadable`, with the raw text, for dead letters.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from shipgauge.errors import BadRequest, SourceError
from shipgauge.json_input import load_json

__all__ = ["FORMATS", "FileBatch", "Unreadable", "file_columns", "file_format", "read_batches"]

FORMATS: Final = {
    ".csv": "csv",
    ".json": "jsonl",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
_JSON_BLOCK: Final = 16 << 20
_CSV_BLOCK: Final = 16 << 20  # the import gathers blocks into transactions of `batch_rows`


@dataclass(frozen=True)
class Unreadable:
    """Input that is not a row at all: where it was, why, and its raw text."""

    where: str
    reason: str
    raw: bytes


@dataclass(frozen=True)
class FileBatch:
    """Rows of a file (columns as the file names them, RECORDs flattened as `a.b`), the number of
    the first one (1-based, data rows only), what could not be read, and how far the file is
    read, in bytes."""

    data: pa.Table
    first_row: int
    position: int
    unreadable: list[Unreadable] = field(default_factory=list)


def file_format(path: Path) -> str:
    """`csv`, `jsonl` or `parquet`, by the file's suffix."""
    if not path.is_file():
        raise BadRequest(f"{path}: no such file", field="FILE")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise BadRequest(f"{path}: unknown file type; use .csv, .jsonl or .parquet", field="FILE")
    return fmt


def file_columns(path: Path) -> list[str]:
    """The column names of a file (flattened), read from its header, first line or schema."""
    fmt = file_format(path)
    try:
        if fmt == "csv":
            with path.open(newline="", encoding="utf-8-sig") as handle:
                return next(csv.reader(handle), [])
        if fmt == "parquet":
            names: list[str] = _flat(pq.read_schema(path).empty_table()).column_names
            return names
        with path.open("rb") as handle:
            first = next((line for line in handle if line.strip()), b"{}")
        record = load_json(first, what=f"{path} first line")
        if not isinstance(record, Mapping):
            raise SourceError(f"{path}: the first line is not a JSON object", field="FILE")
        return list(_flat_record(record))
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, pa.ArrowException) as exc:
        raise SourceError(f"{path}: unreadable: {exc}", field="FILE") from None


def read_batches(path: Path, *, batch_rows: int) -> Iterator[FileBatch]:
    """The file's rows, a batch at a time (Parquet: `batch_rows` rows; CSV and JSON: blocks of
    16 MiB)."""
    fmt = file_format(path)
    try:
        if fmt == "csv":
            yield from _csv_batches(path)
        elif fmt == "parquet":
            yield from _parquet_batches(path, batch_rows)
        else:
            yield from _json_batches(path)
    except (OSError, pa.ArrowException) as exc:
        raise SourceError(f"{path}: unreadable: {exc}", field="FILE") from None


def _flat(table: pa.Table) -> pa.Table:
    while any(pa.types.is_struct(t) for t in table.schema.types):
        table = table.flatten()
    return table


def _parquet_batches(path: Path, batch_rows: int) -> Iterator[FileBatch]:
    # Without pre-buffering: with it, RSS grew ~30 MiB per 1,000,000 rows read (pyarrow 26).
    parquet = pq.ParquetFile(path, pre_buffer=False)
    total_rows = max(parquet.metadata.num_rows, 1)
    size = path.stat().st_size
    done = 0
    for batch in parquet.iter_batches(batch_size=batch_rows):
        table = _flat(pa.Table.from_batches([batch]))
        yield FileBatch(table, done + 1, size * (done + table.num_rows) // total_rows)
        done += table.num_rows


def _csv_batches(path: Path) -> Iterator[FileBatch]:
    columns = file_columns(path)
    unreadable: list[Unreadable] = []

    def refuse(row: Any) -> str:
        unreadable.append(
            Unreadable(
                f"line {row.number}" if row.number and row.number > 0 else "a line",
                f"expected {row.expected_columns} fields, found {row.actual_columns}",
                str(row.text).encode(),
            )
        )
        return "skip"

    source = pa.OSFile(str(path))
    reader = pa_csv.open_csv(
        source,
        read_options=pa_csv.ReadOptions(
            block_size=_CSV_BLOCK,
            use_threads=False,  # so that a refused row knows its line
        ),
        parse_options=pa_csv.ParseOptions(invalid_row_handler=refuse),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()),
            strings_can_be_null=True,  # BigQuery writes NULL as an empty field
            quoted_strings_can_be_null=False,
        ),
    )
    done = 0
    for batch in reader:
        table = pa.Table.from_batches([batch])
        yield FileBatch(table, done + 1, source.tell(), unreadable[:])
        unreadable.clear()
        done += table.num_rows
    if unreadable:
        yield FileBatch(pa.table({c: pa.array([], pa.string()) for c in columns}), done + 1,
                        source.tell(), unreadable[:])  # fmt: skip


def _json_batches(path: Path) -> Iterator[FileBatch]:
    done = 0
    line = 0
    with path.open("rb") as handle:
        carry = b""
        while True:
            block = handle.read(_JSON_BLOCK)
            chunk, carry = (carry + block, b"") if not block else _cut(carry + block)
            if chunk.strip():
                table, unreadable = _json_table(chunk, line)
                yield FileBatch(table, done + 1, handle.tell() - len(carry), unreadable)
                done += table.num_rows
            line += chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
            if not block:
                return


def _cut(data: bytes) -> tuple[bytes, bytes]:
    end = data.rfind(b"\n") + 1
    return (data, b"") if end == 0 else (data[:end], data[end:])


def _json_table(chunk: bytes, first_line: int) -> tuple[pa.Table, list[Unreadable]]:
    """A block of JSON lines: Arrow's reader when every line reads with one type per column,
    else line by line (values as text), the lines that are not objects set apart."""
    try:
        return _flat(pa_json.read_json(pa.py_buffer(chunk))), []
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    records: list[dict[str, Any]] = []
    unreadable: list[Unreadable] = []
    for number, raw in enumerate(chunk.splitlines(), first_line + 1):
        if not raw.strip():
            continue
        try:
            record = load_json(raw, what="the line")
        except BadRequest as exc:
            unreadable.append(Unreadable(f"line {number}", f"not a JSON object: {exc}", raw))
            continue
        if not isinstance(record, dict):
            unreadable.append(Unreadable(f"line {number}", "not a JSON object", raw))
            continue
        records.append({k: _text(v) for k, v in _flat_record(record).items()})
    names = list(dict.fromkeys(k for r in records for k in r))
    table = pa.table({n: pa.array([r.get(n) for r in records], pa.string()) for n in names})
    return table, unreadable


def _flat_record(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, Mapping):
            flat.update(_flat_record(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)  # numbers as JSON writes them; true, false; lists as JSON
