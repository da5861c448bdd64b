//! Operations: liveness, readiness, metrics, this document, and the test clock.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Duration as ChronoDuration;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::http::extract::ApiJson;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi_json))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: String,
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
    // Time-driven work (card steps expiring) looks again at once.
    crate::store::announce_change();
    Ok(Json(serde_json::json!({ "now": state.now() })))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database takes a durable write now (not merely a read: a full disk or a
/// read-only database file answer SELECTs but take no booking).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health),
              (status = 503, description = "The database cannot take a write now (unreachable, disk full, read-only) (not_ready)", body = Problem, content_type = "application/problem+json")))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    match state.store.check_writable(state.now()).await {
        Ok(()) => Ok(Json(Health {
            status: "ready".into(),
        })),
        Err(e) => {
            tracing::warn!(error = %e, "database cannot take a write");
            Err(ApiError {
                retry_after: Some(1),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not_ready",
                    "the database cannot take a write now",
                )
            })
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
pub async fn openapi_json() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(crate::http::api_doc())
}
