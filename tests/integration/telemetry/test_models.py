"""The review models and the demo, on DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from shipgauge.demo.telemetry import load_demo
from shipgauge.errors import BadRequest
from shipgauge.queries.telemetry import review_shares
from shipgauge.store import Store

# (repo, changeset, review_system, pushed_at, diffstat)
PINGS: list[tuple[str, str, str, datetime, tuple[int, int, int] | None]] = [
    ("mozilla-central", "a" * 40, "phabricator", datetime(2026, 3, 2, 10, tzinfo=UTC), (2, 10, 4)),
    ("mozilla-central", "b" * 40, "phabricator", datetime(2026, 3, 4, 23, tzinfo=UTC), (1, 1, 1)),
    ("mozilla-central", "c" * 40, "bmo", datetime(2026, 3, 8, 23, 59, tzinfo=UTC), (5, 30, 0)),
    ("mozilla-central", "d" * 40, "unknown", datetime(2026, 3, 9, 0, 1, tzinfo=UTC), None),
    ("mozilla-central", "e" * 40, "no_bug", datetime(2026, 3, 9, 8, tzinfo=UTC), None),
    ("mozilla-central", "f" * 40, "review_unneeded", datetime(2026, 3, 9, 9, tzinfo=UTC), None),
    ("integration/autoland", "1" * 40, "not_applicable", datetime(2026, 3, 3, tzinfo=UTC), None),
]


def _seed(store: Store) -> None:
    rows: list[dict[str, Any]] = []
    for repo, node, system, pushed_at, diffstat in PINGS:
        files, added, removed = diffstat or (None, None, None)
        rows.append(
            {
                "repo": repo,
                "changeset": node,
                "push_id": 1,
                "repository": f"https://hg.mozilla.org/{repo}",
                "document_id": node[:8],
                "pushed_at": pushed_at,
                "review_system": system,
                "rule": "test",
                "bug_id": None,
                "landing_system": None,
                "changed_files": files,
                "additions": added,
                "deletions": removed,
                "payload": {"changesetID": node},
                "status": "sent",
                "attempts": 1,
                "http_status": 200,
                "last_error": None,
                "created_at": pushed_at,
                "sent_at": pushed_at,
            }
        )
    changeset = {
        "repo": "mozilla-central",
        "node": "d" * 40,
        "push_id": 1,
        "position_in_push": 0,
        "author": "Dev <dev@mozilla.com>",
        "description": "Bug 5 - fix\n\nlong text",
        "branch": "default",
        "parents": [],
        "files": [],
    }
    with store.transaction() as tx:
        tx.upsert("hgpush_pings", rows)
        tx.upsert("changesets", [changeset])


def test_review_systems_by_week_gives_shares_per_repo_and_week(store: Store) -> None:
    _seed(store)
    rows = store.query(
        "SELECT repo, week, review_system, changesets, share FROM review_systems_by_week "
        "ORDER BY repo, week, review_system"
    ).rows
    assert [tuple(r[:4]) for r in rows] == [
        ("integration/autoland", date(2026, 3, 2), "not_applicable", 1),
        ("mozilla-central", date(2026, 3, 2), "bmo", 1),
        ("mozilla-central", date(2026, 3, 2), "phabricator", 2),
        ("mozilla-central", date(2026, 3, 9), "no_bug", 1),
        ("mozilla-central", date(2026, 3, 9), "review_unneeded", 1),
        ("mozilla-central", date(2026, 3, 9), "unknown", 1),
    ]
    assert [round(r[4], 4) for r in rows] == [1.0, 0.3333, 0.6667, 0.3333, 0.3333, 0.3333]


def test_unreviewed_changes_lists_unknown_and_no_bug_with_their_summary(store: Store) -> None:
    _seed(store)
    columns = "changeset, review_system, author, summary"
    rows = store.query(f"SELECT {columns} FROM unreviewed_changes ORDER BY changeset").rows
    assert [tuple(r) for r in rows] == [
        ("d" * 40, "unknown", "Dev <dev@mozilla.com>", "Bug 5 - fix"),
        ("e" * 40, "no_bug", None, None),
    ]


def test_diffstat_by_system_sums_only_measured_changesets(store: Store) -> None:
    _seed(store)
    rows = {
        r["review_system"]: r
        for r in store.query(
            "SELECT * FROM diffstat_by_system WHERE repo = 'mozilla-central'"
        ).dicts()
    }
    phab = rows["phabricator"]
    assert (phab["changesets"], phab["with_diffstat"], phab["changed_files"]) == (2, 2, 3)
    assert (phab["additions"], phab["deletions"], phab["median_lines_changed"]) == (11, 5, 8.0)
    assert rows["bmo"]["mean_lines_changed"] == 30.0
    assert (rows["unknown"]["with_diffstat"], rows["unknown"]["additions"]) == (0, None)


@pytest.mark.parametrize(
    ("interval", "periods"),
    [("day", 4), ("week", 2), ("month", 1)],
)
def test_review_shares_groups_by_interval(store: Store, interval: str, periods: int) -> None:
    _seed(store)
    rows = review_shares(store, repo="mozilla-central", interval=interval)
    assert len({r["period"] for r in rows}) == periods
    for period in {r["period"] for r in rows}:
        assert sum(r["share"] for r in rows if r["period"] == period) == pytest.approx(1.0)
    window = review_shares(store, start=date(2026, 3, 4), end=date(2026, 3, 9), interval="day")
    assert [(r["period"], r["review_system"]) for r in window] == [
        (date(2026, 3, 4), "phabricator"),
        (date(2026, 3, 8), "bmo"),
    ]


def test_review_shares_refuses_an_unknown_interval(store: Store) -> None:
    with pytest.raises(BadRequest, match="interval 'hour' is not one of day, week, month"):
        review_shares(store, interval="hour")


def test_load_demo_pings_the_recorded_pushlog_once(store: Store) -> None:
    load_demo(store)
    load_demo(store)
    counts = dict(
        store.query(
            "SELECT review_system, count(*) FROM hgpush_pings WHERE status = 'sent' GROUP BY 1"
        ).rows
    )
    assert counts == {"phabricator": 8, "bmo": 4, "review_unneeded": 1, "no_bug": 1, "unknown": 1}
    assert store.query("SELECT sum(attempts) FROM hgpush_pings").scalar() == 15
    assert store.count("pushes") == 10
