"""Bugzilla (BMO) REST lookups for the review classifier, with a per-bug cache.

How answers map (upstream.md §B.3 step 8): a body with an `error`
key or HTTP 401 means the bug is not accessible (→ no_bug, "confidential bugs lumped with
no-bug"); any other 4xx means an error (→ unknown). A 5xx, a timeout or a body that is not JSON
is retried by the connector and then raises UpstreamError: the changeset is dead-lettered and
retried later instead of being misfiled as `unknown` (upstream crashed there).

Many changesets share a bug, so each bug is looked up once per `ttl_s` (upstream asked again for
every changeset, quirk C5); concurrent askers for one bug wait for the same request. Lookups run on
the services' event loop; `preload` and `take_fetched` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

from shipgauge.connectors.async_http import AsyncHttpConnector
from shipgauge.errors import UpstreamError
from shipgauge.sources import review
from shipgauge.sources.review import BugReview
from shipgauge.store import Store

__all__ = ["CACHE_MAX_BUGS", "BugzillaClient"]

# How many bugs' answers are kept at most, the first to expire leaving first: a consumer that
# runs for months meets tens of thousands of bugs, and an answer past its TTL is asked again.
CACHE_MAX_BUGS = 20_000


class BugzillaClient:
    """Review facts of bugs through an AsyncHttpConnector on `{bmo_url}/rest`."""

    def __init__(
        self, http: AsyncHttpConnector, *, ttl_s: float = 3600.0, max_bugs: int = CACHE_MAX_BUGS
    ) -> None:
        self.http = http
        self.ttl_s = ttl_s
        self.max_bugs = max_bugs
        self._lock = threading.Lock()
        # answer, monotonic expiry; in the order they expire (one TTL for all)
        self._known: OrderedDict[int, tuple[BugReview, float]] = OrderedDict()
        self._asking: dict[int, asyncio.Future[BugReview]] = {}
        self._fetched: dict[int, tuple[BugReview, datetime]] = {}

    def preload(self, store: Store) -> None:
        """Seed the cache with the newest `bugzilla_bug_reviews` rows younger than the TTL."""
        now, clock = datetime.now(UTC), time.monotonic()
        try:
            newer, params = " WHERE fetched_at > ?", [now - timedelta(seconds=self.ttl_s)]
        except (OverflowError, ValueError):  # a TTL past the calendar (inf: keep forever)
            newer, params = "", []
        rows = store.query(
            f"SELECT * FROM bugzilla_bug_reviews{newer} ORDER BY fetched_at DESC, bug_id LIMIT ?",
            [*params, self.max_bugs],
        ).dicts()
        with self._lock:
            for row in reversed(rows):  # the first to expire first
                left = self.ttl_s - (now - row["fetched_at"]).total_seconds()
                if left > 0:
                    found = BugReview(
                        row["status"],
                        phabricator=row["phabricator"],
                        raw_patch=row["raw_patch"],
                        review_granted=row["review_granted"],
                    )
                    self._remember(int(row["bug_id"]), found, clock + left)

    async def review(self, bug_id: int) -> BugReview:
        """The bug's review facts: cached, or looked up once for every task that asks."""
        known = self._known.get(bug_id)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        asking = self._asking.get(bug_id)
        if asking is not None:
            return await asyncio.shield(asking)  # a cancelled asker must not cancel the others
        asking = self._asking[bug_id] = asyncio.get_running_loop().create_future()
        try:
            found = await self._lookup(bug_id)
        except Exception as exc:  # not cached: the next asker tries again
            asking.set_exception(exc)
            asking.exception()  # the owner re-raises it; waiters, if any, get it too
            raise
        except BaseException:
            asking.cancel()
            raise
        finally:
            del self._asking[bug_id]
        asking.set_result(found)
        with self._lock:
            self._remember(bug_id, found, time.monotonic() + self.ttl_s)
            if found.status != "error":
                self._fetched[bug_id] = (found, datetime.now(UTC))
        return found

    def _remember(self, bug_id: int, found: BugReview, expiry: float) -> None:
        """Keep an answer (the caller holds the lock); drop the expired and the oldest beyond
        `max_bugs`."""
        self._known.pop(bug_id, None)
        self._known[bug_id] = (found, expiry)
        clock = time.monotonic()
        while self._known and (
            len(self._known) > self.max_bugs or next(iter(self._known.values()))[1] <= clock
        ):
            self._known.popitem(last=False)

    def take_fetched(self) -> list[dict[str, Any]]:
        """Rows for `bugzilla_bug_reviews` looked up since the last call (to store with pings)."""
        with self._lock:
            fetched, self._fetched = self._fetched, {}
        return [
            {
                "bug_id": bug_id,
                "status": found.status,
                "phabricator": found.phabricator,
                "raw_patch": found.raw_patch,
                "review_granted": found.review_granted,
                "fetched_at": at,
            }
            for bug_id, (found, at) in fetched.items()
        ]

    async def _get(self, path: str, **params: Any) -> Any | None:
        """The JSON answer, or None when Bugzilla says the bug is not accessible."""
        response = await self.http.request("GET", path, params=params, ok_statuses=range(400, 500))
        try:
            doc = response.json()
        except ValueError:
            raise UpstreamError(
                f"Bugzilla: {self.http.base_url}{path} answered HTTP {response.status_code} "
                "that is not JSON; retry later or check the setting bmo_url"
            ) from None
        # BMO reports some denials as 200 with an `error` body (BMO bug 1462349).
        if response.status_code == 401 or (isinstance(doc, dict) and "error" in doc):
            return None
        if response.is_error:
            raise _BugzillaRefused
        return doc

    async def _lookup(self, bug_id: int) -> BugReview:
        try:
            attachments_doc = await self._get(f"/bug/{bug_id}/attachment", exclude_fields="data")
            if attachments_doc is None:
                return BugReview("inaccessible")
            attachments = review.parse_bug_attachments(attachments_doc, bug_id)
            found = review.bug_review(attachments)
            if not found.needs_history:
                return found
            history_doc = await self._get(f"/bug/{bug_id}/history")
        except _BugzillaRefused:
            return BugReview("error")
        if history_doc is None:
            return BugReview("inaccessible")
        return review.bug_review(attachments, review.parse_bug_history(history_doc, bug_id))


class _BugzillaRefused(Exception):
    """A 4xx other than 401 without an `error` body: upstream classified these `unknown`."""
