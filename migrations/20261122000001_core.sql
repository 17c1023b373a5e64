-- Core tables: recoveries (one per request), the job queue, and the audit log.

CREATE TABLE recoveries (
    id            uuid        PRIMARY KEY,
    -- The username or alias as the requester typed it (trimmed).
    username      text        NOT NULL,
    -- The Cognito username once looked up (the requested name for unknown users): per-account
    -- limits and superseding apply to this, whichever alias was typed.
    account_key   text,
    email_hint    text,
    status        text        NOT NULL DEFAULT 'requested',
    initiated_by  text        NOT NULL,
    reason        text,
    -- argon2id PHC string of the emailed code, keyed with the pepper. Never the code itself.
    code_hash     text,
    attempts      integer     NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    issued_at     timestamptz,
    expires_at    timestamptz NOT NULL,
    claimed_until timestamptz,
    finished_at   timestamptz,
    request_ip    text,
    -- Where the successful confirmation came from (for the notice email).
    completed_ip  text,
    user_agent    text,
    CONSTRAINT recoveries_status_known CHECK (status IN (
        'requested', 'code_sent', 'not_eligible', 'rate_limited', 'resetting',
        'completed', 'superseded', 'locked', 'cancelled', 'failed')),
    -- A code hash lives only as long as the code can still be used.
    CONSTRAINT recoveries_hash_only_while_usable CHECK (
        code_hash IS NULL OR status IN ('code_sent', 'resetting')),
    CONSTRAINT recoveries_attempts_non_negative CHECK (attempts >= 0)
);

CREATE INDEX recoveries_by_username ON recoveries (username, issued_at DESC);
CREATE INDEX recoveries_by_account ON recoveries (account_key, issued_at DESC);

CREATE TABLE jobs (
    id          bigserial   PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('issue_code', 'reset_notice')),
    recovery_id uuid        NOT NULL REFERENCES recoveries (id),
    run_at      timestamptz NOT NULL DEFAULT now(),
    attempts    integer     NOT NULL DEFAULT 0,
    last_error  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome     text CHECK (outcome IN ('done', 'gave_up'))
);

CREATE INDEX jobs_due ON jobs (run_at, id) WHERE finished_at IS NULL;

-- Every step of every recovery. `hash` chains each event to the one before it (see src/audit.rs).
CREATE TABLE audit_events (
    seq         bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    action      text        NOT NULL,
    actor       text        NOT NULL,
    username    text,
    recovery_id uuid,
    ip          text,
    user_agent  text,
    outcome     text        NOT NULL,
    detail      text,
    hash        text        NOT NULL
);

CREATE INDEX audit_events_by_username ON audit_events (username, seq);
CREATE INDEX audit_events_by_recovery ON audit_events (recovery_id, seq);
