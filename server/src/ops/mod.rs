//! Operations commands: online backups with verification and grandfather-father-son retention
//! (`backup`, `retention`), restore, the scheduled backups `serve` takes, and the booking
//! archive for accounting (`archive`).

pub mod archive;
pub mod backup;
pub mod retention;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::metrics::Metrics;
use crate::store::Store;

/// What an operations command can run into; each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("{what}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("database")]
    Db(#[from] sqlx::Error),
    #[error("store")]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    MissingTool(String),
    /// The backup does not match its manifest, or fails an integrity check.
    #[error("verification failed: {0}")]
    Mismatch(String),
    /// Refused to act (a non-empty target without --force, a missing argument).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
}

impl OpsError {
    /// The error with every cause, for logs: "database: error communicating with …".
    pub fn describe(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

/// `serve --backup-dir … --backup-every …`.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub dir: PathBuf,
    pub every: Duration,
    pub policy: retention::Policy,
    /// The database URL the server runs on (PostgreSQL: also where the scratch database for
    /// verifying is created).
    pub database_url: String,
}

/// One scheduled round: take a backup, verify it, then apply the retention policy.
pub async fn backup_round(
    store: &Store,
    schedule: &Schedule,
    catalog_version: &str,
) -> Result<(backup::Manifest, Vec<String>), OpsError> {
    let source = match store {
        Store::Sqlite(db) => backup::Source::Sqlite(db.pool.clone()),
        Store::Postgres(_) => backup::Source::Postgres(schedule.database_url.clone()),
    };
    let manifest =
        backup::take(&source, &schedule.dir, catalog_version, chrono::Utc::now()).await?;
    let files = backup::BackupFiles {
        manifest: manifest.clone(),
        dir: schedule.dir.clone(),
    };
    backup::verify(&files, Some(&schedule.database_url)).await?;
    let pruned = prune(&schedule.dir, &schedule.policy, chrono::Utc::now())?;
    Ok((manifest, pruned))
}

/// Deletes the backups the retention policy lets go; returns their names.
pub fn prune(
    dir: &std::path::Path,
    policy: &retention::Policy,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<String>, OpsError> {
    let backups = backup::list_backups(dir)?;
    let ages: Vec<retention::BackupAge> = backups
        .iter()
        .map(|b| retention::BackupAge {
            name: b.manifest.name.clone(),
            taken_at: b.manifest.created_at,
            verified: b.is_verified(),
        })
        .collect();
    let doomed = retention::to_delete(&ages, policy, now);
    for backup in backups.iter().filter(|b| doomed.contains(&b.manifest.name)) {
        backup.delete()?;
    }
    Ok(doomed)
}

/// Takes backups every `schedule.every` (the first right away) until the process ends. A failed
/// round is logged and counted in the metrics; it never stops the server.
pub async fn run_backups(
    store: Store,
    metrics: Arc<Metrics>,
    schedule: Schedule,
    catalog_version: String,
) {
    let mut ticker = tokio::time::interval(schedule.every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let started = Instant::now();
        match backup_round(&store, &schedule, &catalog_version).await {
            Ok((manifest, pruned)) => {
                metrics.backup_succeeded(
                    manifest.created_at,
                    manifest.payload_bytes,
                    started.elapsed(),
                    pruned.len(),
                );
                tracing::info!(
                    backup = %manifest.name,
                    bytes = manifest.payload_bytes,
                    bookings = manifest.tables.get("bookings").copied().unwrap_or(0),
                    pruned = pruned.len(),
                    seconds = started.elapsed().as_secs_f64(),
                    "backup taken and verified"
                );
            }
            Err(e) => {
                metrics.backup_failed(started.elapsed());
                tracing::error!(error = %e.describe(), dir = %schedule.dir.display(), "scheduled backup failed");
            }
        }
    }
}
