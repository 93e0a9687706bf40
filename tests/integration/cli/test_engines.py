"""Every read command over the demo store, on DuckDB and on PostgreSQL, answers the same.

The SQL of each command is written once in DuckDB's dialect and transpiled for PostgreSQL: run
in-process (the console script would cost seconds of imports per command), each command must
succeed on both engines and, where it prints JSON, print the same rows.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from shipgauge.cli import app
from shipgauge.demo import run_demo
from shipgauge.store import Store

# (arguments, whether both engines must print the same JSON)
READS: list[tuple[tuple[str, ...], bool]] = [
    (("query", "SELECT count(*) AS n FROM task_run_costs", "--json"), True),
    (("query", "SELECT * FROM ingest_status ORDER BY 1", "--csv"), False),
    (("config", "--json"), False),
    (("dead-letters", "list", "--json"), False),
    (("tokens", "list", "--json"), True),
    (("taskcluster", "summary", "--json"), True),
    (("telemetry", "reviews", "--json"), True),
    (("telemetry", "reviews", "--interval", "month"), False),
    (("builds", "search", "firefox 70.0", "--json"), False),
    (("builds", "get", "20191016161957", "--json"), True),
    (("builds", "latest", "--json"), True),
    (("dora", "report", "--json"), False),  # measured up to now: the two runs differ in time
    (("dora", "report", "--environment", "*", "--interval", "month"), False),
    (("ci-cost", "report", "--json"), True),
    (("ci-cost", "report", "--by", "day", "--json"), True),
    (("ci-cost", "report", "--by", "pool", "--json"), True),
    (("ci-cost", "report", "--by", "task", "--json"), True),
    (("ci-cost", "push", "mozilla-central", "33276", "--json"), True),
    (("ci-cost", "unpriced", "--json"), True),
]


@pytest.fixture(scope="module")
def demo_stores(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The demo loaded once into a DuckDB file and into a fresh PostgreSQL schema."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in pg_url else "?"
    urls = {
        "duckdb": str(tmp_path_factory.mktemp("engines") / "demo.duckdb"),
        "postgres": f"{pg_url}{sep}options=-csearch_path%3D{schema}",
    }
    for url in urls.values():
        with Store.open(url) as store:
            run_demo(store)
    yield urls
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _cli(db: str, args: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, ["--db", db, *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.stdout


def _close(a: Any, b: Any) -> bool:
    """Equal, with floats equal to 9 significant digits (sums may add up in another order)."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and math.isclose(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.mark.parametrize(("args", "same"), READS, ids=[" ".join(a) for a, _ in READS])
def test_read_commands_on_both_engines(
    demo_stores: dict[str, str], args: tuple[str, ...], same: bool
) -> None:
    printed = {engine: _cli(db, args) for engine, db in demo_stores.items()}
    assert all(out.strip() for out in printed.values()), printed
    if same:
        duck, pg = (json.loads(printed[e]) for e in ("duckdb", "postgres"))
        assert _close(duck, pg), (duck, pg)


def test_exports_on_both_engines(demo_stores: dict[str, str], tmp_path: Path) -> None:
    for engine, db in demo_stores.items():
        tables = json.loads(_cli(db, ("export", str(tmp_path / engine), "--json")))
        assert {t["name"]: t["rows"] for t in tables}["task_runs"] > 0
        models = json.loads(_cli(db, ("ci-cost", "export", str(tmp_path / f"m{engine}"), "--json")))
        assert all(m["rows"] >= 0 for m in models) and models
