"""`builds events FILE…`: every file checked first, then stored a batch of files at a time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipgauge.errors import SourceError
from shipgauge.pipelines.builds import notifications
from shipgauge.pipelines.builds.connectors import BuildhubConnectors
from shipgauge.store import Store


def _no_key(bucket: str) -> object:
    """A notification whose record names no object: a dead letter, as from a queue."""
    return {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}}}]}


NOT_A_BUILD = {"Records": [{"s3": {"bucket": {"name": "b"}, "object": {"key": "favicon.ico"}}}]}


def _files(tmp_path: Path, *docs: object) -> list[tuple[str, Path]]:
    paths = []
    for number, doc in enumerate(docs):
        path = tmp_path / f"event-{number}.json"
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
        paths.append((path.name, path))
    return paths


def test_files_are_stored_a_batch_at_a_time_and_a_replay_changes_nothing(
    tmp_path: Path,
    connectors: BuildhubConnectors,
    duckdb_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(notifications, "EVENT_FILES_PER_COMMIT", 2)
    files = [
        (n, p.read_bytes)
        for n, p in _files(tmp_path, _no_key("a"), NOT_A_BUILD, _no_key("c"), _no_key("d"))
    ]
    with Store.open(duckdb_url) as store:
        done = notifications.ingest_event_files(store, connectors, files, max_depth=64)
        assert (done.messages, done.events, done.ignored, done.dead_letters) == (4, 1, 1, 3)
        letters = store.query("SELECT key, error FROM dead_letters ORDER BY key").rows
        assert letters == [
            (f"event-{n}.json", "S3 event record without s3.object.key") for n in (0, 2, 3)
        ]
        again = notifications.ingest_event_files(store, connectors, files, max_depth=64)
        assert again.messages == 4 and store.count("dead_letters") == 3


def test_a_file_that_is_not_a_notification_stores_nothing(
    tmp_path: Path, connectors: BuildhubConnectors, duckdb_url: str
) -> None:
    files = [(n, p.read_bytes) for n, p in _files(tmp_path, _no_key("a"), _no_key("b"), "not json")]
    with Store.open(duckdb_url) as store:
        with pytest.raises(SourceError, match=r"event-2\.json"):
            notifications.ingest_event_files(store, connectors, files, max_depth=64)
        assert store.count("dead_letters") == 0


def test_a_file_that_changes_between_its_check_and_its_batch_stops_the_run(
    tmp_path: Path, connectors: BuildhubConnectors, duckdb_url: str
) -> None:
    (name, path), *_ = _files(tmp_path, _no_key("a"))
    reads = iter([path.read_bytes(), b"not json any more"])
    with Store.open(duckdb_url) as store:
        with pytest.raises(SourceError, match=r"event-0\.json: changed while it was being read"):
            notifications.ingest_event_files(
                store, connectors, [(name, lambda: next(reads))], max_depth=64
            )
        assert store.count("dead_letters") == 0
