"""A DuckDB file nobody may write (`chmod 444`, in a read-only folder) can still be read."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipgauge.pipelines.delivery.events import record_event
from shipgauge.store import Store
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def read_only_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A store with one delivery event and one dead letter, then made read-only with its folder."""
    folder = tmp_path_factory.mktemp("snapshot")
    db = folder / "store.duckdb"
    with Store.open(str(db)) as store:
        record_event(store, {"service": "web", "kind": "deploy"}, origin="cli")
        with store.transaction() as tx:
            tx.dead_letter("test.source", "msg-1", "not JSON", b"{")
    before = sorted(p.name for p in folder.iterdir())
    db.chmod(0o444)
    folder.chmod(0o555)
    yield str(db)
    folder.chmod(0o755)
    db.chmod(0o644)
    assert sorted(p.name for p in folder.iterdir()) == before  # no lock file was added


@pytest.mark.parametrize(
    ("command", "shows"),
    [
        (("query", "SELECT count(*) AS letters FROM dead_letters"), "1"),
        (("dead-letters", "list", "--json"), '"source": "test.source"'),
        (("dora", "report", "--since", "30d", "--json"), '"service":"web"'),
    ],
    ids=["query", "dead-letters list", "dora report"],
)
def test_read_commands_read_a_read_only_file(
    read_only_db: str, command: tuple[str, ...], shows: str
) -> None:
    done = run_cli(*command, db=read_only_db)
    assert done.returncode == 0, done.stderr
    assert shows in done.stdout


def test_a_write_to_a_read_only_file_is_one_line(read_only_db: str) -> None:
    done = run_cli("events", "send", "web", "deploy", db=read_only_db)
    assert done.returncode == 1
    assert done.stderr.startswith("error: ")
    assert "read-only" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_store_says_it_is_read_only(read_only_db: str) -> None:
    with Store.open(read_only_db) as store:
        assert store.read_only
        assert store.query("SELECT count(*) FROM dead_letters").scalar() == 1
    assert not stat.S_IMODE(Path(read_only_db).stat().st_mode) & 0o222
