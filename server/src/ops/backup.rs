//! Online backups, their verification and restore.
//!
//! A backup is two files in the backup directory, named after the instant it was taken:
//! - `chauffeur-<UTC time>.sqlite.gz`: SQLite's `VACUUM INTO` copy (one read transaction, so a
//!   consistent snapshot taken while the server keeps writing), gzip-compressed; or
//!   `chauffeur-<UTC time>.pgdump`: `pg_dump --format=custom` (compressed by pg_dump), run on a
//!   snapshot exported from a repeatable-read transaction;
//! - `chauffeur-<UTC time>.manifest.json`: the `Manifest` (time, schema and catalog versions, row
//!   counts per table counted in the same snapshot, size and SHA-256 of the payload).
//!
//! A verified backup gets a third file, `<name>.verified`, written only after a restore into a
//! scratch place passed its checks; retention deletes a backup only once a newer one has it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::sqlite::{Sqlite, SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Connection, Pool};

use super::OpsError;

/// The manifest's format tag; a reader refuses any other.
pub const FORMAT: &str = "chauffeur-backup/1";
const MANIFEST_SUFFIX: &str = ".manifest.json";
const VERIFIED_SUFFIX: &str = ".verified";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a backup holds, written beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub name: String,
    pub backend: Backend,
    pub created_at: DateTime<Utc>,
    /// The highest migration applied to the database copied.
    pub schema_version: i64,
    /// The tariff catalog of the server binary that took the backup.
    pub catalog_version: String,
    pub server_version: String,
    /// The payload's file name, in the manifest's directory.
    pub payload: String,
    pub payload_bytes: u64,
    pub payload_sha256: String,
    /// Rows per table, counted in the snapshot the payload holds.
    pub tables: BTreeMap<String, i64>,
}

/// Where a backup is taken from.
pub enum Source {
    /// A pool on the SQLite database (the server's own, or one the command opened).
    Sqlite(Pool<Sqlite>),
    Postgres(String),
}

impl Source {
    /// Opens the database of `database_url` for a backup, without creating or migrating it.
    pub async fn open(database_url: &str) -> Result<Source, OpsError> {
        if is_postgres(database_url) {
            return Ok(Source::Postgres(database_url.to_owned()));
        }
        let path = sqlite_path(database_url);
        if !path.exists() {
            return Err(OpsError::Refused(format!(
                "there is no database at {} (give the data directory with --data-dir)",
                path.display()
            )));
        }
        let options = SqliteConnectOptions::from_str(database_url)?.create_if_missing(false);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        Ok(Source::Sqlite(pool))
    }
}

pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The file of a `sqlite://` URL.
pub fn sqlite_path(url: &str) -> PathBuf {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    PathBuf::from(rest.split('?').next().unwrap_or(rest))
}

fn io_error(path: &Path, what: &str) -> impl FnOnce(std::io::Error) -> OpsError {
    let path = path.display().to_string();
    let what = what.to_owned();
    move |source| OpsError::Io {
        what: format!("{what} {path}"),
        source,
    }
}

/// The name of a backup taken at `at`: sorts in time order, unique to the millisecond.
pub fn backup_name(at: DateTime<Utc>) -> String {
    format!("chauffeur-{}", at.format("%Y%m%dT%H%M%S%.3fZ"))
}

/// Takes a backup into `out_dir`; returns its manifest (also written there).
pub async fn take(
    source: &Source,
    out_dir: &Path,
    catalog_version: &str,
    now: DateTime<Utc>,
) -> Result<Manifest, OpsError> {
    std::fs::create_dir_all(out_dir).map_err(io_error(out_dir, "cannot create"))?;
    let name = backup_name(now);
    let (backend, payload, schema_version, tables) = match source {
        Source::Sqlite(pool) => {
            let payload = format!("{name}.sqlite.gz");
            let copy = out_dir.join(format!(".{name}.sqlite.tmp"));
            let _ = std::fs::remove_file(&copy);
            // One read transaction: a consistent copy while writers carry on (WAL).
            let copied = sqlx::query::<Sqlite>("VACUUM INTO $1")
                .bind(copy.display().to_string())
                .execute(pool)
                .await;
            if let Err(e) = copied {
                let _ = std::fs::remove_file(&copy);
                return Err(e.into());
            }
            let counted = sqlite_counts(&copy).await;
            let (schema_version, tables) = match counted {
                Ok(c) => c,
                Err(e) => {
                    let _ = std::fs::remove_file(&copy);
                    return Err(e);
                }
            };
            let target = out_dir.join(&payload);
            let compressed = {
                let copy = copy.clone();
                let target = target.clone();
                tokio::task::spawn_blocking(move || compress_into(&copy, &target))
                    .await
                    .map_err(|e| OpsError::Failed(format!("compression stopped: {e}")))?
            };
            let _ = std::fs::remove_file(&copy);
            compressed?;
            (Backend::Sqlite, payload, schema_version, tables)
        }
        Source::Postgres(url) => {
            let payload = format!("{name}.pgdump");
            let (schema_version, tables) = pg_dump(url, &out_dir.join(&payload)).await?;
            (Backend::Postgres, payload, schema_version, tables)
        }
    };
    let payload_path = out_dir.join(&payload);
    let (payload_bytes, payload_sha256) = {
        let path = payload_path.clone();
        tokio::task::spawn_blocking(move || file_digest(&path))
            .await
            .map_err(|e| OpsError::Failed(format!("checksum stopped: {e}")))??
    };
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        name: name.clone(),
        backend,
        created_at: now,
        schema_version,
        catalog_version: catalog_version.to_owned(),
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        payload,
        payload_bytes,
        payload_sha256,
        tables,
    };
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| OpsError::Failed(format!("manifest: {e}")))?;
    write_atomically(&out_dir.join(format!("{name}{MANIFEST_SUFFIX}")), &text)?;
    Ok(manifest)
}

/// Schema version and row counts of a SQLite file (opened read-only).
async fn sqlite_counts(path: &Path) -> Result<(i64, BTreeMap<String, i64>), OpsError> {
    let mut conn = open_sqlite_file(path, true).await?;
    let counted = counts_sqlite(&mut conn).await;
    let _ = conn.close().await;
    counted
}

async fn open_sqlite_file(
    path: &Path,
    read_only: bool,
) -> Result<sqlx::SqliteConnection, OpsError> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .create_if_missing(false);
    Ok(sqlx::SqliteConnection::connect_with(&options).await?)
}

async fn counts_sqlite(
    conn: &mut sqlx::SqliteConnection,
) -> Result<(i64, BTreeMap<String, i64>), OpsError> {
    let names: Vec<String> = sqlx::query_scalar::<Sqlite, String>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut tables = BTreeMap::new();
    for name in names {
        let count: i64 = sqlx::query_scalar::<Sqlite, i64>(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM \"{}\"",
            name.replace('"', "\"\"")
        )))
        .fetch_one(&mut *conn)
        .await?;
        tables.insert(name, count);
    }
    let schema_version = if tables.contains_key("schema_migrations") {
        sqlx::query_scalar::<Sqlite, Option<i64>>("SELECT max(version) FROM schema_migrations")
            .fetch_one(&mut *conn)
            .await?
            .unwrap_or(0)
    } else {
        0
    };
    Ok((schema_version, tables))
}

async fn counts_postgres(
    conn: &mut sqlx::PgConnection,
) -> Result<(i64, BTreeMap<String, i64>), OpsError> {
    let names: Vec<String> = sqlx::query_scalar::<sqlx::Postgres, String>(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut tables = BTreeMap::new();
    for name in names {
        let count: i64 = sqlx::query_scalar::<sqlx::Postgres, i64>(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM public.\"{}\"",
            name.replace('"', "\"\"")
        )))
        .fetch_one(&mut *conn)
        .await?;
        tables.insert(name, count);
    }
    let schema_version = if tables.contains_key("schema_migrations") {
        sqlx::query_scalar::<sqlx::Postgres, Option<i64>>(
            "SELECT max(version) FROM schema_migrations",
        )
        .fetch_one(&mut *conn)
        .await?
        .unwrap_or(0)
    } else {
        0
    };
    Ok((schema_version, tables))
}

/// Gzips `from` into `to` (0600, durable, all or nothing).
fn compress_into(from: &Path, to: &Path) -> Result<(), OpsError> {
    let temp = temp_beside(to);
    let result: Result<(), OpsError> = (|| {
        let mut input = std::fs::File::open(from).map_err(io_error(from, "cannot read"))?;
        let output = create_private(&temp)?;
        let mut encoder = flate2::write::GzEncoder::new(output, flate2::Compression::default());
        std::io::copy(&mut input, &mut encoder).map_err(io_error(&temp, "cannot write"))?;
        let file = encoder.finish().map_err(io_error(&temp, "cannot write"))?;
        file.sync_all().map_err(io_error(&temp, "cannot sync"))?;
        std::fs::rename(&temp, to).map_err(io_error(to, "cannot create"))?;
        sync_dir(to)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Gunzips `from` into a new private file `to`.
fn decompress_into(from: &Path, to: &Path) -> Result<(), OpsError> {
    let input = std::fs::File::open(from).map_err(io_error(from, "cannot read"))?;
    let mut decoder = flate2::read::GzDecoder::new(std::io::BufReader::new(input));
    let mut output = create_private(to)?;
    std::io::copy(&mut decoder, &mut output)
        .map_err(|e| OpsError::Mismatch(format!("{} does not decompress: {e}", from.display())))?;
    output.sync_all().map_err(io_error(to, "cannot sync"))?;
    Ok(())
}

fn create_private(path: &Path) -> Result<std::fs::File, OpsError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(io_error(path, "cannot create"))
}

fn temp_beside(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

fn sync_dir(path: &Path) -> Result<(), OpsError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_error(dir, "cannot sync"))?;
    }
    Ok(())
}

fn write_atomically(path: &Path, text: &str) -> Result<(), OpsError> {
    let temp = temp_beside(path);
    let result: Result<(), OpsError> = (|| {
        let mut file = create_private(&temp)?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(io_error(&temp, "cannot write"))?;
        std::fs::rename(&temp, path).map_err(io_error(path, "cannot create"))?;
        sync_dir(path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Size and SHA-256 (hex) of a file.
fn file_digest(path: &Path) -> Result<(u64, String), OpsError> {
    let mut file = std::fs::File::open(path).map_err(io_error(path, "cannot read"))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(io_error(path, "cannot read"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok((bytes, hex::encode(hasher.finalize())))
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL client tools

/// A PostgreSQL client program: from `CHAUFFEUR_PG_BINDIR`, else `pg_config --bindir`, else PATH.
fn pg_tool(name: &str) -> Result<PathBuf, OpsError> {
    if let Some(dir) = std::env::var_os("CHAUFFEUR_PG_BINDIR") {
        let path = PathBuf::from(dir).join(name);
        if path.is_file() {
            return Ok(path);
        }
        return Err(OpsError::MissingTool(format!(
            "{name} is not in CHAUFFEUR_PG_BINDIR ({})",
            path.display()
        )));
    }
    if let Ok(out) = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
    {
        if out.status.success() {
            let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            let path = PathBuf::from(dir).join(name);
            if path.is_file() {
                return Ok(path);
            }
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(OpsError::MissingTool(format!(
        "{name} was not found (looked in `pg_config --bindir` and PATH): install the PostgreSQL \
         client tools (Debian: apt-get install postgresql-client) or set CHAUFFEUR_PG_BINDIR"
    )))
}

/// A connection URL without its password, and the password (for `PGPASSWORD`), so the
/// password never shows in the process list.
fn split_password(url: &str) -> (String, Option<String>) {
    let (Some(scheme), Some(at)) = (url.find("://"), url.rfind('@')) else {
        return (url.to_owned(), None);
    };
    if at < scheme {
        return (url.to_owned(), None);
    }
    let userinfo = &url[scheme + 3..at];
    match userinfo.split_once(':') {
        Some((user, password)) => (
            format!("{}://{user}@{}", &url[..scheme], &url[at + 1..]),
            Some(percent_decode(password)),
        ),
        None => (url.to_owned(), None),
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn run_pg_tool(tool: &str, args: &[String], url: &str, what: &str) -> Result<(), OpsError> {
    let program = pg_tool(tool)?;
    let (url, password) = split_password(url);
    let mut command = tokio::process::Command::new(&program);
    command.args(args).arg("--dbname").arg(&url);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let out = command
        .output()
        .await
        .map_err(io_error(&program, "cannot run"))?;
    if !out.status.success() {
        return Err(OpsError::Failed(format!(
            "{what}: {} failed ({}): {}",
            program.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// `pg_dump` of the snapshot a repeatable-read transaction exported, with the row counts of
/// that same snapshot.
async fn pg_dump(url: &str, to: &Path) -> Result<(i64, BTreeMap<String, i64>), OpsError> {
    // A missing pg_dump is named before anything else happens.
    pg_tool("pg_dump")?;
    let mut conn = sqlx::PgConnection::connect(url).await?;
    sqlx::query::<sqlx::Postgres>("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut conn)
        .await?;
    let snapshot: String =
        sqlx::query_scalar::<sqlx::Postgres, String>("SELECT pg_export_snapshot()")
            .fetch_one(&mut conn)
            .await?;
    let (schema_version, tables) = counts_postgres(&mut conn).await?;
    let temp = temp_beside(to);
    let dumped = run_pg_tool(
        "pg_dump",
        &[
            "--format=custom".to_owned(),
            "--no-owner".to_owned(),
            "--no-privileges".to_owned(),
            format!("--snapshot={snapshot}"),
            format!("--file={}", temp.display()),
        ],
        url,
        "backup",
    )
    .await;
    // The snapshot had to live until pg_dump had it; the transaction only read.
    let _ = sqlx::query::<sqlx::Postgres>("COMMIT")
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    let finished = dumped.and_then(|()| {
        let file = std::fs::File::open(&temp).map_err(io_error(&temp, "cannot read"))?;
        file.sync_all().map_err(io_error(&temp, "cannot sync"))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o600))
                .map_err(io_error(&temp, "cannot protect"))?;
        }
        std::fs::rename(&temp, to).map_err(io_error(to, "cannot create"))?;
        sync_dir(to)
    });
    if finished.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    finished?;
    Ok((schema_version, tables))
}

/// The database URL with another database name.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|s| s + 3)
        .and_then(|start| base[start..].find('/').map(|i| start + i));
    let prefix = match authority_end {
        Some(slash) => &base[..slash],
        None => base,
    };
    match query {
        Some(q) => format!("{prefix}/{database}?{q}"),
        None => format!("{prefix}/{database}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading, verifying, restoring

/// A backup on disk: its manifest and where its files are.
#[derive(Debug, Clone)]
pub struct BackupFiles {
    pub manifest: Manifest,
    pub dir: PathBuf,
}

impl BackupFiles {
    pub fn payload_path(&self) -> PathBuf {
        self.dir.join(&self.manifest.payload)
    }

    pub fn verified_marker(&self) -> PathBuf {
        self.dir
            .join(format!("{}{VERIFIED_SUFFIX}", self.manifest.name))
    }

    pub fn is_verified(&self) -> bool {
        self.verified_marker().is_file()
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.dir
            .join(format!("{}{MANIFEST_SUFFIX}", self.manifest.name))
    }

    /// Deletes the backup's files (the manifest last, so a half-deleted backup is still listed
    /// and deleted again next time).
    pub fn delete(&self) -> Result<(), OpsError> {
        for path in [self.payload_path(), self.verified_marker()] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&path, "cannot delete")(e)),
            }
        }
        let manifest = self.manifest_path();
        std::fs::remove_file(&manifest).map_err(io_error(&manifest, "cannot delete"))
    }
}

/// Finds a backup from any of its files (the manifest, the payload, or its common name).
pub fn open_backup(file: &Path) -> Result<BackupFiles, OpsError> {
    let text = file.display().to_string();
    let base = [MANIFEST_SUFFIX, ".sqlite.gz", ".pgdump", VERIFIED_SUFFIX]
        .iter()
        .find_map(|suffix| text.strip_suffix(suffix))
        .unwrap_or(&text);
    let manifest_path = PathBuf::from(format!("{base}{MANIFEST_SUFFIX}"));
    let manifest_text = std::fs::read_to_string(&manifest_path).map_err(|e| {
        OpsError::Refused(format!(
            "no manifest for {}: cannot read {} ({e})",
            file.display(),
            manifest_path.display()
        ))
    })?;
    let manifest: Manifest = serde_json::from_str(&manifest_text).map_err(|e| {
        OpsError::Mismatch(format!(
            "{} is not a manifest: {e}",
            manifest_path.display()
        ))
    })?;
    if manifest.format != FORMAT {
        return Err(OpsError::Mismatch(format!(
            "{} has format {:?}; this server reads {FORMAT:?}",
            manifest_path.display(),
            manifest.format
        )));
    }
    let dir = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    Ok(BackupFiles { manifest, dir })
}

/// Every backup in a directory, oldest first (unreadable manifests are skipped with a warning).
pub fn list_backups(dir: &Path) -> Result<Vec<BackupFiles>, OpsError> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error(dir, "cannot list"))? {
        let entry = entry.map_err(io_error(dir, "cannot list"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(MANIFEST_SUFFIX) || name.starts_with('.') {
            continue;
        }
        match open_backup(&entry.path()) {
            Ok(backup) => found.push(backup),
            Err(e) => {
                tracing::warn!(file = %name, error = %e.describe(), "skipping an unreadable backup")
            }
        }
    }
    found.sort_by_key(|b| b.manifest.created_at);
    Ok(found)
}

fn check_payload(backup: &BackupFiles) -> Result<(), OpsError> {
    let path = backup.payload_path();
    let (bytes, sha256) = file_digest(&path)?;
    if bytes != backup.manifest.payload_bytes || sha256 != backup.manifest.payload_sha256 {
        return Err(OpsError::Mismatch(format!(
            "{} does not match its manifest: {bytes} bytes, SHA-256 {sha256}; the manifest says \
             {} bytes, SHA-256 {}",
            path.display(),
            backup.manifest.payload_bytes,
            backup.manifest.payload_sha256
        )));
    }
    Ok(())
}

fn compare_counts(
    manifest: &Manifest,
    schema_version: i64,
    tables: &BTreeMap<String, i64>,
) -> Result<(), OpsError> {
    if schema_version != manifest.schema_version {
        return Err(OpsError::Mismatch(format!(
            "schema version {schema_version} restored, the manifest says {}",
            manifest.schema_version
        )));
    }
    if tables != &manifest.tables {
        let mut differences = Vec::new();
        for name in manifest.tables.keys().chain(tables.keys()) {
            let want = manifest.tables.get(name);
            let got = tables.get(name);
            if want != got && !differences.iter().any(|d: &String| d.starts_with(name)) {
                differences.push(format!(
                    "{name}: {} restored, manifest {}",
                    got.map_or("none".into(), i64::to_string),
                    want.map_or("none".into(), i64::to_string)
                ));
            }
        }
        return Err(OpsError::Mismatch(format!(
            "row counts differ from the manifest: {}",
            differences.join("; ")
        )));
    }
    Ok(())
}

/// SQLite's own checks on a restored file: page integrity and every foreign key.
async fn sqlite_integrity(path: &Path) -> Result<(i64, BTreeMap<String, i64>), OpsError> {
    let mut conn = open_sqlite_file(path, true).await?;
    let result: Result<_, OpsError> = async {
        let integrity: Vec<String> = sqlx::query_scalar::<Sqlite, String>("PRAGMA integrity_check")
            .fetch_all(&mut conn)
            .await?;
        if integrity != ["ok"] {
            return Err(OpsError::Mismatch(format!(
                "integrity_check: {}",
                integrity.join("; ")
            )));
        }
        let broken: Vec<(String,)> =
            sqlx::query_as::<Sqlite, (String,)>("SELECT \"table\" FROM pragma_foreign_key_check")
                .fetch_all(&mut conn)
                .await?;
        if !broken.is_empty() {
            let tables: Vec<String> = broken.into_iter().map(|(t,)| t).collect();
            return Err(OpsError::Mismatch(format!(
                "{} row(s) break a foreign key (in {})",
                tables.len(),
                tables.join(", ")
            )));
        }
        counts_sqlite(&mut conn).await
    }
    .await;
    let _ = conn.close().await;
    result
}

/// What a verification or restore found.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub schema_version: i64,
    pub tables: BTreeMap<String, i64>,
}

/// Restores the backup into a scratch place, checks it (SQLite: integrity and foreign keys;
/// PostgreSQL: every constraint rebuilt by `pg_restore`) and compares schema version and row
/// counts with the manifest. PostgreSQL needs `admin_url`: a server where a scratch database
/// can be created (and is dropped afterwards). Marks the backup verified when all holds.
pub async fn verify(backup: &BackupFiles, admin_url: Option<&str>) -> Result<Checked, OpsError> {
    let payload_ok = {
        let backup = backup.clone();
        tokio::task::spawn_blocking(move || check_payload(&backup))
            .await
            .map_err(|e| OpsError::Failed(format!("checksum stopped: {e}")))?
    };
    payload_ok?;
    let checked = match backup.manifest.backend {
        Backend::Sqlite => {
            let scratch = std::env::temp_dir().join(format!(
                "chauffeur-verify-{}-{}.db",
                backup.manifest.name,
                uuid::Uuid::now_v7().simple()
            ));
            let result: Result<_, OpsError> = async {
                let (from, to) = (backup.payload_path(), scratch.clone());
                tokio::task::spawn_blocking(move || decompress_into(&from, &to))
                    .await
                    .map_err(|e| OpsError::Failed(format!("decompression stopped: {e}")))??;
                sqlite_integrity(&scratch).await
            }
            .await;
            let _ = std::fs::remove_file(&scratch);
            result?
        }
        Backend::Postgres => {
            let admin_url = admin_url.ok_or_else(|| {
                OpsError::Refused(
                    "verifying a PostgreSQL backup needs --database-url: a server where a \
                     scratch database may be created and dropped"
                        .into(),
                )
            })?;
            let scratch = format!("chauffeur_verify_{}", uuid::Uuid::now_v7().simple());
            let mut admin = sqlx::PgConnection::connect(admin_url).await?;
            sqlx::query::<sqlx::Postgres>(sqlx::AssertSqlSafe(format!(
                "CREATE DATABASE {scratch}"
            )))
            .execute(&mut admin)
            .await?;
            let scratch_url = with_database(admin_url, &scratch);
            let result: Result<_, OpsError> = async {
                pg_restore(backup, &scratch_url, false).await?;
                let mut conn = sqlx::PgConnection::connect(&scratch_url).await?;
                let counted = counts_postgres(&mut conn).await;
                let _ = conn.close().await;
                counted
            }
            .await;
            let dropped = sqlx::query::<sqlx::Postgres>(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await;
            let _ = admin.close().await;
            let counted = result?;
            dropped?;
            counted
        }
    };
    compare_counts(&backup.manifest, checked.0, &checked.1)?;
    // The checks held; a read-only backup directory only means retention will not count it.
    let marker = serde_json::json!({ "verified_at": Utc::now() }).to_string();
    if let Err(e) = write_atomically(&backup.verified_marker(), &marker) {
        tracing::warn!(error = %e.describe(), "backup verified, but its .verified marker cannot be written");
    }
    Ok(Checked {
        schema_version: checked.0,
        tables: checked.1,
    })
}

async fn pg_restore(backup: &BackupFiles, url: &str, clean: bool) -> Result<(), OpsError> {
    let mut args = vec![
        "--exit-on-error".to_owned(),
        "--no-owner".to_owned(),
        "--no-privileges".to_owned(),
        "--single-transaction".to_owned(),
    ];
    if clean {
        args.push("--clean".to_owned());
        args.push("--if-exists".to_owned());
    }
    args.push(backup.payload_path().display().to_string());
    run_pg_tool("pg_restore", &args, url, "restore").await
}

/// Where to restore to.
pub enum Target {
    /// The data directory: its `chauffeur.db` is replaced.
    DataDir(PathBuf),
    /// A PostgreSQL database (which must exist).
    Postgres(String),
}

/// Restores a backup (its checksum checked first). Refuses a target that holds tables unless
/// `force`. Returns what the restored database holds, compared with the manifest.
pub async fn restore(
    backup: &BackupFiles,
    target: &Target,
    force: bool,
) -> Result<Checked, OpsError> {
    {
        let backup = backup.clone();
        tokio::task::spawn_blocking(move || check_payload(&backup))
            .await
            .map_err(|e| OpsError::Failed(format!("checksum stopped: {e}")))??;
    }
    let (schema_version, tables) = match (target, backup.manifest.backend) {
        (Target::DataDir(dir), Backend::Sqlite) => {
            std::fs::create_dir_all(dir).map_err(io_error(dir, "cannot create"))?;
            let db = dir.join("chauffeur.db");
            if db.exists() && !force {
                match sqlite_counts(&db).await {
                    Ok((_, existing)) if existing.is_empty() => {}
                    Ok((_, existing)) => {
                        return Err(OpsError::Refused(format!(
                            "{} already holds a database ({} bookings); pass --force to replace \
                             it (stop every server using it first)",
                            db.display(),
                            existing.get("bookings").copied().unwrap_or(0)
                        )))
                    }
                    Err(e) => {
                        return Err(OpsError::Refused(format!(
                            "{} exists and cannot be read ({e}); pass --force to replace it",
                            db.display()
                        )))
                    }
                }
            }
            let temp = temp_beside(&db);
            let result: Result<_, OpsError> = async {
                let (from, to) = (backup.payload_path(), temp.clone());
                tokio::task::spawn_blocking(move || decompress_into(&from, &to))
                    .await
                    .map_err(|e| OpsError::Failed(format!("decompression stopped: {e}")))??;
                let checked = sqlite_integrity(&temp).await?;
                // The old database's WAL must not be replayed onto the restored file.
                for suffix in ["-wal", "-shm"] {
                    let mut stale = db.clone().into_os_string();
                    stale.push(suffix);
                    match std::fs::remove_file(&stale) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io_error(Path::new(&stale), "cannot delete")(e)),
                    }
                }
                std::fs::rename(&temp, &db).map_err(io_error(&db, "cannot create"))?;
                sync_dir(&db)?;
                Ok(checked)
            }
            .await;
            if result.is_err() {
                let _ = std::fs::remove_file(&temp);
            }
            result?
        }
        (Target::Postgres(url), Backend::Postgres) => {
            let mut conn = sqlx::PgConnection::connect(url).await?;
            let (_, existing) = counts_postgres(&mut conn).await?;
            let _ = conn.close().await;
            if !existing.is_empty() && !force {
                return Err(OpsError::Refused(format!(
                    "the target database already has {} table(s) ({} bookings); pass --force to \
                     replace them (stop every server using it first)",
                    existing.len(),
                    existing.get("bookings").copied().unwrap_or(0)
                )));
            }
            pg_restore(backup, url, !existing.is_empty()).await?;
            let mut conn = sqlx::PgConnection::connect(url).await?;
            let counted = counts_postgres(&mut conn).await;
            let _ = conn.close().await;
            counted?
        }
        (Target::DataDir(_), Backend::Postgres) => {
            return Err(OpsError::Refused(
                "this is a PostgreSQL backup: restore it with --database-url".into(),
            ))
        }
        (Target::Postgres(_), Backend::Sqlite) => {
            return Err(OpsError::Refused(
                "this is a SQLite backup: restore it with --data-dir".into(),
            ))
        }
    };
    compare_counts(&backup.manifest, schema_version, &tables)?;
    Ok(Checked {
        schema_version,
        tables,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_the_url_for_the_environment() {
        assert_eq!(
            split_password("postgres://app:s%40cret@db.example:5432/chauffeur"),
            (
                "postgres://app@db.example:5432/chauffeur".to_owned(),
                Some("s@cret".to_owned())
            )
        );
        assert_eq!(
            split_password("postgres://app@db/chauffeur"),
            ("postgres://app@db/chauffeur".to_owned(), None)
        );
    }

    #[test]
    fn a_scratch_database_keeps_the_server_and_options() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5432/postgres?sslmode=disable", "x"),
            "postgres://u@127.0.0.1:5432/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5432", "x"),
            "postgres://u@127.0.0.1:5432/x"
        );
    }

    #[test]
    fn names_sort_in_time_order() {
        let a = backup_name(
            DateTime::parse_from_rfc3339("2026-11-28T09:59:59.999Z")
                .unwrap()
                .into(),
        );
        let b = backup_name(
            DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
                .unwrap()
                .into(),
        );
        assert!(a < b, "{a} {b}");
        assert_eq!(b, "chauffeur-20261128T100000.000Z");
    }
}
