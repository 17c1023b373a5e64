-- Retention that keeps proofs: `mfa-recovery audit archive --before DATE` writes the events up to
-- a published checkpoint to a file, then audit_archive() removes them. The cut (its seq, hash and
-- checkpoint) stays here, so verification goes on from it, and the archive itself is recorded
-- as an event (`audit.archived`).
CREATE TABLE audit_cuts (
    seq             bigint      PRIMARY KEY,
    head            text        NOT NULL,
    -- The checkpoint at the cut, as it was signed (its JSON).
    checkpoint      text        NOT NULL,
    archived_events bigint      NOT NULL,
    at              timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TRIGGER audit_cuts_append_only
    BEFORE UPDATE OR DELETE ON audit_cuts
    FOR EACH ROW EXECUTE FUNCTION audit_events_reject_change();
CREATE TRIGGER audit_cuts_no_truncate
    BEFORE TRUNCATE ON audit_cuts
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_reject_change();

-- The append-only refusal lets exactly one thing through: audit_archive() deleting events up to
-- the cut it set for its own transaction. (The setting opens nothing by itself: deleting still
-- takes the DELETE privilege, which only the owner has.)
CREATE OR REPLACE FUNCTION audit_events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'audit_events' AND TG_OP = 'DELETE' AND TG_LEVEL = 'ROW'
       AND OLD.seq <= coalesce(nullif(current_setting('mfa_recovery.archive_cut', true), '')::bigint, 0)
    THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Removes the chained events up to cut_seq, whose hash must be cut_head (the checkpoint's), under
-- the chain's lock; records the cut and an `audit.archived` event by `actor`. Returns how many
-- events it removed. For the owner (the CLI), never the serving role.
CREATE FUNCTION audit_archive(cut_seq bigint, cut_head text, checkpoint text, actor text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    first_seq bigint;
    removed bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(7883095260043502697);
    IF (SELECT e.hash FROM audit_events e WHERE e.seq = cut_seq) IS DISTINCT FROM cut_head THEN
        RAISE EXCEPTION 'event % is not in the log with the checkpoint''s hash: nothing archived', cut_seq;
    END IF;
    SELECT min(e.seq) INTO first_seq FROM audit_events e;
    PERFORM set_config('mfa_recovery.archive_cut', cut_seq::text, true);
    DELETE FROM audit_events WHERE seq <= cut_seq;
    GET DIAGNOSTICS removed = ROW_COUNT;
    PERFORM set_config('mfa_recovery.archive_cut', '', true);
    INSERT INTO audit_cuts (seq, head, checkpoint, archived_events)
    VALUES (cut_seq, cut_head, checkpoint, removed);
    INSERT INTO audit_pending (action, actor, outcome, detail)
    VALUES ('audit.archived', actor, 'success',
            format('events %s to %s archived (%s); the log goes on after event %s, hash %s',
                   first_seq, cut_seq, removed, cut_seq, cut_head));
    RETURN removed;
END;
$$;

DO $$
BEGIN
    EXECUTE format(
        'ALTER FUNCTION audit_archive(bigint, text, text, text) SET search_path = pg_catalog, %I, pg_temp',
        current_schema());
END;
$$;

REVOKE ALL ON FUNCTION audit_archive(bigint, text, text, text) FROM PUBLIC;

-- The sequencer, when every event was archived, chains the next one after the cut's hash.
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
    IF NOT FOUND THEN
        -- Everything was archived: the chain goes on from the last cut.
        SELECT c.head INTO previous FROM audit_cuts c ORDER BY c.seq DESC LIMIT 1;
    END IF;
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

