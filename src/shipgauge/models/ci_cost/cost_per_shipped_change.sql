-- cost_per_shipped_change: the CI cost of the pushes each deployment carried, per commit shipped.
-- grain: one row per deploy event (service, event_id). inputs: dora_deployment_commits,
-- dora_deployments, changesets, push_costs.
-- A deployment carries the pushes holding the commits its deploy event listed (commit sha =
-- changeset node, compared in lower case; a short sha does not match). Each push counts once
-- per deployment; only on-push groups (mode 'push') are summed. A deployment that carried no
-- push costs 0; one whose pushes have no priced run has NULL costs (unpriced_seconds), never 0.
WITH deployed AS (
    SELECT DISTINCT service, event_id, environment, deployed_at, lower(commit_sha) AS node
    FROM dora_deployment_commits
),
carried AS (
    SELECT DISTINCT d.service, d.event_id, c.repo, c.push_id
    FROM deployed AS d
    JOIN changesets AS c ON c.node = d.node
),
push_sums AS (
    SELECT
        k.service,
        k.event_id,
        count(*) AS pushes,
        sum(p.total_cost) AS total_cost,
        sum(p.ideal_cost) AS ideal_cost,
        sum(p.compute_seconds) AS compute_seconds,
        sum(p.unpriced_seconds) AS unpriced_seconds
    FROM carried AS k
    JOIN push_costs AS p ON p.repo = k.repo AND p.push_id = k.push_id AND p.mode = 'push'
    GROUP BY k.service, k.event_id
),
commit_counts AS (
    SELECT
        d.service,
        d.event_id,
        d.environment,
        d.deployed_at,
        count(*) AS commits,
        count(CASE WHEN EXISTS (SELECT 1 FROM changesets AS c WHERE c.node = d.node) THEN 1 END)
            AS commits_in_pushlog
    FROM deployed AS d
    GROUP BY d.service, d.event_id, d.environment, d.deployed_at
)
SELECT
    n.service,
    n.event_id,
    dd.deployment_id,
    n.environment,
    n.deployed_at,
    n.commits,
    n.commits_in_pushlog,
    coalesce(s.pushes, 0) AS pushes,
    CASE WHEN s.pushes IS NULL THEN 0 ELSE s.total_cost END AS total_cost,
    CASE WHEN s.pushes IS NULL THEN 0 ELSE s.ideal_cost END AS ideal_cost,
    coalesce(s.compute_seconds, 0) AS compute_seconds,
    coalesce(s.unpriced_seconds, 0) AS unpriced_seconds,
    CASE WHEN s.pushes IS NULL THEN 0 ELSE s.total_cost END / nullif(n.commits, 0)
        AS total_cost_per_commit
FROM commit_counts AS n
LEFT JOIN dora_deployments AS dd ON dd.service = n.service AND dd.event_id = n.event_id
LEFT JOIN push_sums AS s ON s.service = n.service AND s.event_id = n.event_id
