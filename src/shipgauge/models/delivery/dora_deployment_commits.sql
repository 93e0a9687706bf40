-- dora_deployment_commits: the commits each deployment shipped, as its deploy event listed them.
-- grain: one row per (service, event_id, commit_sha) of a deploy event.
-- inputs: delivery_event_commits (which repeats the event's time, environment and result).
-- CI cost joins these commits to pushes; dora_deployments gives the deployment_id of event_id.
SELECT
    service,
    environment,
    event_id,
    commit_sha,
    occurred_at AS deployed_at,
    result
FROM delivery_event_commits
WHERE kind = 'deploy'
