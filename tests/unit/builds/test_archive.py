"""Upstream tables T1-T11 (sources.archive, sources.archive_metadata) as parametrised tests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shipgauge.errors import SourceError
from shipgauge.sources.archive import metadata as archive_metadata
from shipgauge.sources.archive import paths as archive
from tests.support.recorded_http import fixtures_dir

BUILDHUB1 = fixtures_dir() / "buildhub" / "buildhub1"
URL_CASES = json.loads((BUILDHUB1 / "url-to-record-cases.json").read_text())["cases"]
CLASSIFY = json.loads((BUILDHUB1 / "url-classification-cases.json").read_text())
VERSION_KEYS = json.loads((BUILDHUB1 / "version-sort-key-cases.json").read_text())["cases"]


def _ids(cases: list[dict[str, Any]], key: str) -> list[str]:
    return [str(c[key])[-60:] for c in cases]


@pytest.mark.parametrize("case", URL_CASES, ids=_ids(URL_CASES, "url"))
def test_record_from_url_matches_t1(case: dict[str, Any]) -> None:
    assert archive.record_from_url(case["url"]) == case["expected"]


@pytest.mark.parametrize("case", URL_CASES, ids=_ids(URL_CASES, "url"))
def test_build_record_id_matches_t1(case: dict[str, Any]) -> None:
    record = {k: v for k, v in case["expected"].items() if k != "id"}
    assert archive.build_record_id(record) == case["expected"]["id"]


@pytest.mark.parametrize(
    "case", CLASSIFY["is_build_url_true"], ids=_ids(CLASSIFY["is_build_url_true"], "url")
)
def test_is_build_url_true_t2(case: dict[str, str]) -> None:
    assert archive.is_build_url(case["product"], case["url"])


@pytest.mark.parametrize(
    "case", CLASSIFY["is_build_url_false"], ids=_ids(CLASSIFY["is_build_url_false"], "url")
)
def test_is_build_url_false_t3(case: dict[str, str]) -> None:
    assert not archive.is_build_url(case["product"], case["url"])


@pytest.mark.parametrize(
    "case", CLASSIFY["guess_mimetype"], ids=_ids(CLASSIFY["guess_mimetype"], "url")
)
def test_guess_mimetype_t4(case: dict[str, str]) -> None:
    assert archive.guess_mimetype(case["url"]) == case["mimetype"]


@pytest.mark.parametrize(
    "case", CLASSIFY["normalized_os"], ids=_ids(CLASSIFY["normalized_os"], "platform")
)
def test_normalized_os_t5(case: dict[str, str]) -> None:
    if "raises" in case:
        with pytest.raises(SourceError, match=case["platform"]):
            archive.normalized_os(case["platform"])
    else:
        assert archive.normalized_os(case["platform"]) == case["os"]


RELEASE_METADATA = [(c, True) for c in CLASSIFY["is_release_build_metadata_true"]] + [
    (c, False) for c in CLASSIFY["is_release_build_metadata_false"]
]


@pytest.mark.parametrize(("case", "expected"), RELEASE_METADATA)
def test_is_release_build_metadata_t6(case: dict[str, str], expected: bool) -> None:
    result = archive_metadata.is_release_build_metadata(
        case["product"], case["version"], case["filename"]
    )
    assert result is expected


@pytest.mark.parametrize(
    ("check", "case", "expected"),
    [
        (check, c, truth)
        for check in ("nightly", "rc")
        for truth in (True, False)
        for c in CLASSIFY[f"is_{check}_build_metadata_{str(truth).lower()}"]
    ],
)
def test_is_nightly_or_rc_build_metadata_t6(
    check: str, case: dict[str, str], expected: bool
) -> None:
    recogniser = getattr(archive_metadata, f"is_{check}_build_metadata")
    assert recogniser(case["product"], case["url"]) is expected


@pytest.mark.parametrize(
    "case",
    CLASSIFY["localize_nightly_url_to_en_us_metadata_source"],
    ids=_ids(CLASSIFY["localize_nightly_url_to_en_us_metadata_source"], "localized_url"),
)
def test_localize_nightly_url_t7(case: dict[str, str]) -> None:
    assert archive_metadata.localize_nightly_url(case["localized_url"]) == case["en_us_url"]


@pytest.mark.parametrize(
    "case",
    CLASSIFY["localize_rc_url_to_en_us"],
    ids=_ids(CLASSIFY["localize_rc_url_to_en_us"], "localized_url"),
)
def test_localize_rc_url_t8(case: dict[str, str]) -> None:
    assert archive_metadata.localize_rc_url(case["localized_url"]) == case["en_us_url"]


@pytest.mark.parametrize("case", CLASSIFY["merge_metadata"])
def test_merge_metadata_t9(case: dict[str, Any]) -> None:
    assert archive_metadata.merge_metadata(case["record"], case["metadata"]) == case["expected"]


@pytest.mark.parametrize("case", CLASSIFY["archive_url"], ids=_ids(CLASSIFY["archive_url"], "url"))
def test_archive_folder_url_t10(case: dict[str, Any]) -> None:
    args = case["args"]
    url = archive.archive_folder_url(
        "https://archive.mozilla.org",
        args["product"],
        args["version"],
        args["platform"],
        args["locale"],
        nightly=args["nightly"] or None,
        candidate=args["candidate"],
    )
    assert url == case["url"]


@pytest.mark.parametrize("case", VERSION_KEYS, ids=_ids(VERSION_KEYS, "version"))
def test_version_sort_key_t11(case: dict[str, str]) -> None:
    assert archive.version_sort_key(case["version"]) == case["sort_key"]


def test_version_sort_key_orders_numerically() -> None:
    versions = ["100.0", "9.0", "60.0b9", "60.0b10", "60.0", "60.0rc1", "60.0.1", "60.0a1"]
    ordered = sorted(versions, key=archive.version_sort_key)
    assert ordered == ["9.0", "60.0a1", "60.0b9", "60.0b10", "60.0rc1", "60.0", "60.0.1", "100.0"]


@pytest.mark.parametrize(
    ("key", "url"),
    [
        (
            "pub/firefox/releases/54.0/win64/fr/Firefox+Setup+54.0.exe",
            "https://archive.mozilla.org/pub/firefox/releases/54.0/win64/fr/Firefox Setup 54.0.exe",
        ),
    ],
)
def test_key_to_archive_url_turns_plus_into_space(key: str, url: str) -> None:
    assert archive.key_to_archive_url(key, "https://archive.mozilla.org/") == url


def test_latest_build_folder_orders_by_number() -> None:
    assert (
        archive_metadata.latest_build_folder(["build11/", "build9/", "build3/", "pop/"])
        == "build11/"
    )
    assert archive_metadata.latest_build_folder(["pop/"]) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "firefox-6.0a1.en-US.linux-x86_64.txt",
            {
                "buildid": "20110505030608",
                "moz_source_repo": "http://hg.mozilla.org/mozilla-central",
                "moz_source_stamp": "31879b88cc82",
            },
        ),
        (
            "firefox-6.0a1.en-US.linux-x86_64.very-old.txt",
            {
                "buildid": "20100704054020",
                "moz_source_repo": "http://hg.mozilla.org/mozilla-central",
                "moz_source_stamp": "55f39d8d866c",
            },
        ),
    ],
)
def test_parse_metadata_txt_reads_both_layouts(name: str, expected: dict[str, str]) -> None:
    body = (BUILDHUB1 / "archive-metadata" / name).read_text()
    assert archive_metadata.parse_metadata_txt(body) == expected


def test_parse_listing_rejects_other_json() -> None:
    with pytest.raises(SourceError, match="not an archive JSON listing"):
        archive_metadata.parse_listing({"prfixes": ["a/"]})
    assert archive_metadata.parse_listing(
        {"prefixes": ["a/", "b/"], "files": [{"name": "foo.txt"}]}
    ) == (
        ["a/", "b/"],
        [{"name": "foo.txt"}],
    )
