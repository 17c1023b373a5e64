-- Least privilege for the role the service runs as (here `mfa_recovery`), applied by the owner
-- role after `mfa-recovery migrate`. The audit log gets no UPDATE, DELETE or TRUNCATE; the
-- append-only triggers and the hash chain guard against everyone else.
GRANT SELECT, INSERT ON audit_events TO mfa_recovery;
GRANT USAGE ON SEQUENCE audit_events_seq_seq TO mfa_recovery;
-- Events are recorded pending, then moved into the chain by the sequencer (never updated).
GRANT SELECT, INSERT, DELETE ON audit_pending TO mfa_recovery;
GRANT USAGE ON SEQUENCE audit_pending_id_seq TO mfa_recovery;
GRANT SELECT, INSERT, UPDATE ON recoveries, jobs, enrollments TO mfa_recovery;
-- Staff keys are added and revoked by the owner (the CLI); the service only reads them.
GRANT SELECT ON staff_keys TO mfa_recovery;
GRANT USAGE ON SEQUENCE jobs_id_seq TO mfa_recovery;
GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limits TO mfa_recovery;
GRANT SELECT ON _sqlx_migrations TO mfa_recovery;
GRANT SELECT, INSERT, UPDATE, DELETE ON confirm_attempts TO mfa_recovery;
GRANT USAGE ON SEQUENCE confirm_attempts_id_seq TO mfa_recovery;
-- Staff console sessions: created at sign-in, touched per request, ended at sign-out, purged.
GRANT SELECT, INSERT, UPDATE, DELETE ON staff_sessions TO mfa_recovery;
