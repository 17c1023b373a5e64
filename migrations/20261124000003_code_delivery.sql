-- Codes go out in the order commit, send, mark sent: the hash is committed before the email
-- leaves, and this records when SES accepted it. A code committed but never marked sent (the
-- send failed, or the service died in between) is replaced by a fresh one when the job runs again.
ALTER TABLE recoveries ADD COLUMN code_delivered_at timestamptz;
-- Recoveries issued before this column existed had their email sent before their commit.
UPDATE recoveries SET code_delivered_at = issued_at WHERE status <> 'requested' AND issued_at IS NOT NULL;
