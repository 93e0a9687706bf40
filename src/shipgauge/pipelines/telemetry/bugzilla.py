"""Bugzilla (BMO) REST lookups for the review classifier, with a per-bug cache.

How answers map (research/seed-hgpush-measuring-ci.md §B.3 step 8): a body with an `error`
key or HTTP 401 means the bug is not accessible (→ no_bug, "confidential bugs lumped with
no-bug"); any other 4xx means an error (→ unknown). A 5xx, a timeout or a body that is not JSON
is retried by the connector and then raises UpstreamError: the changeset is dead-lettered and
retried later instead of being misfiled as `unknown` (upstream crashed there).

Many changesets share a bug, so each bug is looked up once per `ttl_s` (upstream asked again for
every changeset, quirk C5); concurrent askers for one bug wait for the same request.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from typing import Any

from shipgauge.connectors.http import HttpConnector
from shipgauge.errors import UpstreamError
from shipgauge.sources import review
from shipgauge.sources.review import BugReview

__all__ = ["BugzillaClient"]


class BugzillaClient:
    """Review facts of bugs through an HttpConnector on `{bmo_url}/rest`."""

    def __init__(self, http: HttpConnector, *, ttl_s: float = 3600.0) -> None:
        self.http = http
        self.ttl = timedelta(seconds=ttl_s)
        self._lock = threading.Lock()
        self._known: dict[int, Future[BugReview]] = {}
        self._fetched: dict[int, tuple[BugReview, datetime]] = {}

    def preload(self, rows: list[dict[str, Any]]) -> None:
        """Seed the cache with stored `bugzilla_bug_reviews` rows younger than the TTL."""
        oldest = datetime.now(UTC) - self.ttl
        for row in rows:
            if row["fetched_at"] < oldest:
                continue
            done: Future[BugReview] = Future()
            done.set_result(
                BugReview(
                    row["status"],
                    phabricator=row["phabricator"],
                    raw_patch=row["raw_patch"],
                    review_granted=row["review_granted"],
                )
            )
            self._known[int(row["bug_id"])] = done

    def review(self, bug_id: int) -> BugReview:
        """The bug's review facts: cached, or looked up once for every thread that asks."""
        with self._lock:
            future = self._known.get(bug_id)
            owner = future is None
            if future is None:
                future = self._known[bug_id] = Future()
        if not owner:
            return future.result()
        try:
            found = self._lookup(bug_id)
        except BaseException as exc:
            with self._lock:
                del self._known[bug_id]  # a failure is not cached: the next asker tries again
            future.set_exception(exc)
            raise
        future.set_result(found)
        if found.status != "error":
            with self._lock:
                self._fetched[bug_id] = (found, datetime.now(UTC))
        return found

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

    def _get(self, path: str, **params: Any) -> Any | None:
        """The JSON answer, or None when Bugzilla says the bug is not accessible."""
        response = self.http.request("GET", path, params=params, ok_statuses=range(400, 500))
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

    def _lookup(self, bug_id: int) -> BugReview:
        try:
            attachments_doc = self._get(f"/bug/{bug_id}/attachment", exclude_fields="data")
            if attachments_doc is None:
                return BugReview("inaccessible")
            attachments = review.parse_bug_attachments(attachments_doc, bug_id)
            found = review.bug_review(attachments)
            if not found.needs_history:
                return found
            history_doc = self._get(f"/bug/{bug_id}/history")
        except _BugzillaRefused:
            return BugReview("error")
        if history_doc is None:
            return BugReview("inaccessible")
        return review.bug_review(attachments, review.parse_bug_history(history_doc, bug_id))


class _BugzillaRefused(Exception):
    """A 4xx other than 401 without an `error` body: upstream classified these `unknown`."""
