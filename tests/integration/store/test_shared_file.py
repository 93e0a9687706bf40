"""One DuckDB file, many processes: the server, CLI commands and other stores take turns.

The embedded default lets one process open the file at a time; `engines.turns` hands it over
between transactions. These tests run real processes against one file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from shipgauge.store import Store
from shipgauge.store.engines.turns import StoreBusy
from tests.conftest import run_cli
from tests.integration.ci_cost.fake_ci import FakeCI, entry, node, pushlog_doc, renamed
from tests.support.recorded_http import DELIVERY_SEED_CSV, RecordedHttpServer

# The DevOps Toolkit's own event history (Time,Repo,Event,Metadata).


def _holder(db: str, body: str) -> subprocess.Popen[str]:
    """A Python process that opens the store, runs `body` with it, and prints 'ready' first."""
    script = "\n".join(
        [
            "import time",
            "from shipgauge.store import Store",
            f"store = Store.open({db!r})",
            "print('ready', flush=True)",
            body,
        ]
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
    return proc


def test_an_idle_process_hands_the_file_over_and_sees_what_was_written(tmp_path: Path) -> None:
    db = str(tmp_path / "shared.duckdb")
    Store.open(db).close()
    # The holder keeps its store open and idle, then reads what the test wrote meanwhile.
    holder = _holder(
        db,
        "time.sleep(2)\n"
        "print(store.query(\"SELECT position FROM ingest_checkpoints WHERE source = 'x'\")"
        ".scalar(), flush=True)",
    )
    with Store.open(db, wait_s=10) as store, store.transaction() as tx:
        tx.set_checkpoint("x", 42)
    out, err = holder.communicate(timeout=30)
    assert holder.returncode == 0, err
    assert out.strip() == "42"


def test_a_busy_file_is_a_one_line_error_naming_its_holder(tmp_path: Path) -> None:
    db = str(tmp_path / "busy.duckdb")
    Store.open(db).close()
    holder = _holder(db, "with store.transaction() as tx:\n    time.sleep(6)")
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusy) as caught:
            Store.open(db, wait_s=0.5)
        assert time.monotonic() - started < 3
        message = caught.value.message
        assert f"PID {holder.pid}" in message and "busy" in message and "PostgreSQL" in message
        assert "\n" not in message
    finally:
        holder.kill()
        holder.wait()
    # The turn ends with its process, even killed.
    with Store.open(db, wait_s=5) as store:
        assert store.migration_level() > 0


def test_cli_commands_work_beside_a_running_server(
    tmp_path: Path, start_server: Callable[[str], str], recorded_http: RecordedHttpServer
) -> None:
    ci = FakeCI(recorded_http)
    db = str(tmp_path / "shipgauge.duckdb")
    base = start_server(db)
    env = {"SHIPGAUGE_HG_URL": ci.server.url, "SHIPGAUGE_TASKCLUSTER_ROOT_URL": ci.server.url}

    created = run_cli("tokens", "create", "--service", "*", "--scope", "events:write", db=db)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()

    imported = run_cli("events", "import", str(DELIVERY_SEED_CSV), "--json", db=db)
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["stored"] == 373

    ci.pushlog("integration/autoland", pushlog_doc({1: [node(1)]}, 1), 0, 200)
    ci.index("autoland", node(1), "g1")
    ci.group("g1", [[renamed(entry(), "g1", "g1")]])
    scan_args = ("ci-cost", "scan", "--repo", "integration/autoland", "--since", "0")
    scanned = run_cli(*scan_args, db=db, env=env)
    assert scanned.returncode == 0, scanned.stderr

    counted = run_cli("query", "SELECT count(*) AS n FROM delivery_events", "--json", db=db)
    assert counted.returncode == 0, counted.stderr
    assert json.loads(counted.stdout) == [{"n": 237}]  # identical rows of the file are one event
    report = run_cli("dora", "report", "--since", "3650d", "--environment", "*", db=db)
    assert report.returncode == 0, report.stderr

    # Every effect is visible through the server that kept running all along.
    posted = httpx.post(
        f"{base}/api/v1/events",
        json={"service": "web", "kind": "deploy", "event_id": "beside-cli"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert posted.status_code == 200, posted.text
    events = httpx.get(f"{base}/api/v1/models/dora_deployments?limit=10000", timeout=30).json()
    assert any(r["event_id"] == "beside-cli" for r in events["rows"])
    pushes = httpx.get(f"{base}/api/v1/ci/costs/pushes", timeout=30)
    assert pushes.status_code == 200
    assert [p["push_id"] for p in pushes.json()["pushes"]] == [1]
