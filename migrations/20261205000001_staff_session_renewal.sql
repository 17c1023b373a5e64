-- A staff member who loses a role at their company's provider loses it at their next request:
-- each request reads their groups again with the refresh token of their sign-in. The token is
-- kept sealed with a key that only the browser's session token derives (the database alone
-- cannot use it). A provider that issues no refresh token is relied on until the ID token of the
-- sign-in expires (`roles_until`), then the person signs in again.
ALTER TABLE staff_sessions
    ADD COLUMN refresh_sealed bytea,
    ADD COLUMN roles_until timestamptz;

-- Sessions begun before this could not be checked again: they end, and their people sign in again.
UPDATE staff_sessions SET ended_at = now() WHERE ended_at IS NULL;
