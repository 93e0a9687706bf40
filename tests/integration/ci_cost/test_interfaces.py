"""`shipgauge ci-cost …` (real subprocess), the `/api/v1/ci/costs` routes, and the demo."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pyarrow.parquet as pq

from shipgauge.api import create_app
from shipgauge.config import load_settings
from shipgauge.demo.ci_cost import load_demo
from shipgauge.store import Store
from tests.conftest import free_port, run_cli
from tests.integration.ci_cost.fake_ci import FakeCI, entry, node, pushlog_doc, renamed


def _get(store: Store, *paths: str) -> list[httpx.Response]:
    app = create_app(load_settings(), store=store)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.get(p) for p in paths]

    return asyncio.run(run())


def test_demo_then_report_unpriced_and_export(duck: Store, tmp_path: Path) -> None:
    load_demo(duck)
    counts = {t: duck.count(t) for t in ("pushes", "push_task_groups", "tasks", "task_runs")}
    load_demo(duck)  # idempotent
    assert (
        {t: duck.count(t) for t in counts}
        == counts
        == {
            "pushes": 10,
            "push_task_groups": 10,
            "tasks": 34,
            "task_runs": 33,
        }
    )
    db = duck.url
    duck.close()
    report = run_cli("ci-cost", "report", "--json", db=db)
    assert report.returncode == 0, report.stderr
    pushes = json.loads(report.stdout)
    assert [p["push_id"] for p in pushes] == list(range(33277, 33267, -1))
    never = [p["push_id"] for p in pushes if p["group_state"] == "never"]
    assert never == [33275, 33272]
    priced = [p for p in pushes if p["group_state"] == "final"]
    assert all(p["total_cost"] > 0 for p in priced)
    assert {p["pricing_methods"] for p in priced} == {"unpriced,worker_type_rate"}

    # Into a pipe (no terminal width): every cell whole, the pricing method of each push shown.
    table = run_cli("ci-cost", "report", db=db)
    assert table.returncode == 0, table.stderr
    assert table.stdout.count("unpriced,worker_type_rate") == 8 and "…" not in table.stdout
    pools = run_cli("ci-cost", "report", "--by", "pool", db=db).stdout
    assert "aws-provisioner-v1/gecko-t-win10-64" in pools and "…" not in pools
    (signing,) = [line for line in pools.splitlines() if "signing-linux-v1" in line]
    assert [cell.strip() for cell in signing.split("│")][5] == ""  # unpriced: no cost, not 0
    unpriced = run_cli("ci-cost", "unpriced", "--json", db=db)
    assert [p["worker_pool"] for p in json.loads(unpriced.stdout)] == [
        "scriptworker-prov-v1/signing-linux-v1"
    ]
    slashed = run_cli("ci-cost", "report", "--repo", "/mozilla-central/", "--json", db=db)
    assert len(json.loads(slashed.stdout)) == 10  # the same repository key as `mozilla-central`
    for args, code, says in [
        (("report", "--since", "999999d"), 2, "reaches back before year 1"),
        (("report", "--limit", "0"), 2, "--limit"),
        (("scan", "--backfill", "0"), 2, "--backfill"),
        (("export", __file__), 1, "error: [Errno 17] File exists"),
    ]:
        refused = run_cli("ci-cost", *args, db=db, env={"COLUMNS": "200"})  # no wrapped box
        assert refused.returncode == code and says in refused.stderr, (args, refused.stderr)
        assert "Traceback" not in refused.stderr
    exported = run_cli("ci-cost", "export", str(tmp_path / "lake"), "--json", db=db)
    files = {e["model"]: e["rows"] for e in json.loads(exported.stdout)}
    assert files["push_costs"] == 10
    assert pq.read_table(tmp_path / "lake" / "push_costs.parquet").num_rows == 10
    by_day = pq.read_schema(tmp_path / "lake" / "cost_by_repo_day.parquet")
    assert (str(by_day.field("tasks").type), str(by_day.field("runs").type)) == ("int64", "int64")


def test_api_pushes_and_one_push(duck: Store) -> None:
    load_demo(duck)
    listed, window, one, missing, bad = _get(
        duck,
        "/api/v1/ci/costs/pushes?repo=mozilla-central",
        "/api/v1/ci/costs/pushes?start=2013-09-04T10:00:00Z&end=2013-09-04T11:00:00Z",
        "/api/v1/ci/costs/pushes/mozilla-central/33276",
        "/api/v1/ci/costs/pushes/integration/autoland/33276",
        "/api/v1/ci/costs/pushes?mode=hourly",
    )
    (too_old,) = _get(duck, "/api/v1/ci/costs/pushes?start=999999d")
    assert too_old.status_code == 400 and too_old.json()["error"]["field"] == "start"
    assert len(listed.json()["pushes"]) == 10
    assert all("10:00" <= p["pushed_at"][11:16] < "11:00" for p in window.json()["pushes"])
    assert 0 < len(window.json()["pushes"]) < 10
    detail = one.json()
    assert detail["push"]["task_group_id"] == "demo-33276"
    assert [t["task_id"][:16] for t in detail["tasks"]][:1] == ["A-8AqzvvRsqH9b0V"]  # costliest
    assert {p["worker_pool"] for p in detail["pools"]} >= {"aws-provisioner-v1/gecko-t-win10-64"}
    assert missing.status_code == 404
    assert missing.json()["error"]["field"] == "push_id"
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "mode"


def test_cli_scan_json_and_its_failures(duck: Store, ci: FakeCI, tmp_path: Path) -> None:
    ci.pushlog("integration/autoland", pushlog_doc({1: [node(1)]}, 1), 0, 200)
    ci.index("autoland", node(1), "g1")
    ci.group("g1", [[renamed(entry(), "g1", "g1")]])
    env = {
        "SHIPGAUGE_HG_URL": ci.server.url,
        "SHIPGAUGE_TASKCLUSTER_ROOT_URL": ci.server.url,
        "SHIPGAUGE_HTTP_RETRIES": "0",
    }
    db = duck.url
    duck.close()
    scanned = run_cli(
        "ci-cost",
        "scan",
        "--repo",
        "integration/autoland",
        "--since",
        "0",
        "--json",
        db=db,
        env=env,
    )
    assert scanned.returncode == 0, scanned.stderr
    (summary,) = json.loads(scanned.stdout)
    assert (summary["repo"], summary["states"], summary["checkpoint"]) == (
        "integration/autoland",
        {"final": 1},
        1,
    )

    dead = {**env, "SHIPGAUGE_HG_URL": f"http://127.0.0.1:{free_port()}"}
    down = run_cli("ci-cost", "scan", "--repo", "mozilla-central", db=db, env=dead)
    assert down.returncode == 1
    assert (
        down.stderr.startswith("error: hg pushlog: ConnectError") and down.stderr.count("\n") == 1
    )

    wrong = tmp_path / "costs.csv"
    wrong.write_text("worker_type,hours,dollars\ngecko-t-win10-64,1,0.1\n")
    refused = run_cli("ci-cost", "prices", str(wrong), db=db)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "modified,year,month,provider,provisioner,worker_type,usage_hours,cost" in refused.stderr
    assert "provisioner,worker_type,usage_hours,cost,unit_cost" in refused.stderr
    with Store.open(db) as store:
        assert store.count("worker_type_costs") == 0
