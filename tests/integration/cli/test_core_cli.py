"""The real `shipgauge` console script: query, export, config, dead letters, tokens, demo."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

import shipgauge
from shipgauge.store import Store
from tests.conftest import run_cli


def _seed(db: str) -> int:
    with Store.open(db) as store, store.transaction() as tx:
        tx.set_checkpoint("hg:integration/autoland", 42)
        return tx.dead_letter("pulse:tasks", "msg-7", "not JSON: line 1", b"\x00{broken")


def test_query_prints_json_csv_and_table(store_url: str) -> None:
    _seed(store_url)
    sql = "SELECT source, position FROM ingest_checkpoints"
    as_json = run_cli("query", sql, "--json", db=store_url)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == [{"source": "hg:integration/autoland", "position": "42"}]
    as_csv = run_cli("query", sql, "--csv", db=store_url)
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [
        ["source", "position"],
        ["hg:integration/autoland", "42"],
    ]
    table = run_cli("query", sql, db=store_url)
    assert "hg:integration/autoland" in table.stdout


@pytest.mark.parametrize("sql", ["SELEC nonsense", "SELECT nosuch FROM x", "SELECT 1 +"])
def test_query_bad_sql_is_one_line_exit_1(store_url: str, sql: str) -> None:
    result = run_cli("query", sql, db=store_url)
    assert result.returncode == 1
    assert result.stderr.startswith("error: query failed:")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("DELETE FROM ingest_checkpoints", "DELETE"),
        ("UPDATE ingest_checkpoints SET position = '0'", "UPDATE"),
        ("DROP TABLE ingest_checkpoints", "DROP"),
        ("CREATE TABLE copied AS SELECT * FROM ingest_checkpoints", "CREATE"),
        ("COPY ingest_checkpoints TO '/tmp/shipgauge-copied.csv'", "COPY"),
    ],
)
def test_query_is_read_only_without_write(store_url: str, sql: str, kind: str) -> None:
    _seed(store_url)
    refused = run_cli("query", sql, db=store_url)
    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: query is read-only: {kind} changes the store (add --write to run it)\n"
    )
    with Store.open(store_url) as store:
        assert store.query("SELECT source, position FROM ingest_checkpoints").rows == [
            ("hg:integration/autoland", "42")
        ]
        assert store.query("SELECT count(*) FROM dead_letters").scalar() == 1


def test_query_read_only_holds_past_the_statement_check(store_url: str) -> None:
    _seed(store_url)
    # Two statements (the second would commit past a transaction), a write inside a WITH.
    two = run_cli("query", "SELECT 1; DELETE FROM ingest_checkpoints", db=store_url)
    assert (two.returncode, two.stderr) == (1, "error: give one SQL statement, not 2\n")
    cte = "WITH gone AS (DELETE FROM ingest_checkpoints RETURNING *) SELECT * FROM gone"
    hidden = run_cli("query", cte, db=store_url)
    assert hidden.returncode == 1 and len(hidden.stderr.splitlines()) == 1, hidden.stderr
    with Store.open(store_url) as store:
        assert store.count("ingest_checkpoints") == 1
    reads = ["WITH a AS (SELECT 1 AS x) SELECT x FROM a", "VALUES (1)", "EXPLAIN SELECT 1"]
    for sql in reads:
        assert run_cli("query", sql, "--json", db=store_url).returncode == 0, sql


def test_query_write_changes_the_store(store_url: str) -> None:
    _seed(store_url)
    deleted = run_cli("query", "DELETE FROM ingest_checkpoints", "--write", db=store_url)
    assert deleted.returncode == 0, deleted.stderr
    with Store.open(store_url) as store:
        assert store.count("ingest_checkpoints") == 0


def test_unopenable_db_is_exit_1(tmp_path: Path) -> None:
    result = run_cli("query", "SELECT 1", db=str(tmp_path / "missing" / "x.duckdb"))
    assert result.returncode == 1
    assert "cannot open DuckDB file" in result.stderr
    refused = run_cli("query", "SELECT 1", db="postgresql://nobody@127.0.0.1:1/none")
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: cannot connect to PostgreSQL")


def test_dead_letters_list_show_retry_purge(store_url: str) -> None:
    letter_id = _seed(store_url)
    listed = json.loads(run_cli("dead-letters", "list", "--json", db=store_url).stdout)
    assert [(d["id"], d["source"], d["key"], d["bytes"]) for d in listed] == [
        (letter_id, "pulse:tasks", "msg-7", 8)
    ]
    raw = run_cli("dead-letters", "show", str(letter_id), "--raw", db=store_url)
    assert raw.stdout == "\x00{broken"
    missing = run_cli("dead-letters", "show", "123", db=store_url)
    assert (missing.returncode, missing.stderr.strip()) == (1, "error: no dead letter with id 123")
    refused = run_cli("dead-letters", "purge", db=store_url)
    assert refused.returncode == 2 and "--yes" in refused.stderr  # bad usage
    purged = run_cli("dead-letters", "purge", "--yes", db=store_url)
    assert purged.stdout.strip() == "purged 1 dead letter(s)"


def test_dead_letters_retry_unknown_source_suggests(store_url: str) -> None:
    with Store.open(store_url) as store, store.transaction() as tx:
        tx.dead_letter("no-such-source", None, "bad", b"x")
    result = run_cli("dead-letters", "retry", db=store_url)
    assert result.returncode == 1
    assert "no retry handler for source 'no-such-source'" in result.stderr


def test_export_of_an_unknown_table_names_it(store_url: str, tmp_path: Path) -> None:
    result = run_cli("export", str(tmp_path / "lake"), "--table", "nosuch", db=store_url)
    assert (result.returncode, result.stderr) == (1, "error: no table or model named 'nosuch'\n")
    assert not (tmp_path / "lake").exists()


def test_export_writes_parquet(store_url: str, tmp_path: Path) -> None:
    _seed(store_url)
    result = run_cli("export", str(tmp_path / "lake"), "--json", db=store_url)
    assert result.returncode == 0, result.stderr
    written = {e["name"]: e for e in json.loads(result.stdout)}
    assert written["dead_letters"]["rows"] == 1
    assert written["dead_letters"]["partitioned_by"] == "received_at"
    assert list((tmp_path / "lake" / "dead_letters").glob("day=*/part-0.parquet"))


def test_tokens_create_list_revoke(store_url: str) -> None:
    created = run_cli(
        "tokens", "create", "--service", "gecko", "--scope", "events:write", db=store_url
    )
    token = created.stdout.strip()
    assert token.startswith("sg_")
    listed = json.loads(run_cli("tokens", "list", "--json", db=store_url).stdout)
    assert [(t["service"], t["scopes"], t["revoked_at"]) for t in listed] == [
        ("gecko", "events:write", None)
    ]
    with Store.open(store_url) as store:  # only the hash is stored
        assert token.split("_", 2)[2] not in str(store.query("SELECT * FROM api_tokens").rows)
    assert run_cli("tokens", "revoke", listed[0]["token_id"], db=store_url).returncode == 0
    bad_scope = run_cli("tokens", "create", "--service", "g", "--scope", "root", db=store_url)
    assert bad_scope.returncode == 1 and "unknown scope 'root'" in bad_scope.stderr


def test_demo_twice_is_idempotent(store_url: str) -> None:
    # The test server trusts any password: one in the URL must not be printed.
    store_url = store_url.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    first = run_cli("demo", "--json", db=store_url)
    assert first.returncode == 0, first.stderr
    second = run_cli("demo", db=store_url)
    assert second.returncode == 0, second.stderr
    assert "s3cret" not in first.stdout + second.stdout
    loaded = json.loads(first.stdout)["loaded"]
    assert loaded["tasks"] > 0 and loaded["delivery_events"] > 0
    assert [line for line in second.stdout.splitlines() if "task_runs" in line] == [
        f"│ task_runs                     │ {loaded['task_runs']:<4} │"
    ]
    reports = json.loads(first.stdout)["reports"]
    assert {title.partition(", from ")[2] for title in reports} >= {
        "Pulse task runs (taskcluster)",
        "the CI-cost scan of pushes (ci_cost)",
        "hg pushes and Bugzilla (telemetry)",
        "S3 inventories, S3 events and the archive (builds)",
        "delivery events (delivery)",
        "the demo's recordings",
    }
    # Units as `dora report` shows them: durations in d/h/min, ratios in %, tiers beneath.
    assert re.search(r"│ billing +│ \d+\.\d +│ \d+\.\d (d|h|min) +│ \d+% ", second.stdout)
    assert re.search(r"│ proj-fuzzing/linux-pool10 +│ 1 +│ \d\.\d h +│ \d\.\d{4} │", second.stdout)


def test_config_masks_secrets_and_rejects_unknown_keys(tmp_path: Path) -> None:
    db = str(tmp_path / "x.duckdb")
    env = {
        "SHIPGAUGE_AMQP_URL": "amqp://pulse-user:s3cret@pulse.example:5671/",
        "SHIPGAUGE_BMO_API_KEY": "bmo-key",
    }
    shown = json.loads(run_cli("config", "--json", db=db, env=env).stdout)
    assert shown["amqp_url"] == "amqp://pulse-user:***@pulse.example:5671/"
    assert shown["bmo_api_key"] == "***"
    assert shown["db"] == db

    config = tmp_path / "shipgauge.toml"
    config.write_text('hg_url = "http://127.0.0.1:9"\nhg_ulr = "typo"\n')
    unknown = run_cli("config", db=db, env={"SHIPGAUGE_CONFIG": str(config)})
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == f"error: {config}: unknown setting 'hg_ulr'"

    config.write_text('[shipgauge]\nhg_url = "http://127.0.0.1:9"\n')
    from_file = run_cli("config", "--json", db=db, env={"SHIPGAUGE_CONFIG": str(config)})
    assert json.loads(from_file.stdout)["hg_url"] == "http://127.0.0.1:9"

    config.write_text('port = "abc"\n')
    in_file = run_cli("config", db=db, env={"SHIPGAUGE_CONFIG": str(config)})
    assert in_file.returncode == 2
    assert in_file.stderr.startswith(f"error: {config}: setting 'port': Input should be")

    malformed = run_cli("config", db=db, env={"SHIPGAUGE_PORT": "eighty"})
    assert malformed.returncode == 2
    assert malformed.stderr.startswith("error: setting 'port' (env SHIPGAUGE_PORT):")


def test_bad_usage_is_exit_2(duckdb_url: str) -> None:
    result = run_cli("query", db=duckdb_url)
    assert result.returncode == 2
    assert "Missing argument" in result.stderr


def test_version(duckdb_url: str) -> None:
    result = run_cli("--version", db=duckdb_url)
    assert (result.returncode, result.stdout) == (0, f"shipgauge {shipgauge.__version__}\n")
