//! Binding quotes: one per vehicle class that fits, each with a signed token. No account needed.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chauffeur_core::fare::QuoteRequest;
use chauffeur_core::wire::{QuoteView, QuotesResponse};
use chauffeur_core::{quote_all, EstimatedRouter};
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

/// Binding quotes, one per vehicle class that fits, each with a signed token. No account needed.
#[utoipa::path(post, path = "/v1/quotes", tag = "quotes",
    request_body = QuoteRequest,
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
            .map(|q| QuoteView::new(q, QuoteSigner::token(&signed, q.class)))
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
