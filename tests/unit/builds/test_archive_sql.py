"""The SQL path rules (sources.archive_sql) give what the Python rules give, key for key."""

from __future__ import annotations

import csv
import json
import random
import re
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from shipgauge.pipelines.builds.inventory_file import group_parts
from shipgauge.pipelines.builds.metadata import MetadataResolver
from shipgauge.pipelines.builds.records import derive_candidate, rows_of
from shipgauge.sources.archive.metadata import merge_metadata
from shipgauge.sources.archive.paths import version_sort_key
from shipgauge.sources.archive.sql import (
    INVENTORY_ROWS,
    candidates_params,
    candidates_sql,
    records_sql,
)
from tests.support.recorded_http import fixtures_dir

BASE = "https://archive.mozilla.org"
PRODUCTS = ("firefox", "thunderbird", "mobile", "devedition")
BUILDHUB1 = fixtures_dir() / "buildhub" / "buildhub1"
DATE = "2017-06-02T12:20:10.2Z"
PICKED = re.compile(
    r"^pub/(firefox|thunderbird|mobile|devedition)/.*\.(zip|tar\.(gz|bz2|xz)|dmg|apk|exe)$"
)
METADATA = {
    "buildid": "20170602030204",
    "moz_source_repo": "MOZ_SOURCE_REPO=https://hg.mozilla.org/mozilla-central",
    "moz_source_stamp": "5801aa478de12a2b3b4d0c6a2d4de4bc11d9e3b4",
    "cc": "clang",
    "host_alias": "x86_64-pc-linux-gnu",
}


class _Archive:
    base_url = BASE


def _fixture_keys() -> list[str]:
    urls = [
        c["url"] for c in json.loads((BUILDHUB1 / "url-to-record-cases.json").read_text())["cases"]
    ]
    classified = json.loads((BUILDHUB1 / "url-classification-cases.json").read_text())
    for name in ("is_build_url_true", "is_build_url_false", "guess_mimetype"):
        urls += [c["url"] for c in classified[name]]
    for name in ("localize_nightly_url_to_en_us_metadata_source", "localize_rc_url_to_en_us"):
        urls += [c["localized_url"] for c in classified[name]]
    with (BUILDHUB1 / "inventory-simple.csv").open() as inventory:
        urls += [f"{BASE}/{row[1]}" for row in csv.reader(inventory) if len(row) > 1]
    keys = [u.split("archive.mozilla.org/", 1)[-1].replace(" ", "+") for u in urls]
    return sorted({k for k in keys if PICKED.match(k)})


def _generated_keys(count: int) -> list[str]:
    """Keys made by shuffling the fixtures' folders and names: odd layouts the rules meet."""
    rng = random.Random(5)
    known = [k.split("/") for k in _fixture_keys()]
    parts = [
        *sorted({p for k in known for p in k[2:]}),
        "android-api-16", "funnelcake88", "build11", "55.0b9-candidates", "win64-EME-free",
        "mac", "old-id", "2017-05-15-10-02-38-mozilla-central-l10n", "ja-JP-mac",
        "firefox-1.installer.tar.bz2", "fennec-55.0a1.multi.android-arm.apk", "x.tar.bz2",
    ]  # fmt: skip
    keys: set[str] = set()
    while len(keys) < count:
        key = list(rng.choice(known))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(2, len(key) + 1)
            if rng.random() < 0.5 and at < len(key):
                key[at] = rng.choice(parts)
            else:
                key.insert(at, rng.choice(parts))
        if PICKED.match("/".join(key)):
            keys.add("/".join(key))
    return sorted(keys)


def _sql_rows(keys: list[str]) -> dict[str, dict[str, Any]]:
    rows = pa.table({"Bucket": ["b-1"] * len(keys), "Key": keys, "Size": ["123"] * len(keys),
                     "LastModifiedDate": [DATE] * len(keys)})  # fmt: skip
    with duckdb.connect() as db:
        db.register(INVENTORY_ROWS, rows)
        found = db.sql(candidates_sql(), params=candidates_params(BASE, None)).to_arrow_table()
    return {r["key"]: r for r in found.to_pylist()}


def _python(key: str) -> tuple[Any, ...] | None:
    try:
        candidate = derive_candidate(key, archive_url=BASE, products=PRODUCTS, size=123, date=DATE)
    except Exception as exc:  # the SQL must then leave the key to Python
        return ("raised", type(exc).__name__)
    if candidate is None:
        return None
    record, target = candidate.record, candidate.record["target"]
    wait_key = MetadataResolver(_Archive()).wait_key(record)  # type: ignore[arg-type]
    return (record["source"]["product"], target["version"], target["platform"], target["os"],
            target["locale"], target["channel"], record["download"]["mimetype"],
            candidate.record_id, wait_key)  # fmt: skip


def _sql(row: dict[str, Any]) -> tuple[Any, ...]:
    names = ("product", "version", "platform", "os", "locale", "channel", "mimetype")
    return (*(row[n] for n in names), row["record_id"], row["wait_key"])


@pytest.mark.parametrize("source", ["fixtures", "generated"])
def test_fast_rows_are_what_the_python_rules_derive(source: str) -> None:
    keys = _fixture_keys() if source == "fixtures" else _generated_keys(3000)
    rows = _sql_rows(keys)
    fast = 0
    for key in keys:
        row = rows[key]
        assert row["valid"] and row["fresh"]
        if row["skip"]:
            assert _python(key) is None, key
        elif row["fast"]:
            fast += 1
            assert _sql(row) == _python(key), key
    assert fast > len(keys) // (2 if source == "fixtures" else 10)


def test_newer_than_and_invalid_rows() -> None:
    rows = pa.table({"Bucket": ["b-1", "B!"], "Key": ["pub/firefox/a.zip"] * 2,
                     "Size": ["1", "1"], "LastModifiedDate": [DATE, DATE]})  # fmt: skip
    with duckdb.connect() as db:
        db.register(INVENTORY_ROWS, rows)
        params = candidates_params(BASE, "2018-01-01T00:00:00")
        found = db.sql(candidates_sql(), params=params).to_arrow_table().to_pylist()
    assert [(r["valid"], r["fresh"]) for r in found] == [(True, False), (False, False)]


def test_records_sql_writes_the_document_and_hash_python_writes() -> None:
    rows = [r for r in _sql_rows(_fixture_keys()).values() if r["fast"]]
    resolver = MetadataResolver(_Archive())  # type: ignore[arg-type]
    groups: dict[str, dict[str, Any]] = {}
    metadata_of: dict[str, dict[str, Any]] = {}
    expected: dict[tuple[str, int], dict[str, Any]] = {}
    for number, row in enumerate(rows):
        candidate = derive_candidate(
            row["key"], archive_url=BASE, products=PRODUCTS, size=123, date=DATE
        )
        assert candidate is not None
        wait_key = row["wait_key"]
        if wait_key not in metadata_of:  # every other group's metadata names its channel
            metadata_of[wait_key] = (
                {**METADATA, "moz_update_channel": "release"} if number % 2 else METADATA
            )
            parts = group_parts(resolver, wait_key, candidate, (metadata_of[wait_key], ""))
            if parts is not None:
                groups[wait_key] = parts
        if wait_key in groups:
            merged = merge_metadata(candidate.record, metadata_of[wait_key])
            for copy, built in enumerate(rows_of(candidate.record_id, merged, "inventory")):
                expected[(row["key"], copy)] = built
    fast = pa.Table.from_pylist(
        [{**r, "candidate": n} for n, r in enumerate(rows) if r["wait_key"] in groups]
    )
    versions = sorted({r["version"] for r in rows})
    keys = pa.table({"version": versions, "version_key": [version_sort_key(v) for v in versions]})
    with duckdb.connect() as db:
        db.execute("SET TimeZone = 'UTC'")
        db.register("fast_rows", fast)
        db.register("group_metadata", pa.Table.from_pylist(list(groups.values())))
        db.register("version_keys", keys)
        params = {"origin": "inventory", "created_at": datetime(2026, 1, 1, tzinfo=UTC)}
        built = db.sql(records_sql(), params=params).to_arrow_table().to_pylist()
    key_of = dict(enumerate(fast.column("key").to_pylist()))
    got = {(key_of[r.pop("candidate")], r.pop("copy")): r for r in built}
    assert set(got) == set(expected) and len(got) > 20
    assert any(copy == 1 for _, copy in got)  # a release's beta copy
    for where, row in got.items():
        assert {**row, "created_at": None} == {**expected[where], "created_at": None}, where
