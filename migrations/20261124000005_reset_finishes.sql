-- Once Cognito may have removed the token, a reset always completes: a job finishes what a
-- confirmation started. A confirmation that was answered 503 meanwhile can be retried with the
-- same code and is then answered 200, so a completed recovery keeps its code's hash until that
-- retry (or the code's expiry); a confirmation answered 200 drops it at once.
ALTER TABLE recoveries DROP CONSTRAINT recoveries_hash_only_while_usable;
ALTER TABLE recoveries ADD CONSTRAINT recoveries_hash_only_while_usable CHECK (
    code_hash IS NULL OR status IN ('code_sent', 'resetting', 'completed'));
