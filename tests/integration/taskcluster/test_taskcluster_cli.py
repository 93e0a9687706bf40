"""`shipgauge taskcluster costs|metrics|definitions|summary` and the demo, as real subprocesses."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from shipgauge.connectors.http import HttpConnector
from shipgauge.pipelines.taskcluster import fetch_task_definitions, load_costs, store_messages
from shipgauge.store import Store
from tests.conftest import run_cli
from tests.integration.taskcluster.taskcluster_setup import PULSE, recorded_stream
from tests.support.recorded_http import RecordedHttpServer, Response

GLOBAL = "//compute.googleapis.com/projects/fxci-production-level1-workers/zones/us-central1-b"


def _gcp_line(instance: str, cost: float, start: str = "2026-05-10T01:00:00Z") -> str:
    return json.dumps(
        {
            "project": {"id": "fxci-production-level1-workers"},
            "resource": {"name": f"vm-{instance}", "global_name": f"{GLOBAL}/instances/{instance}"},
            "usage_start_time": start,
            "cost": cost,
            "credits": [{"amount": -1.0}],
        }
    )


def _costs(db: str) -> list[tuple[Any, ...]]:
    with Store.open(db) as store:
        return store.query(
            "SELECT cloud_provider, instance_id, usage_start_date, total_cost FROM worker_costs"
            " ORDER BY cloud_provider, instance_id"
        ).rows


def test_cli_costs_replaces_the_day_per_provider(duckdb_url: str, tmp_path: Path) -> None:
    gcp = tmp_path / "gcp.jsonl"
    gcp.write_text("\n".join([_gcp_line("111", 5.0), _gcp_line("111", 2.0), _gcp_line("222", 3.0)]))
    azure = tmp_path / "azure.csv"
    azure.write_text(
        "subscriptionName,date,ResourceId,resourceLocation,costInBillingCurrency,chargeType,"
        "quantity,meterCategory,unitOfMeasure\n"
        "fxci,05/10/2026,/x/virtualMachines/vm-a1,eastus,1.5,Usage,3,Virtual Machines,1 Hour\n"
    )
    done = run_cli(
        "taskcluster",
        "costs",
        "--date",
        "2026-05-10",
        str(gcp),
        str(azure),
        "--json",
        db=duckdb_url,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["worker_costs"], report["uptime_rows"]) == (3, 1)
    assert report["files"] == {str(gcp): "gcp", str(azure): "azure"}
    gcp.write_text(_gcp_line("111", 9.0))  # the day again, with final billing: replaces GCP only
    again = run_cli("taskcluster", "costs", "--date", "2026-05-10", str(gcp), db=duckdb_url)
    assert again.returncode == 0, again.stderr
    assert [(p, i, c) for p, i, _, c in _costs(duckdb_url)] == [
        ("azure", "vm-a1", 1.5),
        ("gcp", "111", 8.0),
    ]


def test_cli_costs_bad_file_is_one_line_and_writes_nothing(duckdb_url: str, tmp_path: Path) -> None:
    good = tmp_path / "gcp.jsonl"
    good.write_text(_gcp_line("111", 5.0))
    with Store.open(duckdb_url) as store:
        load_costs(store=store, paths=[good], day=date(2026, 5, 10), gcp_projects=())
    before = _costs(duckdb_url)
    good.write_text(_gcp_line("111", 50.0))
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([_gcp_line("333", 1.0), _gcp_line("333", 1.0, start="last tuesday")]))
    failed = run_cli(
        "taskcluster", "costs", "--date", "2026-05-10", str(good), str(bad), db=duckdb_url
    )
    assert failed.returncode == 1
    assert failed.stderr.strip() == (
        f"error: {bad}: line 2: column 'usage_start_time': bad date 'last tuesday'"
    )
    assert _costs(duckdb_url) == before  # the good file was not half-written either
    columns = tmp_path / "short.csv"
    columns.write_text("project.id,resource.name,resource.global_name,usage_start_time,credits\n")
    missing = run_cli("taskcluster", "costs", "--date", "2026-05-10", str(columns), db=duckdb_url)
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        f"error: {columns}: missing column 'cost' for a gcp file",
    )


def _series(instance: str, uptime: float) -> dict[str, Any]:
    labels = {"project_id": "p1", "zone": "us-central1-b", "instance_id": instance}
    interval = {"startTime": "2024-08-01T00:00:00Z", "endTime": "2024-08-01T23:59:59Z"}
    return {
        "metric": {"type": "compute.googleapis.com/instance/uptime"},
        "resource": {"type": "gce_instance", "labels": labels},
        "metricKind": "DELTA",
        "valueType": "DOUBLE",
        "points": [{"interval": interval, "value": {"doubleValue": uptime}}],
    }


def test_cli_metrics_from_cloud_monitoring(
    duckdb_url: str, recorded_http: RecordedHttpServer
) -> None:
    recorded_http.sequence(
        "GET",
        "/v3/projects/p1/timeSeries",
        [
            Response(body={"timeSeries": [_series("1", 3600.126)], "nextPageToken": "n2"}),
            Response(body={"timeSeries": [_series("2", 60.0)]}),
        ]
        * 2,  # two pages for the dry run and for the real one
    )
    env = {
        "SHIPGAUGE_TASKCLUSTER_MONITORING_URL": recorded_http.url,
        "SHIPGAUGE_TASKCLUSTER_MONITORING_TOKEN": "t0k",
    }
    dry = run_cli(
        "taskcluster",
        "metrics",
        "--date",
        "2024-08-01",
        "--project",
        "p1",
        "--dry-run",
        db=duckdb_url,
        env=env,
    )
    assert dry.returncode == 0, dry.stderr
    assert "would replace (dry run) 2024-08-01: 2 instance(s)" in dry.stdout
    first = recorded_http.requests[0]
    assert first.header("Authorization") == "Bearer t0k"
    assert first.query["aggregation.alignmentPeriod"] == "86399s"
    assert first.query["interval.endTime"] == "2024-08-01T23:59:59Z"
    assert recorded_http.requests[1].query["pageToken"] == "n2"
    with Store.open(duckdb_url) as store:
        assert store.count("worker_metrics") == 0
    args = ("taskcluster", "metrics", "--date", "2024-08-01", "--project", "p1")
    done = run_cli(*args, db=duckdb_url, env=env)
    assert done.returncode == 0, done.stderr
    with Store.open(duckdb_url) as store:
        assert store.query("SELECT instance_id, uptime FROM worker_usage ORDER BY 1").rows == [
            ("1", 3600.13),
            ("2", 60.0),
        ]
    soon = run_cli(
        "taskcluster", "metrics", "--date", "2999-01-01", "--project", "p1", db=duckdb_url, env=env
    )
    assert soon.returncode == 1 and "can be exported from 2999-01-02 00:09 UTC" in soon.stderr


def test_cli_metrics_from_a_file(duckdb_url: str, tmp_path: Path) -> None:
    uptime = tmp_path / "uptime.csv"
    uptime.write_text(
        "project,zone,instance_id,uptime,interval_start_time,interval_end_time\n"
        "releng,mdc2,t-mojave-r7-153,80000,2019-06-26T00:00:00Z,2019-06-26T23:59:59Z\n"
    )
    done = run_cli(
        "taskcluster", "metrics", "--date", "2019-06-26", "--file", str(uptime), db=duckdb_url
    )
    assert done.returncode == 0, done.stderr
    with Store.open(duckdb_url) as store:
        assert store.query("SELECT zone, uptime, attribution_method FROM worker_usage").rows == [
            ("mdc2", 80000.0, "uptime_file")
        ]


def test_cli_definitions_fill_tags_and_are_cached(
    duckdb_url: str, recorded_http: RecordedHttpServer
) -> None:
    with Store.open(duckdb_url) as store, store.transaction() as tx:
        treeherder = [
            m for m in recorded_stream() if "taskcluster.net" in m[1] or m[1].startswith("primary.")
        ][:91]
        store_messages(tx, [(body, exchange) for exchange, _, body in treeherder])
    definitions = json.loads(
        (PULSE / "treeherder_taskcluster_task_definitions_2019.json").read_text()
    )
    entries = [{"taskId": k, "task": v} for k, v in definitions.items()]
    recorded_http.sequence(
        "POST",
        "/api/queue/v1/tasks",
        [
            Response(body={"tasks": entries[:50], "continuationToken": "c1"}),
            Response(body={"tasks": entries[50:]}),
        ],
    )
    env = {"SHIPGAUGE_TASKCLUSTER_ROOT_URL": recorded_http.url}
    done = run_cli("taskcluster", "definitions", "--json", db=duckdb_url, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"asked": 91, "stored": 91, "missing": []}
    asked = json.loads(recorded_http.requests[0].body)["taskIds"]
    assert len(asked) == 91 and recorded_http.requests[1].query == {"continuationToken": "c1"}
    with Store.open(duckdb_url) as store:
        assert store.count("task_definitions") == 91
        assert store.query("SELECT count(*) FROM tasks WHERE tags IS NULL").scalar() == 0
        kind = store.query(
            "SELECT kind FROM tasks WHERE task_id = 'A35mWTRuQmyj88yMnIF0fA'"
        ).scalar()
        assert kind == definitions["A35mWTRuQmyj88yMnIF0fA"]["tags"]["kind"]
    with Store.open(duckdb_url) as store, HttpConnector(recorded_http.url) as http:
        assert fetch_task_definitions(store=store, http=http).asked == 0  # cached
    assert len(recorded_http.requests) == 2


def test_demo_then_query_task_run_costs(duckdb_url: str) -> None:
    assert run_cli("demo", db=duckdb_url).returncode == 0
    query = run_cli("query", "select * from task_run_costs limit 5", "--json", db=duckdb_url)
    assert query.returncode == 0, query.stderr
    assert len(json.loads(query.stdout)) == 5
    summary = json.loads(run_cli("taskcluster", "summary", "--json", db=duckdb_url).stdout)
    assert summary["tasks"] >= 95  # other capabilities' demos add tasks too
    pools = {
        p["worker_pool"]: None if p["cost"] is None else round(p["cost"], 4)
        for p in summary["by_worker_pool"]
    }  # a pool no source prices has no cost (null), not 0
    assert pools["proj-fuzzing/linux-pool10"] == 2.905  # 10,458 s / 14,400 s x 4.00 $
    assert pools["scriptworker-prov-v1/signing-linux-v1"] is None
