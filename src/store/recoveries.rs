//! Recoveries' SQL. Every change of state applies a named `Transition` in one statement: the
//! statement matches only rows in one of the transition's from-states, and reports whether it
//! applied.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::Writes;
use crate::domain::{Initiator, Moved, RecoveryStatus, Transition};

#[derive(Clone, sqlx::FromRow)]
pub struct RecoveryRow {
    pub id: Uuid,
    pub username: String,
    /// The Cognito username once the name proved to be a user's.
    pub account_key: Option<String>,
    /// The keyed hash of the name's normal form (see `domain::NameKeys`).
    pub name_key: Option<String>,
    /// The name as typed, until the job has looked it up.
    pub typed_name: Option<String>,
    pub email_hint: Option<String>,
    pub status: RecoveryStatus,
    pub initiated_by: Initiator,
    pub reason: Option<String>,
    /// The support desk's ticket reference.
    pub ticket: Option<String>,
    /// How the agent verified the caller (`call_back`, ..., `other: <words>`).
    pub verification: Option<String>,
    /// The second person who approved it (`SUPPORT_REQUIRE_APPROVAL`), and when.
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub code_hash: Option<String>,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub issued_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub request_ip: Option<String>,
    /// The client address block the request came from (`None` when staff started it).
    pub request_prefix: Option<String>,
    pub user_agent: Option<String>,
    pub completed_ip: Option<String>,
    pub locked_ip: Option<String>,
    pub reset_at: Option<DateTime<Utc>>,
    /// When SES accepted the email with the current code (`None`: not sent yet).
    pub code_delivered_at: Option<DateTime<Utc>>,
    /// When SES accepted the scheduled reset's notice (its waiting period starts there).
    pub notice_sent_at: Option<DateTime<Utc>>,
    /// The reset turned SMS MFA off (`RECOVERY_FACTORS=totp,sms`).
    pub sms_removed: bool,
    /// The language the person asked in (a shipped language's tag): its emails are written
    /// in it. `None`: the user's own `locale`, else the default.
    pub language: Option<String>,
}

impl RecoveryRow {
    /// The Cognito username the recovery acts on: the account's own name once it was looked
    /// up, the name as typed before.
    pub fn account(&self) -> &str {
        self.account_key
            .as_deref()
            .or(self.typed_name.as_deref())
            .unwrap_or(&self.username)
    }
}

/// The code hash never reaches a log, even through `{:?}`.
impl std::fmt::Debug for RecoveryRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryRow")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("initiated_by", &self.initiated_by)
            .field("attempts", &self.attempts)
            .field("code_hash", &self.code_hash.as_ref().map(|_| "[redacted]"))
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "id, username, account_key, name_key, typed_name, email_hint, status, initiated_by, reason, ticket, verification, approved_by, approved_at, code_hash, \
     attempts, created_at, issued_at, expires_at, finished_at, request_ip, request_prefix, user_agent, completed_ip, \
     locked_ip, reset_at, code_delivered_at, notice_sent_at, sms_removed, language";

pub struct NewRecovery<'a> {
    pub id: Uuid,
    /// `requested`, or `awaiting_approval` for a support request that needs a second person.
    pub status: RecoveryStatus,
    /// How the name is recorded: the Cognito username when known, else redacted.
    pub username: &'a str,
    pub name_key: &'a str,
    /// The name as typed, for the job's lookup (`None` when the account is already known).
    pub typed_name: Option<&'a str>,
    /// The Cognito username when it is already known (support requests look the user up first).
    pub account_key: Option<&'a str>,
    pub initiated_by: &'a Initiator,
    pub reason: Option<&'a str>,
    pub ticket: Option<&'a str>,
    pub verification: Option<&'a str>,
    /// When it was asked for, by the service's clock.
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub request_ip: Option<&'a str>,
    pub request_prefix: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub language: Option<&'a str>,
}

/// Adds the insertion of `new` recoveries (one statement for all: each column bound as one
/// array) to `writes`.
pub fn insert<'a>(writes: &mut Writes<'a>, new: &[NewRecovery<'a>]) {
    let column = |f: fn(&NewRecovery<'a>) -> Option<&'a str>| new.iter().map(f).collect::<Vec<_>>();
    let ids: Vec<Uuid> = new.iter().map(|n| n.id).collect();
    let usernames = column(|n| Some(n.username));
    let initiated_by: Vec<String> = new.iter().map(|n| n.initiated_by.stored()).collect();
    let reasons = column(|n| n.reason);
    let tickets = column(|n| n.ticket);
    let verifications = column(|n| n.verification);
    let created_at: Vec<DateTime<Utc>> = new.iter().map(|n| n.created_at).collect();
    let expires_at: Vec<DateTime<Utc>> = new.iter().map(|n| n.expires_at).collect();
    let request_ips = column(|n| n.request_ip);
    let user_agents = column(|n| n.user_agent);
    let account_keys = column(|n| n.account_key);
    let request_prefixes = column(|n| n.request_prefix);
    let name_keys = column(|n| Some(n.name_key));
    let typed_names = column(|n| n.typed_name);
    let languages = column(|n| n.language);
    let statuses: Vec<&'static str> = new.iter().map(|n| n.status.as_str()).collect();
    writes.add(|sql| {
        sql.push(
            "INSERT INTO recoveries (id, username, status, initiated_by, reason, created_at, expires_at,
                                     request_ip, user_agent, account_key, request_prefix, name_key, typed_name,
                                     ticket, verification, language)
             SELECT id, username, status, initiated_by, reason, created_at, expires_at, request_ip, user_agent, account_key,
                    request_prefix, name_key, typed_name, ticket, verification, language FROM unnest(",
        )
        .push_bind(ids)
        .push("::uuid[], ")
        .push_bind(usernames)
        .push("::text[], ")
        .push_bind(initiated_by)
        .push("::text[], ")
        .push_bind(reasons)
        .push("::text[], ")
        .push_bind(created_at)
        .push("::timestamptz[], ")
        .push_bind(expires_at)
        .push("::timestamptz[], ")
        .push_bind(request_ips)
        .push("::text[], ")
        .push_bind(user_agents)
        .push("::text[], ")
        .push_bind(account_keys)
        .push("::text[], ")
        .push_bind(request_prefixes)
        .push("::text[], ")
        .push_bind(name_keys)
        .push("::text[], ")
        .push_bind(typed_names)
        .push("::text[], ")
        .push_bind(tickets)
        .push("::text[], ")
        .push_bind(verifications)
        .push("::text[], ")
        .push_bind(statuses)
        .push("::text[], ")
        .push_bind(languages)
        .push(
            "::text[]) AS r(id, username, initiated_by, reason, created_at, expires_at, request_ip,
                           user_agent, account_key, request_prefix, name_key, typed_name, ticket,
                           verification, status, language)",
        );
    });
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<RecoveryRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM recoveries WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<RecoveryRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM recoveries WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Serialises what counts against one name (issuing codes, confirmation attempts) across every
/// instance of the service, so that limits and superseding cannot race. Keyed by `name_key`
/// (or, for the support desk's quota, the Cognito username). Released at commit.
pub async fn lock_account(conn: &mut PgConnection, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7301))")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many recoveries of the account were issued lately (a code sent, or the same step for an
/// ineligible name), by whom and from where.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct IssueCounts {
    /// Self-service recoveries issued in the last hour, from every address.
    pub account_hour: i64,
    /// ... and in the last 24 hours.
    pub account_day: i64,
    /// Self-service recoveries issued in the last hour to requests from this address block.
    pub prefix_hour: i64,
    /// ... and in the last 24 hours.
    pub prefix_day: i64,
}

pub async fn issue_counts(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    name_key: &str,
    prefix: Option<&str>,
) -> Result<IssueCounts, sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE issued_at > $4 - interval '1 hour') AS account_hour,
                count(*) AS account_day,
                count(*) FILTER (WHERE issued_at > $4 - interval '1 hour'
                                 AND request_prefix IS NOT DISTINCT FROM $3) AS prefix_hour,
                count(*) FILTER (WHERE request_prefix IS NOT DISTINCT FROM $3) AS prefix_day
         FROM recoveries
         WHERE name_key = $1 AND initiated_by = $2 AND issued_at > $4 - interval '1 day'",
    )
    .bind(name_key)
    .bind(Initiator::User)
    .bind(prefix)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Recoveries the support desk started for the account in the last 24 hours.
pub async fn support_requests_last_day(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    account_key: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM recoveries
         WHERE account_key = $1 AND initiated_by <> $2 AND created_at > $3 - interval '1 day'",
    )
    .bind(account_key)
    .bind(Initiator::User)
    .bind(now)
    .fetch_one(conn)
    .await
}

fn moved(result: sqlx::postgres::PgQueryResult) -> Moved {
    Moved(result.rows_affected() == 1)
}

/// Applies `transition` if the recovery is in one of its from-states. Leaving a usable state
/// drops the code hash; a final state records when it ended.
pub async fn apply(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    transition: Transition,
) -> Result<Moved, sqlx::Error> {
    let to = transition.to();
    let result = sqlx::query(
        "UPDATE recoveries
         SET status = $3,
             code_hash = CASE WHEN $4 THEN code_hash END,
             claimed_until = NULL,
             finished_at = CASE WHEN $5 THEN $6 END
         WHERE id = $1 AND status = ANY($2)",
    )
    .bind(id)
    .bind(transition.from())
    .bind(to)
    .bind(to.keeps_code_hash())
    .bind(to.is_final())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(moved(result))
}

/// Over an email limit: the recovery ends without a code (and the typed name goes).
pub async fn mark_rate_limited(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    account_key: Option<&str>,
    username: &str,
) -> Result<Moved, sqlx::Error> {
    let t = Transition::RateLimited;
    let result = sqlx::query(
        "UPDATE recoveries
         SET status = $3, account_key = $4, username = $5, typed_name = NULL, finished_at = $6
         WHERE id = $1 AND status = ANY($2)",
    )
    .bind(id)
    .bind(t.from())
    .bind(t.to())
    .bind(account_key)
    .bind(username)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(moved(result))
}

pub struct Issued<'a> {
    pub id: Uuid,
    /// The Cognito username, for a name that is a user's.
    pub account_key: Option<&'a str>,
    /// How the name is recorded from now on.
    pub username: &'a str,
    /// `Transition::CodeSent`, or `Transition::NotEligible` (no hash, no hint).
    pub transition: Transition,
    pub code_hash: Option<&'a str>,
    /// The SHA-256 of the code email's confirmation link, when it carries one.
    pub link_hash: Option<&'a str>,
    pub email_hint: Option<&'a str>,
    pub ttl_seconds: i64,
}

/// The recovery now holds a code (or stands in for one, for an ineligible name), valid for
/// `ttl_seconds` from now.
pub async fn mark_issued(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    issued: Issued<'_>,
) -> Result<Moved, sqlx::Error> {
    let t = issued.transition;
    let result = sqlx::query(
        "UPDATE recoveries
         SET status = $3, account_key = $4, code_hash = $5, email_hint = $6, issued_at = $9,
             expires_at = $9 + make_interval(secs => $7), attempts = 0,
             username = $8, typed_name = NULL,
             confirm_link_hash = $10, confirm_link_attempts = 0
         WHERE id = $1 AND status = ANY($2)",
    )
    .bind(issued.id)
    .bind(t.from())
    .bind(t.to())
    .bind(issued.account_key)
    .bind(issued.code_hash)
    .bind(issued.email_hint)
    .bind(issued.ttl_seconds as f64)
    .bind(issued.username)
    .bind(now)
    .bind(issued.link_hash)
    .execute(conn)
    .await?;
    Ok(moved(result))
}

/// Which other recoveries stop being usable.
#[derive(Debug, Clone, Copy)]
pub enum Superseding<'a> {
    /// Those asked for with the same name from the same address block (`None`: those the
    /// support desk started), when a new code goes out: a request from elsewhere never kills
    /// the owner's code.
    SameOrigin {
        name_key: &'a str,
        prefix: Option<&'a str>,
    },
    /// All of the account's, whatever name they were asked for with, once its reset is done.
    Account(&'a str),
}

/// The email with this code (by its hash) was handed to SES.
pub async fn mark_delivered(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    code_hash: &str,
) -> Result<Moved, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE recoveries SET code_delivered_at = $3
         WHERE id = $1 AND code_hash = $2 AND code_delivered_at IS NULL",
    )
    .bind(id)
    .bind(code_hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(moved(result))
}

/// A code that was committed but never marked sent is replaced by a fresh one, valid for
/// `ttl_seconds` from now (the unsent one stops working).
pub async fn replace_undelivered_code(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    code_hash: &str,
    link_hash: Option<&str>,
    ttl_seconds: i64,
) -> Result<Moved, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE recoveries
         SET code_hash = $2, issued_at = $5, expires_at = $5 + make_interval(secs => $3),
             attempts = 0, confirm_link_hash = $6, confirm_link_attempts = 0
         WHERE id = $1 AND status = $4 AND code_delivered_at IS NULL",
    )
    .bind(id)
    .bind(code_hash)
    .bind(ttl_seconds as f64)
    .bind(RecoveryStatus::CodeSent)
    .bind(now)
    .bind(link_hash)
    .execute(conn)
    .await?;
    Ok(moved(result))
}

/// The scheduled reset's notice was handed to SES: its waiting period of `delay_seconds` starts
/// now. Returns when the reset will be applied (`None`: not scheduled, or already marked).
pub async fn mark_scheduled_notice_sent(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    delay_seconds: f64,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE recoveries
         SET notice_sent_at = $4, reset_at = $4 + make_interval(secs => $2)
         WHERE id = $1 AND status = $3 AND notice_sent_at IS NULL
         RETURNING reset_at",
    )
    .bind(id)
    .bind(delay_seconds)
    .bind(RecoveryStatus::Scheduled)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Every other recovery in `scope` that could still be confirmed stops being usable; returns
/// their ids.
pub async fn supersede_others(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    keep: Uuid,
    scope: Superseding<'_>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let t = Transition::Supersede;
    let (name_key, prefix, account) = match scope {
        Superseding::SameOrigin { name_key, prefix } => (Some(name_key), prefix, None),
        Superseding::Account(account) => (None, None, Some(account)),
    };
    sqlx::query_scalar(
        "UPDATE recoveries SET status = $3, code_hash = NULL, typed_name = NULL, finished_at = $7
         WHERE id <> $1 AND status = ANY($2)
           AND (($4::text IS NOT NULL AND name_key = $4 AND request_prefix IS NOT DISTINCT FROM $5)
                OR account_key = $6)
         RETURNING id",
    )
    .bind(keep)
    .bind(t.from())
    .bind(t.to())
    .bind(name_key)
    .bind(prefix)
    .bind(account)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// The open recoveries of the name requested from `prefix` lock (too many wrong confirmations
/// from there), those whose code is still on its way included; returns them, newest first.
pub async fn lock_from_prefix(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    name_key: &str,
    prefix: &str,
) -> Result<Vec<RecoveryRow>, sqlx::Error> {
    let t = Transition::Lock;
    let mut locked: Vec<RecoveryRow> = sqlx::query_as(&format!(
        "UPDATE recoveries SET status = $4, code_hash = NULL, claimed_until = NULL, finished_at = $5
         WHERE name_key = $1 AND request_prefix = $2 AND status = ANY($3)
           AND expires_at > $5
         RETURNING {COLUMNS}"
    ))
    .bind(name_key)
    .bind(prefix)
    .bind(t.from())
    .bind(t.to())
    .bind(now)
    .fetch_all(conn)
    .await?;
    locked.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    Ok(locked)
}

/// Every confirmation compares the code with this many hashes, no more and no fewer (dummies
/// make up the rest), so that its time does not depend on what is live for the name. The issuing
/// limits keep fewer alive with the default settings (a code per address block, 3 an hour); when
/// more are, the block's own come first, then the support desk's, then the newest.
pub const COMPARED: usize = 4;

/// The recoveries a confirmation for a name from address block `prefix` is judged against: every
/// issued one that has neither ended nor expired, asked for with this name (by its key) or
/// belonging to the user whose Cognito username it is. At most `COMPARED`: those asked for from
/// `prefix` first (codes asked for from other blocks never push the owner's own out), then the
/// support desk's, then the newest.
/// Not row-locked: the account's advisory lock orders attempts, and every change of state is a
/// conditional statement of its own.
pub async fn live_for(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    name_key: &str,
    typed: &str,
    prefix: &str,
) -> Result<Vec<RecoveryRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM recoveries
         WHERE (name_key = $1 OR account_key = $4) AND issued_at IS NOT NULL
           AND status = ANY($2) AND expires_at > $5
         ORDER BY request_prefix IS NOT DISTINCT FROM $6 DESC, initiated_by <> 'user' DESC,
                  issued_at DESC, created_at DESC
         LIMIT $3"
    ))
    .bind(name_key)
    .bind(RecoveryStatus::MATCHED)
    .bind(COMPARED as i64)
    .bind(typed)
    .bind(now)
    .bind(prefix)
    .fetch_all(conn)
    .await
}

pub async fn count_attempt(conn: &mut PgConnection, id: Uuid) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE recoveries SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Gives back an attempt that failed through no fault of the user (Cognito unreachable).
pub async fn refund_attempt(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE recoveries SET attempts = greatest(attempts - 1, 0) WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The reset was applied and read back: the recovery is done. Its code's hash stays until the
/// confirmation is answered (`code_used`) or the code expires, so that someone who was answered
/// 503 meanwhile can retry with it.
pub async fn complete(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    claim: Uuid,
    ip: Option<&str>,
    sms_removed: bool,
) -> Result<Moved, sqlx::Error> {
    let t = Transition::Complete;
    let result = sqlx::query(
        "UPDATE recoveries
         SET status = $3, claimed_until = NULL, finished_at = $7,
             completed_ip = coalesce($4, completed_ip), cancel_token_hash = NULL,
             sms_removed = sms_removed OR $6
         WHERE id = $1 AND status = ANY($2) AND claim_id = $5",
    )
    .bind(id)
    .bind(t.from())
    .bind(t.to())
    .bind(ip)
    .bind(claim)
    .bind(sms_removed)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(moved(result))
}

/// The reset under `claim` removed SMS MFA (read back), before its later steps: recorded at
/// once, so that a reset retried after an outage, which finds SMS already off, still tells the
/// user to set a new number.
pub async fn sms_removed(db: &sqlx::PgPool, id: Uuid, claim: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE recoveries SET sms_removed = true WHERE id = $1 AND claim_id = $2")
        .bind(id)
        .bind(claim)
        .execute(db)
        .await?;
    Ok(())
}

/// A confirmation was answered for this code: it is used.
/// A try of the code email's confirmation link whose SHA-256 is `link_hash`, counted (the row
/// stays locked to the transaction's end): its recovery and the tries so far, this one included.
/// The link works until its code expires, unless its recovery ended otherwise than by a lock
/// (superseded, cancelled, used): wrong codes lock the code, never the link.
pub async fn try_confirm_link(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    link_hash: &str,
) -> Result<Option<(RecoveryRow, i32)>, sqlx::Error> {
    use RecoveryStatus::{CodeSent, Completed, Locked, Resetting};
    let tried: Option<(Uuid, i32)> = sqlx::query_as(
        "UPDATE recoveries SET confirm_link_attempts = confirm_link_attempts + 1
         WHERE confirm_link_hash = $1 AND status = ANY($2) AND expires_at > $3
         RETURNING id, confirm_link_attempts",
    )
    .bind(link_hash)
    .bind([CodeSent, Resetting, Completed, Locked])
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((id, tries)) = tried else {
        return Ok(None);
    };
    Ok(get(conn, id).await?.map(|row| (row, tries)))
}

/// A try of the confirmation link that was never judged (the identity provider did not answer)
/// stops counting.
pub async fn refund_confirm_link(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE recoveries SET confirm_link_attempts = greatest(confirm_link_attempts - 1, 0)
         WHERE id = $1",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The confirmation link stops working (too many wrong passwords with it); the code does not.
pub async fn end_confirm_link(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE recoveries SET confirm_link_hash = NULL WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn code_used(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE recoveries SET code_hash = NULL, confirm_link_hash = NULL WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A reset whose holder's lease ran out is taken over (by the job that finishes it); returns
/// the new claim's id.
pub async fn take_over_reset(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    lease_seconds: i64,
) -> Result<Option<Uuid>, sqlx::Error> {
    claim(
        conn,
        now,
        id,
        &[RecoveryStatus::Resetting],
        lease_seconds,
        false,
    )
    .await
}

/// The holder of `claim` is still at work: its lease runs `lease_seconds` from `now` (the
/// heartbeat). False when the claim is no longer the reset's (taken over, or finished).
pub async fn renew_claim(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    claim: Uuid,
    lease_seconds: i64,
) -> Result<bool, sqlx::Error> {
    let renewed = sqlx::query(
        "UPDATE recoveries SET claimed_until = $4 + make_interval(secs => $5)
         WHERE id = $1 AND status = $2 AND claim_id = $3",
    )
    .bind(id)
    .bind(RecoveryStatus::Resetting)
    .bind(claim)
    .bind(now)
    .bind(lease_seconds as f64)
    .execute(conn)
    .await?;
    Ok(renewed.rows_affected() == 1)
}

/// When the lease of the reset's holder runs out (`None`: nobody holds it).
pub async fn claimed_until(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar("SELECT claimed_until FROM recoveries WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
        .map(Option::flatten)
}

/// The holder of a reset lets its lease go at once, so that the job finishing the reset may
/// take over without waiting (the recovery stays `resetting`: it never goes back).
pub async fn hand_over_reset(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    claim: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE recoveries SET claimed_until = $4
         WHERE id = $1 AND status = $2 AND claim_id = $3",
    )
    .bind(id)
    .bind(RecoveryStatus::Resetting)
    .bind(claim)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The reset failed (Cognito answered, but the read-back disagrees), by the holder of `claim`.
pub async fn fail_reset(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    claim: Uuid,
) -> Result<Moved, sqlx::Error> {
    let t = Transition::FailReset;
    let result = sqlx::query(
        "UPDATE recoveries
         SET status = $3, code_hash = NULL, claimed_until = NULL, finished_at = $5
         WHERE id = $1 AND status = ANY($2) AND claim_id = $4",
    )
    .bind(id)
    .bind(t.from())
    .bind(t.to())
    .bind(claim)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(moved(result))
}

/// The confirmed reset waits until `now + delay_seconds`; returns when it will be applied, or
/// `None` when the recovery was not being reset.
pub async fn schedule(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    delay_seconds: f64,
    ip: Option<&str>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let t = Transition::Schedule;
    sqlx::query_scalar(
        "UPDATE recoveries
         SET status = $3, code_hash = NULL, claimed_until = NULL, completed_ip = $5,
             reset_at = $6 + make_interval(secs => $4)
         WHERE id = $1 AND status = ANY($2) RETURNING reset_at",
    )
    .bind(id)
    .bind(t.from())
    .bind(t.to())
    .bind(delay_seconds)
    .bind(ip)
    .bind(now)
    .fetch_optional(conn)
    .await
}

pub async fn set_cancel_token(
    conn: &mut PgConnection,
    id: Uuid,
    token_hash: &str,
) -> Result<Moved, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE recoveries SET cancel_token_hash = $2 WHERE id = $1 AND status = ANY($3)",
    )
    .bind(id)
    .bind(token_hash)
    .bind(Transition::CancelByLink.from())
    .execute(conn)
    .await?;
    Ok(moved(result))
}

/// Cancels the scheduled reset whose cancel link carries this token (by its hash), if it has
/// not been applied yet.
pub async fn cancel_scheduled(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    token_hash: &str,
) -> Result<Option<RecoveryRow>, sqlx::Error> {
    let t = Transition::CancelByLink;
    sqlx::query_as(&format!(
        "UPDATE recoveries
         SET status = $3, cancel_token_hash = NULL, finished_at = $4
         WHERE cancel_token_hash = $1 AND status = ANY($2) RETURNING {COLUMNS}"
    ))
    .bind(token_hash)
    .bind(t.from())
    .bind(t.to())
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Takes the recovery for applying its reset: only one holder at a time, known by the claim id
/// returned (the fencing token every later transition of the reset requires). A holder that
/// died lets go when its lease runs out.
pub async fn claim_for_reset(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    how: Transition,
    lease_seconds: i64,
) -> Result<Option<Uuid>, sqlx::Error> {
    claim(conn, now, id, how.from(), lease_seconds, true).await
}

/// Takes a scheduled reset whose waiting period is over for applying it (or one whose previous
/// holder's lease ran out); returns the claim's id.
pub async fn claim_scheduled(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    lease_seconds: i64,
) -> Result<Option<Uuid>, sqlx::Error> {
    claim(
        conn,
        now,
        id,
        Transition::ClaimScheduled.from(),
        lease_seconds,
        false,
    )
    .await
}

/// The one claim of a reset: from one of `from` into `resetting`, unless another holder's lease
/// is still running (and, for a confirmation, only while its code lives), with a lease of
/// `lease_seconds` and a fresh claim id.
async fn claim(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    from: &[RecoveryStatus],
    lease_seconds: i64,
    code_must_be_live: bool,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE recoveries
         SET status = $3, claimed_until = $6 + make_interval(secs => $4),
             claim_id = gen_random_uuid(), finished_at = NULL
         WHERE id = $1 AND status = ANY($2) AND (NOT $5 OR expires_at > $6)
           AND (status <> $3 OR claimed_until IS NULL OR claimed_until < $6)
         RETURNING claim_id",
    )
    .bind(id)
    .bind(from)
    .bind(RecoveryStatus::Resetting)
    .bind(lease_seconds as f64)
    .bind(code_must_be_live)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// A user's recoveries under either of their names, newest first.
pub async fn list_for(
    conn: &mut PgConnection,
    name_key: &str,
    typed: &str,
) -> Result<Vec<RecoveryRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM recoveries WHERE name_key = $1 OR account_key = $2
         ORDER BY created_at DESC LIMIT 100"
    ))
    .bind(name_key)
    .bind(typed)
    .fetch_all(conn)
    .await
}

/// A second person approves a recovery waiting for approval and not lapsed: it becomes
/// `requested`, its code's lifetime starting now (`expires_at`).
pub async fn approve(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: Uuid,
    approver: &str,
    expires_at: DateTime<Utc>,
) -> Result<Moved, sqlx::Error> {
    let t = Transition::Approve;
    let result = sqlx::query(
        "UPDATE recoveries SET status = $3, approved_by = $4, approved_at = $5, expires_at = $6
         WHERE id = $1 AND status = ANY($2) AND expires_at > $5",
    )
    .bind(id)
    .bind(t.from())
    .bind(t.to())
    .bind(approver)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(moved(result))
}

/// The recoveries waiting for a second person's approval and not lapsed, oldest first.
pub async fn awaiting_approval(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<Vec<RecoveryRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM recoveries WHERE status = $1 AND expires_at > $2
         ORDER BY created_at LIMIT 200"
    ))
    .bind(RecoveryStatus::AwaitingApproval)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// Forgets names as typed that were never looked up (a recovery that locked or was cancelled
/// before its job ran) once a day has passed; returns how many.
pub async fn purge_typed_names(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE recoveries SET typed_name = NULL
         WHERE typed_name IS NOT NULL AND created_at < $1 - interval '1 day'",
    )
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Deletes the hashes of codes that expired unused; returns how many.
pub async fn purge_expired_hashes(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE recoveries SET code_hash = NULL
         WHERE code_hash IS NOT NULL AND expires_at < $2 AND status = ANY($1)",
    )
    .bind([RecoveryStatus::CodeSent, RecoveryStatus::Completed])
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected())
}

pub async fn set_locked_ip(
    conn: &mut PgConnection,
    id: Uuid,
    ip: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE recoveries SET locked_ip = $2 WHERE id = $1")
        .bind(id)
        .bind(ip)
        .execute(conn)
        .await?;
    Ok(())
}

/// Gives a completed recovery a one-time enrollment link (by its hash), valid until
/// `expires_at`.
pub async fn set_enrol_link(
    conn: &mut PgConnection,
    id: Uuid,
    link_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<Moved, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE recoveries SET enrol_link_hash = $2, enrol_link_expires_at = $3, enrol_link_attempts = 0
         WHERE id = $1 AND status = $4",
    )
    .bind(id)
    .bind(link_hash)
    .bind(expires_at)
    .bind(RecoveryStatus::Completed)
    .execute(conn)
    .await?;
    Ok(moved(result))
}

/// The completed recovery whose live enrollment link has this hash, row-locked, with the
/// attempt of using it counted.
pub async fn lock_by_enrol_link(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    link_hash: &str,
) -> Result<Option<(RecoveryRow, i32)>, sqlx::Error> {
    let row: Option<RecoveryRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM recoveries
         WHERE enrol_link_hash = $1 AND enrol_link_expires_at > $3 AND status = $2
         FOR UPDATE"
    ))
    .bind(link_hash)
    .bind(RecoveryStatus::Completed)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let attempts: i32 = sqlx::query_scalar(
        "UPDATE recoveries SET enrol_link_attempts = enrol_link_attempts + 1 WHERE id = $1
         RETURNING enrol_link_attempts",
    )
    .bind(row.id)
    .fetch_one(conn)
    .await?;
    Ok(Some((row, attempts)))
}

/// The enrollment link stops working (used, or too many wrong passwords).
pub async fn end_enrol_link(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE recoveries SET enrol_link_hash = NULL, enrol_link_expires_at = NULL WHERE id = $1",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes up to `batch` recoveries that were over before `before` (finished, or expired while
/// waiting), with no job left and no enrollment open after it, with their enrollments; returns
/// how many recoveries. A recovery still being reset or scheduled is never taken.
pub async fn purge_over(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT r.id FROM recoveries r
          WHERE r.expires_at < $1
            AND coalesce(r.finished_at, r.expires_at) < $1
            AND r.status NOT IN ('resetting', 'scheduled')
            AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.recovery_id = r.id)
            AND NOT EXISTS (SELECT 1 FROM enrollments e
                             WHERE e.recovery_id = r.id AND e.expires_at >= $1)
          LIMIT $2",
    )
    .bind(before)
    .bind(batch)
    .fetch_all(&mut *conn)
    .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    sqlx::query("DELETE FROM enrollments WHERE recovery_id = ANY($1)")
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
    Ok(sqlx::query("DELETE FROM recoveries WHERE id = ANY($1)")
        .bind(&ids)
        .execute(conn)
        .await?
        .rows_affected())
}
