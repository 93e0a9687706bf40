-- cost_by_review_system: CI cost per landed change, by the review system the change used.
-- grain: one row per (repo, review_system). inputs: hgpush_pings, pushes, push_costs.
-- A push's cost is split evenly over its visible changesets; each changeset's share goes to its
-- ping's review_system. Changesets without a ping are not counted; only mode 'push' groups.
-- Costs are NULL when no push they cover has a priced run, never 0; unpriced_seconds are the
-- changesets' shares of their pushes' run seconds no cost source prices.
WITH changes AS (
    SELECT
        h.repo,
        h.review_system,
        h.push_id,
        p.total_cost / nullif(p.changeset_count, 0) AS total_cost_share,
        p.ideal_cost / nullif(p.changeset_count, 0) AS ideal_cost_share,
        p.unpriced_seconds / nullif(p.changeset_count, 0) AS unpriced_seconds_share,
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
    sum(total_cost_share) AS total_cost,
    sum(ideal_cost_share) AS ideal_cost,
    sum(total_cost_share) / nullif(count(task_group_id), 0) AS total_cost_per_change,
    coalesce(sum(unpriced_seconds_share), 0) AS unpriced_seconds
FROM changes
GROUP BY repo, review_system
