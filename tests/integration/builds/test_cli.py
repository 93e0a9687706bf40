"""`shipgauge builds …` as a user runs it: the real console script on a DuckDB file."""

from __future__ import annotations

import json
from pathlib import Path

from shipgauge.demo.builds import serve_archive_folder
from tests.conftest import run_cli
from tests.integration.builds.conftest import BUILDHUB

DEMO = Path(__file__).resolve().parents[3] / "src/shipgauge/demo_data/builds"


def test_builds_commands_end_to_end(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.duckdb")
    manifest = str(BUILDHUB / "s3-inventory" / "manifest.json")
    with serve_archive_folder(DEMO / "archive") as url:
        env = {
            "SHIPGAUGE_ARCHIVE_URL": url,
            "SHIPGAUGE_BUILDHUB_CACHE_DIR": str(tmp_path / "cache"),
        }
        loaded = run_cli("builds", "inventory", manifest, "--json", db=db, env=env)
        assert loaded.returncode == 0, loaded.stderr
        assert json.loads(loaded.stdout)["inserted"] == 10
        event = {"Records": [{"s3": {"bucket": {"name": "b"}, "object": {"key": "favicon.ico"}}}]}
        (tmp_path / "event.json").write_text(json.dumps(event))
        events = run_cli("builds", "events", str(tmp_path / "event.json"), "--json", db=db, env=env)
        assert json.loads(events.stdout)["ignored"] == 1
    found = run_cli("builds", "search", "firefox beta zh-TW", "--json", db=db)
    hits = json.loads(found.stdout)["hits"]
    assert hits["total"] == 1
    assert hits["hits"][0]["_source"]["target"]["version"] == "55.0b9rc2"
    table = run_cli("builds", "get", "20170713130618", db=db)
    assert table.returncode == 0 and "zh-TW" in table.stdout
    got = json.loads(run_cli("builds", "get", "20170713130618", "--json", db=db).stdout)
    assert [r["record_id"] for r in got] == ["firefox_beta_55-0b9rc2_win64_zh-tw"]
    missing = run_cli("builds", "get", "nope", db=db)
    assert missing.returncode == 1
    assert (
        missing.stderr.strip() == "error: no build record with hash, record id or build id 'nope'"
    )
    latest = json.loads(
        run_cli("builds", "latest", "--product", "devedition", "--json", db=db).stdout
    )
    assert [r["version"] for r in latest] == ["55.0b1rc5"]
