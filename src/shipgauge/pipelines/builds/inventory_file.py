"""One inventory data file into build records, with DuckDB doing the per-key work.

The gzipped CSV streams in Arrow batches, filtered in Arrow to keys in a product folder with
an archive extension (`sources.inventory`). Chunks of 20,000 of them go through
`archive_sql.candidates_sql` in an in-memory DuckDB, which checks and derives them all at
once. Python then works once per distinct metadata file (a nightly's hundreds of locales share
one): it fetches it, merges it into one record of the group by the Python rules and checks
it, and hands DuckDB the merged `build` and `source` parts; `archive_sql.records_sql` writes
every record of the group, its JSON and its hash. Keys the SQL does not take on (not plain
ASCII, unknown layout, failing a check) and groups whose metadata is missing or refused go
through `derive_candidate` and `complete_candidates` as S3 events do. Reading, deriving,
fetching metadata and storing run on four threads, a few chunks apart.
"""

from __future__ import annotations

import json
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from shipgauge.errors import SourceError
from shipgauge.pipelines.builds.metadata import MEMO_URLS, MetadataResolver, keep_recent
from shipgauge.pipelines.builds.records import (
    ArchiveCandidate,
    Completion,
    complete_candidates,
    derive_candidate,
    new_rows,
    rows_of,
    take_turn,
)
from shipgauge.sources.archive.metadata import merge_metadata
from shipgauge.sources.archive.paths import version_sort_key
from shipgauge.sources.archive.sql import (
    INVENTORY_ROWS,
    candidates_params,
    candidates_sql,
    records_sql,
)
from shipgauge.sources.s3.inventory import InventoryBatch, csv_lines
from shipgauge.store import KeyConflict, Store

__all__ = ["CHUNK_CANDIDATES", "InventoryFileLoad", "InventoryResult", "group_parts"]

CHUNK_CANDIDATES = 20_000
PREFETCH_CHUNKS = 2
ORIGIN = "inventory"
_GROUP_SCHEMA = pa.schema(
    [
        ("wait_key", pa.string()),
        ("build_json", pa.string()),
        ("source_json", pa.string()),
        ("channel", pa.string()),
        ("channel_json", pa.string()),
        ("build_id", pa.string()),
        ("build_date", pa.timestamp("us", tz="UTC")),
        ("build_number", pa.int32()),
        ("revision", pa.string()),
        ("repository", pa.string()),
        ("tree", pa.string()),
    ]
)
_ORDER = [("candidate", pa.int64()), ("copy", pa.int32())]


@dataclass
class InventoryResult:
    """What an inventory load did, row by row."""

    manifest: str = ""
    files: int = 0
    rows: int = 0
    candidates: int = 0
    inserted: int = 0
    no_metadata: int = 0
    dead_letters: int = 0


@dataclass
class _Chunk:
    rows: int = 0
    rejects: list[str] = field(default_factory=list)
    picked: list[pa.RecordBatch] = field(default_factory=list)
    candidates: pa.Table | None = None  # valid rows of candidates_sql, numbered


class InventoryFileLoad:
    """Loads data files into `store` with one DuckDB working database and metadata memo,
    counting into `result`."""

    def __init__(
        self,
        store: Store,
        resolver: MetadataResolver,
        *,
        products: tuple[str, ...],
        newer_than: str | None,
        dead_letter_source: str,
        result: InventoryResult,
    ) -> None:
        self.store, self.resolver, self.products = store, resolver, products
        self.source = dead_letter_source
        self.result = result
        self._params = candidates_params(resolver.archive.base_url, newer_than)
        # wait key → merged parts, of the MEMO_URLS groups met last (as the resolver's memo)
        self._groups: OrderedDict[str, dict[str, Any] | None] = OrderedDict()
        self._next_candidate = 0
        self._work = duckdb.connect()
        # One thread and a small memory limit: a chunk's queries are small, and the CSV reader
        # and the store want the other core (two threads cost a third more CPU for the same
        # chunk); freed memory goes back at once (pipelines.memory).
        self._work.execute(
            "SET TimeZone = 'UTC'; SET memory_limit = '32MB'; SET threads = 1;"
            " SET allocator_flush_threshold = '16MB'"
        )
        self._records = self._work.cursor()  # the storing thread's own connection
        schema = store.table("builds").arrow_schema(store.table("builds").column_names)
        self._schema = pa.schema([*schema, *_ORDER])

    def close(self) -> None:
        self._records.close()
        self._work.close()

    def load(
        self,
        batches: Iterator[InventoryBatch],
        progress: Callable[[int], None] | None,
        *,
        intact: Callable[[], bool],
    ) -> bool:
        """Every batch of one data file: candidates, metadata, records, dead letters.

        Four stages overlap: one thread reads the next chunk, one derives chunks in DuckDB,
        one fetches their metadata and this one stores; up to PREFETCH_CHUNKS chunks wait to
        be stored.
        `intact()` (whose answer never changes) is asked before each commit; when it says no,
        nothing is stored and this returns False.
        """
        with (
            ThreadPoolExecutor(max_workers=1) as reading,
            ThreadPoolExecutor(max_workers=1) as deriving,
            ThreadPoolExecutor(max_workers=1) as fetching,
        ):
            ahead: deque[tuple[Future[_Chunk], Future[pa.Table]]] = deque()
            for picked in _read_ahead(self._chunks(batches), reading):
                derived = deriving.submit(self._derived, picked)
                groups = fetching.submit(self._resolve_when_derived, derived)
                ahead.append((derived, groups))
                if len(ahead) > PREFETCH_CHUNKS:
                    if not intact():
                        return False
                    self._store_chunk(*ahead.popleft(), progress)
            if not intact():
                return False
            while ahead:
                self._store_chunk(*ahead.popleft(), progress)
        return True

    def _chunks(self, batches: Iterator[InventoryBatch]) -> Iterator[_Chunk]:
        chunk, picked = _Chunk(), 0
        for batch in batches:
            chunk.rows += batch.total
            chunk.rejects += batch.rejects
            chunk.picked.append(batch.rows)
            picked += batch.rows.num_rows
            if picked >= CHUNK_CANDIDATES:
                yield chunk
                chunk, picked = _Chunk(), 0
        yield chunk

    def _derived(self, chunk: _Chunk) -> _Chunk:
        """The chunk's rows judged in one DuckDB query (dense vectors, one plan)."""
        if not chunk.picked:
            return chunk
        self._work.register(INVENTORY_ROWS, pa.Table.from_batches(chunk.picked))
        found = self._work.sql(candidates_sql(), params=self._params).to_arrow_table()
        invalid = found.filter(pc.invert(found.column("valid")))
        columns = ("bucket", "key", "size_text", "modified")
        chunk.rejects += csv_lines(
            zip(*(invalid.column(c).to_pylist() for c in columns), strict=True)
        )
        wanted = pc.and_(
            found.column("valid"), pc.and_(found.column("fresh"), pc.invert(found.column("skip")))
        )
        valid = found.filter(wanted)
        first = self._next_candidate
        self._next_candidate += valid.num_rows
        numbers = pa.array(range(first, self._next_candidate), pa.int64())
        chunk.candidates = valid.append_column("candidate", numbers)
        chunk.picked = []
        return chunk

    def _resolve_when_derived(self, derived: Future[_Chunk]) -> pa.Table:
        return self._resolve_groups(derived.result())

    def _resolve_groups(self, chunk: _Chunk) -> pa.Table:
        """The merged metadata parts of the chunk's groups (fetched once per wait key while
        it is among the MEMO_URLS met last)."""
        if chunk.candidates is None:
            return _GROUP_SCHEMA.empty_table()
        fast = chunk.candidates.filter(chunk.candidates.column("fast"))
        # Each group's first row (a nightly's hundreds of locales share one group).
        heads = fast.group_by("wait_key", use_threads=False).aggregate(
            [(c, "first") for c in ("key", "size", "date")]
        )
        wanted = heads.column("wait_key").to_pylist()
        known = {w: self._groups[w] for w in wanted if w in self._groups}
        firsts: dict[str, ArchiveCandidate | None] = {}
        for wait_key, key, size, date in zip(
            wanted,
            *(heads.column(f"{c}_first").to_pylist() for c in ("key", "size", "date")),
            strict=True,
        ):
            if wait_key not in known:
                firsts[wait_key] = self._derive(key, size, date)
        records = {w: c for w, c in firsts.items() if c is not None}
        found = self.resolver.resolve_all([c.record for c in records.values()])
        for (wait_key, candidate), outcome in zip(records.items(), found, strict=True):
            known[wait_key] = group_parts(self.resolver, wait_key, candidate, outcome)
        for wait_key in firsts.keys() - records.keys():
            known[wait_key] = None
        for wait_key in wanted:  # in the chunk's order: its last groups may go on in the next
            keep_recent(self._groups, wait_key, known[wait_key], MEMO_URLS)
        parts = [known[w] for w in wanted]
        return pa.Table.from_pylist([p for p in parts if p is not None], schema=_GROUP_SCHEMA)

    def _derive(self, key: str, size: int, date: str) -> ArchiveCandidate | None:
        base = self._params["archive_url"]
        assert isinstance(base, str)
        return derive_candidate(key, archive_url=base, products=self.products, size=size, date=date)

    def _store_chunk(
        self,
        derived: Future[_Chunk],
        fetching: Future[pa.Table],
        progress: Callable[[int], None] | None,
    ) -> None:
        chunk, groups = derived.result(), fetching.result()
        candidates = chunk.candidates
        fast = (
            self._schema.empty_table()
            if candidates is None
            else self._fast_records(candidates, groups).cast(self._schema)
        )
        slow, done, judged = self._slow_records(candidates, fast)
        table = pa.concat_tables([fast, slow])
        del fast, slow
        try:
            inserted = self._commit(table, chunk, done, plain=True)
        except KeyConflict:
            # Another writer stored one of these builds after new_rows looked: judge again.
            inserted = self._commit(table, chunk, done, plain=False)
        counts = self.result
        counts.rows += chunk.rows
        counts.candidates += judged
        counts.inserted += inserted
        counts.no_metadata += len(done.waiting)
        counts.dead_letters += len(chunk.rejects) + len(done.rejects)
        if progress:
            progress(chunk.rows)

    def _commit(self, table: pa.Table, chunk: _Chunk, done: Completion, *, plain: bool) -> int:
        """Store the chunk's new records and its dead letters in one transaction; how many
        records were stored. `plain` inserts what new_rows keeps with no merge, its keys checked
        by one join at commit (a merge's key probes took twice the CPU); else a merge."""
        # Only the order and the columns new_rows reads are sorted, so the records are copied
        # once, into the rows to store (a chunk's records are ~25 MB).
        order = pc.sort_indices(table, sort_keys=[(name, "ascending") for name, _ in _ORDER])
        keys = table.select(["candidate", "record_id", "build_hash"]).take(order)
        with self.store.transaction() as tx:
            take_turn(tx)
            keep = new_rows(
                tx,
                groups=keys.column("candidate").to_pylist(),
                record_ids=keys.column("record_id").to_pylist(),
                hashes=keys.column("build_hash").to_pylist(),
            )
            kept = order.filter(pa.array(keep, pa.bool_()))
            fresh = table.take(kept).drop_columns([n for n, _ in _ORDER])
            if plain:
                tx.insert_arrow("builds", fresh)
            else:
                tx.insert_ignore_arrow("builds", fresh)
            unreadable = "inventory row cannot be read"
            tx.dead_letters((self.source, None, unreadable, line) for line in chunk.rejects)
            tx.dead_letters(done.reject_letters(self.source))
        return int(fresh.num_rows)

    def _fast_records(self, candidates: pa.Table, groups: pa.Table) -> pa.Table:
        """Records of fast rows whose group's metadata merged and checked, built in SQL."""
        fast = candidates.filter(candidates.column("fast"))
        versions = sorted(set(fast.column("version").to_pylist()))
        work = self._records
        work.register("fast_rows", fast)
        work.register("group_metadata", groups)
        work.register(
            "version_keys",
            pa.table({"version": versions, "version_key": [version_sort_key(v) for v in versions]}),
        )
        params = {"origin": ORIGIN, "created_at": datetime.now(UTC)}
        return work.sql(records_sql(), params=params).to_arrow_table()

    def _slow_records(
        self, candidates: pa.Table | None, fast: pa.Table
    ) -> tuple[pa.Table, Completion, int]:
        """Rows SQL left to Python, derived, completed and checked one by one; with what
        completing them gave and how many candidates the chunk held in all."""
        built = set(fast.column("candidate").to_pylist())
        numbered: list[tuple[int, ArchiveCandidate]] = []
        derived = len(built)
        if candidates is not None:
            columns = ("candidate", "key", "size", "date")
            for number, key, size, date in zip(
                *(candidates.column(c).to_pylist() for c in columns), strict=True
            ):
                if number in built:
                    continue
                candidate = self._derive(key, size, date)
                if candidate is not None:
                    numbered.append((number, candidate))
        derived += len(numbered)
        done = complete_candidates(self.resolver, [c for _, c in numbered], origin=ORIGIN)
        number_of = {id(c): n for n, c in numbered}
        rows = [
            {**row, "candidate": number_of[id(source)], "copy": copy}
            for group, source in zip(done.groups, done.sources, strict=True)
            for copy, row in enumerate(group)
        ]
        return pa.Table.from_pylist(rows, schema=self._schema), done, derived


def _read_ahead(chunks: Iterator[_Chunk], reading: ThreadPoolExecutor) -> Iterator[_Chunk]:
    """The chunks, each read by `reading` while the caller stores the ones before: a commit
    (its WAL write, a checkpoint) no longer holds the reader up."""
    upcoming = reading.submit(next, chunks, None)
    while (chunk := upcoming.result()) is not None:
        upcoming = reading.submit(next, chunks, None)
        yield chunk


def group_parts(
    resolver: MetadataResolver,
    wait_key: str,
    candidate: ArchiveCandidate,
    outcome: tuple[dict[str, Any] | None, str] | SourceError,
) -> dict[str, Any] | None:
    """A group's shared record parts, from one of its records merged and checked in Python;
    None (the group goes the Python way) when anything is off."""
    if isinstance(outcome, SourceError) or outcome[0] is None:
        return None
    if resolver.wait_key(candidate.record) != wait_key:
        return None
    metadata = outcome[0]
    merged = merge_metadata(candidate.record, metadata)
    try:
        row = rows_of(candidate.record_id, merged, ORIGIN)[0]
    except SourceError:
        return None
    source = {k: v for k, v in merged["source"].items() if k != "product"}
    rest = json.dumps(source, sort_keys=True)[1:-1]
    channel = merged["target"]["channel"] if "moz_update_channel" in metadata else None
    return {
        "wait_key": wait_key,
        "build_json": json.dumps(merged["build"], sort_keys=True),
        "source_json": f", {rest}" if rest else "",
        "channel": channel,
        "channel_json": None if channel is None else json.dumps(channel),
        **{k: row[k] for k in ("build_id", "build_date", "build_number")},
        **{k: row[k] for k in ("revision", "repository", "tree")},
    }
