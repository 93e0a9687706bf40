-- dora_incidents: each incident, the deployment it is blamed on, and how that link was made.
-- grain: one row per (service, incident_id).
-- inputs: delivery_events (kind incident), dora_deployments, delivery_commit_deployments.
-- link_method, first that applies:
--   explicit_id    the incident named a deployment_id of its service;
--   commit_sha     its cause_commit was first deployed, successfully, by that deployment in the
--                  incident's environment;
--   time_heuristic the last successful deployment of its service and environment at or before
--                  the incident was detected (DevLake's only rule; upstream.md §1.4),
--                  found per day (earlier days' last deployment, or the same day's) so no
--                  window runs over every deployment;
--   NULL           no deployment precedes it.
-- detected_at is the opening time, or the resolution when only that was reported.
WITH incidents AS (
    SELECT
        service,
        incident_id,
        min(occurred_at) FILTER (WHERE action = 'opened') AS opened_at,
        max(occurred_at) FILTER (WHERE action = 'resolved') AS resolved_at,
        min(environment) AS environment,
        max(deployment_id) AS named_deployment_id,
        max(cause_commit) AS cause_commit
    FROM delivery_events
    WHERE kind = 'incident'
    GROUP BY service, incident_id
),
detected AS (
    SELECT
        *,
        coalesce(opened_at, resolved_at) AS detected_at
    FROM incidents
),
by_id AS (
    SELECT DISTINCT
        i.service,
        i.incident_id,
        d.deployment_id
    FROM detected AS i
    JOIN dora_deployments AS d
        ON d.service = i.service AND d.deployment_id = i.named_deployment_id
),
commit_deployments AS (
    SELECT
        i.service,
        i.incident_id,
        d.deployment_id
    FROM detected AS i
    JOIN delivery_commit_deployments AS c
        ON
            c.service = i.service
            AND c.environment = i.environment
            AND c.commit_sha = i.cause_commit
            AND c.deployed_at IS NOT NULL
    JOIN dora_deployments AS d ON d.service = c.service AND d.event_id = c.event_id
),
successes AS (
    SELECT
        service,
        environment,
        deployment_id,
        deployed_at,
        CAST(deployed_at AS DATE) AS day
    FROM dora_deployments
    WHERE result = 'success'
),
deploy_days AS (
    SELECT
        service,
        environment,
        day,
        max(deployed_at) AS last_deployed_at
    FROM successes
    GROUP BY service, environment, day
),
day_timeline AS (
    SELECT
        service,
        environment,
        day,
        1 AS is_deploy_day,
        last_deployed_at,
        CAST(NULL AS VARCHAR) AS incident_id
    FROM deploy_days
    UNION ALL
    SELECT
        service,
        environment,
        CAST(detected_at AS DATE) AS day,
        0 AS is_deploy_day,
        NULL AS last_deployed_at,
        incident_id
    FROM detected
),
earlier_days AS (
    -- An incident's row sorts before its own day's deployments: it sees earlier days only.
    SELECT
        service,
        environment,
        incident_id,
        max(last_deployed_at) OVER (
            PARTITION BY service, environment
            ORDER BY day, is_deploy_day
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS last_deployed_at
    FROM day_timeline
),
same_day AS (
    SELECT
        i.service,
        i.incident_id,
        max(d.deployed_at) AS last_deployed_at
    FROM detected AS i
    JOIN successes AS d
        ON
            d.service = i.service
            AND d.environment = i.environment
            AND d.day = CAST(i.detected_at AS DATE)
    WHERE d.deployed_at <= i.detected_at
    GROUP BY i.service, i.incident_id
),
last_deployments AS (
    SELECT
        e.service,
        e.environment,
        e.incident_id,
        coalesce(s.last_deployed_at, e.last_deployed_at) AS last_deployed_at
    FROM earlier_days AS e
    LEFT JOIN same_day AS s ON s.service = e.service AND s.incident_id = e.incident_id
    WHERE e.incident_id IS NOT NULL
),
by_time AS (
    SELECT
        l.service,
        l.incident_id,
        min(d.deployment_id) AS deployment_id
    FROM last_deployments AS l
    JOIN successes AS d
        ON
            d.service = l.service
            AND d.environment = l.environment
            AND d.deployed_at = l.last_deployed_at
    GROUP BY l.service, l.incident_id
)
SELECT
    i.service,
    i.incident_id,
    i.environment,
    i.opened_at,
    i.resolved_at,
    i.detected_at,
    i.named_deployment_id,
    i.cause_commit,
    coalesce(x.deployment_id, c.deployment_id, t.deployment_id) AS deployment_id,
    CASE
        WHEN x.deployment_id IS NOT NULL THEN 'explicit_id'
        WHEN c.deployment_id IS NOT NULL THEN 'commit_sha'
        WHEN t.deployment_id IS NOT NULL THEN 'time_heuristic'
    END AS link_method
FROM detected AS i
LEFT JOIN by_id AS x ON x.service = i.service AND x.incident_id = i.incident_id
LEFT JOIN commit_deployments AS c ON c.service = i.service AND c.incident_id = i.incident_id
LEFT JOIN by_time AS t ON t.service = i.service AND t.incident_id = i.incident_id
