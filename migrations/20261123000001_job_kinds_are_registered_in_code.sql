-- Job kinds are the names job types register under in the worker (one file per kind): a new
-- kind needs no migration. Each binary takes only the kinds it knows, so during a rolling
-- upgrade an older replica leaves a newer kind's jobs to the replicas that know it.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
