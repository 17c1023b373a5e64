-- The audit stream to SIEMs (AUDIT_WEBHOOK_URL, AUDIT_STREAM_FILE): per destination, the last
-- event delivered (at least once, in chain order), and when to try the next one again after a
-- failure (the service's clock). Its key names the destination without its secret parts.
CREATE TABLE audit_deliveries (
    destination     text        PRIMARY KEY,
    delivered_seq   bigint      NOT NULL DEFAULT 0,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_error      text,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
