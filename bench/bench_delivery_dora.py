"""GET /api/v1/dora over 2 years, 50 services, 1,000,000 deployments, 5,000,000 commits and
20,000 incidents, against a real `shipgauge serve` on DuckDB.

Targets (issue 21): p95 < 100 ms for one service, < 500 ms for all 50 services, with no write
between the calls. The first call after a write computes the samples the next ones read
(queries/dora_samples.py): printed apart (first_*_ms), as is the server's CPU per call (the
machine may be shared; the load average is printed too). Baseline in the same run:
GET /api/v1/health. The history is written by SQL straight into the event tables (the ingest
path has its own benchmark), then its per-commit facts are computed by the same statements a bulk
load runs (`refresh_delivery_facts`; refresh_s); set DORA_BENCH_SCALE=0.1 for a tenth of it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report, timed

from shipgauge.pipelines.delivery.facts import refresh_delivery_facts
from shipgauge.store import Store

SCALE = float(os.environ.get("DORA_BENCH_SCALE", "1"))
SERVICES = 50
DEPLOYMENTS = int(1_000_000 * SCALE)
COMMITS_PER_DEPLOYMENT = 5
INCIDENTS = int(20_000 * SCALE)
DAYS = 730
CALLS = 20
ONE_SERVICE_TARGET_MS = 100
ALL_SERVICES_TARGET_MS = 500

# One deployment every DAYS/per-service-count days per service, each shipping 5 commits pushed
# 1-73 hours earlier (one push event each); 3 % fail, 2 % are hotfixes, 1 % rollbacks.
# Incidents are opened 1 h after a deployment and resolved 3 h later; a third name the
# deployment, a third a cause commit, a third nothing.
HISTORY_SQL = """
CREATE TEMP TABLE bench_deploys AS
SELECT
    i,
    'svc-' || lpad(CAST(i % {services} AS VARCHAR), 2, '0') AS service,
    now() - INTERVAL {days} DAY
        + to_microseconds(CAST((i // {services}) * {step_us} + (i % 97) * 1000000 AS BIGINT))
        AS deployed_at
FROM range({deployments}) AS t(i);

INSERT INTO delivery_events
SELECT service, 'd' || i, 'deploy', NULL, deployed_at, deployed_at, 'production',
    CASE WHEN i % 33 = 7 THEN 'failure' ELSE 'success' END, NULL, NULL, NULL, NULL,
    i % 100 = 3, i % 50 = 1, NULL, 'bench', '{{}}'
FROM bench_deploys;

INSERT INTO delivery_events
SELECT service, 'p' || i, 'push', NULL,
    deployed_at - to_microseconds(CAST(3600000000 * (1 + i % 73) AS BIGINT)),
    deployed_at, NULL, NULL, NULL, NULL, NULL, NULL, FALSE, FALSE, NULL, 'bench', '{{}}'
FROM bench_deploys;

INSERT INTO delivery_event_commits
SELECT d.service, e.prefix || d.i, 'c' || (d.i * {commits} + j), e.kind,
    CASE WHEN e.kind = 'deploy' THEN d.deployed_at
        ELSE d.deployed_at - to_microseconds(CAST(3600000000 * (1 + d.i % 73) AS BIGINT)) END,
    CASE WHEN e.kind = 'deploy' THEN 'production' END,
    CASE WHEN e.kind = 'push' THEN NULL WHEN d.i % 33 = 7 THEN 'failure' ELSE 'success' END
FROM bench_deploys AS d, range({commits}) AS c(j),
    (VALUES ('d', 'deploy'), ('p', 'push')) AS e(prefix, kind);

INSERT INTO delivery_events
SELECT d.service, 'inc-' || n || '-' || a.action, 'incident', a.action,
    d.deployed_at + to_microseconds(CAST(3600000000 * a.hours AS BIGINT)),
    d.deployed_at, 'production', NULL,
    CASE WHEN n % 3 = 0 THEN 'd' || d.i END, 'inc-' || n, NULL,
    CASE WHEN n % 3 = 1 THEN 'c' || (d.i * {commits}) END, FALSE, FALSE, NULL, 'bench', '{{}}'
FROM range({incidents}) AS t(n)
JOIN bench_deploys AS d ON d.i = (n * 49) % {deployments}
CROSS JOIN (VALUES ('opened', 1), ('resolved', 4)) AS a(action, hours);
"""


def build_history(store: Store) -> None:
    step_us = DAYS * 86_400_000_000 // (DEPLOYMENTS // SERVICES)
    script = HISTORY_SQL.format(
        services=SERVICES, days=DAYS, step_us=step_us, deployments=DEPLOYMENTS,
        commits=COMMITS_PER_DEPLOYMENT, incidents=INCIDENTS,
    )  # fmt: skip
    with store.session() as conn:
        conn.execute(script)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def measure(client: httpx.Client, path: str, params: dict[str, str], calls: int) -> list[float]:
    latencies = []
    for _ in range(calls):
        started = time.perf_counter()
        response = client.get(path, params=params)
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
    return latencies


def cpu_s(pid: int) -> float:
    """The CPU seconds (user and system) a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_cpu(
    client: httpx.Client, pid: int, params: dict[str, str], calls: int
) -> tuple[list[float], float]:
    """Latencies of `calls` DORA calls and the server's CPU seconds per call."""
    before = cpu_s(pid)
    latencies = measure(client, "/api/v1/dora", params, calls)
    return latencies, (cpu_s(pid) - before) / calls


def peak_rss_mb(pid: int) -> int:
    """The server's peak resident memory (Linux /proc), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    (line,) = [x for x in status.splitlines() if x.startswith("VmHWM:")]
    return int(line.split()[1]) // 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "dora.duckdb")
        with Store.open(db) as store:
            _, build_s = timed(lambda: build_history(store))
            _, refresh_s = timed(lambda: refresh_delivery_facts(store))
            counts = {t: store.count(t) for t in ("delivery_events", "delivery_event_commits")}
        port = 8700 + os.getpid() % 200
        exe = str(Path(sys.executable).parent / "shipgauge")
        server = subprocess.Popen([exe, "--db", db, "serve", "--port", str(port)])
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=120) as client:
                for _ in range(300):
                    try:
                        client.get("/api/v1/health")
                        break
                    except httpx.TransportError:
                        time.sleep(0.1)
                health = measure(client, "/api/v1/health", {}, CALLS)
                # The first calls after the history was written compute the samples.
                first_one, first_one_cpu = measure_cpu(client, server.pid, {"service": "svc-07"}, 1)
                first_all, first_all_cpu = measure_cpu(client, server.pid, {}, 1)
                one, one_cpu = measure_cpu(client, server.pid, {"service": "svc-07"}, CALLS)
                every, every_cpu = measure_cpu(client, server.pid, {}, CALLS)
                body = client.get("/api/v1/dora", params={"service": "svc-07"}).json()
                server_rss_mb = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(30)
    metrics = body["services"][0]["metrics"]
    report(
        "delivery dora [duckdb]",
        deployments=f"{DEPLOYMENTS:,}",
        commits=f"{counts['delivery_event_commits'] // 2:,}",
        incidents=f"{INCIDENTS:,}",
        build_s=f"{build_s:.0f}",
        refresh_s=f"{refresh_s:.0f}",
        one_service_p95_ms=f"{p95(one) * 1000:.0f}",
        one_service_target_ms=f"<{ONE_SERVICE_TARGET_MS}",
        one_service_cpu_ms=f"{one_cpu * 1000:.0f}",
        all_services_p95_ms=f"{p95(every) * 1000:.0f}",
        all_services_target_ms=f"<{ALL_SERVICES_TARGET_MS}",
        all_services_cpu_ms=f"{every_cpu * 1000:.0f}",
        first_one_service_ms=f"{first_one[0] * 1000:.0f}",
        first_one_service_cpu_ms=f"{first_one_cpu * 1000:.0f}",
        first_all_services_ms=f"{first_all[0] * 1000:.0f}",
        first_all_services_cpu_ms=f"{first_all_cpu * 1000:.0f}",
        health_p95_ms=f"{p95(health) * 1000:.1f}",
        load_average="/".join(f"{x:.1f}" for x in os.getloadavg()),
        server_peak_rss_mb=server_rss_mb,
        lead_time_p50_h=f"{metrics['change_lead_time']['value'] / 3600:.1f}",
        change_fail_rate=f"{metrics['change_fail_rate']['value']:.3f}",
    )


if __name__ == "__main__":
    main()
