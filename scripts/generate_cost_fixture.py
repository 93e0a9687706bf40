"""Write tests/fixtures/hgpush/measuring-ci/aws_cost_estimates.synthetic.csv.

A made-up cost table in measuring_ci's old 5-column format (`provisioner, worker_type,
usage_hours, cost, unit_cost`), for the tests that read that format. measuring_ci's own draft
table has no licence, so it is not in this repository; this file keeps the shape and the quirks
its readers must handle, with numbers of our own:

- CRLF line endings, a header row, one month of rows with no month in them;
- `unit_cost` is `cost / usage_hours` rounded to cents, so it is not exactly that ratio;
- some rows have a leading space in `provisioner` (`" none"`), one has the legacy worker type
  `No Tagkey: WorkerType`, and one worker type is listed under two provisioners;
- gecko-t-win10-64 and gecko-3-b-linux (the pools of the recorded taskhuddler group that ran)
  are under `ec2-manager-production`, not the group's `aws-provisioner-v1`; signing-linux-v1 and
  beetmoverworker-v1 are left out.

Run: .venv/bin/python scripts/generate_cost_fixture.py
"""

from __future__ import annotations

from pathlib import Path

OUT = (
    Path(__file__).resolve().parent.parent
    / "tests/fixtures/hgpush/measuring-ci/aws_cost_estimates.synthetic.csv"
)
HEADER = ("provisioner", "worker_type", "usage_hours", "cost", "unit_cost")

# (provisioner, worker type, usage hours, the exact $/h the cost is made from)
ROWS = (
    ("aws-provisioner-v1-managed", "gecko-t-linux-xlarge", 3120.50, 0.0712),
    ("aws-provisioner-v1-managed", "gecko-t-linux-large", 1904.25, 0.0418),
    ("aws-provisioner-v1", "gecko-t-linux-medium", 640.00, 0.0231),
    ("aws-provisioner-v1", "gecko-1-b-linux", 812.40, 0.5930),
    ("ec2-manager-production", "gecko-t-win10-64", 284500.00, 0.1487),
    ("ec2-manager-production", "gecko-3-b-linux", 58210.75, 0.3064),
    ("ec2-manager-production", "gecko-t-win10-64-gpu", 98000.30, 0.2811),
    ("ec2-manager-production", "gecko-t-win7-32", 150320.00, 0.1102),
    ("ec2-manager-production", "gecko-t-win7-32-gpu", 45010.80, 0.2744),
    ("ec2-manager-production", "gecko-3-b-win2012", 21000.00, 0.6233),
    ("ec2-manager-production", "gecko-1-b-win2012", 5400.60, 0.6150),
    ("ec2-manager-production", "gecko-t-linux-xlarge", 120400.00, 0.0695),
    ("ec2-manager-production", "mobile-1-b-android", 3200.25, 0.2290),
    ("ec2-manager-production", "gecko-misc", 75.50, 0.0450),
    ("ec2-manager-staging", "gecko-t-linux-large", 40.00, 0.0420),
    (" none", "golden-gecko-t-win7-32", 1.25, 0.3900),
    (" none", "golden-gecko-t-win10-64", 0.90, 0.4100),
    (" none", "No Tagkey: WorkerType", 9800.40, 0.3120),
)


def lines() -> list[str]:
    out = [",".join(HEADER)]
    for provisioner, worker_type, hours, rate in ROWS:
        cost = round(hours * rate, 2)
        out.append(f"{provisioner},{worker_type},{hours:.2f},{cost:.2f},{cost / hours:.2f}")
    return out


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes("".join(f"{line}\r\n" for line in lines()).encode("ascii"))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
