"""Large lakes for the Spark tests and the lake benchmark: the demo's rows, copied many times.

Copies keep the demo's shapes (prices, pools, retries, incidents) and differ in their keys: a
copy `k` of a push, task group or task takes `k` into its id; a copy of a delivery service is
the service `<name>-k`. Rows are copied by DuckDB (`range`), straight in the store's file, and
then exported with `lake export` like any store.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from shipgauge.store import Store
from shipgauge.store.lake import export_lake

__all__ = ["COST_TABLES", "DORA_TABLES", "copy_rows", "grown_lake", "models_of"]

# Per table, the columns a copy changes (SQL over the row and the copy number k).
COST_TABLES: dict[str, dict[str, str]] = {
    "pushes": {"push_id": "push_id + k * 100000000"},
    "push_task_groups": {
        "push_id": "push_id + k * 100000000",
        "task_group_id": "task_group_id || '.' || k",
        "decision_task_id": "decision_task_id || '.' || k",
    },
    "tasks": {"task_id": "task_id || '.' || k", "task_group_id": "task_group_id || '.' || k"},
    "task_runs": {"task_id": "task_id || '.' || k"},
}
DORA_TABLES: dict[str, dict[str, str]] = {
    table: {"service": "service || '-' || k"}
    for table in (
        "delivery_events",
        "delivery_event_commits",
        "delivery_commit_deployments",
        "delivery_commit_pushes",
    )
}


def copy_rows(store: Store, tables: dict[str, dict[str, str]], copies: int) -> None:
    """Add `copies - 1` copies of every row of `tables` (k = 1 … copies - 1)."""
    with store.transaction() as tx:
        for table, changes in tables.items():
            replaced = ", ".join(f"{sql} AS {column}" for column, sql in changes.items())
            tx.execute(
                f"INSERT INTO {table} SELECT * EXCLUDE (k) REPLACE ({replaced})"
                f" FROM {table}, range(1, {copies}) AS r(k)"
            )


def grown_lake(
    demo_db: Path, work: Path, *, task_runs: int = 0, deployments: int = 0
) -> tuple[Path, dict[str, int]]:
    """A lake at `work/lake` of the demo store at `demo_db` grown to about `task_runs` task runs
    and `deployments` deployments (either may be 0: left as in the demo); and the counts."""
    db = work / "grown.duckdb"
    shutil.copy(demo_db, db)
    with Store.open(str(db)) as store:
        runs = store.count("task_runs")
        deploys = int(store.query("SELECT count(*) FROM dora_deployments").scalar())
        if task_runs:
            copy_rows(store, COST_TABLES, max(1, round(task_runs / runs)))
        if deployments:
            copy_rows(store, DORA_TABLES, max(1, round(deployments / deploys)))
        export_lake(store, work / "lake", models=False)
        counts = {
            "task_runs": store.count("task_runs"),
            "deployments": int(store.query("SELECT count(*) FROM dora_deployments").scalar()),
        }
    return work / "lake", counts


def models_of(*capabilities: str) -> list[str]:
    """The names of the models in the package's `models/<capability>/` folders, sorted."""
    root = resources.files("shipgauge") / "models"
    return sorted(
        e.name.removesuffix(".sql")
        for capability in capabilities
        for e in (root / capability).iterdir()
        if e.name.endswith(".sql")
    )
