"""The SNS connector against a loopback HTTPS server standing in for sns.<region>.amazonaws.com.

The server (http.server in a thread, TLS with a certificate from a test CA) serves the signing
certificate and the ConfirmSubscription URL and counts the connections it accepts; a plain
loopback listener counts connections that must never be made.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shipgauge.errors import UpstreamError
from shipgauge.pipelines.builds.sns import CertificateCache, SnsConnector
from shipgauge.sources.sns import DEFAULT_CERT_HOST_PATTERN, SnsMessageError, parse_sns_message
from tests.support.sns_signing import (
    CertifiedKey,
    issue_server_cert,
    make_ca,
    make_self_signed,
    notification,
    sign,
    subscription_confirmation,
)

LOOPBACK_PATTERN = r"^127\.0\.0\.1$"
CERT_PATH = "/SimpleNotificationService-0000test.pem"


@dataclass
class Routes:
    """What the stand-in answers per path (without the query), and what it was asked."""

    answers: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: _StandIn

    def do_GET(self) -> None:
        self.server.routes.requests.append(self.path)
        status, headers, body = self.server.routes.answers.get(
            self.path.split("?", 1)[0], (404, {}, b"not found")
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _StandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext, routes: Routes) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.context = context
        self.routes = routes
        self.connections = 0

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = self.socket.accept()
        self.connections += 1
        return self.context.wrap_socket(sock, server_side=True), addr


@dataclass
class Server:
    origin: str
    port: int
    ca_bundle: Path
    signer: CertifiedKey
    routes: Routes
    stand_in: _StandIn

    @property
    def connections(self) -> int:
        return self.stand_in.connections

    def host(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    ca = make_ca()
    tls = issue_server_cert(ca)
    signer = make_self_signed()
    folder = tmp_path_factory.mktemp("sns-tls")
    (folder / "server.pem").write_bytes(tls.cert_pem + tls.key_pem)
    ca_bundle = folder / "ca.pem"
    ca_bundle.write_bytes(ca.cert_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "server.pem")
    routes = Routes()
    stand_in = _StandIn(context, routes)
    thread = threading.Thread(target=stand_in.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    port = stand_in.server_address[1]
    try:
        yield Server(f"https://127.0.0.1:{port}", port, ca_bundle, signer, routes, stand_in)
    finally:
        stand_in.shutdown()
        stand_in.server_close()
        thread.join(5)


@pytest.fixture
def routes(server: Server) -> Routes:
    server.routes.requests.clear()
    server.routes.answers.clear()
    server.routes.answers[CERT_PATH] = (200, {"Content-Type": "text/plain"}, server.signer.cert_pem)
    server.routes.answers["/"] = (
        200,
        {"Content-Type": "text/xml"},
        b"<ConfirmSubscriptionResponse/>",
    )
    return server.routes


@pytest.fixture
def connector(server: Server) -> Iterator[SnsConnector]:
    with SnsConnector(
        cert_host_pattern=LOOPBACK_PATTERN,
        verify=server.ca_bundle,
        timeout_s=5,
        cache=CertificateCache(),
    ) as conn:
        yield conn


class Listener:
    """A loopback TCP listener that only counts the connections made to it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]

    def accepted(self) -> int:
        self.sock.settimeout(0.3)
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                return count
            conn.close()
            count += 1

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    counting = Listener()
    yield counting
    counting.close()


def _signed_confirmation(server: Server, version: str = "2") -> dict[str, Any]:
    return sign(subscription_confirmation(server.host()), server.signer.key, version)


# ---------------------------------------------------------------- fetching and verifying


def test_fetches_the_certificate_once_and_caches_it(
    server: Server, routes: Routes, connector: SnsConnector
) -> None:
    before = server.connections
    url = f"{server.origin}{CERT_PATH}"
    assert connector.signing_certificate(url) == server.signer.cert_pem
    assert connector.signing_certificate(url) == server.signer.cert_pem
    assert routes.requests == [CERT_PATH]
    assert server.connections == before + 1
    assert len(connector.cache) == 1


@pytest.mark.parametrize("version", ["1", "2"])
def test_authenticates_a_signed_notification(
    version: str, server: Server, routes: Routes, connector: SnsConnector
) -> None:
    doc = sign(notification(server.host()), server.signer.key, version)
    message = parse_sns_message(json.dumps(doc), LOOPBACK_PATTERN)
    connector.authenticate(message)
    assert routes.requests == [CERT_PATH]


def test_refuses_a_tampered_notification(
    server: Server, routes: Routes, connector: SnsConnector
) -> None:
    doc = sign(notification(server.host()), server.signer.key, "2")
    doc["Message"] = json.dumps({"Records": []})
    with pytest.raises(SnsMessageError) as info:
        connector.authenticate(parse_sns_message(doc, LOOPBACK_PATTERN))
    assert info.value.field == "Signature"


def test_confirms_a_subscription_by_get_on_its_subscribe_url(
    server: Server, routes: Routes, connector: SnsConnector
) -> None:
    doc = _signed_confirmation(server)
    message = parse_sns_message(doc, LOOPBACK_PATTERN)
    connector.confirm_subscription(message)
    assert routes.requests == [CERT_PATH, doc["SubscribeURL"].removeprefix(server.origin)]


def test_does_not_confirm_a_forged_subscription(
    server: Server, routes: Routes, connector: SnsConnector
) -> None:
    doc = _signed_confirmation(server)
    doc["Token"] = "forged"
    with pytest.raises(SnsMessageError) as info:
        connector.confirm_subscription(parse_sns_message(doc, LOOPBACK_PATTERN))
    assert info.value.field == "Signature"
    assert routes.requests == [CERT_PATH]  # the certificate, never the SubscribeURL


def test_does_not_confirm_an_unsubscribe_confirmation(
    server: Server, routes: Routes, connector: SnsConnector
) -> None:
    doc = subscription_confirmation(server.host())
    doc["Type"] = "UnsubscribeConfirmation"
    message = parse_sns_message(sign(doc, server.signer.key, "2"), LOOPBACK_PATTERN)
    with pytest.raises(SnsMessageError) as info:
        connector.confirm_subscription(message)
    assert info.value.field == "Type"
    assert routes.requests == []


def test_server_certificate_is_checked(server: Server, routes: Routes) -> None:
    with (
        SnsConnector(cert_host_pattern=LOOPBACK_PATTERN, cache=CertificateCache()) as system_cas,
        pytest.raises(UpstreamError) as info,
    ):
        system_cas.signing_certificate(f"{server.origin}{CERT_PATH}")
    assert info.value.field == "SigningCertURL"
    assert len(system_cas.cache) == 0


def test_an_answer_that_is_not_a_certificate_is_not_cached(
    server: Server, routes: Routes, connector: SnsConnector
) -> None:
    routes.answers["/junk.pem"] = (200, {}, b"<html>maintenance</html>")
    with pytest.raises(SnsMessageError) as info:
        connector.signing_certificate(f"{server.origin}/junk.pem")
    assert info.value.field == "SigningCertURL"
    assert len(connector.cache) == 0


def test_an_oversized_answer_is_cut_off(
    server: Server, routes: Routes, connector: SnsConnector
) -> None:
    routes.answers["/big.pem"] = (200, {}, b"A" * 200_000)
    with pytest.raises(UpstreamError):
        connector.signing_certificate(f"{server.origin}/big.pem")


def test_an_error_status_is_an_upstream_error(
    server: Server, routes: Routes, connector: SnsConnector
) -> None:
    with pytest.raises(UpstreamError) as info:
        connector.signing_certificate(f"{server.origin}/missing.pem")
    assert info.value.status == 502 and "HTTP 404" in info.value.message


# ---------------------------------------------------------------- no connection to other places


def test_url_outside_the_default_pattern_makes_no_connection(
    server: Server, routes: Routes, listener: Listener
) -> None:
    before = server.connections
    with SnsConnector(verify=server.ca_bundle, cache=CertificateCache()) as aws_only:
        for url in (
            f"{server.origin}{CERT_PATH}",
            f"https://127.0.0.1:{listener.port}{CERT_PATH}",
            f"https://localhost:{listener.port}{CERT_PATH}",
        ):
            with pytest.raises(SnsMessageError) as info:
                aws_only.signing_certificate(url)
            assert info.value.field == "SigningCertURL"
    assert server.connections == before
    assert listener.accepted() == 0
    assert routes.requests == []


def test_http_or_another_host_makes_no_connection_even_with_loopback_allowed(
    server: Server, routes: Routes, connector: SnsConnector, listener: Listener
) -> None:
    before = server.connections
    for url in (
        f"http://127.0.0.1:{listener.port}{CERT_PATH}",
        f"https://localhost:{listener.port}{CERT_PATH}",
        f"https://127.0.0.1:{listener.port}@localhost:{listener.port}{CERT_PATH}",
    ):
        with pytest.raises(SnsMessageError):
            connector.signing_certificate(url)
    assert server.connections == before
    assert listener.accepted() == 0


def test_the_reported_ssrf_makes_no_connection(server: Server, listener: Listener) -> None:
    # The route's order: parse (every URL checked) → fetch certificate → verify → GET.
    target = f"https://127.0.0.1:{listener.port}/x"
    signed = _signed_confirmation(server)
    cases = [
        ({"Type": "SubscriptionConfirmation", "SubscribeURL": target}, LOOPBACK_PATTERN),
        ({**signed, "SubscribeURL": target}, LOOPBACK_PATTERN),  # not the certificate's port
        # Under the default pattern a loopback certificate URL is no SNS host at all.
        ({**signed, "SigningCertURL": f"{target}.pem", "SubscribeURL": target}, None),
    ]
    for body, pattern in cases:
        with (
            SnsConnector(
                cert_host_pattern=pattern or DEFAULT_CERT_HOST_PATTERN,
                verify=server.ca_bundle,
                cache=CertificateCache(),
            ) as conn,
            pytest.raises(SnsMessageError),
        ):
            conn.confirm_subscription(parse_sns_message(json.dumps(body), conn.cert_host_pattern))
    assert listener.accepted() == 0


def test_a_hand_built_message_with_a_foreign_subscribe_url_makes_no_connection(
    server: Server, routes: Routes, connector: SnsConnector, listener: Listener
) -> None:
    # The connector checks again: a message not made by parse_sns_message cannot get past it.
    message = parse_sns_message(_signed_confirmation(server), LOOPBACK_PATTERN)
    forged = replace(message, subscribe_url=f"https://127.0.0.1:{listener.port}/x")
    with pytest.raises(SnsMessageError) as info:
        connector.confirm_subscription(forged)
    assert info.value.field == "SubscribeURL"
    forged = replace(message, signing_cert_url=f"https://127.0.0.1:{listener.port}/c.pem")
    with pytest.raises(SnsMessageError):
        connector.confirm_subscription(forged)
    assert listener.accepted() == 0
    assert routes.requests == []


def test_redirects_are_not_followed(
    server: Server, routes: Routes, connector: SnsConnector, listener: Listener
) -> None:
    target = f"https://127.0.0.1:{listener.port}/c.pem"
    routes.answers["/moved.pem"] = (302, {"Location": target}, b"")
    with pytest.raises(UpstreamError) as info:
        connector.signing_certificate(f"{server.origin}/moved.pem")
    assert "HTTP 302" in info.value.message
    assert listener.accepted() == 0
