-- Delivery facts (issue 6): per-commit facts behind the DORA change lead time, kept by
-- pipelines/delivery.py in the ingest transaction of the events they come from, so that a report
-- reads the commits deployed in its window instead of aggregating every commit ever reported.
-- Every fact is a minimum over delivery_event_commits and is merged with its row by keeping the
-- earlier value: the same facts whatever order events arrive in, and a replay changes nothing.
-- History written by SQL straight into the event tables gets its facts from
-- pipelines.delivery.refresh_delivery_facts, which re-runs the INSERTs below.

-- When each commit was first pushed (push events naming it).
CREATE TABLE delivery_commit_pushes (
    service VARCHAR NOT NULL,
    commit_sha VARCHAR NOT NULL,
    pushed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (service, commit_sha)
);

-- The environments each service has deployed to (deploy events, any result).
CREATE TABLE delivery_service_environments (
    service VARCHAR NOT NULL,
    environment VARCHAR NOT NULL,
    PRIMARY KEY (service, environment)
);

-- Each commit in each environment of its service: its first push (NULL while unknown) and its
-- first successful deployment there (NULL until it has one; on equal times the smallest
-- event_id, as the models order deployments). A change lead time is one row with both.
CREATE TABLE delivery_commit_deployments (
    service VARCHAR NOT NULL,
    environment VARCHAR NOT NULL,
    commit_sha VARCHAR NOT NULL,
    pushed_at TIMESTAMPTZ,
    deployed_at TIMESTAMPTZ,
    event_id VARCHAR,
    PRIMARY KEY (service, environment, commit_sha)
);

-- Stores that already hold events get their facts now.
INSERT INTO delivery_commit_pushes
SELECT service, commit_sha, min(occurred_at)
FROM delivery_event_commits
WHERE kind = 'push'
GROUP BY service, commit_sha;

INSERT INTO delivery_service_environments
SELECT DISTINCT service, environment
FROM delivery_events
WHERE kind = 'deploy' AND environment IS NOT NULL;

-- Rows in service and time order: a report's service and window filters skip whole row groups.
INSERT INTO delivery_commit_deployments
SELECT
    coalesce(d.service, p.service),
    coalesce(d.environment, p.environment),
    coalesce(d.commit_sha, p.commit_sha),
    p.pushed_at,
    d.deployed_at,
    d.event_id
FROM (
    SELECT DISTINCT ON (service, environment, commit_sha)
        service,
        environment,
        commit_sha,
        occurred_at AS deployed_at,
        event_id
    FROM delivery_event_commits
    WHERE kind = 'deploy' AND result = 'success' AND environment IS NOT NULL
    ORDER BY service, environment, commit_sha, occurred_at, event_id
) AS d
FULL JOIN (
    SELECT p.service, e.environment, p.commit_sha, p.pushed_at
    FROM delivery_commit_pushes AS p
    JOIN delivery_service_environments AS e ON e.service = p.service
) AS p
    ON p.service = d.service AND p.environment = d.environment AND p.commit_sha = d.commit_sha
ORDER BY 1, 5, 4;
