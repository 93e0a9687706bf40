"""S3 and SQS through a local S3-compatible server: inventory, SQS events, backfill."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from shipgauge.connectors.s3 import S3Connector, SqsQueue
from shipgauge.pipelines.builds.backfill import backfill
from shipgauge.pipelines.builds.connectors import BuildhubConnectors
from shipgauge.pipelines.builds.events import consume_sqs, ingest_event_messages
from shipgauge.pipelines.builds.inventory import load_inventory
from shipgauge.pipelines.builds.records import insert_groups
from shipgauge.sources.buildhub_json import build_row
from shipgauge.store import Store
from tests.integration.builds.conftest import (
    BUILDHUB,
    load_fixture,
    make_connectors,
    moto_s3,
    serve_archive,
    stored_records,
)
from tests.integration.builds.test_inventory import EXPECTED, _t13_archive
from tests.support.recorded_http import RecordedHttpServer

FOLDER = "public/inventories/net-mozaws-prod-delivery-firefox/delivery-firefox/"
SQS_CASES = load_fixture("buildhub2/sqs-message-cases.json")["cases"]


def _boto(service: str, url: str) -> Any:
    return boto3.client(
        service, endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip


def _bucket(url: str) -> str:
    name = f"b-{uuid.uuid4().hex[:10]}"
    _boto("s3", url).create_bucket(Bucket=name)
    return name


def _with_s3(connectors: BuildhubConnectors, s3: S3Connector, bucket: str) -> BuildhubConnectors:
    return BuildhubConnectors(s3, connectors.archive, bucket, bucket, connectors.products)


def test_load_inventory_from_s3_picks_latest_run(
    moto_url: str, recorded_http: RecordedHttpServer, tmp_path: Path, duckdb_url: str
) -> None:
    bucket, client = _bucket(moto_url), _boto("s3", moto_url)
    manifest = (BUILDHUB / "s3-inventory" / "manifest.json").read_bytes()
    data = next((BUILDHUB / "s3-inventory" / "data").iterdir())
    for run in ("2017-08-01T00-11Z", "2017-08-02T00-11Z"):
        client.put_object(Bucket=bucket, Key=f"{FOLDER}{run}/manifest.json", Body=manifest)
    client.put_object(Bucket=bucket, Key=f"{FOLDER}data/{data.name}", Body=data.read_bytes())
    client.put_object(Bucket=bucket, Key=f"{FOLDER}hive/dt=2017-08-02-00-00/symlink.txt", Body=b"x")
    serve_archive(recorded_http, _t13_archive())
    connectors = _with_s3(make_connectors(recorded_http.url, tmp_path), moto_s3(moto_url), bucket)
    with Store.open(duckdb_url) as store:
        result = load_inventory(
            store=store,
            connectors=connectors,
            location=f"s3://{bucket}/{FOLDER}",
            cache_dir=tmp_path / "c",
        )
        assert result.manifest == f"s3://{bucket}/{FOLDER}2017-08-02T00-11Z/manifest.json"
        assert len(stored_records(store)) == len(EXPECTED) == 9
    assert (tmp_path / "c" / "fdb986a0d77b2efe46e9c17101022ec6.csv.gz").is_file()


def _served_document(case: dict[str, Any]) -> bytes | None:
    served = case["buildhub_json_served"]
    if served is None:
        return None
    doc = load_fixture(f"buildhub2/buildhub-json/{served.split()[0]}")
    if "junk" in served:
        doc["source"]["junk"] = True
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    "case", [c for c in SQS_CASES if c["test"] != "test_bad_client_errors"], ids=lambda c: c["test"]
)
def test_sqs_message_case(
    case: dict[str, Any],
    moto_url: str,
    recorded_http: RecordedHttpServer,
    tmp_path: Path,
    duckdb_url: str,
) -> None:
    client, sqs = _boto("s3", moto_url), _boto("sqs", moto_url)
    client.create_bucket(Bucket="buildhubses") if "buildhubses" not in [
        b["Name"] for b in client.list_buckets()["Buckets"]
    ] else None
    body = _served_document(case)
    for key in case["s3_object_fetched"]:
        if body is None:
            client.delete_object(Bucket="buildhubses", Key=key)
        else:
            client.put_object(Bucket="buildhubses", Key=key, Body=body)
    queue_url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(case["sqs_message_body"]))
    connectors = _with_s3(
        make_connectors(recorded_http.url, tmp_path), moto_s3(moto_url), "buildhubses"
    )
    queue = SqsQueue(
        queue_url, endpoint_url=moto_url, access_key_id="testing", secret_access_key="testing"
    )
    with Store.open(duckdb_url) as store:
        if (
            "already inserted" in case["buildhub_json_served"]
            if case["buildhub_json_served"]
            else False
        ):
            with store.transaction() as tx:
                insert_groups(tx, [[build_row(json.loads(body or b"{}"), origin="test")]])
        result = consume_sqs(store, connectors, queue, wait_s=0)
        expected = case["expected"]
        assert store.count("builds") == expected.get("builds_in_db", 0)
        if "message_contains" in expected:
            errors = [e for (e,) in store.query("SELECT error FROM dead_letters").rows]
            assert expected["message_contains"] in errors[0]
        if expected.get("s3_error"):
            assert result.missing == 1
    assert "Messages" not in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0)


def test_sqs_s3_server_error_becomes_dead_letter(
    recorded_http: RecordedHttpServer, tmp_path: Path, duckdb_url: str
) -> None:
    case = next(c for c in SQS_CASES if c["test"] == "test_bad_client_errors")
    recorded_http.add("GET", "/buildhubses/some/path/to/buildhub.json", status=500, body="Oh no!")
    s3 = S3Connector(endpoint_url=recorded_http.url, unsigned=True, retries=1)
    connectors = _with_s3(make_connectors(recorded_http.url, tmp_path), s3, "buildhubses")
    with Store.open(duckdb_url) as store:
        result = ingest_event_messages(
            store, connectors, [("m", json.dumps(case["sqs_message_body"]).encode())]
        )
        (error,) = store.query("SELECT error FROM dead_letters").rows[0]
    assert result.dead_letters == 1
    assert case["expected"]["message_contains"] in error


def test_backfill_case_reconciles_keys_and_etags(moto_url: str, duckdb_url: str) -> None:
    case = load_fixture("buildhub2/backfill-case.json")
    bucket, client = _bucket(moto_url), _boto("s3", moto_url)
    valid = load_fixture("buildhub2/buildhub-json/valid-buildhub.json")
    keys = [c["Key"] for page in case["list_objects_v2_pages"] for c in page["Contents"]]

    def document(key: str) -> dict[str, Any]:
        doc: dict[str, Any] = copy.deepcopy(valid)
        doc["download"]["mimetype"] = key
        return doc

    etags = {}
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=json.dumps(document(key)).encode())
        etags[key] = client.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
    client.put_object(Bucket=bucket, Key="three/not-a-build.txt", Body=b"x")
    with Store.open(duckdb_url) as store:
        with store.transaction() as tx:
            for row in case["db_before"]:
                key = row["s3_object_key"]
                etag = etags[key] if key == "one/buildhub.json" else row["s3_object_etag"]
                insert_groups(
                    tx,
                    [
                        [
                            build_row(
                                document(key), origin="test", s3_object_key=key, s3_object_etag=etag
                            )
                        ]
                    ],
                )
        result = backfill(store=store, s3=moto_s3(moto_url), bucket=bucket, page_size=3)
        rows = dict(store.query("SELECT s3_object_key, s3_object_etag FROM builds").rows)
        assert len(rows) == store.count("builds") == case["expected_db_after"]["count"]
        assert rows["two/buildhub.json"] == etags["two/buildhub.json"]  # refreshed, not re-inserted
        assert (result.listed, result.matched, result.downloaded, result.inserted) == (5, 4, 3, 2)
        assert store.checkpoint(f"buildhub.backfill:{bucket}") == "two/buildhub.json"
        again = backfill(store=store, s3=moto_s3(moto_url), bucket=bucket, resume=True)
        assert (again.listed, again.inserted) == (0, 0)
        with store.transaction() as tx:
            tx.set_checkpoint(f"buildhub.backfill:{bucket}", "three/buildhub.json")
        resumed = backfill(store=store, s3=moto_s3(moto_url), bucket=bucket, resume=True)
        assert (resumed.listed, resumed.downloaded, store.count("builds")) == (2, 0, 4)
