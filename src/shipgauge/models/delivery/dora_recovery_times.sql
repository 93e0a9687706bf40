-- dora_recovery_times: failed deployment recovery time (DORA 2023+): how long each failed
-- deployment took to recover.
-- grain: one row per failed deployment (service, event_id). inputs: dora_change_failures.
-- recovered_at: when every incident linked to it is resolved (the last resolution), otherwise the
-- next successful deployment of its service and environment (the rollback, hotfix or fix);
-- NULL while not recovered. link_method as in dora_change_failures.
WITH recoveries AS (
    SELECT
        service,
        environment,
        deployment_id,
        event_id,
        deployed_at,
        failure_reason,
        link_method,
        CASE WHEN incidents > 0 THEN 'incidents_resolved' ELSE 'next_deployment' END AS recovered_by,
        CASE
            WHEN incidents = 0 THEN next_success_at
            WHEN all_resolved THEN last_resolved_at
        END AS recovered_at
    FROM dora_change_failures
    WHERE is_failure
)
SELECT
    *,
    epoch(recovered_at) - epoch(deployed_at) AS recovery_s
FROM recoveries
