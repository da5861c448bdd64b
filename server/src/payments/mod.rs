//! The payment provider port: card authorisation, capture, release and refund in the
//! PaymentIntents model (Stripe's). Card data never reaches us — the app's provider SDK turns a
//! card into a payment method id, and only that id is sent here.
//!
//! Every call carries an idempotency key derived from the booking and the step
//! ([`IdempotencyKey::for_step`]), so a retry, or a crash between the provider's answer and our
//! commit, never charges twice: the provider answers the same intent again.
//!
//! `stripe.rs` speaks the provider's HTTP API; `double.rs` is a local provider that speaks the
//! same subset (run as a real process by the tests: `chauffeur-server payments-double`);
//! `flow.rs` uses them in the booking's life (authorise, card step, settle, refund, reconcile).

pub mod double;
pub mod flow;
pub mod stripe;

pub use flow::Payments;

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a payment intent stands, as the provider names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    /// The rider must complete a step in the app (3-D Secure).
    RequiresAction,
    Processing,
    /// Authorised: the amount is held on the card until captured or cancelled.
    RequiresCapture,
    Canceled,
    /// Captured.
    Succeeded,
}

/// A payment intent as the provider answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub status: IntentStatus,
    /// Authorised amount, in minor units.
    pub amount: i64,
    /// Captured amount, in minor units.
    #[serde(default)]
    pub amount_received: i64,
    /// ISO 4217, lower case as the provider writes it.
    pub currency: String,
    /// What the app hands to the provider's SDK to finish a `requires_action` step.
    #[serde(default)]
    pub client_secret: Option<String>,
}

/// A refund as the provider answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    pub status: String,
}

/// Why a provider call did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The card was declined: the provider's code and its message for the rider.
    #[error("card declined ({code}): {message}")]
    Declined { code: String, message: String },
    /// The request was refused as wrong (bad amount, unknown intent, wrong state): a bug or a
    /// changed intent, not something a retry fixes.
    #[error("the payment provider refused the request ({code}): {message}")]
    Refused { code: String, message: String },
    /// Timeout, connection failure or a 5xx: retry later with the same idempotency key.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
}

/// An idempotency key for one step of one booking's payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub String);

impl IdempotencyKey {
    /// `booking-<id>-<step>`: the same step of the same booking is always the same request.
    pub fn for_step(booking_id: Uuid, step: &str) -> IdempotencyKey {
        IdempotencyKey(format!("booking-{booking_id}-{step}"))
    }
}

/// What an authorisation asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization<'a> {
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: &'a str,
    /// The id the app's provider SDK produced (e.g. `pm_…`).
    pub payment_method: &'a str,
    pub booking_id: Uuid,
    pub key: IdempotencyKey,
}

pub type PaymentFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, PaymentError>> + Send + 'a>>;

/// A card payment provider. Boxed futures keep it object-safe (`Arc<dyn PaymentProvider>`).
pub trait PaymentProvider: Send + Sync {
    /// Creates and confirms an intent for the amount with manual capture: on success the amount
    /// is held (`requires_capture`) or a step waits in the app (`requires_action`).
    fn authorize<'a>(&'a self, request: &'a Authorization<'a>) -> PaymentFuture<'a, PaymentIntent>;
    /// Captures `amount_minor` (at most what was authorised) of an authorised intent.
    fn capture<'a>(
        &'a self,
        intent_id: &'a str,
        amount_minor: i64,
        key: &'a IdempotencyKey,
    ) -> PaymentFuture<'a, PaymentIntent>;
    /// Releases an authorisation that will not be captured.
    fn cancel<'a>(
        &'a self,
        intent_id: &'a str,
        key: &'a IdempotencyKey,
    ) -> PaymentFuture<'a, PaymentIntent>;
    /// Refunds part or all of a captured intent.
    fn refund<'a>(
        &'a self,
        intent_id: &'a str,
        amount_minor: i64,
        key: &'a IdempotencyKey,
    ) -> PaymentFuture<'a, Refund>;
    /// The intent as the provider knows it now (for reconciliation).
    fn retrieve<'a>(&'a self, intent_id: &'a str) -> PaymentFuture<'a, PaymentIntent>;
}
