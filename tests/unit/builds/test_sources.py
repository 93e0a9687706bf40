"""buildhub.json validation and identity, S3 event envelopes, inventory manifests and CSV."""

from __future__ import annotations

import base64
import copy
import gzip
import io
import json
from typing import Any

import pytest

from shipgauge.errors import SourceError
from shipgauge.sources import buildhub_json
from shipgauge.sources.s3 import events as s3_events
from shipgauge.sources.s3 import inventory
from tests.support.recorded_http import fixtures_dir

BUILDHUB = fixtures_dir() / "buildhub"
DOCUMENTS = [
    *sorted((BUILDHUB / "buildhub2" / "buildhub-json").glob("*.json")),
    BUILDHUB / "beetmover" / "buildhub.json",
]
SQS_CASES = json.loads((BUILDHUB / "buildhub2" / "sqs-message-cases.json").read_text())["cases"]


def test_record_schema_is_buildhub2_schema() -> None:
    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("title", "description")}
        return [strip(v) for v in node] if isinstance(node, list) else node

    upstream = json.loads((BUILDHUB / "buildhub2" / "schema.json").read_text())
    assert strip(upstream) == buildhub_json.RECORD_SCHEMA


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_parse_buildhub_json_accepts_real_documents(path: Any) -> None:
    record = buildhub_json.parse_buildhub_json(path.read_bytes())
    assert record["build"]["id"]
    assert buildhub_json.build_hash(record) == buildhub_json.build_hash(
        json.loads(path.read_bytes())
    )


def test_parse_buildhub_json_refuses_extra_property() -> None:
    doc = json.loads((BUILDHUB / "buildhub2/buildhub-json/valid-buildhub.json").read_text())
    doc["source"]["junk"] = True
    with pytest.raises(
        SourceError, match=r"Additional properties are not allowed \('junk' was unexpected\)"
    ):
        buildhub_json.parse_buildhub_json(json.dumps(doc).encode())


def test_parse_buildhub_json_requires_build() -> None:
    doc = json.loads((BUILDHUB / "buildhub2/buildhub-json/valid-buildhub.json").read_text())
    del doc["build"]
    with pytest.raises(SourceError, match="'build' is a required property"):
        buildhub_json.parse_buildhub_json(json.dumps(doc).encode())


@pytest.mark.parametrize(
    ("name", "channels"),
    [
        ("valid-buildhub-release-channel.json", ["release", "beta"]),
        ("valid-buildhub-fennec-release-channel.json", ["release"]),
        ("valid-buildhub.json", ["aurora"]),
    ],
)
def test_records_to_store_copies_firefox_release_as_beta(name: str, channels: list[str]) -> None:
    doc = json.loads((BUILDHUB / "buildhub2/buildhub-json" / name).read_text())
    stored = buildhub_json.records_to_store(doc)
    assert [r["target"]["channel"] for r in stored] == channels
    assert len({buildhub_json.build_hash(r) for r in stored}) == len(channels)
    assert doc["target"]["channel"] == channels[0]


def test_build_hash_is_md5_of_sorted_json() -> None:
    doc = json.loads((BUILDHUB / "buildhub2/buildhub-json/valid-buildhub.json").read_text())
    shuffled = dict(reversed(list(copy.deepcopy(doc).items())))
    assert buildhub_json.build_hash(doc) == buildhub_json.build_hash(shuffled)
    assert buildhub_json.build_hash(doc).startswith("v1:")


@pytest.mark.parametrize("case", SQS_CASES, ids=lambda c: c["test"])
def test_parse_s3_event_message_sqs_cases(case: dict[str, Any]) -> None:
    events = s3_events.parse_s3_event_message(json.dumps(case["sqs_message_body"]).encode())
    matching = [e.key for e in events if e.key.rsplit("/", 1)[-1].endswith("buildhub.json")]
    assert matching == case["s3_object_fetched"]
    assert all(e.bucket == "buildhubses" and e.etag for e in events)


def test_parse_s3_event_message_aws_event_decodes_key() -> None:
    (event,) = s3_events.parse_s3_event_message(
        (BUILDHUB / "aws-events/s3-event.json").read_bytes()
    )
    assert (event.bucket, event.key, event.size, event.etag) == (
        "sourcebucket",
        "Happy Face.jpg",
        1024,
        "d41d8cd98f00b204e9800998ecf8427e",
    )
    assert event.created and event.event_time is not None


def test_parse_s3_event_message_refuses_sns_text_and_unknown_shapes() -> None:
    with pytest.raises(SourceError, match="not valid JSON"):
        s3_events.parse_s3_event_message((BUILDHUB / "aws-events/sns-event.json").read_bytes())
    with pytest.raises(SourceError, match="no SNS Message and no Records"):
        s3_events.parse_s3_event_message(b'{"hello": 1}')
    assert (
        s3_events.parse_s3_event_message(b'{"Service": "Amazon S3", "Event": "s3:TestEvent"}') == []
    )


def test_parse_manifest_reads_fixture() -> None:
    manifest = inventory.parse_manifest((BUILDHUB / "s3-inventory/manifest.json").read_bytes())
    assert manifest.columns == ("Bucket", "Key", "Size", "LastModifiedDate", "ETag")
    assert [(f.size, f.md5) for f in manifest.files] == [(812, "fdb986a0d77b2efe46e9c17101022ec6")]
    with pytest.raises(SourceError, match="ORC is not supported"):
        inventory.parse_manifest(json.dumps({"fileFormat": "ORC", "files": []}).encode())


def test_latest_manifest_key_skips_non_run_folders() -> None:
    case = json.loads((BUILDHUB / "s3-inventory/list-inventory-prefixes.json").read_text())
    prefixes = [p["Prefix"] for page in case["pages"] for p in page["CommonPrefixes"]]
    assert inventory.latest_manifest_key(prefixes) == case["expected_manifest_key"]
    assert (
        inventory.data_file_key(
            "public/inventories/x/y/2017-01-02T03-06Z/manifest.json",
            "inventories/x/y/data/a.csv.gz",
        )
        == "public/inventories/x/y/data/a.csv.gz"
    )


def test_open_gzip_decompresses_the_chunk_vector() -> None:
    case = json.loads((BUILDHUB / "s3-inventory/list-inventory-prefixes.json").read_text())
    stream = inventory.open_gzip(
        io.BytesIO(base64.b64decode(case["gzip_chunk_test"]["gzip_base64"]))
    )
    assert stream.read().decode() == case["gzip_chunk_test"]["decompressed"]


def test_read_inventory_keeps_archive_keys_of_product_folders() -> None:
    data = (BUILDHUB / "buildhub1/inventory-simple.csv").read_bytes() + b'"b","k"\n'
    batches = list(
        inventory.read_inventory(
            io.BytesIO(gzip.compress(data)), products=("firefox", "mobile", "devedition")
        )
    )
    keys = [k for b in batches for k in b.rows.column("Key").to_pylist()]
    rejects = [r for b in batches for r in b.rejects]
    assert sum(b.total for b in batches) == 16
    assert rejects == ['"b","k"']
    assert "thunderbird" not in " ".join(keys)
    assert keys and all(not k.endswith((".mar", ".txt")) for k in keys)
    first = batches[0].rows.slice(0, 1).to_pylist()[0]
    assert (first["Size"], first["LastModifiedDate"]) == ("50000", "2017-06-02T12:20:10.2Z")
