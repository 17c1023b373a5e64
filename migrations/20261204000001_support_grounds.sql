-- What the support desk records when it starts a recovery, beside its reason: the ticket in the
-- company's tracker, and how the agent verified the caller (`call_back`, `manager`,
-- `in_person`, or `other: <words>`).
ALTER TABLE recoveries ADD COLUMN ticket text, ADD COLUMN verification text;

-- The person's username at the company's provider (`preferred_username`), beside their email:
-- an agent may not act on a pool account that carries either.
ALTER TABLE staff_sessions ADD COLUMN username text;
