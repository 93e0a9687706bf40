"""S3 connector (boto3, any S3-compatible endpoint) with a local-folder mode, and SQS polling.

Endpoint URL, region, credentials and unsigned access are constructor arguments (settings at
the edge). In local mode a folder stands in for the service: `<root>/<bucket>/<key>`.
botocore's errors become ours here and nowhere else: a missing object is NotFound, anything
else UpstreamError.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import boto3
import botocore.exceptions
from botocore import UNSIGNED
from botocore.config import Config

from shipgauge.errors import NotFound, UpstreamError

__all__ = ["DEFAULT_PAGE_SIZE", "S3Connector", "S3Object", "SqsMessage", "SqsQueue"]

DEFAULT_PAGE_SIZE = 1000
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})


@dataclass(frozen=True)
class S3Object:
    """A listed object: its key and ETag (quotes stripped)."""

    key: str
    etag: str
    size: int


@contextlib.contextmanager
def _mapped(what: str) -> Iterator[None]:
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _MISSING_CODES:
            raise NotFound(f"{what}: not found", field="key") from None
        raise UpstreamError(f"{what}: {exc}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise UpstreamError(f"{what}: {exc}; check the S3 endpoint setting") from None


def _client_config(*, unsigned: bool, retries: int, timeout_s: float) -> Config:
    return Config(
        signature_version=UNSIGNED if unsigned else None,
        retries={"max_attempts": max(retries, 1), "mode": "standard"},
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
    )


class S3Connector:
    """Objects of S3 buckets, or of a local folder laid out as `<root>/<bucket>/<key>`."""

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        unsigned: bool = True,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        local_root: Path | None = None,
        retries: int = 4,
        timeout_s: float = 60.0,
    ) -> None:
        self.local_root = local_root
        self.endpoint_url = endpoint_url
        self._client: Any = None
        if local_root is None:
            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=_client_config(unsigned=unsigned, retries=retries, timeout_s=timeout_s),
            )

    def _path(self, bucket: str, key: str) -> Path:
        assert self.local_root is not None
        return self.local_root / bucket / key

    def list_objects(
        self,
        bucket: str,
        prefix: str = "",
        *,
        start_after: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Iterator[list[S3Object]]:
        """Pages of objects under `prefix`, in key order, after `start_after` if given."""
        if self.local_root is not None:
            yield from self._local_pages(bucket, prefix, start_after, page_size)
            return
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": page_size}
        if start_after:
            kwargs["StartAfter"] = start_after
        while True:
            with _mapped(f"S3 list s3://{bucket}/{prefix}"):
                page = self._client.list_objects_v2(**kwargs)
            yield [
                S3Object(o["Key"], str(o.get("ETag", "")).strip('"'), int(o.get("Size", 0)))
                for o in page.get("Contents", [])
            ]
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            kwargs["ContinuationToken"] = token

    def _local_pages(
        self, bucket: str, prefix: str, start_after: str | None, page_size: int
    ) -> Iterator[list[S3Object]]:
        root = self._path(bucket, "")
        keys = (
            sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
            if root.is_dir()
            else []
        )
        chosen = [k for k in keys if k.startswith(prefix) and (not start_after or k > start_after)]
        for at in range(0, len(chosen), page_size):
            page = chosen[at : at + page_size]
            yield [
                S3Object(k, self._local_etag(bucket, k), self._path(bucket, k).stat().st_size)
                for k in page
            ]

    def _local_etag(self, bucket: str, key: str) -> str:
        digest = hashlib.md5()
        with self._path(bucket, key).open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    def list_prefixes(self, bucket: str, prefix: str) -> list[str]:
        """The `/`-delimited sub-folders directly under `prefix` (S3 CommonPrefixes)."""
        if self.local_root is not None:
            folder = self._path(bucket, prefix)
            children = (
                sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
            )
            return [f"{prefix}{name}/" for name in children]
        found: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        with _mapped(f"S3 list s3://{bucket}/{prefix}"):
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
                found.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
        return found

    def get_bytes(self, bucket: str, key: str) -> bytes:
        """The whole object; NotFound if it does not exist."""
        if self.local_root is not None:
            path = self._path(bucket, key)
            if not path.is_file():
                raise NotFound(f"{path}: not found", field="key")
            return path.read_bytes()
        with _mapped(f"S3 GET s3://{bucket}/{key}"):
            body: bytes = self._client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    def download(self, bucket: str, key: str, target: Path) -> None:
        """Stream an object to `target` (written to a temporary name, then renamed)."""
        partial = target.with_name(target.name + ".part")
        if self.local_root is not None:
            source = self._path(bucket, key)
            if not source.is_file():
                raise NotFound(f"{source}: not found", field="key")
            shutil.copyfile(source, partial)
        else:
            with _mapped(f"S3 GET s3://{bucket}/{key}"), partial.open("wb") as handle:
                self._client.download_fileobj(bucket, key, handle)
        partial.replace(target)

    def open(self, bucket: str, key: str) -> BinaryIO:
        """A readable stream of the object (local file or S3 body)."""
        if self.local_root is not None:
            return self._path(bucket, key).open("rb")
        with _mapped(f"S3 GET s3://{bucket}/{key}"):
            stream: BinaryIO = self._client.get_object(Bucket=bucket, Key=key)["Body"]
        return stream


@dataclass(frozen=True)
class SqsMessage:
    """A received SQS message: its body and the receipt that deletes it."""

    message_id: str
    body: bytes
    receipt_handle: str


class SqsQueue:
    """An SQS queue polled for S3 event notifications; delete only after the batch commits."""

    def __init__(
        self,
        queue_url: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        # Buildhub2 read the region from an AWS queue URL (sqs.<region>.amazonaws.com).
        match = re.search(r"sqs\.(.*?)\.amazonaws\.com", queue_url)
        self.queue_url = queue_url
        self._client: Any = boto3.session.Session().client(
            "sqs",
            endpoint_url=endpoint_url,
            region_name=match.group(1) if match else region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
        )

    def receive(
        self, *, max_messages: int = 10, wait_s: int = 10, visibility_s: int = 30
    ) -> list[SqsMessage]:
        """Up to `max_messages` messages, long-polling `wait_s` seconds."""
        with _mapped(f"SQS receive {self.queue_url}"):
            answer = self._client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=max(1, min(max_messages, 10)),
                WaitTimeSeconds=wait_s,
                VisibilityTimeout=visibility_s,
            )
        return [
            SqsMessage(m["MessageId"], m["Body"].encode(), m["ReceiptHandle"])
            for m in answer.get("Messages", [])
        ]

    def delete(self, messages: list[SqsMessage]) -> None:
        """Delete handled messages (after their rows are committed)."""
        for at in range(0, len(messages), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": m.receipt_handle}
                for i, m in enumerate(messages[at : at + 10])
            ]
            with _mapped(f"SQS delete {self.queue_url}"):
                self._client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
