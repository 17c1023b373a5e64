-- Published checkpoints: the chain's head signed every AUDIT_CHECKPOINT_SECONDS and after every
-- AUDIT_CHECKPOINT_EVENTS events, each naming the digest of the one before (a chain of digests,
-- as CloudTrail's digest files are). They are kept here so that `GET /v1/audit/checkpoint?seq=`
-- can hand out older ones and verification can start from the newest; the copies that prove
-- something are the ones shipped out of the database (the log line, AUDIT_CHECKPOINT_FILE).
CREATE TABLE audit_checkpoints (
    id          bigserial   PRIMARY KEY,
    seq         bigint      NOT NULL CHECK (seq >= 0),
    head        text        NOT NULL,
    -- Exactly as signed (RFC 3339 UTC to the microsecond).
    at          text        NOT NULL,
    key_id      text        NOT NULL,
    previous    text        NOT NULL,
    signature   text        NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- One series: no two checkpoints follow the same one.
    CONSTRAINT audit_checkpoints_one_series UNIQUE (previous)
);
CREATE INDEX audit_checkpoints_by_seq ON audit_checkpoints (seq, id);

-- The refusal names the table it guards (it served audit_events and audit_pending already).
CREATE OR REPLACE FUNCTION audit_events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_checkpoints_append_only
    BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_events_reject_change();
CREATE TRIGGER audit_checkpoints_no_truncate
    BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_reject_change();

-- Auditors ask by time: an event's `at` never goes back along the chain (the sequencer takes
-- the later of the event's own time and its predecessor's; two writers' clock readings can cross
-- by microseconds), so the first event at or after an instant bounds `seq`, and a time filter is
-- a range of the primary key.
CREATE OR REPLACE FUNCTION audit_chain_pending(max_events integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    previous text;
    last_at timestamptz;
    event audit_pending%ROWTYPE;
    ids bigint[] := '{}';
    seqs bigint[] := '{}';
    ats timestamptz[] := '{}';
    hashes text[] := '{}';
    next_seq bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(7883095260043502697) THEN
        RETURN 0;
    END IF;
    SELECT e.hash, e.at INTO previous, last_at FROM audit_events e ORDER BY e.seq DESC LIMIT 1;
    previous := coalesce(previous, '');
    FOR event IN
        SELECT * FROM audit_pending p ORDER BY p.id LIMIT greatest(max_events, 0)
    LOOP
        next_seq := nextval('audit_events_seq_seq');
        last_at := greatest(event.at, coalesce(last_at, event.at));
        previous := audit_event_hash(
            previous, next_seq, last_at, event.action, event.actor, event.username,
            event.recovery_id, event.ip, event.user_agent, event.outcome, event.detail);
        ids := ids || event.id;
        seqs := seqs || next_seq;
        ats := ats || last_at;
        hashes := hashes || previous;
    END LOOP;
    IF cardinality(ids) = 0 THEN
        RETURN 0;
    END IF;
    INSERT INTO audit_events
        (seq, at, action, actor, username, recovery_id, ip, user_agent, outcome, detail, hash)
    SELECT c.seq, c.at, p.action, p.actor, p.username, p.recovery_id, p.ip, p.user_agent,
           p.outcome, p.detail, c.hash
      FROM unnest(ids, seqs, ats, hashes) AS c(id, seq, at, hash)
      JOIN audit_pending p ON p.id = c.id
     ORDER BY c.seq;
    DELETE FROM audit_pending WHERE id = ANY (ids);
    RETURN cardinality(ids);
END;
$$;

-- CREATE OR REPLACE keeps the owner and the grants, not the settings: fix the search path again.
DO $$
BEGIN
    EXECUTE format(
        'ALTER FUNCTION audit_chain_pending(integer) SET search_path = pg_catalog, %I, pg_temp',
        current_schema());
END;
$$;

-- Time filters find their first event through this index (at, then seq for equal times).
DROP INDEX audit_events_by_at;
CREATE INDEX audit_events_by_at ON audit_events (at, seq);
