"""Write the bundled delivery demo: src/shipgauge/demo_data/delivery/events.jsonl.

A made-up, reproducible (seeded) history of five services over 16 weeks ending 2026-06-26, shaped
like real teams: pushes with commits, pull requests (opened, reviewed, merged), staging and
production deployments, failed deployments retried, incidents linked by deployment id, by cause
commit or not at all, hotfixes and rollbacks. `shipgauge demo` moves it to end this week.

Run: .venv/bin/python scripts/generate_delivery_demo.py
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "src/shipgauge/demo_data/delivery/events.jsonl"
END = datetime(2026, 6, 26, 18, 0, tzinfo=UTC)
WEEKS = 16
SEED = 6


@dataclass(frozen=True)
class Team:
    """How one service ships: deploys per working day, change sizes, how often things break."""

    service: str
    deploys_per_day: float
    commits_per_deploy: int
    review_hours: float
    incident_rate: float
    staging: bool = False
    fail_rate: float = 0.03


TEAMS = (
    Team("checkout-api", 2.5, 2, 3, 0.04, staging=True),
    Team("web-frontend", 1.0, 4, 10, 0.08),
    Team("search", 0.25, 8, 30, 0.12, staging=True),
    Team("billing", 0.06, 15, 60, 0.3, fail_rate=0.15),
    Team("mobile-backend", 0.6, 5, 20, 0.1),
)


@dataclass
class _History:
    rng: random.Random
    events: list[dict[str, Any]] = field(default_factory=list)
    counter: int = 0

    def add(self, team: Team, kind: str, at: datetime, **fields: Any) -> str:
        self.counter += 1
        event_id = f"{team.service}-{kind}-{self.counter}"
        self.events.append(
            {"event_id": event_id, "service": team.service, "kind": kind,
             "time": at.isoformat().replace("+00:00", "Z"), **fields}
        )  # fmt: skip
        return event_id

    def sha(self) -> str:
        return f"{self.rng.getrandbits(48):012x}"


def _working_moments(rng: random.Random, start: datetime, rate: float) -> list[datetime]:
    moments = []
    day = start
    while day < END - timedelta(hours=12):
        if day.weekday() < 5:
            count = int(rate) + (rng.random() < rate - int(rate))
            for _ in range(count):
                moments.append(day + timedelta(hours=rng.uniform(9.5, 17.5)))
        day += timedelta(days=1)
    return sorted(moments)


def _ship(history: _History, team: Team, at: datetime, commits: list[str], **flags: Any) -> str:
    if team.staging:
        history.add(team, "deploy", at - timedelta(minutes=40), environment="staging",
                    commits=commits)  # fmt: skip
    if history.rng.random() < team.fail_rate and not flags:
        history.add(team, "deploy", at - timedelta(minutes=25), commits=commits, result="failure")
    return history.add(team, "deploy", at, commits=commits, **flags)


def _incident(history: _History, team: Team, deployed_at: datetime, deploy_id: str,
              commits: list[str]) -> None:  # fmt: skip
    rng = history.rng
    opened = deployed_at + timedelta(hours=rng.uniform(0.3, 20))
    incident_id = f"INC-{team.service}-{history.counter}"
    link: dict[str, Any] = {}
    roll = rng.random()
    if roll < 0.45:
        link = {"deployment_id": deploy_id}
    elif roll < 0.65 and commits:
        link = {"cause_commit": rng.choice(commits)}
    history.add(team, "incident", opened, action="opened", incident_id=incident_id, **link)
    fix_at = opened + timedelta(hours=rng.uniform(0.2, 6))
    if fix_at < END:
        if rng.random() < 0.5:
            _ship(history, team, fix_at, [history.sha()], hotfix=True, incident_id=incident_id)
        else:
            _ship(history, team, fix_at, [], rollback=True)
    resolved = fix_at + timedelta(hours=rng.uniform(0.1, 30))
    if resolved < END:
        history.add(team, "incident", resolved, action="resolved", incident_id=incident_id)


def _team_history(history: _History, team: Team, start: datetime) -> None:
    rng = history.rng
    history.add(team, "deploy", start - timedelta(days=3))  # the service's first known deploy
    for deployed_at in _working_moments(rng, start, team.deploys_per_day):
        commits = [history.sha() for _ in range(max(1, int(rng.gauss(team.commits_per_deploy, 1))))]
        lead_hours = rng.uniform(0.5, 2.5) * team.review_hours
        first_push = deployed_at - timedelta(hours=lead_hours)
        for i in range(0, len(commits), 2):
            push_at = first_push + timedelta(hours=i * lead_hours / (3 * len(commits)))
            history.add(team, "push", push_at, commits=commits[i : i + 2])
        if rng.random() < 0.6:
            change_id = f"PR-{history.counter}"
            opened = first_push + timedelta(hours=lead_hours * 0.25)
            history.add(team, "change", opened, action="opened", change_id=change_id,
                        commits=commits)  # fmt: skip
            history.add(team, "change", opened + timedelta(hours=lead_hours * 0.3),
                        action="reviewed", change_id=change_id)  # fmt: skip
            history.add(team, "change", opened + timedelta(hours=lead_hours * 0.6),
                        action="merged", change_id=change_id)  # fmt: skip
        deploy_id = _ship(history, team, deployed_at, commits)
        history.add(team, "test_run", deployed_at + timedelta(minutes=20),
                    result="success" if rng.random() > 0.05 else "failure",
                    metadata={"suite": "smoke", "duration_s": rng.randint(60, 600)})  # fmt: skip
        if rng.random() < team.incident_rate:
            _incident(history, team, deployed_at, deploy_id, commits)


def main() -> None:
    history = _History(random.Random(SEED))
    start = END - timedelta(weeks=WEEKS)
    for team in TEAMS:
        _team_history(history, team, start)
    history.events.sort(key=lambda e: (e["time"], e["event_id"]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as out:
        for event in history.events:
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
    print(f"wrote {len(history.events)} events to {OUT}")


if __name__ == "__main__":
    main()
