"""Answers too costly to compute per request, kept per store for a while.

The dashboard's CI cost page sums `task_run_costs` over every run (seconds over millions of runs,
docs/taskcluster.md), so the sum is computed once and each request cuts it. A kept answer is
served as it is while younger than `ttl_s`; once older it is still served while one background
thread computes it again (stale while revalidating), so only the first request of a key waits.
Each answer says when it was computed, and the pages show it.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from shipgauge.store import Store

__all__ = ["AnswerCache", "Kept"]

T = TypeVar("T")
log = logging.getLogger("shipgauge.queries")


@dataclass(frozen=True)
class Kept(Generic[T]):
    """An answer, when it was computed and how long that took."""

    value: T
    computed_at: datetime
    compute_s: float
    monotonic: float


class AnswerCache:
    """Answers per (store, key); see the module's docstring."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._kept: weakref.WeakKeyDictionary[Store, dict[str, Kept[Any]]] = (
            weakref.WeakKeyDictionary()
        )
        self._computing: dict[tuple[int, str], threading.Lock] = {}
        self._refreshing: set[tuple[int, str]] = set()

    def get(self, store: Store, key: str, compute: Callable[[Store], T]) -> Kept[T]:
        """The kept answer of `key`, computed now when there is none."""
        found = self._find(store, key)
        if found is None:
            with self._compute_lock(store, key):
                found = self._find(store, key)  # another request may have computed it
                if found is None:
                    found = self._compute(store, key, compute)
        elif time.monotonic() - found.monotonic > self.ttl_s:
            self._refresh_in_background(store, key, compute)
        return found

    def clear(self, store: Store | None = None) -> None:
        """Forget every answer (of `store`)."""
        with self._lock:
            if store is None:
                self._kept.clear()
            else:
                self._kept.pop(store, None)

    def _find(self, store: Store, key: str) -> Kept[Any] | None:
        with self._lock:
            return self._kept.get(store, {}).get(key)

    def _compute_lock(self, store: Store, key: str) -> threading.Lock:
        with self._lock:
            return self._computing.setdefault((id(store), key), threading.Lock())

    def _compute(self, store: Store, key: str, compute: Callable[[Store], T]) -> Kept[T]:
        started = time.monotonic()
        value = compute(store)
        done = time.monotonic()
        kept = Kept(value, datetime.now(UTC), done - started, done)
        with self._lock:
            self._kept.setdefault(store, {})[key] = kept
        return kept

    def _refresh_in_background(self, store: Store, key: str, compute: Callable[[Store], T]) -> None:
        with self._lock:
            if (id(store), key) in self._refreshing:
                return
            self._refreshing.add((id(store), key))

        def refresh() -> None:
            try:
                with self._compute_lock(store, key):
                    self._compute(store, key, compute)
            except Exception:  # the old answer stays; the next request tries again
                log.exception("refreshing the kept answer %s failed", key)
            finally:
                with self._lock:
                    self._refreshing.discard((id(store), key))

        threading.Thread(target=refresh, name=f"shipgauge-refresh-{key}", daemon=True).start()
