-- After the new authenticator is verified, the user's own sign-in (its access token, sealed as
-- before) is kept while the user removes passkeys that lived on the lost phone: `enrolled_at`
-- says the authenticator is the user's and the sign-in still lives (the row stays open until the
-- user finishes or `expires_at`, when a job signs the user out everywhere); `passkey_step` holds
-- the passkeys as last read back and those removed ({"listed": [...], "removed": [...]}: ids,
-- names and dates, no secret), NULL when the user had none. The reset's notice of what remains
-- is written from it.
ALTER TABLE enrollments
    ADD COLUMN enrolled_at timestamptz,
    ADD COLUMN passkey_step jsonb;
