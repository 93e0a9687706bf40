"""hgpush v1 pings and diffstats: upstream vectors, pipeline-schema samples, document ids."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shipgauge.errors import SourceError
from shipgauge.sources.diffstat import Diffstat, parse_diffstat
from shipgauge.sources.hg import parse_json_rev
from shipgauge.sources.hgpush_ping import build_ping, document_id, ingestion_path, validate_ping
from shipgauge.sources.review import ReviewSystem
from tests.support.recorded_http import fixtures_dir

HGPUSH = fixtures_dir() / "hgpush"
CTS = HGPUSH / "commit-telemetry-service"
SCHEMAS = HGPUSH / "mozilla-pipeline-schemas"
VECTORS = json.loads((CTS / "test-vectors.json").read_text())
NODE = "1234567812345678123456781234567812345678"


def _ping(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "changeset": NODE,
        "repository": "https://hg.mozilla.org/integration/autoland",
        "push_date": 1537966541,
        "review_system": ReviewSystem.PHABRICATOR,
        "landing_system": None,
        "diffstat": Diffstat(1, 1, 1),
    }
    return build_ping(**{**fields, **overrides})


@pytest.mark.parametrize("case", VECTORS["diffstat_samples"], ids=lambda c: c["file"])
def test_parse_diffstat_matches_upstream_samples(case: dict[str, Any]) -> None:
    patch = (CTS / case["file"]).read_text(encoding="utf-8")
    expected = Diffstat(case["changedFiles"], case["additions"], case["deletions"])
    assert parse_diffstat(patch) == expected


@pytest.mark.parametrize("case", VECTORS["diffstat_payload"], ids=["hello"])
def test_build_ping_diffstat_payload_matches_upstream(case: dict[str, Any]) -> None:
    diffstat = parse_diffstat(case["patch_text"])
    ping = _ping(review_system=ReviewSystem(case["reviewSystemUsed"]), diffstat=diffstat)
    assert ping["diffstat"] == case["expected_diffstat"]


@pytest.mark.parametrize(
    "case", VECTORS["diffstat_computed_only_for"], ids=lambda c: c["reviewSystemUsed"]
)
def test_build_ping_diffstat_only_for_upstream_systems(case: dict[str, Any]) -> None:
    ping = _ping(review_system=ReviewSystem(case["reviewSystemUsed"]))
    assert (ping["diffstat"] is not None) is case["diffstat_computed"]
    validate_ping(ping)


@pytest.mark.parametrize("case", VECTORS["ping_landingSystem"], ids=["lando", "null", "missing"])
def test_build_ping_landing_system_matches_upstream(case: dict[str, Any]) -> None:
    record = json.loads((CTS / "hgweb-json-rev.sample.json").read_text())
    record.pop("landingsystem")
    revision = parse_json_rev({**record, **case["json_rev_fields"]})
    ping = _ping(landing_system=revision.landing_system, push_date=revision.push_date)
    assert ping["landingSystem"] == case["expected_landingSystem"]
    assert ping["pushDate"] == 1537966541
    validate_ping(ping)


@pytest.mark.parametrize(
    "sample",
    [
        "hgpush.1.sample.pass.json",
        "hgpush.1.diffstat_null.pass.json",
        "hgpush.1.landingSystem_null.pass.json",
    ],
)
def test_validate_ping_accepts_the_pipeline_schema_samples(sample: str) -> None:
    validate_ping(json.loads((SCHEMAS / sample).read_text()))


def test_build_ping_matches_the_pipeline_schema_sample() -> None:
    sample = json.loads((SCHEMAS / "hgpush.1.sample.pass.json").read_text())
    ping = build_ping(
        changeset=sample["changesetID"],
        repository=sample["repository"],
        push_date=sample["pushDate"],
        review_system=ReviewSystem(sample["reviewSystemUsed"]),
        landing_system=sample["landingSystem"],
        diffstat=Diffstat(1, 1, 1),
    )
    assert ping == sample


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"pushDate": -1}, "pushDate"),
        ({"landingSystem": 42}, "landingSystem"),
        ({"diffstat": {"additions": 1, "changedFiles": 1, "deletions": 1, "extra": 1}}, "diffstat"),
        ({"diffstat": {"additions": -1}}, "diffstat/additions"),
        ({"changesetID": "not-hex"}, "changesetID"),
    ],
)
def test_validate_ping_names_the_field_that_fails(change: dict[str, Any], where: str) -> None:
    with pytest.raises(SourceError, match=f"at {where}:") as raised:
        validate_ping({**_ping(), **change})
    assert raised.value.field == where


def test_validate_ping_requires_the_three_required_fields() -> None:
    ping = _ping()
    del ping["repository"]
    with pytest.raises(SourceError, match="'repository' is a required property"):
        validate_ping(ping)


def test_document_id_is_the_upstream_uuid_of_the_first_32_hex_digits() -> None:
    assert document_id(NODE) == "12345678-1234-5678-1234-567812345678"
    assert document_id(NODE, "legacy") == NODE
    assert (
        ingestion_path(document_id(NODE), namespace="eng-workflow", doctype="hgpush", version=1)
        == "/submit/eng-workflow/hgpush/1/12345678-1234-5678-1234-567812345678"
    )


def test_document_id_refuses_a_changeset_that_is_not_hex() -> None:
    with pytest.raises(SourceError, match="not hexadecimal"):
        document_id("zz" * 20)
