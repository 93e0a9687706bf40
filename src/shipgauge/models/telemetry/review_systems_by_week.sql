-- review_systems_by_week: share of each review system among a repository's changesets, per week.
-- grain: one row per (repo, week, review_system); weeks start on Monday. inputs: review_systems_by_day.
-- share is changesets / all changesets of that repo and week (the shares of a week sum to 1).
SELECT
    repo,
    week,
    review_system,
    changesets,
    CAST(changesets AS DOUBLE) / sum(changesets) OVER (PARTITION BY repo, week) AS share
FROM (
    SELECT
        repo,
        CAST(date_trunc('week', push_day) AS DATE) AS week,
        review_system,
        CAST(sum(changesets) AS BIGINT) AS changesets
    FROM review_systems_by_day
    GROUP BY repo, CAST(date_trunc('week', push_day) AS DATE), review_system
) AS weekly
