"""Turns on one DuckDB file between processes: one process has the file at a time, and it hands
the file over as soon as another one asks for it.

DuckDB lets a single process open a database file for writing. So that `shipgauge serve`, its
consumers, the CLI and cron jobs can share the embedded default, every process opens the file
only during its turn. Two `flock` files beside the database keep the turns:

- `<db>.lock` is held by the process whose turn it is (it also names that process, for errors);
- `<db>.gate` is held by a process waiting for its turn.

A waiter takes the gate, then the lock, then lets the gate go. The process having its turn looks
at the gate between its transactions (and every few milliseconds when idle): when the gate is
held, someone waits, so it finishes its open sessions, closes the file and lets the lock go. To
go on, it must pass the gate behind the waiter, so the turns alternate and nobody starves.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from pathlib import Path

from shipgauge.errors import StoreError

__all__ = ["FileTurns", "StoreBusy"]

_POLL_S = 0.01


class StoreBusy(StoreError):
    """Another process kept the DuckDB file for longer than this one may wait."""


class FileTurns:
    """The two lock files of one database file; `take` and `give_back` a turn."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self._lock_path = database.with_name(database.name + ".lock")
        self._gate_path = database.with_name(database.name + ".gate")
        self._lock_fd: int | None = None
        self._probe_fd = os.open(self._gate_path, os.O_RDWR | os.O_CREAT, 0o644)

    @property
    def held(self) -> bool:
        return self._lock_fd is not None

    def take(self, wait_s: float) -> None:
        """Wait for this process's turn (at most `wait_s` seconds); StoreBusy past that."""
        deadline = time.monotonic() + wait_s
        gate = os.open(self._gate_path, os.O_RDWR | os.O_CREAT, 0o644)
        lock = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._wait_for(gate, deadline)
            try:
                self._wait_for(lock, deadline)
            finally:
                fcntl.flock(gate, fcntl.LOCK_UN)
        except BaseException:
            os.close(lock)
            raise
        finally:
            os.close(gate)
        os.ftruncate(lock, 0)
        os.pwrite(lock, _whoami().encode(), 0)
        self._lock_fd = lock

    def give_back(self) -> None:
        """End this process's turn (the database file must be closed first)."""
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def someone_waits(self) -> bool:
        """Whether another process holds the gate, waiting for its turn."""
        try:
            fcntl.flock(self._probe_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(self._probe_fd, fcntl.LOCK_UN)
        return False

    def close(self) -> None:
        self.give_back()
        os.close(self._probe_fd)

    def _wait_for(self, fd: int, deadline: float) -> None:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise self._busy() from None
                time.sleep(_POLL_S)

    def _busy(self) -> StoreBusy:
        try:
            holder = self._lock_path.read_text(encoding="utf-8").strip() or "another process"
        except OSError:
            holder = "another process"
        return StoreBusy(
            f"the store {self.database} is busy: {holder} has kept it past this command's wait; "
            "wait and try again, stop that process, raise SHIPGAUGE_DB_WAIT_S, or use PostgreSQL "
            "(SHIPGAUGE_DB=postgresql://…) for long jobs beside a server",
            field="db",
        )


def _whoami() -> str:
    command = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv[:4]))
    return f"PID {os.getpid()} ({command})"
