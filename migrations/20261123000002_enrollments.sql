-- A new authenticator being enrolled right after a reset. The Cognito credential that lets the
-- service finish the enrollment (an MFA_SETUP session or an access token) and the new secret are
-- kept only sealed with a key derived from the user's enrollment token, which is stored as its
-- SHA-256: the database alone opens neither. `sealed` goes when the enrollment ends or expires.
CREATE TABLE enrollments (
    id          uuid        PRIMARY KEY,
    recovery_id uuid        NOT NULL REFERENCES recoveries (id),
    token_hash  text        NOT NULL UNIQUE,
    sealed      bytea,
    attempts    integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    finished_at timestamptz,
    outcome     text,
    CONSTRAINT enrollments_sealed_only_while_open CHECK (sealed IS NULL OR finished_at IS NULL)
);

CREATE INDEX enrollments_open ON enrollments (expires_at) WHERE sealed IS NOT NULL;
