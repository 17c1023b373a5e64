-- Staff console sessions: a person their company's OpenID Connect provider signed in (with a
-- second factor), kept server-side so that signing out, or the idle and absolute limits, end
-- them for certain. The browser holds a random token; only its SHA-256 is stored.
CREATE TABLE staff_sessions (
    token_hash   text PRIMARY KEY,
    issuer       text NOT NULL,
    subject      text NOT NULL,
    display_name text NOT NULL,
    email        text,
    roles        text[] NOT NULL,
    amr          text[] NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    ended_at     timestamptz
);

CREATE INDEX staff_sessions_by_start ON staff_sessions (created_at);
