"""Build catalog pipelines: connectors from settings, the S3 inventory load, retries, demo.

`load_inventory` streams every data file of a manifest, keeps the build archives, completes
them with archive metadata (bounded concurrency, one fetch per URL among the MEMO_URLS used
last, ETag cache) and inserts them. Backfill is in `buildhub_backfill`, S3 events in
`buildhub_events`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shipgauge.errors import NotFound
from shipgauge.pipelines.builds.connectors import BuildhubConnectors
from shipgauge.pipelines.builds.inventory_file import InventoryFileLoad, InventoryResult
from shipgauge.pipelines.builds.metadata import MetadataResolver
from shipgauge.pipelines.memory import bounded_memory
from shipgauge.sources.s3.inventory import (
    InventoryFile,
    InventoryManifest,
    data_file_key,
    latest_manifest_key,
    parse_manifest,
    read_inventory,
)
from shipgauge.store import Store

__all__ = ["INVENTORY_SOURCE", "InventoryResult", "load_inventory"]

INVENTORY_SOURCE = "buildhub.inventory"
# The store's memory limit while loading: 32 MB of WAL before each checkpoint, a chunk's rows,
# buffers. A DuckDB store checkpoints every 32 MB of WAL, so what is committed leaves memory (at
# 256 MB its rows filled the store's buffers). `builds` has no key index (migration 12).
STORE_MEMORY_LIMIT = "56MiB"
STORE_OPTIONS = {"checkpoint_threshold": "32MB", "preserve_insertion_order": "false"}
Progress = Callable[[int], None]


@dataclass
class _Manifest:
    name: str
    manifest: InventoryManifest
    data_files: list[tuple[InventoryFile, Callable[[Path], Path]]] = field(default_factory=list)


def load_inventory(
    *,
    store: Store,
    connectors: BuildhubConnectors,
    location: str,
    cache_dir: Path,
    max_age_hours: float = 0.0,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> InventoryResult:
    """Load an inventory (local manifest/folder, `s3://bucket/key`, or a key or prefix).

    A data file whose MD5 differs from the manifest and a row that cannot be read become
    dead letters; the run goes on. A record without metadata is left out, as v1's cron did.
    """
    found = _locate_manifest(connectors, location, cache_dir)
    result = InventoryResult(manifest=found.name)
    newer_than = None
    if max_age_hours > 0:
        start = (now or datetime.now(UTC)) - timedelta(hours=max_age_hours)
        newer_than = start.strftime("%Y-%m-%dT%H:%M:%S")
    resolver = MetadataResolver(connectors.archive)
    loader = InventoryFileLoad(
        store,
        resolver,
        products=connectors.products,
        newer_than=newer_than,
        dead_letter_source=INVENTORY_SOURCE,
        result=result,
    )
    try:
        with bounded_memory(store, STORE_MEMORY_LIMIT, STORE_OPTIONS):
            for entry, fetch in found.data_files:
                if _load_data_file(loader, fetch(cache_dir), entry, found.manifest, progress):
                    result.files += 1
                    continue
                with store.transaction() as tx:
                    tx.dead_letter(
                        INVENTORY_SOURCE,
                        entry.key,
                        "MD5 differs from manifest",
                        json.dumps(entry.__dict__),
                    )
                result.dead_letters += 1
    finally:
        loader.close()
    with store.transaction() as tx:
        tx.set_checkpoint(INVENTORY_SOURCE, found.name)
    return result


def _load_data_file(
    loader: InventoryFileLoad,
    path: Path,
    entry: InventoryFile,
    manifest: InventoryManifest,
    progress: Progress | None,
) -> bool:
    """Load one data file while another thread checks its MD5; False (nothing stored) when
    the MD5 differs from the manifest. The loader waits for the check before its first
    commit; a file that fails to read is a mismatch if its MD5 says so, else the error."""
    with ThreadPoolExecutor(max_workers=1) as hashing:
        digest = hashing.submit(_md5, path)

        def intact() -> bool:
            return digest.result() == entry.md5

        try:
            with path.open("rb") as stream:
                rows = read_inventory(stream, columns=manifest.columns, products=loader.products)
                return loader.load(rows, progress, intact=intact)
        except Exception:
            if not intact():
                return False
            raise


def _locate_manifest(connectors: BuildhubConnectors, location: str, cache_dir: Path) -> _Manifest:
    local = Path(location).expanduser()
    if local.exists():
        return _local_manifest(local)
    bucket, key = connectors.inventory_bucket, location
    if location.startswith("s3://"):
        bucket, _, key = location.removeprefix("s3://").partition("/")
    if not key.endswith(".json"):
        prefix = key.rstrip("/") + "/" if key else ""
        latest = latest_manifest_key(connectors.s3.list_prefixes(bucket, prefix))
        if latest is None:
            raise NotFound(
                f"no inventory run folder (YYYY-MM-DDTHH-MMZ/) under s3://{bucket}/{prefix}"
            )
        key = latest
    manifest = parse_manifest(connectors.s3.get_bytes(bucket, key), name=f"s3://{bucket}/{key}")

    def fetcher(entry: InventoryFile) -> Callable[[Path], Path]:
        def fetch(folder: Path) -> Path:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{entry.md5}.csv.gz"
            if not target.is_file() or target.stat().st_size == 0 or _md5(target) != entry.md5:
                connectors.s3.download(bucket, data_file_key(key, entry.key), target)
            return target

        return fetch

    return _Manifest(f"s3://{bucket}/{key}", manifest, [(f, fetcher(f)) for f in manifest.files])


def _local_manifest(path: Path) -> _Manifest:
    if path.is_dir():
        direct = path / "manifest.json"
        if direct.is_file():
            path = direct
        else:
            latest = latest_manifest_key(f"{p.name}/" for p in path.iterdir() if p.is_dir())
            if latest is None:
                raise NotFound(f"{path}: no manifest.json and no YYYY-MM-DDTHH-MMZ/ run folder")
            path = path / latest
    manifest = parse_manifest(path.read_bytes(), name=str(path))

    # AWS writes data/ beside the run folders; the bundled samples keep it beside the manifest.
    def fetcher(entry: InventoryFile) -> Callable[[Path], Path]:
        name = entry.key.rsplit("/", 1)[-1]
        options = [
            path.parent.parent / "data" / name,
            path.parent / "data" / name,
            path.parent / name,
        ]

        def fetch(_: Path) -> Path:
            found = next((o for o in options if o.is_file()), None)
            if found is None:
                raise NotFound(f"data file {name} of {path} not found beside it", field="key")
            return found

        return fetch

    return _Manifest(str(path), manifest, [(f, fetcher(f)) for f in manifest.files])


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
