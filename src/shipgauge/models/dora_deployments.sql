-- dora_deployments: every deployment of a service to an environment, successful or failed.
-- grain: one row per (service, deployment_id). inputs: delivery_events (kind deploy).
-- deployment_id is the client's id, else the event id; when several deploy events share an id
-- (say started, then finished) the latest one gives the time and the result.
WITH deploy_events AS (
    SELECT
        service,
        coalesce(deployment_id, event_id) AS deployment_id,
        event_id,
        environment,
        occurred_at,
        result,
        is_rollback,
        is_hotfix,
        is_planned,
        incident_id,
        row_number() OVER (
            PARTITION BY service, coalesce(deployment_id, event_id)
            ORDER BY occurred_at DESC, event_id DESC
        ) AS newest_first
    FROM delivery_events
    WHERE kind = 'deploy'
)
SELECT
    service,
    environment,
    deployment_id,
    event_id,
    occurred_at AS deployed_at,
    result,
    is_rollback,
    is_hotfix,
    is_planned,
    incident_id AS fixes_incident_id
FROM deploy_events
WHERE newest_first = 1
