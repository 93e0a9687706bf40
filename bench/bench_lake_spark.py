"""The cost models over one Parquet lake of 10,000,000 task runs: DuckDB against Spark local.

The demo store is grown to BENCH_LAKE_RUNS task runs (default 10,000,000; e.g.
BENCH_LAKE_RUNS=1000000 for a quick run) by copying its pushes, task groups, tasks and runs
(tests/support/lake_data.py), exported with `lake export`, then every model of CI cost and the
Taskcluster ETL runs over that lake with `lake run`'s code: once on DuckDB (in process, all
cores), once on Spark (local[*], driver memory BENCH_SPARK_MEMORY, default 3g). Each model is
timed with its write to Parquet; the models it reads were written just before (so a model's
time is its own). One line per model, side by side, then the totals and Spark's start-up.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import report, timed

from shipgauge.connectors.lake import DuckDBLakeEngine
from shipgauge.connectors.lake.spark import SparkLakeEngine, spark_session
from shipgauge.demo import run_demo
from shipgauge.pipelines.lake import ModelRun, run_models
from shipgauge.store import Store
from tests.support.lake_data import grown_lake, models_of

RUNS = int(os.environ.get("BENCH_LAKE_RUNS", "10000000"))
SPARK_MEMORY = os.environ.get("BENCH_SPARK_MEMORY", "3g")


def _lake(work: Path) -> tuple[Path, int]:
    demo = work / "demo.duckdb"
    with Store.open(str(demo)) as store:
        run_demo(store)
        store.query("CHECKPOINT")
    (lake, counts), seconds = timed(lambda: grown_lake(demo, work, task_runs=RUNS))
    report("lake: grow + export", task_runs=counts["task_runs"], seconds=round(seconds, 1))
    return lake, counts["task_runs"]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench_lake_") as tmp:
        work = Path(tmp)
        lake, runs = _lake(work)
        models = models_of("ci_cost", "taskcluster")
        duck = run_models(lake, work / "duckdb", engine=DuckDBLakeEngine(), models=models)
        started = time.perf_counter()
        conf = {"spark.driver.memory": SPARK_MEMORY}
        session = spark_session(master="local[*]", conf=conf)
        startup = time.perf_counter() - started
        spark = run_models(lake, work / "spark", engine=SparkLakeEngine(session), models=models)
        session.stop()
    _print(duck, spark, runs, startup)


def _print(duck: list[ModelRun], spark: list[ModelRun], runs: int, startup: float) -> None:
    for d, s in zip(duck, spark, strict=True):
        report(
            f"lake model {d.model}",
            rows=d.rows,
            duckdb_s=round(d.seconds, 2),
            spark_s=round(s.seconds, 2),
            ratio=round(s.seconds / max(d.seconds, 1e-6), 1),
        )
    report(
        "lake cost models (total)",
        task_runs=runs,
        duckdb_s=round(sum(d.seconds for d in duck), 1),
        spark_s=round(sum(s.seconds for s in spark), 1),
        spark_startup_s=round(startup, 1),
        cores=os.cpu_count(),
        load=os.getloadavg()[0],
    )


if __name__ == "__main__":
    main()
