"""A `ci-cost scan` killed with SIGKILL and run again leaves the same tables as one clean scan."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from shipgauge.pipelines.ci_cost import scan_ci_cost
from shipgauge.pipelines.ci_cost.scan import WRITE_AHEAD_PUSHES
from shipgauge.store import Store
from tests.integration.ci_cost.fake_ci import FakeCI, entry, node, pushlog_doc, renamed

PUSHES = 300
PAGE = 50
BATCH = 20  # pushes per transaction
CONCURRENCY = 4
# scan.py resolves pushes in order, a window of 2 * concurrency + WRITE_AHEAD_PUSHES in flight,
# and starts push n + window once push n's outcome is handed over; the writer commits a batch
# before the next outcome is taken. So a lookup of push BATCH + window + 1 (push BATCH + 1
# handed over) means the first batch and its checkpoint are committed.
COMMITTED_AFTER = BATCH + (2 * CONCURRENCY + WRITE_AHEAD_PUSHES) + 1
SHIPGAUGE = str(Path(sys.executable).parent / "shipgauge")
# What must match; times of the scan itself (first_seen_at, checked_at, updated_at) may not.
SNAPSHOTS = {
    "pushes": "SELECT * FROM pushes ORDER BY push_id",
    "changesets": "SELECT * FROM changesets ORDER BY node",
    "tasks": "SELECT * FROM tasks ORDER BY task_id",
    "task_runs": "SELECT * FROM task_runs ORDER BY task_id, run_id",
    "push_task_groups": "SELECT * EXCLUDE (first_seen_at, checked_at) FROM push_task_groups"
    " ORDER BY push_id",
    "checkpoints": "SELECT source, position FROM ingest_checkpoints ORDER BY source",
    "push_costs": "SELECT * FROM push_costs ORDER BY push_id",
}


def _serve(ci: FakeCI) -> dict[str, str]:
    for start in range(0, PUSHES + PAGE, PAGE):  # the last page, past the end, is empty
        pushes = {p: [node(p)] for p in range(start + 1, min(start + PAGE, PUSHES) + 1)}
        ci.pushlog("mozilla-central", pushlog_doc(pushes, PUSHES), start, start + PAGE)
    for p in range(1, PUSHES + 1):
        group = f"g{p}"
        ci.index("mozilla-central", node(p), group)
        tasks = [renamed(entry(), group, group), renamed(entry("failed"), f"t{p}", group)]
        path = f"/api/queue/v1/task-group/{group}/list"
        ci.server.add("GET", path, body={"taskGroupId": group, "tasks": tasks}, delay=0.01)
    env = {
        "SHIPGAUGE_HG_URL": ci.server.url,
        "SHIPGAUGE_TASKCLUSTER_ROOT_URL": ci.server.url,
        "SHIPGAUGE_HTTP_RETRIES": "0",
        "SHIPGAUGE_PUSHLOG_PAGE_SIZE": str(PAGE),
        "SHIPGAUGE_CI_COST_CONCURRENCY": str(CONCURRENCY),
        "SHIPGAUGE_CI_COST_WRITE_BATCH_PUSHES": str(BATCH),
        "SHIPGAUGE_CI_COST_REPOS": '["mozilla-central"]',
    }
    return env


def _snapshot(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with Store.open(str(db)) as store:
        return {name: store.query(sql).rows for name, sql in SNAPSHOTS.items()}


def _lookup_path(push: int) -> str:
    return f"/api/index/v1/task/gecko.v2.mozilla-central.revision.{node(push)}.taskgraph.decision"


def test_killed_scan_rerun_equals_one_clean_scan(
    ci: FakeCI, _template_db: Path, tmp_path: Path
) -> None:
    env = _serve(ci)
    clean, killed = tmp_path / "clean.duckdb", tmp_path / "killed.duckdb"
    shutil.copy(_template_db, clean)
    shutil.copy(_template_db, killed)
    settings = ci.settings(
        pushlog_page_size=PAGE, ci_cost_concurrency=CONCURRENCY, ci_cost_write_batch_pushes=BATCH
    )
    with Store.open(str(clean)) as store:
        scan_ci_cost(store=store, settings=settings, since=0)

    before = len(ci.server.requests)
    proc = subprocess.Popen(
        [SHIPGAUGE, "--db", str(killed), "ci-cost", "scan", "--since", "0"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # The scan holds the DuckDB file, so its checkpoint cannot be read until it is dead: wait
    # for the lookup that is only made once the first batch is committed (COMMITTED_AFTER).
    committed = _lookup_path(COMMITTED_AFTER)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if any(r.path == committed for r in ci.server.requests[before:]):
            break
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL  # killed, not finished or failed on its own
    with Store.open(str(killed)) as store:
        position = store.checkpoint("ci_cost.push:mozilla-central")
    assert position is not None  # at least one batch was committed before the kill
    resumed_after = int(position)
    assert BATCH <= resumed_after < PUSHES  # and it really stopped half way

    before = len(ci.server.requests)
    with Store.open(str(killed)) as store:  # no --since: the scan resumes from its checkpoint
        (rerun,) = scan_ci_cost(store=store, settings=settings)
    assert rerun.pushes_checked == PUSHES - resumed_after
    done = {_lookup_path(p) for p in range(1, resumed_after + 1)}
    assert not [r.path for r in ci.server.requests[before:] if r.path in done]
    assert _snapshot(killed) == _snapshot(clean)
