-- Staff API keys (support desk, auditors) and an append-only audit log.

CREATE TABLE staff_keys (
    id         uuid        PRIMARY KEY,
    name       text        NOT NULL,
    role       text        NOT NULL CHECK (role IN ('support', 'auditor')),
    -- SHA-256 of the key (keys are 256 random bits, so a fast hash is enough); never the key.
    key_hash   text        NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

CREATE INDEX staff_keys_by_name ON staff_keys (name);

-- The audit log only grows. The service never updates or deletes an event; neither can anyone
-- else without disabling these triggers, which takes the table owner or a superuser, and the
-- hash chain then still shows the edit. Grants for the service's role are in README.md.
CREATE FUNCTION audit_events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_reject_change();

CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_reject_change();

CREATE INDEX audit_events_by_at ON audit_events (at);
CREATE INDEX audit_events_by_action ON audit_events (action, seq);
