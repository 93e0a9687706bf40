"""The archive path rules of `sources.archive`, vectorised as DuckDB SQL for inventories.

An inventory holds millions of keys; running `derive_candidate` on each costs ~80 µs of
Python. This module states the same rules (T1-T5, the v1 id, the metadata a record waits
for: T7, T8, upstream.md §4.3) as one SELECT over a batch of inventory rows, so DuckDB derives
every plain archive key at once. The Python functions stay the reference: a row is only
`fast` when every rule could be applied here the way Python applies it (printable-ASCII key,
known layout, mimetype, OS, v1's checks pass); any other candidate row is handed back for
`derive_candidate`. tests/unit/builds/test_archive_sql.py holds the two to the same answers.
"""

from __future__ import annotations

import re

from shipgauge.sources.archive.paths import (
    _EXCLUDED_NAMES,
    _EXCLUDED_PARTS,
    _EXCLUDED_PATTERNS,
    _MIMETYPES,
    OS_NAMES,
    _archive_name,
)
from shipgauge.sources.buildhub_json import LEGACY_CHECKS

__all__ = ["INVENTORY_ROWS", "candidates_params", "candidates_sql", "records_sql"]

# The view name the caller registers inventory rows (Bucket, Key, Size, LastModifiedDate,
# all VARCHAR; `sources.inventory` keeps those of product folders with archive extensions).
INVENTORY_ROWS = "inventory_rows"
# v1's record checks on what the path gives; channel and build id come from the metadata.
_PATH_CHECKED = ("target.version", "target.platform", "target.locale")
_VALID = {
    "bucket": r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]",
    "size_text": r"[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?",
    "modified": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z",
}


def _text(value: str) -> str:
    """A SQL string literal (for this module's own constants, never for input)."""
    return "'" + value.replace("'", "''") + "'"


def _name_pattern(prefix: str) -> str:
    # Python `re.match` is anchored at the start; RE2's regexp_matches is not.
    # Each branch keeps a constant pattern: DuckDB would compile a computed one on every row.
    win, other = (_text("^" + _archive_name(prefix, w).pattern) for w in (True, False))
    return (
        f"CASE WHEN contains(url, 'win') THEN regexp_matches(file_name, {win})"
        f" ELSE regexp_matches(file_name, {other}) END"
    )


_OS_CASES = " ".join(
    f"WHEN contains(platform, {_text(name)}) THEN {_text(name)}" for name in OS_NAMES
)
_PATH_CHECKS = " AND ".join(
    f"regexp_full_match({path.split('.')[1]}, {_text(pattern.pattern)})"
    for path, pattern in LEGACY_CHECKS
    if path in _PATH_CHECKED
)
_CANDIDATES = f"""
WITH picked AS (
    SELECT Bucket AS bucket, Key AS key, Size AS size_text, LastModifiedDate AS modified
    FROM {INVENTORY_ROWS}
),
checked AS (
    SELECT *,
        coalesce({" AND ".join(f"regexp_full_match({c}, {_text(p)})" for c, p in _VALID.items())}
            AND try_cast(trunc(try_cast(size_text AS DOUBLE)) AS BIGINT) IS NOT NULL, false)
            AS valid,
        $newer_than IS NULL OR substr(modified, 1, 19) >= $newer_than AS fresh,
        $archive_url || '/' || replace(key, '+', ' ') AS url
    FROM picked
),
located AS (
    SELECT *,
        $url_path || replace(key, '+', ' ') AS url_path,
        left(url, length(url) - length(raw_name) - 1) AS folder,
        contains(url, 'nightly') AS nightly,
        contains(url, 'candidates') AS candidates
    FROM (SELECT *, replace(string_split(key, '/')[-1], '+', ' ') AS raw_name FROM checked)
),
tokens AS (
    SELECT *,
        string_split(lower(replace(url_path, ' ', '-')), '/') AS lp,
        lower(replace(raw_name, ' ', '-')) AS file_name,
        split_part(key, '/', 2) AS key_folder,
        regexp_full_match(url, '[ !#-\\[\\]-~]*') AS plain
    FROM located
),
builds AS (
    SELECT *,
        len(lp) + 3 AS n_parts,
        CASE WHEN lp[2] = 'mobile' THEN 'fennec' ELSE lp[2] END AS product,
        string_split(lp[-1], '.') AS fp,
        CASE WHEN candidates THEN regexp_replace(lp[4], '-candidates$', '') || 'rc'
            || regexp_replace(lp[5], '[^0-9]', '', 'g') END AS rc_version,
        NOT (nightly AND NOT contains(url, 'mozilla-central') AND NOT contains(url, 'comm-central'))
        AND NOT regexp_matches(substr(url, 2), {_text("|".join(map(re.escape, _EXCLUDED_PARTS)))})
        AND NOT regexp_matches(url, {_text(_EXCLUDED_PATTERNS.pattern)})
        AND NOT regexp_matches(file_name, {_text("^(?:" + _EXCLUDED_NAMES.pattern + ")")})
        AND CASE
            WHEN key_folder IN ('firefox', 'devedition') THEN {_name_pattern("firefox")}
            WHEN key_folder IN ('mobile', 'fennec') THEN {_name_pattern("fennec")}
            ELSE {_name_pattern("thunderbird")} END AS is_build
    FROM tokens
),
layouts AS (
    SELECT *,
        CASE WHEN len(fp) >= 4 AND contains(fp[1], '-') THEN {{
            'version': substr(fp[1], strpos(fp[1], '-') + 1) || '.' || fp[2],
            'platform': fp[4], 'locale': fp[3]}} END AS from_file
    FROM builds
),
triples AS (
    SELECT *,
        CASE
            WHEN n_parts < 8 THEN NULL
            WHEN nightly AND n_parts > 8 AND contains(lp[6], 'android-api')
                AND from_file IS NOT NULL
                THEN {{'version': from_file.version,
                      'platform': array_to_string(string_split(lp[6], '-')[9:11], '-'),
                      'locale': from_file.locale}}
            WHEN nightly THEN from_file
            WHEN candidates AND n_parts < 10 THEN NULL
            WHEN candidates AND n_parts > 10 AND contains(lp[6], 'funnelcake')
                THEN {{'version': rc_version || '-' || lp[6], 'platform': lp[7], 'locale': lp[8]}}
            WHEN candidates THEN {{'version': rc_version, 'platform': lp[6], 'locale': lp[7]}}
            WHEN n_parts < 9 THEN from_file
            WHEN n_parts = 11 THEN {{'version': lp[4], 'platform': lp[6], 'locale': lp[7]}}
            ELSE {{'version': lp[4], 'platform': lp[5], 'locale': lp[6]}}
        END AS triple
    FROM layouts
),
targets AS (
    SELECT *,
        triple.version AS version,
        CASE WHEN starts_with(triple.platform, 'mac') AND NOT starts_with(triple.platform, 'macosx')
            THEN 'macosx' || substr(triple.platform, 4) ELSE triple.platform END AS platform,
        CASE WHEN len(string_split(triple.locale, '-')) > 1 THEN array_to_string(list_concat(
                [string_split(triple.locale, '-')[1], upper(string_split(triple.locale, '-')[2])],
                string_split(triple.locale, '-')[3:]), '-')
            ELSE triple.locale END AS locale,
        (CASE
            WHEN nightly THEN CASE WHEN contains(url, 'aurora') THEN 'aurora' ELSE 'nightly' END
            WHEN contains(triple.version, 'b')
                THEN CASE WHEN contains(url, 'devedition') THEN 'aurora' ELSE 'beta' END
            WHEN suffix(triple.version, 'esr') THEN 'esr'
            ELSE 'release'
        END) || CASE WHEN contains(url, 'old-id') THEN '-old-id' ELSE '' END AS channel
    FROM triples
),
records AS (
    SELECT *,
        CASE
            WHEN contains(platform, 'eabi') THEN 'android'
            {_OS_CASES}
        END AS os,
        CASE lower(string_split(url, '.')[-1])
            {" ".join(f"WHEN {_text(e)} THEN {_text(m)}" for e, m in _MIMETYPES.items())}
        END AS mimetype,
        lower(replace(product || '_'
            || CASE WHEN channel = 'release' THEN '' ELSE channel || '_' END
            || CASE WHEN contains(channel, 'nightly')
                THEN array_to_string(string_split(string_split(url, '/')[9], '-')[1:6], '-')
                    || '_' || version
                ELSE version END
            || '_' || platform || '_' || locale, '.', '-')) AS record_id
    FROM targets
),
nightly_names AS (
    SELECT *,
        string_split(replace(raw_name, '.installer', ''), '.') AS np,
        CASE WHEN contains(url, '/mobile/') AND NOT contains(url, '/en-US/')
            AND NOT contains(raw_name, '.mac.') THEN 'multi' ELSE 'en-US' END AS en_us
    FROM records
),
nightly_localized AS (
    SELECT *,
        CASE WHEN nightly THEN replace(folder, '-l10n', '') || '/' || array_to_string(
            list_concat(np[1:en_at - 1], [en_us], np[en_at + 1:]), '.') END AS localized
    FROM (
        SELECT *, CASE WHEN np[-2] = 'tar' THEN len(np) - 3 ELSE len(np) - 2 END AS en_at
        FROM nightly_names
    )
),
rc_localized AS (
    SELECT *,
        CASE WHEN candidates THEN regexp_replace(
            left(folder, length(folder) - length(string_split(folder, '/')[-1]) - 1),
            '(?i)-eme-free', '', 'g') || '/en-US' END AS rc_folder,
        CASE WHEN candidates THEN replace(
            raw_name, '.' || string_split(folder, '/')[-1] || '.', '.en-US.') END AS rc_name,
        CASE WHEN candidates THEN nullif(
            regexp_extract(url, '/([^/]+)-candidates/', 1), '') END AS rc_of
    FROM nightly_localized
),
waits AS (
    SELECT *,
        CASE
            WHEN nightly AND en_at >= 1 THEN array_to_string(string_split(localized, '.')[
                1:len(string_split(localized, '.')) - CASE WHEN contains(localized, '.tar.')
                    THEN 2 ELSE 1 END], '.') || '.json'
            WHEN nightly THEN NULL
            WHEN candidates AND product = 'fennec'
                THEN rc_folder || '/' || CASE WHEN contains(rc_name, '.') THEN array_to_string(
                    string_split(rc_name, '.')[1:-2], '.') ELSE rc_name END || '.json'
            WHEN candidates THEN rc_folder || '/'
                || CASE WHEN product = 'devedition' THEN 'firefox' ELSE product END
                || '-' || rc_of || '.json'
            ELSE $archive_url || '/pub/'
                || CASE WHEN product = 'fennec' THEN 'mobile' ELSE product END
                || '/candidates/' || version || '-candidates/*/'
                || CASE WHEN starts_with(plain_platform, 'macosx')
                    THEN 'mac' || substr(plain_platform, 7) ELSE plain_platform END
                || '/en-US/'
        END AS wait_key
    FROM (
        SELECT *, replace(replace(platform, '-eme-free', ''), '-sha1', '') AS plain_platform
        FROM rc_localized
    )
)
SELECT
    bucket, key, size_text, modified, valid, fresh, coalesce(plain AND NOT is_build, false) AS skip,
    url,
    try_cast(trunc(try_cast(size_text AS DOUBLE)) AS BIGINT) AS size,
    substr(modified, 1, 19) || 'Z' AS date,
    product, version, platform, os, locale, channel, mimetype, record_id, wait_key,
    coalesce(valid AND plain AND is_build AND os IS NOT NULL AND mimetype IS NOT NULL
        AND record_id IS NOT NULL AND wait_key IS NOT NULL
        AND {_PATH_CHECKS}, false)
        AS fast
FROM waits
"""


def candidates_params(archive_url: str, newer_than: str | None) -> dict[str, str | None]:
    """The parameters of `candidates_sql` for an archive base URL (with its scheme)."""
    base = archive_url.rstrip("/")
    host_and_path = base.split("://", 1)[-1]
    path = host_and_path.split("/", 1)[1] + "/" if "/" in host_and_path else ""
    return {"archive_url": base, "url_path": path, "newer_than": newer_than}


def candidates_sql() -> str:
    """The SELECT over `inventory_rows` with the parameters of `candidates_params`.

    One row per inventory row, in order: `valid` (else it is a dead letter), `fresh` (not
    older than asked), `skip` (a plain key the rules say is no build archive), the S3 facts,
    and for a `fast` row the record's fields (`product` … `record_id`) and `wait_key`
    (`MetadataResolver.wait_key`). A valid, fresh row that is neither skipped nor fast is for
    `derive_candidate` to judge.
    """
    return _CANDIDATES


# json.dumps(record, sort_keys=True) of a fast row: its strings hold no `"` or `\\` (see
# `plain`), so they need no escaping; the metadata parts come already dumped by Python.
_DOCUMENT = (
    'format(\'{{"build": {}, "download": {{"date": "{}", "mimetype": "{}", '
    '"size": {}, "url": "{}"}}, "source": {{"product": "{}"{}}}, '
    '"target": {{"channel": {}, "locale": "{}", "os": "{}", "platform": "{}", '
    '"version": "{}"}}}}\', build_json, date, mimetype, size, url, product, source_json, '
    "target_channel_json, locale, os, platform, version)"
)
_RECORDS = f"""
WITH merged AS (
    SELECT f.*, m.* EXCLUDE (wait_key, channel, channel_json),
        coalesce(m.channel, f.channel) AS merged_channel,
        coalesce(m.channel_json, '"' || f.channel || '"') AS merged_channel_json
    FROM fast_rows AS f JOIN group_metadata AS m USING (wait_key)
),
copies AS (
    SELECT *,
        CASE WHEN copy = 1 THEN 'beta' ELSE merged_channel END AS target_channel,
        CASE WHEN copy = 1 THEN '"beta"' ELSE merged_channel_json END AS target_channel_json
    FROM merged CROSS JOIN (VALUES (0), (1)) AS copies(copy)
    WHERE copy = 0 OR (product = 'firefox' AND merged_channel = 'release')
),
documents AS (
    SELECT *, {_DOCUMENT} AS document FROM copies
)
SELECT
    'v1:' || md5(document) AS build_hash,
    CASE WHEN copy = 0 THEN record_id END AS record_id,
    document, product, target_channel AS channel, version, v.version_key, platform, os, locale,
    build_id, build_date, build_number, revision, repository, tree,
    url AS download_url, mimetype AS download_mimetype, size AS download_size,
    timezone('UTC', try_strptime(date, '%Y-%m-%dT%H:%M:%SZ')) AS download_date,
    $origin AS origin, CAST(NULL AS VARCHAR) AS s3_object_key,
    CAST(NULL AS VARCHAR) AS s3_object_etag, $created_at AS created_at, candidate, copy
FROM documents JOIN version_keys AS v USING (version)
"""


def records_sql() -> str:
    """The SELECT that completes `fast_rows` (rows of `candidates_sql` with a `candidate`
    number) with `group_metadata` (per `wait_key`: `build_json` and `source_json`, the
    record's `build` and the rest of its `source` as json.dumps writes them, the metadata's
    `channel` and `channel_json` or NULL, and the build columns) and `version_keys`.

    One `builds` row per record, plus its `beta` copy (`copy` 1) for a Firefox release: the
    document is the text `json.dumps(record, sort_keys=True)` gives, so `build_hash` is
    Buildhub2's. Parameters: `$origin`, `$created_at`.
    """
    return _RECORDS
