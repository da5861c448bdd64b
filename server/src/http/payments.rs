//! Card payments over HTTP: which provider the apps load, the card step's completion, the
//! provider's signed webhooks, and the operator's refunds. The flow itself is
//! `crate::payments::flow`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chauffeur_core::payment::DEFAULT_ALLOWANCE_BP;
use chauffeur_core::wire::{BookingView, PaymentsConfigView, RefundRequest};
use chauffeur_core::BookingState;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::http::bookings::{booking_view, own_booking};
use crate::http::extract::{ApiJson, Authenticated, IdPath, Operator};
use crate::http::idempotency::IdempotencyKey;
use crate::payments::flow::{self, SettleError};
use crate::payments::{IntentStatus, PaymentIntent, Payments};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(payments_config))
        .routes(routes!(confirm_payment))
        .routes(routes!(webhook))
        .routes(routes!(refund))
}

fn payments_of(state: &AppState) -> Result<Arc<Payments>, ApiError> {
    state.payments.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "payments_off",
            "this server takes no card payments",
        )
    })
}

fn settle_problem(e: SettleError) -> ApiError {
    match e {
        SettleError::Provider(e) => flow::problem_of(&e),
        SettleError::Store(e) => e.into(),
    }
}

/// Which card payment provider the apps load, with its publishable key (`none`: bookings carry
/// no payment and need no card).
#[utoipa::path(get, path = "/v1/payments/config", tag = "payments",
    responses((status = 200, body = PaymentsConfigView)))]
pub async fn payments_config(State(state): State<AppState>) -> Json<PaymentsConfigView> {
    Json(match &state.payments {
        Some(p) => PaymentsConfigView {
            provider: p.name.clone(),
            publishable_key: p.publishable_key.clone(),
            allowance_bp: p.allowance_bp,
        },
        None => PaymentsConfigView {
            provider: "none".into(),
            publishable_key: None,
            allowance_bp: DEFAULT_ALLOWANCE_BP,
        },
    })
}

/// After the card step (3-D Secure) in the app: asks the provider how it ended. Authorised →
/// the booking is offered to partners (`pending`); failed → cancelled, nothing charged; still
/// waiting → unchanged.
#[utoipa::path(post, path = "/v1/bookings/{id}/payment/confirm", tag = "payments", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id")),
    responses(
        (status = 200, body = BookingView, description = "The booking after the card step"),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking, or not yours (not_found); or no card payments (payments_off)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The payment provider or storage is unavailable; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn confirm_payment(
    State(state): State<AppState>,
    auth: Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<BookingView>, ApiError> {
    let payments = payments_of(&state)?;
    let (booking, personal) = own_booking(&state, &auth.user, id).await?;
    let after = if booking.state == BookingState::PaymentPending {
        flow::follow_card_step(&state, &payments, &booking, None)
            .await
            .map_err(settle_problem)?
    } else {
        booking
    };
    Ok(Json(booking_view(&after, &personal)?))
}

#[derive(Deserialize)]
struct WebhookEvent {
    #[serde(rename = "type")]
    kind: String,
    data: WebhookData,
}

#[derive(Deserialize)]
struct WebhookData {
    object: PaymentIntent,
}

/// The provider's webhook: verified against its signature (`Stripe-Signature`), then the
/// intent's booking is brought up to date (card step done or failed, hold released). Unsigned,
/// wrongly signed or stale events are refused with 400 and change nothing.
#[utoipa::path(post, path = "/v1/payments/webhook", tag = "payments",
    request_body(content = Object, description = "The provider's event (payment_intent.*)"),
    responses(
        (status = 204, description = "Received"),
        (status = 400, description = "Missing or invalid signature (webhook_signature_invalid), or not an event (malformed_body)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No card payments, or no webhook secret configured (payments_off)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The payment provider or storage is unavailable; the provider retries", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let payments = payments_of(&state)?;
    let Some(secret) = payments.webhook_secret.as_deref() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "payments_off",
            "no webhook secret is configured",
        ));
    };
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // The real clock, not a test clock: the signature's age is about the network.
    if let Err(why) = flow::verify_webhook(secret, signature, &body, chrono::Utc::now()) {
        tracing::warn!(reason = why, "webhook refused");
        state.metrics.webhook_refused();
        return Err(ApiError::bad_request("webhook_signature_invalid", why));
    }
    let event: WebhookEvent = serde_json::from_slice(&body)
        .map_err(|_| ApiError::bad_request("malformed_body", "not a payment intent event"))?;
    let intent = event.data.object;
    let Some(id) = state.store.booking_of_intent(&intent.id).await? else {
        // Not ours (another booking system on the same account) or its booking not written yet
        // (the reconciliation covers that).
        return Ok(StatusCode::NO_CONTENT);
    };
    let Some((booking, _)) = state.store.booking(id).await? else {
        return Ok(StatusCode::NO_CONTENT);
    };
    tracing::info!(booking = %id, event = %event.kind, status = ?intent.status, "webhook");
    let outcome = if booking.state == BookingState::PaymentPending {
        // The event's intent is believed (it is signed), so no second call to the provider.
        let known = matches!(
            intent.status,
            IntentStatus::RequiresCapture
                | IntentStatus::RequiresPaymentMethod
                | IntentStatus::Canceled
        );
        flow::follow_card_step(&state, &payments, &booking, known.then_some(intent)).await
    } else {
        flow::settle(&state, &payments, &booking).await
    };
    match outcome {
        Ok(_) | Err(SettleError::Store(crate::store::StoreError::Stale)) => {
            Ok(StatusCode::NO_CONTENT)
        }
        Err(e) => Err(settle_problem(e)),
    }
}

/// An operator's refund of part or all of what the rider's card was charged, recorded in the
/// booking's history. Idempotent: the same Idempotency-Key never refunds twice.
#[utoipa::path(post, path = "/v1/operator/bookings/{id}/refunds", tag = "operators", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id"),
           ("Idempotency-Key" = String, Header, description = "Unique per refund; a retry with it refunds nothing more")),
    request_body = RefundRequest,
    responses(
        (status = 200, body = BookingView, description = "The booking with the refund in its payment"),
        (status = 400, description = "Malformed JSON body or missing Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator account (not_an_operator)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking (not_found), or no card payments (payments_off)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing taken from the card yet (nothing_to_refund); or changed meanwhile (stale)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large (body_too_large)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not sent as application/json (unsupported_media_type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Amount outside 1 … what is left to refund (refund_amount_invalid), empty reason", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The payment provider or storage is unavailable; retry with the same key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn refund(
    State(state): State<AppState>,
    Operator(operator): Operator,
    IdPath(id): IdPath,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(request): ApiJson<RefundRequest>,
) -> Result<Json<BookingView>, ApiError> {
    let payments = payments_of(&state)?;
    let reason = crate::http::accounts::optional_text(Some(request.reason), "reason", 300)?
        .ok_or_else(|| {
            ApiError::unprocessable("invalid_body", "give the reason the rider will read")
        })?;
    let Some((booking, personal)) = state.store.booking(id).await? else {
        return Err(ApiError::not_found("booking"));
    };
    let after = flow::refund(
        &state,
        &payments,
        &booking,
        operator.id,
        &key,
        request.amount_minor,
        &reason,
    )
    .await?;
    Ok(Json(booking_view(&after, &personal)?))
}
