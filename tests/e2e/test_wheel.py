"""The wheel, as a user gets it: built from the sdist, installed into a new venv with its
dependencies from the package index, then `shipgauge demo` and `shipgauge serve` run from it.

Nothing here reads the source tree at run time: the venv has no PYTHONPATH and works in its own
folder, so a model, migration, schema, dashboard file or demo file missing from the wheel fails.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

import shipgauge
from shipgauge.queries.overview import OVERVIEW_REPORTS

pytestmark = pytest.mark.wheel

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "src" / "shipgauge"


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with the wheel installed; its bin folder."""
    work = tmp_path_factory.mktemp("wheel")
    # sdist first, then the wheel from the unpacked sdist: a clean build, and the sdist checked.
    _run([sys.executable, "-m", "build", "--outdir", str(work / "dist"), str(REPO)], 600)
    (wheel,) = (work / "dist").glob("shipgauge-*.whl")
    _run([sys.executable, "-m", "venv", str(work / "venv")], 120)
    # --no-compile: byte-compiling botocore and pyarrow would double the install time.
    pip = [str(work / "venv" / "bin" / "pip"), "install", "--no-compile", "--quiet"]
    _run([*pip, str(wheel)], 900)
    return work / "venv" / "bin"


def _run(
    args: list[str], timeout: float, *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd, env=env
    )
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done


def _env() -> dict[str, str]:
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "SHIPGAUGE_DB", "SHIPGAUGE_CONFIG"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def test_the_wheel_carries_every_file_of_the_package(venv: Path) -> None:
    where = _run([str(venv / "python"), "-c", "import shipgauge; print(shipgauge.__file__)"], 60)
    installed = Path(where.stdout.strip()).parent
    assert not installed.is_relative_to(REPO)

    def files(root: Path) -> set[str]:
        return {
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }

    assert files(SOURCE) - files(installed) == set()
    version = _run([str(venv / "shipgauge"), "--version"], 60, env=_env())
    assert version.stdout == f"shipgauge {shipgauge.__version__}\n"


def test_demo_and_serve_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "demo.duckdb")
    shipgauge_bin = str(venv / "shipgauge")
    demo = _run([shipgauge_bin, "--db", db, "demo", "--json"], 300, cwd=tmp_path, env=_env())
    out = json.loads(demo.stdout)
    for table in ("tasks", "push_task_groups", "changesets", "builds", "delivery_events"):
        assert out["loaded"][table] > 0, table
    assert len(out["reports"]) == len(OVERVIEW_REPORTS) and all(out["reports"].values())

    proc = subprocess.Popen(
        [shipgauge_bin, "--db", db, "serve", "--port", "0"],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = _first_line(proc, timeout=120)
        found = re.search(r"dashboard (http://127\.0\.0\.1:\d+)/ ", first)
        assert found, (first, proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        base = found[1]
        for path in (
            "/",
            "/static/app.js",
            "/docs",
            "/docs/assets/swagger-ui-bundle.js",
            "/openapi.json",
            "/api/v1/health",
            "/api/v1/models/push_costs",
            "/metrics",
        ):
            response = httpx.get(f"{base}{path}", timeout=30)
            assert response.status_code == 200, (path, response.text[:300])
        assert len(httpx.get(f"{base}/api/v1/models/builds_latest", timeout=30).json()) > 0
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def _first_line(proc: subprocess.Popen[str], *, timeout: float) -> str:
    """The first line the process prints, waiting at most `timeout` seconds."""
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        pytest.fail(f"no line from {proc.args!r} within {timeout} s")
