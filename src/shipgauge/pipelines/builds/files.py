"""`shipgauge builds import`: build records from local files, as the S3 paths store them.

A path is a `buildhub.json` file, a folder (every `*buildhub.json` under it), or a JSON-lines
file (`.jsonl`, `.ndjson`: one Buildhub2 record a line). Each document goes through the same
check, beta copy and insert as a backfilled `buildhub.json` (`records.buildhub_json_rows`);
one that is refused becomes a dead letter. Records are insert-or-ignore on their hash, so
importing the same files again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from shipgauge.errors import BadRequest, SourceError
from shipgauge.pipelines.builds.records import (
    RowGroup,
    buildhub_json_rows,
    insert_buildhub_json,
    insert_groups,
    take_turn,
)
from shipgauge.pipelines.memory import bounded_memory
from shipgauge.store import Store, Transaction
from shipgauge.store.dead_letters import DeadLetter

__all__ = ["FILE_SOURCE", "FileImportResult", "import_build_files", "retry_file"]

FILE_SOURCE = "buildhub.file"
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
BATCH = 1000  # documents per transaction
# The store's memory limit, with a checkpoint every 2 MB of WAL (rows not yet checkpointed
# cannot leave memory). 24 MB ran out at 20,000 records. 128 MB let the store's buffers fill it:
# 224 MB at 20,000 records, 321 MB at 200,000 (+43 %), where this gives 217 / 226 MB (+4 %);
# `builds` has no key index to grow with the catalogue (migration 12).
STORE_MEMORY_LIMIT = "32MiB"
STORE_OPTIONS = {"checkpoint_threshold": "2MB"}


@dataclass
class FileImportResult:
    """What an import did: files read, documents found, rows inserted, documents refused."""

    files: int = 0
    documents: int = 0
    inserted: int = 0
    dead_letters: int = 0


def import_build_files(store: Store, paths: Sequence[Path]) -> FileImportResult:
    """Store the build records of `paths`; BadRequest naming a path that does not exist."""
    for path in paths:
        if not path.exists():
            raise BadRequest(f"{path}: no such file or folder", field="PATHS")  # the argument
    result = FileImportResult()
    batch: list[tuple[str, bytes]] = []
    # Without a limit the store's buffers keep every block written: 566 MB for 200,000 records.
    with bounded_memory(store, STORE_MEMORY_LIMIT, STORE_OPTIONS):
        for where, body in _documents(paths, result):
            batch.append((where, body))
            if len(batch) >= BATCH:
                _store_batch(store, batch, result)
                batch = []
        _store_batch(store, batch, result)
    return result


def _files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        yield from _folder_files(path) if path.is_dir() else (path,)


def _folder_files(folder: Path) -> Iterator[Path]:
    """The readable files under `folder` in sorted path order, holding one folder's entries at
    a time (a sort of every path held them all: a whole archive mirror's)."""
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            yield from _folder_files(entry)
        elif entry.is_file() and _readable_name(entry.name):
            yield entry


def _readable_name(name: str) -> bool:
    return name.endswith("buildhub.json") or name.endswith(JSON_LINES_SUFFIXES)


def _documents(paths: Sequence[Path], result: FileImportResult) -> Iterator[tuple[str, bytes]]:
    """(where, document bytes): a whole file, or each non-blank line of a JSON-lines file."""
    for path in _files(paths):
        result.files += 1
        if not path.name.endswith(JSON_LINES_SUFFIXES):
            yield str(path), path.read_bytes()
            continue
        with path.open("rb") as handle:  # streamed: a JSON-lines file can be any size
            # Numbered as `bytes.splitlines` of the whole file numbers them (a lone \r ends one).
            lines = (part for line in handle for part in line.splitlines())
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    yield f"{path}:{number}", line


def _store_batch(store: Store, batch: list[tuple[str, bytes]], result: FileImportResult) -> None:
    if not batch:
        return
    groups: list[RowGroup] = []
    with store.transaction() as tx:
        take_turn(tx)
        for where, body in batch:
            result.documents += 1
            try:
                groups.append(buildhub_json_rows(body, what=where, origin="file"))
            except SourceError as exc:
                tx.dead_letter(FILE_SOURCE, where, exc.message, body)
                result.dead_letters += 1
        # One insert for the batch, in order: one per document cost ~8 ms of store round trips.
        result.inserted += insert_groups(tx, groups)


def retry_file(tx: Transaction, letter: DeadLetter) -> None:
    """Check a dead-lettered document again and insert it (after the record was fixed)."""
    insert_buildhub_json(tx, letter.payload, what=letter.key or FILE_SOURCE, origin="file")
