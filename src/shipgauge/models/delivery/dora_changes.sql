-- dora_changes: each change (pull or merge request) with the parts of its lead time, per
-- environment its commits reached.
-- grain: one row per (service, change_id, environment); environment is NULL until deployed.
-- inputs: delivery_events (kind change), delivery_event_commits, dora_commit_pushes,
-- dora_deployment_commits.
-- parts in seconds, NULL when an end is missing or the part would be negative (DevLake's
-- pr_coding_time, pr_review_time and pr_deploy_time; upstream.md §1.4):
-- coding = opened - first push of its commits; review = merged - opened;
-- deploy = first successful deployment of one of its commits at or after the merge - merged.
WITH change_events AS (
    SELECT
        service,
        change_id,
        min(occurred_at) FILTER (WHERE action = 'opened') AS opened_at,
        min(occurred_at) FILTER (WHERE action = 'reviewed') AS first_reviewed_at,
        max(occurred_at) FILTER (WHERE action = 'merged') AS merged_at
    FROM delivery_events
    WHERE kind = 'change'
    GROUP BY service, change_id
),
change_commits AS (
    SELECT DISTINCT
        e.service,
        e.change_id,
        c.commit_sha
    FROM delivery_event_commits AS c
    JOIN delivery_events AS e
        ON e.service = c.service AND e.event_id = c.event_id AND e.kind = 'change'
    WHERE c.kind = 'change'
),
pushed AS (
    SELECT
        cc.service,
        cc.change_id,
        min(p.pushed_at) AS first_pushed_at
    FROM change_commits AS cc
    JOIN dora_commit_pushes AS p ON p.service = cc.service AND p.commit_sha = cc.commit_sha
    WHERE p.commit_sha IN (SELECT commit_sha FROM change_commits)
    GROUP BY cc.service, cc.change_id
),
deployed AS (
    SELECT
        cc.service,
        cc.change_id,
        dc.environment,
        min(dc.deployed_at) AS deployed_at
    FROM change_commits AS cc
    JOIN change_events AS ce ON ce.service = cc.service AND ce.change_id = cc.change_id
    JOIN dora_deployment_commits AS dc
        ON dc.service = cc.service AND dc.commit_sha = cc.commit_sha AND dc.result = 'success'
    WHERE
        ce.merged_at IS NOT NULL
        AND dc.deployed_at >= ce.merged_at
        AND dc.commit_sha IN (SELECT commit_sha FROM change_commits)
    GROUP BY cc.service, cc.change_id, dc.environment
)
SELECT
    ce.service,
    ce.change_id,
    d.environment,
    ce.opened_at,
    ce.first_reviewed_at,
    ce.merged_at,
    p.first_pushed_at,
    d.deployed_at,
    CASE
        WHEN ce.opened_at >= p.first_pushed_at THEN epoch(ce.opened_at) - epoch(p.first_pushed_at)
    END AS coding_s,
    CASE WHEN ce.merged_at >= ce.opened_at THEN epoch(ce.merged_at) - epoch(ce.opened_at) END AS review_s,
    epoch(d.deployed_at) - epoch(ce.merged_at) AS deploy_s
FROM change_events AS ce
LEFT JOIN pushed AS p ON p.service = ce.service AND p.change_id = ce.change_id
LEFT JOIN deployed AS d ON d.service = ce.service AND d.change_id = ce.change_id
