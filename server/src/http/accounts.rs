//! Accounts and sessions: sign up, log in and out, the signed-in user, export and erasure.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chauffeur_core::booking::Actor;
use chauffeur_core::wire::{BookingToSettle, LogInRequest, SessionView, SignUpRequest, UserView};
use chauffeur_core::{transition, BookingState};
use chrono::Duration as ChronoDuration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth;
use crate::error::{ApiError, Problem};
use crate::http::bookings::current_fee;
use crate::http::extract::{ApiJson, Authenticated, ClientAddress};
use crate::state::{AppState, SESSION_DAYS};
use crate::store::{self, NewUser, Role, User, EXPORT_PAGE};
use crate::throttle::{self, Decision};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_up))
        .routes(routes!(log_in))
        .routes(routes!(log_out))
        .routes(routes!(me, erase_me))
        .routes(routes!(export_me))
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

pub(super) fn optional_text(
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

pub(super) fn check_phone(phone: &str) -> Result<(), ApiError> {
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

/// Sign up as a rider. At most 50 sign-ups per client address in 15 minutes.
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts",
    request_body = SignUpRequest,
    responses(
        (status = 201, body = UserView),
        (status = 400, description = "Malformed JSON body (malformed_body)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "E-mail already registered (email_taken)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large (body_too_large)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not sent as application/json (unsupported_media_type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid e-mail, password, name, phone or body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many sign-ups from this address (too_many_attempts; Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sign_up(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(body): ApiJson<SignUpRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let now = state.now();
    let email = auth::normalise_email(&body.email)?;
    auth::check_new_password(&body.password)?;
    let name = optional_text(body.name, "name", 100)?;
    let phone = optional_text(body.phone, "phone", 32)?;
    if let Some(phone) = &phone {
        check_phone(phone)?;
    }
    // Counted once the request is valid (from here on it costs a hash and may take an
    // e-mail), and before anything else is done, so that a burst cannot pass the budget.
    let scope = throttle::sign_up_scope(address);
    let counted = state
        .store
        .count_attempt(&[&scope], now, now - throttle::WINDOW)
        .await?;
    if let Some(Decision::Refuse { retry_after_secs }) =
        counted.first().map(|c| throttle::decide_sign_up(*c))
    {
        return Err(too_many_attempts(
            retry_after_secs,
            "too many sign-ups from this address; wait a while and try again",
        ));
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
            now,
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

fn too_many_attempts(retry_after_secs: u64, detail: &'static str) -> ApiError {
    ApiError {
        retry_after: Some(retry_after_secs),
        ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", detail)
    }
}

/// Log in: a bearer token for 30 days. Unknown e-mail and wrong password answer the same.
/// Throttled per (account, client address): five attempts, then delays that double from 1 s
/// up to 15 min (429 with Retry-After); at most 50 failures per client address in 15 minutes.
#[utoipa::path(post, path = "/v1/sessions", tag = "accounts",
    request_body = LogInRequest,
    responses(
        (status = 201, body = SessionView),
        (status = 400, description = "Malformed JSON body (malformed_body)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong e-mail or password (invalid_credentials)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large (body_too_large)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not sent as application/json (unsupported_media_type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body (invalid_body)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts (too_many_attempts; Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn log_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(body): ApiJson<LogInRequest>,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    let now = state.now();
    let email = body.email.trim().to_lowercase();
    // The attempt is counted before the password is looked at: concurrent guesses each get
    // their own number from the store, and only the free ones are evaluated.
    let [pair_scope, address_scope] = throttle::log_in_scopes(&email, address);
    let counted = state
        .store
        .count_attempt(&[&pair_scope, &address_scope], now, now - throttle::WINDOW)
        .await?;
    let decision = match counted.as_slice() {
        [pair, address] => throttle::decide_log_in(*pair, *address, now),
        _ => return Err(ApiError::internal()),
    };
    if let Decision::Refuse { retry_after_secs } = decision {
        return Err(too_many_attempts(
            retry_after_secs,
            "too many failed log-ins; wait a moment and try again",
        ));
    }
    let password_ok_len = body.password.len() <= auth::MAX_PASSWORD_BYTES;
    let found = state.store.credentials(&email).await?;
    let verified = password_ok_len
        && state
            .hashing
            .verify(
                &body.password,
                found.as_ref().map(|c| c.password_hash.as_str()),
            )
            .await;
    let user = match (verified, found) {
        (true, Some(credentials)) => credentials.user,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "wrong e-mail or password",
            ))
        }
    };
    // Signed in: this pair starts afresh, and the address's budget gets this attempt back.
    state.store.forget_attempts(&pair_scope).await?;
    state.store.forgive_attempt(&[&address_scope]).await?;
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
#[utoipa::path(delete, path = "/v1/sessions/current", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
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
    responses(
        (status = 200, body = UserView),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn me(auth: Authenticated) -> Json<UserView> {
    Json(UserView::from(&auth.user))
}

/// Everything stored about the signed-in user, as JSON: `{"user": …, "bookings": [{"booking",
/// "personal", "history"}, …]}`. Streamed a page of bookings at a time, so however many there
/// are it starts at once and the server holds only one page; a failure midway cuts the
/// download short (an incomplete JSON document), never a silently partial one.
#[utoipa::path(get, path = "/v1/me/export", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, description = "user, bookings with personal data and history", body = Object),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn export_me(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Response, ApiError> {
    let head = serde_json::to_vec(&auth.user).map_err(|_| ApiError::internal())?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let user_id = auth.user.id;
    tokio::spawn(async move {
        let mut chunk = b"{\"user\":".to_vec();
        chunk.extend_from_slice(&head);
        chunk.extend_from_slice(b",\"bookings\":[");
        let mut after = None;
        let mut first = true;
        loop {
            let page = match state.store.export_page(user_id, after, EXPORT_PAGE).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::error!(error = %e, user = %user_id, "export cut short");
                    let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                    return;
                }
            };
            let Some(last) = page.last() else { break };
            after = Some((last.booking.pickup_at, last.booking.id));
            for exported in &page {
                if !first {
                    chunk.push(b',');
                }
                first = false;
                if serde_json::to_writer(&mut chunk, exported).is_err() {
                    let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                    return;
                }
            }
            if tx.send(Ok(std::mem::take(&mut chunk))).await.is_err() {
                return; // the client went away
            }
        }
        chunk.extend_from_slice(b"]}");
        let _ = tx.send(Ok(chunk)).await;
    });
    let body = axum::body::Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"chauffeur-export.json\""),
    );
    Ok(response)
}

/// Erase the account's personal data and log out everywhere. Bookings stay, anonymised.
/// Upcoming bookings that are free to cancel are cancelled first; if any would cost a fee, or a
/// ride is under way, nothing is done and the answer lists them (`cancel_bookings_first`).
#[utoipa::path(delete, path = "/v1/me", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 204, description = "Erased"),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Upcoming bookings cost a fee to cancel or are under way; `bookings` lists them (cancel_bookings_first), or they changed meanwhile (concurrent_change)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn erase_me(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    let mut free = Vec::new();
    let mut to_settle = Vec::new();
    for (booking, _) in state
        .store
        .all_bookings_with_personal(store::BookingsOf::Rider(auth.user.id))
        .await?
    {
        if booking.state.is_terminal() {
            continue;
        }
        match current_fee(&state, &booking, now) {
            Ok(fee) if fee.fee.amount_minor == 0 => free.push(booking),
            fee => to_settle.push(BookingToSettle {
                id: booking.id,
                state: booking.state,
                pickup_at: booking.pickup_at,
                cancellation_fee: fee.ok().map(|f| f.fee.into()),
            }),
        }
    }
    if !to_settle.is_empty() {
        return Err(ApiError {
            bookings: Some(to_settle),
            ..ApiError::conflict(
                "cancel_bookings_first",
                "some of your bookings cost a fee to cancel now, or are under way: cancel them \
                 (accepting the fee) or let them finish, then erase your account",
            )
        });
    }
    for booking in &free {
        let to = transition(booking.state, BookingState::Cancelled, Actor::Rider)?;
        state
            .store
            .transition(&store::Transition {
                cancellation_fee_minor: Some(0),
                ..store::Transition::new(booking, to, Actor::Rider, Some(auth.user.id), now)
            })
            .await?;
        tracing::info!(booking = %booking.id, "booking cancelled free before erasing its rider");
    }
    state.store.erase_user(auth.user.id, now).await?;
    tracing::info!(user = %auth.user.id, cancelled = free.len(), "account erased");
    Ok(StatusCode::NO_CONTENT)
}
