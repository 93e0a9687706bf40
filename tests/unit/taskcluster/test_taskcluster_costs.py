"""Billing exports and measuring_ci cost CSVs → worker_costs / worker_type_costs rows."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipgauge.errors import SourceError
from shipgauge.pipelines.taskcluster.files import read_table
from shipgauge.sources.billing import BILLING_FORMATS, billing_rows, detect_format, sum_rows
from tests.support.recorded_http import fixtures_dir

DAY = date(2026, 5, 10)
GLOBAL = "//compute.googleapis.com/projects/fxci-production-level1-workers/zones/{z}/{kind}/{i}"
EIGHT = list(BILLING_FORMATS["worker_type_8"])
WORKERS = ("fxci-production-level1-workers", "fxci-production-level3-workers")


def _gcp(**overrides: Any) -> dict[str, Any]:
    record = {
        "project.id": "fxci-production-level1-workers",
        "resource.name": "projects/fxci-production-level1-workers/instances/vm-a",
        "resource.global_name": GLOBAL.format(z="us-central1-b", kind="instances", i="111"),
        "usage_start_time": "2026-05-10 03:00:00 UTC",
        "cost": "2.5",
        "credits": '[{"name": "SUD", "amount": -0.5}]',
    }
    return {**record, **overrides}


def test_detect_format_by_columns() -> None:
    assert detect_format(list(_gcp())) == "gcp"
    with pytest.raises(SourceError, match="missing column 'credits' for a gcp file"):
        detect_format([c for c in _gcp() if c != "credits"])
    with pytest.raises(SourceError, match="unexpected column 'unit_cost' in a worker_type_8"):
        detect_format([*EIGHT, "unit_cost"])
    with pytest.raises(SourceError, match="unknown billing format"):
        detect_format(["a", "b"])


def test_billing_rows_gcp_keeps_instances_of_the_day_and_nets_credits() -> None:
    records = [
        ("line 2", _gcp()),
        ("line 3", _gcp(**{"resource.name": "vm-a", "cost": 1, "credits": None})),
        ("line 4", _gcp(**{"resource.global_name": GLOBAL.format(z="b", kind="disks", i="9")})),
        ("line 5", _gcp(usage_start_time="2026-05-11T00:00:00Z")),
        ("line 6", _gcp(**{"project.id": "somebody-else"})),
    ]  # fmt: skip
    result = billing_rows(records, list(_gcp()), day=DAY, gcp_projects=WORKERS)
    assert (result.format, result.providers, result.skipped) == ("gcp", frozenset({"gcp"}), 3)
    rows = sum_rows(
        result.costs,
        key=lambda r: (r["project"], r["zone"], r["instance_id"], r["name"]),
        fields=("cost", "credits", "total_cost"),
    )
    assert rows == [
        {
            "cloud_provider": "gcp",
            "project": "fxci-production-level1-workers",
            "zone": "us-central1-b",
            "instance_id": "111",
            "name": "vm-a",  # both resource.name forms give the bare name (fix #5809)
            "usage_start_date": DAY,
            "cost": 3.5,
            "credits": -0.5,
            "total_cost": 3.0,
        }
    ]


def test_billing_rows_bad_date_names_line_and_column() -> None:
    records = [("line 7", _gcp(usage_start_time="yesterday"))]
    with pytest.raises(SourceError, match="line 7: column 'usage_start_time': bad date"):
        billing_rows(records, list(_gcp()), day=DAY, gcp_projects=WORKERS)


def test_billing_rows_azure_costs_and_vm_hours() -> None:
    base = {
        "subscriptionName": "fxci-azure",
        "date": "05/10/2026",
        "ResourceId": "/subscriptions/x/providers/Microsoft.Compute/virtualMachines/vm-abc",
        "resourceLocation": "eastus",
        "costInBillingCurrency": "1.25",
        "chargeType": "Usage",
        "quantity": "2",
        "meterCategory": "Virtual Machines",
        "unitOfMeasure": "1 Hour",
    }
    records = [
        ("line 2", base),
        ("line 3", {**base, "meterCategory": "Storage", "costInBillingCurrency": "0.25"}),
        ("line 4", {**base, "chargeType": "Purchase"}),
        ("line 5", {**base, "ResourceId": "/subscriptions/x/disks/vm-abc"}),
    ]
    result = billing_rows(records, list(base), day=DAY, gcp_projects=WORKERS)
    assert result.skipped == 2
    assert sum(r["total_cost"] for r in result.costs) == 1.5
    assert {(r["zone"], r["instance_id"]) for r in result.costs} == {("eastus", "vm-abc")}
    assert [(r["uptime"], r["method"]) for r in result.uptime] == [
        (7200.0, "azure_billing_vm_quantity")
    ]


def test_billing_rows_measuring_ci_five_column_file() -> None:
    path = fixtures_dir() / "hgpush" / "measuring-ci" / "aws_cost_estimates.synthetic.csv"
    columns, records = read_table(path)
    result = billing_rows(records, columns, day=date(2018, 8, 15), gcp_projects=WORKERS)
    assert result.format == "worker_type_5" and len(result.type_costs) == 18
    first = result.type_costs[0]
    assert (first["provider"], first["provisioner"], first["worker_type"]) == (
        "aws",
        "aws-provisioner-v1-managed",
        "gecko-t-linux-xlarge",
    )
    # unit_cost (0.07 $/h, the file's rounding of 222.18 $ / 3120.50 h) is the rate, as in
    # measuring_ci E1: the row costs its hours at that rate.
    assert (first["month"], first["usage_hours"]) == (date(2018, 8, 1), 3120.5)
    assert first["cost"] / first["usage_hours"] == pytest.approx(0.07)
    assert " none" not in {r["provisioner"] for r in result.type_costs}  # leading space stripped


def test_billing_rows_measuring_ci_eight_column_keeps_the_month() -> None:
    columns = EIGHT
    row = dict(
        zip(
            columns,
            ["2019-07-02 10:00:00", "2019", "6", "aws", "gecko-t", "t-w", "10", "5"],
            strict=True,
        )
    )
    records = [("line 2", row), ("line 3", {**row, "month": "5"})]
    result = billing_rows(records, columns, day=date(2019, 6, 26), gcp_projects=WORKERS)
    assert [(r["month"], r["cost"]) for r in result.type_costs] == [(date(2019, 6, 1), 5.0)]
    assert result.skipped == 1
    with pytest.raises(SourceError, match="line 2: column 'cost': 'x' is not a number"):
        billing_rows(
            [("line 2", {**row, "cost": "x"})], columns, day=date(2019, 6, 1), gcp_projects=()
        )


def test_read_table_flattens_parquet_and_json_the_same_way(tmp_path: Path) -> None:
    record = {
        "project": {"id": "fxci-production-level1-workers"},
        "resource": {"name": "vm-a", "global_name": GLOBAL.format(z="z1", kind="instances", i="7")},
        "usage_start_time": "2026-05-10T00:00:00Z",
        "cost": 1.5,
        "credits": [{"amount": -0.5}],
    }
    parquet, lines = tmp_path / "b.parquet", tmp_path / "b.jsonl"
    pq.write_table(pa.Table.from_pylist([record]), parquet)
    lines.write_text(json.dumps(record) + "\n")
    (pcols, precords), (jcols, jrecords) = read_table(parquet), read_table(lines)
    assert pcols == jcols == list(BILLING_FORMATS["gcp"])
    assert precords[0][0] == "row 1" and jrecords[0][0] == "line 1"
    for _, rec in (precords[0], jrecords[0]):
        result = billing_rows([("x", rec)], pcols, day=DAY, gcp_projects=WORKERS)
        assert [(r["instance_id"], r["total_cost"]) for r in result.costs] == [("7", 1.0)]
