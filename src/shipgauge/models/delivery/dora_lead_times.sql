-- dora_lead_times: change lead time of each commit, from its first push to the first successful
-- deployment that contains it.
-- grain: one row per (service, environment, commit_sha).
-- inputs: delivery_commit_deployments (both ends per commit and environment, kept at ingest),
-- dora_deployments.
-- link_method: commit_sha (the deployment listed the commit).
-- quirk: commits pushed before the first known deployment of their service and environment are
-- left out, or that deployment would take all older history (DevLake #7193, #8249;
-- upstream.md §1.8); so are commits never pushed and commits pushed after they deployed.
WITH history_starts AS (
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
    f.pushed_at,
    f.deployed_at,
    epoch(f.deployed_at) - epoch(f.pushed_at) AS lead_time_s,
    'commit_sha' AS link_method
FROM delivery_commit_deployments AS f
JOIN history_starts AS h ON h.service = f.service AND h.environment = f.environment
WHERE f.pushed_at >= h.first_deployed_at AND f.pushed_at <= f.deployed_at
