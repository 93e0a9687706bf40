"""Which code review system a changeset went through, from its `json-rev` record and Bugzilla.

Reproduces commit-telemetry-service @d0f081f (upstream.md §B.3),
quirks included. The first matching rule wins, and only the summary (first line) is read:

1. back-out ("back out ", "backed out ", "backing out " at the start)  → review_unneeded
2. `# ignore-this-changeset` in the summary                              → not_applicable
3. more than one parent (a merge)                                        → not_applicable
4. the word "no bug"                                                     → no_bug
5. an approval `a=<word>` (uplifts, `a=merge`, `a=testonly`)             → review_unneeded
6. the wpt-sync bot (author, or "[wpt PR n] … a=testonly")               → review_unneeded
7. no bug number in the summary                                          → unknown
8. Bugzilla: bug not accessible (401 or `error` JSON) → no_bug; other HTTP error → unknown;
   an active Phabricator request attachment → phabricator; an active raw patch and any
   `review+` in the bug's history → bmo; otherwise → unknown.

Rules 1-7 need no I/O (`triage`); rule 8 reads a `BugReview` built from the two BMO answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from shipgauge.errors import SourceError
from shipgauge.sources.hg import Revision

__all__ = [
    "BugReview",
    "Classification",
    "ReviewSystem",
    "bug_review",
    "classify",
    "classify_bug",
    "has_backout_marker",
    "has_ignore_marker",
    "has_no_bug_marker",
    "has_uplift_markers",
    "has_wpt_sync_markers",
    "parse_bug_attachments",
    "parse_bug_history",
    "parse_bugs",
    "review_attachments",
    "summary_line",
    "triage",
]

# Bugs at or above this number are taken for something else (mozautomation.commitparser).
MAX_BUG_NUMBER = 100_000_000
WPT_SYNC_BOT = "moz-wptsync-bot <wptsync@mozilla.com>"
PHABRICATOR_REQUEST = "text/x-phabricator-request"
GITHUB_REQUEST = "text/x-github-request"
_REQUEST_TYPES = (PHABRICATOR_REQUEST, GITHUB_REQUEST)

_BACKOUT = re.compile(r"^(?:back|backed|backing) out ", re.IGNORECASE)
_NO_BUG = re.compile(r"\bno bug\b", re.IGNORECASE)
_UPLIFT = re.compile(r"\ba=\w+", re.IGNORECASE)
_WPT_SUMMARY = re.compile(r"\[wpt PR \d+\].* a=testonly", re.IGNORECASE)
_BUG_NUMBER = re.compile(
    r"""(?:
          bug\s*\#?                   # "Bug 123", "bug123", "bug #123"
        | b=\s*\#?                    # "b=123"
        | (?<!\w)\#?(?=\d{5,}\b)      # a standalone run of five or more digits
        | ^(?=\d)                     # digits at the very start
        )(\d+)\b""",
    re.IGNORECASE | re.VERBOSE,
)


class ReviewSystem(StrEnum):
    """The values of the ping's `reviewSystemUsed` (`mozreview` is unreachable since 2018-10)."""

    PHABRICATOR = "phabricator"
    MOZREVIEW = "mozreview"
    BMO = "bmo"
    NO_BUG = "no_bug"
    REVIEW_UNNEEDED = "review_unneeded"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"


def summary_line(description: str) -> str:
    """The first line of a commit message ("" for an empty one, where upstream crashed)."""
    lines = description.splitlines()
    return lines[0] if lines else ""


def has_backout_marker(summary: str) -> bool:
    return _BACKOUT.match(summary) is not None


def has_ignore_marker(summary: str) -> bool:
    return "# ignore-this-changeset" in summary


def has_no_bug_marker(summary: str) -> bool:
    return _NO_BUG.search(summary) is not None


def has_uplift_markers(summary: str) -> bool:
    return _UPLIFT.search(summary) is not None


def has_wpt_sync_markers(author: str, summary: str) -> bool:
    return author == WPT_SYNC_BOT or _WPT_SUMMARY.search(summary) is not None


def parse_bugs(summary: str) -> list[int]:
    """Bug numbers in a summary, first seen first, as mozautomation's `parse_bugs` finds them.

    >>> parse_bugs("Bug 1458766 [wpt PR 10812] - x")
    [1458766, 10812]
    """
    seen: dict[int, None] = {}
    for match in _BUG_NUMBER.finditer(summary):
        seen.setdefault(int(match.group(1)))
    return [bug for bug in seen if bug < MAX_BUG_NUMBER]


@dataclass(frozen=True)
class Classification:
    """The outcome, the rule that decided it, and the bug looked up (if any)."""

    system: ReviewSystem | None
    rule: str
    bug_id: int | None = None


def triage(revision: Revision) -> Classification:
    """Rules 1-7. `system` is None when Bugzilla must decide; `bug_id` then says which bug."""
    summary = summary_line(revision.description)
    if has_backout_marker(summary):
        return Classification(ReviewSystem.REVIEW_UNNEEDED, "backout")
    if has_ignore_marker(summary):
        return Classification(ReviewSystem.NOT_APPLICABLE, "ignore-marker")
    if len(revision.parents) > 1:
        return Classification(ReviewSystem.NOT_APPLICABLE, "merge")
    if has_no_bug_marker(summary):
        return Classification(ReviewSystem.NO_BUG, "no-bug-marker")
    if has_uplift_markers(summary):
        return Classification(ReviewSystem.REVIEW_UNNEEDED, "approval")
    if has_wpt_sync_markers(revision.author, summary):
        return Classification(ReviewSystem.REVIEW_UNNEEDED, "wpt-sync")
    bugs = parse_bugs(summary)
    if not bugs:
        return Classification(ReviewSystem.UNKNOWN, "no-bug-number")
    return Classification(None, "bugzilla", bugs[0])


@dataclass(frozen=True)
class BugReview:
    """What Bugzilla says about a bug's reviews; `status` is how the lookup went."""

    status: Literal["ok", "inaccessible", "error"]
    phabricator: bool = False
    raw_patch: bool = False
    review_granted: bool | None = None  # None: history not read (yet)

    @property
    def needs_history(self) -> bool:
        """Only a raw patch without a Phabricator request makes the history matter."""
        return (
            self.status == "ok"
            and not self.phabricator
            and self.raw_patch
            and (self.review_granted is None)
        )


def review_attachments(attachments: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Active attachments that carry a review: Phabricator/GitHub requests and raw patches.

    MozReview (`text/x-review-board-request`, `is_patch` 0) attachments drop out here.
    """
    return [
        a
        for a in attachments
        if a.get("is_obsolete") == 0
        and (
            a.get("content_type") in (PHABRICATOR_REQUEST, GITHUB_REQUEST) or a.get("is_patch") == 1
        )
    ]


def parse_bug_attachments(doc: Any, bug_id: int) -> list[Mapping[str, Any]]:
    """`/rest/bug/{id}/attachment` → the bug's attachment objects."""
    try:
        attachments = doc["bugs"][str(bug_id)]
    except (KeyError, TypeError):
        raise SourceError(f"Bugzilla attachments of bug {bug_id}: no bugs.{bug_id} list") from None
    if not isinstance(attachments, list):
        raise SourceError(f"Bugzilla attachments of bug {bug_id}: not a list")
    return [a for a in attachments if isinstance(a, Mapping)]


def parse_bug_history(doc: Any, bug_id: int) -> list[Mapping[str, Any]]:
    """`/rest/bug/{id}/history` → its `history` list of `{when, who, changes}`."""
    try:
        history = doc["bugs"][0]["history"]
    except (KeyError, IndexError, TypeError):
        raise SourceError(f"Bugzilla history of bug {bug_id}: no bugs[0].history") from None
    return [h for h in history if isinstance(h, Mapping)] if isinstance(history, list) else []


def _grants_review(history: Sequence[Mapping[str, Any]]) -> bool:
    # Any review+ ever granted counts, on any attachment (upstream quirk C4); no whitespace strip.
    return any(
        change.get("field_name") == "flagtypes.name"
        and "review+" in str(change.get("added", "")).split(",")
        for entry in history
        for change in entry.get("changes") or []
        if isinstance(change, Mapping)
    )


def bug_review(
    attachments: Sequence[Mapping[str, Any]],
    history: Sequence[Mapping[str, Any]] | None = None,
) -> BugReview:
    """The review facts of an accessible bug; give `history` once `needs_history` asks for it."""
    kept = review_attachments(attachments)
    return BugReview(
        "ok",
        phabricator=any(a.get("content_type") == PHABRICATOR_REQUEST for a in kept),
        raw_patch=any(a.get("is_patch") == 1 for a in kept),
        review_granted=None if history is None else _grants_review(history),
    )


def classify_bug(review: BugReview, bug_id: int | None = None) -> Classification:
    """Rule 8 over what Bugzilla said about bug `bug_id`."""
    if review.status == "inaccessible":
        return Classification(ReviewSystem.NO_BUG, "bug-inaccessible", bug_id)
    if review.status == "error":
        return Classification(ReviewSystem.UNKNOWN, "bugzilla-error", bug_id)
    if review.phabricator:
        return Classification(ReviewSystem.PHABRICATOR, "phabricator-attachment", bug_id)
    if review.raw_patch and review.review_granted:
        return Classification(ReviewSystem.BMO, "bmo-review", bug_id)
    return Classification(ReviewSystem.UNKNOWN, "no-review-found", bug_id)


def classify(revision: Revision, lookup: Callable[[int], BugReview]) -> Classification:
    """Every rule: `lookup(bug_id)` asks Bugzilla only when rules 1-7 did not decide."""
    verdict = triage(revision)
    if verdict.system is not None or verdict.bug_id is None:
        return verdict
    return classify_bug(lookup(verdict.bug_id), verdict.bug_id)
