-- dora_deployment_commits: the commits each deployment shipped, as its deploy events listed them.
-- grain: one row per (service, event_id, commit_sha) of a deploy event.
-- inputs: delivery_event_commits, delivery_events, dora_deployments.
-- Time and result are the deployment's (its latest event). CI cost joins these commits to pushes.
SELECT
    d.service,
    d.environment,
    d.deployment_id,
    c.event_id,
    c.commit_sha,
    d.deployed_at,
    d.result
FROM delivery_event_commits AS c
JOIN delivery_events AS e ON e.service = c.service AND e.event_id = c.event_id
JOIN dora_deployments AS d
    ON d.service = e.service AND d.deployment_id = coalesce(e.deployment_id, e.event_id)
WHERE c.kind = 'deploy'
