-- With SUPPORT_REQUIRE_APPROVAL, a recovery the support desk starts waits for a second person
-- (`awaiting_approval`) until they approve it or it expires unapproved; who approved it, and
-- when, stay on the recovery.
ALTER TABLE recoveries DROP CONSTRAINT recoveries_status_known;
ALTER TABLE recoveries ADD CONSTRAINT recoveries_status_known CHECK (status IN (
    'awaiting_approval', 'requested', 'code_sent', 'not_eligible', 'rate_limited', 'resetting',
    'scheduled', 'completed', 'superseded', 'locked', 'cancelled', 'failed'));
ALTER TABLE recoveries ADD COLUMN approved_by text, ADD COLUMN approved_at timestamptz;
CREATE INDEX recoveries_awaiting_approval ON recoveries (created_at)
    WHERE status = 'awaiting_approval';
