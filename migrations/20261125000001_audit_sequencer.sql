-- The audit chain leaves the request path. A change records its event in its own transaction
-- with a plain INSERT into audit_pending (no global lock, so writes no longer queue behind one
-- another's commit); a sequencer, one at a time across all instances, moves pending events into
-- audit_events in batches, assigning each its seq and hash in chain order.
CREATE TABLE audit_pending (
    id          bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL,
    action      text        NOT NULL,
    actor       text        NOT NULL,
    username    text,
    recovery_id uuid,
    ip          text,
    user_agent  text,
    outcome     text        NOT NULL,
    detail      text
);

-- A pending event is never changed: it is only inserted, then moved by the sequencer (deleted in
-- the transaction that chains it).
CREATE TRIGGER audit_pending_never_changes
    BEFORE UPDATE ON audit_pending
    FOR EACH ROW EXECUTE FUNCTION audit_events_reject_change();

-- The chained part only grows at its end: an event is refused unless its seq follows every
-- event already there, so that nothing can be slipped into the chain out of order.
CREATE FUNCTION audit_events_only_at_the_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM audit_events WHERE seq >= NEW.seq) THEN
        RAISE EXCEPTION 'audit_events only grows at its end: seq % does not follow the last event', NEW.seq;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER audit_events_only_at_the_end
    BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_only_at_the_end();
