"""`lake export`: the same files from both engines, and only what changed written again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from shipgauge.cli import app
from shipgauge.store import Store
from shipgauge.store.lake import export_lake, read_schema

T0 = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)


def _build(n: int, built: datetime | None) -> dict[str, object]:
    # Documents of different shapes: Arrow would infer two structs from PostgreSQL's dicts.
    extra = {"nested": {"list": [1, 2.5, None], "ünï": "çödé"}} if n % 2 else {"flat": n}
    return {
        "build_hash": f"v1:{n:032x}",
        "record_id": f"firefox_{n}",
        "document": {"build": {"id": f"2026110{n}"}, "target": {"version": f"{n}.0"}, **extra},
        "product": "firefox",
        "channel": "release",
        "version": f"{n}.0",
        "version_key": f"{n:04d}",
        "platform": "linux-x86_64",
        "locale": "en-US",
        "build_date": built,
        "download_url": f"https://archive.example/{n}.tar.xz",
        "download_mimetype": "application/x-xz",
        "download_size": 1000 + n,
        "origin": "test",
        "created_at": T0,
    }


def _seed(store: Store) -> None:
    with store.transaction() as tx:
        tx.upsert(
            "builds", [_build(n, T0 + timedelta(days=n % 3) if n else None) for n in range(6)]
        )
        for n in range(3):
            tx.dead_letter("src", f"k{n}", "bad", f"payload {n}".encode())
        tx.execute("UPDATE dead_letters SET received_at = ?", [T0])
        tx.upsert("store_meta", [{"key": "lake-test", "value": "x"}])


def _files(lake: Path) -> dict[str, Path]:
    return {str(p.relative_to(lake)): p for p in sorted(lake.rglob("*")) if p.is_file()}


@pytest.mark.postgres
def test_lake_export_gives_the_same_files_from_duckdb_and_postgresql(
    duckdb_url: str, pg_schema_url: str, tmp_path: Path
) -> None:
    lakes = {}
    for name, url in (("duckdb", duckdb_url), ("postgres", pg_schema_url)):
        with Store.open(url) as store:
            _seed(store)
            export_lake(store, tmp_path / name)
        lakes[name] = _files(tmp_path / name)
    assert lakes["duckdb"].keys() == lakes["postgres"].keys()
    assert "builds/day=__HIVE_DEFAULT_PARTITION__/part-0.parquet" in lakes["duckdb"]
    compared = 0
    for relative, path in lakes["duckdb"].items():
        if relative.startswith(("schema_migrations/", "_lake.json")) or "computed_at" in (
            path.read_text(errors="ignore") if path.suffix == ".json" else ""
        ):
            continue  # (when each store was made, and exported)
        other = lakes["postgres"][relative]
        if path.suffix == ".parquet":
            assert pq.read_table(path).equals(pq.read_table(other)), relative
        else:
            assert path.read_bytes() == other.read_bytes(), relative
        compared += 1
    assert compared > 40
    documents = pq.read_table(tmp_path / "postgres" / "build_records").column("document")
    assert json.loads(documents[1].as_py())["nested"] == {"list": [1, 2.5, None], "ünï": "çödé"}


# The builds tables and models, and one more table: enough to see what is written or not.
BUILDS = ["builds", "build_records", "builds_by_day", "builds_latest", "dead_letters"]


def test_lake_export_writes_only_what_changed(store: Store, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    _seed(store)
    first = {w.name: w for w in export_lake(store, lake, only=BUILDS)}
    assert first["builds"].written == 4 and first["builds"].partitioned_by == "build_date"
    assert first["build_records"].written == 1 and first["build_records"].rows == 6
    assert sum(w.written for w in export_lake(store, lake, only=BUILDS)) == 0

    with store.transaction() as tx:  # one build changes: its day, and the models over builds
        tx.execute("UPDATE builds SET download_size = 1 WHERE record_id = 'firefox_1'")
    changed = {w.name: w.written for w in export_lake(store, lake, only=BUILDS) if w.written}
    assert changed == {"builds": 1, "build_records": 1, "builds_by_day": 1, "builds_latest": 1}
    day = pq.read_table(lake / "builds" / "day=2026-11-02" / "part-0.parquet").to_pylist()
    assert [(r["record_id"], r["download_size"]) for r in day] == [
        ("firefox_1", 1), ("firefox_4", 1004)
    ]  # fmt: skip

    with store.transaction() as tx:  # a day's rows all go: its partition goes too
        tx.delete("builds", "build_date IS NULL")
    done = export_lake(store, lake, only=BUILDS, models=False)
    removed = {w.name: w.removed for w in done if w.removed}
    assert removed == {"builds": 1}
    assert not (lake / "builds" / "day=__HIVE_DEFAULT_PARTITION__").exists()

    (lake / "dead_letters" / "day=2026-11-01" / "part-0.parquet").unlink()  # a file lost
    done = export_lake(store, lake, only=BUILDS, models=False)
    again = {w.name: w.written for w in done if w.written}
    assert again == {"dead_letters": 1}
    assert not [p for p in lake.rglob(".*")]  # no half-written file left behind


def test_lake_export_rewrites_a_lake_this_store_did_not_write(store: Store, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    _seed(store)
    export_lake(store, lake, only=["builds"], models=False)
    manifest = lake / "_lake.json"
    manifest.write_text(manifest.read_text().replace('"partitions"', '"partitions" '))
    rewritten = {w.name: w.written for w in export_lake(store, lake, only=["builds"])}
    assert rewritten == {"builds": 4}
    schema = read_schema(lake / "builds")
    assert schema.kind == "table" and schema.partitioned_by == "build_date"
    assert schema.primary_key == ("build_hash",)
    assert schema.to_json()["columns"][2] == {
        "name": "document", "arrow": "string", "spark": "STRING"
    }  # fmt: skip


def test_export_is_lake_export_and_refuses_an_unknown_name(duckdb_url: str, tmp_path: Path) -> None:
    with Store.open(duckdb_url) as store:
        _seed(store)
    runner = CliRunner()
    ok = runner.invoke(app, ["--db", duckdb_url, "export", str(tmp_path), "--table", "dead_letters",
                             "--json"])  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output) == [
        {"name": "dead_letters", "kind": "table", "rows": 3, "written": 1, "removed": 0,
         "partitioned_by": "received_at", "path": str(tmp_path.resolve() / "dead_letters")}
    ]  # fmt: skip
    bad = runner.invoke(
        app, ["--db", duckdb_url, "lake", "export", str(tmp_path), "--only", "nope"]
    )
    assert bad.exit_code != 0
    assert str(bad.exception) == "no table or model named 'nope'"
