"""`hg export --git` patches (hgweb `raw-rev`) → diffstat: files changed, lines added and removed.

Counted the way commit-telemetry-service does (upstream.md §B.4): a file
per `diff --git` line; `+`/`-` lines only inside `@@ ` hunks, so the `---`/`+++` file headers are
skipped while hunk lines whose text itself starts with `--`/`++` count. Binary and rename-only
diffs are one file with 0/0.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Diffstat", "parse_diffstat"]


@dataclass(frozen=True)
class Diffstat:
    """What a patch changes, as the hgpush ping's `diffstat` object reports it."""

    changed_files: int
    additions: int
    deletions: int

    def as_ping(self) -> dict[str, int]:
        return {
            "additions": self.additions,
            "changedFiles": self.changed_files,
            "deletions": self.deletions,
        }


def parse_diffstat(patch: str) -> Diffstat:
    """Count a git-style patch.

    >>> parse_diffstat("diff --git a/f b/f\\n--- a/f\\n+++ b/f\\n@@ -1 +1 @@\\n-a\\n+b\\n")
    Diffstat(changed_files=1, additions=1, deletions=1)
    """
    files = additions = deletions = 0
    in_hunk = False
    for line in patch.splitlines():
        if line.startswith("diff --git"):
            files += 1
            in_hunk = False
        elif line.startswith("@@ "):
            in_hunk = True
        elif in_hunk and line.startswith("+"):
            additions += 1
        elif in_hunk and line.startswith("-"):
            deletions += 1
    return Diffstat(files, additions, deletions)
