//! Limits that make the public endpoints expensive to abuse, counted in Postgres so that every
//! instance shares them. If the counters cannot be read, requests are refused (fail closed).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::prelimit::PreLimit;
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::clock::Clock;
use crate::domain::{limit_key, Actor, ClientInfo};
use crate::settings::RecoverySettings;
use crate::store::attempts::{self, AttemptStats};
use crate::store::recoveries::IssueCounts;
use crate::store::{limits, Writes};

const HOUR: i64 = 3600;
const EMAIL_BUDGET_KEY: &str = "emails:global";
/// No growing delay is longer than this.
const MAX_CONFIRM_DELAY_SECONDS: f64 = 3600.0;

/// What an email is for: codes may not use the reserve kept for notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EmailKind {
    Code,
    Notice,
}

/// The hourly email budget of all instances (`RECOVERY_EMAILS_PER_HOUR`), split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct EmailBudget {
    pub per_hour: i64,
    /// Codes stop here: a tenth (at least one) is kept for notices, which tell owners what
    /// happened to their account and must not be crowded out by a flood of requests.
    pub for_codes: i64,
    /// The warning goes out when this many are used (80 %).
    pub warn_at: i64,
}

impl EmailBudget {
    pub fn new(per_hour: u32) -> Self {
        let per_hour = i64::from(per_hour);
        Self {
            per_hour,
            for_codes: per_hour - (per_hour / 10).max(1),
            warn_at: (per_hour * 4 / 5).max(1),
        }
    }
}

/// What one account, and one client address block within it, may use. Every window is rolling.
/// An address block's share is always below the account's ceiling, so that what one address does
/// never uses up what the owner's own request from another address gets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budgets {
    /// Self-service emails per account per hour (`RECOVERY_REQUESTS_PER_USER_PER_HOUR`).
    pub emails_per_hour: i64,
    /// ... one address block's share: one fewer (at least one).
    pub emails_per_hour_per_block: i64,
    /// Self-service emails per account per 24 hours (`RECOVERY_EMAILS_PER_USER_PER_DAY`).
    pub emails_per_day: i64,
    /// ... one address block's share: half (at least one).
    pub emails_per_day_per_block: i64,
    /// Wrong confirmations from one block since its last code, before its codes lock.
    pub attempts_per_code: i64,
    /// Wrong confirmations per account per 24 hours from every address, past which a block that
    /// holds no live recovery of the name (asked for from there) may not try at all. A block that
    /// holds one is never refused by it: its guesses are bounded by its own code (a few each, and
    /// the account gets only so many codes a day), so that guesses from elsewhere cannot lock out
    /// the owner who asked.
    pub failures_per_day: i64,
    /// ... one address block's share, when it holds a live recovery of the name: half (at
    /// least one).
    pub failures_per_day_per_block: i64,
    /// ... one address block's share, when it holds none: a tenth (at least one).
    pub failures_per_day_per_stranger: i64,
    /// Past `attempts_per_code` failures in the window, each further attempt from the block
    /// waits this long, doubled each time.
    pub delay_seconds: f64,
}

impl From<&RecoverySettings> for Budgets {
    fn from(rules: &RecoverySettings) -> Self {
        let hour = i64::from(rules.requests_per_user_per_hour);
        let day = i64::from(rules.emails_per_user_per_day);
        let failures = i64::from(rules.failed_confirms_per_account_per_day);
        Self {
            emails_per_hour: hour,
            emails_per_hour_per_block: (hour - 1).max(1),
            emails_per_day: day,
            emails_per_day_per_block: (day / 2).max(1),
            attempts_per_code: i64::from(rules.max_attempts),
            failures_per_day: failures,
            failures_per_day_per_block: (failures / 2).max(1),
            failures_per_day_per_stranger: (failures / 10).max(1),
            delay_seconds: rules.failed_confirm_delay.as_secs_f64(),
        }
    }
}

/// Why an address block may not try a confirmation now.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptRefused {
    /// Its codes locked after too many wrong confirmations; a new code opens it again.
    Locked,
    /// Too many wrong confirmations lately: retry after this many seconds.
    Throttled { retry_after: u64, why: String },
}

/// A confirmation attempt counted before anything is compared.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reservation {
    pub id: i64,
    /// Wrong confirmations from the block since its last code, this one included if it fails.
    pub failures_since_code: i64,
    /// Wrong confirmations for the account in 24 h, this one included if it fails.
    pub account_failures: i64,
}

/// One request's count against its client address: the counter's key and the address's limit.
#[derive(Debug, Clone)]
pub(super) struct ClientCount {
    pub key: String,
    limit: i64,
}

impl ClientCount {
    /// Adds the count (in the window that holds `now`) to `writes`, first: the writes added
    /// after it happen only when the address is within its limit.
    pub fn add_to(&self, writes: &mut Writes<'_>, now: DateTime<Utc>) {
        limits::hit_with(writes, now, self.key.clone(), HOUR, self.limit);
    }

    /// Whether the request this count counted is within the address's limit.
    pub fn within(&self, hit: &limits::Hit) -> bool {
        hit.hits <= self.limit
    }

    /// Counts each of `counts` (for distinct addresses) in one statement; each key's count.
    pub async fn count_each(
        conn: &mut sqlx::PgConnection,
        now: DateTime<Utc>,
        counts: &[&ClientCount],
    ) -> Result<std::collections::HashMap<String, limits::Hit>, sqlx::Error> {
        if counts.is_empty() {
            return Ok(Default::default());
        }
        let keys = counts.iter().map(|c| c.key.clone()).collect();
        Ok(limits::hit_each(conn, now, keys, HOUR)
            .await?
            .into_iter()
            .collect())
    }
}

fn client_ip(client: &ClientInfo) -> Option<std::net::IpAddr> {
    client.ip.as_deref().and_then(|ip| ip.parse().ok())
}

fn seconds(s: f64) -> u64 {
    s.ceil().max(1.0) as u64
}

/// Whether the address block a confirmation comes from holds a live recovery of the name it
/// asked for itself: the owner's own request, or someone who got the owner a code (each costs an
/// email to the owner, and the account gets only so many a day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Block {
    Holder,
    Stranger,
}

/// The rule for confirmation attempts (a pure function of the counts, tested below).
pub(super) fn attempt_allowed(
    b: &Budgets,
    s: &AttemptStats,
    block: Block,
) -> Result<(), AttemptRefused> {
    if block == Block::Stranger && s.account_failures >= b.failures_per_day {
        return Err(AttemptRefused::Throttled {
            retry_after: seconds(s.account_frees_in),
            why: format!(
                "{} wrong confirmations for this account in 24 h",
                s.account_failures
            ),
        });
    }
    if s.prefix_failures_since_code >= b.attempts_per_code {
        return Err(AttemptRefused::Locked);
    }
    let share = match block {
        Block::Holder => b.failures_per_day_per_block,
        Block::Stranger => b.failures_per_day_per_stranger,
    };
    if s.prefix_failures >= share {
        return Err(AttemptRefused::Throttled {
            retry_after: seconds(s.prefix_frees_in),
            why: format!(
                "{} wrong confirmations from this address in 24 h",
                s.prefix_failures
            ),
        });
    }
    if s.prefix_failures >= b.attempts_per_code {
        let doublings = i32::try_from(s.prefix_failures - b.attempts_per_code)
            .unwrap_or(i32::MAX)
            .min(30);
        let delay = (b.delay_seconds * 2f64.powi(doublings)).min(MAX_CONFIRM_DELAY_SECONDS);
        let since_last = s.since_last_prefix_failure.unwrap_or(f64::INFINITY);
        if since_last < delay {
            return Err(AttemptRefused::Throttled {
                retry_after: seconds(delay - since_last),
                why: format!("waiting {delay} s after repeated wrong confirmations"),
            });
        }
    }
    Ok(())
}

/// The rule for self-service emails: why this one may not go out, if it may not.
pub(super) fn email_refused(b: &Budgets, c: &IssueCounts) -> Option<String> {
    if c.account_hour >= b.emails_per_hour {
        Some(format!(
            "{} codes sent to this account in the last hour",
            c.account_hour
        ))
    } else if c.account_day >= b.emails_per_day {
        Some(format!(
            "{} codes sent to this account in 24 h",
            c.account_day
        ))
    } else if c.prefix_hour >= b.emails_per_hour_per_block {
        Some(format!(
            "{} codes sent to this account for this address in the last hour",
            c.prefix_hour
        ))
    } else if c.prefix_day >= b.emails_per_day_per_block {
        Some(format!(
            "{} codes sent to this account for this address in 24 h",
            c.prefix_day
        ))
    } else {
        None
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("over the limit; retry in {retry_after} s")]
    Limited { retry_after: u64 },
    #[error("the limit counters are unavailable")]
    Unavailable(#[source] sqlx::Error),
}

/// The limits, as one value the use cases receive: the shared counters in Postgres, the
/// in-memory pre-limit in front of them, and the budgets from the settings.
pub(super) struct Limits {
    db: PgPool,
    prelimit: PreLimit,
    budgets: Budgets,
    /// One client address's requests per endpoint per hour (`RECOVERY_REQUESTS_PER_IP_PER_HOUR`).
    per_address_per_hour: u32,
    /// Emails of all instances per hour (`RECOVERY_EMAILS_PER_HOUR`).
    emails_per_hour: u32,
    clock: Arc<dyn Clock>,
}

impl Limits {
    pub fn new(db: PgPool, rules: &RecoverySettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            db,
            prelimit: PreLimit::new(rules.requests_per_ip_per_hour),
            budgets: Budgets::from(rules),
            per_address_per_hour: rules.requests_per_ip_per_hour,
            emails_per_hour: rules.emails_per_hour,
            clock,
        }
    }

    /// The same limits, reading the time from `clock`.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Counts this request against its client address (per endpoint, per hour).
    pub async fn limit_client(
        &self,
        endpoint: &'static str,
        client: &ClientInfo,
    ) -> Result<(), LimitError> {
        self.prelimit_client(endpoint, client)?;
        let Some(count) = self.client_count(endpoint, client) else {
            return Ok(()); // not over TCP (never the case behind actix's TCP listener)
        };
        let mut writes = Writes::default();
        count.add_to(&mut writes, self.now());
        let mut conn = self.db.acquire().await.map_err(LimitError::Unavailable)?;
        let hit = limits::hit_of(writes, &mut conn)
            .await
            .map_err(LimitError::Unavailable)?;
        drop(conn);
        self.judge_client(endpoint, client, hit).await
    }

    /// The in-memory part of `limit_client`: turns away, without a database round trip, an
    /// address the shared counters refused lately.
    pub fn prelimit_client(
        &self,
        endpoint: &'static str,
        client: &ClientInfo,
    ) -> Result<(), LimitError> {
        let Some(ip) = client_ip(client) else {
            return Ok(());
        };
        if let Some(retry_after) = self.prelimit.check(endpoint, ip) {
            metrics::counter!("rate_limit_rejections_total", "limit" => format!("address_{endpoint}_in_memory"))
                .increment(1);
            return Err(LimitError::Limited { retry_after });
        }
        Ok(())
    }

    /// What counts this request against its client address (`None` without an address).
    pub fn client_count(&self, endpoint: &'static str, client: &ClientInfo) -> Option<ClientCount> {
        client_ip(client).map(|ip| ClientCount {
            key: format!("ip:{endpoint}:{}", limit_key(ip)),
            limit: self.client_limit(),
        })
    }

    fn client_limit(&self) -> i64 {
        i64::from(self.per_address_per_hour)
    }

    /// Whether the counted request is within its address's limit; when it is not, says so (once
    /// per window in the audit log) and remembers it in memory until the window ends.
    pub async fn judge_client(
        &self,
        endpoint: &'static str,
        client: &ClientInfo,
        hit: limits::Hit,
    ) -> Result<(), LimitError> {
        let limit = self.client_limit();
        if hit.hits <= limit {
            return Ok(());
        }
        metrics::counter!("rate_limit_rejections_total", "limit" => format!("address_{endpoint}"))
            .increment(1);
        // One audit event per address and window, not one per rejected request: a flood must
        // not become a flood of audit rows.
        if hit.hits == limit + 1 {
            let mut conn = self.db.acquire().await.map_err(LimitError::Unavailable)?;
            audit::append(
                &mut conn,
                AuditEvent::new(Action::RateLimited, &Actor::User, Outcome::Limited)
                    .client(client)
                    .detail(format!(
                        "client address over {limit} {endpoint} requests per hour"
                    )),
            )
            .await
            .map_err(LimitError::Unavailable)?;
        }
        if let Some(ip) = client_ip(client) {
            self.prelimit.refused(endpoint, ip, hit.resets_in);
        }
        Err(LimitError::Limited {
            retry_after: hit.resets_in,
        })
    }

    /// Whether a confirmation from `prefix` (a `block` holding a live recovery of the name or
    /// not) may be judged for the name keyed `name_key` now, and if so its reservation: the
    /// attempt counts as a failure from here on, until it proves right. Take the name's lock
    /// first (`recoveries::lock_account`): reading and reserving are then one step, so
    /// concurrent guesses cannot skip a delay.
    pub async fn reserve_attempt(
        &self,
        conn: &mut sqlx::PgConnection,
        name_key: &str,
        prefix: &str,
        block: Block,
    ) -> Result<Result<Reservation, AttemptRefused>, sqlx::Error> {
        let stats = attempts::stats(conn, self.now(), name_key, prefix).await?;
        if let Err(refused) = attempt_allowed(&self.budgets(), &stats, block) {
            return Ok(Err(refused));
        }
        let id = attempts::reserve(conn, self.now(), name_key, prefix).await?;
        Ok(Ok(Reservation {
            id,
            failures_since_code: stats.prefix_failures_since_code + 1,
            account_failures: stats.account_failures + 1,
        }))
    }

    /// What one account and one address block may use, from the settings.
    pub fn budgets(&self) -> Budgets {
        self.budgets
    }

    /// Whether codes may still go out this hour: the hourly email budget of all instances,
    /// less the reserve kept for notices. Asked for every name alike, before anyone is looked
    /// up, so that a spent budget treats real and unknown names the same.
    /// `Some(seconds until the hour's budget starts again)` when spent.
    pub async fn codes_budget_spent(&self) -> Result<Option<u64>, sqlx::Error> {
        let mut conn = self.db.acquire().await?;
        let Some((used, _, resets_in)) =
            limits::peek(&mut conn, self.now(), EMAIL_BUDGET_KEY, HOUR).await?
        else {
            return Ok(None);
        };
        if used < EmailBudget::new(self.emails_per_hour).for_codes {
            return Ok(None);
        }
        metrics::counter!("rate_limit_rejections_total", "limit" => "global_emails").increment(1);
        Ok(Some(resets_in))
    }

    /// Takes one email from the hourly budget of all instances; false when it is spent (for a
    /// code, when only the notices' reserve is left). On a connection of its own, so that the
    /// shared counter is not held while the email is sent. Past 80 % of the budget, says so
    /// once an hour (an ERROR log and `email_budget_warnings_total`), well before codes stop.
    pub async fn take_email(&self, kind: EmailKind) -> Result<bool, sqlx::Error> {
        let budget = EmailBudget::new(self.emails_per_hour);
        let mut conn = self.db.acquire().await?;
        let hit = limits::hit(&mut conn, self.now(), EMAIL_BUDGET_KEY, HOUR).await?;
        if hit.hits == budget.warn_at {
            metrics::counter!("email_budget_warnings_total").increment(1);
            tracing::error!(
                used = hit.hits,
                per_hour = budget.per_hour,
                "the hourly email budget (RECOVERY_EMAILS_PER_HOUR) is 80 % used: codes stop at {}, notices at {}",
                budget.for_codes,
                budget.per_hour
            );
        }
        let limit = match kind {
            EmailKind::Code => budget.for_codes,
            EmailKind::Notice => budget.per_hour,
        };
        let left = hit.hits <= limit;
        if !left {
            metrics::counter!("rate_limit_rejections_total", "limit" => "global_emails")
                .increment(1);
        }
        Ok(left)
    }

    /// Gauges read at scrape time: the job queue and this hour's email budget.
    pub async fn observe_gauges(&self) -> Result<(), sqlx::Error> {
        let mut conn = self.db.acquire().await?;
        let due = crate::store::jobs::due_stats(&mut conn, self.now()).await?;
        metrics::gauge!("jobs_queue_depth").set(due.depth as f64);
        metrics::gauge!("jobs_oldest_age_seconds").set(due.oldest);
        metrics::gauge!("lookups_waiting").set(due.lookups as f64);
        metrics::gauge!("lookups_oldest_age_seconds").set(due.oldest_lookup);
        let used = limits::peek(&mut conn, self.now(), EMAIL_BUDGET_KEY, HOUR)
            .await?
            .map_or(0, |(hits, _, _)| hits);
        metrics::gauge!("email_budget_used_this_hour").set(used as f64);
        metrics::gauge!("email_budget_per_hour").set(f64::from(self.emails_per_hour));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budgets() -> Budgets {
        Budgets {
            emails_per_hour: 3,
            emails_per_hour_per_block: 2,
            emails_per_day: 10,
            emails_per_day_per_block: 5,
            attempts_per_code: 5,
            failures_per_day: 20,
            failures_per_day_per_block: 10,
            failures_per_day_per_stranger: 2,
            delay_seconds: 30.0,
        }
    }

    #[test]
    fn a_tenth_of_the_email_budget_is_kept_for_notices_and_the_warning_comes_first() {
        let b = EmailBudget::new(1000);
        assert_eq!((b.for_codes, b.warn_at), (900, 800));
        let small = EmailBudget::new(2);
        assert_eq!((small.for_codes, small.warn_at), (1, 1));
    }

    #[test]
    fn one_address_block_never_uses_up_the_accounts_emails() {
        let b = budgets();
        let attacker = IssueCounts {
            account_hour: 2,
            account_day: 5,
            prefix_hour: 2,
            prefix_day: 5,
        };
        assert!(
            email_refused(&b, &attacker).is_some(),
            "the attacker's share is spent"
        );
        let owner = IssueCounts {
            prefix_hour: 0,
            prefix_day: 0,
            ..attacker
        };
        assert_eq!(email_refused(&b, &owner), None, "the owner still gets one");
        let ceiling = IssueCounts {
            account_hour: 3,
            ..owner
        };
        assert!(email_refused(&b, &ceiling).is_some(), "the ceiling holds");
    }

    #[test]
    fn one_address_block_never_uses_up_the_accounts_wrong_guesses() {
        let b = budgets();
        let attacker = AttemptStats {
            account_failures: 10,
            prefix_failures: 10,
            prefix_failures_since_code: 0,
            since_last_prefix_failure: Some(1e6),
            ..AttemptStats::default()
        };
        assert!(matches!(
            attempt_allowed(&b, &attacker, Block::Holder),
            Err(AttemptRefused::Throttled { .. })
        ));
        let owner = AttemptStats {
            prefix_failures: 0,
            since_last_prefix_failure: None,
            ..attacker
        };
        assert_eq!(attempt_allowed(&b, &owner, Block::Holder), Ok(()));
        assert!(b.failures_per_day <= 100, "NIST SP 800-63B-4");
    }

    #[test]
    fn guesses_from_elsewhere_never_shut_out_the_block_that_asked() {
        let b = budgets();
        // The review's reproduction: four blocks that never asked for a code spend the account's
        // 20 wrong confirmations of the day.
        let ceiling = AttemptStats {
            account_failures: 20,
            ..AttemptStats::default()
        };
        assert_eq!(
            attempt_allowed(&b, &ceiling, Block::Holder),
            Ok(()),
            "the owner, who asked from here"
        );
        assert!(matches!(
            attempt_allowed(&b, &ceiling, Block::Stranger),
            Err(AttemptRefused::Throttled { .. })
        ));
        // A block that asked for nothing gets a much smaller share of its own.
        let stranger = AttemptStats {
            account_failures: 2,
            prefix_failures: 2,
            since_last_prefix_failure: Some(1e6),
            ..AttemptStats::default()
        };
        assert!(matches!(
            attempt_allowed(&b, &stranger, Block::Stranger),
            Err(AttemptRefused::Throttled { .. })
        ));
        assert_eq!(attempt_allowed(&b, &stranger, Block::Holder), Ok(()));
    }

    #[test]
    fn a_block_locks_after_its_attempts_and_a_new_code_waits_a_growing_delay() {
        let b = budgets();
        let locked = AttemptStats {
            account_failures: 5,
            prefix_failures: 5,
            prefix_failures_since_code: 5,
            since_last_prefix_failure: Some(1e6),
            ..AttemptStats::default()
        };
        assert_eq!(
            attempt_allowed(&b, &locked, Block::Holder),
            Err(AttemptRefused::Locked)
        );
        let new_code = AttemptStats {
            prefix_failures_since_code: 0,
            since_last_prefix_failure: Some(10.0),
            ..locked
        };
        assert_eq!(
            attempt_allowed(&b, &new_code, Block::Holder),
            Err(AttemptRefused::Throttled {
                retry_after: 20,
                why: "waiting 30 s after repeated wrong confirmations".into()
            })
        );
        let later = AttemptStats {
            prefix_failures: 7,
            since_last_prefix_failure: Some(100.0),
            ..new_code
        };
        // 30 s doubled twice is 120 s.
        assert!(matches!(
            attempt_allowed(&b, &later, Block::Holder),
            Err(AttemptRefused::Throttled {
                retry_after: 20,
                ..
            })
        ));
    }
}
