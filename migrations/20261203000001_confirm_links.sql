-- A code email also carries a one-time link bound to its recovery: a confirmation through it
-- needs only the password (when required), is not judged against the name's other codes, and
-- is not refused by the account's ceiling of wrong confirmations, so that guessing from
-- elsewhere can never shut out the person who holds the mailbox. Stored only as its SHA-256,
-- with the wrong passwords typed with it; it works while the recovery's code does.
ALTER TABLE recoveries
    ADD COLUMN confirm_link_hash     text,
    ADD COLUMN confirm_link_attempts integer NOT NULL DEFAULT 0;

CREATE UNIQUE INDEX recoveries_by_confirm_link ON recoveries (confirm_link_hash)
    WHERE confirm_link_hash IS NOT NULL;
