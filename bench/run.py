"""Run every benchmark (`bench/bench_*.py`), each in its own process; one line per result.

Usage: python bench/run.py [NAME_FILTER]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    wanted = sys.argv[1] if len(sys.argv) > 1 else ""
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        if wanted not in script.stem:
            continue
        done = subprocess.run([sys.executable, str(script)], check=False)
        failed += done.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
