//! Card payment decisions: how much to hold when a booking is made, and what to capture or
//! release when it ends. The provider calls are the server's (`server/src/payments`); what they
//! do is decided here, so the rules live in one place next to the fare and the cancellation
//! policy.
//!
//! The model is the provider's manual-capture intent: at booking the card is authorised for the
//! quoted price plus an allowance for extras (waiting time, tolls); when the booking ends the
//! final fare, the cancellation fee or the no-show charge is captured from that hold and the
//! rest released. What exceeds the hold is charged separately (a second charge the rider sees).
//! With an allowance of 0 the hold is exactly the quoted price.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::booking::BookingState;

/// Where a booking's card payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// The card needs a step in the app (3-D Secure) before it is authorised; the booking waits
    /// in `payment_pending`.
    RequiresAction,
    /// The amount is held on the card, nothing taken yet.
    Authorized,
    /// The amount due was taken; the rest of the hold was released.
    Captured,
    /// Nothing was taken; the hold was released (free cancellation, no partner found).
    Released,
    /// The card step failed or was not completed in time; nothing was taken.
    Failed,
    /// Part of what was taken was given back.
    PartiallyRefunded,
    /// Everything taken was given back.
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            PaymentStatus::RequiresAction => "requires_action",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Captured => "captured",
            PaymentStatus::Released => "released",
            PaymentStatus::Failed => "failed",
            PaymentStatus::PartiallyRefunded => "partially_refunded",
            PaymentStatus::Refunded => "refunded",
        }
    }

    /// Still waiting for the booking to end (or the card step), so something remains to settle.
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            PaymentStatus::RequiresAction | PaymentStatus::Authorized
        )
    }
}

/// A booking's card payment as the server keeps it (inside the booking, so every change is a
/// version in the booking's history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardPayment {
    /// Which provider holds the intent (`stripe`, or `test` for the local test provider).
    pub provider: String,
    /// The payment method id the app's provider SDK produced; never card data.
    pub payment_method: String,
    pub intent_id: String,
    pub status: PaymentStatus,
    /// What is held on the card (the quoted price plus the allowance).
    pub held_minor: i64,
    /// What was taken from the hold.
    #[serde(default)]
    pub captured_minor: i64,
    /// What was charged beyond the hold, as a second charge.
    #[serde(default)]
    pub extra_minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_intent_id: Option<String>,
    #[serde(default)]
    pub refunded_minor: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<RefundRecord>,
    /// Handed to the app to finish the card step; only while it `requires_action`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Why the payment failed, in the rider's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// One refund given by the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRecord {
    /// The provider's refund id.
    pub id: String,
    pub amount_minor: i64,
    pub reason: String,
    pub at: DateTime<Utc>,
    /// The operator request's Idempotency-Key: the same request never refunds twice.
    pub request_key: String,
}

/// Default allowance held for extras over the quoted price: 20 %.
pub const DEFAULT_ALLOWANCE_BP: u32 = 2_000;

/// How long a booking waits in `payment_pending` for the card step before it is cancelled and
/// the authorisation released.
pub const PAYMENT_ACTION_MINUTES: i64 = 15;

/// What is held on the card for a quoted price: the price plus `allowance_bp` (basis points) of
/// it, rounded up to a whole minor unit.
pub fn hold_for(quoted_minor: i64, allowance_bp: u32) -> i64 {
    let allowance = (i128::from(quoted_minor.max(0)) * i128::from(allowance_bp) + 9_999) / 10_000;
    quoted_minor.saturating_add(i64::try_from(allowance).unwrap_or(i64::MAX))
}

/// What to do with a booking's authorisation now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// The booking has not ended: keep the hold.
    Wait,
    /// Take `amount_minor` from the hold (the rest is released); charge `extra_minor` more
    /// separately when the amount due exceeds the hold.
    Capture { amount_minor: i64, extra_minor: i64 },
    /// Take nothing; release the hold.
    Release,
}

/// The facts a settlement is decided from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charges {
    pub state: BookingState,
    /// The price the rider booked.
    pub quoted_minor: i64,
    /// What is held on the card.
    pub held_minor: i64,
    /// The final fare, once the ride is completed.
    pub final_minor: Option<i64>,
    /// The fee the rider confirmed when cancelling.
    pub cancellation_fee_minor: Option<i64>,
}

/// The settlement a booking's state calls for: a completed ride pays its final fare; a no-show
/// pays the quoted price (the chauffeur came and waited); a cancellation pays its confirmed fee
/// and is released when the fee is zero; a ride nobody took is released.
pub fn settlement(charges: &Charges) -> Settlement {
    let due = match charges.state {
        BookingState::Completed => charges.final_minor.unwrap_or(charges.quoted_minor),
        BookingState::NoShow => charges.quoted_minor,
        BookingState::Cancelled => charges.cancellation_fee_minor.unwrap_or(0),
        BookingState::Unfulfilled => 0,
        _ => return Settlement::Wait,
    };
    if due <= 0 {
        return Settlement::Release;
    }
    let amount_minor = due.min(charges.held_minor);
    Settlement::Capture {
        amount_minor,
        extra_minor: due - amount_minor,
    }
}

/// How much of what was taken can still be refunded.
pub fn refundable(captured_minor: i64, extra_minor: i64, refunded_minor: i64) -> i64 {
    (captured_minor + extra_minor - refunded_minor).max(0)
}

/// Whether a booking that has waited for the card step since `created_at` has waited too long.
pub fn card_step_expired(created_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= created_at + Duration::minutes(PAYMENT_ACTION_MINUTES)
}

/// The status after a refund of `amount_minor` given everything taken and refunded so far.
pub fn status_after_refund(
    captured_minor: i64,
    extra_minor: i64,
    refunded_minor_after: i64,
) -> PaymentStatus {
    if refunded_minor_after >= captured_minor + extra_minor {
        PaymentStatus::Refunded
    } else {
        PaymentStatus::PartiallyRefunded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charges(state: BookingState) -> Charges {
        Charges {
            state,
            quoted_minor: 4_500,
            held_minor: hold_for(4_500, DEFAULT_ALLOWANCE_BP),
            final_minor: None,
            cancellation_fee_minor: None,
        }
    }

    #[test]
    fn the_hold_is_the_quote_plus_the_allowance_rounded_up() {
        assert_eq!(hold_for(4_500, 2_000), 5_400);
        assert_eq!(hold_for(4_501, 2_000), 5_402); // 900.2 rounds up to 901
        assert_eq!(hold_for(4_500, 0), 4_500);
    }

    #[test]
    fn a_completed_ride_captures_its_final_fare_from_the_hold() {
        let within = Charges {
            final_minor: Some(5_000),
            ..charges(BookingState::Completed)
        };
        assert_eq!(
            settlement(&within),
            Settlement::Capture {
                amount_minor: 5_000,
                extra_minor: 0
            }
        );
        let cheaper = Charges {
            final_minor: Some(4_500),
            ..charges(BookingState::Completed)
        };
        assert_eq!(
            settlement(&cheaper),
            Settlement::Capture {
                amount_minor: 4_500,
                extra_minor: 0
            }
        );
    }

    #[test]
    fn what_exceeds_the_hold_is_a_second_charge() {
        let beyond = Charges {
            final_minor: Some(6_000),
            ..charges(BookingState::Completed)
        };
        assert_eq!(
            settlement(&beyond),
            Settlement::Capture {
                amount_minor: 5_400,
                extra_minor: 600
            }
        );
    }

    #[test]
    fn cancellations_capture_the_fee_or_release() {
        let charged = Charges {
            cancellation_fee_minor: Some(4_500),
            ..charges(BookingState::Cancelled)
        };
        assert_eq!(
            settlement(&charged),
            Settlement::Capture {
                amount_minor: 4_500,
                extra_minor: 0
            }
        );
        let free = Charges {
            cancellation_fee_minor: Some(0),
            ..charges(BookingState::Cancelled)
        };
        assert_eq!(settlement(&free), Settlement::Release);
        assert_eq!(
            settlement(&charges(BookingState::Unfulfilled)),
            Settlement::Release
        );
        assert_eq!(
            settlement(&charges(BookingState::NoShow)),
            Settlement::Capture {
                amount_minor: 4_500,
                extra_minor: 0
            }
        );
    }

    #[test]
    fn nothing_is_settled_before_the_booking_ends() {
        for state in BookingState::ALL.into_iter().filter(|s| !s.is_terminal()) {
            assert_eq!(settlement(&charges(state)), Settlement::Wait, "{state}");
        }
    }

    #[test]
    fn refunds_never_exceed_what_was_taken() {
        assert_eq!(refundable(5_000, 600, 0), 5_600);
        assert_eq!(refundable(5_000, 0, 5_000), 0);
        assert_eq!(
            status_after_refund(5_000, 0, 1_000),
            PaymentStatus::PartiallyRefunded
        );
        assert_eq!(
            status_after_refund(5_000, 0, 5_000),
            PaymentStatus::Refunded
        );
    }

    #[test]
    fn the_card_step_expires_after_fifteen_minutes() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        assert!(!card_step_expired(at, at + Duration::minutes(14)));
        assert!(card_step_expired(at, at + Duration::minutes(15)));
    }
}
