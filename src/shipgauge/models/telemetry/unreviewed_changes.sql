-- unreviewed_changes: changesets that landed without a review where one was expected.
-- grain: one row per (repo, changeset). inputs: hgpush_pings, changesets.
-- Expected: every changeset but back-outs, approvals/uplifts, wpt-sync and merges
-- (review_unneeded, not_applicable). Without review: neither phabricator, bmo nor mozreview,
-- i.e. unknown or no_bug; no_bug also covers bugs Bugzilla would not show (confidential), as
-- upstream lumps them together (upstream.md §B.3 step 8).
SELECT
    p.repo,
    p.changeset,
    p.push_id,
    p.pushed_at,
    p.review_system,
    p.rule,
    p.bug_id,
    c.author,
    split_part(c.description, chr(10), 1) AS summary
FROM hgpush_pings AS p
LEFT JOIN changesets AS c ON c.repo = p.repo AND c.node = p.changeset
WHERE p.review_system IN ('unknown', 'no_bug')
