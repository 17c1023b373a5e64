-- Every recovery request inserts a row into recoveries, and each index on it is one more write
-- per request. Two indexes served no query, and two indexed the NULLs that every self-service
-- request starts with:
--   * recoveries_by_username: no query looks recoveries up by their recorded name (lookups use
--     name_key or account_key);
--   * recoveries_by_account (account_key, issued_at): recoveries_by_account_created serves the
--     same lookups by account_key;
--   * recoveries_by_account_created and the cancel token's uniqueness now leave out the rows
--     where the column is NULL (every lookup asks for a value, which is never NULL).
DROP INDEX recoveries_by_username;
DROP INDEX recoveries_by_account;
DROP INDEX recoveries_by_account_created;
CREATE INDEX recoveries_by_account_created ON recoveries (account_key, created_at DESC)
    WHERE account_key IS NOT NULL;
ALTER TABLE recoveries DROP CONSTRAINT recoveries_cancel_token_hash_key;
CREATE UNIQUE INDEX recoveries_by_cancel_token ON recoveries (cancel_token_hash)
    WHERE cancel_token_hash IS NOT NULL;
