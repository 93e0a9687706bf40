"""Inventory load, end to end: a synthetic S3 inventory (csv.gz, ~5 % build archives).

Rows/s of `load_inventory` end to end (MD5 check of the data file, stream, filter, derive,
fetch the 5,005 metadata files over HTTP from a local archive server in its own process,
merge, validate, insert into a DuckDB store) against DuckDB's own `read_csv` of the same file
in the same run; peak RSS of the loading process (the store and the working DuckDB included),
at ROWS and at a tenth of it, each size in a child process of its own so peaks don't mix.
Targets (issue 21): >= 500,000 rows/s and ratio >= 0.45; peak RSS < 512 MB at both sizes and
within 10 % of each other. The peer, Buildhub v1's `inventory-to-records`, measured on this
machine: 104,390 rows/s, 43 MB. ROWS defaults to 10,000,000 (`BENCH_BUILDS_ROWS` to change it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import in_child, peak_figures, peak_rss_mb, report, served_in_child, timed_cpu

from shipgauge.connectors.archive import ArchiveConnector
from shipgauge.connectors.http import HttpConnector
from shipgauge.connectors.s3 import S3Connector
from shipgauge.pipelines.builds.connectors import BuildhubConnectors
from shipgauge.pipelines.builds.inventory import load_inventory
from shipgauge.store import Store

ROWS = int(os.environ.get("BENCH_BUILDS_ROWS", "10000000"))
PEER_ROWS_PER_S = 104_390  # Buildhub v1's inventory-to-records on this machine (issue 21)
PEER_PEAK_MB = 43
# ~500 archives per nightly build (100 locales x 5 platforms), as Firefox has.
LOCALES = ["en-US", *[a + b for a in "abcdefghij" for b in "klmnopqrst"][:99]]
PLATFORMS = ["linux-x86_64", "linux-i686", "win64", "win32", "mac"]
ARCHIVES_PER_BUILD = len(LOCALES) * len(PLATFORMS)
# One row in twenty is a build archive; the rest are what an archive bucket also holds.
GENERATE = """
COPY (
  SELECT
    'net-mozaws-prod-delivery-firefox' AS bucket,
    CASE
      WHEN i % 20 = 0 THEN
        'pub/firefox/nightly/' || strftime(t, '%Y/%m/%Y-%m-%d-%H-%M-%S') || '-mozilla-central' ||
        CASE WHEN l = 'en-US' THEN '' ELSE '-l10n' END ||
        '/firefox-' || v || '.' || l || '.' || p ||
        CASE p WHEN 'win64' THEN '.installer.exe' WHEN 'win32' THEN '.installer.exe'
               WHEN 'mac' THEN '.dmg' ELSE '.tar.bz2' END
      WHEN i % 20 < 8 THEN
        'pub/firefox/nightly/' || strftime(t, '%Y/%m/%Y-%m-%d-%H-%M-%S') ||
        '-mozilla-central-l10n/firefox-' || v || '.' || l || '.' || p || '.complete.mar'
      WHEN i % 20 < 12 THEN
        'pub/firefox/candidates/' || v || '-candidates/build1/' || p || '/' || l ||
        '/firefox-' || v || '.' || ['asc', 'checksums', 'json'][1 + i % 3]
      WHEN i % 20 < 16 THEN 'pub/firefox/releases/' || v || '/' || p || '/xpi/' || l || '.xpi'
      ELSE 'pub/thunderbird/nightly/latest-comm-central/thunderbird-' || v || '.' || l || '.txt'
    END AS key,
    (50000000 + i % 1000)::VARCHAR AS size,
    strftime(t + INTERVAL 2 HOUR, '%Y-%m-%dT%H:%M:%S.000Z') AS modified,
    md5(i::VARCHAR) AS etag
  FROM (
    SELECT i, TIMESTAMP '2020-01-01' + INTERVAL (8 * (n // {per_build})) HOUR AS t,
           (60 + n // {per_build} // 100)::VARCHAR || '.0a1' AS v,
           {locales}[1 + (n % {per_build}) // 5] AS l, {platforms}[1 + n % 5] AS p
    FROM (SELECT range AS i, range // 20 AS n FROM range({rows}))
  )
) TO '{path}' (FORMAT csv, HEADER false, QUOTE '"', FORCE_QUOTE *)
"""
BASELINE = "SELECT count(*) FROM read_csv('{path}', header=false, all_varchar=true)"


def _child(script: str) -> float:
    """Run DuckDB work in a child process (so its memory is not ours); returns its seconds."""
    code = (
        "import duckdb, time; db = duckdb.connect(); db.execute('SET enable_progress_bar = false');"
        f" t = time.perf_counter(); db.sql({script!r}).fetchall(); print(time.perf_counter() - t)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def write_archive(root: Path, rows: int) -> int:
    """The en-US metadata of every synthetic nightly build, where the archive publishes it."""
    builds = rows // 20 // ARCHIVES_PER_BUILD + 1
    for build in range(builds):
        stamp = datetime(2020, 1, 1) + timedelta(hours=8 * build)
        version = f"{60 + build // 100}.0a1"
        folder = (
            root / "pub/firefox/nightly" / stamp.strftime("%Y/%m/%Y-%m-%d-%H-%M-%S-mozilla-central")
        )
        folder.mkdir(parents=True, exist_ok=True)
        build_id = stamp.strftime("%Y%m%d%H%M%S")
        metadata = {
            "buildid": build_id,
            "moz_source_repo": "MOZ_SOURCE_REPO=https://hg.mozilla.org/mozilla-central",
            "moz_source_stamp": hashlib.sha1(build_id.encode()).hexdigest(),
            "moz_update_channel": "nightly",
            "cc": "clang",
            "cxx": "clang++",
            "host_alias": "x86_64-pc-linux-gnu",
            "target_alias": "x86_64-pc-linux-gnu",
        }
        for platform in PLATFORMS:
            (folder / f"firefox-{version}.en-US.{platform}.json").write_text(json.dumps(metadata))
    return builds * len(PLATFORMS)


@contextlib.contextmanager
def archive_server(root: Path) -> Iterator[str]:
    """The archive in its own process, as the real one is remote (no GIL shared with us)."""
    code = (
        "import sys, time; from pathlib import Path;"
        "from shipgauge.demo.builds import serve_archive_folder\n"
        "with serve_archive_folder(Path(sys.argv[1])) as url:\n"
        "    print(url, flush=True); time.sleep(3600)"
    )
    with served_in_child("-c", code, str(root)) as url:
        yield url


def write_inventory(folder: Path, rows: int) -> tuple[Path, Path]:
    """A synthetic inventory of `rows` rows under `folder`/inventory: its data file and
    manifest.json (also used by bench_store_processes)."""
    data = folder / "inventory" / "data" / "part-0.csv.gz"
    data.parent.mkdir(parents=True)
    sql = GENERATE.format(
        rows=rows, path=data, per_build=ARCHIVES_PER_BUILD, locales=LOCALES, platforms=PLATFORMS
    )
    _child(sql.replace(str(data), str(data.with_suffix(""))))
    # DuckDB's own gzip writer is single-threaded and slow; gzip -1 compresses faster.
    subprocess.run(["gzip", "-1", str(data.with_suffix(""))], check=True)
    with data.open("rb") as handle:  # streamed: the whole file would raise this process's peak
        digest = hashlib.file_digest(handle, "md5").hexdigest()
    manifest = folder / "inventory" / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "sourceBucket": "net-mozaws-prod-delivery-firefox",
                "fileFormat": "CSV",
                "fileSchema": "Bucket, Key, Size, LastModifiedDate, ETag",
                "files": [
                    {
                        "key": "x/data/part-0.csv.gz",
                        "size": data.stat().st_size,
                        "MD5checksum": digest,
                    }
                ],
            }
        )
    )
    return data, manifest


def measure(rows: int) -> dict[str, float]:
    """One load of `rows` rows in this process: its figures, peak RSS included."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data, manifest = write_inventory(folder, rows)
        baseline_s = _child(BASELINE.format(path=data))
        write_archive(folder / "archive", rows)
        with (
            archive_server(folder / "archive") as url,
            Store.open(str(folder / "b.duckdb")) as store,
        ):
            http = HttpConnector(url, name="archive", retries=1, concurrency=32)
            connectors = BuildhubConnectors(
                S3Connector(local_root=folder), ArchiveConnector(http, public_url="https://archive.mozilla.org"),
                "b", "b", ("firefox", "thunderbird", "mobile", "devedition"),
            )  # fmt: skip
            result, seconds, cpu_s = timed_cpu(
                lambda: load_inventory(
                    store=store, connectors=connectors, location=str(manifest), cache_dir=folder
                )
            )
            stored = store.count("builds")
        peak_mb = peak_rss_mb()
    return {
        "rows": result.rows,
        "archives": result.candidates,
        "stored": stored,
        "seconds": seconds,
        "cpu_s": cpu_s,
        "baseline_s": baseline_s,
        "peak_mb": peak_mb,
    }


def main() -> None:
    small, full = in_child(__file__, ROWS // 10), in_child(__file__, ROWS)
    rate = full["rows"] / full["seconds"]
    report(
        "builds inventory load",
        rows=f"{full['rows']:,}",
        archives=f"{full['archives']:,}",
        stored=f"{full['stored']:,}",
        rows_per_s=f"{rate:,.0f}",
        rows_per_cpu_s=f"{full['rows'] / full['cpu_s']:,.0f}",
        duckdb_read_csv_rows_per_s=f"{full['rows'] / full['baseline_s']:,.0f}",
        ratio=f"{rate * full['baseline_s'] / full['rows']:.3f}",
        peer_ratio=f"{rate / PEER_ROWS_PER_S:.2f}x",
        **peak_figures(small["peak_mb"], full["peak_mb"]),
        peer_peak_mb=PEER_PEAK_MB,
        load_avg=f"{os.getloadavg()[0]:.1f}",
        target="500,000 rows/s, ratio 0.45, RSS < 512 MB within 10 %",
    )


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps(measure(int(sys.argv[1]))))
    else:
        main()
