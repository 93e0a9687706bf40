"""No command prints a traceback for hostile input: one line and exit 1, or usage and exit 2.

Property-based over every command that takes free input (arguments, options, input files), run
in this process through the console entry point (`shipgauge.cli.main`, as the `shipgauge`
script runs it), so hundreds of runs take seconds. The reported reproductions of issue 15 run
first as explicit examples.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipgauge.cli import main
from tests.fuzz.conftest import FUZZ, with_examples
from tests.fuzz.hostile import EDGE_VALUES, bodies

EXAMPLES = 60
FILE = "{file}"  # replaced by a file holding the drawn content

# Each command with the places free input goes: an argument or option, or FILE.
COMMANDS: list[tuple[str, ...]] = [
    ("query", "{text}"),
    ("dora", "report", "--since", "{text}"),
    ("dora", "report", "--until", "{text}", "--service", "{text}"),
    ("dead-letters", "list", "--limit", "{text}", "--source", "{text}"),
    ("dead-letters", "show", "{text}"),
    ("events", "send", "{text}", "deploy", "--time", "{text}"),
    ("events", "send", "web", "deploy", "--metadata", "{json}"),
    ("events", "import", FILE),
    ("builds", "events", FILE),
    ("builds", "get", "{text}"),
    ("taskcluster", "import", "task_runs_v1", FILE),
    ("ci-cost", "report", "--since", "{text}", "--limit", "{text}"),
    ("ci-cost", "push", "{text}", "{text}"),
    ("telemetry", "reviews", "--start", "{text}", "--end", "{text}"),
    ("tokens", "create", "--service", "{text}", "--scope", "{text}"),
]
REPRODUCTIONS: list[tuple[tuple[str, ...], str, bytes]] = [
    (("dead-letters", "list", "--limit", "-5"), "", b""),
    (("dora", "report", "--since", "99999999d"), "", b""),
    (("events", "send", "web", "deploy", "--metadata", "[" * 50_000 + "]" * 50_000), "", b""),
    (("builds", "events", FILE), "", b"[" * 100_000),
    (("events", "import", FILE), "", b'{"service":"web","kind":"push","metadata":' * 5000),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("cli-fuzz") / "store.duckdb")


@pytest.fixture(scope="module")
def input_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-fuzz-input") / "input.jsonl"


def run_main(args: list[str]) -> tuple[int, str]:
    """`shipgauge ARGS` in this process: its exit code and what it wrote on stderr. Anything
    raised out of `main` is what the console script would print as a traceback."""
    err = io.StringIO()
    code = 0
    with (
        mock.patch.object(sys, "argv", ["shipgauge", *args]),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(err),
    ):
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, err.getvalue()


def _filled(command: tuple[str, ...], text: str, file: Path) -> Iterator[str]:
    for part in command:
        yield {"{text}": text, "{json}": text, FILE: str(file)}.get(part, part)


texts = st.sampled_from(EDGE_VALUES) | st.text(max_size=60) | st.integers().map(str)


@settings(FUZZ, max_examples=EXAMPLES)
@given(command=st.sampled_from(COMMANDS), text=texts, content=bodies)
@with_examples(
    {"command": command, "text": text, "content": content}
    for command, text, content in REPRODUCTIONS
)
def test_no_command_prints_a_traceback(
    db: str, input_file: Path, command: tuple[str, ...], text: str, content: bytes
) -> None:
    input_file.write_bytes(content)
    # A NUL cannot be in an argument the OS passes; what a shell can send is what is tested.
    args = ["--db", db, *(a.replace("\x00", "") for a in _filled(command, text, input_file))]
    code, stderr = run_main(args)
    assert code in (0, 1, 2), (args[:6], code, stderr[-500:])
    assert "Traceback" not in stderr, stderr[-2000:]
    if code == 1:
        lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
        assert len(lines) == 1, stderr[-500:]
