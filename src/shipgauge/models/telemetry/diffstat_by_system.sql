-- diffstat_by_system: how big the changes were that each review system handled, per repository.
-- grain: one row per (repo, review_system). inputs: hgpush_pings.
-- Only phabricator and bmo pings carry a diffstat (upstream computes none for the others), so the
-- size columns are NULL for the other systems; with_diffstat counts the changesets measured.
SELECT
    repo,
    review_system,
    count(*) AS changesets,
    count(changed_files) AS with_diffstat,
    CAST(sum(changed_files) AS BIGINT) AS changed_files,
    CAST(sum(additions) AS BIGINT) AS additions,
    CAST(sum(deletions) AS BIGINT) AS deletions,
    CAST(avg(additions + deletions) AS DOUBLE) AS mean_lines_changed,
    CAST(median(additions + deletions) AS DOUBLE) AS median_lines_changed
FROM hgpush_pings
GROUP BY repo, review_system
