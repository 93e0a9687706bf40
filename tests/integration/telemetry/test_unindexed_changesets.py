"""changesets and hgpush_pings on DuckDB: keys declared, not indexed (migration 13), so that a
writer's memory does not grow with them; a backfill replayed after the migration sends and
stores nothing new."""

from __future__ import annotations

import pyarrow as pa
import pytest

import shipgauge.store.store as store_module
from shipgauge.pipelines.telemetry import BackfillResult, TelemetryServices, backfill
from shipgauge.store import KeyConflict, Store
from tests.conftest import column_shapes
from tests.integration.telemetry.fake_mozilla import FakeMozilla, serve_recorded_pushlog

CENTRAL = "https://hg.mozilla.org/mozilla-central"
TABLES = ("pushes", "changesets", "hgpush_pings")


def _rows(store: Store) -> dict[str, list[tuple[object, ...]]]:
    return {t: store.query(f"SELECT * FROM {t} ORDER BY ALL").rows for t in TABLES}


def _backfill(store: Store, services: TelemetryServices) -> BackfillResult:
    return backfill(store=store, services=services, repo_url=CENTRAL, start_id=33267, end_id=33277)


def test_migration_13_keeps_an_older_stores_pings_and_a_replay_adds_nothing(
    duckdb_url: str,
    mozilla: FakeMozilla,
    services: TelemetryServices,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serve_recorded_pushlog(mozilla)
    every = store_module._migrations
    monkeypatch.setattr(store_module, "_migrations", lambda: [m for m in every() if m[0] <= 12])
    with Store.open(duckdb_url) as old:
        first = _backfill(old, services)
        before, shapes = _rows(old), {t: column_shapes(old, t) for t in TABLES}
        assert first.pings.sent == len(before["hgpush_pings"]) == len(before["changesets"]) > 0
        assert old.table("changesets").key_indexed and old.table("hgpush_pings").key_indexed
    monkeypatch.setattr(store_module, "_migrations", every)
    with Store.open(duckdb_url) as new:
        assert not new.table("changesets").key_indexed
        assert not new.table("hgpush_pings").key_indexed
        assert new.table("pushes").key_indexed
        assert _rows(new) == before
        assert {t: column_shapes(new, t) for t in TABLES} == shapes  # every NOT NULL and type kept
        again = _backfill(new, services)
        sent = first.pings.sent
        assert (again.changesets, again.already_sent, again.pings.sent) == (sent, sent, 0)
        assert _rows(new) == before
        stored = new.query("SELECT repo, node, push_id, position_in_push FROM changesets LIMIT 1")
        again_row = pa.table({c: [stored.rows[0][i]] for i, c in enumerate(stored.columns)})
        with pytest.raises(KeyConflict, match="already stored"), new.transaction() as tx:
            tx.insert_arrow("changesets", again_row)
        assert _rows(new) == before
    assert len(mozilla.pings()) == first.pings.sent
