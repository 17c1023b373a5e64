-- The Cognito call budget that every instance shares (COGNITO_CALLS_PER_SECOND): a token bucket
-- refilled at the configured rate times `factor`, which Cognito's throttling halves and each
-- call granted raises again by 1 % (at most 1). One row per budget; created by the service.
CREATE TABLE call_budgets (
    name        text             PRIMARY KEY,
    tokens      double precision NOT NULL,
    factor      double precision NOT NULL DEFAULT 1 CHECK (factor > 0 AND factor <= 1),
    refilled_at timestamptz      NOT NULL
);
