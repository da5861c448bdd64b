//! HTTP API v1. One module per resource, each with its wire types beside its handlers and its
//! own routes; this module only assembles them, with the middleware. Routes and the OpenAPI
//! document come from the same `routes!` lists, so a route cannot exist undocumented.
//! Handlers are thin: parse, call the core for every rule and price, call the store, answer.

pub mod accounts;
pub mod bookings;
pub mod catalog;
pub mod chauffeur;
pub mod extract;
pub mod idempotency;
pub mod invoices;
pub mod operator;
pub mod ops;
pub mod paging;
pub mod partner;
pub mod payments;
pub mod places;
pub mod quotes;
pub mod streams;
pub mod web;

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::error::{ApiError, Problem};
use crate::metrics::Metrics;
use crate::state::{AppState, Limits};

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

/// What the document says beyond its paths: title, version, the problem body, bearer auth.
#[derive(OpenApi)]
#[openapi(
    info(title = "Chauffeur API", version = "1", description = "Premium chauffeur rides at a fixed price. Errors are RFC 9457 problem+json with a stable `code`."),
    components(schemas(Problem)),
    modifiers(&BearerAuth)
)]
struct ApiInfo;

/// Every documented route: the one list both the router and the document are built from.
fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiInfo::openapi())
        .merge(catalog::routes())
        .merge(quotes::routes())
        .merge(places::routes())
        .merge(accounts::routes())
        .merge(bookings::routes())
        .merge(invoices::routes())
        .merge(payments::routes())
        .merge(partner::routes())
        .merge(chauffeur::routes())
        .merge(operator::routes())
        .merge(streams::routes())
        .merge(ops::routes())
}

static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();

/// The OpenAPI document of every route the router serves (built once per process).
pub fn api_doc() -> &'static utoipa::openapi::OpenApi {
    DOCUMENT.get_or_init(|| documented_routes().split_for_parts().1)
}

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

/// Paths whose answers are about an account or a session even before one is signed in.
const ACCOUNT_PATHS: [&str; 3] = ["/v1/accounts", "/v1/sessions", "/v1/me"];

/// `nosniff` on every answer, so a browser takes each for its declared type. Answers to a
/// signed-in request (anything sent with credentials) and about accounts and sessions hold
/// personal data or tokens: `no-store`, so no cache on the way or on the device keeps them.
async fn security_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let personal = request.headers().contains_key(header::AUTHORIZATION)
        || ACCOUNT_PATHS.iter().any(|p| {
            path == *p
                || path
                    .strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with('/'))
        });
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if personal {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A body refused for its size or type was not read to its end, so the connection cannot carry
/// another request: say so, or a client may send its next request on it and lose it when the
/// server closes it.
async fn close_after_unread_body(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if matches!(
        response.status(),
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE
    ) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
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
    let (api, document) = documented_routes().split_for_parts();
    // The same routes give the same document, so whichever was built first is the one served.
    DOCUMENT.get_or_init(|| document);
    // The web pages (`/`, `/console`, `/assets/…`) beside the API, outside its document.
    let api = api
        .merge(web::routes())
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed);
    // Tests only: exists when the server was started with --test-clock; never documented.
    let api = if state.test_clock.is_some() {
        api.route("/v1/test/clock", post(ops::advance_test_clock))
    } else {
        api
    };
    let api: Router = api.with_state(state.clone());
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
        // Outermost, so that every answer has them: refusals, timeouts and CORS ones too.
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(close_after_unread_body))
}
