"""One DuckDB database per process and file, opened for sessions and handed over between them.

Threads of a process share one open database (each session gets its own cursor). With `turns`,
the file is opened only during this process's turn (see `turns.FileTurns`): when another process
waits, new sessions pause, the open ones finish, the database is closed (DuckDB checkpoints it)
and the turn passes; the next session waits for the turn to come back and opens it again.

A file nobody may write (`read_only_file`) is opened read-only, without turns: no writer can
have it, readers share it, and no lock file is made beside it (its folder may be read-only too).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb

from shipgauge.errors import StoreError
from shipgauge.store.engines.turns import FileTurns

__all__ = ["SharedDatabase", "read_only_file", "shared_database"]

_IDLE_POLL_S = 0.02
_registry: dict[str, SharedDatabase] = {}
_registry_lock = threading.Lock()


class SharedDatabase:
    """A DuckDB file (or `:memory:`) as this process sees it: sessions, options, turns."""

    def __init__(self, path: str, *, wait_s: float, read_only: bool = False) -> None:
        self.path = path
        self.wait_s = wait_s
        self.read_only = read_only
        self.users = 0  # engines of this process on the file
        self._turns = None if path == ":memory:" or read_only else FileTurns(Path(path))
        self._db: duckdb.DuckDBPyConnection | None = None
        self._sessions = 0
        self._yielding = False
        self._options: dict[str, str] = {}
        self._changed = threading.Condition()
        self._watcher: threading.Thread | None = None
        self._depth: dict[int, int] = {}  # open sessions per thread
        if self._turns is None:
            self._db = self._connect()

    @contextlib.contextmanager
    def session(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the open database, for as long as the block runs."""
        thread = threading.get_ident()
        db = self._enter(thread)
        cursor = db.cursor()
        try:
            cursor.execute("SET TimeZone = 'UTC'")
            yield cursor
        finally:
            cursor.close()
            self._leave(thread)

    def set_options(self, options: dict[str, str]) -> None:
        """DuckDB settings (`SET name = value`) kept across reopenings; {} resets them."""
        with self.session() as cursor:
            for name in self._options.keys() - options.keys():
                cursor.execute(f"RESET {name}")
            for name, value in options.items():
                cursor.execute(f"SET {name} = '{value}'")
        self._options = dict(options)

    def close(self) -> None:
        with self._changed:
            if self._db is not None:
                self._db.close()
                self._db = None
            if self._turns is not None:
                self._turns.close()
            self._changed.notify_all()

    def _enter(self, thread: int) -> duckdb.DuckDBPyConnection:
        with self._changed:
            depth = self._depth.get(thread, 0)
            # A thread already in a session goes on: it must not wait for its own turn to end.
            while self._yielding and depth == 0:
                self._changed.wait()
            if self._db is None:
                assert self._turns is not None
                self._turns.take(self.wait_s)
                self._db = self._connect()
                self._watch()
            self._sessions += 1
            self._depth[thread] = depth + 1
            return self._db

    def _leave(self, thread: int) -> None:
        # `thread` entered the session; a generator's session may end on another thread.
        with self._changed:
            self._depth[thread] -= 1
            if not self._depth[thread]:
                del self._depth[thread]
            self._sessions -= 1
            if self._sessions == 0 and self._turns is not None:
                if self._turns.someone_waits():
                    self._hand_over()
                elif self._yielding:  # the waiter gave up: go on
                    self._yielding = False
                    self._changed.notify_all()

    def _hand_over(self) -> None:
        """Close the file and end the turn (the caller holds `_changed`, no session is open)."""
        assert self._turns is not None
        if self._db is not None:
            self._db.close()
            self._db = None
        self._turns.give_back()
        self._yielding = False
        self._changed.notify_all()

    def _watch(self) -> None:
        """While the file is open, notice a waiting process even when this one is idle."""
        if self._watcher is None or not self._watcher.is_alive():
            self._watcher = threading.Thread(
                target=self._watch_loop, name="shipgauge-duckdb-turns", daemon=True
            )
            self._watcher.start()

    def _watch_loop(self) -> None:
        while True:
            with self._changed:
                if self._db is None or self._turns is None:
                    return
                waits = self._turns.someone_waits()
                if waits and self._sessions == 0:
                    self._hand_over()
                    return
                if waits != self._yielding:
                    # New sessions wait while someone else waits; the last one hands over.
                    self._yielding = waits
                    self._changed.notify_all()
            threading.Event().wait(_IDLE_POLL_S)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            db = duckdb.connect(self.path, read_only=self.read_only)
        except (duckdb.Error, OSError) as exc:
            first_line = str(exc).splitlines()[0]
            raise StoreError(f"cannot open DuckDB file {self.path}: {first_line}") from None
        db.execute("SET TimeZone = 'UTC'")
        for name, value in self._options.items():
            db.execute(f"SET {name} = '{value}'")
        return db


def read_only_file(path: str) -> bool:
    """Whether `path` is an existing database file this process may not write, or that has no
    write permission at all (root may write anything, yet a `chmod 444` means "do not")."""
    if path == ":memory:":
        return False
    try:
        mode = Path(path).expanduser().stat().st_mode
    except OSError:
        return False
    return not mode & 0o222 or not os.access(Path(path).expanduser(), os.W_OK)


def shared_database(path: str, *, wait_s: float) -> SharedDatabase:
    """This process's `SharedDatabase` for `path` (one per file, whichever engine asks)."""
    key = path if path == ":memory:" else str(Path(path).expanduser().resolve())
    with _registry_lock:
        found = _registry.get(key)
        if found is None or path == ":memory:":
            found = SharedDatabase(path, wait_s=wait_s, read_only=read_only_file(path))
            if path != ":memory:":
                _registry[key] = found
        found.users += 1
        return found


def release_database(database: SharedDatabase) -> None:
    """An engine is done with `database`; the last one closes it."""
    with _registry_lock:
        database.users -= 1
        if database.users > 0:
            return
        _registry.pop(str(Path(database.path).expanduser().resolve()), None)
    database.close()
