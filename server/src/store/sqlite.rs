//! The SQLite backend: the shared queries in `queries/` compiled against `sqlx::Sqlite`.

// Both backends include the same query files on purpose: that is how one SQL text serves two
// databases.
#![allow(clippy::duplicate_mod)]

pub type Db = sqlx::Sqlite;
pub type Conn = sqlx::SqliteConnection;

/// SQLite has one writer at a time: a write transaction takes the write lock when it begins, so
/// it never fails half-way on a lock upgrade.
pub const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
/// One server process: the writer turn and the group writer already serialise work on one
/// idempotency key, so no lock statement is needed.
pub const TRY_KEY_LOCK: Option<&str> = None;
/// One process: the writers announce their changes themselves.
pub const NOTIFY: Option<&str> = None;

#[path = "queries/accounts.rs"]
pub mod accounts;
#[path = "queries/archive.rs"]
pub mod archive;
#[path = "queries/bookings.rs"]
pub mod bookings;
#[path = "queries/events.rs"]
pub mod events;
#[path = "queries/idempotency.rs"]
pub mod idempotency;
#[path = "queries/invoices.rs"]
pub mod invoices;
#[path = "queries/offers.rs"]
pub mod offers;
#[path = "queries/partners.rs"]
pub mod partners;
#[path = "queries/payments.rs"]
pub mod payments;
#[path = "queries/positions.rs"]
pub mod positions;
#[path = "queries/schema.rs"]
pub mod schema;
