"""Amazon SNS HTTP(S) messages: parse and check the envelope, build the string to sign, verify.

Pure: no network. The checks follow AWS's documented SNS signature verification:

- `Type` is `Notification`, `SubscriptionConfirmation` or `UnsubscribeConfirmation`, and every
  field that type signs is a string (`Subject` of a notification is optional);
- `SignatureVersion` "1" is SHA1withRSA and "2" SHA256withRSA (PKCS #1 v1.5), over the string to
  sign: `Name\\nvalue\\n` for each signed field in AWS's order, which differs for notifications
  (Message, MessageId, Subject, Timestamp, TopicArn, Type) and confirmations (Message, MessageId,
  SubscribeURL, Timestamp, Token, TopicArn, Type);
- `SigningCertURL` is https on a host that matches the `sns_cert_host_pattern` setting (a regex,
  by default `sns.<region>.amazonaws.com` or `.com.cn`), without user info;
- `SubscribeURL` (confirmations) and `UnsubscribeURL` (notifications, when present) are https on
  the same host and port as `SigningCertURL`.

All of that is checked by `parse_sns_message` before anything is fetched, so a message that names
any other address is refused before a connection is made. `verify_signature` then checks the
signature with the certificate that `connectors.sns` fetched from `SigningCertURL`.
Every failure is an `SnsMessageError` (a SourceError, HTTP 400) whose `field` names the key.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from shipgauge.errors import BadRequest, ConfigError, SourceError
from shipgauge.json_input import load_json

__all__ = [
    "CONFIRMATION_TYPES",
    "DEFAULT_CERT_HOST_PATTERN",
    "MESSAGE_TYPES",
    "SIGNATURE_HASHES",
    "CheckedUrl",
    "SnsMessage",
    "SnsMessageError",
    "cert_host_regex",
    "check_cert_url",
    "check_same_host_url",
    "is_sns_message",
    "load_signing_certificate",
    "parse_sns_message",
    "string_to_sign",
    "verify_signature",
]

DEFAULT_CERT_HOST_PATTERN = r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$"
NOTIFICATION = "Notification"
CONFIRMATION_TYPES = frozenset({"SubscriptionConfirmation", "UnsubscribeConfirmation"})
MESSAGE_TYPES = frozenset({NOTIFICATION, *CONFIRMATION_TYPES})
SIGNATURE_HASHES: Mapping[str, type[hashes.HashAlgorithm]] = {
    "1": hashes.SHA1,
    "2": hashes.SHA256,
}
# Signed fields in the order AWS builds the string to sign (byte order of the names).
_NOTIFICATION_SIGNED = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_CONFIRMATION_SIGNED = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
# Required string fields, checked in this order (so the first missing one is named).
_COMMON_REQUIRED = (
    "Type",
    "MessageId",
    "TopicArn",
    "Message",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
)
_CONFIRMATION_REQUIRED = ("SubscribeURL", "Token")
# Keys whose presence makes a body an SNS message rather than a bare S3 event.
_SNS_KEYS = frozenset({"Type", "SignatureVersion", "Signature", "SigningCertURL", "SubscribeURL"})


class SnsMessageError(SourceError):
    """An SNS message that is malformed, names a URL it may not, or whose signature fails."""


@dataclass(frozen=True)
class CheckedUrl:
    """A URL that passed the checks: https, printable ASCII, no user info, host allowed."""

    url: str
    host: str
    port: int


@dataclass(frozen=True)
class SnsMessage:
    """A parsed SNS envelope whose URLs have been checked (the signature not yet)."""

    type: str
    message_id: str
    topic_arn: str
    message: str
    timestamp: str
    signature_version: str
    signature: bytes
    signing_cert_url: str
    subject: str | None = None
    subscribe_url: str | None = None
    token: str | None = None
    unsubscribe_url: str | None = None

    @property
    def is_confirmation(self) -> bool:
        """A SubscriptionConfirmation or UnsubscribeConfirmation (they carry SubscribeURL)."""
        return self.type in CONFIRMATION_TYPES

    def signed_fields(self) -> list[tuple[str, str]]:
        """The (name, value) pairs of the string to sign, in AWS's order."""
        values = {
            "Message": self.message,
            "MessageId": self.message_id,
            "Subject": self.subject,
            "SubscribeURL": self.subscribe_url,
            "Timestamp": self.timestamp,
            "Token": self.token,
            "TopicArn": self.topic_arn,
            "Type": self.type,
        }
        names = _CONFIRMATION_SIGNED if self.is_confirmation else _NOTIFICATION_SIGNED
        return [(name, value) for name in names if (value := values[name]) is not None]


@functools.lru_cache(maxsize=16)
def cert_host_regex(pattern: str) -> re.Pattern[str]:
    """The compiled `sns_cert_host_pattern`; a pattern that does not compile is a ConfigError."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(
            f"sns_cert_host_pattern is not a regular expression: {exc}",
            field="sns_cert_host_pattern",
        ) from None


def _regex(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    return pattern if isinstance(pattern, re.Pattern) else cert_host_regex(pattern)


def _split_https(url: Any, field: str) -> CheckedUrl:
    if not isinstance(url, str) or not url:
        raise SnsMessageError(f"{field} must be a non-empty string", field=field)
    # Only printable ASCII: no spaces, tabs or newlines that one URL parser drops and another
    # keeps, no non-ASCII host that IDNA would turn into something else.
    if not all("!" <= ch <= "~" for ch in url):
        raise SnsMessageError(f"{field} has characters a URL may not have", field=field)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise SnsMessageError(f"{field} is not a URL", field=field) from None
    if parts.scheme != "https":
        raise SnsMessageError(f"{field} must be an https URL", field=field)
    if "@" in parts.netloc:
        raise SnsMessageError(f"{field} must not carry user info", field=field)
    if "\\" in url:
        raise SnsMessageError(f"{field} must not contain a backslash", field=field)
    host = parts.hostname or ""
    if not host:
        raise SnsMessageError(f"{field} has no host", field=field)
    return CheckedUrl(url=url, host=host, port=port if port is not None else 443)


def check_cert_url(
    url: Any,
    cert_host_pattern: str | re.Pattern[str] = DEFAULT_CERT_HOST_PATTERN,
    *,
    field: str = "SigningCertURL",
) -> CheckedUrl:
    """`url` if it is https on a host the pattern matches (whole host), else SnsMessageError."""
    checked = _split_https(url, field)
    if _regex(cert_host_pattern).fullmatch(checked.host) is None:
        raise SnsMessageError(
            f"{field} host '{checked.host}' is not an SNS host (setting sns_cert_host_pattern)",
            field=field,
        )
    return checked


def check_same_host_url(
    url: Any,
    cert_url: CheckedUrl,
    cert_host_pattern: str | re.Pattern[str] = DEFAULT_CERT_HOST_PATTERN,
    *,
    field: str = "SubscribeURL",
) -> CheckedUrl:
    """`url` if it is https on the same host and port as the checked SigningCertURL."""
    checked = check_cert_url(url, cert_host_pattern, field=field)
    if (checked.host, checked.port) != (cert_url.host, cert_url.port):
        raise SnsMessageError(
            f"{field} must be on the SigningCertURL host '{cert_url.host}', not '{checked.host}'",
            field=field,
        )
    return checked


def _load(body: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        doc: Any = body
    else:
        try:
            doc = load_json(body, what="body")
        except BadRequest as exc:
            raise SnsMessageError(f"SNS message: {exc.message}", field="body") from None
    if not isinstance(doc, Mapping):
        raise SnsMessageError("SNS message must be a JSON object", field="body")
    return doc


def is_sns_message(body: bytes | str | Mapping[str, Any]) -> bool:
    """Whether a JSON body claims to be an SNS HTTP message (has Type, Signature, SubscribeURL…).

    Such a body must then pass `parse_sns_message`; a body without any of those keys is an S3
    event in another envelope (or not JSON at all, which the S3 event parser reports).
    """
    try:
        doc = _load(body)
    except SnsMessageError:
        return False
    return not _SNS_KEYS.isdisjoint(doc)


def _string(doc: Mapping[str, Any], name: str, *, required: bool, kind: str) -> str | None:
    value = doc.get(name)
    if value is None:
        if required:
            raise SnsMessageError(f"SNS {kind} without {name}", field=name)
        return None
    if not isinstance(value, str):
        raise SnsMessageError(f"SNS {name} must be a string", field=name)
    return value


def parse_sns_message(
    body: bytes | str | Mapping[str, Any],
    cert_host_pattern: str | re.Pattern[str] = DEFAULT_CERT_HOST_PATTERN,
) -> SnsMessage:
    """Parse and check an SNS envelope; every URL is checked here, before any is fetched."""
    doc = _load(body)
    kind = doc.get("Type")
    if kind is None:
        raise SnsMessageError("SNS message without Type", field="Type")
    if kind not in MESSAGE_TYPES:
        raise SnsMessageError(
            f"SNS Type must be one of {', '.join(sorted(MESSAGE_TYPES))}", field="Type"
        )
    confirmation = kind in CONFIRMATION_TYPES
    required = _COMMON_REQUIRED + (_CONFIRMATION_REQUIRED if confirmation else ())
    fields = {name: _string(doc, name, required=True, kind=kind) or "" for name in required}
    if fields["SignatureVersion"] not in SIGNATURE_HASHES:
        raise SnsMessageError(
            f"SNS SignatureVersion must be one of {', '.join(SIGNATURE_HASHES)}",
            field="SignatureVersion",
        )
    try:
        signature = base64.b64decode(fields["Signature"], validate=True)
    except (binascii.Error, ValueError):
        raise SnsMessageError("SNS Signature is not base64", field="Signature") from None
    if not signature:
        raise SnsMessageError("SNS Signature is empty", field="Signature")

    regex = _regex(cert_host_pattern)
    cert_url = check_cert_url(fields["SigningCertURL"], regex)
    subscribe_url: str | None = None
    if confirmation:
        subscribe_url = check_same_host_url(fields["SubscribeURL"], cert_url, regex).url
    subject = None if confirmation else _string(doc, "Subject", required=False, kind=kind)
    unsubscribe_url = _string(doc, "UnsubscribeURL", required=False, kind=kind)
    if unsubscribe_url is not None:
        check_same_host_url(unsubscribe_url, cert_url, regex, field="UnsubscribeURL")
    return SnsMessage(
        type=kind,
        message_id=fields["MessageId"],
        topic_arn=fields["TopicArn"],
        message=fields["Message"],
        timestamp=fields["Timestamp"],
        signature_version=fields["SignatureVersion"],
        signature=signature,
        signing_cert_url=cert_url.url,
        subject=subject,
        subscribe_url=subscribe_url,
        token=fields.get("Token"),
        unsubscribe_url=unsubscribe_url,
    )


def string_to_sign(message: SnsMessage) -> bytes:
    """AWS's canonical string to sign: `Name\\nvalue\\n` per signed field, UTF-8."""
    return "".join(f"{name}\n{value}\n" for name, value in message.signed_fields()).encode()


def load_signing_certificate(pem: bytes, *, now: datetime | None = None) -> rsa.RSAPublicKey:
    """The RSA public key of a PEM X.509 certificate that is valid at `now` (default: now)."""
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise SnsMessageError(
            "the certificate at SigningCertURL is not a PEM X.509 certificate",
            field="SigningCertURL",
        ) from None
    at = now or datetime.now(UTC)
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        raise SnsMessageError(
            "the certificate at SigningCertURL is expired or not yet valid",
            field="SigningCertURL",
        )
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise SnsMessageError(
            "the certificate at SigningCertURL does not hold an RSA key", field="SigningCertURL"
        )
    return key


def verify_signature(message: SnsMessage, cert_pem: bytes, *, now: datetime | None = None) -> None:
    """Check the message's signature with the certificate fetched from its SigningCertURL."""
    key = load_signing_certificate(cert_pem, now=now)
    algorithm = SIGNATURE_HASHES.get(message.signature_version)
    if algorithm is None:  # a hand-built SnsMessage; parse_sns_message refuses these
        raise SnsMessageError("unknown SNS SignatureVersion", field="SignatureVersion")
    try:
        key.verify(message.signature, string_to_sign(message), padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise SnsMessageError(
            "SNS Signature does not match the message and its certificate", field="Signature"
        ) from None
