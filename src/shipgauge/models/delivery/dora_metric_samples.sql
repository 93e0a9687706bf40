-- dora_metric_samples: every measurement behind the DORA metrics on one time axis: one per
-- deployment, deployed commit, deployed change, failed deployment or resolved incident.
-- grain: one row per (metric, service, environment, sample).
-- inputs: dora_deployments, dora_lead_times, dora_changes, dora_change_failures,
-- dora_recovery_times, dora_time_to_restore, dora_rework.
-- sampled_at: when a sample counts. Deployments, lead times, lead-time parts, change fail and rework
-- count at deployment time; recovery times at recovery and time to restore at resolution, as
-- DevLake filters them (upstream.md §1.4). value: 1 per deployment, seconds, or 0/1.
SELECT
    service,
    environment,
    'deployment_frequency' AS metric,
    deployed_at AS sampled_at,
    CAST(1 AS DOUBLE) AS value,
    CAST(NULL AS VARCHAR) AS link_method
FROM dora_deployments
WHERE result = 'success'
UNION ALL
SELECT service, environment, 'change_lead_time', deployed_at, lead_time_s, link_method
FROM dora_lead_times
UNION ALL
SELECT service, environment, 'coding_time', deployed_at, coding_s, NULL
FROM dora_changes
WHERE coding_s IS NOT NULL AND deployed_at IS NOT NULL
UNION ALL
SELECT service, environment, 'review_time', deployed_at, review_s, NULL
FROM dora_changes
WHERE review_s IS NOT NULL AND deployed_at IS NOT NULL
UNION ALL
SELECT service, environment, 'deploy_time', deployed_at, deploy_s, NULL
FROM dora_changes
WHERE deploy_s IS NOT NULL
UNION ALL
SELECT
    service,
    environment,
    'change_fail_rate',
    deployed_at,
    CASE WHEN is_failure THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END,
    link_method
FROM dora_change_failures
UNION ALL
SELECT service, environment, 'failed_deployment_recovery_time', recovered_at, recovery_s, link_method
FROM dora_recovery_times
WHERE recovered_at IS NOT NULL
UNION ALL
SELECT service, environment, 'time_to_restore', resolved_at, restore_s, NULL
FROM dora_time_to_restore
UNION ALL
SELECT
    service,
    environment,
    'deployment_rework_rate',
    deployed_at,
    CASE WHEN is_rework THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END,
    link_method
FROM dora_rework
