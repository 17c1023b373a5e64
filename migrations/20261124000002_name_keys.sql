-- Every name is keyed the same way, whether or not the pool has such a user: `name_key` is a
-- keyed hash (HMAC-SHA256, key derived from the code pepper) of the name's normal form (NFKC,
-- trimmed, lower-cased when the pool ignores case). Limits, superseding and matching use it.
-- `typed_name` is the name as typed, kept only until the job has asked Cognito about it;
-- `username` holds the Cognito username once the name proved to be a user's, and until then
-- (for ever, for names that are no one's) only its first two characters and a short keyed hash.
ALTER TABLE recoveries
    ADD COLUMN name_key   text,
    ADD COLUMN typed_name text;

CREATE INDEX recoveries_by_name_key ON recoveries (name_key, created_at DESC);

COMMENT ON COLUMN confirm_attempts.account_key IS
    'the name_key of the name the attempt was typed with (see recoveries.name_key)';
