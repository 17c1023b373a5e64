-- The reset-applied notice of a recovery can carry a one-time link that resumes the new
-- authenticator's enrollment (after a waiting period, or when the user left the page early):
-- stored only as its SHA-256, with its expiry and the wrong passwords typed with it.
ALTER TABLE recoveries
    ADD COLUMN enrol_link_hash       text,
    ADD COLUMN enrol_link_expires_at timestamptz,
    ADD COLUMN enrol_link_attempts   integer NOT NULL DEFAULT 0;

CREATE UNIQUE INDEX recoveries_by_enrol_link ON recoveries (enrol_link_hash)
    WHERE enrol_link_hash IS NOT NULL;
