"""Build-metadata files on archive.mozilla.org: which one belongs to an archive, and merging it.

Legacy builds publish a flat `firefox-X.json` (moz_* configure values) next to the en-US
archive; very old nightlies a `.txt`. This module names the file an archive needs (T6-T8),
reads archive directory listings, and merges metadata into a record (T9). Research §4.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any

from shipgauge.errors import SourceError
from shipgauge.sources.archive.paths import archive_folder_url, build_number

__all__ = [
    "Listing",
    "is_nightly_build_metadata",
    "is_rc_build_metadata",
    "is_release_build_metadata",
    "latest_build_folder",
    "localize_nightly_url",
    "localize_rc_url",
    "merge_metadata",
    "nightly_metadata_urls",
    "parse_listing",
    "parse_metadata_txt",
    "rc_metadata_url",
    "release_candidates_folder",
]

_NOT_METADATA = re.compile(r"mozinfo|test_packages|_info")
_RC_METADATA = re.compile(
    r"/candidates/(?P<version>[^/]+)-candidates/build\d+/[^/]+/[^/]+/"
    r"(?:firefox|thunderbird|fennec)-(?P=version)(?:\.[^/]+)?\.json$"
)
_MOZ_REPO_PREFIX = "MOZ_SOURCE_REPO="
_HG_HOST = "hg.mozilla.org/"
_DEFAULT_NIGHTLY_REPO = "http://hg.mozilla.org/mozilla-central"
# metadata key → build field; newer gecko writes `host`/`target` instead of the *_alias keys.
_BUILD_FIELDS = (
    ("as", "as"),
    ("cc", "cc"),
    ("cxx", "cxx"),
    ("ld", "ld"),
    ("host_alias", "host"),
    ("host", "host"),
    ("target_alias", "target"),
    ("target", "target"),
)

Listing = tuple[list[str], list[dict[str, Any]]]


def _file_prefix(product: str) -> str:
    return {"devedition": "firefox", "mobile": "fennec"}.get(product, product)


def is_release_build_metadata(product: str, version: str, filename: str) -> bool:
    """Whether `filename` is the metadata of `product` `version` in a candidates folder (T6)."""
    if _NOT_METADATA.search(filename):
        return False
    pattern = rf"{_file_prefix(product)}-{re.escape(version)}(\.[\w-]+)*\.json"
    return re.fullmatch(pattern, filename) is not None


def is_rc_build_metadata(product: str, url: str) -> bool:
    """Whether `url` is the en-US (or multi) metadata of a candidates build (T6)."""
    return (
        f"/{product}/" in url
        and not _NOT_METADATA.search(url.rsplit("/", 1)[-1])
        and _RC_METADATA.search(url) is not None
    )


def is_nightly_build_metadata(product: str, url: str) -> bool:
    """Whether `url` is a dated mozilla-central nightly's metadata file (T6)."""
    name = url.rsplit("/", 1)[-1]
    return (
        "/nightly/" in url
        and ("mozilla-central" in url or "comm-central" in url)
        and "latest-" not in url
        and not _NOT_METADATA.search(name)
        and re.fullmatch(rf"{_file_prefix(product)}-[^/]+\.json", name) is not None
    )


def localize_nightly_url(url: str) -> str:
    """The en-US (Fennec: multi) archive whose metadata applies to a nightly archive (T7)."""
    folder, _, name = url.rpartition("/")
    folder = folder.replace("-l10n", "")
    parts = name.replace(".installer", "").split(".")
    index = -4 if parts[-2] == "tar" else -3
    mobile_multi = "/mobile/" in url and "/en-US/" not in url and ".mac." not in name
    parts[index] = "multi" if mobile_multi else "en-US"
    return f"{folder}/{'.'.join(parts)}"


def nightly_metadata_urls(url: str) -> tuple[str, str]:
    """The `.json` metadata of a nightly archive and the `.txt` that very old nightlies have."""
    localized = localize_nightly_url(url)
    stem = localized.rsplit(".", 2 if ".tar." in localized else 1)[0]
    return f"{stem}.json", f"{stem}.txt"


def localize_rc_url(url: str) -> str:
    """A candidates archive URL with its locale turned to en-US and `-EME-free` dropped (T8)."""
    folder, _, name = url.rpartition("/")
    platform_folder, _, locale = folder.rpartition("/")
    name = name.replace(f".{locale}.", ".en-US.")
    platform_folder = re.sub(r"-eme-free", "", platform_folder, flags=re.IGNORECASE)
    return f"{platform_folder}/en-US/{name}"


def rc_metadata_url(product: str, url: str) -> str:
    """The metadata file of a candidates archive: `{p}-{version}.json`, Fennec's own name."""
    localized = localize_rc_url(url)
    folder, _, name = localized.rpartition("/")
    if product == "fennec":
        return f"{folder}/{name.rsplit('.', 1)[0]}.json"
    match = re.search(r"/([^/]+)-candidates/", url)
    if match is None:
        raise SourceError(f"not a candidates URL: {url}", field="url")
    return f"{folder}/{_file_prefix(product)}-{match.group(1)}.json"


def release_candidates_folder(
    archive_url: str, product: str, version: str, platform: str, build_folder: str
) -> str:
    """The en-US candidates folder holding a release's metadata (upstream.md §4.3).

    EME-free and sha1 repacks share the metadata of their plain platform (issue #203).
    """
    plain = platform.replace("-eme-free", "").replace("-sha1", "")
    if plain.startswith("macosx"):
        plain = "mac" + plain[len("macosx") :]
    return archive_folder_url(archive_url, product, version, plain, "en-US", candidate=build_folder)


def latest_build_folder(prefixes: list[str]) -> str | None:
    """The highest `buildN/` of a candidates folder; `build11/` beats `build9/`."""
    builds = [p for p in prefixes if re.fullmatch(r"build\d+/?", p)]
    return max(builds, key=lambda p: build_number(p) or 0) if builds else None


def parse_listing(doc: Any, *, url: str = "") -> Listing:
    """An archive JSON directory listing → (prefixes, files); anything else is a SourceError."""
    if not isinstance(doc, dict) or "prefixes" not in doc or "files" not in doc:
        raise SourceError(f"{url or 'archive listing'}: not an archive JSON listing", field="url")
    return list(doc["prefixes"]), list(doc["files"])


def parse_metadata_txt(text: str) -> dict[str, str]:
    """The two legacy `.txt` metadata formats of very old nightlies (upstream.md §4.1).

    >>> parse_metadata_txt("20100704054020 55f39d8d866c")["moz_source_stamp"]
    '55f39d8d866c'
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) >= 2 and "/rev/" in lines[1]:
        repository, _, changeset = lines[1].partition("/rev/")
        return {"buildid": lines[0], "moz_source_repo": repository, "moz_source_stamp": changeset}
    words = lines[0].split() if lines else []
    if len(words) == 2:
        return {
            "buildid": words[0],
            "moz_source_repo": _DEFAULT_NIGHTLY_REPO,
            "moz_source_stamp": words[1],
        }
    raise SourceError("nightly .txt metadata has neither known layout", field="body")


def merge_metadata(record: dict[str, Any], metadata: dict[str, Any] | None) -> dict[str, Any]:
    """The record completed with a legacy metadata document (T9); None leaves it unchanged."""
    if not metadata:
        return record
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in record.items()}
    if "moz_update_channel" in metadata:
        merged.setdefault("target", {})["channel"] = metadata["moz_update_channel"]
    source = merged.setdefault("source", {})
    if "moz_source_repo" in metadata:
        repository = str(metadata["moz_source_repo"]).removeprefix(_MOZ_REPO_PREFIX)
        source["repository"] = repository
        source["tree"] = repository.split(_HG_HOST, 1)[-1]
    if "moz_source_stamp" in metadata:
        source["revision"] = metadata["moz_source_stamp"]
    build = merged.setdefault("build", {})
    if "buildid" in metadata:
        build_id = str(metadata["buildid"])
        build["id"] = build_id
        build["date"] = _build_date(build_id)
    for key, field in _BUILD_FIELDS:
        if key in metadata:
            build[field] = metadata[key]
    if "buildnumber" in metadata:
        build["number"] = metadata["buildnumber"]
    if not build:
        del merged["build"]
    return merged


@functools.lru_cache(maxsize=4096)
def _build_date(build_id: str) -> str:
    # strptime reads the 12-digit id 201706121152 as 2017-06-12T11:05:02, a quirk T9 keeps.
    try:
        parsed = datetime.strptime(build_id[:14], "%Y%m%d%H%M%S")
    except ValueError:
        raise SourceError(f"build id '{build_id}' is not YYYYMMDDHHMMSS", field="buildid") from None
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")
