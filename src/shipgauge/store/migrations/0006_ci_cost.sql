-- CI cost (issue 8): which task group each push started, and how far the scan got with it.

-- One row per (repo, push_id, mode). mode is 'push' (the decision task of the push, found through
-- the index route ci_cost_decision_route) or 'nightly' (ci_cost_nightly_route).
-- state, and what moves it (docs/ci_cost.md has the diagram):
--   not_found_yet  the index has no task for the route yet; looked up again on the next scan
--   never          still nothing once the push was older than ci_cost_lookup_give_up_hours, or
--                  the push has no visible changeset (every changeset hidden)
--   non_final      the group was listed while some task was unscheduled, pending or running;
--                  listed again on the next scan
--   final          no task left unscheduled/pending/running, or the push was older than
--                  ci_cost_group_final_after_hours (reason says which)
-- task_group_id and decision_task_id are NULL until the index answers.
CREATE TABLE push_task_groups (
    repo VARCHAR NOT NULL,
    push_id BIGINT NOT NULL,
    mode VARCHAR NOT NULL,
    revision VARCHAR,
    index_path VARCHAR,
    decision_task_id VARCHAR,
    task_group_id VARCHAR,
    state VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    tasks INTEGER,
    unfinished_tasks INTEGER,
    lookups INTEGER NOT NULL,
    listings INTEGER NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    checked_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (repo, push_id, mode)
);
