-- dora_deployments: every deployment of a service to an environment, successful or failed.
-- grain: one row per deploy event (service, event_id). inputs: delivery_events (kind deploy).
-- deployment_id is the client's id for it, else the event id; incidents name it to link to it.
-- Report a deployment once, when it has finished: two events with one deployment id count twice.
SELECT
    service,
    environment,
    coalesce(deployment_id, event_id) AS deployment_id,
    event_id,
    occurred_at AS deployed_at,
    result,
    is_rollback,
    is_hotfix,
    is_planned,
    incident_id AS fixes_incident_id
FROM delivery_events
WHERE kind = 'deploy'
