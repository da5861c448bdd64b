//! Payments: the attempts journal and the bookings whose payment is still open. The payment
//! itself is part of the booking (see `Booking::payment`) and changes with `Store::transition`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Store, StoreError};

/// An authorisation asked of the provider before its booking exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentAttempt {
    /// The provider's idempotency key for the authorisation (from the rider and their
    /// request's Idempotency-Key), so asking again answers the same intent.
    pub provider_key: String,
    pub user_id: Uuid,
    pub payment_method: String,
    pub amount_minor: i64,
    pub currency: String,
    /// The id the booking gets: the same for every retry of the request.
    pub booking_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub abandoned_at: Option<DateTime<Utc>>,
}

/// What `begin_payment_attempt` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptStart {
    New,
    /// A retry of an attempt not finished (or abandoned by the reconciliation).
    Existing(PaymentAttempt),
}

impl Store {
    pub async fn begin_payment_attempt(
        &self,
        attempt: &PaymentAttempt,
    ) -> Result<AttemptStart, StoreError> {
        write_turn!(self, payments::begin_attempt(attempt))
    }

    pub async fn drop_payment_attempt(&self, provider_key: &str) -> Result<(), StoreError> {
        write_turn!(self, payments::drop_attempt(provider_key))
    }

    pub async fn stale_payment_attempts(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<PaymentAttempt>, StoreError> {
        read!(self, payments::stale_attempts(before, limit))
    }

    pub async fn abandon_payment_attempt(
        &self,
        provider_key: &str,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        write_turn!(
            self,
            payments::abandon_attempt(provider_key, at, forget_before)
        )
    }

    pub async fn open_payments(&self, limit: i64) -> Result<Vec<Uuid>, StoreError> {
        read!(self, payments::open_payments(limit))
    }

    pub async fn booking_of_intent(&self, intent_id: &str) -> Result<Option<Uuid>, StoreError> {
        read!(self, payments::booking_of_intent(intent_id))
    }
}
