-- builds_by_day: build records published per day, product and channel.
-- grain: one row per (day, product, channel). inputs: builds.
-- day is the UTC date of download.date (publication on the archive).
SELECT
    CAST(download_date AS DATE) AS day,
    product,
    channel,
    count(*) AS records,
    count(DISTINCT build_id) AS build_ids,
    count(DISTINCT version) AS versions,
    sum(download_size) AS bytes
FROM builds
WHERE download_date IS NOT NULL
GROUP BY CAST(download_date AS DATE), product, channel
