#!/usr/bin/env python3
"""Report a delivery event to shipgauge from CI. Standard library only (Python 3.8+).

usage: report_event.py SERVICE EVENT [--metadata JSON] [--environment ENV] [--commit SHA]...
                       [--result success|failure] [--event-id ID] [--rollback] [--hotfix]
                       [--dry-run]

Reads SHIPGAUGE_URL (the server, e.g. https://shipgauge.example) and SHIPGAUGE_TOKEN, or the
DevOps Toolkit's API_DEVOPS_EVENT_CATCHER (…/process-event) and DEVOPS_EVENTS_SECRET_TOKEN.
The event id comes from the CI run (GitHub Actions, GitLab CI, Jenkins, CircleCI, Taskcluster),
so a re-run step is stored once. Retries 5xx, timeouts and refused connections with backoff
(SHIPGAUGE_RETRIES, default 3); exits 1 with the server's message on failure, 2 on bad usage.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone

RETRY_BASE_S = 1.0


def ci_run_id(environ):
    """An id for this CI job, or None outside a known CI."""
    if environ.get("GITHUB_ACTIONS") == "true":
        parts = [
            "gha",
            environ.get("GITHUB_REPOSITORY", ""),
            environ.get("GITHUB_RUN_ID", ""),
            environ.get("GITHUB_RUN_ATTEMPT", "1"),
            environ.get("GITHUB_JOB", ""),
        ]
    elif environ.get("GITLAB_CI") == "true":
        parts = ["gitlab", environ.get("CI_PROJECT_ID", ""), environ.get("CI_JOB_ID", "")]
    elif environ.get("JENKINS_URL") and environ.get("BUILD_TAG"):
        parts = ["jenkins", environ["BUILD_TAG"]]
    elif environ.get("CIRCLECI") == "true":
        parts = [
            "circleci",
            environ.get("CIRCLE_WORKFLOW_ID", ""),
            environ.get("CIRCLE_BUILD_NUM", ""),
        ]
    elif environ.get("TASK_ID"):
        parts = ["taskcluster", environ["TASK_ID"], environ.get("RUN_ID", "0")]
    else:
        return None
    return "-".join(p for p in parts if p).replace(" ", "-")


def build_event(args, environ):
    """The JSON body shipgauge's POST /api/v1/events takes."""
    run = ci_run_id(environ)
    suffix = "-".join(p for p in (args.event, args.environment) if p)
    event = {
        "service": args.service,
        "kind": args.event,
        "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),  # noqa: UP017
        "event_id": args.event_id or f"{run or 'run-' + uuid.uuid4().hex}-{suffix}",
    }
    if args.metadata is not None:
        try:
            event["metadata"] = json.loads(args.metadata)
        except ValueError:
            raise SystemExit(usage_error("--metadata is not valid JSON")) from None
    optional = {
        "environment": args.environment,
        "result": args.result,
        "commits": args.commit or None,
        "rollback": True if args.rollback else None,
        "hotfix": True if args.hotfix else None,
    }
    event.update({k: v for k, v in optional.items() if v is not None})
    return event


def endpoint(environ):
    """The events URL and the token, from shipgauge's variables or the seed's."""
    base = environ.get("SHIPGAUGE_URL") or environ.get("API_DEVOPS_EVENT_CATCHER", "")
    token = environ.get("SHIPGAUGE_TOKEN") or environ.get("DEVOPS_EVENTS_SECRET_TOKEN", "")
    if not base or not token:
        raise SystemExit(usage_error("set SHIPGAUGE_URL and SHIPGAUGE_TOKEN"))
    base = base.rstrip("/")
    if base.endswith("/process-event"):
        base = base[: -len("/process-event")]
    if not base.startswith(("http://", "https://")):
        raise SystemExit(usage_error(f"{base} is not an http(s) URL"))
    return base + "/api/v1/events", token


def send(url, token, event, retries, timeout_s):
    """POST the event; returns (ok, message). Only 5xx, timeouts and refusals are retried."""
    body = json.dumps(event).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Bearer " + token,
        "User-Agent": "shipgauge-report-event/1 (python)",
    }
    outcome = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(RETRY_BASE_S * 2 ** (attempt - 1))
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                return True, f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            outcome = f"HTTP {exc.code}: {server_message(exc.read())}"
            if exc.code < 500:
                return False, outcome
        except (urllib.error.URLError, OSError) as exc:
            outcome = str(getattr(exc, "reason", exc))
    return False, f"{outcome} (after {retries + 1} tries)"


def server_message(raw):
    try:
        error = json.loads(raw.decode("utf-8"))["error"]
        field = f" (field {error['field']})" if error.get("field") else ""
        return error["message"] + field
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")[:300]


def usage_error(message):
    sys.stderr.write(f"report_event: {message}\n")
    return 2


def main(argv=None, environ=os.environ):
    parser = argparse.ArgumentParser(prog="report_event", description=__doc__.splitlines()[0])
    parser.add_argument("service")
    parser.add_argument("event", help="push, deploy, test_run, test_pass, incident or change")
    parser.add_argument("--metadata", help="a JSON object")
    parser.add_argument("--environment")
    parser.add_argument("--commit", action="append", help="a commit sha; repeatable")
    parser.add_argument("--result", help="success or failure")
    parser.add_argument("--event-id")
    parser.add_argument("--rollback", action="store_true")
    parser.add_argument("--hotfix", action="store_true")
    parser.add_argument("--dry-run", action="store_true", help="print the event, send nothing")
    args = parser.parse_args(argv)
    event = build_event(args, environ)
    if args.dry_run:
        print(json.dumps(event, sort_keys=True))
        return 0
    url, token = endpoint(environ)
    retries = int(environ.get("SHIPGAUGE_RETRIES", "3"))
    ok, message = send(url, token, event, retries, float(environ.get("SHIPGAUGE_TIMEOUT", "10")))
    if not ok:
        sys.stderr.write(f"report_event: {args.event} event for {args.service} failed: {message}\n")
        return 1
    print(f"stored {args.event} event {event['event_id']} for {args.service}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
