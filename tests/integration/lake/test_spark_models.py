"""Every model on Spark over the lake gives DuckDB's rows: the demo, and lakes grown large."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shipgauge.cli import app
from shipgauge.connectors.lake import DuckDBLakeEngine
from shipgauge.connectors.lake.spark import SparkLakeEngine
from shipgauge.pipelines.lake import run_models
from shipgauge.store import Store
from shipgauge.store.views import discover_models
from tests.support.lake_data import grown_lake, models_of
from tests.support.lake_rows import assert_same_rows, read_rows


def _both_engines(spark: Any, lake: Path, out: Path, models: list[str]) -> dict[str, int]:
    """Run `models` on DuckDB and on Spark over `lake`; assert the same rows; rows per model.

    A model that reads the clock takes the lake's export time on both (run_models' default)."""
    duckdb_runs = run_models(lake, out / "duckdb", engine=DuckDBLakeEngine(), models=models)
    spark_runs = run_models(lake, out / "spark", engine=SparkLakeEngine(spark), models=models)
    assert [r.model for r in spark_runs] == [r.model for r in duckdb_runs]
    rows = {}
    for duck, spark_run in zip(duckdb_runs, spark_runs, strict=True):
        rows[duck.model] = assert_same_rows(duck.model, duck.path, spark_run.path)
        assert spark_run.rows == duck.rows == rows[duck.model]
    return rows


def test_every_model_on_spark_equals_duckdb_over_the_demo_lake(
    spark: Any, demo_lake: Path, tmp_path: Path
) -> None:
    rows = _both_engines(spark, demo_lake, tmp_path, [])
    assert set(rows) == {m.name for m in discover_models()}
    assert rows["push_costs"] == 10 and rows["dora_deployments"] == 617
    # dora_summary read the clock as the lake's export time: its 90 days hold deployments.
    assert rows["dora_summary"] > 0


def test_lake_run_push_costs_equals_the_store(spark: Any, demo_db: Path, tmp_path: Path) -> None:
    # The acceptance, in this process (so the CLI takes the test's SparkSession).
    lake, out = tmp_path / "lake", tmp_path / "out"
    runner = CliRunner()
    exported = runner.invoke(app, ["--db", str(demo_db), "lake", "export", str(lake)])
    assert exported.exit_code == 0, exported.output
    again = runner.invoke(app, ["--db", str(demo_db), "lake", "export", str(lake), "--json"])
    assert again.exit_code == 0 and '"written": 1' not in again.output
    ran = runner.invoke(
        app,
        ["--db", str(demo_db), "lake", "run", str(lake), "--engine", "spark",
         "--model", "push_costs", "--out", str(out)],
    )  # fmt: skip
    assert ran.exit_code == 0, ran.output
    with Store.open(str(demo_db)) as store:
        expected = store.query("SELECT * FROM push_costs")
    columns, rows = read_rows(out / "push_costs")
    assert columns == expected.columns
    assert len(rows) == len(expected.rows) == 10
    assert_same_rows("push_costs", lake / "push_costs", out / "push_costs")


@pytest.fixture(scope="module")
def grown(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """The demo grown to 1,000,000 task runs and 100,000 deployments."""
    return grown_lake(
        demo_db, tmp_path_factory.mktemp("grown"), task_runs=1_000_000, deployments=100_000
    )


@pytest.mark.spark_scale
def test_cost_models_on_spark_over_a_million_task_runs(
    spark: Any, grown: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    lake, counts = grown
    assert counts["task_runs"] >= 990_000
    rows = _both_engines(spark, lake, tmp_path, models_of("ci_cost", "taskcluster"))
    assert rows["task_run_costs"] == counts["task_runs"]


@pytest.mark.spark_scale
def test_dora_models_on_spark_over_100000_deployments(
    spark: Any, grown: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    lake, counts = grown
    assert counts["deployments"] >= 99_000
    rows = _both_engines(spark, lake, tmp_path, models_of("delivery"))
    assert rows["dora_deployments"] == counts["deployments"]
