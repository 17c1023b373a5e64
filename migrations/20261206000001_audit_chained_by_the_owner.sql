-- Only the sequencer chains, and it is not the serving role. A review reproduced, with exactly
-- the serving role's grants, a session that held the chain's lock, deleted a real reset's pending
-- events and inserted a backdated event into the chain: `audit verify` said intact. From here:
--   * an event's time is the database's (clock_timestamp()), whatever the writer sends;
--   * the chain is extended only by audit_chain_pending(), which runs as the owner of this
--     schema (SECURITY DEFINER, fixed search_path) and computes every hash itself;
--   * the serving role may INSERT pending events and EXECUTE that function, nothing more on the
--     log (config/service-role-grants.sql: no DELETE on audit_pending, no INSERT on
--     audit_events).

CREATE FUNCTION audit_pending_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.at := clock_timestamp();
    RETURN NEW;
END;
$$;

ALTER TABLE audit_pending ALTER COLUMN at SET DEFAULT clock_timestamp();

CREATE TRIGGER audit_pending_stamped
    BEFORE INSERT ON audit_pending
    FOR EACH ROW EXECUTE FUNCTION audit_pending_stamp();

-- The event hash, exactly as src/audit/chain.rs computes it (version 1 of the canonical
-- encoding, docs/SECURITY.md): hex(SHA-256(previous || "\n" || compact JSON of v, seq, at,
-- action, actor, username, recovery_id, ip, user_agent, outcome, detail in this order)), `at` in
-- RFC 3339 UTC to the microsecond. PostgreSQL's to_json escapes strings as serde_json does
-- (\" \\ \b \f \n \r \t, other control characters as \u00xx, the rest as UTF-8); a test
-- compares the two on awkward strings.
CREATE FUNCTION audit_event_hash(
    previous text, seq bigint, at timestamptz, action text, actor text, username text,
    recovery_id uuid, ip text, user_agent text, outcome text, detail text
) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog AS $$
    SELECT encode(sha256(convert_to(
        previous || E'\n'
        || '{"v":1,"seq":' || seq::text
        || ',"at":' || to_json(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text
        || ',"action":' || to_json(action)::text
        || ',"actor":' || to_json(actor)::text
        || ',"username":' || coalesce(to_json(username)::text, 'null')
        || ',"recovery_id":' || coalesce(to_json(recovery_id)::text, 'null')
        || ',"ip":' || coalesce(to_json(ip)::text, 'null')
        || ',"user_agent":' || coalesce(to_json(user_agent)::text, 'null')
        || ',"outcome":' || to_json(outcome)::text
        || ',"detail":' || coalesce(to_json(detail)::text, 'null')
        || '}', 'UTF8')), 'hex')
$$;

-- The sequencer's step: under the chain's lock (tried, not waited for: 0 when another holds it),
-- chains the oldest pending events, at most max_events, after the chain's end, and removes them
-- from audit_pending, in the caller's transaction. Returns how many it chained.
CREATE FUNCTION audit_chain_pending(max_events integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    previous text;
    event audit_pending%ROWTYPE;
    ids bigint[] := '{}';
    seqs bigint[] := '{}';
    hashes text[] := '{}';
    next_seq bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(7883095260043502697) THEN
        RETURN 0;
    END IF;
    SELECT e.hash INTO previous FROM audit_events e ORDER BY e.seq DESC LIMIT 1;
    previous := coalesce(previous, '');
    FOR event IN
        SELECT * FROM audit_pending p ORDER BY p.id LIMIT greatest(max_events, 0)
    LOOP
        next_seq := nextval('audit_events_seq_seq');
        previous := audit_event_hash(
            previous, next_seq, event.at, event.action, event.actor, event.username,
            event.recovery_id, event.ip, event.user_agent, event.outcome, event.detail);
        ids := ids || event.id;
        seqs := seqs || next_seq;
        hashes := hashes || previous;
    END LOOP;
    IF cardinality(ids) = 0 THEN
        RETURN 0;
    END IF;
    INSERT INTO audit_events
        (seq, at, action, actor, username, recovery_id, ip, user_agent, outcome, detail, hash)
    SELECT c.seq, p.at, p.action, p.actor, p.username, p.recovery_id, p.ip, p.user_agent,
           p.outcome, p.detail, c.hash
      FROM unnest(ids, seqs, hashes) AS c(id, seq, hash)
      JOIN audit_pending p ON p.id = c.id
     ORDER BY c.seq;
    DELETE FROM audit_pending WHERE id = ANY (ids);
    RETURN cardinality(ids);
END;
$$;

-- Its search path is fixed to the built-ins, then the schema the log is in (the one these
-- migrations run in), then nothing the caller could create: names in it, and in the triggers it
-- sets off, resolve to the log's own tables.
DO $$
BEGIN
    EXECUTE format(
        'ALTER FUNCTION audit_chain_pending(integer) SET search_path = pg_catalog, %I, pg_temp',
        current_schema());
END;
$$;

REVOKE ALL ON FUNCTION audit_chain_pending(integer) FROM PUBLIC;
