"""The store's write path on both engines: Arrow tables handed in directly, every column type,
rows lacking columns, duplicates on a composite key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from shipgauge.errors import StoreError
from shipgauge.store import KeyConflict, Store

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
PROBE_DDL = """
CREATE TABLE probe (
    group_id VARCHAR NOT NULL, item INTEGER NOT NULL, label VARCHAR, size BIGINT, share DOUBLE,
    done BOOLEAN, seen_at TIMESTAMPTZ, day DATE, extra JSON, raw BLOB,
    PRIMARY KEY (group_id, item)
)"""
SELECT_PROBE = (
    "SELECT group_id, item, label, size, share, done, seen_at, day, CAST(extra AS VARCHAR), raw"
    " FROM probe ORDER BY group_id, item"
)


@pytest.fixture(params=["duckdb", "postgres", "duckdb, key not indexed"])
def probe(request: pytest.FixtureRequest) -> Iterator[Store]:
    """The probe table on each engine, and on DuckDB also as tasks and task_runs are there: its
    key declared in `table_keys` rather than indexed (migration 0009)."""
    engine, _, unindexed = request.param.partition(", ")
    url = request.getfixturevalue("duckdb_url" if engine == "duckdb" else "pg_schema_url")
    with Store.open(url) as store:
        with store.transaction() as tx:
            if unindexed:
                tx.execute(PROBE_DDL.replace(",\n    PRIMARY KEY (group_id, item)", ""))
                tx.execute("INSERT INTO table_keys VALUES ('probe', 1, 'group_id')")
                tx.execute("INSERT INTO table_keys VALUES ('probe', 2, 'item')")
            else:
                tx.execute(PROBE_DDL)
        info = store.table("probe")
        assert (info.primary_key, info.key_indexed) == (("group_id", "item"), not unindexed)
        yield store


def _row(group_id: str, item: int, label: str | None) -> dict[str, object]:
    return {
        "group_id": group_id,
        "item": item,
        "label": label,
        "size": 2**40 + item,
        "share": 0.25,
        "done": item % 2 == 0,
        "seen_at": T0,
        "day": date(2026, 11, 1),
        "extra": {"k": [item, "é"]},
        "raw": b"\x00\xff" + bytes([item]),
    }


def test_every_column_type_round_trips(probe: Store) -> None:
    rows = [_row("g", 1, 'a,"b"\nc'), _row("g", 2, ""), _row("h", 1, None)]
    with probe.transaction() as tx:
        assert tx.upsert("probe", rows) == 3
    got = probe.query(SELECT_PROBE).rows
    assert [r[:4] for r in got] == [
        ("g", 1, 'a,"b"\nc', 2**40 + 1),
        ("g", 2, "", 2**40 + 2),
        ("h", 1, None, 2**40 + 1),
    ]
    assert got[0][4:7] == (0.25, False, T0)
    assert got[0][7] == date(2026, 11, 1)
    assert json.loads(got[0][8]) == {"k": [1, "é"]}
    assert bytes(got[0][9]) == b"\x00\xff\x01"


def test_upsert_arrow_updates_and_last_duplicate_wins(probe: Store) -> None:
    with probe.transaction() as tx:
        tx.upsert("probe", [_row("g", 1, "old"), _row("g", 2, "old")])
    data = pa.table(
        {
            "item": pa.array([1, 3, 1], pa.int64()),  # cast to INTEGER; order differs from table
            "group_id": ["g", "g", "g"],
            "label": ["first", "new", "last"],
            "seen_at": pa.array([T0.replace(tzinfo=None)] * 3, pa.timestamp("us")),
        }
    )
    with probe.transaction() as tx:
        assert tx.upsert_arrow("probe", data) == 2
    got = probe.query("SELECT item, label, size, seen_at FROM probe ORDER BY item").rows
    # Columns the Arrow table lacks keep their values; new rows get NULL there.
    assert got == [(1, "last", 2**40 + 1, T0), (2, "old", 2**40 + 2, T0), (3, "new", None, T0)]


@pytest.fixture
def kept(probe: Store) -> Store:
    """The probe table holding one row, ("g", 1) labelled "kept"."""
    with probe.transaction() as tx:
        tx.upsert("probe", [_row("g", 1, "kept")])
    return probe


def test_insert_ignore_arrow_keeps_existing_rows(kept: Store) -> None:
    probe = kept
    data = pa.table({"group_id": ["g", "g"], "item": [1, 2], "label": ["ignored", "added"]})
    with probe.transaction() as tx:
        assert tx.insert_ignore_arrow("probe", data) == 2
        assert tx.insert_ignore_arrow("probe", data.slice(0, 0)) == 0
    got = probe.query("SELECT item, label FROM probe ORDER BY item").rows
    assert got == [(1, "kept"), (2, "added")]


def test_insert_arrow_adds_new_rows_and_refuses_a_stored_or_repeated_key(kept: Store) -> None:
    probe = kept
    new = pa.table({"group_id": ["g", "h"], "item": [2, 1], "label": ["added", "added"]})
    with probe.transaction() as tx:
        assert tx.insert_arrow("probe", new.slice(0, 0)) == 0
        assert tx.insert_arrow("probe", new) == 2
    stored = pa.table({"group_id": ["i", "g"], "item": [1, 1], "label": ["x", "x"]})
    repeated = pa.table({"group_id": ["j", "j"], "item": [1, 1], "label": ["x", "y"]})
    for data in (stored, repeated):
        with pytest.raises(KeyConflict), probe.transaction() as tx:
            tx.set_checkpoint("probe", 1)
            tx.insert_arrow("probe", data)
    # The spoilt transactions rolled back whole; the store takes writes again.
    assert probe.checkpoint("probe") is None
    with probe.transaction() as tx:
        tx.upsert_arrow("probe", repeated)
    got = probe.query("SELECT group_id, item, label FROM probe ORDER BY group_id, item").rows
    assert got == [("g", 1, "kept"), ("g", 2, "added"), ("h", 1, "added"), ("j", 1, "y")]


def test_upsert_rows_lacking_columns_updates_only_what_they_carry(probe: Store) -> None:
    with probe.transaction() as tx:
        tx.upsert("probe", [_row("g", i, "old") for i in range(3)])
    with probe.transaction() as tx:
        tx.upsert("probe", [{"group_id": "g", "item": i, "label": "new"} for i in range(2, 5)])
        tx.upsert("probe", [{"group_id": "g", "item": 0, "share": 0.5}], update=["share", "size"])
    got = probe.query("SELECT item, label, size, share FROM probe ORDER BY item").rows
    assert got == [
        (0, "old", 2**40, 0.5),
        (1, "old", 2**40 + 1, 0.25),
        (2, "new", 2**40 + 2, 0.25),
        (3, "new", None, None),
        (4, "new", None, None),
    ]


def test_arrow_writes_refuse_unknown_columns_and_missing_keys(probe: Store) -> None:
    with pytest.raises(StoreError, match="no column 'nope'"), probe.transaction() as tx:
        tx.upsert_arrow("probe", pa.table({"group_id": ["g"], "item": [1], "nope": [1]}))
    with pytest.raises(StoreError, match="lacks key column 'item'"), probe.transaction() as tx:
        tx.insert_ignore_arrow("probe", pa.table({"group_id": ["g"]}))
    with pytest.raises(StoreError, match="lacks key column 'item'"), probe.transaction() as tx:
        tx.upsert("probe", [{"group_id": "g", "item": 1}, {"group_id": "g", "item": None}])
    assert probe.count("probe") == 0
