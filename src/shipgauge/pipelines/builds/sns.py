"""Amazon SNS over HTTPS: fetch a signing certificate, confirm a subscription.

Only URLs that `sources.sns` accepts are asked for: every call checks its URL again against the
host pattern (https, host matched by `sns_cert_host_pattern`, SubscribeURL on the certificate's
host) before a connection is made, and httpx's own reading of the URL must agree with that check.
Redirects are not followed, proxies from the environment are not used and answers are size
capped, so a message cannot steer the server to another address.

Certificates are cached in memory by URL (AWS gives a new certificate a new URL); only one that
parses as a currently valid RSA certificate is kept.
"""

from __future__ import annotations

import os
import re
import ssl
import threading
from collections import OrderedDict

import httpx

from shipgauge.errors import UpstreamError
from shipgauge.sources.sns import (
    DEFAULT_CERT_HOST_PATTERN,
    CheckedUrl,
    SnsMessage,
    SnsMessageError,
    check_cert_url,
    check_same_host_url,
    load_signing_certificate,
    verify_signature,
)

__all__ = ["DEFAULT_SNS_TIMEOUT_S", "CertificateCache", "SnsConnector"]

DEFAULT_SNS_TIMEOUT_S = 10.0
MAX_CERT_BYTES = 64 * 1024  # an SNS certificate is about 2 KiB
MAX_CONFIRM_BYTES = 64 * 1024


class CertificateCache:
    """PEM bytes by URL, at most `max_entries` (least recently used dropped); thread-safe."""

    def __init__(self, max_entries: int = 64) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: str) -> bytes | None:
        with self._lock:
            pem = self._items.get(url)
            if pem is not None:
                self._items.move_to_end(url)
            return pem

    def put(self, url: str, pem: bytes) -> None:
        with self._lock:
            self._items[url] = pem
            self._items.move_to_end(url)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


# One cache for the process: the route builds a connector per request.
_SHARED_CACHE = CertificateCache()


def _ssl_context(verify: bool | str | os.PathLike[str] | ssl.SSLContext) -> ssl.SSLContext:
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is True:
        return ssl.create_default_context()
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=os.fspath(verify))


class SnsConnector:
    """HTTPS to SNS hosts only: signing certificates (cached) and subscription confirmation.

    `cert_host_pattern` is the `sns_cert_host_pattern` setting. `verify` is True (system CAs),
    a CA bundle path (a test server's certificate), an `ssl.SSLContext`, or False (tests only).
    """

    def __init__(
        self,
        *,
        cert_host_pattern: str | re.Pattern[str] = DEFAULT_CERT_HOST_PATTERN,
        timeout_s: float = DEFAULT_SNS_TIMEOUT_S,
        verify: bool | str | os.PathLike[str] | ssl.SSLContext = True,
        retries: int = 1,
        cache: CertificateCache | None = None,
    ) -> None:
        self.cert_host_pattern = cert_host_pattern
        self.cache = _SHARED_CACHE if cache is None else cache
        context = _ssl_context(verify)
        self._client = httpx.Client(
            timeout=timeout_s,
            follow_redirects=False,
            trust_env=False,  # no proxy or CA bundle from the environment
            headers={"User-Agent": "shipgauge"},
            transport=httpx.HTTPTransport(verify=context, retries=retries),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SnsConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, checked: CheckedUrl, *, field: str, limit: int) -> bytes:
        url = httpx.URL(checked.url)
        # httpx must read the URL as the checker did, or a parser difference could aim elsewhere.
        seen = (url.scheme, url.raw_host.decode("ascii").lower(), url.port or 443)
        if seen != ("https", checked.host, checked.port):
            raise SnsMessageError(f"{field} is read differently by the HTTP client", field=field)
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise UpstreamError(
                        f"SNS: HTTP {response.status_code} from {checked.url}", field=field
                    )
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise UpstreamError(
                            f"SNS: {checked.url} answered more than {limit} bytes", field=field
                        )
                return body
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"SNS: {type(exc).__name__} from {checked.url}: {exc}", field=field
            ) from None

    def signing_certificate(self, url: str) -> bytes:
        """The PEM certificate at `url` (a SigningCertURL), from the cache or fetched once.

        A URL the host pattern refuses raises SnsMessageError before any connection.
        """
        checked = check_cert_url(url, self.cert_host_pattern)
        cached = self.cache.get(checked.url)
        if cached is not None:
            return cached
        pem = self._get(checked, field="SigningCertURL", limit=MAX_CERT_BYTES)
        load_signing_certificate(pem)  # only a usable certificate is cached
        self.cache.put(checked.url, pem)
        return pem

    def authenticate(self, message: SnsMessage) -> None:
        """Fetch the message's certificate and verify its signature (SnsMessageError if not)."""
        verify_signature(message, self.signing_certificate(message.signing_cert_url))

    def confirm_subscription(self, message: SnsMessage) -> None:
        """Verify a SubscriptionConfirmation, then GET its SubscribeURL (on the cert's host)."""
        if message.type != "SubscriptionConfirmation":
            raise SnsMessageError(
                f"only a SubscriptionConfirmation is confirmed, not {message.type}", field="Type"
            )
        cert_url = check_cert_url(message.signing_cert_url, self.cert_host_pattern)
        subscribe = check_same_host_url(message.subscribe_url, cert_url, self.cert_host_pattern)
        self.authenticate(message)
        self._get(subscribe, field="SubscribeURL", limit=MAX_CONFIRM_BYTES)

    def __repr__(self) -> str:
        return f"SnsConnector(cert_host_pattern={self.cert_host_pattern!r})"
