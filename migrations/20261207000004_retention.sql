-- Rows past their use are purged on the retention loop's schedule, so that a flood of junk names
-- does not grow the database for ever (the audit log keeps the record): finished jobs after
-- JOB_RETENTION_DAYS, then recoveries that are over, with no job left and their enrollment
-- expired, after RECOVERY_RETENTION_DAYS. These indexes find them without reading every row.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX recoveries_by_expiry ON recoveries (expires_at);
CREATE INDEX enrollments_by_recovery ON enrollments (recovery_id);
CREATE INDEX jobs_by_recovery ON jobs (recovery_id);
