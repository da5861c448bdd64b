//! The rider app's offline cache (feature `client`): one SQLite file (WAL, synchronous=FULL,
//! versioned migrations) holding the catalog with its ETag, the rider's bookings with their
//! history, non-secret session state, and the outbox — intents made offline, each with its
//! idempotency key, written in the same transaction as the pending booking the app shows, and
//! replayed in order when the network returns. The session token itself never lands here: it
//! belongs in the platform's secure store.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

/// Failures of the cache, with stable codes like the domain's.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("the cache file was written by a newer app (schema {found}, this app knows {known})")]
    NewerSchema { found: i64, known: i64 },
    #[error("cache storage: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("no such outbox entry {0}")]
    UnknownEntry(i64),
}

impl CacheError {
    pub fn code(&self) -> &'static str {
        match self {
            CacheError::NewerSchema { .. } => "cache_newer_schema",
            CacheError::Storage(_) => "cache_storage",
            CacheError::UnknownEntry(_) => "cache_unknown_entry",
        }
    }
}

/// Each step runs once, in order; `PRAGMA user_version` records how far a file got.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE catalog (id INTEGER PRIMARY KEY CHECK (id = 1), etag TEXT NOT NULL, json TEXT NOT NULL);
     CREATE TABLE bookings (
         id TEXT PRIMARY KEY,
         city_id TEXT NOT NULL,
         state TEXT NOT NULL,
         pickup_at TEXT NOT NULL,
         version INTEGER NOT NULL,
         json TEXT NOT NULL,
         pending_sync INTEGER NOT NULL DEFAULT 0
     );
     CREATE INDEX bookings_by_pickup ON bookings (pickup_at DESC, id);
     CREATE TABLE booking_history (
         booking_id TEXT NOT NULL,
         version INTEGER NOT NULL,
         json TEXT NOT NULL,
         PRIMARY KEY (booking_id, version)
     );
     CREATE TABLE outbox (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         kind TEXT NOT NULL,
         idempotency_key TEXT NOT NULL UNIQUE,
         booking_id TEXT,
         body TEXT NOT NULL,
         state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'refused')),
         error_code TEXT,
         error_detail TEXT,
         created_at TEXT NOT NULL
     );",
    // 2: the HTTP status of a refusal, so the app can say precisely what happened.
    "ALTER TABLE outbox ADD COLUMN error_status INTEGER;",
];

/// The schema this build writes (the number of migrations).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// A booking as the app keeps it: the server's JSON plus the columns the lists sort and
/// filter by.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedBooking {
    pub id: String,
    pub city_id: String,
    pub state: String,
    pub pickup_at: DateTime<Utc>,
    pub version: i64,
    pub json: String,
    /// Made or changed offline; not confirmed by the server yet.
    pub pending_sync: bool,
}

/// One intent waiting for (or done with) the network.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    pub seq: i64,
    /// `create_booking` or `cancel_booking`.
    pub kind: String,
    pub idempotency_key: String,
    pub booking_id: Option<String>,
    pub body: String,
    pub state: OutboxState,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OutboxState {
    Pending,
    Sent,
    /// The server said no; the app shows why (never a silent drop).
    Refused {
        /// The server's HTTP status; `None` when its answer could not be read.
        status: Option<u16>,
        code: String,
        detail: String,
    },
}

pub struct Cache {
    conn: Connection,
}

impl Cache {
    /// Opens (creating if needed) and migrates the cache file.
    pub fn open(path: &Path) -> Result<Cache, CacheError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut cache = Cache { conn };
        cache.migrate()?;
        Ok(cache)
    }

    fn migrate(&mut self) -> Result<(), CacheError> {
        let known = SCHEMA_VERSION;
        let found: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > known {
            return Err(CacheError::NewerSchema { found, known });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    pub fn schema_version(&self) -> Result<i64, CacheError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Non-secret session state (the signed-in e-mail, the last sync time…).
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), CacheError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, CacheError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Forgets everything of the signed-in rider — bookings, their history, the outbox, the
    /// session state — in one transaction; the catalog stays (it is nobody's).
    pub fn clear_rider_data(&mut self) -> Result<(), CacheError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "DELETE FROM bookings; DELETE FROM booking_history; DELETE FROM outbox; DELETE FROM meta;",
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Stores the catalog the server sent with its ETag (for the next If-None-Match).
    pub fn put_catalog(&self, etag: &str, json: &str) -> Result<(), CacheError> {
        self.conn.execute(
            "INSERT INTO catalog (id, etag, json) VALUES (1, ?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET etag = excluded.etag, json = excluded.json",
            params![etag, json],
        )?;
        Ok(())
    }

    pub fn catalog(&self) -> Result<Option<(String, String)>, CacheError> {
        Ok(self
            .conn
            .query_row("SELECT etag, json FROM catalog WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }

    /// Stores bookings as the server sent them (a newer version replaces an older one; an
    /// older one never overwrites a newer one), all in one transaction.
    pub fn put_bookings(&mut self, bookings: &[CachedBooking]) -> Result<(), CacheError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO bookings (id, city_id, state, pickup_at, version, json, pending_sync) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (id) DO UPDATE SET city_id = excluded.city_id, state = excluded.state, \
                 pickup_at = excluded.pickup_at, version = excluded.version, json = excluded.json, \
                 pending_sync = excluded.pending_sync WHERE excluded.version >= bookings.version",
            )?;
            for b in bookings {
                upsert.execute(params![
                    b.id,
                    b.city_id,
                    b.state,
                    b.pickup_at.to_rfc3339(),
                    b.version,
                    b.json,
                    b.pending_sync
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every cached booking, latest pickup first.
    pub fn bookings(&self) -> Result<Vec<CachedBooking>, CacheError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, city_id, state, pickup_at, version, json, pending_sync FROM bookings \
             ORDER BY pickup_at DESC, id",
        )?;
        let rows = stmt.query_map([], |r| {
            let pickup: String = r.get(3)?;
            let pickup_at = DateTime::parse_from_rfc3339(&pickup)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        3,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })?;
            Ok(CachedBooking {
                id: r.get(0)?,
                city_id: r.get(1)?,
                state: r.get(2)?,
                pickup_at,
                version: r.get(4)?,
                json: r.get(5)?,
                pending_sync: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Keeps a booking's history versions (append-only, like the server's).
    pub fn put_history(
        &mut self,
        booking_id: &str,
        versions: &[(i64, String)],
    ) -> Result<(), CacheError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (version, json) in versions {
            tx.execute(
                "INSERT OR IGNORE INTO booking_history (booking_id, version, json) VALUES (?1, ?2, ?3)",
                params![booking_id, version, json],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn history(&self, booking_id: &str) -> Result<Vec<(i64, String)>, CacheError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT version, json FROM booking_history WHERE booking_id = ?1 ORDER BY version",
        )?;
        let rows = stmt.query_map(params![booking_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records an intent made offline and, in the same transaction, the booking as the app shows
    /// it meanwhile (marked pending sync). Returns the entry's sequence number.
    pub fn enqueue(
        &mut self,
        kind: &str,
        idempotency_key: &str,
        body: &str,
        shown: Option<&CachedBooking>,
        now: DateTime<Utc>,
    ) -> Result<i64, CacheError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO outbox (kind, idempotency_key, booking_id, body, state, created_at) \
             VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
            params![
                kind,
                idempotency_key,
                shown.map(|b| b.id.as_str()),
                body,
                now.to_rfc3339()
            ],
        )?;
        let seq = tx.last_insert_rowid();
        if let Some(b) = shown {
            tx.execute(
                "INSERT INTO bookings (id, city_id, state, pickup_at, version, json, pending_sync) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1) \
                 ON CONFLICT (id) DO UPDATE SET state = excluded.state, json = excluded.json, pending_sync = 1",
                params![b.id, b.city_id, b.state, b.pickup_at.to_rfc3339(), b.version, b.json],
            )?;
        }
        tx.commit()?;
        Ok(seq)
    }

    /// The entries still to send, oldest first: the order they were made in.
    pub fn pending(&self) -> Result<Vec<OutboxEntry>, CacheError> {
        self.entries("WHERE state = 'pending'")
    }

    /// Every entry, oldest first (refused ones included, for the app to explain).
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, CacheError> {
        self.entries("")
    }

    fn entries(&self, filter: &str) -> Result<Vec<OutboxEntry>, CacheError> {
        let sql = format!(
            "SELECT seq, kind, idempotency_key, booking_id, body, state, error_code, error_detail, \
             error_status FROM outbox {filter} ORDER BY seq"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| {
            let state: String = r.get(5)?;
            let state = match state.as_str() {
                "sent" => OutboxState::Sent,
                "refused" => OutboxState::Refused {
                    status: r
                        .get::<_, Option<i64>>(8)?
                        .and_then(|s| u16::try_from(s).ok()),
                    code: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                    detail: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                },
                _ => OutboxState::Pending,
            };
            Ok(OutboxEntry {
                seq: r.get(0)?,
                kind: r.get(1)?,
                idempotency_key: r.get(2)?,
                booking_id: r.get(3)?,
                body: r.get(4)?,
                state,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The server applied the entry; `confirmed` replaces the pending booking the app showed.
    pub fn mark_sent(
        &mut self,
        seq: i64,
        confirmed: Option<&CachedBooking>,
    ) -> Result<(), CacheError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let updated = tx.execute(
            "UPDATE outbox SET state = 'sent' WHERE seq = ?1",
            params![seq],
        )?;
        if updated != 1 {
            return Err(CacheError::UnknownEntry(seq));
        }
        if let Some(b) = confirmed {
            // The placeholder the app showed while offline gives way to the server's booking.
            tx.execute(
                "DELETE FROM bookings WHERE pending_sync = 1 AND id != ?2 \
                 AND id = (SELECT booking_id FROM outbox WHERE seq = ?1)",
                params![seq, b.id],
            )?;
            tx.execute(
                "INSERT INTO bookings (id, city_id, state, pickup_at, version, json, pending_sync) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0) \
                 ON CONFLICT (id) DO UPDATE SET city_id = excluded.city_id, state = excluded.state, \
                 pickup_at = excluded.pickup_at, version = excluded.version, json = excluded.json, pending_sync = 0",
                params![b.id, b.city_id, b.state, b.pickup_at.to_rfc3339(), b.version, b.json],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The rider has read why an entry was refused: it goes, and with it the placeholder
    /// booking it showed (a refused cancel leaves the real booking, which the next refresh
    /// brings back to the server's state).
    pub fn dismiss_refused(&mut self, seq: i64) -> Result<(), CacheError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "DELETE FROM bookings WHERE pending_sync = 1 AND id LIKE 'local-%' \
             AND id = (SELECT booking_id FROM outbox WHERE seq = ?1 AND state = 'refused')",
            params![seq],
        )?;
        let deleted = tx.execute(
            "DELETE FROM outbox WHERE seq = ?1 AND state = 'refused'",
            params![seq],
        )?;
        if deleted != 1 {
            return Err(CacheError::UnknownEntry(seq));
        }
        tx.commit()?;
        Ok(())
    }

    /// The server refused the entry (an expired quote, a changed fee): kept, with the reason,
    /// for the app to show.
    pub fn mark_refused(
        &mut self,
        seq: i64,
        status: Option<u16>,
        code: &str,
        detail: &str,
    ) -> Result<(), CacheError> {
        let updated = self.conn.execute(
            "UPDATE outbox SET state = 'refused', error_status = ?2, error_code = ?3, \
             error_detail = ?4 WHERE seq = ?1",
            params![seq, status, code, detail],
        )?;
        if updated != 1 {
            return Err(CacheError::UnknownEntry(seq));
        }
        Ok(())
    }
}
