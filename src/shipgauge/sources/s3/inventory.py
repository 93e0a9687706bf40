"""S3 Inventory: `manifest.json`, the choice of the latest run, and gzipped CSV data files.

The CSV is read in Arrow record batches straight from the gzip stream (inflated by ISA-L),
so memory stays flat whatever the inventory's size. Only rows whose key is in a product
folder and ends with an archive extension (~5 % of a real bucket) leave this module, filtered
vectorised in Arrow; `sources.archive_sql` judges them in DuckDB. Research §1.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from isal import igzip

from shipgauge.errors import SourceError
from shipgauge.sources.archive.paths import ARCHIVE_EXTENSIONS

__all__ = [
    "DEFAULT_FILE_SCHEMA",
    "NEEDED_COLUMNS",
    "InventoryBatch",
    "InventoryFile",
    "InventoryManifest",
    "csv_lines",
    "data_file_key",
    "latest_manifest_key",
    "open_gzip",
    "parse_manifest",
    "read_inventory",
]

# The columns Buildhub assumed; a manifest's own `fileSchema` takes precedence.
DEFAULT_FILE_SCHEMA = ("Bucket", "Key", "Size", "LastModifiedDate", "ETag")
NEEDED_COLUMNS = ("Bucket", "Key", "Size", "LastModifiedDate")
_RUN_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z")
# Blocks of 512 KB read as fast as 2 MB ones; the reader's buffers take ~35 MB instead of ~115.
_BLOCK_BYTES = 512 << 10


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
class InventoryBatch:
    """What one record batch of a data file gave: the archive-looking rows, the lines that
    could not be read, and how many rows it held."""

    rows: pa.RecordBatch
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
    missing = [c for c in NEEDED_COLUMNS if c not in columns]
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
    """A stream of the decompressed bytes of a gzip stream.

    ISA-L inflates about three times as fast as zlib, and inflating is most of the cost of
    reading an inventory.
    """
    inflated = igzip.IGzipFile(fileobj=stream, mode="rb")  # type: ignore[no-untyped-call]
    return pa.PythonFile(inflated, mode="r")


def read_inventory(
    stream: BinaryIO | pa.NativeFile,
    *,
    columns: tuple[str, ...] = DEFAULT_FILE_SCHEMA,
    products: Iterable[str],
) -> Iterator[InventoryBatch]:
    """Stream a gzipped inventory CSV: per record batch, its rows whose key is in a product
    folder and ends with an archive extension (Bucket, Key, Size, LastModifiedDate, all
    strings), the lines that are not CSV rows of the schema, and how many rows it held."""
    bad_lines: list[str] = []

    def on_invalid(row: Any) -> str:
        bad_lines.append(str(row.text))
        return "skip"

    reader = pacsv.open_csv(
        open_gzip(stream),
        read_options=pacsv.ReadOptions(column_names=list(columns), block_size=_BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()), include_columns=list(NEEDED_COLUMNS)
        ),
    )
    folders = "^pub/(" + "|".join(re.escape(p) for p in products) + ")/"
    for batch in reader:
        # The extension test first: it keeps ~5 % of a real bucket for the folder test.
        keys = batch.column("Key")
        picked = batch.filter(pc.fill_null(_archive_end(keys), False))
        keys = picked.column("Key")
        picked = picked.filter(pc.fill_null(pc.match_substring_regex(keys, folders), False))
        yield InventoryBatch(picked, bad_lines, batch.num_rows + len(bad_lines))
        bad_lines = []


def _archive_end(keys: pa.Array) -> pa.Array:
    # One suffix test per extension costs half of one regular expression over all of them.
    ends = [pc.ends_with(keys, f".{extension}") for extension in ARCHIVE_EXTENSIONS]
    found = ends[0]
    for end in ends[1:]:
        found = pc.or_(found, end)
    return found


def csv_lines(rows: Iterable[Sequence[str | None]]) -> list[str]:
    """Rows as CSV lines quoted as AWS writes them (what a dead letter keeps of a bad row)."""
    return [",".join('"' + (v or "").replace('"', '""') + '"' for v in row) for row in rows]
