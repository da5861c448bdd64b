//! Storage: one interface (`Store`), two real backends (SQLite, PostgreSQL).
//!
//! Every query is written once, in `queries/`, and compiled twice: `sqlite.rs` and `postgres.rs`
//! each include those files as modules next to their own `Db` type and the few statements that
//! differ (how a write transaction begins, the idempotency-key lock, the change notification).
//! Both backends therefore run the same SQL text and cannot drift apart; only the schema files
//! differ. Invariants that must hold under concurrency are enforced by constraints and
//! conditional updates.
//!
//! The `Store` methods live with their area: `accounts`, `bookings`, `idempotency`, `fleet`
//! (partners, vehicles, offers), `positions`, `events`. This file holds the store itself:
//! connecting, migrating, errors, and SQLite's writer turn and group commit.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgPoolOptions, Postgres};
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Pool;

/// Forwards a read to the backend's query function of the same name: `read!(self,
/// area::function(args))`.
macro_rules! read {
    ($store:ident, $area:ident :: $f:ident ( $($arg:expr),* $(,)? )) => {
        match $store {
            $crate::store::Store::Sqlite(db) => {
                $crate::store::sqlite::$area::$f(&db.pool, $($arg),*).await
            }
            $crate::store::Store::Postgres(pool) => {
                $crate::store::postgres::$area::$f(pool, $($arg),*).await
            }
        }
    };
}

/// Forwards a write like `read!`; on SQLite it first takes the writer's turn. A successful
/// write is announced to the event streams.
macro_rules! write_turn {
    ($store:ident, $area:ident :: $f:ident ( $($arg:expr),* $(,)? )) => {{
        let result = match $store {
            $crate::store::Store::Sqlite(db) => {
                let _turn = db.writer.lock().await;
                $crate::store::sqlite::$area::$f(&db.pool, $($arg),*).await
            }
            $crate::store::Store::Postgres(pool) => {
                $crate::store::postgres::$area::$f(pool, $($arg),*).await
            }
        };
        if result.is_ok() {
            $crate::store::announce_change();
        }
        result
    }};
}

/// The columns a `rows::BookingRow` reads, to `concat!` into a query's text.
macro_rules! booking_columns {
    () => {
        "id, rider_id, city_id, state, vehicle_class, product, pickup_at, price_minor, currency, \
         quote, child_seats, cancellation_fee_minor, version, created_at, updated_at, partner_id, \
         chauffeur_id, vehicle_id, receipt, final_price_minor, payment"
    };
}

mod accounts;
mod archive;
mod bookings;
mod events;
mod fleet;
mod idempotency;
mod invoices;
mod payments;
mod positions;
pub mod postgres;
mod rows;
pub mod sqlite;

pub use accounts::{AttemptCount, Credentials, NewUser, Role, User};
pub use archive::ArchivedVersion;
pub use bookings::{
    AssignmentChange, Booking, BookingsOf, Export, ExportedBooking, HistoryEntry, PageKey,
    Personal, Transition, EXPORT_PAGE,
};
pub use events::{announce_change, subscribe_changes, StreamEvent};
pub use fleet::{
    Accepted, ChauffeurAccount, DispatchTurn, GiveBack, Offer, OfferState, PartnerMember,
    PartnerSummary, Vehicle,
};
pub use idempotency::{Created, IdempotentCreate};
pub use invoices::IssuedInvoice;
pub use payments::{AttemptStart, PaymentAttempt};
pub use positions::{AvailableChauffeur, ChauffeurSearch};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("the record changed meanwhile")]
    Stale,
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// A chauffeur's overlapping rides: PostgreSQL's exclusion constraint (SQLSTATE 23P01) or the
/// SQLite trigger's abort.
fn is_overlap(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.code().as_deref() == Some("23P01") || db.message().contains("chauffeur_busy")
        }
        _ => false,
    }
}

/// Stored text that must be one of a closed set of names (a state, a class, a role).
fn parse_stored<T>(
    what: &str,
    text: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(text).ok_or_else(|| StoreError::Corrupt(format!("{what} {text:?}")))
}

/// The repository: the same operations on either database.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqliteBackend),
    Postgres(Pool<Postgres>),
}

/// SQLite allows one writer at a time. Writers queue here, in order and without spinning,
/// instead of in SQLite's busy handler, which sleeps in growing steps and makes latency spiky.
/// Booking creations go through `group`: a writer task commits the bookings waiting at that
/// moment in one durable transaction (each in its own savepoint), so one fsync serves many.
#[derive(Clone)]
pub struct SqliteBackend {
    pub pool: Pool<Sqlite>,
    writer: Arc<tokio::sync::Mutex<()>>,
    group: tokio::sync::mpsc::Sender<GroupJob>,
}

impl std::fmt::Debug for SqliteBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBackend")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

/// Told after the group's COMMIT whether it held (`Err` carries why not).
type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;
/// Runs inside the group transaction; says whether to keep its writes, and how to answer.
type GroupJob = Box<
    dyn for<'c> FnOnce(
            &'c mut sqlx::SqliteConnection,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = (bool, Completion)> + Send + 'c>,
        > + Send,
>;

/// At most this many creations share one commit.
const MAX_GROUP: usize = 64;

async fn group_writer(
    pool: Pool<Sqlite>,
    writer: Arc<tokio::sync::Mutex<()>>,
    mut jobs_in: tokio::sync::mpsc::Receiver<GroupJob>,
) {
    while let Some(first) = jobs_in.recv().await {
        let _turn = writer.lock().await;
        // Everything that queued up meanwhile (including while we waited for the turn) joins.
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match jobs_in.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut tx = match pool.begin_with(sqlite::BEGIN_WRITE).await {
            Ok(tx) => tx,
            Err(e) => {
                // Dropping the jobs tells each waiting request that nothing was written.
                tracing::error!(error = %e, "cannot open the group write transaction");
                continue;
            }
        };
        let mut completions = Vec::with_capacity(jobs.len());
        let mut failure = None;
        for job in jobs {
            if let Err(e) = sqlx::query("SAVEPOINT job").execute(&mut *tx).await {
                failure = Some(e.to_string());
                break;
            }
            let (keep, completion) = job(&mut tx).await;
            completions.push(completion);
            let end = if keep {
                sqlx::query("RELEASE job").execute(&mut *tx).await
            } else {
                match sqlx::query("ROLLBACK TO job").execute(&mut *tx).await {
                    Ok(_) => sqlx::query("RELEASE job").execute(&mut *tx).await,
                    Err(e) => Err(e),
                }
            };
            if let Err(e) = end {
                failure = Some(e.to_string());
                break;
            }
        }
        let committed = match failure {
            Some(reason) => Err(reason),
            None => tx.commit().await.map_err(|e| e.to_string()),
        };
        if let Err(reason) = &committed {
            tracing::error!(%reason, "group commit failed; nothing of it was kept");
        }
        for completion in completions {
            completion(committed.clone());
        }
    }
}

/// Whether a connection handed back to the pool may serve again: only outside a transaction. A
/// transaction dropped without commit queues its ROLLBACK; a ping waits for it to run. If sqlx
/// still counts a transaction after that, its ROLLBACK failed — SQLite had already rolled back,
/// as it does when a COMMIT fails on a full disk — and the connection would refuse every later
/// `BEGIN`: it is closed instead, and the pool opens a fresh one.
async fn release_only_idle<C: sqlx::Connection>(conn: &mut C) -> Result<bool, sqlx::Error> {
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    let _ = conn.ping().await;
    let idle = !conn.is_in_transaction();
    if !idle {
        tracing::warn!("closing a database connection left inside a transaction");
    }
    Ok(idle)
}

const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../migrations/sqlite/0001_accounts_bookings.sql"),
    ),
    (
        2,
        include_str!("../../migrations/sqlite/0002_partners_offers.sql"),
    ),
    (3, include_str!("../../migrations/sqlite/0003_events.sql")),
    (
        4,
        include_str!("../../migrations/sqlite/0004_readiness.sql"),
    ),
    (
        5,
        include_str!("../../migrations/sqlite/0005_login_attempts.sql"),
    ),
    (6, include_str!("../../migrations/sqlite/0006_invoices.sql")),
    (7, include_str!("../../migrations/sqlite/0007_payments.sql")),
];
const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../migrations/postgres/0001_accounts_bookings.sql"),
    ),
    (
        2,
        include_str!("../../migrations/postgres/0002_partners_offers.sql"),
    ),
    (3, include_str!("../../migrations/postgres/0003_events.sql")),
    (
        4,
        include_str!("../../migrations/postgres/0004_readiness.sql"),
    ),
    (
        5,
        include_str!("../../migrations/postgres/0005_login_attempts.sql"),
    ),
    (
        6,
        include_str!("../../migrations/postgres/0006_invoices.sql"),
    ),
    (
        7,
        include_str!("../../migrations/postgres/0007_payments.sql"),
    ),
];

impl Store {
    /// Opens `sqlite://path` (created if missing; WAL, synchronous=FULL) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .after_release(|conn, _| Box::pin(release_only_idle(conn)))
                .connect(url)
                .await?;
            tokio::spawn(events::relay_notifications(pool.clone()));
            Ok(Store::Postgres(pool))
        } else {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .after_release(|conn, _| Box::pin(release_only_idle(conn)))
                .connect_with(options)
                .await?;
            let writer = Arc::new(tokio::sync::Mutex::new(()));
            let (group, jobs_in) = tokio::sync::mpsc::channel(4 * MAX_GROUP);
            tokio::spawn(group_writer(pool.clone(), writer.clone(), jobs_in));
            Ok(Store::Sqlite(SqliteBackend {
                pool,
                writer,
                group,
            }))
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Applies the migrations not yet applied, each in its own transaction. Safe to run from
    /// several replicas at once on PostgreSQL (an advisory lock serialises them).
    pub async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        const CREATE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations \
            (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)";
        let mut applied = Vec::new();
        match self {
            Store::Sqlite(db) => {
                let pool = &db.pool;
                let _turn = db.writer.lock().await;
                sqlx::query::<Sqlite>(CREATE).execute(pool).await?;
                for &(version, sql) in SQLITE_MIGRATIONS {
                    let mut tx = pool.begin_with(sqlite::BEGIN_WRITE).await?;
                    if sqlite::schema::apply_migration(&mut tx, version, sql).await? {
                        applied.push(version);
                    }
                    tx.commit().await?;
                }
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                // Several replicas may start at once: one migrates, the others wait and see.
                sqlx::query::<Postgres>("SELECT pg_advisory_xact_lock(727274)")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<Postgres>(CREATE).execute(&mut *tx).await?;
                for &(version, sql) in POSTGRES_MIGRATIONS {
                    if postgres::schema::apply_migration(&mut tx, version, sql).await? {
                        applied.push(version);
                    }
                }
                tx.commit().await?;
            }
        }
        Ok(applied)
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        read!(self, schema::ping())
    }

    /// Whether the database can take a durable write right now (one row rewritten and
    /// committed): `/readyz` asks this, so a full disk or a read-only file is "not ready".
    pub async fn check_writable(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        write_turn!(self, schema::check_writable(now))
    }
}
