-- cost_by_review_system: CI cost per landed change, by the review system the change used.
-- grain: one row per (repo, review_system). inputs: hgpush_pings, pushes, push_costs.
-- A push's cost is split evenly over its visible changesets; each changeset's share goes to its
-- ping's review_system. Changesets without a ping are not counted; only mode 'push' groups.
WITH changes AS (
    SELECT
        h.repo,
        h.review_system,
        h.push_id,
        p.total_cost / nullif(p.changeset_count, 0) AS total_cost_share,
        p.ideal_cost / nullif(p.changeset_count, 0) AS ideal_cost_share,
        p.task_group_id
    FROM hgpush_pings AS h
    JOIN push_costs AS p ON p.repo = h.repo AND p.push_id = h.push_id AND p.mode = 'push'
)
SELECT
    repo,
    review_system,
    count(*) AS changesets,
    count(DISTINCT push_id) AS pushes,
    count(task_group_id) AS changesets_with_group,
    coalesce(sum(total_cost_share), 0) AS total_cost,
    coalesce(sum(ideal_cost_share), 0) AS ideal_cost,
    sum(total_cost_share) / nullif(count(task_group_id), 0) AS total_cost_per_change
FROM changes
GROUP BY repo, review_system
