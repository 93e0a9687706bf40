"""`POST /api/v1/builds/s3-events` dials nothing on a message's word: SNS URLs are checked first."""

from __future__ import annotations

import warnings
from pathlib import Path

from shipgauge.api import create_app
from shipgauge.config import load_settings
from shipgauge.store import Store
from shipgauge.store.tokens import create_token
from tests.integration.builds.test_sns_connector import Listener

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # Starlette now prefers httpx2
    from starlette.testclient import TestClient


def test_a_subscription_naming_a_loopback_url_is_refused_without_a_connection(
    tmp_path: Path,
) -> None:
    listener = Listener()
    try:
        with Store.open(str(tmp_path / "sns.duckdb")) as store:
            token = create_token(store, service="*", scopes=["builds:write"])
            app = create_app(load_settings(db=store.url), store=store)
            target = f"https://127.0.0.1:{listener.port}/x"
            bodies = [
                {"Type": "SubscriptionConfirmation", "SubscribeURL": target},
                {
                    "Type": "SubscriptionConfirmation",
                    "MessageId": "m-1",
                    "Token": "t",
                    "TopicArn": "arn:aws:sns:us-west-2:123456789012:builds",
                    "Message": "confirm",
                    "SubscribeURL": target,
                    "Timestamp": "2026-12-07T00:00:00.000Z",
                    "SignatureVersion": "2",
                    "Signature": "c2lnbmF0dXJl",
                    "SigningCertURL": f"https://127.0.0.1:{listener.port}/cert.pem",
                },
            ]
            with TestClient(app) as client:
                answers = [
                    client.post(
                        "/api/v1/builds/s3-events",
                        json=body,
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    for body in bodies
                ]
            assert [a.status_code for a in answers] == [400, 400]
            assert answers[0].json()["error"]["field"] == "MessageId"
            assert answers[1].json()["error"]["field"] == "SigningCertURL"
            assert store.count("dead_letters") == 0
        assert listener.accepted() == 0
    finally:
        listener.close()


NOT_NOTIFICATIONS = [
    (b"123", "body", "not a number"),
    (b"null", "body", "not null"),
    (b'"x"', "body", "not a string"),
    (b'{"service": "web", "kind": "deploy"}', "Records", "no SNS Message and no Records array"),
    (b'{"Records": "x"}', "Records", "no SNS Message and no Records array"),
    (b"not json", "body", "not valid JSON"),
    (b"[" * 100_000, "body", "nested more than 64 deep"),
    (b'{"Records": [{"s3": {"object": {"key": "\\ud800"}}}]}', "body", "lone UTF-16 surrogate"),
]
DEAD_LETTERED = [
    b'{"Records": [{"eventTime": "not a time", "s3": {"object": {"key": "pub/x"}}}]}',
    b'{"Records": [{"s3": {"object": {}}}]}',
]


def test_one_rule_400_for_what_is_no_notification_dead_letter_for_bad_content(
    tmp_path: Path,
) -> None:
    with Store.open(str(tmp_path / "events.duckdb")) as store:
        token = create_token(store, service="*", scopes=["builds:write"])
        app = create_app(load_settings(db=store.url), store=store)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with TestClient(app) as client:
            refused = [
                client.post("/api/v1/builds/s3-events", content=body, headers=headers)
                for body, _, _ in NOT_NOTIFICATIONS
            ]
            kept = [
                client.post("/api/v1/builds/s3-events", content=body, headers=headers)
                for body in DEAD_LETTERED
            ]
        for answer, (_, field, message) in zip(refused, NOT_NOTIFICATIONS, strict=True):
            assert answer.status_code == 400, answer.text
            assert answer.json()["error"]["field"] == field
            assert message in answer.json()["error"]["message"]
        assert [a.status_code for a in kept] == [200, 200]
        assert [a.json()["dead_letters"] for a in kept] == [1, 1]
        assert store.count("dead_letters") == 2
