-- fxci-etl history (`taskcluster import`): the worker tables take NULL where fxci_derived's
-- tables hold NULLs, so their rows load as they are (docs/taskcluster.md, "Moving fxci-etl
-- history in").
-- worker_metrics_v1.uptime is NULLABLE upstream; worker_metrics_v1 has no cloud_provider at all
-- and worker_costs_v1 rows from before 2026-05 have none: a NULL provider is gcp, as upstream's
-- cost query reads it (coalesce(cloud_provider, 'gcp') in worker_usage and
-- worker_instance_costs).
ALTER TABLE worker_metrics ALTER COLUMN uptime DROP NOT NULL;
ALTER TABLE worker_metrics ALTER COLUMN cloud_provider DROP NOT NULL;

-- worker_costs' key loses cloud_provider (a key column cannot be NULL): an instance is named by
-- its project (GCP project or Azure subscription), zone, id and name on a day, which no two
-- providers share. worker_costs_v1 has total_cost only, so cost and credits may be NULL too.
-- Neither engine drops a primary key in place: the table is copied into its new shape.
CREATE TABLE worker_costs_v8 (
    cloud_provider VARCHAR,
    project VARCHAR NOT NULL,
    zone VARCHAR NOT NULL,
    instance_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    usage_start_date DATE NOT NULL,
    cost DOUBLE,
    credits DOUBLE,
    total_cost DOUBLE,
    PRIMARY KEY (project, zone, instance_id, name, usage_start_date)
);

INSERT INTO worker_costs_v8
SELECT cloud_provider, project, zone, instance_id, name, usage_start_date, cost, credits, total_cost
FROM worker_costs;

-- PostgreSQL drops the model views that read the table with it; the store then loads the models
-- again (their digest is forgotten here).
DROP TABLE worker_costs CASCADE;

ALTER TABLE worker_costs_v8 RENAME TO worker_costs;

DELETE FROM store_meta WHERE key = 'models';
