"""S3 Inventory: `manifest.json`, the choice of the latest run, and gzipped CSV data files.

The CSV is read in Arrow record batches straight from the gzip stream, so memory stays flat
whatever the inventory's size, and the cheap filters (row validity, age, product folder,
archive extension) run vectorised; only candidate archives reach Python. Research §1.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from shipgauge.errors import SourceError
from shipgauge.sources.archive import ARCHIVE_EXTENSIONS

__all__ = [
    "DEFAULT_FILE_SCHEMA",
    "InventoryBatch",
    "InventoryFile",
    "InventoryManifest",
    "InventoryRow",
    "data_file_key",
    "latest_manifest_key",
    "open_gzip",
    "parse_manifest",
    "read_inventory",
]

# The columns Buildhub assumed; a manifest's own `fileSchema` takes precedence.
DEFAULT_FILE_SCHEMA = ("Bucket", "Key", "Size", "LastModifiedDate", "ETag")
_NEEDED = ("Bucket", "Key", "Size", "LastModifiedDate")
_RUN_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z")
_VALID = {
    "Bucket": r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$",
    "Key": r"^.+$",
    "Size": r"^[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?$",
    "LastModifiedDate": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$",
}
_BLOCK_BYTES = 1 << 20


@dataclass(frozen=True)
class InventoryFile:
    """One data file of a manifest: its key, compressed size and MD5 of the `.csv.gz`."""

    key: str
    size: int
    md5: str


@dataclass(frozen=True)
class InventoryManifest:
    """An S3 Inventory `manifest.json` (version 2016-11-30, CSV format)."""

    source_bucket: str
    created_at: datetime | None
    columns: tuple[str, ...]
    files: tuple[InventoryFile, ...]


@dataclass(frozen=True)
class InventoryRow:
    """A row that passed the cheap filters: a candidate build archive."""

    bucket: str
    key: str
    size: int
    last_modified: str


@dataclass(frozen=True)
class InventoryBatch:
    """What one record batch of a data file gave: candidates, rejects and the row count."""

    rows: list[InventoryRow]
    rejects: list[str]
    total: int


def parse_manifest(body: bytes, *, name: str = "manifest.json") -> InventoryManifest:
    """Read a manifest; SourceError when it is not JSON, not CSV, or lacks needed columns."""
    try:
        doc = json.loads(body)
        files = tuple(
            InventoryFile(str(f["key"]), int(f["size"]), str(f["MD5checksum"]))
            for f in doc["files"]
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(
            f"{name}: not an S3 inventory manifest ({exc})", field="manifest"
        ) from None
    if str(doc.get("fileFormat", "CSV")).upper() != "CSV":
        raise SourceError(
            f"{name}: fileFormat {doc['fileFormat']} is not supported; "
            "configure the inventory as CSV",
            field="fileFormat",
        )
    schema = doc.get("fileSchema")
    columns = tuple(c.strip() for c in schema.split(",")) if schema else DEFAULT_FILE_SCHEMA
    missing = [c for c in _NEEDED if c not in columns]
    if missing:
        raise SourceError(f"{name}: fileSchema lacks column {missing[0]}", field="fileSchema")
    stamp = doc.get("creationTimestamp")
    created = datetime.fromtimestamp(int(stamp) / 1000).astimezone() if stamp else None
    return InventoryManifest(str(doc.get("sourceBucket", "")), created, columns, files)


def latest_manifest_key(prefixes: Iterable[str]) -> str | None:
    """`<latest run folder>/manifest.json` among listed prefixes; `data/`, `hive/` are skipped."""
    runs = [p for p in prefixes if _RUN_FOLDER.fullmatch(p.rstrip("/").rsplit("/", 1)[-1])]
    return f"{max(runs).rstrip('/')}/manifest.json" if runs else None


def data_file_key(manifest_key: str, file_key: str) -> str:
    """The S3 key of a data file; Mozilla's manifests list keys relative to `public/`.

    >>> data_file_key("public/inv/a/b/2017-08-02T00-11Z/manifest.json", "inv/a/b/data/x.csv.gz")
    'public/inv/a/b/data/x.csv.gz'
    """
    folder = file_key.rsplit("/data/", 1)[0]
    at = manifest_key.find(folder + "/") if "/data/" in file_key else -1
    return manifest_key[:at] + file_key if at > 0 else file_key


def open_gzip(stream: BinaryIO | pa.NativeFile) -> pa.NativeFile:
    """A stream of the decompressed bytes of a gzip stream."""
    source = stream if isinstance(stream, pa.NativeFile) else pa.PythonFile(stream, mode="r")
    return pa.CompressedInputStream(source, "gzip")


def read_inventory(
    stream: BinaryIO | pa.NativeFile,
    *,
    columns: tuple[str, ...] = DEFAULT_FILE_SCHEMA,
    products: Iterable[str],
    newer_than: str | None = None,
) -> Iterator[InventoryBatch]:
    """Stream a gzipped inventory CSV: each batch's candidate archives and malformed rows.

    `newer_than` (`YYYY-MM-DDTHH:MM:SS`) drops rows last modified before it (v1's
    MIN_AGE_LAST_MODIFIED_HOURS, a maximum age despite its name).
    """
    bad_lines: list[str] = []

    def on_invalid(row: Any) -> str:
        bad_lines.append(str(row.text))
        return "skip"

    reader = pacsv.open_csv(
        open_gzip(stream),
        read_options=pacsv.ReadOptions(column_names=list(columns), block_size=_BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()), include_columns=list(_NEEDED)
        ),
    )
    product_re = "^pub/(" + "|".join(re.escape(p) for p in products) + ")/"
    extension_re = "\\.(" + "|".join(re.escape(e) for e in ARCHIVE_EXTENSIONS) + ")$"
    for batch in reader:
        yield _filter_batch(batch, product_re, extension_re, newer_than, bad_lines)
        bad_lines = []


def _filter_batch(
    batch: pa.RecordBatch,
    product_re: str,
    extension_re: str,
    newer_than: str | None,
    bad_lines: list[str],
) -> InventoryBatch:
    valid = None
    for column, pattern in _VALID.items():
        ok = pc.fill_null(pc.match_substring_regex(batch.column(column), pattern), False)
        valid = ok if valid is None else pc.and_(valid, ok)
    assert valid is not None
    rejects = bad_lines + _lines(batch.filter(pc.invert(valid)))
    keys = batch.column("Key")
    keep = pc.and_(valid, pc.fill_null(pc.match_substring_regex(keys, product_re), False))
    keep = pc.and_(keep, pc.fill_null(pc.match_substring_regex(keys, extension_re), False))
    if newer_than is not None:
        stamps = pc.utf8_slice_codeunits(batch.column("LastModifiedDate"), 0, 19)
        keep = pc.and_(keep, pc.fill_null(pc.greater_equal(stamps, newer_than), False))
    chosen = batch.filter(keep)
    rows = [
        InventoryRow(bucket, key, int(float(size)), modified)
        for bucket, key, size, modified in zip(
            *(chosen.column(c).to_pylist() for c in _NEEDED), strict=True
        )
    ]
    return InventoryBatch(rows, rejects, batch.num_rows + len(bad_lines))


def _lines(batch: pa.RecordBatch) -> list[str]:
    # Rejected rows go to dead letters as CSV lines of the columns read, quoted as AWS does.
    fields = zip(*(batch.column(c).to_pylist() for c in _NEEDED), strict=True)
    return [",".join('"' + (v or "").replace('"', '""') + '"' for v in row) for row in fields]
