-- dora_lead_times: change lead time of each commit, from its first push to the first successful
-- deployment that contains it.
-- grain: one row per (service, environment, commit_sha).
-- inputs: dora_deployment_commits, dora_commit_pushes, dora_deployments.
-- link_method: commit_sha (the deployment listed the commit).
-- quirk: commits pushed before the first known deployment of their service and environment are
-- left out, or that deployment would take all older history (DevLake #7193, #8249;
-- research/anchors.md §1.8); so are commits never pushed and commits pushed after they deployed.
WITH first_deployments AS (
    SELECT
        service,
        environment,
        commit_sha,
        min(deployed_at) AS deployed_at
    FROM dora_deployment_commits
    WHERE result = 'success'
    GROUP BY service, environment, commit_sha
),
history_starts AS (
    SELECT
        service,
        environment,
        min(deployed_at) AS first_deployed_at
    FROM dora_deployments
    GROUP BY service, environment
)
SELECT
    f.service,
    f.environment,
    f.commit_sha,
    p.pushed_at,
    f.deployed_at,
    epoch(f.deployed_at) - epoch(p.pushed_at) AS lead_time_s,
    'commit_sha' AS link_method
FROM first_deployments AS f
JOIN dora_commit_pushes AS p ON p.service = f.service AND p.commit_sha = f.commit_sha
JOIN history_starts AS h ON h.service = f.service AND h.environment = f.environment
WHERE p.pushed_at >= h.first_deployed_at AND p.pushed_at <= f.deployed_at
