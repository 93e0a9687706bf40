"""SNS envelopes: parsing, URL checks against the host pattern, the string to sign, signatures.

Messages have the shape AWS documents and are signed here with a generated RSA key (SHA1withRSA
for SignatureVersion 1, SHA256withRSA for 2); see tests/support/sns_signing.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shipgauge.config import Settings
from shipgauge.errors import ConfigError, SourceError
from shipgauge.sources import sns
from shipgauge.sources.s3 import events as s3_events
from shipgauge.sources.sns import (
    DEFAULT_CERT_HOST_PATTERN,
    SnsMessage,
    SnsMessageError,
    check_cert_url,
    is_sns_message,
    parse_sns_message,
    string_to_sign,
    verify_signature,
)
from tests.support.sns_signing import (
    CertifiedKey,
    aws_string_to_sign,
    make_self_signed,
    notification,
    sign,
    subscription_confirmation,
    unsubscribe_confirmation,
)

HOST = "sns.us-west-2.amazonaws.com"
LOOPBACK_PATTERN = r"^127\.0\.0\.1$"


@pytest.fixture(scope="module")
def signer() -> CertifiedKey:
    return make_self_signed()


def _fail(body: Any, field: str, pattern: str = DEFAULT_CERT_HOST_PATTERN) -> SnsMessageError:
    with pytest.raises(SnsMessageError) as info:
        parse_sns_message(json.dumps(body) if isinstance(body, dict) else body, pattern)
    assert info.value.field == field, info.value.message
    assert info.value.status == 400
    return info.value


def _verify_fails(doc: dict[str, Any], signer: CertifiedKey, field: str = "Signature") -> None:
    message = parse_sns_message(json.dumps(doc))
    with pytest.raises(SnsMessageError) as info:
        verify_signature(message, signer.cert_pem)
    assert info.value.field == field, info.value.message


# ---------------------------------------------------------------- good messages pass


UNSIGNED = {
    "notification": notification,
    "notification-without-subject": lambda: notification(subject=None),
    "subscription-confirmation": subscription_confirmation,
    "unsubscribe-confirmation": unsubscribe_confirmation,
}


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("kind", sorted(UNSIGNED))
def test_signed_messages_verify(kind: str, version: str, signer: CertifiedKey) -> None:
    doc = sign(UNSIGNED[kind](), signer.key, version)
    message = parse_sns_message(json.dumps(doc).encode())
    assert message.type == doc["Type"]
    assert message.signature_version == version
    assert message.signing_cert_url == doc["SigningCertURL"]
    assert string_to_sign(message) == aws_string_to_sign(doc)
    verify_signature(message, signer.cert_pem)  # no exception


def test_parse_accepts_a_mapping_and_the_signed_notification_carries_the_s3_event(
    signer: CertifiedKey,
) -> None:
    doc = sign(notification(), signer.key, "2")
    message = parse_sns_message(doc)
    assert message.subject == "Amazon S3 Notification"
    assert message.subscribe_url is None and message.token is None
    assert message.unsubscribe_url is not None
    verify_signature(message, signer.cert_pem)
    events = s3_events.parse_s3_event_message(json.dumps(doc))
    assert [(e.bucket, e.key, e.size) for e in events] == [("sourcebucket", "Happy Face.jpg", 1024)]


def test_confirmation_fields_are_kept(signer: CertifiedKey) -> None:
    doc = sign(subscription_confirmation(), signer.key, "1")
    message = parse_sns_message(doc)
    assert message.is_confirmation
    assert message.subscribe_url == doc["SubscribeURL"]
    assert message.token == doc["Token"]
    assert message.subject is None


def test_string_to_sign_matches_aws_documented_layout() -> None:
    # AWS: name, newline, value, newline per pair; Notification pairs in byte order of the names,
    # Subject only when present.
    message = SnsMessage(
        type="Notification",
        message_id="4d4dc071-ddbf-465d-bba8-08f81c89da64",
        topic_arn="arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P",
        message="My Test Message",
        timestamp="2019-01-31T04:37:04.321Z",
        signature_version="1",
        signature=b"x",
        signing_cert_url=f"https://{HOST}/cert.pem",
        subject="My subject",
    )
    assert string_to_sign(message) == (
        b"Message\nMy Test Message\n"
        b"MessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\n"
        b"Subject\nMy subject\n"
        b"Timestamp\n2019-01-31T04:37:04.321Z\n"
        b"TopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\n"
        b"Type\nNotification\n"
    )


def test_string_to_sign_of_a_confirmation_has_subscribe_url_and_token() -> None:
    message = SnsMessage(
        type="SubscriptionConfirmation",
        message_id="3d891288-136d-417f-bc05-901c108273ee",
        topic_arn="arn:aws:sns:us-east-2:123456789012:t",
        message="My Test Message",
        timestamp="2019-01-31T19:25:13.719Z",
        signature_version="2",
        signature=b"x",
        signing_cert_url=f"https://{HOST}/cert.pem",
        subject="ignored: confirmations do not sign a Subject",
        subscribe_url=f"https://{HOST}/?Action=ConfirmSubscription&Token=233",
        token="233",
    )
    assert string_to_sign(message) == (
        b"Message\nMy Test Message\n"
        b"MessageId\n3d891288-136d-417f-bc05-901c108273ee\n"
        b"SubscribeURL\nhttps://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=233\n"
        b"Timestamp\n2019-01-31T19:25:13.719Z\n"
        b"Token\n233\n"
        b"TopicArn\narn:aws:sns:us-east-2:123456789012:t\n"
        b"Type\nSubscriptionConfirmation\n"
    )


def test_non_ascii_values_are_signed_as_utf8(signer: CertifiedKey) -> None:
    doc = sign(notification(subject="Büild prêt ✓"), signer.key, "2")
    verify_signature(
        parse_sns_message(json.dumps(doc, ensure_ascii=False).encode()), signer.cert_pem
    )


def test_china_region_host_matches_default_pattern(signer: CertifiedKey) -> None:
    doc = sign(subscription_confirmation("sns.cn-north-1.amazonaws.com.cn"), signer.key, "2")
    verify_signature(parse_sns_message(doc), signer.cert_pem)


def test_loopback_host_is_allowed_only_when_the_pattern_allows_it(signer: CertifiedKey) -> None:
    doc = sign(subscription_confirmation("127.0.0.1:8443"), signer.key, "2")
    _fail(doc, "SigningCertURL")
    message = parse_sns_message(doc, LOOPBACK_PATTERN)
    assert message.subscribe_url is not None
    assert message.subscribe_url.startswith("https://127.0.0.1:8443/")
    verify_signature(message, signer.cert_pem)


def test_setting_default_is_the_module_default() -> None:
    assert Settings.model_fields["sns_cert_host_pattern"].default == DEFAULT_CERT_HOST_PATTERN
    assert Settings(sns_cert_host_pattern=LOOPBACK_PATTERN).sns_cert_host_pattern == (
        LOOPBACK_PATTERN
    )


def test_pattern_that_does_not_compile_is_a_config_error(signer: CertifiedKey) -> None:
    with pytest.raises(ConfigError) as info:
        parse_sns_message(sign(notification(), signer.key), "^sns\\.(")
    assert info.value.field == "sns_cert_host_pattern"


# ---------------------------------------------------------------- tampering fails the signature

TAMPER = {
    "Message": '{"Records": []}',
    "MessageId": "00000000-0000-0000-0000-000000000000",
    "Subject": "Another subject",
    "Timestamp": "2030-01-01T00:00:00.000Z",
    "TopicArn": "arn:aws:sns:us-west-2:123456789012:other-topic",
}


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("field", sorted(TAMPER))
def test_tampered_notification_field_fails(field: str, version: str, signer: CertifiedKey) -> None:
    doc = sign(notification(), signer.key, version)
    doc[field] = TAMPER[field]
    _verify_fails(doc, signer)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Message", "You have chosen to subscribe to another topic."),
        ("Token", "0" * 80),
        ("SubscribeURL", f"https://{HOST}/?Action=ConfirmSubscription&Token=other"),
        ("Type", "UnsubscribeConfirmation"),
        ("Timestamp", "2030-01-01T00:00:00.000Z"),
    ],
)
def test_tampered_confirmation_field_fails(field: str, value: str, signer: CertifiedKey) -> None:
    doc = sign(subscription_confirmation(), signer.key, "2")
    doc[field] = value
    _verify_fails(doc, signer)


def test_adding_a_subject_fails(signer: CertifiedKey) -> None:
    doc = sign(notification(subject=None), signer.key, "1")
    doc["Subject"] = "added later"
    _verify_fails(doc, signer)


def test_removing_the_subject_fails(signer: CertifiedKey) -> None:
    doc = sign(notification(), signer.key, "1")
    del doc["Subject"]
    _verify_fails(doc, signer)


def test_unsigned_fields_may_change(signer: CertifiedKey) -> None:
    # SigningCertURL is not signed (it is checked by host instead); a changed path still verifies
    # when the same certificate is served, as AWS documents.
    doc = sign(notification(), signer.key, "2")
    doc["SigningCertURL"] = f"https://{HOST}/SimpleNotificationService-other.pem"
    verify_signature(parse_sns_message(doc), signer.cert_pem)


@pytest.mark.parametrize(("signed", "claimed"), [("1", "2"), ("2", "1")])
def test_signature_version_must_match_the_hash(
    signed: str, claimed: str, signer: CertifiedKey
) -> None:
    doc = sign(notification(), signer.key, signed)
    doc["SignatureVersion"] = claimed
    _verify_fails(doc, signer)


def test_signature_by_another_key_fails(signer: CertifiedKey) -> None:
    other = make_self_signed()
    doc = sign(subscription_confirmation(), other.key, "2")
    _verify_fails(doc, signer)


@pytest.mark.parametrize("version", ["0", "3", "", "v1"])
def test_unknown_signature_version_is_refused(version: str, signer: CertifiedKey) -> None:
    doc = sign(notification(), signer.key, "1")
    doc["SignatureVersion"] = version
    _fail(doc, "SignatureVersion")


@pytest.mark.parametrize("signature", ["not base64!", "", "QUJD=X"])
def test_signature_must_be_base64(signature: str, signer: CertifiedKey) -> None:
    doc = sign(notification(), signer.key, "1")
    doc["Signature"] = signature
    _fail(doc, "Signature")


# ---------------------------------------------------------------- certificates


def test_certificate_that_is_not_pem_is_refused(signer: CertifiedKey) -> None:
    message = parse_sns_message(sign(notification(), signer.key, "2"))
    with pytest.raises(SnsMessageError) as info:
        verify_signature(message, b"<html>not a certificate</html>")
    assert info.value.field == "SigningCertURL"


def test_expired_certificate_is_refused(signer: CertifiedKey) -> None:
    old = make_self_signed(start=datetime.now(UTC) - timedelta(days=400), days=30)
    message = parse_sns_message(sign(notification(), old.key, "2"))
    with pytest.raises(SnsMessageError) as info:
        verify_signature(message, old.cert_pem)
    assert info.value.field == "SigningCertURL"
    verify_signature(message, old.cert_pem, now=datetime.now(UTC) - timedelta(days=390))


def test_certificate_without_rsa_key_is_refused(signer: CertifiedKey) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    message = parse_sns_message(sign(notification(), signer.key, "2"))
    with pytest.raises(SnsMessageError) as info:
        verify_signature(message, cert.public_bytes(serialization.Encoding.PEM))
    assert info.value.field == "SigningCertURL"


# ---------------------------------------------------------------- URLs refused before any fetch

BAD_CERT_URLS = [
    f"http://{HOST}/SimpleNotificationService-0000test.pem",  # not https
    "https://sns.us-west-2.amazonaws.com.evil.example/c.pem",  # suffix after the AWS host
    "https://evil.example/sns.us-west-2.amazonaws.com/c.pem",
    "https://snsXus-west-2.amazonaws.com/c.pem",  # the dots are literal
    "https://sns.us-west-2.amazonawsXcom/c.pem",
    "https://sns..amazonaws.com/c.pem",
    "https://sns.us-west-2.amazonaws.com.cn.evil.example/c.pem",
    f"https://{HOST}@127.0.0.1/c.pem",  # user info: the host is 127.0.0.1
    f"https://user:pw@{HOST}/c.pem",  # user info, even on the right host
    f"https://127.0.0.1\\@{HOST}/c.pem",
    "https://127.0.0.1/c.pem",
    "https://127.0.0.1:8443/c.pem",
    "https://localhost/c.pem",
    "https://[::1]/c.pem",
    f"https://{HOST}\n.evil.example/c.pem",  # control characters
    f"https://{HOST}\t/c.pem",
    f"https://{HOST} /c.pem",
    f"https://{HOST}:notaport/c.pem",
    "file:///etc/passwd",
    "ftp://sns.us-west-2.amazonaws.com/c.pem",
    f"//{HOST}/c.pem",
    "/SimpleNotificationService-0000test.pem",
    "",
]


@pytest.mark.parametrize("url", BAD_CERT_URLS)
def test_signing_cert_url_outside_the_pattern_is_refused(url: str, signer: CertifiedKey) -> None:
    doc = sign(notification(), signer.key, "2")
    doc["SigningCertURL"] = url
    doc.pop("UnsubscribeURL")
    _fail(doc, "SigningCertURL")


@pytest.mark.parametrize("url", BAD_CERT_URLS)
def test_check_cert_url_alone_refuses_the_same(url: str) -> None:
    with pytest.raises(SnsMessageError):
        check_cert_url(url)


def test_check_cert_url_returns_host_and_port() -> None:
    checked = check_cert_url(f"https://{HOST.upper()}/c.pem")
    assert (checked.host, checked.port) == (HOST, 443)
    assert check_cert_url("https://127.0.0.1:8443/c.pem", LOOPBACK_PATTERN).port == 8443


BAD_SUBSCRIBE_URLS = [
    "https://127.0.0.1:8443/x",  # the SSRF of the report
    "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",  # another SNS host
    f"http://{HOST}/?Action=ConfirmSubscription",  # not https
    f"https://{HOST}:8443/?Action=ConfirmSubscription",  # another port
    f"https://{HOST}.evil.example/?Action=ConfirmSubscription",
    f"https://{HOST}@127.0.0.1/?Action=ConfirmSubscription",
    "https://169.254.169.254/latest/meta-data/",
    "gopher://127.0.0.1:6379/_INFO",
]


@pytest.mark.parametrize("kind", ["subscription", "unsubscribe"])
@pytest.mark.parametrize("url", BAD_SUBSCRIBE_URLS)
def test_subscribe_url_off_the_certificate_host_is_refused(
    url: str, kind: str, signer: CertifiedKey
) -> None:
    make = subscription_confirmation if kind == "subscription" else unsubscribe_confirmation
    doc = make()
    doc["SubscribeURL"] = url
    _fail(sign(doc, signer.key, "2"), "SubscribeURL")  # signed or not, refused before a fetch


def test_subscribe_url_on_another_loopback_port_is_refused_even_when_loopback_is_allowed(
    signer: CertifiedKey,
) -> None:
    doc = subscription_confirmation("127.0.0.1:8443")
    doc["SubscribeURL"] = "https://127.0.0.1:9999/?Action=ConfirmSubscription"
    _fail(sign(doc, signer.key, "2"), "SubscribeURL", LOOPBACK_PATTERN)


def test_unsubscribe_url_off_the_certificate_host_is_refused(signer: CertifiedKey) -> None:
    doc = notification()
    doc["UnsubscribeURL"] = "https://127.0.0.1/?Action=Unsubscribe"
    _fail(sign(doc, signer.key, "2"), "UnsubscribeURL")


def test_the_reported_ssrf_body_is_refused() -> None:
    body = {"Type": "SubscriptionConfirmation", "SubscribeURL": "https://127.0.0.1:8443/x"}
    error = _fail(body, "MessageId")  # the first of its many missing fields
    assert isinstance(error, SourceError)
    assert is_sns_message(json.dumps(body))


# ---------------------------------------------------------------- missing and malformed fields

COMMON = ["Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion", "Signature"]


@pytest.mark.parametrize("field", [*COMMON, "SigningCertURL"])
def test_missing_field_of_a_notification_is_named(field: str, signer: CertifiedKey) -> None:
    doc = sign(notification(), signer.key, "2")
    del doc[field]
    _fail(doc, field)


@pytest.mark.parametrize("field", [*COMMON, "SigningCertURL", "SubscribeURL", "Token"])
@pytest.mark.parametrize("kind", ["subscription", "unsubscribe"])
def test_missing_field_of_a_confirmation_is_named(
    field: str, kind: str, signer: CertifiedKey
) -> None:
    make = subscription_confirmation if kind == "subscription" else unsubscribe_confirmation
    doc = sign(make(), signer.key, "2")
    del doc[field]
    _fail(doc, field)


@pytest.mark.parametrize("field", ["MessageId", "Message", "Token", "SubscribeURL", "Type"])
def test_field_that_is_not_a_string_is_named(field: str, signer: CertifiedKey) -> None:
    doc = sign(subscription_confirmation(), signer.key, "2")
    doc[field] = {"nested": True} if field != "Type" else 7
    _fail(doc, field)


def test_subject_that_is_not_a_string_is_named(signer: CertifiedKey) -> None:
    doc = sign(notification(), signer.key, "2")
    doc["Subject"] = ["a"]
    _fail(doc, "Subject")


@pytest.mark.parametrize("kind", ["Notice", "notification", "", "SubscriptionConfirmed"])
def test_unknown_type_is_refused(kind: str, signer: CertifiedKey) -> None:
    doc = sign(notification(), signer.key, "2")
    doc["Type"] = kind
    _fail(doc, "Type")


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_body_that_is_not_a_json_object_is_refused(body: bytes) -> None:
    _fail(body, "body")
    assert not is_sns_message(body)


def test_is_sns_message_tells_sns_from_bare_s3_events(signer: CertifiedKey) -> None:
    s3_event = json.loads(notification()["Message"])
    assert not is_sns_message(json.dumps(s3_event))
    assert is_sns_message(sign(notification(), signer.key, "1"))
    assert is_sns_message({"SubscribeURL": "https://127.0.0.1/"})


def test_a_hand_built_message_with_an_unknown_version_is_refused(signer: CertifiedKey) -> None:
    message = parse_sns_message(sign(notification(), signer.key, "2"))
    forged = SnsMessage(**{**vars(message), "signature_version": "9"})
    with pytest.raises(SnsMessageError) as info:
        verify_signature(forged, signer.cert_pem)
    assert info.value.field == "SignatureVersion"


def test_error_is_a_source_error_for_the_route() -> None:
    assert issubclass(sns.SnsMessageError, SourceError)
