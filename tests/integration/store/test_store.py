"""The store on both engines: idempotent writes, atomic checkpoints, dead letters, export."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pyarrow.dataset as ds
import pytest

from shipgauge.errors import NotFound, StoreError
from shipgauge.store import Store
from shipgauge.store.dead_letters import (
    Letter,
    get_dead_letter,
    list_dead_letters,
    purge_dead_letters,
)
from shipgauge.store.lake import export_lake
from shipgauge.store.tokens import create_token, revoke_token, verify_token

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _meta_rows(n: int, value: str = "v") -> list[dict[str, str]]:
    return [{"key": f"k{i:06d}", "value": f"{value}{i}"} for i in range(n)]


def test_migrate_records_level_and_reopen_is_idempotent(store_url: str) -> None:
    with Store.open(store_url) as first:
        level = first.migration_level()
        assert level >= 1
        names = {t.name for t in first.tables()}
        assert {"ingest_checkpoints", "dead_letters", "api_tokens", "schema_migrations"} <= names
    with Store.open(store_url) as again:
        assert again.migration_level() == level
        assert again.count("schema_migrations") == level


def test_upsert_replaying_a_batch_changes_no_row_count(store: Store) -> None:
    rows = _meta_rows(5_000)
    with store.transaction() as tx:
        tx.upsert("store_meta", rows)
    before = store.count("store_meta")
    with store.transaction() as tx:
        tx.upsert("store_meta", rows)
        tx.insert_ignore("store_meta", rows)
    assert store.count("store_meta") == before
    assert store.query("SELECT value FROM store_meta WHERE key = 'k004999'").scalar() == "v4999"


def test_upsert_updates_and_insert_ignore_keeps(store: Store) -> None:
    with store.transaction() as tx:
        tx.upsert("store_meta", [{"key": "a", "value": "1"}])
        tx.insert_ignore("store_meta", [{"key": "a", "value": "ignored"}])
    assert store.query("SELECT value FROM store_meta WHERE key = 'a'").scalar() == "1"
    with store.transaction() as tx:
        tx.upsert("store_meta", [{"key": "a", "value": "2"}, {"key": "a", "value": "3"}])
    assert store.query("SELECT value FROM store_meta WHERE key = 'a'").scalar() == "3"


def test_upsert_update_where_keeps_a_final_row(store: Store) -> None:
    # The shape task_runs uses: a row marked final is never overwritten by a later message.
    with store.transaction() as tx:
        tx.upsert("store_meta", [{"key": "run", "value": "final:completed"}])
        tx.upsert(
            "store_meta",
            [{"key": "run", "value": "running"}],
            update_where="store_meta.value NOT LIKE 'final:%'",
        )
    assert (
        store.query("SELECT value FROM store_meta WHERE key = 'run'").scalar() == "final:completed"
    )


def test_upsert_unknown_column_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError, match="no column 'nope'"), store.transaction() as tx:
        tx.upsert("store_meta", [{"key": "a", "value": "1", "nope": 2}])


def test_upsert_100k_row_batch(store: Store) -> None:
    rows = _meta_rows(100_000)
    with store.transaction() as tx:
        assert tx.upsert("store_meta", rows) == 100_000
    assert store.count("store_meta") == 100_000 + 1  # + the models digest row


def test_checkpoint_and_rows_roll_back_together(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.upsert("store_meta", _meta_rows(10))
        tx.set_checkpoint("test:source", 42)
        raise RuntimeError("crash between write and commit")
    assert store.checkpoint("test:source") is None
    assert store.query("SELECT count(*) FROM store_meta WHERE key LIKE 'k%'").scalar() == 0
    with store.transaction() as tx:
        tx.upsert("store_meta", _meta_rows(10))
        tx.set_checkpoint("test:source", 42)
    assert store.checkpoint("test:source") == "42"


_WRITER = """
import sys, time
from shipgauge.store import Store
store = Store.open(sys.argv[1])
with store.transaction() as tx:
    tx.upsert("store_meta", [{"key": f"k{i}", "value": "x"} for i in range(1000)])
    print("written", flush=True)
    time.sleep(60)
    tx.set_checkpoint("killed:writer", 1)
"""


def test_killed_writer_leaves_neither_rows_nor_checkpoint(store_url: str) -> None:
    Store.open(store_url).close()
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, store_url], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "written"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(10)
    with Store.open(store_url) as store:
        assert store.checkpoint("killed:writer") is None
        assert store.query("SELECT count(*) FROM store_meta WHERE key LIKE 'k%'").scalar() == 0


def test_dead_letters_in_one_write_keep_what_one_at_a_time_kept(store: Store) -> None:
    """The same bad input twice in one write is one letter: its first key, its last error."""
    letters: list[Letter] = [
        ("test.source", "line 1", "not JSON", b"{"),
        ("test.source", "line 2", "no kind", b'{"service": "web"}'),
        ("test.source", "line 3", "still not JSON", "{"),
    ]
    with store.transaction() as tx:
        first, second = tx.dead_letters(letters)
    assert {(d.key, d.error) for d in list_dead_letters(store)} == {
        ("line 1", "still not JSON"),
        ("line 2", "no kind"),
    }
    assert get_dead_letter(store, first).payload == b"{"
    assert get_dead_letter(store, second).payload == b'{"service": "web"}'


def test_dead_letter_keeps_raw_payload_byte_for_byte(store: Store) -> None:
    payload = b'{"broken": \xff\x00\x01 not json'
    with store.transaction() as tx:
        letter_id = tx.dead_letter("test.source", "msg-1", "not JSON", payload)
    with store.transaction() as tx:  # the same bad input again: still one letter
        assert tx.dead_letter("test.source", "msg-1", "not JSON", payload) == letter_id
    letter = get_dead_letter(store, letter_id)
    assert letter.payload == payload
    assert (letter.source, letter.key, letter.error) == ("test.source", "msg-1", "not JSON")
    assert [d.id for d in list_dead_letters(store)] == [letter_id]
    assert purge_dead_letters(store, source="test.source") == 1
    with pytest.raises(NotFound):
        get_dead_letter(store, letter_id)


def test_models_load_in_dependency_order(store: Store) -> None:
    # ingest_status reads dead_letter_summary, so it must be created after it.
    with store.transaction() as tx:
        tx.set_checkpoint("hg:integration/autoland", 1234)
        tx.dead_letter("hg:integration/autoland", None, "bad push", b"{}")
        tx.dead_letter("pulse:tasks", None, "bad message", b"[]")
    rows = store.query(
        "SELECT source, position, dead_letters FROM ingest_status ORDER BY source"
    ).rows
    assert rows == [("hg:integration/autoland", "1234", 1), ("pulse:tasks", None, 1)]


def test_export_writes_hive_partitioned_parquet(store: Store, tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path)) / "lake"
    with store.transaction() as tx:
        for day in range(3):
            tx.dead_letter("src", f"k{day}", "bad", f"payload {day}".encode())
        tx.execute("UPDATE dead_letters SET received_at = ? WHERE key = 'k0'", [T0])
        tx.execute(
            "UPDATE dead_letters SET received_at = ? WHERE key <> 'k0'", [T0 + timedelta(days=1)]
        )
    only = ["dead_letters", "store_meta"]
    exported = {e.name: e for e in export_lake(store, folder, only=only, models=False)}
    assert exported["dead_letters"].rows == 3
    assert exported["dead_letters"].partitioned_by == "received_at"
    days = sorted(p.name for p in (folder / "dead_letters").iterdir() if p.is_dir())
    assert days == ["day=2026-11-01", "day=2026-11-02"]
    table = ds.dataset(folder / "dead_letters", format="parquet", partitioning="hive").to_table()
    assert sorted(table.column("key").to_pylist()) == ["k0", "k1", "k2"]
    assert sorted(table.column("payload").to_pylist())[0] == b"payload 0"
    assert exported["store_meta"].partitioned_by is None


def test_tokens_verify_and_revoke(store: Store) -> None:
    token = create_token(store, service="mozilla-central", scopes=["events:write"])
    found = verify_token(store, token)
    assert found is not None and found.allows("events:write", "mozilla-central")
    assert not found.allows("events:write", "other-repo")
    assert not found.allows("admin")
    assert verify_token(store, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert verify_token(store, "garbage") is None
    revoke_token(store, found.token_id)
    revoked = verify_token(store, token)
    assert revoked is not None and revoked.revoked_at is not None
    assert not revoked.allows("events:write", "mozilla-central")
    with pytest.raises(NotFound):
        revoke_token(store, "nope")


def test_open_refuses_with_one_line() -> None:
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL") as info:
        Store.open("postgresql://nobody@127.0.0.1:1/none")
    assert "\n" not in str(info.value)
    with pytest.raises(StoreError, match="folder /nonexistent/dir does not exist"):
        Store.open("/nonexistent/dir/x.duckdb")


def test_list_dead_letters_of_one_source(store: Store) -> None:
    # Two parameters (source, limit): PostgreSQL must number them in text order.
    with store.transaction() as tx:
        kept = tx.dead_letter("a", "1", "bad", b"1")
        tx.dead_letter("b", "2", "bad", b"2")
    assert [d.id for d in list_dead_letters(store, source="a", limit=5)] == [kept]


def test_small_batch_into_large_table_updates_and_keeps_final_rows(store: Store) -> None:
    # On DuckDB a batch this small next to its table merges through ON CONFLICT, not the joins.
    with store.transaction() as tx:
        tx.upsert("store_meta", _meta_rows(2_000))
        tx.upsert("store_meta", [{"key": "k000001", "value": "final:done"}])
    with store.transaction() as tx:
        tx.upsert(
            "store_meta",
            [{"key": "k000001", "value": "late"}, {"key": "k000002", "value": "new"}],
            update_where="store_meta.value NOT LIKE 'final:%'",
        )
        tx.insert_ignore(
            "store_meta", [{"key": "k000003", "value": "ignored"}, {"key": "z", "value": "z"}]
        )
    values = dict(
        store.query(
            "SELECT key, value FROM store_meta WHERE key IN ('k000001','k000002','k000003','z')"
        ).rows
    )
    assert values == {"k000001": "final:done", "k000002": "new", "k000003": "v3", "z": "z"}
