"""`shipgauge builds import`, `derive` and `search` hints, as a user runs them (console script)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from shipgauge.pipelines.builds.files import FILE_SOURCE, _files, import_build_files
from shipgauge.store import Store
from tests.conftest import run_cli
from tests.integration.builds.conftest import BUILDHUB

RECORDS = BUILDHUB / "buildhub2" / "buildhub-json"


def _counts(db: str) -> tuple[int, int]:
    listed = run_cli("query", "SELECT count(*) AS n FROM builds", "--json", db=db)
    letters = run_cli("query", "SELECT count(*) AS n FROM dead_letters", "--json", db=db)
    return json.loads(listed.stdout)[0]["n"], json.loads(letters.stdout)[0]["n"]


def test_import_folder_then_again_changes_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "files.duckdb")
    folder = tmp_path / "archive"
    for number, name in enumerate(sorted(p.name for p in RECORDS.glob("*.json"))):
        (folder / str(number)).mkdir(parents=True)
        shutil.copy(RECORDS / name, folder / str(number) / "buildhub.json")
    (folder / "bad").mkdir()
    (folder / "bad" / "buildhub.json").write_text('{"source": {"product": "firefox"}}')
    lines = tmp_path / "records.jsonl"
    lines.write_text(json.dumps(json.loads((BUILDHUB / "beetmover/buildhub.json").read_text())))
    first = run_cli("builds", "import", str(folder), str(lines), "--json", db=db)
    assert first.returncode == 0, first.stderr
    # Four fixture records, the firefox release one with its beta copy, the beetmover one;
    # the invalid record is a dead letter.
    assert json.loads(first.stdout) == {
        "files": 6, "documents": 6, "inserted": 6, "dead_letters": 1,
    }  # fmt: skip
    assert _counts(db) == (6, 1)
    again = run_cli("builds", "import", str(folder), str(lines), "--json", db=db)
    assert json.loads(again.stdout)["inserted"] == 0
    assert _counts(db) == (6, 1)
    missing = run_cli("builds", "import", str(tmp_path / "nope"), db=db)
    assert missing.returncode == 2 and "nope" in missing.stderr


def test_derive_says_what_a_key_is_without_network(tmp_path: Path) -> None:
    db = str(tmp_path / "derive.duckdb")
    key = "pub/firefox/releases/54.0/win64/fr/Firefox Setup 54.0.exe"
    answer = run_cli(
        "builds", "derive", key, f"https://mirror.test/{key}", "pub/firefox/releases/54.0/"
        "win64/fr/Firefox Setup Stub 54.0.exe", "--json", db=db,
        env={"SHIPGAUGE_ARCHIVE_PUBLIC_URL": "https://archive.mozilla.org"},
    )  # fmt: skip
    assert answer.returncode == 0, answer.stderr
    build, by_url, stub = json.loads(answer.stdout)
    assert build["record_id"] == "firefox_54-0_win64_fr"
    assert build["record"]["target"] == {
        "version": "54.0", "platform": "win64", "os": "win", "locale": "fr", "channel": "release",
    }  # fmt: skip
    assert build["record"]["download"]["url"] == f"https://archive.mozilla.org/{key}"
    assert by_url["record"] == build["record"]
    assert stub == {"key": stub["key"], "build": False, "not_a_build": "excluded file name (stub)"}


def test_search_says_what_it_searched_and_hints(tmp_path: Path) -> None:
    db = str(tmp_path / "search.duckdb")
    run_cli("builds", "import", str(RECORDS), db=db)
    nothing = run_cli("builds", "search", "Firefox plattform:win64", db=db)
    assert nothing.returncode == 0, nothing.stderr
    assert "Searched source.product, target.channel" in nothing.stdout
    assert "no field is named 'plattform'" in nothing.stdout
    assert "try 'firefox plattform:win64'" in nothing.stdout
    deep = run_cli("builds", "search", "(" * 5000, db=db)
    assert deep.returncode == 1
    assert len(deep.stderr.strip().splitlines()) == 1 and "Traceback" not in deep.stderr
    assert "nested more than 64 deep" in deep.stderr


def test_json_lines_are_numbered_as_lines_of_the_whole_file(tmp_path: Path) -> None:
    records = [json.loads(p.read_text()) for p in sorted(RECORDS.glob("*.json"))]
    lines = tmp_path / "records.jsonl"
    # A blank line, a CRLF and a lone CR end lines as `bytes.splitlines` of the file does.
    body = [json.dumps(r).encode() for r in records]
    lines.write_bytes(body[0] + b"\n\n" + body[1] + b"\r\n{}\r" + body[2] + b"\n")
    with Store.open(str(tmp_path / "lines.duckdb")) as store:
        result = import_build_files(store, [lines])
        letters = store.query("SELECT key FROM dead_letters WHERE source = ?", [FILE_SOURCE]).rows
    assert (result.documents, result.dead_letters) == (4, 1)
    assert letters == [(f"{lines}:4",)]


def test_a_folder_is_read_in_sorted_path_order_one_folder_at_a_time(tmp_path: Path) -> None:
    # The order a sort of every path gives ("a/…" before "a-b/…", "A" before "a"), other files
    # and a link back up the tree left out.
    names = ["a/x/buildhub.json", "a-b/buildhub.json", "A/buildhub.json", "a/buildhub.json",
             "b/records.jsonl", "a/y/en-US/target.buildhub.json", "a/x/notes.txt"]  # fmt: skip
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}\n")
    (tmp_path / "a" / "up").symlink_to(tmp_path, target_is_directory=True)
    read = [p.relative_to(tmp_path).as_posix() for p in _files([tmp_path])]
    assert read == [
        "A/buildhub.json", "a/buildhub.json", "a/x/buildhub.json",
        "a/y/en-US/target.buildhub.json", "a-b/buildhub.json", "b/records.jsonl",
    ]  # fmt: skip
