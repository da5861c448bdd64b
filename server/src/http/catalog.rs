//! The catalog: cities with their classes, tariffs, currency, time zone and airports. Served
//! from the JSON rendered at start, with the catalog version as ETag.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use chauffeur_core::catalog::{CatalogOut as CatalogDocument, City};

use crate::error::{ApiError, Problem};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_cities))
        .routes(routes!(get_city))
}

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
    responses(
        (status = 200, description = "The catalog: cities with classes, tariffs, currency, time zone and airports (ETag = catalog version)", body = CatalogDocument),
        (status = 304, description = "Not modified (If-None-Match)"),
    )
)]
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
    responses(
        (status = 200, description = "The city", body = City),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No such city (not_found)", body = Problem, content_type = "application/problem+json"),
    )
)]
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
