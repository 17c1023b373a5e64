-- Denial of recovery: what one client address does must not use up what the owner gets.
-- Each recovery remembers the address block it was requested from (`203.0.113.7`,
-- `2001:db8:1:2::/64`; NULL when the support desk started it), so that email limits and locks
-- count per block; and every confirmation attempt is one row, reserved before anything is
-- compared, so that limits are rolling windows over rows and not counters reset at midnight.
ALTER TABLE recoveries ADD COLUMN request_prefix text;

CREATE INDEX recoveries_by_account_created ON recoveries (account_key, created_at DESC);

CREATE TABLE confirm_attempts (
    id          bigserial   PRIMARY KEY,
    -- The account the attempt was judged against: the Cognito username once a recovery of the
    -- name was issued, the name as typed otherwise.
    account_key text        NOT NULL,
    -- The address block the attempt came from (the same form as recoveries.request_prefix).
    prefix      text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    -- true from the reservation on; false once the attempt proved right.
    failed      boolean     NOT NULL DEFAULT true
);

CREATE INDEX confirm_attempts_by_account ON confirm_attempts (account_key, at);
