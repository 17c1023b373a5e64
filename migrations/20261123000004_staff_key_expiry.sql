-- Staff keys may expire (`mfa-recovery staff add --expires-in 90d`); an expired key is refused
-- like a revoked one.
ALTER TABLE staff_keys ADD COLUMN expires_at timestamptz;
