"""A small two-service delivery history whose DORA values are worked out by hand in the tests.

web (production), March 2024 (UTC; 03-02 is a Saturday):
  D0 03-01 08:00 deploy, no commits: the service's first known deployment
  p1 03-01 09:00 push a1 a2; change CH1 opened 09:30 (a1 a2), merged 10:30
  D1 03-01 11:00 deploy a1 a2                        lead a1, a2 = 2 h
  p2 03-02 10:00 push b1
  D2 03-02 12:00 deploy b1, result failure           failed deploy; recovers at D3 (2 h)
  D3 03-02 14:00 deploy b1                           lead b1 = 4 h
  p3 03-04 09:00 push c1
  D4 03-04 10:00 deploy c1, deployment_id web-d4     lead c1 = 1 h
  I1 03-04 11:00 incident opened, deployment_id web-d4 (explicit); resolved 15:00
  p4 03-04 11:30 push c2
  D5 03-04 12:00 deploy c2, hotfix, incident_id I1   lead c2 = 30 min; rework (explicit_id)
  I2 03-06 09:00 incident opened, no link given; resolved 10:00 -> D5 (time_heuristic)
  D6 03-07 10:00 deploy d1, never pushed             no lead time
  D7 03-08 10:00 deploy, rollback                    D6 remediated; rework (no incident open)
  I3 03-09 09:00 incident opened, cause_commit a1; resolved 11:00 -> D1 (commit_sha)
api: A0 03-01 08:00 deploy; q0 02-20 push old1 (before A0: excluded); q1 03-10 10:00 push e1;
  S1 03-10 12:00 deploy e1 to staging (first staging deploy, so e1 is excluded there);
  A1 03-10 13:00 deploy e1 old1                      lead e1 = 3 h
"""

from __future__ import annotations

from typing import Any


def _event(event_id: str, service: str, kind: str, time: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": event_id, "service": service, "kind": kind, "time": time, **fields}


def history() -> list[dict[str, Any]]:
    """The events, in the order they happened."""
    return [
        _event("D0", "web", "deploy", "2024-03-01T08:00:00Z"),
        _event("p1", "web", "push", "2024-03-01T09:00:00Z", commits=["a1", "a2"]),
        _event("CH1-open", "web", "change", "2024-03-01T09:30:00Z", action="opened",
               change_id="CH1", commits=["a1", "a2"]),
        _event("CH1-merge", "web", "change", "2024-03-01T10:30:00Z", action="merged",
               change_id="CH1"),
        _event("D1", "web", "deploy", "2024-03-01T11:00:00Z", commits=["a1", "a2"]),
        _event("p2", "web", "push", "2024-03-02T10:00:00Z", commits=["b1"]),
        _event("D2", "web", "deploy", "2024-03-02T12:00:00Z", commits=["b1"], result="failure"),
        _event("D3", "web", "deploy", "2024-03-02T14:00:00Z", commits=["b1"]),
        _event("p3", "web", "push", "2024-03-04T09:00:00Z", commits=["c1"]),
        _event("D4", "web", "deploy", "2024-03-04T10:00:00Z", commits=["c1"],
               deployment_id="web-d4"),
        _event("I1-open", "web", "incident", "2024-03-04T11:00:00+00:00", action="opened",
               incident_id="I1", deployment_id="web-d4"),
        _event("p4", "web", "push", "2024-03-04T11:30:00Z", commits=["c2"]),
        _event("D5", "web", "deploy", "2024-03-04T12:00:00Z", commits=["c2"], hotfix=True,
               incident_id="I1"),
        _event("I1-resolve", "web", "incident", "2024-03-04T15:00:00Z", action="resolved",
               incident_id="I1"),
        _event("I2-open", "web", "incident", "2024-03-06T09:00:00Z", action="opened",
               incident_id="I2"),
        _event("I2-resolve", "web", "incident", "2024-03-06T10:00:00Z", action="resolved",
               incident_id="I2"),
        _event("D6", "web", "deploy", "2024-03-07T10:00:00Z", commits=["d1"]),
        _event("D7", "web", "deploy", "2024-03-08T10:00:00Z", rollback=True),
        _event("I3-open", "web", "incident", "2024-03-09T09:00:00Z", action="opened",
               incident_id="I3", cause_commit="a1"),
        _event("I3-resolve", "web", "incident", "2024-03-09T11:00:00Z", action="resolved",
               incident_id="I3"),
        _event("A0", "api", "deploy", "2024-03-01T08:00:00Z"),
        _event("q0", "api", "push", "2024-02-20T10:00:00Z", commits=["old1"]),
        _event("q1", "api", "push", "2024-03-10T10:00:00Z", commits=["e1"]),
        _event("S1", "api", "deploy", "2024-03-10T12:00:00Z", commits=["e1"],
               environment="staging"),
        _event("A1", "api", "deploy", "2024-03-10T13:00:00Z", commits=["e1", "old1"]),
    ]  # fmt: skip
