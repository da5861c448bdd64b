//! Extractors shared by the resources: JSON bodies that answer problem+json, the signed-in
//! user in each role, and ids in the path.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Role, User};

/// A JSON body whose rejections answer as problem+json. Text in it is checked for control
/// characters before it is typed (see [`check_text`]).
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = json_body(req, state).await?;
        Ok(ApiJson(parse_body(&body)?))
    }
}

/// The signed-in user, from `Authorization: Bearer <token>` (the scheme in any case).
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
            .and_then(bearer_token)
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

/// The client's address: the peer's, or — behind a trusted proxy — the one its
/// `X-Forwarded-For` names (see [`crate::throttle::TrustedProxies`]).
pub struct ClientAddress(pub std::net::IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip())
            .ok_or_else(ApiError::internal)?;
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        Ok(ClientAddress(
            state.trusted_proxies.client_address(peer, forwarded),
        ))
    }
}

/// The token of a `Bearer` credential. The scheme is case-insensitive (RFC 9110 §11.1), so
/// `bearer` and `BEARER` are the same scheme.
fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// A JSON body together with a SHA-256 (hex) of what it says, for idempotent creates that must
/// tell a replay from a different request under the same key. The hash is of the parsed body
/// written out canonically (keys sorted, no spaces), so the same request sent with its keys in
/// another order or other whitespace is the same request.
pub struct HashedJson<T> {
    pub value: T,
    pub hash: String,
}

impl<T, S> FromRequest<S> for HashedJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let body = json_body(req, state).await?;
        let parsed = parse_checked_value(&body)?;
        let value = serde_json::from_slice(&body).map_err(invalid_body)?;
        let canonical =
            serde_json::to_vec(&keys_sorted(&parsed)).map_err(|_| ApiError::internal())?;
        Ok(HashedJson {
            value,
            hash: hex::encode(Sha256::digest(&canonical)),
        })
    }
}

/// The same JSON with every object's keys in sorted order. (serde_json's map is sorted already
/// unless its `preserve_order` feature is on; this does not depend on that.)
fn keys_sorted(value: &Value) -> Value {
    match value {
        Value::Object(fields) => {
            let mut fields: Vec<(&String, &Value)> = fields.iter().collect();
            fields.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                fields
                    .into_iter()
                    .map(|(name, item)| (name.clone(), keys_sorted(item)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(keys_sorted).collect()),
        other => other.clone(),
    }
}

/// The body's bytes, once the request says it is JSON and the body fits the size limit.
async fn json_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    if !is_json(req.headers()) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ));
    }
    Bytes::from_request(req, state).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is too large",
        )
    })
}

/// `application/json`, or a `+json` type such as `application/merge-patch+json`.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .and_then(|v| {
            v.strip_prefix("application/")
                .map(|sub| sub == "json" || sub.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// The typed body and the parsed JSON it came from. Text is checked before typing, so that a
/// control character is refused the same way in every field, whatever the field then becomes.
fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if may_hold_control_characters(body) {
        check_text(&serde_json::from_slice(body).map_err(invalid_body)?, "")?;
    }
    // Typed from the bytes (not from a Value), so that duplicate fields are still refused and
    // error messages still give positions.
    serde_json::from_slice(body).map_err(invalid_body)
}

/// The body as a JSON value, its text checked (for the canonical hash of idempotent creates).
fn parse_checked_value(body: &[u8]) -> Result<Value, ApiError> {
    let parsed: Value = serde_json::from_slice(body).map_err(invalid_body)?;
    check_text(&parsed, "")?;
    Ok(parsed)
}

fn invalid_body(e: serde_json::Error) -> ApiError {
    if e.is_syntax() || e.is_eof() {
        ApiError::bad_request("malformed_body", e.to_string())
    } else {
        ApiError::unprocessable("invalid_body", e.to_string())
    }
}

/// Whether a JSON text can hold a control character in a string at all: a raw one (below
/// 0x20) is not valid JSON, so only an escape (`\u0000`, `\n`, …), DEL or a C1 character
/// (UTF-8 `C2 80`–`C2 9F`) can. Most bodies hold none of these and skip the walk, which keeps
/// the quote endpoint's hot path to one parse.
fn may_hold_control_characters(body: &[u8]) -> bool {
    body.iter().any(|&b| b == b'\\' || b == 0x7f)
        || body
            .windows(2)
            .any(|w| w[0] == 0xc2 && (0x80..=0x9f).contains(&w[1]))
}

/// Free-text fields with this name may hold line breaks and tabs (but no other control
/// character, and never NUL).
const MULTILINE_FIELD: &str = "notes";

/// Refuses a control character (`char::is_control`: NUL, escape, line breaks, DEL, C1 …) in
/// any string or field name of a JSON body, with 422 `control_characters` naming the field by
/// its path (`passenger.name`, `stops[0]`). Databases differ on them (PostgreSQL refuses NUL
/// in text), and no name, phone or e-mail address needs one.
pub fn check_text(value: &Value, path: &str) -> Result<(), ApiError> {
    match value {
        Value::String(text) => {
            let multiline = path.rsplit('.').next() == Some(MULTILINE_FIELD);
            let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
            if text.chars().any(|c| c.is_control() && !allowed(c)) {
                return Err(control_characters(path));
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_text(item, &format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().try_for_each(|(name, item)| {
            let field = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            if name.chars().any(char::is_control) {
                return Err(control_characters(&field.escape_debug().to_string()));
            }
            check_text(item, &field)
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

fn control_characters(field: &str) -> ApiError {
    let shown = if field.is_empty() { "the body" } else { field };
    ApiError::unprocessable(
        "control_characters",
        format!("{shown} contains a control character (such as NUL); remove it"),
    )
    .with_field(shown)
}

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

/// A resource id from the path. One that is not a UUID names nothing: 404 problem+json, with
/// the resource named as the path names it (`/v1/bookings/{id}` → "no such booking").
pub struct IdPath(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await?;
        Uuid::parse_str(&raw)
            .map(IdPath)
            .map_err(|_| ApiError::not_found(&resource_named_by(parts)))
    }
}

/// The singular of the path segment before `{id}`: "bookings" → "booking".
fn resource_named_by(parts: &Parts) -> String {
    parts
        .extensions
        .get::<MatchedPath>()
        .and_then(|matched| {
            let segments: Vec<&str> = matched.as_str().split('/').collect();
            let at = segments.iter().position(|s| *s == "{id}")?;
            let plural = segments.get(at.checked_sub(1)?)?;
            Some(plural.strip_suffix('s').unwrap_or(plural).to_owned())
        })
        .unwrap_or_else(|| "resource".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_quick_scan_finds_every_control_character_a_json_string_can_hold() {
        for c in (0u32..=0x10ffff)
            .filter_map(char::from_u32)
            .filter(|c| c.is_control())
        {
            let body = serde_json::to_vec(&json!({ "name": format!("a{c}b") })).unwrap();
            assert!(may_hold_control_characters(&body), "U+{:04X}", c as u32);
        }
        let plain = r#"{"city_id": "berlin", "pickup": {"lat": 52.5}, "name": "Zoë Müller ½"}"#;
        assert!(!may_hold_control_characters(plain.as_bytes()));
    }

    fn refused_field(value: &Value) -> Option<String> {
        check_text(value, "").err().map(|e| {
            assert_eq!(e.code, "control_characters");
            assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
            e.field.unwrap_or_default()
        })
    }

    #[test]
    fn control_characters_are_named_by_their_field_path() {
        assert_eq!(refused_field(&json!({"email": "a@b.de", "n": 1})), None);
        assert_eq!(
            refused_field(&json!({"passenger": {"name": "Bo\u{0}b"}})).as_deref(),
            Some("passenger.name")
        );
        assert_eq!(
            refused_field(&json!({"stops": [{"x": "ok"}, {"x": "\u{7f}"}]})).as_deref(),
            Some("stops[1].x")
        );
        assert_eq!(
            refused_field(&json!({"a\u{1}": 1})).as_deref(),
            Some("a\\u{1}")
        );
        assert_eq!(refused_field(&json!("\u{85}")).as_deref(), Some("the body"));
        // Notes may span lines, but NUL or escape are refused there too.
        assert_eq!(refused_field(&json!({"notes": "a\nb\r\n\tc"})), None);
        assert_eq!(
            refused_field(&json!({"notes": "a\u{0}"})).as_deref(),
            Some("notes")
        );
        assert_eq!(
            refused_field(&json!({"notes": "a\u{1b}[31m"})).as_deref(),
            Some("notes")
        );
        assert_eq!(
            refused_field(&json!({"name": "a\nb"})).as_deref(),
            Some("name")
        );
    }

    #[test]
    fn the_canonical_form_does_not_depend_on_key_order_or_whitespace() {
        let a: Value =
            serde_json::from_str(r#"{"b": {"y": 1, "x": [2, {"q": 1, "p": 0}]}, "a": "z"}"#)
                .unwrap();
        let b: Value =
            serde_json::from_str("{\"a\":\"z\",\n \"b\":{\"x\":[2,{\"p\":0,\"q\":1}],\"y\":1}}")
                .unwrap();
        let canonical = |v: &Value| serde_json::to_string(&keys_sorted(v)).unwrap();
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(
            canonical(&a),
            r#"{"a":"z","b":{"x":[2,{"p":0,"q":1}],"y":1}}"#
        );
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearerabc"), None);
    }
}
