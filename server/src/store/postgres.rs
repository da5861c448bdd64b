//! The PostgreSQL backend: the shared queries in `queries/` compiled against `sqlx::Postgres`.

// Both backends include the same query files on purpose: that is how one SQL text serves two
// databases.
#![allow(clippy::duplicate_mod)]

pub type Db = sqlx::Postgres;
pub type Conn = sqlx::PgConnection;

pub const BEGIN_WRITE: &str = "BEGIN";
/// Serialises work on one idempotency key across replicas: a transaction-scoped advisory lock,
/// taken without waiting (`false`: somebody else is on it).
pub const TRY_KEY_LOCK: Option<&str> =
    Some("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))");
/// Tells every replica's event streams that something changed, on commit.
pub const NOTIFY: Option<&str> = Some("SELECT pg_notify('chauffeur_events', '')");

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
