"""Finding and fetching the legacy metadata an archive record needs (Buildhub v1, upstream.md §4.3).

Nightlies read their en-US `.json` (or `.txt`); candidates their `{p}-{v}.json`; releases the
metadata of their latest candidates build. A resolver keeps the answers of the `MEMO_URLS`
URLs it used last (concurrent askers wait for the first), so a run of thousands of locales
costs one request per build, and a whole archive's inventory, whose keys come in order, does
not hold every metadata file it met.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any, TypeVar

from shipgauge.connectors.archive import ArchiveConnector
from shipgauge.errors import SourceError
from shipgauge.sources.archive.metadata import (
    Listing,
    is_release_build_metadata,
    latest_build_folder,
    nightly_metadata_urls,
    parse_listing,
    parse_metadata_txt,
    rc_metadata_url,
    release_candidates_folder,
)
from shipgauge.sources.archive.paths import build_number

__all__ = ["MEMO_URLS", "Metadata", "MetadataResolver", "keep_recent", "wait_keys_of_metadata_url"]

# A nightly build asks for a handful of URLs, a release for its folders' listings too.
MEMO_URLS = 4096

T = TypeVar("T")
K = TypeVar("K")
Metadata = dict[str, Any]


def keep_recent(memo: OrderedDict[K, T], key: K, value: T, most: int) -> None:
    """Keep `value` under `key` as the most recently used of `memo`, which holds the `most`
    used last."""
    memo[key] = value
    memo.move_to_end(key)
    while len(memo) > most:
        memo.popitem(last=False)  # the least recently used


def wait_keys_of_metadata_url(url: str) -> list[str]:
    """What a metadata file completes: archives waiting for it, and releases of its build."""
    folder = url.rsplit("/", 1)[0]
    release = re.sub(r"-candidates/build\d+/", "-candidates/*/", folder) + "/"
    return [url, release] if release != folder + "/" else [url]


class MetadataResolver:
    """Metadata of archive records, memoised by URL (the `memo_urls` used last)."""

    def __init__(self, archive: ArchiveConnector, *, memo_urls: int = MEMO_URLS) -> None:
        self.archive = archive
        self.memo_urls = memo_urls
        self._memo: OrderedDict[str, Future[Any]] = OrderedDict()
        self._lock = threading.Lock()

    def _once(self, key: str, compute: Callable[[], T]) -> T:
        with self._lock:
            future = self._memo.get(key)
            owner = future is None
            if future is None:
                future = Future()  # an asker keeps it if it leaves the memo before the answer
                keep_recent(self._memo, key, future, self.memo_urls)
            else:
                self._memo.move_to_end(key)
        if owner:
            try:
                future.set_result(compute())
            except BaseException as exc:
                future.set_exception(exc)
        result: T = future.result()
        return result

    def get(self, url: str, *, retry_on_notfound: bool = False) -> bytes | None:
        """The body at `url`, or None on 404 (fetched once while among those used last)."""
        return self._once(url, lambda: self.archive.get(url, retry_on_notfound=retry_on_notfound))

    def get_json(self, url: str, *, retry_on_notfound: bool = False) -> Any:
        """JSON at `url` whatever its content type (the archive serves some as octet-stream)."""
        body = self.get(url, retry_on_notfound=retry_on_notfound)
        if body is None:
            return None
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise SourceError(f"{url}: not JSON", field="url") from None

    def listing(self, url: str, *, retry_on_notfound: bool = False) -> Listing | None:
        """An archive directory listing, or None when the folder does not exist (yet)."""
        doc = self.get_json(url, retry_on_notfound=retry_on_notfound)
        return None if doc is None else parse_listing(doc, url=url)

    def wait_key(self, record: dict[str, Any]) -> str:
        """The metadata a record needs, named: records with the same key share metadata.

        A nightly's `.json` URL, a candidate's `{p}-{v}.json` URL, or for a release the
        en-US folder of its candidates with `*` for the build (what completes it later).
        """
        url = record["download"]["url"]
        product = record["source"]["product"]
        if "nightly" in url:
            return nightly_metadata_urls(url)[0]
        if "candidates" in url:
            return rc_metadata_url(product, url)
        target = record["target"]
        base = self.archive.base_url
        return release_candidates_folder(base, product, target["version"], target["platform"], "*")

    def metadata_for(
        self, record: dict[str, Any], *, retry_on_notfound: bool = False
    ) -> tuple[Metadata | None, str]:
        """(metadata or None, the key a later metadata event completes this record by)."""
        url = record["download"]["url"]
        waits_for = self.wait_key(record)
        if "nightly" in url:
            metadata = self.get_json(waits_for, retry_on_notfound=retry_on_notfound)
            if metadata is None:
                text = self.get(nightly_metadata_urls(url)[1])
                metadata = parse_metadata_txt(text.decode("utf-8", "replace")) if text else None
            return metadata, waits_for
        if "candidates" in url:
            metadata = self.get_json(waits_for, retry_on_notfound=retry_on_notfound)
            return _numbered(metadata, url), waits_for
        return self._release_metadata(record["source"]["product"], record["target"]), waits_for

    def _release_metadata(self, product: str, target: dict[str, Any]) -> Metadata | None:
        version, platform = target["version"], target["platform"]
        base = self.archive.base_url
        folder = "mobile" if product == "fennec" else product
        root = self.listing(f"{base}/pub/{folder}/candidates/")
        if root is None or f"{version}-candidates/" not in root[0]:
            return None
        builds = self.listing(f"{base}/pub/{folder}/candidates/{version}-candidates/")
        build = latest_build_folder(builds[0]) if builds else None
        if build is None:
            return None
        en_us = release_candidates_folder(base, product, version, platform, build)
        files = self.listing(en_us)
        names = [f["name"] for f in files[1]] if files else []
        name = next((n for n in names if is_release_build_metadata(product, version, n)), None)
        if name is None:
            return None
        return _numbered(self.get_json(en_us + name), en_us)

    def resolve_all(
        self, records: Iterable[dict[str, Any]], *, retry_on_notfound: bool = False
    ) -> list[tuple[Metadata | None, str] | SourceError]:
        """`metadata_for` over many records, as concurrently as the HTTP connector allows.

        A record whose metadata cannot be read gets its SourceError instead of a result.
        """

        def one(record: dict[str, Any]) -> tuple[Metadata | None, str] | SourceError:
            try:
                return self.metadata_for(record, retry_on_notfound=retry_on_notfound)
            except SourceError as exc:
                return exc

        todo = list(records)
        # One lookup per distinct metadata (a build's hundreds of locales share one file).
        firsts: dict[str, dict[str, Any]] = {}
        keys = []
        for record in todo:
            try:
                key = self.wait_key(record)
            except SourceError:
                key = record["download"]["url"]
            firsts.setdefault(key, record)
            keys.append(key)
        found = dict(zip(firsts, self.archive.http.map(one, firsts.values()), strict=True))
        return [found[key] for key in keys]


def _numbered(metadata: Metadata | None, url: str) -> Metadata | None:
    number = build_number(url)
    if metadata is None or number is None:
        return metadata
    return {**metadata, "buildnumber": number}
