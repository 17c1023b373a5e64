//! Limits that make the public endpoints expensive to abuse, counted in Postgres so that every
//! instance shares them. If the counters cannot be read, requests are refused (fail closed).

use super::RecoveryService;
use crate::audit::{self, Action, AuditEvent, Outcome};
use crate::domain::{limit_key, Actor, ClientInfo};
use crate::store::limits;

const HOUR: i64 = 3600;
const EMAIL_BUDGET_KEY: &str = "emails:global";
const DAY: i64 = 86_400;
/// No growing delay is longer than this.
const MAX_CONFIRM_DELAY_SECONDS: f64 = 3600.0;

#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("over the limit; retry in {retry_after} s")]
    Limited { retry_after: u64 },
    #[error("the limit counters are unavailable")]
    Unavailable(#[source] sqlx::Error),
}

impl RecoveryService {
    /// Counts this request against its client address (per endpoint, per hour).
    pub(super) async fn limit_client(
        &self,
        endpoint: &'static str,
        client: &ClientInfo,
    ) -> Result<(), LimitError> {
        let Some(ip) = client.ip.as_deref().and_then(|ip| ip.parse().ok()) else {
            return Ok(()); // not over TCP (never the case behind actix's TCP listener)
        };
        let mut conn = self.db.acquire().await.map_err(LimitError::Unavailable)?;
        let key = format!("ip:{endpoint}:{}", limit_key(ip));
        let hit = limits::hit(&mut conn, &key, HOUR)
            .await
            .map_err(LimitError::Unavailable)?;
        let limit = i64::from(self.rules.requests_per_ip_per_hour);
        if hit.hits <= limit {
            return Ok(());
        }
        metrics::counter!("rate_limit_rejections_total", "limit" => format!("address_{endpoint}"))
            .increment(1);
        // One audit event per address and window, not one per rejected request: a flood must
        // not become a flood of audit rows.
        if hit.hits == limit + 1 {
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
        Err(LimitError::Limited {
            retry_after: hit.resets_in,
        })
    }

    /// Whether the account may try another confirmation now: a day's budget of wrong
    /// confirmations across all its recoveries, and past one recovery's worth, a delay that
    /// doubles with each further failure (OWASP ASVS 5.0 §6.3.1).
    pub(super) async fn confirm_throttle(
        &self,
        conn: &mut sqlx::PgConnection,
        account: &str,
    ) -> Result<(), LimitError> {
        let key = format!("confirm_failures:{account}");
        let Some((failures, since_last, resets_in)) = limits::peek(conn, &key, DAY)
            .await
            .map_err(LimitError::Unavailable)?
        else {
            return Ok(());
        };
        if failures >= i64::from(self.rules.failed_confirms_per_account_per_day) {
            return Err(LimitError::Limited {
                retry_after: resets_in,
            });
        }
        let free = i64::from(self.rules.max_attempts);
        if failures >= free {
            let doublings = i32::try_from(failures - free).unwrap_or(i32::MAX).min(30);
            let delay = (self.rules.failed_confirm_delay.as_secs_f64() * 2f64.powi(doublings))
                .min(MAX_CONFIRM_DELAY_SECONDS);
            if since_last < delay {
                return Err(LimitError::Limited {
                    retry_after: (delay - since_last).ceil() as u64,
                });
            }
        }
        Ok(())
    }

    /// Records a wrong confirmation against the account's daily budget.
    pub(super) async fn count_failed_confirm(
        &self,
        conn: &mut sqlx::PgConnection,
        account: &str,
    ) -> Result<(), sqlx::Error> {
        limits::hit(conn, &format!("confirm_failures:{account}"), DAY).await?;
        Ok(())
    }

    /// Takes one email from the hourly budget of all instances; false when it is spent. On a
    /// connection of its own, so that the shared counter is not held while the email is sent.
    pub(super) async fn email_budget_left(&self) -> Result<bool, sqlx::Error> {
        let mut conn = self.db.acquire().await?;
        let hit = limits::hit(&mut conn, EMAIL_BUDGET_KEY, HOUR).await?;
        let left = hit.hits <= i64::from(self.rules.emails_per_hour);
        if !left {
            metrics::counter!("rate_limit_rejections_total", "limit" => "global_emails")
                .increment(1);
        }
        Ok(left)
    }

    /// Gauges read at scrape time: the job queue and this hour's email budget.
    pub async fn observe_gauges(&self) -> Result<(), sqlx::Error> {
        let mut conn = self.db.acquire().await?;
        let (depth, oldest) = crate::store::jobs::due_stats(&mut conn).await?;
        metrics::gauge!("jobs_queue_depth").set(depth as f64);
        metrics::gauge!("jobs_oldest_age_seconds").set(oldest);
        let used = limits::peek(&mut conn, EMAIL_BUDGET_KEY, HOUR)
            .await?
            .map_or(0, |(hits, _, _)| hits);
        metrics::gauge!("email_budget_used_this_hour").set(used as f64);
        metrics::gauge!("email_budget_per_hour").set(f64::from(self.rules.emails_per_hour));
        Ok(())
    }
}
