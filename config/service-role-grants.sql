-- Least privilege for the role the service runs as (here `mfa_recovery`), applied by the owner
-- role after `mfa-recovery migrate`; this is the whole list (`doctor` warns about any grant
-- beyond it). The service records audit events (INSERT into audit_pending; the database stamps
-- their time) and reads the log. Only audit_chain_pending(), which runs as the owner, moves
-- pending events into the chain and computes their hashes: the serving role can neither delete
-- a pending event nor write the chain itself. The append-only triggers and the hash chain guard
-- against everyone else.
GRANT SELECT ON audit_events TO mfa_recovery;
GRANT SELECT, INSERT ON audit_pending TO mfa_recovery;
GRANT USAGE ON SEQUENCE audit_pending_id_seq TO mfa_recovery;
GRANT EXECUTE ON FUNCTION audit_chain_pending(integer) TO mfa_recovery;
-- Published checkpoints: added by the service (signed with its key), never changed.
GRANT SELECT, INSERT ON audit_checkpoints TO mfa_recovery;
GRANT USAGE ON SEQUENCE audit_checkpoints_id_seq TO mfa_recovery;
-- The audit stream's cursors, one per destination: advanced as events are delivered.
GRANT SELECT, INSERT, UPDATE ON audit_deliveries TO mfa_recovery;
-- DELETE: the retention loop purges finished jobs and recoveries past their use.
GRANT SELECT, INSERT, UPDATE, DELETE ON recoveries, jobs, enrollments TO mfa_recovery;
-- Staff keys are added and revoked by the owner (the CLI); the service only reads them.
GRANT SELECT ON staff_keys TO mfa_recovery;
GRANT USAGE ON SEQUENCE jobs_id_seq TO mfa_recovery;
GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limits TO mfa_recovery;
GRANT SELECT ON _sqlx_migrations TO mfa_recovery;
GRANT SELECT, INSERT, UPDATE, DELETE ON confirm_attempts TO mfa_recovery;
GRANT USAGE ON SEQUENCE confirm_attempts_id_seq TO mfa_recovery;
-- Staff console sessions: created at sign-in, touched per request, ended at sign-out, purged.
GRANT SELECT, INSERT, UPDATE, DELETE ON staff_sessions TO mfa_recovery;
-- Names Cognito just said it has no user for (keyed digests): looked up again after a minute.
GRANT SELECT, INSERT, UPDATE, DELETE ON absent_names TO mfa_recovery;
-- The Cognito call budget all instances share (a token bucket row).
GRANT SELECT, INSERT, UPDATE ON call_budgets TO mfa_recovery;
