//! The audit log leaving the service: CSV (formula cells neutralised) and JSON lines, for the
//! auditor API and `mfa-recovery audit export`.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::TryStreamExt;
use sqlx::PgPool;

use super::AuditRecord;
use crate::store::audit::{self as store, AuditFilter};

pub const CSV_HEADER: [&str; 11] = [
    "seq",
    "at",
    "action",
    "actor",
    "username",
    "recovery_id",
    "ip",
    "user_agent",
    "outcome",
    "detail",
    "hash",
];

/// OWASP CSV injection: a cell a spreadsheet would read as a formula is prefixed with `'`.
fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// The record as a CSV row, in `CSV_HEADER` order. Quoting is the CSV writer's job.
pub fn csv_row(record: &AuditRecord) -> [String; 11] {
    let text = |v: &Option<String>| neutralise(v.as_deref().unwrap_or(""));
    [
        record.seq.to_string(),
        record.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        neutralise(&record.action),
        neutralise(&record.actor),
        text(&record.username),
        record
            .recovery_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        text(&record.ip),
        text(&record.user_agent),
        neutralise(&record.outcome),
        text(&record.detail),
        record.hash.clone(),
    ]
}

/// Writes records as CSV (header first) into any writer; hostile values are quoted as needed.
pub struct CsvExport<W: std::io::Write> {
    writer: csv::Writer<W>,
}

impl<W: std::io::Write> CsvExport<W> {
    pub fn new(out: W) -> csv::Result<Self> {
        let mut writer = csv::WriterBuilder::new()
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(out);
        writer.write_record(CSV_HEADER)?;
        Ok(Self { writer })
    }

    pub fn write(&mut self, record: &AuditRecord) -> csv::Result<()> {
        self.writer.write_record(csv_row(record))
    }

    pub fn finish(self) -> Result<W, std::io::Error> {
        self.writer.into_inner().map_err(|e| e.into_error())
    }
}

/// `records` as CSV with a header row, in memory (a page of events).
pub fn csv_bytes(records: &[AuditRecord]) -> std::io::Result<Vec<u8>> {
    let mut csv = CsvExport::new(Vec::new())?;
    for record in records {
        csv.write(record)?;
    }
    csv.finish()
}

/// `records` as JSON lines, in memory (a page of events).
pub fn jsonl_bytes(records: &[AuditRecord]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    for record in records {
        write_jsonl(&mut out, record)?;
    }
    Ok(out)
}

/// One record as a line of JSON.
pub(super) fn write_jsonl<W: Write>(out: &mut W, record: &AuditRecord) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, record)?;
    out.write_all(b"\n")
}

/// Events between `since` (inclusive) and `until` (exclusive), as JSON lines in `seq` order.
pub async fn export_jsonl<W: Write>(
    db: &PgPool,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    mut out: W,
) -> anyhow::Result<W> {
    let filter = AuditFilter::between(since, until);
    let mut selection = store::Selection::new(&filter, None);
    let mut events = selection.stream(db);
    while let Some(row) = events.try_next().await? {
        write_jsonl(&mut out, &AuditRecord::from(row))?;
    }
    Ok(out)
}

/// The same events as CSV with a header row.
pub async fn export_csv<W: Write>(
    db: &PgPool,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    out: W,
) -> anyhow::Result<W> {
    let filter = AuditFilter::between(since, until);
    let mut selection = store::Selection::new(&filter, None);
    let mut events = selection.stream(db);
    let mut csv = CsvExport::new(out)?;
    while let Some(row) = events.try_next().await? {
        csv.write(&AuditRecord::from(row))?;
    }
    Ok(csv.finish()?)
}

/// Appends `line` and a newline to the file at `path` (created if missing) and syncs it, off the
/// async threads: what the published checkpoints' file and the stream's file both need before
/// they count a line as written.
pub async fn append_synced_line(path: std::path::PathBuf, line: Vec<u8>) -> std::io::Result<()> {
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        file.write_all(&line)?;
        file.write_all(b"\n")?;
        file.sync_data()
    })
    .await
    .map_err(std::io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_other_cells_kept() {
        for (input, expected) in [
            ("=1+1", "'=1+1"),
            ("+x", "'+x"),
            ("-x", "'-x"),
            ("@x", "'@x"),
            ("\tx", "'\tx"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralise(input), expected);
        }
    }
}
