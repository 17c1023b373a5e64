-- The waiting period of a scheduled reset starts when its notice (with the cancel link) is handed
-- to SES, recorded here; a reset whose notice never went out is not applied.
ALTER TABLE recoveries ADD COLUMN notice_sent_at timestamptz;
-- Scheduled before this column existed: their notices went out with the old order.
UPDATE recoveries SET notice_sent_at = reset_at WHERE reset_at IS NOT NULL;
