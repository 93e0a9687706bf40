"""The review classifier against every upstream vector and every observed upstream outcome."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shipgauge.sources import review
from shipgauge.sources.hg import Revision, parse_json_rev
from shipgauge.sources.review import BugReview, ReviewSystem
from tests.support.recorded_http import fixtures_dir

CTS = fixtures_dir() / "hgpush" / "commit-telemetry-service"
VECTORS = json.loads((CTS / "test-vectors.json").read_text())
OBSERVED = json.loads((CTS / "observed-classifier-behaviour.json").read_text())
ATTACHMENTS = {
    "mozreview": json.loads((CTS / "bmo-attachment.mozreview.json").read_text()),
    "phabricator": json.loads((CTS / "bmo-attachment.phabricator.json").read_text()),
    "raw patch": json.loads((CTS / "bmo-attachment.raw-patch-review-plus.json").read_text()),
}
HISTORY = json.loads((CTS / "bmo-bug-history.review-plus.json").read_text())


def _attachment(label: str) -> dict[str, Any]:
    """'bmo-attachment.mozreview.json (is_obsolete=1)' → that object with the field overridden."""
    name, _, overrides = label.partition(" (")
    kind = name.removeprefix("bmo-attachment.").removesuffix(".json")
    found = dict(ATTACHMENTS["raw patch" if kind == "raw-patch-review-plus" else kind])
    for pair in overrides.rstrip(")").split(", "):
        if pair:
            key, value = pair.split("=")
            found[key] = int(value)
    return found


@pytest.mark.parametrize("case", VECTORS["summary_line_split"], ids=lambda c: repr(c["input"]))
def test_summary_line_matches_upstream(case: dict[str, Any]) -> None:
    assert review.summary_line(case["input"]) == case["expected"]


@pytest.mark.parametrize("case", VECTORS["no_bug_marker"], ids=lambda c: c["input"])
def test_has_no_bug_marker_matches_upstream(case: dict[str, Any]) -> None:
    assert review.has_no_bug_marker(case["input"]) is case["expected"]


@pytest.mark.parametrize(
    "case", VECTORS["wpt_sync_markers_in_summary (author='')"], ids=lambda c: c["input"]
)
def test_has_wpt_sync_markers_in_summary_matches_upstream(case: dict[str, Any]) -> None:
    assert review.has_wpt_sync_markers("", case["input"]) is case["expected"]


@pytest.mark.parametrize("case", VECTORS["wpt_sync_markers_by_author"], ids=lambda c: c["author"])
def test_has_wpt_sync_markers_by_author_matches_upstream(case: dict[str, Any]) -> None:
    assert review.has_wpt_sync_markers(case["author"], case["summary"]) is case["expected"]


@pytest.mark.parametrize("case", VECTORS["uplift_markers"], ids=lambda c: c["input"])
def test_has_uplift_markers_matches_upstream(case: dict[str, Any]) -> None:
    assert review.has_uplift_markers(case["input"]) is case["expected"]


@pytest.mark.parametrize("case", VECTORS["ignore_this_changeset_marker"], ids=["whole-text"])
def test_has_ignore_marker_matches_upstream(case: dict[str, Any]) -> None:
    assert review.has_ignore_marker(case["input"]) is case["expected"]
    # ... but the classifier reads only the first line, so it never sees this marker
    assert review.has_ignore_marker(review.summary_line(case["input"])) is False


@pytest.mark.parametrize("case", VECTORS["review_attachment_filtering"], ids=["1", "2", "3"])
def test_review_attachments_matches_upstream(case: dict[str, Any]) -> None:
    kept = review.review_attachments([_attachment(a) for a in case["attachments"]])
    labels = [
        "phabricator" if a["content_type"] == review.PHABRICATOR_REQUEST else "raw patch"
        for a in kept
    ]
    assert labels == case["expected_kept"]


@pytest.mark.parametrize("case", VECTORS["determine_review_system"], ids=["phab", "bmo"])
def test_classify_matches_upstream_determine_review_system(case: dict[str, Any]) -> None:
    revision = parse_json_rev(json.loads((CTS / case["revision"]).read_text()))
    attachments = [_attachment(a) for a in case["bmo_attachments"]]
    history = HISTORY if case["bmo_history"].endswith(".json") else None

    def lookup(bug_id: int) -> BugReview:
        assert bug_id == 1463962
        found = review.bug_review(attachments)
        if found.needs_history:
            assert history is not None, "upstream does not read the history here"
            found = review.bug_review(attachments, history)
        return found

    assert review.classify(revision, lookup).system == case["expected"]


def _bug_state(state: str) -> BugReview:
    """The BMO answer an observed case describes, as the client would report it."""
    if state.startswith("BMO answers 401"):
        return BugReview("inaccessible")
    if state.startswith("BMO answers HTTP error"):
        return BugReview("error")
    if state.startswith("bug has no attachments"):
        return review.bug_review([])
    if state == "one active text/x-phabricator-request attachment":
        return review.bug_review([ATTACHMENTS["phabricator"]])
    if state.startswith("one active is_patch=1 attachment + history"):
        return review.bug_review([ATTACHMENTS["raw patch"]], HISTORY)
    if state == "one active is_patch=1 attachment, empty history":
        return review.bug_review([ATTACHMENTS["raw patch"]], [])
    if state == "one active text/x-review-board-request attachment + review+ history":
        return review.bug_review([ATTACHMENTS["mozreview"]], HISTORY)
    raise AssertionError(f"unmapped BMO state: {state}")


OBSERVED_CASES = OBSERVED["determine_review_system"]


@pytest.mark.parametrize(
    "case", OBSERVED_CASES, ids=[f"{i}-{c['desc'][:40]}" for i, c in enumerate(OBSERVED_CASES)]
)
def test_classify_reproduces_observed_upstream_behaviour(case: dict[str, Any]) -> None:
    revision = Revision(
        node="a" * 40,
        description=case["desc"],
        author=case["author"],
        parents=["b" * 40] * case["parents"],
        push_id=1,
        push_date=1,
        landing_system=None,
    )
    looked_up: list[int] = []

    def lookup(bug_id: int) -> BugReview:
        looked_up.append(bug_id)
        return _bug_state(case["bmo_state"])

    verdict = review.classify(revision, lookup)
    assert verdict.system == ReviewSystem(case["result"])
    assert looked_up == ([] if case["bug_looked_up"] is None else [case["bug_looked_up"]])
    assert verdict.bug_id == case["bug_looked_up"]


@pytest.mark.parametrize("case", OBSERVED["parse_bugs"], ids=lambda c: c["input"])
def test_parse_bugs_reproduces_mozautomation(case: dict[str, Any]) -> None:
    assert review.parse_bugs(case["input"]) == case["bugs"]


def test_classify_empty_description_is_unknown_not_a_crash() -> None:
    revision = Revision("a" * 40, "", "someone", ["b" * 40], None, None, None)
    assert review.classify(revision, lambda _: BugReview("ok")).system == ReviewSystem.UNKNOWN


def test_bug_review_needs_history_only_for_a_raw_patch_without_phabricator() -> None:
    assert review.bug_review([ATTACHMENTS["raw patch"]]).needs_history
    both = [ATTACHMENTS["raw patch"], ATTACHMENTS["phabricator"]]
    assert not review.bug_review(both).needs_history
    assert not review.bug_review([ATTACHMENTS["mozreview"]]).needs_history
