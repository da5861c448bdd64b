//! The cancellation policy: the fee by product and time left before pickup. Cancelling is two
//! steps — preview the fee, then confirm the fee you saw; a changed fee refuses the confirmation.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::booking::BookingState;
use crate::catalog::{CancellationPolicy, CancellationTier};
use crate::error::CoreError;
use crate::fare::ProductKind;
use crate::money::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationFee {
    pub fee: Money,
    /// Share of the price, in basis points.
    pub percent_bp: u32,
    /// When the fee next goes up, if it does.
    pub changes_at: Option<DateTime<Utc>>,
}

/// The fee a rider pays for cancelling at `now`. Tiers apply from `before_minutes` before pickup
/// inclusive; after the pickup time the highest tier applies.
pub fn cancellation_fee(
    policy: &CancellationPolicy,
    product: ProductKind,
    state: BookingState,
    price: Money,
    pickup_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<CancellationFee, CoreError> {
    if state.is_terminal() || state == BookingState::OnBoard {
        return Err(CoreError::CancellationNotAllowed { state });
    }
    if state == BookingState::PaymentPending {
        // Nothing was authorised yet, so nothing can be owed.
        return Ok(CancellationFee {
            fee: Money::zero(price.currency),
            percent_bp: 0,
            changes_at: None,
        });
    }
    let tiers: &[CancellationTier] = match product {
        ProductKind::Transfer => &policy.transfer,
        ProductKind::Hourly => &policy.hourly,
    };
    let tier_start =
        |t: &CancellationTier| pickup_at - Duration::minutes(i64::from(t.before_minutes));
    let percent_bp = tiers
        .iter()
        .filter(|t| now >= tier_start(t))
        .map(|t| t.percent_bp)
        .max()
        .unwrap_or(0);
    let changes_at = tiers
        .iter()
        .filter(|t| t.percent_bp > percent_bp)
        .map(tier_start)
        .filter(|start| *start > now)
        .min();
    Ok(CancellationFee {
        fee: price.percent_bp_ceil(percent_bp)?,
        percent_bp,
        changes_at,
    })
}

/// The second step: the rider confirms the fee they were shown. If it changed, refuse.
pub fn confirm_cancellation(
    current: &CancellationFee,
    acknowledged: Money,
) -> Result<Money, CoreError> {
    if current.fee == acknowledged {
        Ok(current.fee)
    } else {
        Err(CoreError::CancellationFeeChanged {
            acknowledged,
            current: current.fee,
        })
    }
}
