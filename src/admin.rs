//! Operator commands that stream the audit log out (`mfa-recovery audit export`).

use std::io::Write;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::PgPool;

use crate::audit::CsvExport;
use crate::store::audit::{self, AuditFilter};

fn between(since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> AuditFilter {
    AuditFilter {
        since,
        until,
        ..AuditFilter::default()
    }
}

/// One JSON object per line, in `seq` order.
pub async fn export_jsonl<W: Write>(
    db: &PgPool,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    mut out: W,
) -> anyhow::Result<W> {
    let filter = between(since, until);
    let mut events = audit::stream(db, &filter);
    while let Some(event) = events.try_next().await? {
        serde_json::to_writer(&mut out, &event)?;
        out.write_all(b"\n")?;
    }
    Ok(out)
}

/// CSV with a header row, formula cells neutralised, in `seq` order.
pub async fn export_csv<W: Write>(
    db: &PgPool,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    out: W,
) -> anyhow::Result<W> {
    let filter = between(since, until);
    let mut events = audit::stream(db, &filter);
    let mut csv = CsvExport::new(out)?;
    while let Some(event) = events.try_next().await? {
        csv.write(&event)?;
    }
    Ok(csv.finish()?)
}
