-- dora_change_failures: whether each deployment failed, i.e. needed immediate intervention
-- (DORA: "likely a rollback or hotfix"; upstream.md §3).
-- grain: one row per deployment (service, event_id). inputs: dora_deployments, dora_incidents.
-- failure_reason, first that applies:
--   deployment_result  the deployment itself reported failure (link_method NULL);
--   incident           an incident is linked to it (link_method of that link, the strongest when
--                      several: explicit_id, then commit_sha, then time_heuristic);
--   remediated         the next deployment of its service and environment is a rollback or a
--                      hotfix (link_method time_heuristic).
-- Unlike Four Keys (incidents / deployments, fourkeys#351) the ratio counts failed deployments.
-- report_start: the view covers all history; a DORA report (queries/delivery.py) sets its window's
-- start, and then deployments before their environment's last success before it are left out
-- unless an incident is linked to them: their failure and recovery all fall before the window.
WITH report_start AS (
    SELECT CAST('-infinity' AS TIMESTAMPTZ) AS start_at
),
horizons AS (
    SELECT
        d.service,
        d.environment,
        max(d.deployed_at) FILTER (WHERE d.result = 'success' AND d.deployed_at < r.start_at)
            AS horizon_at
    FROM dora_deployments AS d
    CROSS JOIN report_start AS r
    GROUP BY d.service, d.environment
),
ordered AS (
    SELECT
        d.*,
        lead(d.is_rollback OR d.is_hotfix) OVER (
            PARTITION BY d.service, d.environment ORDER BY d.deployed_at, d.event_id
        ) AS next_is_remedy,
        min(CASE WHEN d.result = 'success' THEN d.deployed_at END) OVER (
            PARTITION BY d.service, d.environment
            ORDER BY d.deployed_at, d.event_id
            ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
        ) AS next_success_at
    FROM dora_deployments AS d
    JOIN horizons AS h ON h.service = d.service AND h.environment = d.environment
    WHERE h.horizon_at IS NULL OR d.deployed_at >= h.horizon_at
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
earlier_linked AS (
    SELECT
        d.*,
        CAST(NULL AS BOOLEAN) AS next_is_remedy,
        CAST(NULL AS TIMESTAMPTZ) AS next_success_at
    FROM dora_deployments AS d
    JOIN horizons AS h ON h.service = d.service AND h.environment = d.environment
    WHERE
        d.deployed_at < h.horizon_at
        AND EXISTS (
            SELECT 1
            FROM linked AS l
            WHERE l.service = d.service AND l.deployment_id = d.deployment_id
        )
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
    FROM (SELECT * FROM ordered UNION ALL SELECT * FROM earlier_linked) AS o
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
