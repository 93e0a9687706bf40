-- dora_change_failures: whether each deployment failed, i.e. needed immediate intervention
-- (DORA: "likely a rollback or hotfix"; research/anchors.md §3).
-- grain: one row per deployment (service, event_id). inputs: dora_deployments, dora_incidents.
-- failure_reason, first that applies:
--   deployment_result  the deployment itself reported failure (link_method NULL);
--   incident           an incident is linked to it (link_method of that link, the strongest when
--                      several: explicit_id, then commit_sha, then time_heuristic);
--   remediated         the next deployment of its service and environment is a rollback or a
--                      hotfix (link_method time_heuristic).
-- Unlike Four Keys (incidents / deployments, fourkeys#351) the ratio counts failed deployments.
WITH ordered AS (
    SELECT
        *,
        lead(is_rollback OR is_hotfix) OVER (
            PARTITION BY service, environment ORDER BY deployed_at, event_id
        ) AS next_is_remedy,
        min(CASE WHEN result = 'success' THEN deployed_at END) OVER (
            PARTITION BY service, environment
            ORDER BY deployed_at, event_id
            ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
        ) AS next_success_at
    FROM dora_deployments
),
linked AS (
    SELECT
        service,
        deployment_id,
        count(*) AS incidents,
        min(
            CASE link_method WHEN 'explicit_id' THEN 1 WHEN 'commit_sha' THEN 2 ELSE 3 END
        ) AS strongest_link,
        max(resolved_at) AS last_resolved_at,
        count(resolved_at) = count(*) AS all_resolved
    FROM dora_incidents
    WHERE deployment_id IS NOT NULL
    GROUP BY service, deployment_id
),
reasons AS (
    SELECT
        o.*,
        coalesce(l.incidents, 0) AS incidents,
        l.strongest_link,
        l.last_resolved_at,
        l.all_resolved,
        CASE
            WHEN o.result = 'failure' THEN 'deployment_result'
            WHEN l.incidents > 0 THEN 'incident'
            WHEN o.next_is_remedy THEN 'remediated'
        END AS failure_reason
    FROM ordered AS o
    LEFT JOIN linked AS l ON l.service = o.service AND l.deployment_id = o.deployment_id
)
SELECT
    service,
    environment,
    deployment_id,
    event_id,
    deployed_at,
    result,
    failure_reason IS NOT NULL AS is_failure,
    failure_reason,
    CASE
        WHEN failure_reason = 'remediated' THEN 'time_heuristic'
        WHEN failure_reason = 'incident' AND strongest_link = 1 THEN 'explicit_id'
        WHEN failure_reason = 'incident' AND strongest_link = 2 THEN 'commit_sha'
        WHEN failure_reason = 'incident' THEN 'time_heuristic'
    END AS link_method,
    incidents,
    last_resolved_at,
    all_resolved,
    next_success_at
FROM reasons
