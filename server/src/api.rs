//! HTTP API v1: routes, handlers and the OpenAPI document. Handlers are thin: parse, call the
//! core for every rule and price, call the store, shape the answer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::error_handling::HandleErrorLayer;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chauffeur_core::booking::Actor;
use chauffeur_core::catalog::{CancellationPolicy, PickupPlace, VehicleClass};
use chauffeur_core::fare::{FareLineKind, QuoteRequest};
use chauffeur_core::{
    cancellation_fee, confirm_cancellation, quote_all, transition, BookingState, Catalog, Currency,
    EstimatedRouter, Money, Quote,
};
use chrono::{DateTime, Duration as ChronoDuration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use utoipa::OpenApi;
use uuid::Uuid;

use crate::auth::{self, PasswordHashing};
use crate::error::{ApiError, Problem};
use crate::metrics::Metrics;
use crate::store::{
    self, Booking, Created, IdempotentCreate, NewUser, Personal, Role, Store, User,
};
use crate::tokens::{QuoteClaim, QuoteSigner, TokenError};

/// Where "now" comes from; tests and background work can substitute their own.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The system clock plus an offset that tests move forward (only with `--test-clock`), so
/// offer expiry, dispatch deadlines and waiting times can be tested without waiting.
#[derive(Default)]
pub struct ControlledClock {
    offset_ms: std::sync::atomic::AtomicI64,
}

impl ControlledClock {
    pub fn advance(&self, by: ChronoDuration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ControlledClock {
    fn now(&self) -> DateTime<Utc> {
        let offset = self.offset_ms.load(std::sync::atomic::Ordering::SeqCst);
        Utc::now() + ChronoDuration::milliseconds(offset)
    }
}

pub const SESSION_DAYS: i64 = 30;
/// Login throttling: failures counted over this window.
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
pub const MAX_FAILURES_PER_ADDRESS: i64 = 50;

pub struct Limits {
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    pub cors_origins: Vec<HeaderValue>,
    pub cors_any: bool,
}

/// Shared by every request; cloned per request, so it is one `Arc`.
#[derive(Clone)]
pub struct AppState(pub Arc<AppInner>);

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

pub struct AppInner {
    pub store: Store,
    pub catalog: Arc<Catalog>,
    pub catalog_json: Arc<str>,
    pub signer: QuoteSigner,
    pub hashing: PasswordHashing,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    pub in_flight: InFlightKeys,
    /// Partners offered a booking at once (the core's default is 3).
    pub dispatch_batch_size: usize,
    /// Present only when started with `--test-clock`.
    pub test_clock: Option<Arc<ControlledClock>>,
    /// Chauffeurs' positions waiting for the next batch write.
    pub positions: crate::live::PositionBuffer,
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

// ---------------------------------------------------------------------------------------------
// Wire types

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MoneyView {
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// For display, e.g. "EUR 93.00".
    pub formatted: String,
}

impl From<Money> for MoneyView {
    fn from(m: Money) -> MoneyView {
        MoneyView {
            amount_minor: m.amount_minor,
            currency: m.currency.code().to_owned(),
            formatted: m.to_string(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LineView {
    /// base, distance, time, hours, minimum_fare, airport_pickup, meet_and_greet, night,
    /// child_seats, extra_stops, waiting, extra_km, extra_time, rounding.
    #[schema(value_type = String)]
    pub kind: FareLineKind,
    /// In the kind's unit: metres (distance), seconds (time), hours, seats, stops, minutes,
    /// basis points (night), else 1.
    pub quantity: u64,
    /// In minor units of the quote's currency.
    pub amount_minor: i64,
}

impl From<&chauffeur_core::FareLine> for LineView {
    fn from(l: &chauffeur_core::FareLine) -> LineView {
        LineView {
            kind: l.kind,
            quantity: l.quantity,
            amount_minor: l.amount.amount_minor,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuoteView {
    /// Present this to `POST /v1/bookings` before `valid_until`.
    pub quote_token: String,
    #[schema(value_type = String)]
    pub class: VehicleClass,
    pub product: String,
    pub hours: Option<u32>,
    pub total: MoneyView,
    pub net: MoneyView,
    pub vat: MoneyView,
    pub vat_rate_bp: u32,
    pub lines: Vec<LineView>,
    pub distance_m: u32,
    pub duration_s: u32,
    pub pickup_at: DateTime<Utc>,
    /// Wall-clock time in the city's time zone.
    #[schema(value_type = String)]
    pub pickup_local: NaiveDateTime,
    #[schema(value_type = Object)]
    pub pickup_place: PickupPlace,
    pub valid_until: DateTime<Utc>,
    pub catalog_version: String,
}

fn quote_view(quote: &Quote, token: String) -> QuoteView {
    QuoteView {
        quote_token: token,
        class: quote.class,
        product: quote.product.as_str().to_owned(),
        hours: quote.hours,
        total: quote.fare.total.into(),
        net: quote.fare.net.into(),
        vat: quote.fare.vat.into(),
        vat_rate_bp: quote.fare.vat_rate_bp,
        lines: quote.fare.lines.iter().map(LineView::from).collect(),
        distance_m: quote.route.distance_m,
        duration_s: quote.route.duration_s,
        pickup_at: quote.pickup.at,
        pickup_local: quote.pickup.local,
        pickup_place: quote.pickup_place.clone(),
        valid_until: quote.valid_until,
        catalog_version: quote.catalog_version.clone(),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuotesResponse {
    pub city_id: String,
    pub catalog_version: String,
    /// One quote per vehicle class that fits the party, cheapest class first.
    pub quotes: Vec<QuoteView>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUpRequest {
    pub email: String,
    /// At least 10 characters, not one of the most common passwords.
    pub password: String,
    pub name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    #[schema(value_type = String)]
    pub role: Role,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> UserView {
        UserView {
            id: u.id,
            email: u.email.clone(),
            role: u.role,
            name: u.name.clone(),
            phone: u.phone.clone(),
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogInRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// Opaque bearer token: `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PassengerIn {
    pub name: String,
    /// International format, e.g. +49 30 1234567.
    pub phone: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBookingRequest {
    pub quote_token: String,
    /// Who rides, if not the account holder (a guest).
    pub passenger: Option<PassengerIn>,
    /// Required when the pickup is an airport.
    pub flight_number: Option<String>,
    /// Notes to the chauffeur, at most 500 characters.
    pub notes: Option<String>,
    /// If given, must match the child seats the quote was priced with.
    pub child_seats: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PassengerView {
    pub name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BookingView {
    pub id: Uuid,
    pub state: String,
    pub city_id: String,
    pub class: String,
    pub product: String,
    pub pickup_at: DateTime<Utc>,
    #[schema(value_type = Option<String>)]
    pub pickup_local: Option<NaiveDateTime>,
    pub price: MoneyView,
    pub lines: Vec<LineView>,
    pub passenger: PassengerView,
    pub flight_number: Option<String>,
    pub notes: Option<String>,
    pub child_seats: i64,
    pub cancellation_fee: Option<MoneyView>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn currency_of(booking: &Booking) -> Result<Currency, ApiError> {
    Currency::from_code(&booking.currency).map_err(|e| {
        tracing::error!(error = %e, booking = %booking.id, "stored booking has an unknown currency");
        ApiError::internal()
    })
}

fn booking_view(booking: &Booking, personal: &Personal) -> Result<BookingView, ApiError> {
    let currency = currency_of(booking)?;
    let quote: Option<Quote> = serde_json::from_value(booking.quote.clone()).ok();
    Ok(BookingView {
        id: booking.id,
        state: booking.state.as_str().to_owned(),
        city_id: booking.city_id.clone(),
        class: booking.vehicle_class.as_str().to_owned(),
        product: booking.product.as_str().to_owned(),
        pickup_at: booking.pickup_at,
        pickup_local: quote.as_ref().map(|q| q.pickup.local),
        price: Money::new(booking.price_minor, currency).into(),
        lines: quote
            .as_ref()
            .map(|q| q.fare.lines.iter().map(LineView::from).collect())
            .unwrap_or_default(),
        passenger: PassengerView {
            name: personal.passenger_name.clone(),
            phone: personal.passenger_phone.clone(),
        },
        flight_number: personal.flight_number.clone(),
        notes: personal.notes.clone(),
        child_seats: booking.child_seats,
        cancellation_fee: booking
            .cancellation_fee_minor
            .map(|fee| Money::new(fee, currency).into()),
        version: booking.version,
        created_at: booking.created_at,
        updated_at: booking.updated_at,
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BookingList {
    pub bookings: Vec<BookingView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryEntryView {
    pub version: i64,
    pub at: DateTime<Utc>,
    /// rider, partner, chauffeur, operator or system.
    pub actor: String,
    pub actor_id: Option<Uuid>,
    pub from_state: Option<String>,
    pub to_state: String,
    /// The booking as it was after this change (personal data excluded).
    #[schema(value_type = Object)]
    pub booking: Value,
    /// The full earlier version, before this change.
    #[schema(value_type = Option<Object>)]
    pub previous: Option<Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryView {
    pub entries: Vec<HistoryEntryView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CancellationView {
    pub state: String,
    /// What cancelling now costs; confirm with exactly this amount.
    pub fee: MoneyView,
    pub percent_bp: u32,
    /// When the fee next goes up, if it does.
    pub changes_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// The fee shown by `GET …/cancellation`, in minor units.
    pub acknowledged_fee_minor: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: String,
}

// ---------------------------------------------------------------------------------------------
// Extractors

/// A JSON body whose rejections answer as problem+json.
pub struct ApiJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(value))
    }
}

/// The signed-in user, from `Authorization: Bearer <token>`.
pub struct Authenticated {
    pub user: User,
    pub token_hash: String,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 128)
            .ok_or_else(ApiError::unauthorized)?;
        let token_hash = auth::token_hash(token);
        let user = state
            .store
            .session_user(&token_hash, state.now())
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Authenticated { user, token_hash })
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers: catalog and quotes

fn etag_of(state: &AppState) -> String {
    format!("\"{}\"", state.catalog.version())
}

fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

fn json_with_etag(body: Vec<u8>, etag: &str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

/// The whole catalog: cities with classes, tariffs, currency, time zone and airports.
#[utoipa::path(get, path = "/v1/cities", tag = "catalog",
    responses((status = 200, description = "The catalog (ETag = catalog version)", body = Object),
              (status = 304, description = "Not modified (If-None-Match)")))]
pub async fn list_cities(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let etag = etag_of(&state);
    if not_modified(&headers, &etag) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    json_with_etag(state.catalog_json.as_bytes().to_vec(), &etag)
}

/// One city of the catalog.
#[utoipa::path(get, path = "/v1/cities/{id}", tag = "catalog",
    params(("id" = String, Path, description = "City id, e.g. berlin")),
    responses((status = 200, description = "The city", body = Object),
              (status = 304, description = "Not modified"),
              (status = 404, description = "No such city", body = Problem)))]
pub async fn get_city(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let city = state
        .catalog
        .city(&id)
        .map_err(|_| ApiError::not_found("city"))?;
    let etag = etag_of(&state);
    if not_modified(&headers, &etag) {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let body = serde_json::to_vec(city).map_err(|_| ApiError::internal())?;
    Ok(json_with_etag(body, &etag))
}

/// Binding quotes, one per vehicle class that fits, each with a signed token. No account needed.
#[utoipa::path(post, path = "/v1/quotes", tag = "quotes",
    request_body(content = Object, description = "city_id, pickup {lat, lon}, product \
        ({type: transfer, dropoff, stops} or {type: hourly, hours}), pickup_time \
        ({kind: asap} | {kind: local, at, dst?} | {kind: instant, at}), passengers, bags, extras"),
    responses((status = 200, body = QuotesResponse, content_type = "application/json"),
              (status = 422, description = "Invalid request (core error code)", body = Problem)))]
pub async fn create_quotes(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<QuoteRequest>,
) -> Result<Response, ApiError> {
    let now = state.now();
    let quotes = quote_all(&state.catalog, &EstimatedRouter, &request, now)?;
    // One signature for all classes of this request; each token names its class.
    let signed = QuoteClaim::new(&request, &quotes)
        .map(|claim| state.signer.sign(&claim))
        .unwrap_or_default();
    let response = QuotesResponse {
        city_id: request.city_id.clone(),
        catalog_version: state.catalog.version().to_owned(),
        quotes: quotes
            .iter()
            .map(|q| quote_view(q, QuoteSigner::token(&signed, q.class)))
            .collect(),
    };
    Ok(json_response(
        StatusCode::OK,
        &response,
        1536 * quotes.len(),
    ))
}

/// Serialises into a buffer sized for the answer up front (the hot endpoints' answers are a
/// few kilobytes; growing from a small buffer costs several copies).
fn json_response<T: Serialize>(status: StatusCode, value: &T, capacity: usize) -> Response {
    let mut body = Vec::with_capacity(capacity);
    if serde_json::to_writer(&mut body, value).is_err() {
        return ApiError::internal().into_response();
    }
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

// ---------------------------------------------------------------------------------------------
// Handlers: accounts and sessions

fn optional_text(
    value: Option<String>,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        Some(v) if v.chars().count() > max => Err(ApiError::unprocessable(
            "invalid_body",
            format!("{field} is longer than {max} characters"),
        )),
        other => Ok(other),
    }
}

fn check_phone(phone: &str) -> Result<(), ApiError> {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let allowed = phone
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'));
    if phone.starts_with('+') && allowed && (7..=15).contains(&digits) {
        Ok(())
    } else {
        Err(ApiError::unprocessable(
            "invalid_phone",
            "give the phone number in international format, e.g. +49 30 1234567",
        ))
    }
}

/// Sign up as a rider.
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = SignUpRequest,
    responses((status = 201, body = UserView),
              (status = 409, description = "E-mail already registered", body = Problem),
              (status = 422, description = "Invalid e-mail or password", body = Problem)))]
pub async fn sign_up(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignUpRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let email = auth::normalise_email(&body.email)?;
    auth::check_new_password(&body.password)?;
    let name = optional_text(body.name, "name", 100)?;
    let phone = optional_text(body.phone, "phone", 32)?;
    if let Some(phone) = &phone {
        check_phone(phone)?;
    }
    let hash = state.hashing.hash(&body.password).await?;
    let user = state
        .store
        .create_user(
            &NewUser {
                email: &email,
                password_hash: &hash,
                role: Role::Rider,
                name: name.as_deref(),
                phone: phone.as_deref(),
            },
            state.now(),
        )
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict(_) => {
                ApiError::conflict("email_taken", "an account with this e-mail already exists")
            }
            other => other.into(),
        })?;
    tracing::info!(user = %user.id, "account created");
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

fn too_many_attempts() -> ApiError {
    ApiError {
        retry_after: Some(60 * THROTTLE_WINDOW_MINUTES as u64),
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many failed log-ins; wait a while and try again",
        )
    }
}

/// Log in: a bearer token for 30 days. Unknown e-mail and wrong password answer the same.
#[utoipa::path(post, path = "/v1/sessions", tag = "accounts", request_body = LogInRequest,
    responses((status = 201, body = SessionView),
              (status = 401, description = "Wrong e-mail or password", body = Problem),
              (status = 429, description = "Too many failed attempts", body = Problem)))]
pub async fn log_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<LogInRequest>,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    let now = state.now();
    let since = now - ChronoDuration::minutes(THROTTLE_WINDOW_MINUTES);
    let email = body.email.trim().to_lowercase();
    let account_scope = format!("account:{email}");
    let address_scope = format!("address:{}", peer.ip());
    if state
        .store
        .login_failures_since(&account_scope, since)
        .await?
        >= MAX_FAILURES_PER_ACCOUNT
        || state
            .store
            .login_failures_since(&address_scope, since)
            .await?
            >= MAX_FAILURES_PER_ADDRESS
    {
        return Err(too_many_attempts());
    }
    let password_ok_len = body.password.len() <= auth::MAX_PASSWORD_BYTES;
    let found = state.store.credentials(&email).await?;
    let verified = password_ok_len
        && state
            .hashing
            .verify(&body.password, found.as_ref().map(|(_, h)| h.as_str()))
            .await;
    let user = match (verified, found) {
        (true, Some((user, _))) => user,
        _ => {
            state
                .store
                .record_login_failure(&[&account_scope, &address_scope], now)
                .await?;
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "wrong e-mail or password",
            ));
        }
    };
    state.store.clear_login_failures(&account_scope).await?;
    let token = auth::random_token()?;
    let expires_at = now + ChronoDuration::days(SESSION_DAYS);
    state
        .store
        .create_session(&auth::token_hash(&token), user.id, now, expires_at)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionView {
            token,
            expires_at,
            user: UserView::from(&user),
        }),
    ))
}

/// Log out: revokes this token.
#[utoipa::path(delete, path = "/v1/sessions/current", tag = "accounts",
    security(("bearer" = [])),
    responses((status = 204, description = "Logged out"), (status = 401, body = Problem)))]
pub async fn log_out(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .revoke_session(&auth.token_hash, state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = Problem)))]
pub async fn me(auth: Authenticated) -> Json<UserView> {
    Json(UserView::from(&auth.user))
}

/// Everything stored about the signed-in user, as JSON.
#[utoipa::path(get, path = "/v1/me/export", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "user, bookings with personal data and history", body = Object),
              (status = 401, body = Problem)))]
pub async fn export_me(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Response, ApiError> {
    let export = state.store.export(auth.user).await?;
    let mut response = Json(export).into_response();
    response.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"chauffeur-export.json\""),
    );
    Ok(response)
}

/// Erase the account's personal data and log out everywhere. Bookings stay, anonymised.
#[utoipa::path(delete, path = "/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 204, description = "Erased"), (status = 401, body = Problem)))]
pub async fn erase_me(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<StatusCode, ApiError> {
    state.store.erase_user(auth.user.id, state.now()).await?;
    tracing::info!(user = %auth.user.id, "account erased");
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Handlers: bookings

const MAX_IDEMPOTENCY_KEY: usize = 255;

fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let key = headers
        .get("idempotency-key")
        .ok_or_else(|| {
            ApiError::bad_request(
                "idempotency_key_missing",
                "creating a booking needs an Idempotency-Key header (e.g. a UUID)",
            )
        })?
        .to_str()
        .map_err(|_| ApiError::bad_request("idempotency_key_invalid", "use printable ASCII"))?
        .trim()
        .to_owned();
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY {
        return Err(ApiError::bad_request(
            "idempotency_key_invalid",
            "the Idempotency-Key must be 1 to 255 characters",
        ));
    }
    Ok(key)
}

fn check_flight_number(raw: &str) -> Result<String, ApiError> {
    let flight: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let (airline, number) = flight.split_at(flight.len().min(2));
    let ok = flight.len() <= 8
        && airline.len() == 2
        && airline.chars().all(|c| c.is_ascii_alphanumeric())
        && !number.is_empty()
        && number.chars().take_while(char::is_ascii_digit).count() >= 1
        && number.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(flight)
    } else {
        Err(ApiError::unprocessable(
            "invalid_flight_number",
            "give the flight number as airline code and number, e.g. LH 2031",
        ))
    }
}

fn ensure_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if json {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ))
    }
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            ApiError::bad_request("malformed_body", e.to_string())
        } else {
            ApiError::unprocessable("invalid_body", e.to_string())
        }
    })
}

fn key_in_use() -> ApiError {
    ApiError::conflict(
        "idempotency_key_in_use",
        "a request with this Idempotency-Key is still being processed; retry shortly",
    )
}

/// The (rider, key) pairs whose create is running in this process; a guard removes its pair
/// when the request ends, however it ends.
pub type InFlightKeys = Arc<std::sync::Mutex<std::collections::HashSet<(Uuid, String)>>>;

struct InFlight {
    keys: InFlightKeys,
    entry: (Uuid, String),
}

impl InFlight {
    fn enter(keys: &InFlightKeys, user: Uuid, key: &str) -> Option<InFlight> {
        let entry = (user, key.to_owned());
        let mut set = keys.lock().ok()?;
        set.insert(entry.clone()).then(|| InFlight {
            keys: keys.clone(),
            entry,
        })
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut set) = self.keys.lock() {
            set.remove(&self.entry);
        }
    }
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// Book a quote. Needs a session and an `Idempotency-Key`: the same key and body replay the
/// first answer; the same key with another body is 422; a key still in use is 409.
#[utoipa::path(post, path = "/v1/bookings", tag = "bookings", security(("bearer" = [])),
    request_body = CreateBookingRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per booking attempt, e.g. a UUID")),
    responses((status = 201, body = BookingView),
              (status = 400, description = "Missing Idempotency-Key or malformed body", body = Problem),
              (status = 401, body = Problem),
              (status = 409, description = "The first request with this key is still running", body = Problem),
              (status = 422, description = "Invalid, tampered or expired quote; key reused with another body", body = Problem)))]
pub async fn create_booking(
    State(state): State<AppState>,
    auth: Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    ensure_json(&headers)?;
    let request: CreateBookingRequest = parse_body(&body)?;
    let now = state.now();
    let quote = state
        .signer
        .verify(request.quote_token.trim())
        .and_then(|(claim, class)| claim.reprice(&state.catalog, class))
        .map_err(|e| match e {
            TokenError::CatalogChanged => ApiError::unprocessable(
                "quote_expired",
                "prices were updated since this quote; ask for a new one",
            ),
            TokenError::Malformed | TokenError::BadSignature | TokenError::Inconsistent => {
                ApiError::unprocessable("quote_invalid", "the quote token is not one we issued")
            }
        })?;
    if !quote.is_valid_at(now) {
        return Err(ApiError::unprocessable(
            "quote_expired",
            format!(
                "the quote expired at {}; ask for a new one",
                quote.valid_until
            ),
        ));
    }
    let quoted_seats = quote
        .fare
        .line(FareLineKind::ChildSeats)
        .map_or(0, |l| l.quantity);
    if let Some(seats) = request.child_seats {
        if u64::from(seats) != quoted_seats {
            return Err(ApiError::unprocessable(
                "child_seats_mismatch",
                format!(
                    "the quote was priced with {quoted_seats} child seats; ask for a new quote"
                ),
            ));
        }
    }
    let flight_number = match (&quote.pickup_place, request.flight_number.as_deref()) {
        (PickupPlace::Airport { iata }, None) => {
            return Err(ApiError::unprocessable(
                "flight_number_required",
                format!(
                "the pickup is at {iata}: give the flight number so the chauffeur can follow it"
            ),
            ))
        }
        (_, Some(raw)) => Some(check_flight_number(raw)?),
        (_, None) => None,
    };
    let notes = optional_text(request.notes, "notes", 500)?;
    let (passenger_name, passenger_phone) = match request.passenger {
        Some(p) => {
            let name = optional_text(Some(p.name), "passenger.name", 100)?.ok_or_else(|| {
                ApiError::unprocessable("invalid_body", "passenger.name is empty")
            })?;
            check_phone(p.phone.trim())?;
            (Some(name), Some(p.phone.trim().to_owned()))
        }
        None => (auth.user.name.clone(), auth.user.phone.clone()),
    };
    let request_hash = hex::encode(Sha256::digest(&body));

    // Concurrent duplicates within this process answer 409 at once; across replicas the
    // store's transaction-scoped lock does the same.
    let Some(_in_flight) = InFlight::enter(&state.in_flight, auth.user.id, &key) else {
        return Err(key_in_use());
    };
    let booking = Booking {
        id: Uuid::now_v7(),
        rider_id: auth.user.id,
        city_id: quote.city_id.clone(),
        state: BookingState::Pending,
        vehicle_class: quote.class,
        product: quote.product,
        pickup_at: quote.pickup.at,
        price_minor: quote.total().amount_minor,
        currency: quote.total().currency.code().to_owned(),
        quote: serde_json::to_value(&quote).map_err(|_| ApiError::internal())?,
        child_seats: i64::try_from(quoted_seats).unwrap_or(0),
        cancellation_fee_minor: None,
        partner_id: None,
        chauffeur_id: None,
        vehicle_id: None,
        receipt: None,
        final_price_minor: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let personal = Personal {
        passenger_name,
        passenger_phone,
        flight_number,
        notes,
    };
    let view = booking_view(&booking, &personal)?;
    let response_body = serde_json::to_string(&view).map_err(|_| ApiError::internal())?;
    let outcome = state
        .store
        .create_booking_idempotent(
            &IdempotentCreate {
                user_id: auth.user.id,
                key: &key,
                request_hash: &request_hash,
                response_status: 201,
                response_body: &response_body,
            },
            &booking,
            &personal,
        )
        .await?;
    match outcome {
        Created::Created => {}
        Created::Replay { status, body } => return Ok(replay(status, body)),
        Created::Mismatch => {
            return Err(ApiError::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request body",
            ))
        }
        Created::InProgress => return Err(key_in_use()),
    }
    state.metrics.booking_created();
    // Offer it to partners right away; the dispatcher's timer retries if this fails.
    if let Err(e) = crate::dispatch::dispatch_booking(&state, booking.id).await {
        tracing::warn!(booking = %booking.id, error = %e, "first dispatch step failed");
    }
    tracing::info!(booking = %booking.id, city = %booking.city_id, "booking created");
    let mut response = (StatusCode::CREATED, response_body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/bookings/{}", booking.id)) {
        h.insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The booking if it exists and belongs to the user; otherwise the same 404 either way.
async fn own_booking(
    state: &AppState,
    user: &User,
    id: &str,
) -> Result<(Booking, Personal), ApiError> {
    let id = Uuid::parse_str(id).map_err(|_| ApiError::not_found("booking"))?;
    match state.store.booking(id).await? {
        Some((booking, personal)) if booking.rider_id == user.id => Ok((booking, personal)),
        _ => Err(ApiError::not_found("booking")),
    }
}

/// The signed-in rider's bookings, latest pickup first.
#[utoipa::path(get, path = "/v1/bookings", tag = "bookings", security(("bearer" = [])),
    responses((status = 200, body = BookingList), (status = 401, body = Problem)))]
pub async fn list_bookings(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<BookingList>, ApiError> {
    let mut bookings = Vec::new();
    for b in state.store.bookings_of(auth.user.id).await? {
        let personal = state
            .store
            .booking(b.id)
            .await?
            .map(|(_, p)| p)
            .unwrap_or_default();
        bookings.push(booking_view(&b, &personal)?);
    }
    Ok(Json(BookingList { bookings }))
}

/// One of the rider's bookings.
#[utoipa::path(get, path = "/v1/bookings/{id}", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = BookingView), (status = 404, body = Problem)))]
pub async fn get_booking(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<BookingView>, ApiError> {
    let (booking, personal) = own_booking(&state, &auth.user, &id).await?;
    Ok(Json(booking_view(&booking, &personal)?))
}

/// Every change to the booking: who, when, from which state to which, and each full version.
#[utoipa::path(get, path = "/v1/bookings/{id}/history", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = HistoryView), (status = 404, body = Problem)))]
pub async fn booking_history(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<HistoryView>, ApiError> {
    let (booking, _) = own_booking(&state, &auth.user, &id).await?;
    let mut previous: Option<Value> = None;
    let mut entries = Vec::new();
    for e in state.store.history(booking.id).await? {
        entries.push(HistoryEntryView {
            version: e.version,
            at: e.at,
            actor: e.actor,
            actor_id: e.actor_id,
            from_state: e.from_state,
            to_state: e.to_state,
            booking: e.snapshot.clone(),
            previous: previous.take(),
        });
        previous = Some(e.snapshot);
    }
    Ok(Json(HistoryView { entries }))
}

fn policy_for(state: &AppState, booking: &Booking) -> CancellationPolicy {
    state
        .catalog
        .city(&booking.city_id)
        .map(|c| c.cancellation.clone())
        .unwrap_or_default()
}

fn current_fee(
    state: &AppState,
    booking: &Booking,
    now: DateTime<Utc>,
) -> Result<chauffeur_core::CancellationFee, ApiError> {
    let price = Money::new(booking.price_minor, currency_of(booking)?);
    Ok(cancellation_fee(
        &policy_for(state, booking),
        booking.product,
        booking.state,
        price,
        booking.pickup_at,
        now,
    )?)
}

/// Step one of cancelling: what it would cost now.
#[utoipa::path(get, path = "/v1/bookings/{id}/cancellation", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CancellationView), (status = 404, body = Problem),
              (status = 409, description = "Cannot be cancelled in its state", body = Problem)))]
pub async fn cancellation_preview(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<CancellationView>, ApiError> {
    let (booking, _) = own_booking(&state, &auth.user, &id).await?;
    let fee = current_fee(&state, &booking, state.now())?;
    Ok(Json(CancellationView {
        state: booking.state.as_str().to_owned(),
        fee: fee.fee.into(),
        percent_bp: fee.percent_bp,
        changes_at: fee.changes_at,
    }))
}

/// Step two: cancel, confirming the fee you were shown. A changed fee answers 409.
#[utoipa::path(post, path = "/v1/bookings/{id}/cancel", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CancelRequest,
    responses((status = 200, body = BookingView), (status = 404, body = Problem),
              (status = 409, description = "Fee changed, or not cancellable", body = Problem)))]
pub async fn cancel_booking(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CancelRequest>,
) -> Result<Json<BookingView>, ApiError> {
    let (booking, personal) = own_booking(&state, &auth.user, &id).await?;
    let now = state.now();
    let fee = current_fee(&state, &booking, now)?;
    let fee = confirm_cancellation(
        &fee,
        Money::new(body.acknowledged_fee_minor, fee.fee.currency),
    )?;
    let to = transition(booking.state, BookingState::Cancelled, Actor::Rider)?;
    let updated = state
        .store
        .transition(&store::Transition {
            cancellation_fee_minor: Some(fee.amount_minor),
            ..store::Transition::new(&booking, to, Actor::Rider, Some(auth.user.id), now)
        })
        .await?;
    tracing::info!(booking = %booking.id, fee = %fee, "booking cancelled by rider");
    Ok(Json(booking_view(&updated, &personal)?))
}

// ---------------------------------------------------------------------------------------------
// Handlers: partners

/// A signed-in member of a partner (a dispatcher account with the partner role).
pub struct PartnerMember {
    pub user: User,
    pub partner_id: Uuid,
}

impl FromRequestParts<AppState> for PartnerMember {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = Authenticated::from_request_parts(parts, state).await?;
        let partner_id = match auth.user.role {
            Role::Partner | Role::Operator => state.store.partner_of(auth.user.id).await?,
            _ => None,
        };
        match partner_id {
            Some(partner_id) => Ok(PartnerMember {
                user: auth.user,
                partner_id,
            }),
            None => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not_a_partner",
                "this account does not dispatch for a partner",
            )),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OfferView {
    pub id: Uuid,
    pub booking_id: Uuid,
    pub city_id: String,
    pub class: String,
    pub product: String,
    pub pickup_at: DateTime<Utc>,
    #[schema(value_type = Option<String>)]
    pub pickup_local: Option<NaiveDateTime>,
    pub passengers: Option<u32>,
    pub bags: Option<u32>,
    pub price: MoneyView,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OfferList {
    pub offers: Vec<OfferView>,
}

/// The partner's open offers, soonest pickup first.
#[utoipa::path(get, path = "/v1/partner/offers", tag = "partners", security(("bearer" = [])),
    responses((status = 200, body = OfferList), (status = 401, body = Problem),
              (status = 403, description = "Not a partner account", body = Problem)))]
pub async fn partner_offers(
    State(state): State<AppState>,
    member: PartnerMember,
) -> Result<Json<OfferList>, ApiError> {
    let mut offers = Vec::new();
    for (offer, booking) in state
        .store
        .open_offers_of_partner(member.partner_id, state.now())
        .await?
    {
        let quote: Option<Quote> = serde_json::from_value(booking.quote.clone()).ok();
        offers.push(OfferView {
            id: offer.id,
            booking_id: booking.id,
            city_id: booking.city_id.clone(),
            class: booking.vehicle_class.as_str().to_owned(),
            product: booking.product.as_str().to_owned(),
            pickup_at: booking.pickup_at,
            pickup_local: quote.as_ref().map(|q| q.pickup.local),
            passengers: quote.as_ref().map(|q| q.passengers),
            bags: quote.as_ref().map(|q| q.bags),
            price: Money::new(booking.price_minor, currency_of(&booking)?).into(),
            expires_at: offer.expires_at,
        });
    }
    Ok(Json(OfferList { offers }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AcceptedView {
    pub booking_id: Uuid,
    pub state: String,
    pub version: i64,
}

/// Accept an offer. The first accept wins; the others answer 409 `offer_taken`.
#[utoipa::path(post, path = "/v1/partner/offers/{id}/accept", tag = "partners", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AcceptedView), (status = 404, body = Problem),
              (status = 409, description = "Taken by another partner, expired or already answered", body = Problem)))]
pub async fn accept_offer(
    State(state): State<AppState>,
    member: PartnerMember,
    Path(id): Path<String>,
) -> Result<Json<AcceptedView>, ApiError> {
    let offer_id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found("offer"))?;
    match state
        .store
        .accept_offer(offer_id, member.partner_id, member.user.id, state.now())
        .await?
    {
        store::Accepted::Won(booking) => {
            tracing::info!(booking = %booking.id, partner = %member.partner_id, "offer accepted");
            Ok(Json(AcceptedView {
                booking_id: booking.id,
                state: booking.state.as_str().to_owned(),
                version: booking.version,
            }))
        }
        store::Accepted::NotFound => Err(ApiError::not_found("offer")),
        store::Accepted::Taken => Err(ApiError::conflict(
            "offer_taken",
            "another partner accepted this ride first",
        )),
        store::Accepted::Expired => Err(ApiError::conflict(
            "offer_expired",
            "the time to answer this offer ran out",
        )),
        store::Accepted::Closed(was) => Err(ApiError::conflict(
            "offer_closed",
            format!("this offer is already {was}"),
        )),
    }
}

/// Decline an offer; it counts in the partner's ranking.
#[utoipa::path(post, path = "/v1/partner/offers/{id}/decline", tag = "partners", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Declined"), (status = 404, body = Problem)))]
pub async fn decline_offer(
    State(state): State<AppState>,
    member: PartnerMember,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let offer_id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found("offer"))?;
    if state
        .store
        .decline_offer(offer_id, member.partner_id, state.now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("open offer"))
    }
}

/// What a partner or chauffeur sees of a ride they serve (with what they need to serve it).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RideView {
    pub id: Uuid,
    pub state: String,
    pub city_id: String,
    pub class: String,
    pub product: String,
    pub pickup_at: DateTime<Utc>,
    #[schema(value_type = Option<String>)]
    pub pickup_local: Option<NaiveDateTime>,
    #[schema(value_type = Option<Object>)]
    pub pickup_place: Option<PickupPlace>,
    pub passengers: Option<u32>,
    pub bags: Option<u32>,
    pub price: MoneyView,
    pub passenger: PassengerView,
    pub flight_number: Option<String>,
    pub notes: Option<String>,
    pub chauffeur_id: Option<Uuid>,
    pub vehicle_id: Option<Uuid>,
    pub final_price: Option<MoneyView>,
    pub version: i64,
}

fn ride_view(booking: &Booking, personal: &Personal) -> Result<RideView, ApiError> {
    let currency = currency_of(booking)?;
    let quote: Option<Quote> = serde_json::from_value(booking.quote.clone()).ok();
    Ok(RideView {
        id: booking.id,
        state: booking.state.as_str().to_owned(),
        city_id: booking.city_id.clone(),
        class: booking.vehicle_class.as_str().to_owned(),
        product: booking.product.as_str().to_owned(),
        pickup_at: booking.pickup_at,
        pickup_local: quote.as_ref().map(|q| q.pickup.local),
        pickup_place: quote.as_ref().map(|q| q.pickup_place.clone()),
        passengers: quote.as_ref().map(|q| q.passengers),
        bags: quote.as_ref().map(|q| q.bags),
        price: Money::new(booking.price_minor, currency).into(),
        passenger: PassengerView {
            name: personal.passenger_name.clone(),
            phone: personal.passenger_phone.clone(),
        },
        flight_number: personal.flight_number.clone(),
        notes: personal.notes.clone(),
        chauffeur_id: booking.chauffeur_id,
        vehicle_id: booking.vehicle_id,
        final_price: booking
            .final_price_minor
            .map(|m| Money::new(m, currency).into()),
        version: booking.version,
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RideList {
    pub rides: Vec<RideView>,
}

async fn ride_list(state: &AppState, bookings: Vec<Booking>) -> Result<Json<RideList>, ApiError> {
    let mut rides = Vec::with_capacity(bookings.len());
    for b in bookings {
        let personal = state
            .store
            .booking(b.id)
            .await?
            .map(|(_, p)| p)
            .unwrap_or_default();
        rides.push(ride_view(&b, &personal)?);
    }
    Ok(Json(RideList { rides }))
}

/// A ride this partner accepted; another partner's (or none) answers 404.
async fn partner_ride(
    state: &AppState,
    member: &PartnerMember,
    id: &str,
) -> Result<(Booking, Personal), ApiError> {
    let id = Uuid::parse_str(id).map_err(|_| ApiError::not_found("ride"))?;
    match state.store.booking(id).await? {
        Some((b, p)) if b.partner_id == Some(member.partner_id) => Ok((b, p)),
        _ => Err(ApiError::not_found("ride")),
    }
}

/// The rides this partner accepted, soonest first.
#[utoipa::path(get, path = "/v1/partner/rides", tag = "partners", security(("bearer" = [])),
    responses((status = 200, body = RideList), (status = 403, body = Problem)))]
pub async fn partner_rides(
    State(state): State<AppState>,
    member: PartnerMember,
) -> Result<Json<RideList>, ApiError> {
    let bookings = state.store.bookings_of_partner(member.partner_id).await?;
    ride_list(&state, bookings).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// A chauffeur account of this partner.
    pub chauffeur_id: Uuid,
    /// A vehicle of this partner, of the booked class, big enough for the party.
    pub vehicle_id: Uuid,
}

/// Assign a chauffeur and a vehicle (again, to change them). A chauffeur cannot hold two rides
/// whose times overlap.
#[utoipa::path(post, path = "/v1/partner/rides/{id}/assign", tag = "partners", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = AssignRequest,
    responses((status = 200, body = RideView), (status = 404, body = Problem),
              (status = 409, description = "Overlapping ride, or not assignable in its state", body = Problem),
              (status = 422, description = "Not this partner's chauffeur or a fitting vehicle", body = Problem)))]
pub async fn assign_ride(
    State(state): State<AppState>,
    member: PartnerMember,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssignRequest>,
) -> Result<Json<RideView>, ApiError> {
    let (booking, personal) = partner_ride(&state, &member, &id).await?;
    let to = transition(
        booking.state,
        BookingState::ChauffeurAssigned,
        Actor::Partner,
    )
    .or_else(|e| {
        // Re-assigning an assigned ride changes who drives, not the state.
        if booking.state == BookingState::ChauffeurAssigned {
            Ok(booking.state)
        } else {
            Err(e)
        }
    })?;
    if !state
        .store
        .is_partner_chauffeur(member.partner_id, body.chauffeur_id)
        .await?
    {
        return Err(ApiError::unprocessable(
            "unknown_chauffeur",
            "that is not a chauffeur of this partner",
        ));
    }
    let (passengers, bags) = serde_json::from_value::<Quote>(booking.quote.clone())
        .map(|q| (i64::from(q.passengers), i64::from(q.bags)))
        .unwrap_or((1, 0));
    match state
        .store
        .vehicle_of(member.partner_id, body.vehicle_id)
        .await?
    {
        Some((class, seats, vehicle_bags, true))
            if class == booking.vehicle_class.as_str()
                && seats >= passengers
                && vehicle_bags >= bags => {}
        _ => return Err(ApiError::unprocessable(
            "unfit_vehicle",
            "use an active vehicle of this partner, of the booked class, big enough for the party",
        )),
    }
    let (starts_at, ends_at) = crate::dispatch::busy_window(&booking);
    let updated = state
        .store
        .transition(&store::Transition {
            assignment: store::AssignmentChange::Assign {
                partner_id: member.partner_id,
                chauffeur_id: body.chauffeur_id,
                vehicle_id: body.vehicle_id,
                starts_at,
                ends_at,
            },
            ..store::Transition::new(
                &booking,
                to,
                Actor::Partner,
                Some(member.user.id),
                state.now(),
            )
        })
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict("chauffeur_busy") => ApiError::conflict(
                "chauffeur_busy",
                "this chauffeur already has a ride at an overlapping time",
            ),
            other => other.into(),
        })?;
    Ok(Json(ride_view(&updated, &personal)?))
}

/// Give a ride back (until 2 hours before pickup); it is offered again, to other partners first.
#[utoipa::path(post, path = "/v1/partner/rides/{id}/give-back", tag = "partners", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = RideView), (status = 404, body = Problem),
              (status = 409, description = "Too late (give_back_too_late) or not in a state to give back", body = Problem)))]
pub async fn give_back_ride(
    State(state): State<AppState>,
    member: PartnerMember,
    Path(id): Path<String>,
) -> Result<Json<RideView>, ApiError> {
    let (booking, personal) = partner_ride(&state, &member, &id).await?;
    let now = state.now();
    chauffeur_core::dispatch::check_give_back(booking.pickup_at, now)?;
    let to = transition(booking.state, BookingState::Pending, Actor::Partner)?;
    let updated = state
        .store
        .transition(&store::Transition {
            given_back_by: Some(member.partner_id),
            ..store::Transition::new(&booking, to, Actor::Partner, Some(member.user.id), now)
        })
        .await?;
    tracing::info!(booking = %booking.id, partner = %member.partner_id, "ride given back");
    if let Err(e) = crate::dispatch::dispatch_booking(&state, booking.id).await {
        tracing::warn!(booking = %booking.id, error = %e, "re-dispatch after give-back failed; the timer retries");
    }
    Ok(Json(ride_view(&updated, &personal)?))
}

// ---------------------------------------------------------------------------------------------
// Handlers: chauffeurs

/// A signed-in chauffeur account.
pub struct ChauffeurUser(pub User);

impl FromRequestParts<AppState> for ChauffeurUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = Authenticated::from_request_parts(parts, state).await?;
        if auth.user.role == Role::Chauffeur {
            Ok(ChauffeurUser(auth.user))
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not_a_chauffeur",
                "this account is not a chauffeur's",
            ))
        }
    }
}

/// The rides assigned to the signed-in chauffeur.
#[utoipa::path(get, path = "/v1/chauffeur/rides", tag = "chauffeurs", security(("bearer" = [])),
    responses((status = 200, body = RideList), (status = 403, body = Problem)))]
pub async fn chauffeur_rides(
    State(state): State<AppState>,
    ChauffeurUser(user): ChauffeurUser,
) -> Result<Json<RideList>, ApiError> {
    let bookings = state.store.bookings_of_chauffeur(user.id).await?;
    ride_list(&state, bookings).await
}

fn offer_view(offer: &store::Offer, booking: &Booking) -> Result<OfferView, ApiError> {
    let quote: Option<Quote> = serde_json::from_value(booking.quote.clone()).ok();
    Ok(OfferView {
        id: offer.id,
        booking_id: booking.id,
        city_id: booking.city_id.clone(),
        class: booking.vehicle_class.as_str().to_owned(),
        product: booking.product.as_str().to_owned(),
        pickup_at: booking.pickup_at,
        pickup_local: quote.as_ref().map(|q| q.pickup.local),
        passengers: quote.as_ref().map(|q| q.passengers),
        bags: quote.as_ref().map(|q| q.bags),
        price: Money::new(booking.price_minor, currency_of(booking)?).into(),
        expires_at: offer.expires_at,
    })
}

/// On-demand offers made to the signed-in chauffeur (the nearest available one).
#[utoipa::path(get, path = "/v1/chauffeur/offers", tag = "chauffeurs", security(("bearer" = [])),
    responses((status = 200, body = OfferList), (status = 403, body = Problem)))]
pub async fn chauffeur_offers(
    State(state): State<AppState>,
    ChauffeurUser(user): ChauffeurUser,
) -> Result<Json<OfferList>, ApiError> {
    let mut offers = Vec::new();
    for (offer, booking) in state
        .store
        .open_offers_of_chauffeur(user.id, state.now())
        .await?
    {
        offers.push(offer_view(&offer, &booking)?);
    }
    Ok(Json(OfferList { offers }))
}

/// Accept an on-demand offer: the ride is assigned to this chauffeur at once. The first accept
/// wins.
#[utoipa::path(post, path = "/v1/chauffeur/offers/{id}/accept", tag = "chauffeurs", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = RideView), (status = 404, body = Problem),
              (status = 409, description = "Taken, expired, answered, or an overlapping ride", body = Problem)))]
pub async fn chauffeur_accept_offer(
    State(state): State<AppState>,
    ChauffeurUser(user): ChauffeurUser,
    Path(id): Path<String>,
) -> Result<Json<RideView>, ApiError> {
    let offer_id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found("offer"))?;
    let offer = match state.store.offer_by_id(offer_id).await? {
        Some(o) if o.chauffeur_id == Some(user.id) => o,
        _ => return Err(ApiError::not_found("offer")),
    };
    let (booking, personal) = state
        .store
        .booking(offer.booking_id)
        .await?
        .ok_or_else(|| ApiError::not_found("offer"))?;
    // The core's table allows a chauffeur to take a pending ride (on demand) straight to assigned.
    transition(
        booking.state,
        BookingState::ChauffeurAssigned,
        Actor::Chauffeur,
    )
    .map_err(|_| {
        ApiError::conflict(
            "offer_taken",
            "this ride is no longer looking for a chauffeur",
        )
    })?;
    let busy = crate::dispatch::busy_window(&booking);
    let outcome = state
        .store
        .accept_chauffeur_offer(offer_id, user.id, state.now(), busy)
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict("chauffeur_busy") => {
                ApiError::conflict("chauffeur_busy", "you have a ride at an overlapping time")
            }
            other => other.into(),
        })?;
    match outcome {
        store::Accepted::Won(updated) => Ok(Json(ride_view(&updated, &personal)?)),
        store::Accepted::NotFound => Err(ApiError::not_found("offer")),
        store::Accepted::Taken => Err(ApiError::conflict(
            "offer_taken",
            "another chauffeur accepted this ride first",
        )),
        store::Accepted::Expired => Err(ApiError::conflict(
            "offer_expired",
            "the time to answer this offer ran out",
        )),
        store::Accepted::Closed(was) => Err(ApiError::conflict(
            "offer_closed",
            format!("this offer is already {was}"),
        )),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationRequest {
    pub lat: f64,
    pub lon: f64,
}

/// The chauffeur's current position. At most about one a second is taken (429 otherwise); they
/// are written in batches and shown to the rider of a ride on its way.
#[utoipa::path(post, path = "/v1/chauffeur/location", tag = "chauffeurs", security(("bearer" = [])),
    request_body = LocationRequest,
    responses((status = 202, description = "Taken"), (status = 422, body = Problem),
              (status = 429, description = "Sent too often", body = Problem)))]
pub async fn chauffeur_location(
    State(state): State<AppState>,
    ChauffeurUser(user): ChauffeurUser,
    ApiJson(body): ApiJson<LocationRequest>,
) -> Result<StatusCode, ApiError> {
    chauffeur_core::LatLon::new(body.lat, body.lon, "location")?;
    let position = crate::live::Position {
        lat: body.lat,
        lon: body.lon,
        at: state.now(),
    };
    if state.positions.offer(user.id, position) {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_updates",
                "send at most one position a second",
            )
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// en_route, arrived, on_board, completed or no_show.
    pub status: String,
    /// On completion of a transfer: minutes waited from the later of pickup time and arrival.
    #[serde(default)]
    pub waiting_minutes: u32,
    /// On completion of an hourly hire: kilometres driven and minutes the hire lasted.
    #[serde(default)]
    pub driven_km: u32,
    #[serde(default)]
    pub hire_minutes: u32,
}

/// Report the ride's progress. Every change goes through the core's transition table; no-show
/// only after the free waiting time; completion computes the receipt from the quote and the
/// declared extras.
#[utoipa::path(post, path = "/v1/chauffeur/rides/{id}/status", tag = "chauffeurs", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = StatusRequest,
    responses((status = 200, body = RideView), (status = 404, body = Problem),
              (status = 409, description = "Illegal transition, or no-show too early", body = Problem),
              (status = 422, description = "Unknown status", body = Problem)))]
pub async fn chauffeur_status(
    State(state): State<AppState>,
    ChauffeurUser(user): ChauffeurUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StatusRequest>,
) -> Result<Json<RideView>, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found("ride"))?;
    let (booking, personal) = match state.store.booking(id).await? {
        Some((b, p)) if b.chauffeur_id == Some(user.id) => (b, p),
        _ => return Err(ApiError::not_found("ride")),
    };
    let wanted = BookingState::parse(&body.status)
        .filter(|s| {
            matches!(
                s,
                BookingState::EnRoute
                    | BookingState::Arrived
                    | BookingState::OnBoard
                    | BookingState::Completed
                    | BookingState::NoShow
            )
        })
        .ok_or_else(|| {
            ApiError::unprocessable(
                "unknown_status",
                "status is one of en_route, arrived, on_board, completed, no_show",
            )
        })?;
    let to = transition(booking.state, wanted, Actor::Chauffeur)?;
    let now = state.now();
    let quote: Quote =
        serde_json::from_value(booking.quote.clone()).map_err(|_| ApiError::internal())?;
    let mut change = store::Transition::new(&booking, to, Actor::Chauffeur, Some(user.id), now);
    if to == BookingState::NoShow {
        let arrived_at = state
            .store
            .history(booking.id)
            .await?
            .iter()
            .rev()
            .find(|e| e.to_state == "arrived")
            .map_or(now, |e| e.at);
        chauffeur_core::booking::check_no_show(
            booking.pickup_at,
            arrived_at,
            quote.extras_tariff.free_waiting_minutes,
            now,
        )?;
    }
    if to == BookingState::Completed {
        let receipt = chauffeur_core::final_fare(
            &quote,
            &chauffeur_core::DeclaredExtras {
                waiting_minutes: body.waiting_minutes,
                driven_km: body.driven_km,
                hire_minutes: body.hire_minutes,
                ..Default::default()
            },
        )?;
        let total = receipt.fare.total.amount_minor;
        change.receipt = Some((
            serde_json::to_value(&receipt).map_err(|_| ApiError::internal())?,
            total,
        ));
    }
    let updated = state.store.transition(&change).await?;
    tracing::info!(booking = %booking.id, state = %to, "ride status");
    Ok(Json(ride_view(&updated, &personal)?))
}

// ---------------------------------------------------------------------------------------------
// Handlers: a partner's own chauffeurs and vehicles; operators' partner management

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChauffeurView {
    pub id: Uuid,
    pub name: Option<String>,
    pub email: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VehicleView {
    pub id: Uuid,
    pub class: String,
    pub plate: String,
    pub seats: i64,
    pub bags: i64,
    pub active: bool,
}

/// This partner's chauffeurs.
#[utoipa::path(get, path = "/v1/partner/chauffeurs", tag = "partners", security(("bearer" = [])),
    responses((status = 200, body = Vec<ChauffeurView>), (status = 403, body = Problem)))]
pub async fn partner_chauffeurs(
    State(state): State<AppState>,
    member: PartnerMember,
) -> Result<Json<Vec<ChauffeurView>>, ApiError> {
    let rows = state.store.partner_chauffeurs(member.partner_id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(id, name, email)| ChauffeurView { id, name, email })
            .collect(),
    ))
}

/// This partner's vehicles.
#[utoipa::path(get, path = "/v1/partner/vehicles", tag = "partners", security(("bearer" = [])),
    responses((status = 200, body = Vec<VehicleView>), (status = 403, body = Problem)))]
pub async fn partner_vehicles(
    State(state): State<AppState>,
    member: PartnerMember,
) -> Result<Json<Vec<VehicleView>>, ApiError> {
    let rows = state.store.partner_vehicles(member.partner_id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(id, class, plate, seats, bags, active)| VehicleView {
                id,
                class,
                plate,
                seats,
                bags,
                active,
            })
            .collect(),
    ))
}

/// A signed-in operator.
pub struct Operator(pub User);

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = Authenticated::from_request_parts(parts, state).await?;
        if auth.user.role == Role::Operator {
            Ok(Operator(auth.user))
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not_an_operator",
                "this needs an operator account",
            ))
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPartnerRequest {
    pub name: String,
    /// Catalog city ids.
    pub cities: Vec<String>,
    /// business, first, van.
    pub classes: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMemberRequest {
    pub email: String,
    pub password: String,
    pub name: String,
    /// partner (a dispatcher) or chauffeur.
    pub role: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVehicleRequest {
    pub class: String,
    pub plate: String,
    pub seats: i64,
    pub bags: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedId {
    pub id: Uuid,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerSummaryView {
    pub id: Uuid,
    pub name: String,
    pub active: bool,
    pub cities: Vec<String>,
    pub classes: Vec<String>,
    pub members: i64,
    pub vehicles: i64,
}

/// All partners.
#[utoipa::path(get, path = "/v1/operator/partners", tag = "operators", security(("bearer" = [])),
    responses((status = 200, body = Vec<PartnerSummaryView>), (status = 403, body = Problem)))]
pub async fn operator_partners(
    State(state): State<AppState>,
    _op: Operator,
) -> Result<Json<Vec<PartnerSummaryView>>, ApiError> {
    let partners = state.store.partners().await?;
    Ok(Json(
        partners
            .into_iter()
            .map(|p| PartnerSummaryView {
                id: p.id,
                name: p.name,
                active: p.active,
                cities: p.cities,
                classes: p.classes,
                members: p.members,
                vehicles: p.vehicles,
            })
            .collect(),
    ))
}

/// Register a partner.
#[utoipa::path(post, path = "/v1/operator/partners", tag = "operators", security(("bearer" = [])),
    request_body = NewPartnerRequest,
    responses((status = 201, body = CreatedId), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn operator_create_partner(
    State(state): State<AppState>,
    _op: Operator,
    ApiJson(body): ApiJson<NewPartnerRequest>,
) -> Result<(StatusCode, Json<CreatedId>), ApiError> {
    let id = crate::partners::create_partner(
        &state.store,
        &state.catalog,
        &body.name,
        &body.cities,
        &body.classes,
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedId { id })))
}

fn partner_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found("partner"))
}

/// Create a dispatcher or chauffeur account of a partner.
#[utoipa::path(post, path = "/v1/operator/partners/{id}/members", tag = "operators", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = NewMemberRequest,
    responses((status = 201, body = CreatedId), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn operator_add_member(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewMemberRequest>,
) -> Result<(StatusCode, Json<CreatedId>), ApiError> {
    let id = crate::partners::add_member(
        &state.store,
        &state.hashing,
        partner_id(&id)?,
        &body.email,
        &body.password,
        &body.name,
        &body.role,
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedId { id })))
}

/// Register a vehicle of a partner.
#[utoipa::path(post, path = "/v1/operator/partners/{id}/vehicles", tag = "operators", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = NewVehicleRequest,
    responses((status = 201, body = CreatedId), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn operator_add_vehicle(
    State(state): State<AppState>,
    _op: Operator,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewVehicleRequest>,
) -> Result<(StatusCode, Json<CreatedId>), ApiError> {
    let id = crate::partners::add_vehicle(
        &state.store,
        partner_id(&id)?,
        &body.class,
        &body.plate,
        body.seats,
        body.bags,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedId { id })))
}

// ---------------------------------------------------------------------------------------------
// Event streams (server-sent events)

/// Where a reconnecting client left off: the `Last-Event-ID` header.
fn last_event_id(headers: &HeaderMap) -> i64 {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// A stream of the stored events after `last` for a booking or a partner, then live ones as
/// they are committed (on any replica). Positions of the ride's chauffeur come along while the
/// chauffeur is on the way; they are not stored as events and carry no id.
fn event_stream(
    state: AppState,
    booking_id: Option<Uuid>,
    partner_id: Option<Uuid>,
    mut last: i64,
) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, std::convert::Infallible>>(64);
    let mut changes = store::subscribe_changes();
    tokio::spawn(async move {
        let mut last_position: Option<DateTime<Utc>> = None;
        loop {
            match state.store.events_after(booking_id, partner_id, last).await {
                Ok(events) => {
                    for e in events {
                        last = e.id;
                        let event = Event::default()
                            .id(e.id.to_string())
                            .event(e.kind.as_str())
                            .data(e.payload.to_string());
                        if tx.send(Ok(event)).await.is_err() {
                            return;
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "event stream cannot read events"),
            }
            if let Some(booking_id) = booking_id {
                if let Some(position) = crate::live::position_for_rider(&state, booking_id).await {
                    if last_position.is_none_or(|at| position.at > at) {
                        last_position = Some(position.at);
                        let event = Event::default()
                            .event("position")
                            .data(serde_json::to_string(&position).unwrap_or_default());
                        if tx.send(Ok(event)).await.is_err() {
                            return;
                        }
                    }
                }
            }
            tokio::select! {
                changed = changes.recv() => {
                    if let Err(tokio::sync::broadcast::error::RecvError::Closed) = changed {
                        return;
                    }
                }
                // A safety net: a missed notification delays an event by two seconds at most.
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
                () = tx.closed() => return,
            }
        }
    });
    Sse::new(tokio_stream::wrappers::ReceiverStream::new(rx))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The rider's live view of a booking: `status` events (with ids; reconnect with
/// `Last-Event-ID` to get what was missed) and `position` events while the chauffeur is on the way.
#[utoipa::path(get, path = "/v1/bookings/{id}/events", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id")),
    responses((status = 200, description = "text/event-stream: status and position events", content_type = "text/event-stream"),
              (status = 404, body = Problem)))]
pub async fn booking_events(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (booking, _) = own_booking(&state, &auth.user, &id).await?;
    let last = last_event_id(&headers);
    Ok(event_stream(state, Some(booking.id), None, last))
}

/// The partner's live feed: `offer`, `offer_expired`, `offer_withdrawn` and `status` events of
/// its rides (cancellations included), resumable with `Last-Event-ID`.
#[utoipa::path(get, path = "/v1/partner/events", tag = "partners", security(("bearer" = [])),
    params(("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id")),
    responses((status = 200, description = "text/event-stream", content_type = "text/event-stream"),
              (status = 403, body = Problem)))]
pub async fn partner_events(
    State(state): State<AppState>,
    member: PartnerMember,
    headers: HeaderMap,
) -> Response {
    let last = last_event_id(&headers);
    event_stream(state, None, Some(member.partner_id), last)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceClock {
    pub seconds: i64,
}

/// Test-only (served with `--test-clock`): moves the server's clock forward and runs one
/// dispatch round at the new time.
pub async fn advance_test_clock(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AdvanceClock>,
) -> Result<Json<Value>, ApiError> {
    let clock = state
        .test_clock
        .as_ref()
        .ok_or_else(|| ApiError::not_found("route"))?;
    if body.seconds < 0 {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "the clock only moves forward",
        ));
    }
    clock.advance(ChronoDuration::seconds(body.seconds));
    crate::dispatch::dispatch_round(&state, true).await;
    Ok(Json(serde_json::json!({ "now": state.now() })))
}

// ---------------------------------------------------------------------------------------------
// Operations

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Problem)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    match state.store.ping().await {
        Ok(()) => Ok(Json(Health {
            status: "ready".into(),
        })),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "the database is not reachable",
            ))
        }
    }
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3 document", body = Object)))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Chauffeur API", version = "1", description = "Premium chauffeur rides at a fixed price. Errors are RFC 9457 problem+json with a stable `code`."),
    paths(
        list_cities, get_city, create_quotes, sign_up, log_in, log_out, me, export_me, erase_me,
        create_booking, list_bookings, get_booking, booking_history, cancellation_preview,
        cancel_booking, partner_offers, accept_offer, decline_offer, partner_rides, assign_ride,
        give_back_ride, chauffeur_rides, chauffeur_status, booking_events, partner_events,
        chauffeur_location, chauffeur_offers, chauffeur_accept_offer, partner_chauffeurs, partner_vehicles, operator_partners,
        operator_create_partner, operator_add_member, operator_add_vehicle, healthz, readyz,
        metrics, openapi_json
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

// ---------------------------------------------------------------------------------------------
// Router

async fn record_metrics(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    // MatchedPath is a shared string: cloning it does not allocate.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = crate::metrics::method_name(request.method());
    let response = next.run(request).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    metrics.record_request(route, method, response.status().as_u16(), started.elapsed());
    response
}

async fn route_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "route_not_found", "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
    )
}

async fn timed_out(_: tower::BoxError) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "timeout",
        "the request took too long; nothing was acknowledged",
    )
}

pub fn router(state: AppState, limits: &Limits) -> Router {
    let cors = if limits.cors_any {
        CorsLayer::permissive()
    } else {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(limits.cors_origins.clone()))
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::HeaderName::from_static("idempotency-key"),
            ])
    };
    let api = Router::new()
        .route("/v1/cities", get(list_cities))
        .route("/v1/cities/{id}", get(get_city))
        .route("/v1/quotes", post(create_quotes))
        .route("/v1/accounts", post(sign_up))
        .route("/v1/sessions", post(log_in))
        .route("/v1/sessions/current", delete(log_out))
        .route("/v1/me", get(me).delete(erase_me))
        .route("/v1/me/export", get(export_me))
        .route("/v1/bookings", post(create_booking).get(list_bookings))
        .route("/v1/bookings/{id}", get(get_booking))
        .route("/v1/bookings/{id}/history", get(booking_history))
        .route("/v1/bookings/{id}/cancellation", get(cancellation_preview))
        .route("/v1/bookings/{id}/cancel", post(cancel_booking))
        .route("/v1/bookings/{id}/events", get(booking_events))
        .route("/v1/partner/events", get(partner_events))
        .route("/v1/chauffeur/location", post(chauffeur_location))
        .route("/v1/chauffeur/offers", get(chauffeur_offers))
        .route(
            "/v1/chauffeur/offers/{id}/accept",
            post(chauffeur_accept_offer),
        )
        .route("/v1/partner/chauffeurs", get(partner_chauffeurs))
        .route("/v1/partner/vehicles", get(partner_vehicles))
        .route(
            "/v1/operator/partners",
            get(operator_partners).post(operator_create_partner),
        )
        .route(
            "/v1/operator/partners/{id}/members",
            post(operator_add_member),
        )
        .route(
            "/v1/operator/partners/{id}/vehicles",
            post(operator_add_vehicle),
        )
        .route("/v1/partner/offers", get(partner_offers))
        .route("/v1/partner/offers/{id}/accept", post(accept_offer))
        .route("/v1/partner/offers/{id}/decline", post(decline_offer))
        .route("/v1/partner/rides", get(partner_rides))
        .route("/v1/partner/rides/{id}/assign", post(assign_ride))
        .route("/v1/partner/rides/{id}/give-back", post(give_back_ride))
        .route("/v1/chauffeur/rides", get(chauffeur_rides))
        .route("/v1/chauffeur/rides/{id}/status", post(chauffeur_status))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_json))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone());
    // Tests only: exists when the server was started with --test-clock.
    let api = if state.test_clock.is_some() {
        api.merge(
            Router::new()
                .route("/v1/test/clock", post(advance_test_clock))
                .with_state(state.clone()),
        )
    } else {
        api
    };
    api.layer(middleware::from_fn_with_state(state.metrics.clone(), record_metrics))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<Body>| {
                        let id = request
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-");
                        tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path())
                    })
                    .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
                    .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(cors)
                .layer(HandleErrorLayer::new(timed_out))
                .timeout(limits.request_timeout)
                .layer(axum::extract::DefaultBodyLimit::max(limits.max_body_bytes)),
        )
}
