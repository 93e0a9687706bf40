"""Test keys, certificates and signed SNS messages in the shape AWS documents.

The string to sign is built here on its own (not with `shipgauge.sources.sns`), so a wrong field
order in the product fails the tests instead of agreeing with itself.
"""

from __future__ import annotations

import base64
import ipaddress
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

__all__ = [
    "S3_EVENT_FIXTURE",
    "TOPIC_ARN",
    "CertifiedKey",
    "aws_string_to_sign",
    "issue_server_cert",
    "make_ca",
    "make_self_signed",
    "notification",
    "sign",
    "subscription_confirmation",
    "unsubscribe_confirmation",
]

S3_EVENT_FIXTURE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "builds" / "aws-events" / "s3-event.json"
)
TOPIC_ARN = "arn:aws:sns:us-west-2:123456789012:buildhub-s3-events"
_SUBSCRIPTION_ARN = f"{TOPIC_ARN}:5b0f1c6e-3c3a-4d35-9c55-1f2f6b0e7a41"
_TOKEN = "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3"
_HASHES: dict[str, hashes.HashAlgorithm] = {"1": hashes.SHA1(), "2": hashes.SHA256()}


@dataclass(frozen=True)
class CertifiedKey:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(
    subject: str, issuer: str, key: rsa.RSAPrivateKey, *, days: int, start: datetime | None
) -> x509.CertificateBuilder:
    not_before = start or datetime.now(UTC) - timedelta(hours=1)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
    )


def make_self_signed(
    common_name: str = "sns.amazonaws.com", *, days: int = 30, start: datetime | None = None
) -> CertifiedKey:
    """An RSA key and a self-signed certificate for it: the SNS signing certificate stand-in."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _builder(common_name, common_name, key, days=days, start=start).sign(
        key, hashes.SHA256()
    )
    return CertifiedKey(key, cert)


def make_ca() -> CertifiedKey:
    """A CA for a loopback TLS server (its certificate is the client's CA bundle)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        _builder("shipgauge test CA", "shipgauge test CA", key, days=30, start=None)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertifiedKey(key, cert)


def issue_server_cert(ca: CertifiedKey, hosts: tuple[str, ...] = ("127.0.0.1",)) -> CertifiedKey:
    """A TLS server certificate for loopback `hosts`, signed by `ca`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (
        _builder(hosts[0], "shipgauge test CA", key, days=30, start=None)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return CertifiedKey(key, cert)


def aws_string_to_sign(doc: dict[str, Any]) -> bytes:
    """AWS's documented string to sign, written independently of the product code."""
    if doc["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{k}\n{doc[k]}\n" for k in keys if k in doc).encode("utf-8")


def sign(doc: dict[str, Any], key: rsa.RSAPrivateKey, version: str = "1") -> dict[str, Any]:
    """`doc` with SignatureVersion and a real Signature made with `key`."""
    signed = {**doc, "SignatureVersion": version}
    raw = key.sign(aws_string_to_sign(signed), padding.PKCS1v15(), _HASHES[version])
    signed["Signature"] = base64.b64encode(raw).decode("ascii")
    return signed


def _origin(host: str) -> str:
    return f"https://{host}"


def notification(
    host: str = "sns.us-west-2.amazonaws.com", *, subject: str | None = "Amazon S3 Notification"
) -> dict[str, Any]:
    """An unsigned Notification whose Message is the S3 event fixture as a JSON string."""
    message = json.dumps(json.loads(S3_EVENT_FIXTURE.read_text(encoding="utf-8")))
    doc: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": TOPIC_ARN,
        "Message": message,
        "Timestamp": "2024-05-02T00:54:06.655Z",
        "SigningCertURL": f"{_origin(host)}/SimpleNotificationService-0000test.pem",
        "UnsubscribeURL": (
            f"{_origin(host)}/?Action=Unsubscribe&SubscriptionArn={_SUBSCRIPTION_ARN}"
        ),
    }
    if subject is not None:
        doc["Subject"] = subject
    return doc


def subscription_confirmation(host: str = "sns.us-west-2.amazonaws.com") -> dict[str, Any]:
    """An unsigned SubscriptionConfirmation; its Message has a real newline (JSON `\\n`)."""
    return {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": _TOKEN,
        "TopicArn": TOPIC_ARN,
        "Message": (
            f"You have chosen to subscribe to the topic {TOPIC_ARN}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message."
        ),
        "SubscribeURL": (
            f"{_origin(host)}/?Action=ConfirmSubscription&TopicArn={TOPIC_ARN}&Token={_TOKEN}"
        ),
        "Timestamp": "2024-04-26T20:45:04.751Z",
        "SigningCertURL": f"{_origin(host)}/SimpleNotificationService-0000test.pem",
    }


def unsubscribe_confirmation(host: str = "sns.us-west-2.amazonaws.com") -> dict[str, Any]:
    """An unsigned UnsubscribeConfirmation."""
    return {
        **subscription_confirmation(host),
        "Type": "UnsubscribeConfirmation",
        "MessageId": "47138184-6831-46b8-8f7c-afc488602d7d",
        "Message": (
            f"You have chosen to deactivate subscription {_SUBSCRIPTION_ARN}.\n"
            "To cancel this operation and restore the subscription, visit the SubscribeURL "
            "included in this message."
        ),
        "Timestamp": "2024-04-26T20:06:41.581Z",
    }
