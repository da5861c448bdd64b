//! Storage: one interface (`Store`), two real backends (SQLite, PostgreSQL). Both backends are
//! generated from the same SQL by one macro, so they cannot drift apart; only the schema files
//! and the statement that opens a write transaction differ. Invariants that must hold under
//! concurrency are enforced here by constraints and conditional updates.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chauffeur_core::booking::{Actor, BookingState};
use chauffeur_core::catalog::VehicleClass;
use chauffeur_core::dispatch::PartnerRecord;
use chauffeur_core::fare::ProductKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::postgres::{PgPoolOptions, Postgres};
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::types::Json;
use sqlx::{Pool, Row};
use uuid::Uuid;

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

fn is_unique_violation(e: &sqlx::Error) -> bool {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Rider,
    Partner,
    Chauffeur,
    Operator,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Rider => "rider",
            Role::Partner => "partner",
            Role::Chauffeur => "chauffeur",
            Role::Operator => "operator",
        }
    }

    fn parse(text: &str) -> Result<Role, StoreError> {
        [Role::Rider, Role::Partner, Role::Chauffeur, Role::Operator]
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| StoreError::Corrupt(format!("role {text:?}")))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub erased_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub name: Option<&'a str>,
    pub phone: Option<&'a str>,
}

/// A booking as stored, without personal data: this is also what the history snapshots hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booking {
    pub id: Uuid,
    pub rider_id: Uuid,
    pub city_id: String,
    pub state: BookingState,
    pub vehicle_class: VehicleClass,
    pub product: ProductKind,
    pub pickup_at: DateTime<Utc>,
    pub price_minor: i64,
    pub currency: String,
    /// The signed quote the rider booked (the domain `Quote` as JSON).
    pub quote: Value,
    pub child_seats: i64,
    pub cancellation_fee_minor: Option<i64>,
    /// The partner that accepted the ride, once one did.
    #[serde(default)]
    pub partner_id: Option<Uuid>,
    /// The chauffeur and vehicle the partner assigned.
    #[serde(default)]
    pub chauffeur_id: Option<Uuid>,
    #[serde(default)]
    pub vehicle_id: Option<Uuid>,
    /// After completion: the core's receipt (quote + declared extras) and its total.
    #[serde(default)]
    pub receipt: Option<Value>,
    #[serde(default)]
    pub final_price_minor: Option<i64>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A booking's personal data; erased (set to None) when the rider deletes their account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Personal {
    pub passenger_name: Option<String>,
    pub passenger_phone: Option<String>,
    pub flight_number: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub version: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub actor_id: Option<Uuid>,
    pub from_state: Option<String>,
    pub to_state: String,
    /// The booking as it was after this change.
    pub snapshot: Value,
}

/// A create under an idempotency key, with the response to store for replays.
#[derive(Debug, Clone)]
pub struct IdempotentCreate<'a> {
    pub user_id: Uuid,
    pub key: &'a str,
    pub request_hash: &'a str,
    pub response_status: u16,
    pub response_body: &'a str,
}

/// What an idempotent create did.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// Created now, with the stored response.
    Created,
    /// The same key and body completed before: answer exactly this again.
    Replay { status: u16, body: String },
    /// The same key came with a different body; nothing was created.
    Mismatch,
    /// A request with this key is being processed right now; nothing was created.
    InProgress,
}

pub struct Transition {
    pub booking_id: Uuid,
    pub expected_version: i64,
    pub to: BookingState,
    pub actor: Actor,
    pub actor_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub cancellation_fee_minor: Option<i64>,
    /// The receipt and its total, on completion.
    pub receipt: Option<(Value, i64)>,
    pub assignment: AssignmentChange,
    /// The partner giving the ride back (the booking loses its partner).
    pub given_back_by: Option<Uuid>,
}

impl Transition {
    pub fn new(
        booking: &Booking,
        to: BookingState,
        actor: Actor,
        actor_id: Option<Uuid>,
        at: DateTime<Utc>,
    ) -> Transition {
        let assignment = match to {
            BookingState::Cancelled
            | BookingState::Pending
            | BookingState::Confirmed
            | BookingState::Unfulfilled => AssignmentChange::Release,
            _ => AssignmentChange::Keep,
        };
        Transition {
            booking_id: booking.id,
            expected_version: booking.version,
            to,
            actor,
            actor_id,
            at,
            cancellation_fee_minor: None,
            receipt: None,
            assignment,
            given_back_by: None,
        }
    }
}

/// What a transition does to the chauffeur's assignment.
#[derive(Debug, Clone, PartialEq)]
pub enum AssignmentChange {
    Keep,
    /// The chauffeur is free again (cancelled, given back, unassigned).
    Release,
    /// This chauffeur and vehicle drive the ride, busy from `starts_at` to `ends_at`.
    Assign {
        partner_id: Uuid,
        chauffeur_id: Uuid,
        vehicle_id: Uuid,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    },
}

/// An offer of a booking to a partner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Offer {
    pub id: Uuid,
    pub booking_id: Uuid,
    pub partner_id: Uuid,
    /// On-demand offers go to one chauffeur, with the vehicle they would drive.
    pub chauffeur_id: Option<Uuid>,
    pub vehicle_id: Option<Uuid>,
    pub batch: i64,
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Held while this replica runs a dispatch round.
pub struct DispatchTurn(#[allow(dead_code)] Option<sqlx::Transaction<'static, Postgres>>);

/// One event of a rider's or partner's stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamEvent {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
}

/// How an accept ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Accepted {
    /// This partner won; the booking is confirmed.
    Won(Box<Booking>),
    /// No such offer for this partner.
    NotFound,
    /// Another partner was first.
    Taken,
    /// The offer's time ran out.
    Expired,
    /// The offer was already answered or withdrawn.
    Closed(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnerSummary {
    pub id: Uuid,
    pub name: String,
    pub active: bool,
    pub cities: Vec<String>,
    pub classes: Vec<String>,
    pub members: i64,
    pub vehicles: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Export {
    pub user: User,
    pub bookings: Vec<ExportedBooking>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedBooking {
    pub booking: Booking,
    pub personal: Personal,
    pub history: Vec<HistoryEntry>,
}

macro_rules! backend {
    ($name:ident, $db:ty, $begin_write:expr, $try_lock:expr, $notify:expr) => {
        pub mod $name {
            use super::*;

            type Db = $db;
            type DbRow = <$db as sqlx::Database>::Row;

            fn user_from(row: &DbRow) -> Result<User, StoreError> {
                Ok(User {
                    id: row.try_get("id")?,
                    email: row.try_get("email")?,
                    role: Role::parse(row.try_get::<&str, _>("role")?)?,
                    name: row.try_get("name")?,
                    phone: row.try_get("phone")?,
                    created_at: row.try_get("created_at")?,
                    erased_at: row.try_get("erased_at")?,
                })
            }

            fn booking_from(row: &DbRow) -> Result<Booking, StoreError> {
                let text = |col: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(col)?) };
                let state = text("state")?;
                let class = text("vehicle_class")?;
                let product = text("product")?;
                Ok(Booking {
                    id: row.try_get("id")?,
                    rider_id: row.try_get("rider_id")?,
                    city_id: text("city_id")?,
                    state: BookingState::parse(&state)
                        .ok_or_else(|| StoreError::Corrupt(format!("state {state:?}")))?,
                    vehicle_class: VehicleClass::parse(&class)
                        .ok_or_else(|| StoreError::Corrupt(format!("class {class:?}")))?,
                    product: ProductKind::parse(&product)
                        .ok_or_else(|| StoreError::Corrupt(format!("product {product:?}")))?,
                    pickup_at: row.try_get("pickup_at")?,
                    price_minor: row.try_get("price_minor")?,
                    currency: text("currency")?,
                    quote: row.try_get::<Json<Value>, _>("quote")?.0,
                    child_seats: row.try_get("child_seats")?,
                    cancellation_fee_minor: row.try_get("cancellation_fee_minor")?,
                    partner_id: row.try_get("partner_id")?,
                    chauffeur_id: row.try_get("chauffeur_id")?,
                    vehicle_id: row.try_get("vehicle_id")?,
                    receipt: row.try_get::<Option<Json<Value>>, _>("receipt")?.map(|j| j.0),
                    final_price_minor: row.try_get("final_price_minor")?,
                    version: row.try_get("version")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                })
            }

            fn history_from(row: &DbRow) -> Result<HistoryEntry, StoreError> {
                Ok(HistoryEntry {
                    version: row.try_get("version")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    actor_id: row.try_get("actor_id")?,
                    from_state: row.try_get("from_state")?,
                    to_state: row.try_get("to_state")?,
                    snapshot: row.try_get::<Json<Value>, _>("snapshot")?.0,
                })
            }

            fn snapshot(booking: &Booking) -> Result<Json<Value>, StoreError> {
                serde_json::to_value(booking)
                    .map(Json)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))
            }

            /// Applies one migration inside the caller's transaction unless it was applied.
            pub async fn apply_migration(
                tx: &mut <$db as sqlx::Database>::Connection,
                version: i64,
                sql: &'static str,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query::<Db>("SELECT 1 FROM schema_migrations WHERE version = $1")
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await?;
                if done.is_some() {
                    return Ok(false);
                }
                sqlx::raw_sql(sql).execute(&mut *tx).await?;
                sqlx::query::<Db>("INSERT INTO schema_migrations VALUES ($1, $2)")
                    .bind(version)
                    .bind(Utc::now().to_rfc3339())
                    .execute(&mut *tx)
                    .await?;
                Ok(true)
            }

            /// A booking read inside the caller's transaction.
            async fn booking_in(
                tx: &mut <$db as sqlx::Database>::Connection,
                id: Uuid,
            ) -> Result<Option<Booking>, StoreError> {
                let row = sqlx::query::<Db>(
                    "SELECT id, rider_id, city_id, state, vehicle_class, product, pickup_at, \
                     price_minor, currency, quote, child_seats, cancellation_fee_minor, version, \
                     created_at, updated_at, partner_id, chauffeur_id, vehicle_id, receipt, \
                     final_price_minor FROM bookings WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                row.map(|r| booking_from(&r)).transpose()
            }

            /// Appends the booking's new version to its history, in the caller's transaction.
            async fn append_history(
                tx: &mut <$db as sqlx::Database>::Connection,
                booking: &Booking,
                at: DateTime<Utc>,
                actor: Actor,
                actor_id: Option<Uuid>,
                from_state: Option<BookingState>,
            ) -> Result<(), StoreError> {
                sqlx::query::<Db>(
                    "INSERT INTO booking_history \
                     (booking_id, version, at, actor, actor_id, from_state, to_state, snapshot) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(booking.id)
                .bind(booking.version)
                .bind(at)
                .bind(actor.as_str())
                .bind(actor_id)
                .bind(from_state.map(|s| s.as_str()))
                .bind(booking.state.as_str())
                .bind(snapshot(booking)?)
                .execute(&mut *tx)
                .await?;
                Ok(())
            }

            /// Appends an event for the streams, in the caller's transaction.
            async fn append_event(
                tx: &mut <$db as sqlx::Database>::Connection,
                booking_id: Option<Uuid>,
                partner_id: Option<Uuid>,
                kind: &str,
                payload: Value,
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                sqlx::query::<Db>(
                    "INSERT INTO events (booking_id, partner_id, kind, payload, at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(booking_id)
                .bind(partner_id)
                .bind(kind)
                .bind(Json(payload))
                .bind(at)
                .execute(&mut *tx)
                .await?;
                if let Some(notify) = $notify {
                    sqlx::query::<Db>(notify).execute(&mut *tx).await?;
                }
                Ok(())
            }

            fn status_payload(booking: &Booking) -> Value {
                serde_json::json!({
                    "booking_id": booking.id,
                    "state": booking.state.as_str(),
                    "version": booking.version,
                    "at": booking.updated_at,
                })
            }

            pub async fn events_after(
                pool: &Pool<Db>,
                booking_id: Option<Uuid>,
                partner_id: Option<Uuid>,
                after_id: i64,
            ) -> Result<Vec<StreamEvent>, StoreError> {
                let rows = sqlx::query::<Db>(
                    "SELECT id, kind, payload, at FROM events \
                     WHERE id > $1 AND (($2 IS NOT NULL AND booking_id = $2) OR ($3 IS NOT NULL AND partner_id = $3)) \
                     ORDER BY id LIMIT 500",
                )
                .bind(after_id)
                .bind(booking_id)
                .bind(partner_id)
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(StreamEvent {
                            id: r.try_get("id")?,
                            kind: r.try_get("kind")?,
                            payload: r.try_get::<Json<Value>, _>("payload")?.0,
                        })
                    })
                    .collect()
            }

            pub async fn ping(pool: &Pool<Db>) -> Result<(), StoreError> {
                sqlx::query::<Db>("SELECT 1").execute(pool).await?;
                Ok(())
            }

            pub async fn create_user(
                pool: &Pool<Db>,
                user: &NewUser<'_>,
                now: DateTime<Utc>,
            ) -> Result<User, StoreError> {
                let id = Uuid::now_v7();
                let result = sqlx::query::<Db>(
                    "INSERT INTO users (id, email, password_hash, role, name, phone, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id)
                .bind(user.email)
                .bind(user.password_hash)
                .bind(user.role.as_str())
                .bind(user.name)
                .bind(user.phone)
                .bind(now)
                .execute(pool)
                .await;
                match result {
                    Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("account")),
                    Err(e) => Err(e.into()),
                    Ok(_) => Ok(User {
                        id,
                        email: user.email.to_owned(),
                        role: user.role,
                        name: user.name.map(str::to_owned),
                        phone: user.phone.map(str::to_owned),
                        created_at: now,
                        erased_at: None,
                    }),
                }
            }

            pub async fn credentials(
                pool: &Pool<Db>,
                email: &str,
            ) -> Result<Option<(User, String)>, StoreError> {
                let row = sqlx::query::<Db>(
                    "SELECT * FROM users WHERE email = $1 AND erased_at IS NULL",
                )
                .bind(email)
                .fetch_optional(pool)
                .await?;
                row.map(|r| Ok((user_from(&r)?, r.try_get("password_hash")?)))
                    .transpose()
            }

            pub async fn create_session(
                pool: &Pool<Db>,
                token_hash: &str,
                user_id: Uuid,
                now: DateTime<Utc>,
                expires_at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                sqlx::query::<Db>(
                    "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(token_hash)
                .bind(user_id)
                .bind(now)
                .bind(expires_at)
                .execute(pool)
                .await?;
                Ok(())
            }

            pub async fn session_user(
                pool: &Pool<Db>,
                token_hash: &str,
                now: DateTime<Utc>,
            ) -> Result<Option<User>, StoreError> {
                let row = sqlx::query::<Db>(
                    "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id \
                     WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 \
                     AND u.erased_at IS NULL",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(pool)
                .await?;
                row.map(|r| user_from(&r)).transpose()
            }

            pub async fn revoke_session(
                pool: &Pool<Db>,
                token_hash: &str,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                sqlx::query::<Db>(
                    "UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(token_hash)
                .execute(pool)
                .await?;
                Ok(())
            }

            pub async fn record_login_failure(
                pool: &Pool<Db>,
                scopes: &[&str],
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let mut tx = pool.begin_with($begin_write).await?;
                for scope in scopes {
                    sqlx::query::<Db>("INSERT INTO login_failures (scope, at) VALUES ($1, $2)")
                        .bind(*scope)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            pub async fn login_failures_since(
                pool: &Pool<Db>,
                scope: &str,
                since: DateTime<Utc>,
            ) -> Result<i64, StoreError> {
                let row = sqlx::query::<Db>(
                    "SELECT COUNT(*) AS n FROM login_failures WHERE scope = $1 AND at > $2",
                )
                .bind(scope)
                .bind(since)
                .fetch_one(pool)
                .await?;
                Ok(row.try_get("n")?)
            }

            pub async fn clear_login_failures(
                pool: &Pool<Db>,
                scope: &str,
            ) -> Result<(), StoreError> {
                sqlx::query::<Db>("DELETE FROM login_failures WHERE scope = $1")
                    .bind(scope)
                    .execute(pool)
                    .await?;
                Ok(())
            }

            /// Creates the booking under its idempotency key, all in one transaction: the key
            /// with the response to replay, the booking, its personal data and its first history
            /// entry. An existing key answers Replay or Mismatch and creates nothing.
            pub async fn create_booking_idempotent(
                pool: &Pool<Db>,
                request: &IdempotentCreate<'_>,
                booking: &Booking,
                personal: &Personal,
            ) -> Result<Created, StoreError> {
                let mut tx = pool.begin_with($begin_write).await?;
                let outcome = create_booking_idempotent_in(&mut tx, request, booking, personal).await;
                if matches!(outcome, Ok(Created::Created)) {
                    tx.commit().await?;
                } else {
                    // Nothing to keep; an error from the rollback would only hide the first one.
                    let _ = tx.rollback().await;
                }
                outcome
            }

            /// The work of `create_booking_idempotent` inside a transaction the caller owns
            /// (and commits only if the answer is `Created`).
            pub async fn create_booking_idempotent_in(
                tx: &mut <$db as sqlx::Database>::Connection,
                request: &IdempotentCreate<'_>,
                booking: &Booking,
                personal: &Personal,
            ) -> Result<Created, StoreError> {
                if let Some(lock_sql) = $try_lock {
                    // Another replica (or connection) working on the same key holds this lock
                    // until its transaction ends.
                    let locked: bool = sqlx::query::<Db>(lock_sql)
                        .bind(format!("{}:{}", request.user_id, request.key))
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get(0)?;
                    if !locked {
                        return Ok(Created::InProgress);
                    }
                }
                let existing = sqlx::query::<Db>(
                    "SELECT request_hash, response_status, response_body FROM idempotency_keys \
                     WHERE user_id = $1 AND idem_key = $2",
                )
                .bind(request.user_id)
                .bind(request.key)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(row) = existing {
                    let stored_hash: String = row.try_get("request_hash")?;
                    let outcome = if stored_hash == request.request_hash {
                        let status: i32 = row.try_get("response_status")?;
                        Created::Replay {
                            status: u16::try_from(status).unwrap_or(500),
                            body: row.try_get("response_body")?,
                        }
                    } else {
                        Created::Mismatch
                    };
                    return Ok(outcome);
                }
                sqlx::query::<Db>(
                    "INSERT INTO bookings (id, rider_id, city_id, state, vehicle_class, product, \
                     pickup_at, price_minor, currency, quote, child_seats, version, created_at, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(booking.id)
                .bind(booking.rider_id)
                .bind(&booking.city_id)
                .bind(booking.state.as_str())
                .bind(booking.vehicle_class.as_str())
                .bind(booking.product.as_str())
                .bind(booking.pickup_at)
                .bind(booking.price_minor)
                .bind(&booking.currency)
                .bind(Json(&booking.quote))
                .bind(booking.child_seats)
                .bind(booking.version)
                .bind(booking.created_at)
                .bind(booking.updated_at)
                .execute(&mut *tx)
                .await?;
                sqlx::query::<Db>(
                    "INSERT INTO booking_personal \
                     (booking_id, passenger_name, passenger_phone, flight_number, notes) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(booking.id)
                .bind(&personal.passenger_name)
                .bind(&personal.passenger_phone)
                .bind(&personal.flight_number)
                .bind(&personal.notes)
                .execute(&mut *tx)
                .await?;
                append_history(&mut *tx, booking, booking.created_at, Actor::Rider, Some(booking.rider_id), None).await?;
                append_event(&mut *tx, Some(booking.id), None, "status", status_payload(booking), booking.created_at).await?;
                let inserted = sqlx::query::<Db>(
                    "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, \
                     response_status, response_body, booking_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(request.user_id)
                .bind(request.key)
                .bind(request.request_hash)
                .bind(i32::from(request.response_status))
                .bind(request.response_body)
                .bind(booking.id)
                .bind(booking.created_at)
                .execute(&mut *tx)
                .await;
                match inserted {
                    // Another transaction inserted the key after our look-up (without the
                    // advisory lock this can only be a concurrent duplicate).
                    Err(e) if is_unique_violation(&e) => return Ok(Created::InProgress),
                    Err(e) => return Err(e.into()),
                    Ok(_) => {}
                }
                Ok(Created::Created)
            }

            pub async fn bookings_of(
                pool: &Pool<Db>,
                rider_id: Uuid,
            ) -> Result<Vec<Booking>, StoreError> {
                let rows = sqlx::query::<Db>(
                    "SELECT id, rider_id, city_id, state, vehicle_class, product, pickup_at, \
                     price_minor, currency, quote, child_seats, cancellation_fee_minor, version, \
                     created_at, updated_at, partner_id, chauffeur_id, vehicle_id, receipt, \
                     final_price_minor FROM bookings WHERE rider_id = $1 \
                     ORDER BY pickup_at DESC, id DESC",
                )
                .bind(rider_id)
                .fetch_all(pool)
                .await?;
                rows.iter().map(booking_from).collect()
            }

            pub async fn booking(
                pool: &Pool<Db>,
                id: Uuid,
            ) -> Result<Option<(Booking, Personal)>, StoreError> {
                let row = sqlx::query::<Db>(
                    "SELECT b.id, b.rider_id, b.city_id, b.state, b.vehicle_class, b.product, \
                     b.pickup_at, b.price_minor, b.currency, b.quote, b.child_seats, \
                     b.cancellation_fee_minor, b.version, b.created_at, b.updated_at, b.partner_id, \
                     b.chauffeur_id, b.vehicle_id, b.receipt, b.final_price_minor, \
                     p.passenger_name, p.passenger_phone, p.flight_number, p.notes \
                     FROM bookings b LEFT JOIN booking_personal p ON p.booking_id = b.id \
                     WHERE b.id = $1",
                )
                .bind(id)
                .fetch_optional(pool)
                .await?;
                row.map(|r| {
                    let personal = Personal {
                        passenger_name: r.try_get("passenger_name")?,
                        passenger_phone: r.try_get("passenger_phone")?,
                        flight_number: r.try_get("flight_number")?,
                        notes: r.try_get("notes")?,
                    };
                    Ok((booking_from(&r)?, personal))
                })
                .transpose()
            }

            pub async fn history(
                pool: &Pool<Db>,
                booking_id: Uuid,
            ) -> Result<Vec<HistoryEntry>, StoreError> {
                let rows = sqlx::query::<Db>(
                    "SELECT version, at, actor, actor_id, from_state, to_state, snapshot \
                     FROM booking_history WHERE booking_id = $1 ORDER BY version",
                )
                .bind(booking_id)
                .fetch_all(pool)
                .await?;
                rows.iter().map(history_from).collect()
            }

            /// Moves a booking to a new state if nobody changed it since `expected_version`, and
            /// appends the history entry in the same transaction.
            pub async fn transition(
                pool: &Pool<Db>,
                t: &Transition,
            ) -> Result<Booking, StoreError> {
                let mut tx = pool.begin_with($begin_write).await?;
                let Some(before) = booking_in(&mut tx, t.booking_id).await? else {
                    return Err(StoreError::Stale);
                };
                let mut after = Booking {
                    state: t.to,
                    version: before.version + 1,
                    updated_at: t.at,
                    cancellation_fee_minor: t.cancellation_fee_minor.or(before.cancellation_fee_minor),
                    ..before.clone()
                };
                if let Some((receipt, total)) = &t.receipt {
                    after.receipt = Some(receipt.clone());
                    after.final_price_minor = Some(*total);
                }
                if t.given_back_by.is_some() {
                    after.partner_id = None;
                }
                match &t.assignment {
                    AssignmentChange::Keep => {}
                    AssignmentChange::Release => {
                        after.chauffeur_id = None;
                        after.vehicle_id = None;
                    }
                    AssignmentChange::Assign { chauffeur_id, vehicle_id, .. } => {
                        after.chauffeur_id = Some(*chauffeur_id);
                        after.vehicle_id = Some(*vehicle_id);
                    }
                }
                let updated = sqlx::query::<Db>(
                    "UPDATE bookings SET state = $1, version = $2, updated_at = $3, \
                     cancellation_fee_minor = $4, partner_id = $5, chauffeur_id = $6, vehicle_id = $7, \
                     receipt = $8, final_price_minor = $9 WHERE id = $10 AND version = $11",
                )
                .bind(after.state.as_str())
                .bind(after.version)
                .bind(after.updated_at)
                .bind(after.cancellation_fee_minor)
                .bind(after.partner_id)
                .bind(after.chauffeur_id)
                .bind(after.vehicle_id)
                .bind(after.receipt.as_ref().map(Json))
                .bind(after.final_price_minor)
                .bind(t.booking_id)
                .bind(t.expected_version)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if updated != 1 {
                    tx.rollback().await?;
                    return Err(StoreError::Stale);
                }
                match &t.assignment {
                    AssignmentChange::Keep => {}
                    AssignmentChange::Release => {
                        sqlx::query::<Db>("DELETE FROM assignments WHERE booking_id = $1")
                            .bind(t.booking_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    AssignmentChange::Assign { partner_id, chauffeur_id, vehicle_id, starts_at, ends_at } => {
                        sqlx::query::<Db>("DELETE FROM assignments WHERE booking_id = $1")
                            .bind(t.booking_id)
                            .execute(&mut *tx)
                            .await?;
                        let inserted = sqlx::query::<Db>(
                            "INSERT INTO assignments \
                             (booking_id, partner_id, chauffeur_id, vehicle_id, starts_at, ends_at) \
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(t.booking_id)
                        .bind(partner_id)
                        .bind(chauffeur_id)
                        .bind(vehicle_id)
                        .bind(starts_at)
                        .bind(ends_at)
                        .execute(&mut *tx)
                        .await;
                        if let Err(e) = inserted {
                            return Err(if is_overlap(&e) { StoreError::Conflict("chauffeur_busy") } else { e.into() });
                        }
                    }
                }
                if let Some(partner_id) = t.given_back_by {
                    sqlx::query::<Db>("INSERT INTO give_backs (booking_id, partner_id, at) VALUES ($1, $2, $3)")
                        .bind(t.booking_id)
                        .bind(partner_id)
                        .bind(t.at)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query::<Db>(
                        "UPDATE offers SET state = 'withdrawn' WHERE booking_id = $1 AND state = 'accepted'",
                    )
                    .bind(t.booking_id)
                    .execute(&mut *tx)
                    .await?;
                }
                append_history(&mut tx, &after, t.at, t.actor, t.actor_id, Some(before.state)).await?;
                let partner = after.partner_id.or(before.partner_id);
                append_event(&mut *tx, Some(after.id), partner, "status", status_payload(&after), t.at).await?;
                tx.commit().await?;
                Ok(after)
            }

            fn offer_from(row: &DbRow) -> Result<Offer, StoreError> {
                Ok(Offer {
                    id: row.try_get("id")?,
                    booking_id: row.try_get("booking_id")?,
                    partner_id: row.try_get("partner_id")?,
                    chauffeur_id: row.try_get("chauffeur_id")?,
                    vehicle_id: row.try_get("vehicle_id")?,
                    batch: row.try_get::<i64, _>("batch")?,
                    state: row.try_get("state")?,
                    created_at: row.try_get("created_at")?,
                    expires_at: row.try_get("expires_at")?,
                })
            }

            pub async fn create_partner(
                pool: &Pool<Db>,
                name: &str,
                cities: &[String],
                classes: &[VehicleClass],
                now: DateTime<Utc>,
            ) -> Result<Uuid, StoreError> {
                let id = Uuid::now_v7();
                let mut tx = pool.begin_with($begin_write).await?;
                sqlx::query::<Db>("INSERT INTO partners (id, name, active, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(id)
                    .bind(name)
                    .bind(true)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                for city in cities {
                    sqlx::query::<Db>("INSERT INTO partner_cities (partner_id, city_id) VALUES ($1, $2)")
                        .bind(id)
                        .bind(city)
                        .execute(&mut *tx)
                        .await?;
                }
                for class in classes {
                    sqlx::query::<Db>("INSERT INTO partner_classes (partner_id, vehicle_class) VALUES ($1, $2)")
                        .bind(id)
                        .bind(class.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(id)
            }

            pub async fn add_partner_member(
                pool: &Pool<Db>,
                user_id: Uuid,
                partner_id: Uuid,
            ) -> Result<(), StoreError> {
                let result = sqlx::query::<Db>("INSERT INTO partner_members (user_id, partner_id) VALUES ($1, $2)")
                    .bind(user_id)
                    .bind(partner_id)
                    .execute(pool)
                    .await;
                match result {
                    Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("membership")),
                    Err(e) => Err(e.into()),
                    Ok(_) => Ok(()),
                }
            }

            pub async fn add_vehicle(
                pool: &Pool<Db>,
                partner_id: Uuid,
                class: VehicleClass,
                plate: &str,
                seats: i64,
                bags: i64,
            ) -> Result<Uuid, StoreError> {
                let id = Uuid::now_v7();
                let result = sqlx::query::<Db>(
                    "INSERT INTO vehicles (id, partner_id, vehicle_class, plate, seats, bags, active) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id)
                .bind(partner_id)
                .bind(class.as_str())
                .bind(plate)
                .bind(seats)
                .bind(bags)
                .bind(true)
                .execute(pool)
                .await;
                match result {
                    Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("vehicle plate")),
                    Err(e) => Err(e.into()),
                    Ok(_) => Ok(id),
                }
            }

            pub async fn partner_of(pool: &Pool<Db>, user_id: Uuid) -> Result<Option<Uuid>, StoreError> {
                let row = sqlx::query::<Db>("SELECT partner_id FROM partner_members WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(pool)
                    .await?;
                Ok(row.map(|r| r.try_get("partner_id")).transpose()?)
            }

            pub async fn partners(pool: &Pool<Db>) -> Result<Vec<PartnerSummary>, StoreError> {
                let rows = sqlx::query::<Db>(
                    "SELECT p.id, p.name, p.active, \
                     (SELECT COUNT(*) FROM partner_members m WHERE m.partner_id = p.id) AS members, \
                     (SELECT COUNT(*) FROM vehicles v WHERE v.partner_id = p.id) AS vehicles \
                     FROM partners p ORDER BY p.name, p.id",
                )
                .fetch_all(pool)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let id: Uuid = row.try_get("id")?;
                    let cities = sqlx::query::<Db>("SELECT city_id FROM partner_cities WHERE partner_id = $1 ORDER BY city_id")
                        .bind(id)
                        .fetch_all(pool)
                        .await?
                        .iter()
                        .map(|r| r.try_get::<String, _>("city_id"))
                        .collect::<Result<Vec<_>, _>>()?;
                    let classes = sqlx::query::<Db>("SELECT vehicle_class FROM partner_classes WHERE partner_id = $1 ORDER BY vehicle_class")
                        .bind(id)
                        .fetch_all(pool)
                        .await?
                        .iter()
                        .map(|r| r.try_get::<String, _>("vehicle_class"))
                        .collect::<Result<Vec<_>, _>>()?;
                    out.push(PartnerSummary {
                        id,
                        name: row.try_get("name")?,
                        active: row.try_get("active")?,
                        cities,
                        classes,
                        members: row.try_get("members")?,
                        vehicles: row.try_get("vehicles")?,
                    });
                }
                Ok(out)
            }

            /// Active partners serving the city and class with a vehicle big enough, with their
            /// offer record for ranking.
            pub async fn eligible_partners(
                pool: &Pool<Db>,
                city_id: &str,
                class: VehicleClass,
                passengers: i64,
                bags: i64,
                give_backs_since: DateTime<Utc>,
            ) -> Result<Vec<(Uuid, PartnerRecord)>, StoreError> {
                let rows = sqlx::query::<Db>(
                    "SELECT p.id, \
                     (SELECT COUNT(*) FROM offers o WHERE o.partner_id = p.id \
                        AND o.state IN ('accepted', 'declined', 'expired')) AS offers, \
                     (SELECT COUNT(*) FROM offers o WHERE o.partner_id = p.id AND o.state = 'accepted') AS accepts, \
                     (SELECT COUNT(*) FROM offers o WHERE o.partner_id = p.id AND o.state = 'declined') AS declines, \
                     (SELECT COUNT(*) FROM give_backs g WHERE g.partner_id = p.id AND g.at > $6) AS give_backs \
                     FROM partners p \
                     WHERE p.active = $1 \
                     AND EXISTS (SELECT 1 FROM partner_cities c WHERE c.partner_id = p.id AND c.city_id = $2) \
                     AND EXISTS (SELECT 1 FROM partner_classes k WHERE k.partner_id = p.id AND k.vehicle_class = $3) \
                     AND EXISTS (SELECT 1 FROM vehicles v WHERE v.partner_id = p.id AND v.active = $1 \
                        AND v.vehicle_class = $3 AND v.seats >= $4 AND v.bags >= $5)",
                )
                .bind(true)
                .bind(city_id)
                .bind(class.as_str())
                .bind(passengers)
                .bind(bags)
                .bind(give_backs_since)
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        let count = |col: &str| -> Result<u32, StoreError> {
                            Ok(u32::try_from(r.try_get::<i64, _>(col)?).unwrap_or(u32::MAX))
                        };
                        Ok((
                            r.try_get("id")?,
                            PartnerRecord {
                                offers: count("offers")?,
                                accepts: count("accepts")?,
                                declines: count("declines")?,
                                recent_give_backs: count("give_backs")?,
                                rating_milli: None,
                            },
                        ))
                    })
                    .collect()
            }

            pub async fn offers_of_booking(pool: &Pool<Db>, booking_id: Uuid) -> Result<Vec<Offer>, StoreError> {
                let rows = sqlx::query::<Db>("SELECT * FROM offers WHERE booking_id = $1 ORDER BY batch, id")
                    .bind(booking_id)
                    .fetch_all(pool)
                    .await?;
                rows.iter().map(offer_from).collect()
            }

            /// Closes the booking's open offers whose time ran out.
            pub async fn expire_offers(pool: &Pool<Db>, booking_id: Uuid, now: DateTime<Utc>) -> Result<u64, StoreError> {
                let mut tx = pool.begin_with($begin_write).await?;
                let expired = sqlx::query::<Db>(
                    "UPDATE offers SET state = 'expired' \
                     WHERE booking_id = $1 AND state = 'open' AND expires_at <= $2 RETURNING id, partner_id",
                )
                .bind(booking_id)
                .bind(now)
                .fetch_all(&mut *tx)
                .await?;
                for row in &expired {
                    let (id, partner): (Uuid, Uuid) = (row.try_get("id")?, row.try_get("partner_id")?);
                    let payload = serde_json::json!({"offer_id": id, "booking_id": booking_id});
                    append_event(&mut *tx, None, Some(partner), "offer_expired", payload, now).await?;
                }
                tx.commit().await?;
                Ok(expired.len() as u64)
            }

            /// Sends a batch of offers, if the booking is still pending.
            pub async fn insert_offers(
                pool: &Pool<Db>,
                booking_id: Uuid,
                partners: &[Uuid],
                batch: i64,
                now: DateTime<Utc>,
                expires_at: DateTime<Utc>,
            ) -> Result<Vec<Offer>, StoreError> {
                let mut tx = pool.begin_with($begin_write).await?;
                let pending = sqlx::query::<Db>("SELECT 1 FROM bookings WHERE id = $1 AND state = 'pending'")
                    .bind(booking_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if pending.is_none() {
                    return Ok(Vec::new());
                }
                let mut offers = Vec::with_capacity(partners.len());
                for partner_id in partners {
                    let offer = Offer {
                        id: Uuid::now_v7(),
                        booking_id,
                        partner_id: *partner_id,
                        chauffeur_id: None,
                        vehicle_id: None,
                        batch,
                        state: "open".into(),
                        created_at: now,
                        expires_at,
                    };
                    sqlx::query::<Db>(
                        "INSERT INTO offers (id, booking_id, partner_id, batch, state, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, 'open', $5, $6)",
                    )
                    .bind(offer.id)
                    .bind(booking_id)
                    .bind(offer.partner_id)
                    .bind(batch)
                    .bind(now)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await?;
                    let payload = serde_json::json!({"offer_id": offer.id, "booking_id": booking_id, "expires_at": expires_at});
                    append_event(&mut *tx, None, Some(offer.partner_id), "offer", payload, now).await?;
                    offers.push(offer);
                }
                tx.commit().await?;
                Ok(offers)
            }

            /// Open, unexpired offers of a partner's dispatcher (`chauffeur` None) or of one
            /// chauffeur (on-demand), with their bookings.
            pub async fn open_offers(
                pool: &Pool<Db>,
                partner_id: Uuid,
                chauffeur: Option<Uuid>,
                now: DateTime<Utc>,
            ) -> Result<Vec<(Offer, Booking)>, StoreError> {
                let rows = sqlx::query::<Db>(
                    "SELECT o.id AS offer_id, o.booking_id, o.partner_id AS offered_partner, o.batch, \
                     o.chauffeur_id AS offered_chauffeur, o.vehicle_id AS offered_vehicle, \
                     o.state AS offer_state, o.created_at AS offered_at, o.expires_at, \
                     b.id, b.rider_id, b.city_id, b.state, b.vehicle_class, b.product, b.pickup_at, \
                     b.price_minor, b.currency, b.quote, b.child_seats, b.cancellation_fee_minor, \
                     b.version, b.created_at, b.updated_at, b.partner_id, b.chauffeur_id, b.vehicle_id, \
                     b.receipt, b.final_price_minor \
                     FROM offers o JOIN bookings b ON b.id = o.booking_id \
                     WHERE ((o.partner_id = $1 AND o.chauffeur_id IS NULL AND $3 IS NULL) OR o.chauffeur_id = $3) \
                     AND o.state = 'open' AND o.expires_at > $2 \
                     AND b.state = 'pending' ORDER BY b.pickup_at, o.id",
                )
                .bind(partner_id)
                .bind(now)
                .bind(chauffeur)
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        let offer = Offer {
                            id: r.try_get("offer_id")?,
                            booking_id: r.try_get("booking_id")?,
                            partner_id: r.try_get("offered_partner")?,
                            chauffeur_id: r.try_get("offered_chauffeur")?,
                            vehicle_id: r.try_get("offered_vehicle")?,
                            batch: r.try_get::<i64, _>("batch")?,
                            state: r.try_get("offer_state")?,
                            created_at: r.try_get("offered_at")?,
                            expires_at: r.try_get("expires_at")?,
                        };
                        Ok((offer, booking_from(r)?))
                    })
                    .collect()
            }

            /// Why an offer cannot be accepted now, if it cannot; an offer whose time ran out is
            /// marked expired (in the caller's transaction).
            async fn unacceptable(
                tx: &mut <$db as sqlx::Database>::Connection,
                offer: &Offer,
                now: DateTime<Utc>,
            ) -> Result<Option<Accepted>, StoreError> {
                match offer.state.as_str() {
                    "open" => {}
                    // Withdrawn because somebody else accepted first.
                    "withdrawn" => return Ok(Some(Accepted::Taken)),
                    other => return Ok(Some(Accepted::Closed(other.to_owned()))),
                }
                if offer.expires_at <= now {
                    sqlx::query::<Db>("UPDATE offers SET state = 'expired' WHERE id = $1 AND state = 'open'")
                        .bind(offer.id)
                        .execute(&mut *tx)
                        .await?;
                    return Ok(Some(Accepted::Expired));
                }
                Ok(None)
            }

            /// After the booking was won: this offer accepted (one per booking, by a unique
            /// index), the other open offers withdrawn with a notice to each, and the booking's
            /// new version in its history and on the streams.
            async fn settle_accept(
                tx: &mut <$db as sqlx::Database>::Connection,
                offer: &Offer,
                now: DateTime<Utc>,
                actor: Actor,
                actor_id: Uuid,
            ) -> Result<Accepted, StoreError> {
                let accepted = sqlx::query::<Db>(
                    "UPDATE offers SET state = 'accepted', answered_at = $1 WHERE id = $2 AND state = 'open'",
                )
                .bind(now)
                .bind(offer.id)
                .execute(&mut *tx)
                .await;
                match accepted {
                    Err(e) if is_unique_violation(&e) => return Ok(Accepted::Taken),
                    Err(e) => return Err(e.into()),
                    Ok(done) if done.rows_affected() != 1 => return Ok(Accepted::Taken),
                    Ok(_) => {}
                }
                let withdrawn = sqlx::query::<Db>(
                    "UPDATE offers SET state = 'withdrawn', answered_at = $1 \
                     WHERE booking_id = $2 AND state = 'open' RETURNING id, partner_id",
                )
                .bind(now)
                .bind(offer.booking_id)
                .fetch_all(&mut *tx)
                .await?;
                for row in &withdrawn {
                    let (id, partner): (Uuid, Uuid) = (row.try_get("id")?, row.try_get("partner_id")?);
                    let payload = serde_json::json!({"offer_id": id, "booking_id": offer.booking_id});
                    append_event(&mut *tx, None, Some(partner), "offer_withdrawn", payload, now).await?;
                }
                let booking = booking_in(&mut *tx, offer.booking_id).await?.ok_or(StoreError::Stale)?;
                append_history(&mut *tx, &booking, now, actor, Some(actor_id), Some(BookingState::Pending)).await?;
                append_event(&mut *tx, Some(booking.id), Some(offer.partner_id), "status", status_payload(&booking), now).await?;
                Ok(Accepted::Won(Box::new(booking)))
            }

            /// The first accept wins: the booking moves from pending to confirmed only if it is
            /// still pending and has no partner (a conditional update), and a unique index allows
            /// one accepted offer per booking. Everyone else hears `Taken`.
            pub async fn accept_offer(
                pool: &Pool<Db>,
                offer_id: Uuid,
                partner_id: Uuid,
                actor_id: Uuid,
                now: DateTime<Utc>,
            ) -> Result<Accepted, StoreError> {
                let mut tx = pool.begin_with($begin_write).await?;
                let row = sqlx::query::<Db>(
                    "SELECT * FROM offers WHERE id = $1 AND partner_id = $2 AND chauffeur_id IS NULL",
                )
                .bind(offer_id)
                .bind(partner_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(row) = row else {
                    return Ok(Accepted::NotFound);
                };
                let offer = offer_from(&row)?;
                if let Some(outcome) = unacceptable(&mut tx, &offer, now).await? {
                    tx.commit().await?; // keeps an expiry it recorded
                    return Ok(outcome);
                }
                let won = sqlx::query::<Db>(
                    "UPDATE bookings SET state = 'confirmed', partner_id = $1, version = version + 1, \
                     updated_at = $2 WHERE id = $3 AND state = 'pending' AND partner_id IS NULL",
                )
                .bind(partner_id)
                .bind(now)
                .bind(offer.booking_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if won != 1 {
                    return Ok(Accepted::Taken);
                }
                let outcome = settle_accept(&mut tx, &offer, now, Actor::Partner, actor_id).await?;
                if matches!(outcome, Accepted::Won(_)) {
                    tx.commit().await?;
                }
                Ok(outcome)
            }

            /// Records a decline; `false` if there was no open offer of this partner to decline.
            pub async fn decline_offer(
                pool: &Pool<Db>,
                offer_id: Uuid,
                partner_id: Uuid,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                Ok(sqlx::query::<Db>(
                    "UPDATE offers SET state = 'declined', answered_at = $1 \
                     WHERE id = $2 AND partner_id = $3 AND state = 'open'",
                )
                .bind(now)
                .bind(offer_id)
                .bind(partner_id)
                .execute(pool)
                .await?
                .rows_affected()
                    == 1)
            }

            /// Whether `user_id` is a chauffeur account of this partner.
            pub async fn is_partner_chauffeur(
                pool: &Pool<Db>,
                partner_id: Uuid,
                user_id: Uuid,
            ) -> Result<bool, StoreError> {
                let row = sqlx::query::<Db>(
                    "SELECT 1 FROM partner_members m JOIN users u ON u.id = m.user_id \
                     WHERE m.partner_id = $1 AND m.user_id = $2 AND u.role = 'chauffeur' \
                     AND u.erased_at IS NULL",
                )
                .bind(partner_id)
                .bind(user_id)
                .fetch_optional(pool)
                .await?;
                Ok(row.is_some())
            }

            /// A vehicle of this partner: (class, seats, bags, active).
            pub async fn vehicle_of(
                pool: &Pool<Db>,
                partner_id: Uuid,
                vehicle_id: Uuid,
            ) -> Result<Option<(String, i64, i64, bool)>, StoreError> {
                let row = sqlx::query::<Db>(
                    "SELECT vehicle_class, seats, bags, active FROM vehicles WHERE id = $1 AND partner_id = $2",
                )
                .bind(vehicle_id)
                .bind(partner_id)
                .fetch_optional(pool)
                .await?;
                row.map(|r| Ok((r.try_get("vehicle_class")?, r.try_get("seats")?, r.try_get("bags")?, r.try_get("active")?)))
                    .transpose()
            }

            /// Bookings by one of the columns that name who serves them.
            pub async fn bookings_served_by(
                pool: &Pool<Db>,
                partner_id: Option<Uuid>,
                chauffeur_id: Option<Uuid>,
            ) -> Result<Vec<Booking>, StoreError> {
                let rows = sqlx::query::<Db>(
                    "SELECT id, rider_id, city_id, state, vehicle_class, product, pickup_at, \
                     price_minor, currency, quote, child_seats, cancellation_fee_minor, version, \
                     created_at, updated_at, partner_id, chauffeur_id, vehicle_id, receipt, \
                     final_price_minor FROM bookings \
                     WHERE ($1 IS NOT NULL AND partner_id = $1) OR ($2 IS NOT NULL AND chauffeur_id = $2) \
                     ORDER BY pickup_at, id",
                )
                .bind(partner_id)
                .bind(chauffeur_id)
                .fetch_all(pool)
                .await?;
                rows.iter().map(booking_from).collect()
            }

            /// Who gave this booking back, and when.
            pub async fn give_backs_of(
                pool: &Pool<Db>,
                booking_id: Uuid,
            ) -> Result<Vec<(Uuid, DateTime<Utc>)>, StoreError> {
                let rows = sqlx::query::<Db>("SELECT partner_id, at FROM give_backs WHERE booking_id = $1 ORDER BY at")
                    .bind(booking_id)
                    .fetch_all(pool)
                    .await?;
                rows.iter().map(|r| Ok((r.try_get("partner_id")?, r.try_get("at")?))).collect()
            }

            /// Upserts the latest positions, all in one transaction.
            pub async fn save_positions(
                pool: &Pool<Db>,
                positions: &[(Uuid, crate::live::Position)],
            ) -> Result<(), StoreError> {
                let mut tx = pool.begin_with($begin_write).await?;
                for (chauffeur, p) in positions {
                    let Some(cell) = crate::live::cell_of(p.lat, p.lon) else {
                        continue;
                    };
                    sqlx::query::<Db>(
                        "INSERT INTO chauffeur_positions (chauffeur_id, lat, lon, at, cell) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (chauffeur_id) DO UPDATE SET lat = excluded.lat, lon = excluded.lon, \
                         at = excluded.at, cell = excluded.cell",
                    )
                    .bind(chauffeur)
                    .bind(p.lat)
                    .bind(p.lon)
                    .bind(p.at)
                    .bind(cell)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(notify) = $notify {
                    sqlx::query::<Db>(notify).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            pub async fn position_of(
                pool: &Pool<Db>,
                chauffeur: Uuid,
            ) -> Result<Option<crate::live::Position>, StoreError> {
                let row = sqlx::query::<Db>("SELECT lat, lon, at FROM chauffeur_positions WHERE chauffeur_id = $1")
                    .bind(chauffeur)
                    .fetch_optional(pool)
                    .await?;
                row.map(|r| Ok(crate::live::Position { lat: r.try_get("lat")?, lon: r.try_get("lon")?, at: r.try_get("at")? }))
                    .transpose()
            }

            /// The chauffeur accounts of a partner: (id, name, e-mail).
            pub async fn partner_chauffeurs(
                pool: &Pool<Db>,
                partner_id: Uuid,
            ) -> Result<Vec<(Uuid, Option<String>, String)>, StoreError> {
                let rows = sqlx::query::<Db>(
                    "SELECT u.id, u.name, u.email FROM partner_members m JOIN users u ON u.id = m.user_id \
                     WHERE m.partner_id = $1 AND u.role = 'chauffeur' AND u.erased_at IS NULL ORDER BY u.name, u.id",
                )
                .bind(partner_id)
                .fetch_all(pool)
                .await?;
                rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("name")?, r.try_get("email")?))).collect()
            }

            /// The vehicles of a partner: (id, class, plate, seats, bags, active).
            pub async fn partner_vehicles(
                pool: &Pool<Db>,
                partner_id: Uuid,
            ) -> Result<Vec<(Uuid, String, String, i64, i64, bool)>, StoreError> {
                let rows = sqlx::query::<Db>(
                    "SELECT id, vehicle_class, plate, seats, bags, active FROM vehicles WHERE partner_id = $1 ORDER BY plate",
                )
                .bind(partner_id)
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok((
                            r.try_get("id")?,
                            r.try_get("vehicle_class")?,
                            r.try_get("plate")?,
                            r.try_get("seats")?,
                            r.try_get("bags")?,
                            r.try_get("active")?,
                        ))
                    })
                    .collect()
            }

            /// Chauffeurs online (a position since `since`) for an on-demand ride: their partner is
            /// active in the city and has a fitting vehicle; they have no ride overlapping
            /// `[starts, ends)`. Rows: (chauffeur, partner, vehicle, lat, lon).
            #[allow(clippy::too_many_arguments)] // each is one condition of availability
            pub async fn online_chauffeurs(
                pool: &Pool<Db>,
                city_id: &str,
                class: VehicleClass,
                passengers: i64,
                bags: i64,
                since: DateTime<Utc>,
                starts: DateTime<Utc>,
                ends: DateTime<Utc>,
                cells: &[i64],
            ) -> Result<Vec<(Uuid, Uuid, Uuid, f64, f64)>, StoreError> {
                if cells.is_empty() {
                    return Ok(Vec::new());
                }
                // Only numbered placeholders are added to the text; the values are bound.
                let placeholders: Vec<String> = (0..cells.len()).map(|i| format!("${}", i + 9)).collect();
                let sql = format!(
                    "SELECT cp.chauffeur_id, m.partner_id, cp.lat, cp.lon, \
                     (SELECT v.id FROM vehicles v WHERE v.partner_id = m.partner_id AND v.active = $1 \
                        AND v.vehicle_class = $3 AND v.seats >= $4 AND v.bags >= $5 ORDER BY v.plate LIMIT 1) AS vehicle_id \
                     FROM chauffeur_positions cp \
                     JOIN partner_members m ON m.user_id = cp.chauffeur_id \
                     JOIN users u ON u.id = cp.chauffeur_id \
                     JOIN partners p ON p.id = m.partner_id \
                     WHERE u.role = 'chauffeur' AND u.erased_at IS NULL AND p.active = $1 AND cp.at > $6 \
                     AND EXISTS (SELECT 1 FROM partner_cities c WHERE c.partner_id = p.id AND c.city_id = $2) \
                     AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.chauffeur_id = cp.chauffeur_id \
                        AND a.starts_at < $8 AND $7 < a.ends_at) \
                     AND cp.cell IN ({})",
                    placeholders.join(", ")
                );
                let mut query = sqlx::query::<Db>(sqlx::AssertSqlSafe(sql))
                .bind(true)
                .bind(city_id)
                .bind(class.as_str())
                .bind(passengers)
                .bind(bags)
                .bind(since)
                .bind(starts)
                .bind(ends);
                for cell in cells {
                    query = query.bind(*cell);
                }
                let rows = query.fetch_all(pool).await?;
                let mut out = Vec::new();
                for r in &rows {
                    if let Some(vehicle) = r.try_get::<Option<Uuid>, _>("vehicle_id")? {
                        out.push((r.try_get("chauffeur_id")?, r.try_get("partner_id")?, vehicle, r.try_get("lat")?, r.try_get("lon")?));
                    }
                }
                Ok(out)
            }

            /// An on-demand offer to one chauffeur, if the booking is still pending.
            #[allow(clippy::too_many_arguments)] // the offer's fields
            pub async fn insert_chauffeur_offer(
                pool: &Pool<Db>,
                booking_id: Uuid,
                partner_id: Uuid,
                chauffeur_id: Uuid,
                vehicle_id: Uuid,
                batch: i64,
                now: DateTime<Utc>,
                expires_at: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let mut tx = pool.begin_with($begin_write).await?;
                let pending = sqlx::query::<Db>("SELECT 1 FROM bookings WHERE id = $1 AND state = 'pending'")
                    .bind(booking_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if pending.is_none() {
                    return Ok(false);
                }
                let id = Uuid::now_v7();
                sqlx::query::<Db>(
                    "INSERT INTO offers (id, booking_id, partner_id, batch, state, created_at, expires_at, chauffeur_id, vehicle_id) \
                     VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8)",
                )
                .bind(id)
                .bind(booking_id)
                .bind(partner_id)
                .bind(batch)
                .bind(now)
                .bind(expires_at)
                .bind(chauffeur_id)
                .bind(vehicle_id)
                .execute(&mut *tx)
                .await?;
                let payload = serde_json::json!({"offer_id": id, "booking_id": booking_id, "chauffeur_id": chauffeur_id, "expires_at": expires_at});
                append_event(&mut *tx, None, Some(partner_id), "on_demand_offer", payload, now).await?;
                tx.commit().await?;
                Ok(true)
            }

            /// A chauffeur accepts an on-demand offer: the first accept wins, and the booking is
            /// confirmed to the chauffeur's partner and assigned to the chauffeur at once.
            pub async fn accept_chauffeur_offer(
                pool: &Pool<Db>,
                offer_id: Uuid,
                chauffeur_id: Uuid,
                now: DateTime<Utc>,
                busy: (DateTime<Utc>, DateTime<Utc>),
            ) -> Result<Accepted, StoreError> {
                let mut tx = pool.begin_with($begin_write).await?;
                let row = sqlx::query::<Db>("SELECT * FROM offers WHERE id = $1 AND chauffeur_id = $2")
                    .bind(offer_id)
                    .bind(chauffeur_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(row) = row else {
                    return Ok(Accepted::NotFound);
                };
                let offer = offer_from(&row)?;
                if let Some(outcome) = unacceptable(&mut tx, &offer, now).await? {
                    tx.commit().await?; // keeps an expiry it recorded
                    return Ok(outcome);
                }
                let Some(vehicle_id) = offer.vehicle_id else {
                    return Ok(Accepted::NotFound);
                };
                let won = sqlx::query::<Db>(
                    "UPDATE bookings SET state = 'chauffeur_assigned', partner_id = $1, chauffeur_id = $2, \
                     vehicle_id = $3, version = version + 1, updated_at = $4 \
                     WHERE id = $5 AND state = 'pending' AND partner_id IS NULL",
                )
                .bind(offer.partner_id)
                .bind(chauffeur_id)
                .bind(vehicle_id)
                .bind(now)
                .bind(offer.booking_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if won != 1 {
                    return Ok(Accepted::Taken);
                }
                let assigned = sqlx::query::<Db>(
                    "INSERT INTO assignments (booking_id, partner_id, chauffeur_id, vehicle_id, starts_at, ends_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(offer.booking_id)
                .bind(offer.partner_id)
                .bind(chauffeur_id)
                .bind(vehicle_id)
                .bind(busy.0)
                .bind(busy.1)
                .execute(&mut *tx)
                .await;
                if let Err(e) = assigned {
                    return Err(if is_overlap(&e) { StoreError::Conflict("chauffeur_busy") } else { e.into() });
                }
                let outcome = settle_accept(&mut tx, &offer, now, Actor::Chauffeur, chauffeur_id).await?;
                if matches!(outcome, Accepted::Won(_)) {
                    tx.commit().await?;
                }
                Ok(outcome)
            }

            pub async fn offer_by_id(pool: &Pool<Db>, offer_id: Uuid) -> Result<Option<Offer>, StoreError> {
                let row = sqlx::query::<Db>("SELECT * FROM offers WHERE id = $1")
                    .bind(offer_id)
                    .fetch_optional(pool)
                    .await?;
                row.map(|r| offer_from(&r)).transpose()
            }

            /// Pending bookings, soonest pickup first: the dispatcher's work list.
            pub async fn pending_bookings(pool: &Pool<Db>, limit: i64) -> Result<Vec<Uuid>, StoreError> {
                let rows = sqlx::query::<Db>(
                    "SELECT id FROM bookings WHERE state = 'pending' ORDER BY pickup_at LIMIT $1",
                )
                .bind(limit)
                .fetch_all(pool)
                .await?;
                Ok(rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?)
            }

            pub async fn user(pool: &Pool<Db>, id: Uuid) -> Result<Option<User>, StoreError> {
                let row = sqlx::query::<Db>("SELECT * FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(pool)
                    .await?;
                row.map(|r| user_from(&r)).transpose()
            }

            /// Erases a user's personal data. Bookings and their history stay, anonymised.
            pub async fn erase_user(
                pool: &Pool<Db>,
                user_id: Uuid,
                now: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                let mut tx = pool.begin_with($begin_write).await?;
                sqlx::query::<Db>(
                    "UPDATE users SET email = $1, password_hash = '!', name = NULL, phone = NULL, \
                     erased_at = $2 WHERE id = $3",
                )
                .bind(format!("erased-{user_id}@erased.invalid"))
                .bind(now)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query::<Db>(
                    "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query::<Db>(
                    "UPDATE booking_personal SET passenger_name = NULL, passenger_phone = NULL, \
                     flight_number = NULL, notes = NULL \
                     WHERE booking_id IN (SELECT id FROM bookings WHERE rider_id = $1)",
                )
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

// SQLite has one writer at a time (BEGIN IMMEDIATE); the server adds an in-process guard for
// concurrent duplicates. PostgreSQL serialises work on one key across replicas with a
// transaction-scoped advisory lock.
backend!(
    sqlite,
    Sqlite,
    "BEGIN IMMEDIATE",
    None::<&'static str>,
    None::<&'static str>
);
// PostgreSQL tells every replica's event streams that something changed, on commit.
backend!(
    postgres,
    Postgres,
    "BEGIN",
    Some("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))"),
    Some("SELECT pg_notify('chauffeur_events', '')")
);

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
        let mut tx = match pool.begin_with("BEGIN IMMEDIATE").await {
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

/// Process-wide "something the event streams may care about changed" pings. Writers announce
/// after committing; on PostgreSQL a listener also announces other replicas' commits.
static CHANGES: std::sync::OnceLock<tokio::sync::broadcast::Sender<()>> =
    std::sync::OnceLock::new();

fn changes() -> &'static tokio::sync::broadcast::Sender<()> {
    CHANGES.get_or_init(|| tokio::sync::broadcast::channel(256).0)
}

pub fn subscribe_changes() -> tokio::sync::broadcast::Receiver<()> {
    changes().subscribe()
}

pub fn announce_change() {
    // No subscriber is fine: nobody is streaming.
    let _ = changes().send(());
}

/// Relays PostgreSQL NOTIFYs from every replica's commits to this process's streams.
async fn relay_notifications(pool: Pool<Postgres>) {
    loop {
        match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen("chauffeur_events").await {
                    tracing::warn!(error = %e, "cannot LISTEN for events");
                } else {
                    while listener.recv().await.is_ok() {
                        announce_change();
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "event listener cannot connect; retrying"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Reads go straight to the pool.
macro_rules! dispatch {
    ($self:ident . $f:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Sqlite(db) => sqlite::$f(&db.pool, $($arg),*).await,
            Store::Postgres(pool) => postgres::$f(pool, $($arg),*).await,
        }
    };
}

/// Writes on SQLite first take the writer's turn; every successful write is announced.
macro_rules! dispatch_write {
    ($self:ident . $f:ident ( $($arg:expr),* )) => {{
        let result = match $self {
            Store::Sqlite(db) => {
                let _turn = db.writer.lock().await;
                sqlite::$f(&db.pool, $($arg),*).await
            }
            Store::Postgres(pool) => postgres::$f(pool, $($arg),*).await,
        };
        if result.is_ok() {
            announce_change();
        }
        result
    }};
}

const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../migrations/sqlite/0001_accounts_bookings.sql"),
    ),
    (
        2,
        include_str!("../migrations/sqlite/0002_partners_offers.sql"),
    ),
    (3, include_str!("../migrations/sqlite/0003_events.sql")),
];
const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../migrations/postgres/0001_accounts_bookings.sql"),
    ),
    (
        2,
        include_str!("../migrations/postgres/0002_partners_offers.sql"),
    ),
    (3, include_str!("../migrations/postgres/0003_events.sql")),
];

impl Store {
    /// Opens `sqlite://path` (created if missing; WAL, synchronous=FULL) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            tokio::spawn(relay_notifications(pool.clone()));
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
                    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                    if sqlite::apply_migration(&mut tx, version, sql).await? {
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
                    if postgres::apply_migration(&mut tx, version, sql).await? {
                        applied.push(version);
                    }
                }
                tx.commit().await?;
            }
        }
        Ok(applied)
    }

    /// One replica at a time runs the dispatcher's round: on PostgreSQL a transaction-scoped
    /// advisory lock held by the returned turn (released when it is dropped); SQLite has one
    /// server process. `None`: another replica is on it; skip this round.
    /// With `wait`, waits for the turn instead of skipping.
    pub async fn dispatch_turn(&self, wait: bool) -> Result<Option<DispatchTurn>, StoreError> {
        match self {
            Store::Sqlite(_) => Ok(Some(DispatchTurn(None))),
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                if wait {
                    sqlx::query::<Postgres>("SELECT pg_advisory_xact_lock(727275)")
                        .execute(&mut *tx)
                        .await?;
                    return Ok(Some(DispatchTurn(Some(tx))));
                }
                let locked: bool =
                    sqlx::query::<Postgres>("SELECT pg_try_advisory_xact_lock(727275)")
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get(0)?;
                Ok(locked.then_some(DispatchTurn(Some(tx))))
            }
        }
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self.ping())
    }

    pub async fn create_user(
        &self,
        user: &NewUser<'_>,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        dispatch_write!(self.create_user(user, now))
    }

    pub async fn credentials(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        dispatch!(self.credentials(email))
    }

    pub async fn user(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        dispatch!(self.user(id))
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch_write!(self.create_session(token_hash, user_id, now, expires_at))
    }

    pub async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        dispatch!(self.session_user(token_hash, now))
    }

    pub async fn revoke_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch_write!(self.revoke_session(token_hash, now))
    }

    pub async fn record_login_failure(
        &self,
        scopes: &[&str],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch_write!(self.record_login_failure(scopes, now))
    }

    pub async fn login_failures_since(
        &self,
        scope: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        dispatch!(self.login_failures_since(scope, since))
    }

    pub async fn clear_login_failures(&self, scope: &str) -> Result<(), StoreError> {
        dispatch_write!(self.clear_login_failures(scope))
    }

    pub async fn create_booking_idempotent(
        &self,
        request: &IdempotentCreate<'_>,
        booking: &Booking,
        personal: &Personal,
    ) -> Result<Created, StoreError> {
        let db = match self {
            Store::Postgres(pool) => {
                let result =
                    postgres::create_booking_idempotent(pool, request, booking, personal).await;
                announce_change();
                return result;
            }
            Store::Sqlite(db) => db,
        };
        let (user_id, key, hash) = (
            request.user_id,
            request.key.to_owned(),
            request.request_hash.to_owned(),
        );
        let (status, body) = (request.response_status, request.response_body.to_owned());
        let (booking, personal) = (booking.clone(), personal.clone());
        let (answer, answered) = tokio::sync::oneshot::channel::<Result<Created, StoreError>>();
        let job: GroupJob = Box::new(move |conn| {
            Box::pin(async move {
                let request = IdempotentCreate {
                    user_id,
                    key: &key,
                    request_hash: &hash,
                    response_status: status,
                    response_body: &body,
                };
                let outcome =
                    sqlite::create_booking_idempotent_in(conn, &request, &booking, &personal).await;
                let keep = matches!(outcome, Ok(Created::Created));
                let completion: Completion = Box::new(move |committed| {
                    let result = match (outcome, committed) {
                        (Ok(Created::Created), Err(reason)) => Err(StoreError::Unavailable(reason)),
                        (outcome, _) => outcome,
                    };
                    let _ = answer.send(result);
                });
                (keep, completion)
            })
        });
        db.group
            .send(job)
            .await
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        let result = answered
            .await
            .map_err(|_| StoreError::Unavailable("the write was abandoned".into()))?;
        announce_change();
        result
    }

    pub async fn events_after(
        &self,
        booking_id: Option<Uuid>,
        partner_id: Option<Uuid>,
        after_id: i64,
    ) -> Result<Vec<StreamEvent>, StoreError> {
        dispatch!(self.events_after(booking_id, partner_id, after_id))
    }

    pub async fn bookings_of(&self, rider_id: Uuid) -> Result<Vec<Booking>, StoreError> {
        dispatch!(self.bookings_of(rider_id))
    }

    pub async fn booking(&self, id: Uuid) -> Result<Option<(Booking, Personal)>, StoreError> {
        dispatch!(self.booking(id))
    }

    pub async fn history(&self, booking_id: Uuid) -> Result<Vec<HistoryEntry>, StoreError> {
        dispatch!(self.history(booking_id))
    }

    pub async fn transition(&self, t: &Transition) -> Result<Booking, StoreError> {
        dispatch_write!(self.transition(t))
    }

    pub async fn create_partner(
        &self,
        name: &str,
        cities: &[String],
        classes: &[VehicleClass],
        now: DateTime<Utc>,
    ) -> Result<Uuid, StoreError> {
        dispatch_write!(self.create_partner(name, cities, classes, now))
    }

    pub async fn add_partner_member(
        &self,
        user_id: Uuid,
        partner_id: Uuid,
    ) -> Result<(), StoreError> {
        dispatch_write!(self.add_partner_member(user_id, partner_id))
    }

    pub async fn add_vehicle(
        &self,
        partner_id: Uuid,
        class: VehicleClass,
        plate: &str,
        seats: i64,
        bags: i64,
    ) -> Result<Uuid, StoreError> {
        dispatch_write!(self.add_vehicle(partner_id, class, plate, seats, bags))
    }

    pub async fn partner_of(&self, user_id: Uuid) -> Result<Option<Uuid>, StoreError> {
        dispatch!(self.partner_of(user_id))
    }

    pub async fn partners(&self) -> Result<Vec<PartnerSummary>, StoreError> {
        dispatch!(self.partners())
    }

    pub async fn eligible_partners(
        &self,
        city_id: &str,
        class: VehicleClass,
        passengers: i64,
        bags: i64,
        give_backs_since: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, PartnerRecord)>, StoreError> {
        dispatch!(self.eligible_partners(city_id, class, passengers, bags, give_backs_since))
    }

    pub async fn give_backs_of(
        &self,
        booking_id: Uuid,
    ) -> Result<Vec<(Uuid, DateTime<Utc>)>, StoreError> {
        dispatch!(self.give_backs_of(booking_id))
    }

    pub async fn offers_of_booking(&self, booking_id: Uuid) -> Result<Vec<Offer>, StoreError> {
        dispatch!(self.offers_of_booking(booking_id))
    }

    pub async fn expire_offers(
        &self,
        booking_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        dispatch_write!(self.expire_offers(booking_id, now))
    }

    pub async fn insert_offers(
        &self,
        booking_id: Uuid,
        partners: &[Uuid],
        batch: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<Vec<Offer>, StoreError> {
        dispatch_write!(self.insert_offers(booking_id, partners, batch, now, expires_at))
    }

    pub async fn open_offers_of_partner(
        &self,
        partner_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Offer, Booking)>, StoreError> {
        dispatch!(self.open_offers(partner_id, None, now))
    }

    /// A chauffeur's open on-demand offers (the partner id is not needed to find them).
    pub async fn open_offers_of_chauffeur(
        &self,
        chauffeur_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Offer, Booking)>, StoreError> {
        dispatch!(self.open_offers(Uuid::nil(), Some(chauffeur_id), now))
    }

    pub async fn accept_offer(
        &self,
        offer_id: Uuid,
        partner_id: Uuid,
        actor_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Accepted, StoreError> {
        dispatch_write!(self.accept_offer(offer_id, partner_id, actor_id, now))
    }

    pub async fn decline_offer(
        &self,
        offer_id: Uuid,
        partner_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        dispatch_write!(self.decline_offer(offer_id, partner_id, now))
    }

    pub async fn is_partner_chauffeur(
        &self,
        partner_id: Uuid,
        user_id: Uuid,
    ) -> Result<bool, StoreError> {
        dispatch!(self.is_partner_chauffeur(partner_id, user_id))
    }

    pub async fn vehicle_of(
        &self,
        partner_id: Uuid,
        vehicle_id: Uuid,
    ) -> Result<Option<(String, i64, i64, bool)>, StoreError> {
        dispatch!(self.vehicle_of(partner_id, vehicle_id))
    }

    pub async fn bookings_of_partner(&self, partner_id: Uuid) -> Result<Vec<Booking>, StoreError> {
        dispatch!(self.bookings_served_by(Some(partner_id), None))
    }

    pub async fn bookings_of_chauffeur(
        &self,
        chauffeur_id: Uuid,
    ) -> Result<Vec<Booking>, StoreError> {
        dispatch!(self.bookings_served_by(None, Some(chauffeur_id)))
    }

    pub async fn save_positions(
        &self,
        positions: &[(Uuid, crate::live::Position)],
    ) -> Result<(), StoreError> {
        dispatch_write!(self.save_positions(positions))
    }

    pub async fn position_of(
        &self,
        chauffeur: Uuid,
    ) -> Result<Option<crate::live::Position>, StoreError> {
        dispatch!(self.position_of(chauffeur))
    }

    pub async fn partner_chauffeurs(
        &self,
        partner_id: Uuid,
    ) -> Result<Vec<(Uuid, Option<String>, String)>, StoreError> {
        dispatch!(self.partner_chauffeurs(partner_id))
    }

    #[allow(clippy::type_complexity)]
    pub async fn partner_vehicles(
        &self,
        partner_id: Uuid,
    ) -> Result<Vec<(Uuid, String, String, i64, i64, bool)>, StoreError> {
        dispatch!(self.partner_vehicles(partner_id))
    }

    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    pub async fn online_chauffeurs(
        &self,
        city_id: &str,
        class: VehicleClass,
        passengers: i64,
        bags: i64,
        since: DateTime<Utc>,
        starts: DateTime<Utc>,
        ends: DateTime<Utc>,
        cells: &[i64],
    ) -> Result<Vec<(Uuid, Uuid, Uuid, f64, f64)>, StoreError> {
        dispatch!(
            self.online_chauffeurs(city_id, class, passengers, bags, since, starts, ends, cells)
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn insert_chauffeur_offer(
        &self,
        booking_id: Uuid,
        partner_id: Uuid,
        chauffeur_id: Uuid,
        vehicle_id: Uuid,
        batch: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        dispatch_write!(self.insert_chauffeur_offer(
            booking_id,
            partner_id,
            chauffeur_id,
            vehicle_id,
            batch,
            now,
            expires_at
        ))
    }

    pub async fn accept_chauffeur_offer(
        &self,
        offer_id: Uuid,
        chauffeur_id: Uuid,
        now: DateTime<Utc>,
        busy: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Accepted, StoreError> {
        dispatch_write!(self.accept_chauffeur_offer(offer_id, chauffeur_id, now, busy))
    }

    pub async fn offer_by_id(&self, offer_id: Uuid) -> Result<Option<Offer>, StoreError> {
        dispatch!(self.offer_by_id(offer_id))
    }

    pub async fn pending_bookings(&self, limit: i64) -> Result<Vec<Uuid>, StoreError> {
        dispatch!(self.pending_bookings(limit))
    }

    pub async fn erase_user(&self, user_id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        dispatch_write!(self.erase_user(user_id, now))
    }

    /// Everything stored about a user.
    pub async fn export(&self, user: User) -> Result<Export, StoreError> {
        let mut bookings = Vec::new();
        for b in self.bookings_of(user.id).await? {
            let personal = self
                .booking(b.id)
                .await?
                .map(|(_, p)| p)
                .unwrap_or_default();
            let history = self.history(b.id).await?;
            bookings.push(ExportedBooking {
                booking: b,
                personal,
                history,
            });
        }
        Ok(Export { user, bookings })
    }
}
