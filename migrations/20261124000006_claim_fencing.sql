-- Fencing: every claim of a reset gets a fresh id, and completing, failing or handing over the
-- reset requires it, so a holder that outlived its lease cannot write over the one that took
-- the reset over.
ALTER TABLE recoveries ADD COLUMN claim_id uuid;
