-- Whether a completed reset turned the user's SMS MFA off (RECOVERY_FACTORS=totp,sms), so that
-- the notice asks for a new phone number.
ALTER TABLE recoveries ADD COLUMN sms_removed boolean NOT NULL DEFAULT false;
