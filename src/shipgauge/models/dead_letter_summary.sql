-- dead_letter_summary: what each ingest path could not read, so nothing is silently lost.
-- grain: one row per source. inputs: dead_letters.
SELECT
    source,
    count(*) AS letters,
    min(received_at) AS first_received_at,
    max(received_at) AS last_received_at
FROM dead_letters
GROUP BY source
