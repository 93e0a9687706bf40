-- ingest_status: how far each source has been ingested and what it left in dead letters.
-- grain: one row per checkpointed or dead-lettered source. inputs: ingest_checkpoints, dead_letter_summary.
SELECT
    coalesce(c.source, d.source) AS source,
    c.position,
    c.updated_at,
    coalesce(d.letters, 0) AS dead_letters
FROM ingest_checkpoints AS c
FULL OUTER JOIN dead_letter_summary AS d ON d.source = c.source
