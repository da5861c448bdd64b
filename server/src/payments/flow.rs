//! Payments in the booking's life: the authorisation when a booking is made, the card step's
//! outcome, the settlement when the booking ends, operator refunds, and the reconciliation that
//! finishes whatever a crash or a lost answer left in between. What to charge is the core's
//! decision (`chauffeur_core::payment`); this module makes the provider calls and records them.
//!
//! Every provider call carries a key derived from the booking and the step, so doing a step
//! again (a retry, the reconciliation after a crash, two replicas at once) gets the provider's
//! first answer back and never charges twice; the booking's version check then lets exactly one
//! of the racing writers record it.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use chauffeur_core::booking::{Actor, BookingState};
use chauffeur_core::payment::{
    self, card_step_expired, settlement, CardPayment, Charges, PaymentStatus, RefundRecord,
    Settlement,
};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    Authorization, IdempotencyKey, IntentStatus, PaymentError, PaymentIntent, PaymentProvider,
};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AttemptStart, Booking, PaymentAttempt, StoreError, Transition};

/// The server's card payments: the provider and how it is used.
pub struct Payments {
    pub provider: Arc<dyn PaymentProvider>,
    /// `stripe`, or `test` for the local test provider (tells the apps which SDK to load).
    pub name: String,
    pub publishable_key: Option<String>,
    /// Verifies the provider's webhooks; without it webhooks are refused.
    pub webhook_secret: Option<String>,
    /// Held over the quoted price for extras, in basis points.
    pub allowance_bp: u32,
}

/// An attempt older than this whose booking was never written is released.
const STALE_ATTEMPT: chrono::Duration = chrono::Duration::minutes(10);
/// Abandoned attempts are remembered this long (past the provider's 24 h key replay).
const FORGET_ATTEMPTS: chrono::Duration = chrono::Duration::hours(48);
/// How often the reconciliation runs besides after each change.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(30);

/// The rider-facing problem for a provider failure.
pub fn problem_of(e: &PaymentError) -> ApiError {
    match e {
        PaymentError::Declined { code, .. } => {
            let detail = match code.as_str() {
                "insufficient_funds" => {
                    "Your card was declined: not enough funds. Try another card; nothing was booked."
                }
                "expired_card" => "Your card has expired. Try another card; nothing was booked.",
                "incorrect_cvc" => {
                    "Your card's security code was wrong. Try again; nothing was booked."
                }
                _ => "Your card was declined. Try another card or ask your bank; nothing was booked.",
            };
            ApiError::new(StatusCode::PAYMENT_REQUIRED, "card_declined", detail)
                .with_field("payment_method_id")
        }
        PaymentError::Refused { message, .. } => {
            tracing::warn!(%message, "the payment provider refused a request");
            ApiError::unprocessable(
                "payment_method_invalid",
                "this card cannot be used; add it again or choose another",
            )
            .with_field("payment_method_id")
        }
        PaymentError::Unavailable(reason) => {
            tracing::warn!(%reason, "the payment provider is unavailable");
            ApiError {
                retry_after: Some(5),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "payment_unavailable",
                    "card payments are unavailable for a moment; try again (nothing was booked)",
                )
            }
        }
    }
}

/// The provider's key for a booking request's authorisation: from the rider and the request's
/// Idempotency-Key, so a retry of the request asks for the same intent.
pub fn authorization_key(user_id: Uuid, idempotency_key: &str) -> String {
    let digest = Sha256::digest(idempotency_key.as_bytes());
    format!("auth-{user_id}-{}", &hex::encode(digest)[..32])
}

/// What the authorisation at booking gave.
pub struct Authorized {
    /// The booking's id (kept across retries of one request).
    pub booking_id: Uuid,
    pub payment: CardPayment,
    /// The attempt to forget when the booking is written.
    pub attempt_key: String,
}

/// Authorises the hold for a new booking, recording the attempt first so that a crash before
/// the booking is written is found and released by the reconciliation.
pub async fn authorize_booking(
    state: &AppState,
    payments: &Payments,
    user_id: Uuid,
    idempotency_key: &str,
    payment_method: &str,
    quoted_minor: i64,
    currency: &str,
) -> Result<Authorized, ApiError> {
    let held = payment::hold_for(quoted_minor, payments.allowance_bp);
    let provider_key = authorization_key(user_id, idempotency_key);
    let attempt = PaymentAttempt {
        provider_key: provider_key.clone(),
        user_id,
        payment_method: payment_method.to_owned(),
        amount_minor: held,
        currency: currency.to_owned(),
        booking_id: Uuid::now_v7(),
        created_at: state.now(),
        abandoned_at: None,
    };
    let booking_id = match state.store.begin_payment_attempt(&attempt).await? {
        AttemptStart::New => attempt.booking_id,
        AttemptStart::Existing(earlier) if earlier.abandoned_at.is_some() => {
            return Err(ApiError::conflict(
                "payment_attempt_expired",
                "this booking request was left unfinished and its card hold released; book again",
            ))
        }
        AttemptStart::Existing(earlier) => {
            if earlier.payment_method != payment_method || earlier.amount_minor != held {
                return Err(ApiError::unprocessable(
                    "idempotency_key_reused",
                    "this Idempotency-Key was used with a different request body",
                ));
            }
            earlier.booking_id
        }
    };
    let request = Authorization {
        amount_minor: held,
        currency,
        payment_method,
        booking_id,
        key: IdempotencyKey(provider_key.clone()),
    };
    let intent = match payments.provider.authorize(&request).await {
        Ok(intent) => intent,
        Err(e) => {
            if !matches!(e, PaymentError::Unavailable(_)) {
                // Declined or refused: nothing is held, nothing to reconcile.
                state.store.drop_payment_attempt(&provider_key).await?;
            }
            return Err(problem_of(&e));
        }
    };
    let status = match intent.status {
        IntentStatus::RequiresCapture => PaymentStatus::Authorized,
        IntentStatus::RequiresAction => PaymentStatus::RequiresAction,
        other => {
            tracing::warn!(intent = %intent.id, status = ?other, "unexpected intent at booking");
            state.store.drop_payment_attempt(&provider_key).await?;
            return Err(ApiError::conflict(
                "payment_attempt_expired",
                "this card authorisation can no longer be used; book again",
            ));
        }
    };
    Ok(Authorized {
        booking_id,
        payment: CardPayment {
            provider: payments.name.clone(),
            payment_method: payment_method.to_owned(),
            intent_id: intent.id,
            status,
            held_minor: held,
            captured_minor: 0,
            extra_minor: 0,
            extra_intent_id: None,
            refunded_minor: 0,
            refunds: Vec::new(),
            client_secret: intent
                .client_secret
                .filter(|_| status == PaymentStatus::RequiresAction),
            failure: None,
        },
        attempt_key: provider_key,
    })
}

/// Why a payment step could not be finished now (it is tried again by the reconciliation).
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error(transparent)]
    Provider(#[from] PaymentError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn key(booking_id: Uuid, step: &str) -> IdempotencyKey {
    IdempotencyKey::for_step(booking_id, step)
}

/// Records `payment` on the booking (a version in its history), moving it to `to`.
async fn record(
    state: &AppState,
    booking: &Booking,
    to: BookingState,
    payment: CardPayment,
    actor: Actor,
    actor_id: Option<Uuid>,
) -> Result<Booking, StoreError> {
    let mut change = Transition::new(booking, to, actor, actor_id, state.now());
    change.payment = Some(payment);
    state.store.transition(&change).await
}

/// Follows the card step of a booking waiting in `payment_pending`: authorised → the booking is
/// offered to partners; failed or not done in time → cancelled and the hold released.
pub async fn follow_card_step(
    state: &AppState,
    payments: &Payments,
    booking: &Booking,
    intent: Option<PaymentIntent>,
) -> Result<Booking, SettleError> {
    let Some(current) = booking
        .payment
        .clone()
        .filter(|p| p.status == PaymentStatus::RequiresAction)
    else {
        return Ok(booking.clone());
    };
    if booking.state != BookingState::PaymentPending {
        return Ok(booking.clone());
    }
    let intent = match intent {
        Some(intent) => intent,
        None => payments.provider.retrieve(&current.intent_id).await?,
    };
    let now = state.now();
    let (to, payment) = match intent.status {
        IntentStatus::RequiresCapture => (
            BookingState::Pending,
            CardPayment {
                status: PaymentStatus::Authorized,
                client_secret: None,
                ..current
            },
        ),
        IntentStatus::RequiresAction if !card_step_expired(booking.created_at, now) => {
            return Ok(booking.clone())
        }
        status => {
            let failure = if status == IntentStatus::RequiresAction {
                "The card check was not completed in time; nothing was charged."
            } else {
                "The card check failed; nothing was charged."
            };
            if !matches!(status, IntentStatus::Canceled) {
                payments
                    .provider
                    .cancel(&current.intent_id, &key(booking.id, "release"))
                    .await?;
            }
            (
                BookingState::Cancelled,
                CardPayment {
                    status: PaymentStatus::Failed,
                    client_secret: None,
                    failure: Some(failure.into()),
                    ..current
                },
            )
        }
    };
    let updated = record(state, booking, to, payment, Actor::System, None).await?;
    if to == BookingState::Pending {
        tracing::info!(booking = %booking.id, "card step done: booking offered");
        if let Err(e) = crate::dispatch::dispatch_booking(state, booking.id).await {
            tracing::warn!(booking = %booking.id, error = %e, "first dispatch step failed");
        }
    } else {
        tracing::info!(booking = %booking.id, "card step failed or expired: booking cancelled");
    }
    Ok(updated)
}

/// Settles a booking that has ended: captures what the core says is due (a second charge for
/// what exceeds the hold) or releases the hold. Safe to repeat: each step has its own key.
pub async fn settle(
    state: &AppState,
    payments: &Payments,
    booking: &Booking,
) -> Result<Booking, SettleError> {
    let Some(current) = booking.payment.clone().filter(|p| p.status.is_open()) else {
        return Ok(booking.clone());
    };
    if !booking.state.is_terminal() {
        return Ok(booking.clone());
    }
    let decision = if current.status == PaymentStatus::RequiresAction {
        // Ended before the card step was done: nothing was authorised to take.
        Settlement::Release
    } else {
        settlement(&Charges {
            state: booking.state,
            quoted_minor: booking.price_minor,
            held_minor: current.held_minor,
            final_minor: booking.final_price_minor,
            cancellation_fee_minor: booking.cancellation_fee_minor,
        })
    };
    let payment = match decision {
        Settlement::Wait => return Ok(booking.clone()),
        Settlement::Release => {
            release(payments, booking.id, &current.intent_id).await?;
            CardPayment {
                status: PaymentStatus::Released,
                client_secret: None,
                ..current
            }
        }
        Settlement::Capture {
            amount_minor,
            extra_minor,
        } => {
            let captured = payments
                .provider
                .capture(
                    &current.intent_id,
                    amount_minor,
                    &key(booking.id, "capture"),
                )
                .await;
            let captured = match captured {
                Ok(intent) => intent,
                // Taken already (by a replica or before a crash whose key the provider no
                // longer replays) or released meanwhile: what the provider knows is the truth.
                Err(PaymentError::Refused { .. }) => {
                    payments.provider.retrieve(&current.intent_id).await?
                }
                Err(e) => return Err(e.into()),
            };
            let mut payment = CardPayment {
                status: PaymentStatus::Captured,
                captured_minor: captured.amount_received,
                client_secret: None,
                ..current
            };
            if captured.status != IntentStatus::Succeeded {
                payment.status = PaymentStatus::Failed;
                payment.failure = Some("The card hold ended before the ride was charged.".into());
            } else if extra_minor > 0 {
                charge_extra(payments, booking, &mut payment, extra_minor).await?;
            }
            payment
        }
    };
    let to = booking.state;
    let updated = record(state, booking, to, payment, Actor::System, None).await?;
    tracing::info!(booking = %booking.id, "payment settled");
    Ok(updated)
}

async fn release(
    payments: &Payments,
    booking_id: Uuid,
    intent_id: &str,
) -> Result<(), SettleError> {
    match payments
        .provider
        .cancel(intent_id, &key(booking_id, "release"))
        .await
    {
        Ok(_) => Ok(()),
        // Already released (or never authorised): nothing is held either way.
        Err(PaymentError::Refused { .. }) => {
            let intent = payments.provider.retrieve(intent_id).await?;
            match intent.status {
                IntentStatus::Canceled
                | IntentStatus::RequiresPaymentMethod
                | IntentStatus::RequiresAction => Ok(()),
                _ => Err(PaymentError::Refused {
                    code: "unexpected_state".into(),
                    message: format!("intent {intent_id} is {:?}", intent.status),
                }
                .into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Charges what exceeds the hold as a second charge with the same card.
async fn charge_extra(
    payments: &Payments,
    booking: &Booking,
    payment: &mut CardPayment,
    extra_minor: i64,
) -> Result<(), SettleError> {
    let request = Authorization {
        amount_minor: extra_minor,
        currency: &booking.currency,
        payment_method: &payment.payment_method,
        booking_id: booking.id,
        key: key(booking.id, "extra"),
    };
    match payments.provider.authorize(&request).await {
        Ok(intent) if intent.status == IntentStatus::RequiresCapture => {
            let captured = payments
                .provider
                .capture(&intent.id, extra_minor, &key(booking.id, "extra-capture"))
                .await?;
            payment.extra_minor = captured.amount_received;
            payment.extra_intent_id = Some(intent.id);
        }
        outcome @ (Ok(_) | Err(PaymentError::Declined { .. })) => {
            if let Ok(intent) = outcome {
                // It asks for a step the rider is not there to do (off-session): drop it.
                payments
                    .provider
                    .cancel(&intent.id, &key(booking.id, "extra-release"))
                    .await?;
            }
            let amount = chauffeur_core::money::Currency::from_code(&booking.currency)
                .map(|c| chauffeur_core::money::Money::new(extra_minor, c).to_string())
                .unwrap_or_else(|_| format!("{extra_minor} ({})", booking.currency));
            payment.failure = Some(format!(
                "The extra charge of {amount} could not be taken from your card; we will contact you."
            ));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// An operator's refund of part or all of what was taken, recorded in the booking's history.
pub async fn refund(
    state: &AppState,
    payments: &Payments,
    booking: &Booking,
    operator_id: Uuid,
    request_key: &str,
    amount_minor: i64,
    reason: &str,
) -> Result<Booking, ApiError> {
    let Some(current) = booking.payment.clone() else {
        return Err(ApiError::conflict(
            "nothing_to_refund",
            "this booking was not paid by card",
        ));
    };
    if current.refunds.iter().any(|r| r.request_key == request_key) {
        return Ok(booking.clone()); // this request was done already
    }
    if !matches!(
        current.status,
        PaymentStatus::Captured | PaymentStatus::PartiallyRefunded
    ) {
        return Err(ApiError::conflict(
            "nothing_to_refund",
            format!(
                "nothing was taken from the card yet (payment {})",
                current.status.as_str()
            ),
        ));
    }
    let refundable = payment::refundable(
        current.captured_minor,
        current.extra_minor,
        current.refunded_minor,
    );
    if amount_minor <= 0 || amount_minor > refundable {
        return Err(ApiError::unprocessable(
            "refund_amount_invalid",
            format!("refund between 1 and {refundable} (minor units)"),
        )
        .with_field("amount_minor"));
    }
    // From the fare's charge first, then from the extra charge.
    let refunded_from_main: i64 = current
        .refunds
        .iter()
        .filter(|r| !r.id.starts_with("extra:"))
        .map(|r| r.amount_minor)
        .sum();
    let from_main = amount_minor.min((current.captured_minor - refunded_from_main).max(0));
    let from_extra = amount_minor - from_main;
    let mut payment = current.clone();
    let at = state.now();
    let step = |part: &str| {
        let digest = Sha256::digest(request_key.as_bytes());
        key(
            booking.id,
            &format!("refund-{part}-{}", &hex::encode(digest)[..24]),
        )
    };
    let mut parts = Vec::new();
    if from_main > 0 {
        parts.push((current.intent_id.clone(), from_main, "main", ""));
    }
    if from_extra > 0 {
        let Some(extra) = current.extra_intent_id.clone() else {
            return Err(ApiError::internal());
        };
        parts.push((extra, from_extra, "extra", "extra:"));
    }
    for (intent, amount, part, prefix) in parts {
        let refund = payments
            .provider
            .refund(&intent, amount, &step(part))
            .await
            .map_err(|e| problem_of(&e))?;
        payment.refunds.push(RefundRecord {
            id: format!("{prefix}{}", refund.id),
            amount_minor: refund.amount,
            reason: reason.to_owned(),
            at,
            request_key: request_key.to_owned(),
        });
        payment.refunded_minor += refund.amount;
    }
    payment.status = payment::status_after_refund(
        payment.captured_minor,
        payment.extra_minor,
        payment.refunded_minor,
    );
    let updated = record(
        state,
        booking,
        booking.state,
        payment,
        Actor::Operator,
        Some(operator_id),
    )
    .await?;
    tracing::info!(booking = %booking.id, amount_minor, "refund recorded");
    Ok(updated)
}

/// Settles what a crash, a lost answer or a missed webhook left open: bookings that ended with
/// their hold still open, card steps done or expired, and authorisations whose booking was never
/// written. Runs at start-up, after changes and on a timer.
pub async fn reconcile(state: &AppState, payments: &Payments) -> Result<usize, StoreError> {
    let mut settled = 0;
    for id in state.store.open_payments(200).await? {
        let Some((booking, _)) = state.store.booking(id).await? else {
            continue;
        };
        let outcome = if booking.state == BookingState::PaymentPending {
            follow_card_step(state, payments, &booking, None).await
        } else {
            settle(state, payments, &booking).await
        };
        match outcome {
            Ok(after) if after.version != booking.version => settled += 1,
            Ok(_) => {}
            // Another replica recorded it first.
            Err(SettleError::Store(StoreError::Stale)) => {}
            Err(e) => tracing::warn!(booking = %id, error = %e, "payment not settled yet"),
        }
    }
    let now = state.now();
    for attempt in state
        .store
        .stale_payment_attempts(now - STALE_ATTEMPT, 50)
        .await?
    {
        match release_attempt(state, payments, &attempt).await {
            Ok(()) => settled += 1,
            Err(e) => {
                tracing::warn!(key = %attempt.provider_key, error = %e, "attempt not released yet")
            }
        }
    }
    Ok(settled)
}

/// An authorisation whose booking was never written: asked again with its key (the provider
/// answers the same intent, or makes one if the first never arrived) and released.
async fn release_attempt(
    state: &AppState,
    payments: &Payments,
    attempt: &PaymentAttempt,
) -> Result<(), SettleError> {
    let request = Authorization {
        amount_minor: attempt.amount_minor,
        currency: &attempt.currency,
        payment_method: &attempt.payment_method,
        booking_id: attempt.booking_id,
        key: IdempotencyKey(attempt.provider_key.clone()),
    };
    match payments.provider.authorize(&request).await {
        Ok(intent) => {
            if state.store.booking_of_intent(&intent.id).await?.is_some() {
                // A retry of the request booked with it after all.
                state
                    .store
                    .drop_payment_attempt(&attempt.provider_key)
                    .await?;
                return Ok(());
            }
            release(payments, attempt.booking_id, &intent.id).await?;
        }
        Err(PaymentError::Declined { .. } | PaymentError::Refused { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let now = state.now();
    state
        .store
        .abandon_payment_attempt(&attempt.provider_key, now, now - FORGET_ATTEMPTS)
        .await?;
    tracing::info!(key = %attempt.provider_key, "unfinished booking attempt: card hold released");
    Ok(())
}

/// The reconciliation loop: at start, after each change to the store (debounced), and every
/// [`RECONCILE_EVERY`].
pub async fn run_reconciliation(state: AppState) {
    let Some(payments) = state.payments.clone() else {
        return;
    };
    let mut changes = crate::store::subscribe_changes();
    loop {
        match reconcile(&state, &payments).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(settled = n, "payments reconciled"),
            Err(e) => tracing::warn!(error = %e, "payment reconciliation failed"),
        }
        let _ = tokio::time::timeout(RECONCILE_EVERY, changes.recv()).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        // Changes announced while we worked are covered by the next round.
        while changes.try_recv().is_ok() {}
    }
}

/// When a webhook's timestamp is too old or too far ahead to be believed.
pub const WEBHOOK_TOLERANCE_S: i64 = 300;

/// Checks a `Stripe-Signature` header (`t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`).
pub fn verify_webhook(
    secret: &str,
    header: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), &'static str> {
    use hmac::{Hmac, Mac};
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", sig)) => signatures.push(sig),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or("no timestamp in the signature header")?;
    if (now.timestamp() - timestamp).abs() > WEBHOOK_TOLERANCE_S {
        return Err("the signature's timestamp is outside the tolerance");
    }
    for signature in signatures {
        let Ok(expected) = hex::decode(signature) else {
            continue;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            return Err("unusable webhook secret");
        };
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        if mac.verify_slice(&expected).is_ok() {
            return Ok(());
        }
    }
    Err("no valid signature")
}

/// Signs a webhook body as the provider does (used by the test provider).
pub fn sign_webhook(secret: &str, timestamp: i64, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let signature = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    format!("t={timestamp},v1={signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_webhook_verifies_and_a_tampered_one_does_not() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let body = br#"{"type":"payment_intent.amount_capturable_updated"}"#;
        let header = sign_webhook("whsec_test", now.timestamp(), body);
        assert_eq!(verify_webhook("whsec_test", &header, body, now), Ok(()));
        assert!(verify_webhook("whsec_other", &header, body, now).is_err());
        assert!(verify_webhook("whsec_test", &header, b"{}", now).is_err());
        let late = now + chrono::Duration::seconds(WEBHOOK_TOLERANCE_S + 1);
        assert!(verify_webhook("whsec_test", &header, body, late).is_err());
        assert!(verify_webhook("whsec_test", "v1=00", body, now).is_err());
    }

    #[test]
    fn the_authorisation_key_is_the_same_for_a_retry_of_one_request() {
        let user = Uuid::nil();
        assert_eq!(authorization_key(user, "k1"), authorization_key(user, "k1"));
        assert_ne!(authorization_key(user, "k1"), authorization_key(user, "k2"));
    }
}
