-- Public lookups (jobs of kind `look_up`: the Cognito lookup and code email of a self-service
-- request) are taken after every other due job, newest first: during a flood of requests for
-- junk names, a request that just arrived is served within seconds whatever waits behind it,
-- and the support desk's recoveries and the security notices never wait behind lookups.
CREATE INDEX jobs_lookups_newest ON jobs (created_at DESC, id DESC)
    WHERE finished_at IS NULL AND kind = 'look_up';
CREATE INDEX jobs_due_first ON jobs (run_at, id)
    WHERE finished_at IS NULL AND kind <> 'look_up';

-- Names (by their keyed digest, as elsewhere) that Cognito just said it has no user for: looked
-- up again only after `until`, so that a flood of requests for the same junk name costs one
-- lookup a minute. No name in clear.
CREATE TABLE absent_names (
    name_key text        PRIMARY KEY,
    until    timestamptz NOT NULL
);
