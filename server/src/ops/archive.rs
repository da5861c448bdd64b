//! `archive export`: every version of every booking written in a date range, as gzip-compressed
//! JSON Lines for accounting. One line per version (the booking as it was after that change,
//! the change itself, the receipt where the version has one, and the rider and passenger as on
//! record now, so data erased at a rider's request stays erased). Streamed: the store is read a
//! page at a time, so memory stays flat however large the archive.

use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::OpsError;
use crate::store::{ArchivedVersion, Store};

/// Versions read per page.
const PAGE: i64 = 1000;

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub versions: u64,
    pub versions_with_receipt: u64,
    pub bytes: u64,
    pub path: PathBuf,
}

/// One JSON line for one version.
pub fn line(version: &ArchivedVersion) -> Value {
    let entry = &version.entry;
    let receipt = entry
        .snapshot
        .get("receipt")
        .filter(|r| !r.is_null())
        .cloned()
        .unwrap_or(Value::Null);
    json!({
        "booking_id": version.booking_id,
        "version": entry.version,
        "at": entry.at,
        "actor": entry.actor.as_str(),
        "actor_id": entry.actor_id,
        "from_state": entry.from_state.map(|s| s.as_str()),
        "to_state": entry.to_state.as_str(),
        "booking": entry.snapshot,
        "receipt": receipt,
        "rider": {
            "id": version.rider_id,
            "name": version.rider_name,
            "email": version.rider_email,
            "erased_at": version.rider_erased_at,
        },
        "passenger": {
            "name": version.passenger_name,
            "phone": version.passenger_phone,
            "flight_number": version.flight_number,
        },
    })
}

/// Writes the versions written in `[from, to)` to `out` (gzip, 0600; all or nothing: a failed
/// export leaves no file behind). Progress goes to stderr when it is a terminal.
pub async fn export(
    store: &Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    out: &Path,
) -> Result<Exported, OpsError> {
    let temp = {
        let mut name = std::ffi::OsString::from(".");
        name.push(out.file_name().unwrap_or_default());
        name.push(format!(".tmp-{}", std::process::id()));
        out.with_file_name(name)
    };
    let io = |what: &'static str, path: &Path| {
        let path = path.display().to_string();
        move |source| OpsError::Io {
            what: format!("{what} {path}"),
            source,
        }
    };
    let result: Result<Exported, OpsError> = async {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&temp).map_err(io("cannot create", &temp))?;
        let mut writer = BufWriter::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::default(),
        ));
        let progress = std::io::stderr().is_terminal();
        let started = Instant::now();
        let (mut after, mut versions, mut with_receipt) = (0i64, 0u64, 0u64);
        loop {
            let page = store.archive_page(after, from, to, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.position;
            for version in &page {
                let value = line(version);
                if !value["receipt"].is_null() {
                    with_receipt += 1;
                }
                serde_json::to_writer(&mut writer, &value)
                    .map_err(|e| OpsError::Failed(format!("cannot encode a line: {e}")))?;
                writer.write_all(b"\n").map_err(io("cannot write", &temp))?;
                versions += 1;
            }
            if progress {
                let rate = versions as f64 / started.elapsed().as_secs_f64().max(0.001);
                eprint!("\r{versions} versions exported ({rate:.0}/s)   ");
            }
        }
        if progress {
            eprintln!();
        }
        let encoder = writer.into_inner().map_err(|e| OpsError::Io {
            what: format!("cannot write {}", temp.display()),
            source: e.into_error(),
        })?;
        let file = encoder.finish().map_err(io("cannot write", &temp))?;
        file.sync_all().map_err(io("cannot sync", &temp))?;
        let bytes = file.metadata().map_err(io("cannot read", &temp))?.len();
        std::fs::rename(&temp, out).map_err(io("cannot create", out))?;
        Ok(Exported {
            versions,
            versions_with_receipt: with_receipt,
            bytes,
            path: out.to_path_buf(),
        })
    }
    .await;
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
