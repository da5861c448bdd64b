//! Binding quotes: one per vehicle class that fits, each with a signed token. No account needed.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chauffeur_core::catalog::{PickupPlace, VehicleClass};
use chauffeur_core::fare::{FareLineKind, QuoteRequest};
use chauffeur_core::{quote_all, EstimatedRouter, Money, Quote};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::http::extract::ApiJson;
use crate::state::AppState;
use crate::tokens::{QuoteClaim, QuoteSigner};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_quotes))
}

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

/// Binding quotes, one per vehicle class that fits, each with a signed token. No account needed.
// TODO(openapi): QuoteRequest schema from core
#[utoipa::path(post, path = "/v1/quotes", tag = "quotes",
    request_body(content = Object, description = "city_id, pickup {lat, lon}, product \
        ({type: transfer, dropoff, stops} or {type: hourly, hours}), pickup_time \
        ({kind: asap} | {kind: local, at, dst?} | {kind: instant, at}), passengers, bags, extras"),
    responses(
        (status = 200, body = QuotesResponse, content_type = "application/json"),
        (status = 400, description = "Malformed JSON body (malformed_body)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large (body_too_large)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not sent as application/json (unsupported_media_type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request: the core's error code, e.g. outside_service_area, too_many_passengers, or invalid_body", body = Problem, content_type = "application/problem+json"),
    )
)]
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
