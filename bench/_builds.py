"""Inputs shared by the build-catalog ingest benchmarks: many distinct `buildhub.json` documents
made from the fixture's real one, and an S3 stand-in that lists and serves them.

Document `n` is tests/fixtures' valid-buildhub.json with its own build id, date, version, locale
and download URL (so its own hash); one in REFUSED_EVERY lacks `target` and is refused (a dead
letter). In the bucket, document `n` is `pub/devedition/candidates/NNNNNNNN/buildhub.json`,
listed beside OTHER_FILES of its build (a bucket holds far more than buildhub.json files).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from _common import served_in_child

FIXTURE = (
    Path(__file__).resolve().parent.parent
    / "tests/fixtures/buildhub/buildhub2/buildhub-json/valid-buildhub.json"
)
TEMPLATE: dict[str, Any] = json.loads(FIXTURE.read_text())
REFUSED_EVERY = 100
LOCALES = ("ca", "de", "en-US", "fr", "it", "ja", "pl", "ru", "zh-CN", "zh-TW")
OTHER_FILES = ("Firefox.dmg", "firefox.checksums", "firefox.complete.mar", "firefox.json")
BUCKET = "delivery"
_START = datetime(2018, 5, 10, 16, 7, 5)


def document(n: int) -> bytes:
    """The `n`th buildhub.json: valid, except one in REFUSED_EVERY that has no `target`."""
    doc = copy.deepcopy(TEMPLATE)
    built = _START + timedelta(minutes=n)
    version = f"{61 + n // 100_000}.0b{n % 100_000 // 1000}rc{n % 1000}"
    locale = LOCALES[n % len(LOCALES)]
    doc["build"]["id"] = built.strftime("%Y%m%d%H%M%S")
    doc["build"]["date"] = built.strftime("%Y-%m-%dT%H:%M:%SZ")
    doc["target"].update(version=version, locale=locale)
    doc["download"]["url"] = (
        "https://archive.mozilla.org/pub/devedition/candidates/"
        f"{version}-candidates/build1/mac/{locale}/Firefox {version}.dmg"
    )
    if n % REFUSED_EVERY == REFUSED_EVERY - 1:
        del doc["target"]
    return json.dumps(doc).encode()


def key(n: int) -> str:
    """Where document `n` sits in the bucket."""
    return f"pub/devedition/candidates/{n:08d}/buildhub.json"


def refused(count: int) -> int:
    """How many of the first `count` documents are refused."""
    return count // REFUSED_EVERY


def etag(body: bytes) -> str:
    return hashlib.md5(body).hexdigest()


def _listing(prefix: str, after: str, count: int, max_keys: int) -> bytes:
    """A ListObjectsV2 page of the bucket of `count` builds: keys after `after`, in order."""
    keys: list[tuple[str, int]] = []
    n = int(after[len("pub/devedition/candidates/") :][:8]) if after else 0
    while n < count and len(keys) < max_keys + 1:
        folder = key(n).rsplit("/", 1)[0]
        for name in sorted(("buildhub.json", *OTHER_FILES)):
            full = f"{folder}/{name}"
            if full > after and full.startswith(prefix):
                keys.append((full, n))
        n += 1
    page, more = keys[:max_keys], len(keys) > max_keys
    contents = "".join(
        f"<Contents><Key>{k}</Key><LastModified>2018-05-10T18:02:17.000Z</LastModified>"
        f'<ETag>"{etag(document(i)) if k.endswith("buildhub.json") else "0" * 32}"</ETag>'
        f"<Size>1200</Size><StorageClass>STANDARD</StorageClass></Contents>"
        for k, i in page
    )
    token = f"<NextContinuationToken>{page[-1][0]}</NextContinuationToken>" if more else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Name>{BUCKET}</Name><Prefix>{prefix}</Prefix><KeyCount>{len(page)}</KeyCount>"
        f"<MaxKeys>{max_keys}</MaxKeys><IsTruncated>{str(more).lower()}</IsTruncated>"
        f"{token}{contents}</ListBucketResult>"
    ).encode()


def _handler(count: int) -> type[BaseHTTPRequestHandler]:
    class S3StandIn(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else each answer waits ~40 ms for a delayed ACK

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            path = unquote(url.path).lstrip("/").removeprefix(BUCKET).lstrip("/")
            if not path:
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                after = query.get("continuation-token") or query.get("start-after", "")
                body = _listing(query.get("prefix", ""), after, count, int(query["max-keys"]))
                self._answer(200, body, "application/xml")
            elif path.endswith("/buildhub.json") and int(path.split("/")[-2]) < count:
                self._answer(200, document(int(path.split("/")[-2])), "application/json")
            else:
                self._answer(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")

        def _answer(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            if status == 200 and kind == "application/json":
                self.send_header("ETag", f'"{etag(body)}"')
            self.end_headers()
            self.wfile.write(body)

    return S3StandIn


@contextlib.contextmanager
def s3_stand_in(count: int) -> Iterator[str]:
    """The bucket of `count` builds behind a local S3 endpoint, in a process of its own."""
    with served_in_child(__file__, str(count)) as url:
        yield url


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(int(sys.argv[1])))
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
