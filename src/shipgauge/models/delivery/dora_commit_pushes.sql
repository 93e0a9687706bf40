-- dora_commit_pushes: when each commit was first pushed; where its change lead time starts.
-- grain: one row per (service, commit_sha). inputs: delivery_commit_pushes (kept at ingest from
-- push events).
-- The DevOps Toolkit took the latest push naming the commit (docs/upstream.md B.2);
-- shipgauge takes the first, so a re-push does not shorten the lead time.
SELECT
    service,
    commit_sha,
    pushed_at
FROM delivery_commit_pushes
