-- The end-of-chain check ran `EXISTS (... WHERE seq >= NEW.seq)`, which PostgreSQL may plan (and
-- plpgsql then caches) as a sequential scan of the whole chain: every chained event read every
-- event before it, so chaining slowed down as the log grew (measured: 24k events read 294M rows,
-- most of PostgreSQL's CPU under the intake benchmark). `max(seq)` is always one descent of the
-- primary key's index, however large the chain.
CREATE OR REPLACE FUNCTION audit_events_only_at_the_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq <= (SELECT max(seq) FROM audit_events) THEN
        RAISE EXCEPTION 'audit_events only grows at its end: seq % does not follow the last event', NEW.seq;
    END IF;
    RETURN NEW;
END;
$$;
