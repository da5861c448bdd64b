//! Idempotent creates: the `Idempotency-Key` header, the in-process guard against concurrent
//! duplicates, and the replay of a stored first answer.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::InFlightKeys;

const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The `Idempotency-Key` header: required, printable ASCII without control characters, 1 to 255
/// characters once trimmed.
pub struct IdempotencyKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let key = parts
            .headers
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
        // A header value may hold a tab; a key has no use for one.
        if key.chars().any(char::is_control) {
            return Err(ApiError::bad_request(
                "idempotency_key_invalid",
                "the Idempotency-Key cannot contain control characters",
            )
            .with_field("Idempotency-Key"));
        }
        if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY {
            return Err(ApiError::bad_request(
                "idempotency_key_invalid",
                "the Idempotency-Key must be 1 to 255 characters",
            ));
        }
        Ok(IdempotencyKey(key))
    }
}

pub fn key_in_use() -> ApiError {
    ApiError::conflict(
        "idempotency_key_in_use",
        "a request with this Idempotency-Key is still being processed; retry shortly",
    )
}

pub struct InFlight {
    keys: InFlightKeys,
    entry: (Uuid, String),
}

impl InFlight {
    pub fn enter(keys: &InFlightKeys, user: Uuid, key: &str) -> Option<InFlight> {
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

pub fn replay(status: u16, body: String) -> Response {
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
