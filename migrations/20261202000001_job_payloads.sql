-- A job is a kind plus a payload (JSON, `null` when the kind needs none), and the recovery it is
-- about when it is about one (a staff action or an export is about none). A replica of the
-- previous release still inserts recovery jobs without a payload (the default) and only takes
-- the kinds it knows, so both run side by side during a rolling upgrade.
ALTER TABLE jobs ADD COLUMN payload jsonb NOT NULL DEFAULT 'null'::jsonb;
ALTER TABLE jobs ALTER COLUMN recovery_id DROP NOT NULL;
