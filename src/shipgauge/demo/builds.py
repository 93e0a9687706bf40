"""The build catalog's part of `shipgauge demo`: the bundled samples through the real pipelines.

A local HTTP server plays archive.mozilla.org from the bundled metadata files (folders answer
with archive-style JSON listings); the bundled `buildhub.json` files are read from a folder
standing in for the S3 bucket, announced by S3 events.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urlsplit

from shipgauge.connectors.archive import ArchiveConnector
from shipgauge.connectors.http import HttpConnector
from shipgauge.connectors.s3 import S3Connector
from shipgauge.demo.loopback import serve_on_loopback
from shipgauge.demo.recorded_times import move_iso_times, recording_shift
from shipgauge.pipelines.builds.connectors import BuildhubConnectors
from shipgauge.pipelines.builds.events import ingest_event_messages
from shipgauge.pipelines.builds.inventory import load_inventory
from shipgauge.store import Store

__all__ = ["load_demo", "serve_archive_folder"]

PUBLIC_ARCHIVE = "https://archive.mozilla.org"
DEMO_BUCKET = "net-mozaws-prod-delivery-firefox"
_PRODUCTS = ("firefox", "thunderbird", "mobile", "devedition")


def _handler(root: Path) -> type[BaseHTTPRequestHandler]:
    class ArchiveHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real archive's front end

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            path = (root / unquote(urlsplit(self.path).path).lstrip("/")).resolve()
            if not path.is_relative_to(root) or not path.exists():
                self._send(404, b'{"error": "not found"}')
            elif path.is_dir():
                children = sorted(path.iterdir())
                listing = {
                    "prefixes": [f"{c.name}/" for c in children if c.is_dir()],
                    "files": [_file_entry(c) for c in children if c.is_file()],
                }
                self._send(200, json.dumps(listing).encode())
            else:
                self._send(200, path.read_bytes())

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", f'"{hashlib.md5(body).hexdigest()}"')
            self.end_headers()
            self.wfile.write(body)

    return ArchiveHandler


def _file_entry(path: Path) -> dict[str, object]:
    stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"name": path.name, "size": path.stat().st_size, "last_modified": stamp}


@contextlib.contextmanager
def serve_archive_folder(root: Path) -> Iterator[str]:
    """Serve `root` as an archive (files, and folders as JSON listings) on a loopback port."""
    with serve_on_loopback(_handler(root.resolve())) as url:
        yield url


def load_demo(store: Store, *, move: bool = False) -> None:
    """Load the bundled inventory sample and buildhub.json files; with `move`, their publication
    times (inventory LastModifiedDate, buildhub.json download.date) moved into the present as
    one recording. Build ids and build dates stay as recorded: they name the builds."""
    bundled = resources.files("shipgauge") / "demo_data" / "builds"
    with (
        resources.as_file(bundled) as recorded,
        tempfile.TemporaryDirectory() as tmp,
        tempfile.TemporaryDirectory() as moved,
    ):
        data = _moved_publications(store, recorded, Path(moved)) if move else recorded
        _load(store, data, Path(tmp))


def _load(store: Store, data: Path, tmp: Path) -> None:
    with serve_archive_folder(data / "archive") as url:
        http = HttpConnector(url, name="demo archive", retries=1, backoff_s=0.0)
        connectors = BuildhubConnectors(
            s3=S3Connector(local_root=data / "s3"),
            archive=ArchiveConnector(http, public_url=PUBLIC_ARCHIVE, notfound_retries=0),
            bucket=DEMO_BUCKET,
            inventory_bucket=DEMO_BUCKET,
            products=_PRODUCTS,
        )
        try:
            load_inventory(
                store=store,
                connectors=connectors,
                location=str(data / "inventory" / "manifest.json"),
                cache_dir=tmp,
            )
            keys = [
                p.relative_to(data / "s3" / DEMO_BUCKET).as_posix()
                for p in sorted((data / "s3" / DEMO_BUCKET).rglob("buildhub.json"))
            ]
            ingest_event_messages(store, connectors, [(k, _s3_event(k)) for k in keys])
        finally:
            connectors.close()


def _s3_event(key: str) -> bytes:
    record = {
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": DEMO_BUCKET}, "object": {"key": key}},
    }
    return json.dumps({"Records": [record]}).encode()


def _moved_publications(store: Store, recorded: Path, folder: Path) -> Path:
    """A copy of the bundled folder whose publication times are moved into the present."""
    shutil.copytree(recorded, folder, dirs_exist_ok=True)
    inventory = folder / "inventory"
    manifest = json.loads((inventory / "manifest.json").read_text())
    tables = {
        entry["key"]: inventory / "data" / Path(entry["key"]).name for entry in manifest["files"]
    }
    rows = {
        key: list(csv.reader(io.StringIO(gzip.decompress(path.read_bytes()).decode())))
        for key, path in tables.items()
    }
    documents = sorted((folder / "s3").rglob("buildhub.json"))
    published = [row[3] for table in rows.values() for row in table]
    published += [json.loads(d.read_text())["download"]["date"] for d in documents]
    newest = max(datetime.fromisoformat(t.replace("Z", "+00:00")) for t in published)
    shift = recording_shift(store, "builds", newest)
    for entry in manifest["files"]:
        text = io.StringIO()
        csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(
            [*row[:3], move_iso_times(row[3], shift), *row[4:]] for row in rows[entry["key"]]
        )
        body = gzip.compress(text.getvalue().encode(), mtime=0)
        tables[entry["key"]].write_bytes(body)
        entry |= {"size": len(body), "MD5checksum": hashlib.md5(body).hexdigest()}
    (inventory / "manifest.json").write_text(json.dumps(manifest, indent=2))
    for document in documents:
        doc = json.loads(document.read_text())
        doc["download"]["date"] = move_iso_times(doc["download"]["date"], shift)
        document.write_text(json.dumps(doc, indent=1))
    return folder
