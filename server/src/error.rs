//! The HTTP layer's one error type. Every error leaves as RFC 9457 problem+json with a stable
//! `code`; domain errors keep the core's code. Internal details are logged, never sent.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chauffeur_core::wire::ErrorCode;
use chauffeur_core::CoreError;

use crate::store::StoreError;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {detail}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    /// Seconds, for 429 and 503 answers.
    pub retry_after: Option<u64>,
    /// The request field the problem is about (e.g. `passenger.name`), when there is one.
    pub field: Option<String>,
    /// The bookings to settle first (`cancel_bookings_first`).
    pub bookings: Option<Vec<chauffeur_core::wire::BookingToSettle>>,
}

/// The problem+json body: the wire contract's, so the apps read exactly what is sent.
pub use chauffeur_core::wire::Problem;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
            field: None,
            bookings: None,
        }
    }

    /// The same problem, about this request field.
    pub fn with_field(self, field: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.into()),
            ..self
        }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, detail)
    }

    /// The same answer for "does not exist" and "is not yours".
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "a valid bearer token is required",
        )
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "something went wrong on our side; nothing was changed",
        )
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("/problems/{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: ErrorCode::from(self.code),
            field: self.field.clone(),
            bookings: self.bookings.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> ApiError {
        let status = match &e {
            CoreError::IllegalTransition { .. }
            | CoreError::NoShowTooEarly { .. }
            | CoreError::StatusTooEarly { .. }
            | CoreError::CancellationNotAllowed { .. }
            | CoreError::CancellationFeeChanged { .. }
            | CoreError::GiveBackTooLate { .. } => StatusCode::CONFLICT,
            CoreError::InvalidCatalog { .. } | CoreError::CurrencyMismatch { .. } => {
                tracing::error!(error = %e, "domain invariant broken");
                return ApiError::internal();
            }
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Conflict(what) => {
                ApiError::conflict("already_exists", format!("{what} already exists"))
            }
            StoreError::Stale => ApiError::conflict(
                "concurrent_change",
                "the record changed meanwhile; read it again and retry",
            ),
            StoreError::Db(sqlx::Error::PoolTimedOut) => {
                tracing::warn!("database pool exhausted");
                ApiError {
                    retry_after: Some(1),
                    ..ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "busy",
                        "the service is busy; retry shortly",
                    )
                }
            }
            StoreError::Unavailable(reason) => {
                tracing::error!(%reason, "storage unavailable");
                ApiError {
                    retry_after: Some(1),
                    ..ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "storage_unavailable",
                        "we could not store that just now; nothing was saved, retry shortly",
                    )
                }
            }
            StoreError::Db(e) if is_transient(&e) => {
                tracing::warn!(error = %e, "transient storage failure");
                ApiError {
                    retry_after: Some(1),
                    ..ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "storage_unavailable",
                        "we could not reach the database just now; nothing was saved, retry shortly",
                    )
                }
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::internal()
            }
        }
    }
}

/// A failure that says nothing about the request and may well pass: the connection to the
/// database broke or is being restarted, the database is busy, full or read-only for now.
/// PostgreSQL: SQLSTATE class 08 (connection exception), 53 (insufficient resources), 57P01–03
/// (shutdown, cannot connect now), 40001/40P01 (serialization failure, deadlock). SQLite: busy,
/// locked, I/O error, full, read-only, cannot open.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            let sqlite_primary = code.parse::<i32>().ok().map(|c| c & 0xff);
            code.starts_with("08")
                || code.starts_with("53")
                || matches!(&*code, "57P01" | "57P02" | "57P03" | "40001" | "40P01")
                // SQLITE_BUSY 5, LOCKED 6, READONLY 8, IOERR 10, FULL 13, CANTOPEN 14
                || matches!(sqlite_primary, Some(5 | 6 | 8 | 10 | 13 | 14))
        }
        _ => false,
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        let detail = rejection.body_text();
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ),
            JsonRejection::JsonSyntaxError(_) => ApiError::bad_request("malformed_body", detail),
            JsonRejection::JsonDataError(_) => ApiError::unprocessable("invalid_body", detail),
            JsonRejection::BytesRejection(_) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the request body is too large",
            ),
            _ => ApiError::bad_request("malformed_body", detail),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> ApiError {
        ApiError::not_found("resource")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_database_connection_is_a_retryable_503_not_a_500() {
        for kind in [
            std::io::ErrorKind::ConnectionReset,
            std::io::ErrorKind::BrokenPipe,
            std::io::ErrorKind::UnexpectedEof,
        ] {
            let e = ApiError::from(StoreError::Db(sqlx::Error::Io(kind.into())));
            assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE, "{kind:?}");
            assert_eq!(e.code, "storage_unavailable");
            assert_eq!(e.retry_after, Some(1));
        }
        let e = ApiError::from(StoreError::Db(sqlx::Error::PoolClosed));
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        let e = ApiError::from(StoreError::Db(sqlx::Error::RowNotFound));
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
