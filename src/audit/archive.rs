//! Retention that keeps proofs: the events up to a published checkpoint recorded before a date
//! are written to a JSON-lines file, with that checkpoint beside it, and only then removed (by
//! the database's audit_archive(), as the owner). The cut stays in the log (`audit_cuts`), so
//! verification goes on from it, and the archive is itself an event (`audit.archived`).

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::PgPool;

use super::{export, AuditFilter, AuditRecord, Checkpoint};
use crate::store::audit as store;

/// What an archive wrote and removed.
#[derive(Debug)]
pub struct Archived {
    /// The checkpoint at the cut: the archive's last event is its `seq`, with its `head`.
    pub cut: Checkpoint,
    /// The archive's first event.
    pub first: i64,
    /// Events written and removed.
    pub events: i64,
    pub events_file: PathBuf,
    pub checkpoint_file: PathBuf,
    /// The previous archive's cut, when there was one: this archive starts after it.
    pub after_cut: Option<i64>,
}

/// Where the checkpoint at the cut is written: beside the events, `<out>.checkpoint.json`.
pub fn checkpoint_path(out: &Path) -> PathBuf {
    PathBuf::from(format!("{}.checkpoint.json", out.display()))
}

/// Archives the events up to the newest published checkpoint whose event was recorded before
/// `before` into `out` (which must not exist), then removes them, recorded as done by `actor`.
/// None when no published checkpoint is that old (nothing is written or removed).
pub async fn archive(
    db: &PgPool,
    before: DateTime<Utc>,
    out: &Path,
    actor: &str,
) -> anyhow::Result<Option<Archived>> {
    let Some(row) = store::checkpoint_to_cut_at(db, before).await? else {
        return Ok(None);
    };
    let cut = Checkpoint::from(row);
    let after_cut = store::last_cut(db).await?.map(|(seq, _)| seq);
    let checkpoint_file = checkpoint_path(out);
    let mut events_out = std::io::BufWriter::new(std::fs::File::create_new(out)?);
    let mut written = 0i64;
    let mut first = None;
    {
        let filter = AuditFilter::default();
        let mut selection = store::Selection::new(&filter, None);
        let mut rows = selection.stream(db);
        while let Some(row) = rows.try_next().await? {
            if row.seq > cut.seq {
                break;
            }
            first.get_or_insert(row.seq);
            export::write_jsonl(&mut events_out, &AuditRecord::from(row))?;
            written += 1;
        }
    }
    let file = events_out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    let checkpoint_json = serde_json::to_string(&cut)?;
    let mut checkpoint_out = std::fs::File::create_new(&checkpoint_file)?;
    checkpoint_out.write_all(checkpoint_json.as_bytes())?;
    checkpoint_out.write_all(b"\n")?;
    checkpoint_out.sync_all()?;
    // Only what is safely on disk is removed.
    let removed = store::archive(db, cut.seq, &cut.head, &checkpoint_json, actor).await?;
    anyhow::ensure!(
        removed == written,
        "{written} events were written but {removed} removed: keep {} and compare it with the log",
        out.display()
    );
    Ok(Some(Archived {
        first: first.unwrap_or(cut.seq),
        cut,
        events: written,
        events_file: out.to_owned(),
        checkpoint_file,
        after_cut,
    }))
}
