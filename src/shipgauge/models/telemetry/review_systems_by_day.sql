-- review_systems_by_day: how many changesets of a repository landed per review system, per day.
-- grain: one row per (repo, push_day, review_system). inputs: hgpush_pings.
-- push_day is the UTC day of the ping's pushDate; pings without a push date are left out.
SELECT
    repo,
    CAST(timezone('UTC', pushed_at) AS DATE) AS push_day,
    review_system,
    count(*) AS changesets
FROM hgpush_pings
WHERE pushed_at IS NOT NULL
GROUP BY repo, CAST(timezone('UTC', pushed_at) AS DATE), review_system
