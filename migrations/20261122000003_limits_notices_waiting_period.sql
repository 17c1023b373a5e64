-- Abuse resistance: shared rate-limit counters, lock notices, and the optional waiting period.

-- Fixed-window counters shared by every instance: per client address, per account, global.
CREATE TABLE rate_limits (
    key          text        NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL,
    last_hit     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key, window_start)
);

ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('issue_code', 'reset_notice', 'lock_notice', 'apply_reset'));

-- Waiting period: a confirmed recovery can be scheduled instead of applied at once.
ALTER TABLE recoveries
    ADD COLUMN reset_at          timestamptz,
    -- SHA-256 of the one-time cancel link's token; never the token.
    ADD COLUMN cancel_token_hash text UNIQUE,
    -- Where the confirmation that locked the recovery came from (for the lock notice).
    ADD COLUMN locked_ip         text;

ALTER TABLE recoveries DROP CONSTRAINT recoveries_status_known;
ALTER TABLE recoveries ADD CONSTRAINT recoveries_status_known CHECK (status IN (
    'requested', 'code_sent', 'not_eligible', 'rate_limited', 'resetting', 'scheduled',
    'completed', 'superseded', 'locked', 'cancelled', 'failed'));
