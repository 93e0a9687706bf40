"""T13 and the CSV unit case: inventory → records over real HTTP, dead letters, replays."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from shipgauge.pipelines.builds import inventory, inventory_file
from shipgauge.pipelines.builds.inventory import InventoryResult, load_inventory
from shipgauge.pipelines.builds.metadata import MEMO_URLS, MetadataResolver
from shipgauge.pipelines.builds.records import new_rows
from shipgauge.sources.archive.metadata import nightly_metadata_urls, rc_metadata_url
from shipgauge.sources.archive.paths import record_from_url
from shipgauge.store import Store
from tests.conftest import duckdb_setting
from tests.integration.builds.conftest import (
    ARCHIVE,
    BUILDHUB,
    expected_records,
    load_fixture,
    local_url,
    make_connectors,
    serve_archive,
    stored_records,
)
from tests.support.recorded_http import RecordedHttpServer

EXPECTED = load_fixture("buildhub1/inventory-simple.expected-records.json")["records"]
MANIFEST = BUILDHUB / "s3-inventory" / "manifest.json"


def _metadata_of(record: dict[str, Any]) -> dict[str, Any]:
    """The legacy metadata document the archive served for an expected T13 record."""
    build, source = record["build"], record["source"]
    metadata = {
        "buildid": build["id"],
        "moz_source_repo": "MOZ_SOURCE_REPO=" + source["repository"],
        "moz_source_stamp": source["revision"],
        "moz_update_channel": record["target"]["channel"],
    }
    for key, name in (("as", "as"), ("cc", "cc"), ("cxx", "cxx"), ("ld", "ld")):
        if key in build:
            metadata[name] = build[key]
    for key in ("host", "target"):
        if key in build:
            metadata[f"{key}_alias"] = build[key]
    return metadata


def _t13_archive() -> dict[str, dict[str, Any]]:
    responses: dict[str, dict[str, Any]] = {}
    releases: dict[str, list[str]] = {}
    for item in EXPECTED:
        record = item["data"]
        url, product = record["download"]["url"], record["source"]["product"]
        metadata = _metadata_of(record)
        if "nightly" in url and "build" in record and "as" not in record["build"]:
            # 2011 Fennec nightly: no .json, a one-line .txt (repository defaults to http://)
            _json_url, txt_url = nightly_metadata_urls(url)
            responses[txt_url] = {"body": f"{metadata['buildid']} {metadata['moz_source_stamp']}"}
        elif "nightly" in url:
            responses[nightly_metadata_urls(url)[0]] = {"json": metadata}
        elif "candidates" in url:
            responses[rc_metadata_url(product, url)] = {"json": metadata}
        else:
            version, number = record["target"]["version"], record["build"]["number"]
            platform = record_from_url(url)["target"]["platform"].replace("-eme-free", "")
            folder = "mac" if platform == "macosx" else platform
            base = f"{ARCHIVE}/pub/{product}/candidates/{version}-candidates/"
            releases.setdefault(product, []).append(f"{version}-candidates/")
            responses[base] = {"json": {"prefixes": [f"build{number}/"], "files": []}}
            en_us = f"{base}build{number}/{folder}/en-US/"
            responses[en_us] = {
                "json": {"prefixes": [], "files": [{"name": f"{product}-{version}.json"}]}
            }
            responses[f"{en_us}{product}-{version}.json"] = {"json": metadata}
    for product, prefixes in releases.items():
        responses[f"{ARCHIVE}/pub/{product}/candidates/"] = {
            "json": {"prefixes": prefixes, "files": []}
        }
    return responses


def test_load_inventory_matches_t13_and_replays_change_nothing(
    recorded_http: RecordedHttpServer, tmp_path: Path, store_url: str
) -> None:
    serve_archive(recorded_http, _t13_archive())
    connectors = make_connectors(recorded_http.url, tmp_path / "s3", tmp_path / "cache")
    with Store.open(store_url) as store:
        first = load_inventory(
            store=store, connectors=connectors, location=str(MANIFEST), cache_dir=tmp_path
        )
        assert stored_records(store) == expected_records(EXPECTED, recorded_http.url)
        assert (first.rows, first.files, first.dead_letters) == (15, 1, 1)
        letters = store.query("SELECT key, error, payload FROM dead_letters").rows
        assert letters[0][1] == "inventory row cannot be read"
        assert bytes(letters[0][2]).startswith(b'"-""net-mozaws-prod-delivery-firefox""",')
        counts = store.query("SELECT count(*), count(record_id) FROM builds").rows[0]
        assert counts == (10, 9)  # 52.0 release also stored as its beta copy

        fetched_before = connectors.archive.stats["200"]
        replay_connectors = make_connectors(recorded_http.url, tmp_path / "s3", tmp_path / "cache")
        again = load_inventory(
            store=store, connectors=replay_connectors, location=str(MANIFEST), cache_dir=tmp_path
        )
        assert again.inserted == 0
        assert store.query("SELECT count(*), count(record_id) FROM builds").rows[0] == counts
        assert store.count("dead_letters") == 1
        assert fetched_before > 0
        assert replay_connectors.archive.stats["200"] == 0  # every metadata file answered 304


def test_load_inventory_judges_a_chunk_again_after_a_key_conflict(
    recorded_http: RecordedHttpServer,
    tmp_path: Path,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A writer that stores a build after `new_rows` looked: the plain insert meets the key,
    the transaction rolls back, and the chunk is judged and stored again (nothing twice)."""
    serve_archive(recorded_http, _t13_archive())
    connectors = make_connectors(recorded_http.url, tmp_path / "s3", tmp_path / "cache")
    with Store.open(store_url) as store:
        load_inventory(
            store=store, connectors=connectors, location=str(MANIFEST), cache_dir=tmp_path
        )
        before = stored_records(store)
        calls: list[int] = []

        def blind_once(tx: Any, **columns: Any) -> list[bool]:
            calls.append(len(columns["hashes"]))
            if len(calls) == 1:  # as if the stored rows were written just after this look
                return [True] * len(columns["hashes"])
            return new_rows(tx, **columns)

        monkeypatch.setattr(inventory_file, "new_rows", blind_once)
        again = load_inventory(
            store=store, connectors=connectors, location=str(MANIFEST), cache_dir=tmp_path
        )
        assert calls == [10, 10]
        assert again.inserted == 0
        assert stored_records(store) == before
        assert store.query("SELECT count(*), count(record_id) FROM builds").rows[0] == (10, 9)


def _gz_manifest(folder: Path, csv_text: str) -> Path:
    data = gzip.compress(csv_text.encode(), mtime=0)
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "unit.csv.gz").write_bytes(data)
    manifest = {
        "sourceBucket": "net-mozaws-delivery-firefox",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size, LastModifiedDate, ETag",
        "files": [
            {
                "key": "inv/data/unit.csv.gz",
                "size": len(data),
                "MD5checksum": hashlib.md5(data).hexdigest(),
            }
        ],
    }
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def _unit_case(recorded_http: RecordedHttpServer, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """The CSV unit case served as an archive, and its gzipped inventory's manifest."""
    case = load_fixture("buildhub1/csv-to-records-unit-case.json")
    serve_archive(recorded_http, case["archive_responses"])
    return case, _gz_manifest(tmp_path / "inv", case["input_csv"])


def _load(
    store: Store, recorded_http: RecordedHttpServer, tmp_path: Path, manifest: Path
) -> InventoryResult:
    connectors = make_connectors(recorded_http.url, tmp_path / "s3")
    return load_inventory(
        store=store, connectors=connectors, location=str(manifest), cache_dir=tmp_path
    )


def test_load_inventory_csv_unit_case(
    recorded_http: RecordedHttpServer, tmp_path: Path, duckdb_url: str
) -> None:
    case, manifest = _unit_case(recorded_http, tmp_path)
    with Store.open(duckdb_url) as store:
        result = _load(store, recorded_http, tmp_path, manifest)
        letters = store.query("SELECT key, error, payload FROM dead_letters").rows
        assert (result.rows, result.candidates, result.no_metadata) == (3, 2, 1)
        # The unit case's cc/cxx/ld are lists, which the record schema refuses (upstream.md §9).
        assert store.count("builds") == 0
        expected = local_url(case["expected_skip_incomplete_true"][0]["data"], recorded_http.url)
        assert [k for k, _, _ in letters] == [expected["id"]]
        assert letters[0][1].endswith("/link.exe'] is not of type 'string' at build.ld")
        kept = json.loads(letters[0][2])["record"]
        assert kept["download"] == expected["download"]
        assert kept["target"] == {**expected["target"], "version": "51.0"}


def test_load_inventory_max_age_skips_old_rows(
    recorded_http: RecordedHttpServer, tmp_path: Path, duckdb_url: str
) -> None:
    case = load_fixture("buildhub1/csv-to-records-unit-case.json")
    manifest = _gz_manifest(tmp_path / "inv", case["input_csv"])
    connectors = make_connectors(recorded_http.url, tmp_path / "s3")
    with Store.open(duckdb_url) as store:
        result = load_inventory(
            store=store,
            connectors=connectors,
            location=str(manifest),
            cache_dir=tmp_path,
            max_age_hours=1,
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
        assert (result.rows, result.candidates, store.count("builds")) == (3, 0, 0)
        assert case["expected_with_min_last_modified_1h_ago"] == []
    assert recorded_http.requests == []


@pytest.mark.parametrize("corrupt", [False, True], ids=["readable", "not-gzip"])
def test_load_inventory_md5_mismatch_is_a_dead_letter(
    recorded_http: RecordedHttpServer, tmp_path: Path, duckdb_url: str, corrupt: bool
) -> None:
    _, manifest = _unit_case(recorded_http, tmp_path)
    data = tmp_path / "inv" / "data" / "unit.csv.gz"
    if corrupt:
        data.write_bytes(data.read_bytes()[:-12] + b"not gzip")
    else:
        doc = json.loads(manifest.read_text())
        doc["files"][0]["MD5checksum"] = "0" * 32
        manifest.write_text(json.dumps(doc))
    with Store.open(duckdb_url) as store:
        result = _load(store, recorded_http, tmp_path, manifest)
        letters = store.query("SELECT key, error FROM dead_letters").rows
        assert (result.files, result.rows, result.dead_letters) == (0, 0, 1)
        assert letters == [("inv/data/unit.csv.gz", "MD5 differs from manifest")]
        assert store.count("builds") == 0


def test_load_inventory_with_memos_of_one_stores_the_same_records(
    recorded_http: RecordedHttpServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The resolver and the loader keep only the groups and URLs met last: with room for one,
    a chunk's groups still all merge, and a URL asked again after it left is fetched again."""
    serve_archive(recorded_http, _t13_archive())
    expected = expected_records(EXPECTED, recorded_http.url)
    listings = {}
    for name, memo in (("kept", MEMO_URLS), ("one", 1)):
        monkeypatch.setattr(
            inventory, "MetadataResolver", partial(MetadataResolver, memo_urls=memo)
        )
        monkeypatch.setattr(inventory_file, "MEMO_URLS", memo)
        # One request at a time, so that no ask meets another's fetch in flight.
        connectors = make_connectors(recorded_http.url, tmp_path / "s3", concurrency=1)
        asked = len(recorded_http.requests)
        with Store.open(str(tmp_path / f"{name}.duckdb")) as store:
            load_inventory(
                store=store, connectors=connectors, location=str(MANIFEST), cache_dir=tmp_path
            )
            assert stored_records(store) == expected
        connectors.archive.close()
        paths = [r.path for r in recorded_http.requests[asked:]]
        listings[name] = paths.count("/pub/firefox/candidates/")
    # The firefox candidates folder's listing, which both its releases read: fetched once while
    # kept; with room for one URL, each release's other listings push it out in between.
    assert listings["kept"] == 1
    assert listings["one"] >= 2


def test_a_resolver_fetches_again_a_url_that_left_its_memo(
    recorded_http: RecordedHttpServer, tmp_path: Path
) -> None:
    urls = [f"{ARCHIVE}/pub/firefox/nightly/{n}.json" for n in range(3)]
    serve_archive(recorded_http, {url: {"json": {"buildid": str(n)}} for n, url in enumerate(urls)})
    resolver = MetadataResolver(make_connectors(recorded_http.url, tmp_path).archive, memo_urls=2)
    for n in (0, 1, 0, 2, 0, 1):  # 2 pushes out 1, the least recently used
        assert resolver.get_json(urls[n].replace(ARCHIVE, recorded_http.url)) == {"buildid": str(n)}
    asked = [r.path.rsplit("/", 1)[-1] for r in recorded_http.requests]
    assert asked == ["0.json", "1.json", "2.json", "1.json"]


def test_load_inventory_keeps_its_store_limit_as_builds_are_stored(
    recorded_http: RecordedHttpServer, tmp_path: Path, duckdb_url: str
) -> None:
    serve_archive(recorded_http, _t13_archive())
    limits: list[str] = []
    with Store.open(duckdb_url) as store:

        def progress(rows: int) -> None:
            limits.append(duckdb_setting(store, "memory_limit"))

        load_inventory(
            store=store,
            connectors=make_connectors(recorded_http.url, tmp_path / "s3"),
            location=str(MANIFEST),
            cache_dir=tmp_path,
            progress=progress,
        )
        assert store.count("builds") == 10
    # One chunk, after it stored its 10 builds: no key index grows in the store's memory.
    assert limits == ["56.0 MiB"]
