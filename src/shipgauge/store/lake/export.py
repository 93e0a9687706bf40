"""`lake export`: tables and models to the Parquet lake, writing only what changed since last time.

Each table partition (a day of its time column) has a fingerprint: its row count and the sum
of a hash of each row, computed by the engine. A partition whose fingerprint is the one the
last export wrote, and whose file is still there, is not written again. A model is written
when its SQL or the fingerprint of any table it reads (through other models too) changed.
The fingerprints are kept in the lake's manifest; the store checkpoints the manifest's digest
(`ingest_checkpoints`, source `lake:<folder>`), so a manifest the store did not write, or a
lake the store never exported to, is written in full.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from shipgauge.errors import NotFound
from shipgauge.store._sql import quote_ident
from shipgauge.store.engines import TableInfo
from shipgauge.store.lake.files import (
    MANIFEST_FILE,
    NULL_PARTITION,
    SCHEMA_FILE,
    LakeSchema,
    partition_folder,
    read_manifest,
    remove_partition,
    write_json,
    write_partition,
)
from shipgauge.store.lake.rows import (
    Shape,
    conform_batch,
    model_shape,
    read_model,
    sorted_rows,
    table_shape,
)
from shipgauge.store.store import Store
from shipgauge.store.views import Model, discover_models, model_order

__all__ = ["LakeWrite", "export_lake"]

_WHOLE = ""  # the one partition of an unpartitioned table or model
# The lake's own checkpoints stay out of it: writing one would change the lake it describes.
_ROWS_KEPT = {"ingest_checkpoints": "source NOT LIKE 'lake:%'"}
# A row's hash, summed per partition: order does not matter, and a changed row changes it.
_ROW_HASH = {
    "duckdb": "hash(t)",
    "postgres": "hashtextextended(CAST(t AS VARCHAR), 0)",
}


@dataclass(frozen=True)
class LakeWrite:
    """What `export_lake` did for one table or model."""

    name: str
    kind: str
    rows: int
    written: int  # partitions (files) written
    removed: int  # partitions deleted because the store has no rows for them any more
    partitioned_by: str | None
    path: Path


def export_lake(
    store: Store, folder: Path, *, only: Sequence[str] = (), models: bool = True
) -> list[LakeWrite]:
    """Bring the lake at `folder` up to date with the store: tables, then (unless not `models`)
    models. `only` limits it to those tables and models; an unknown name is a NotFound."""
    folder = folder.resolve()
    source = f"lake:{folder}"
    manifest, text = read_manifest(folder)
    if store.checkpoint(source) != _digest(text):
        manifest = {}  # not written by this store: write everything
    exporter = _Exporter(store, folder, manifest.get("partitions", {}))
    tables = {info.name: info for info in store.tables()}
    every_model = model_order(discover_models())
    unknown = sorted(set(only) - tables.keys() - {m.name for m in every_model})
    if unknown:
        raise NotFound(f"no table or model named '{unknown[0]}'", field="--only")
    folder.mkdir(parents=True, exist_ok=True)
    done = [exporter.table(info) for name, info in tables.items() if not only or name in only]
    ordered = every_model if models else []
    done += [exporter.model(m, tables) for m in ordered if not only or m.name in only]
    partitions = {**manifest.get("partitions", {}), **exporter.partitions}
    text = write_json(
        folder / MANIFEST_FILE,
        {"exported_at": datetime.now(UTC).isoformat(), "partitions": partitions},
    )
    with store.transaction() as tx:
        tx.set_checkpoint(source, _digest(text))
    return done


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _Exporter:
    """One export: the last fingerprints, and the ones found now."""

    def __init__(self, store: Store, folder: Path, last: dict[str, dict[str, str]]) -> None:
        self.store = store
        self.folder = folder
        self.last = last
        self.partitions: dict[str, dict[str, str]] = {}
        self._fingerprints: dict[str, dict[str, tuple[int, str]]] = {}

    def fingerprints(self, info: TableInfo) -> dict[str, tuple[int, str]]:
        """Per partition of `info`: (rows, fingerprint)."""
        if info.name not in self._fingerprints:
            day = _day_text(info.time_column)
            row_hash = _ROW_HASH[self.store.engine.name]
            sql = (
                f"SELECT {day or repr(_WHOLE)}, count(*), CAST(sum({row_hash}) AS VARCHAR)"
                f" FROM {quote_ident(info.name)} AS t WHERE {_ROWS_KEPT.get(info.name, 'TRUE')}"
                + (" GROUP BY 1" if day else "")
            )
            found = {
                NULL_PARTITION if p is None else p: (int(n), f"{n}:{h}")
                for p, n, h in self.store.query(sql).rows
                if n
            }
            self._fingerprints[info.name] = found
        return self._fingerprints[info.name]

    def table(self, info: TableInfo) -> LakeWrite:
        target = self.folder / info.name
        found = self.fingerprints(info)
        last = self.last.get(info.name, {})
        partition_of = (lambda p: p) if info.time_column else (lambda p: None)
        changed = [
            p
            for p, (_, fp) in found.items()
            if last.get(p) != fp or not _has_file(target, partition_of(p))
        ]
        gone = [p for p in last if p not in found]
        shape = table_shape(info)
        _write_schema(target, LakeSchema(info.name, "table", shape.schema, info.primary_key,
                                         info.time_column))  # fmt: skip
        if changed:
            for partition, rows in self._changed_rows(info, shape, changed):
                write_partition(target, partition_of(partition), rows)
        for partition in gone:  # (an empty table is its schema alone)
            remove_partition(target, partition_of(partition))
        self.partitions[info.name] = {p: fp for p, (_, fp) in found.items()}
        rows = sum(n for n, _ in found.values())
        return LakeWrite(info.name, "table", rows, len(changed), len(gone), info.time_column,
                         target)  # fmt: skip

    def _changed_rows(
        self, info: TableInfo, shape: Shape, changed: list[str]
    ) -> Iterator[tuple[str, pa.Table]]:
        """(partition, its rows sorted by key) for each changed partition, one at a time."""
        day = _day_text(info.time_column)
        sql = f"SELECT {shape.select_list()}, {day or repr(_WHOLE)} AS _sg_day"
        sql += f" FROM {quote_ident(info.name)} WHERE {_ROWS_KEPT.get(info.name, 'TRUE')}"
        if day and len(changed) < len(self.fingerprints(info)):
            days = ", ".join(f"'{p}'" for p in changed if p != NULL_PARTITION) or "NULL"
            sql += f" AND ({day} IN ({days})"  # (days are YYYY-MM-DD from the engine)
            if NULL_PARTITION in changed:
                sql += f" OR {quote_ident(info.time_column or '')} IS NULL"
            sql += ")"
        if day:
            sql += " ORDER BY _sg_day"
        pending: list[pa.Table] = []
        current: str | None = None
        for batch in self.store.iter_batches(sql):
            days = batch.column("_sg_day").to_pylist()
            start = 0
            for end in [*(i for i in range(1, len(days)) if days[i] != days[i - 1]), len(days)]:
                partition = NULL_PARTITION if days[start] is None else days[start]
                if partition != current and pending:
                    yield current or _WHOLE, sorted_rows(pa.concat_tables(pending), shape)
                    pending = []
                current = partition
                pending.append(conform_batch(batch.slice(start, end - start), shape))
                start = end
        if pending:
            yield current or _WHOLE, sorted_rows(pa.concat_tables(pending), shape)

    def model(self, model: Model, tables: dict[str, TableInfo]) -> LakeWrite:
        target = self.folder / model.name
        inputs = {
            name: sorted(fp for _, fp in self.fingerprints(tables[name]).values())
            for name in sorted(_tables_read(model, tables))
        }
        digest = _digest(json.dumps({"sql": model.sql, "inputs": inputs}, sort_keys=True))
        self.partitions[model.name] = {_WHOLE: digest}
        if self.last.get(model.name, {}).get(_WHOLE) == digest and _has_file(target, None):
            rows = pq.ParquetFile(target / "part-0.parquet").metadata.num_rows
            return LakeWrite(model.name, "model", rows, 0, 0, None, target)
        rows = read_model(self.store, model.name)
        shape = model_shape(model.name)
        computed = {"computed_at": datetime.now(UTC).isoformat()}
        _write_schema(target, LakeSchema(model.name, "model", shape.schema, extra=computed))
        write_partition(target, None, rows)
        return LakeWrite(model.name, "model", rows.num_rows, 1, 0, None, target)


def _day_text(time_column: str | None) -> str | None:
    """The SQL of a row's partition name: its day as YYYY-MM-DD text (NULL with no time)."""
    if time_column is None:
        return None
    return f"CAST(CAST({quote_ident(time_column)} AS DATE) AS VARCHAR)"


def _has_file(folder: Path, partition: str | None) -> bool:
    return (partition_folder(folder, partition) / "part-0.parquet").is_file()


def _write_schema(folder: Path, schema: LakeSchema) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / SCHEMA_FILE, schema.to_json())


def _tables_read(model: Model, tables: dict[str, TableInfo]) -> set[str]:
    """The tables `model` reads, directly or through the models it reads."""
    models = {m.name: m for m in discover_models()}
    seen: set[str] = set()
    found: set[str] = set()
    pending = [model.name]
    while pending:
        name = pending.pop()
        for ref in models[name].references():
            if ref in tables:
                found.add(ref)
            elif ref in models and ref not in seen:
                seen.add(ref)
                pending.append(ref)
    return found
