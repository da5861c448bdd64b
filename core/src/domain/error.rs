//! The domain's one error type. Every variant has a stable machine code (`code()`), which the
//! server puts in problem+json and the apps map to messages; the `Display` text is for humans
//! and logs and may change.

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::booking::{Actor, BookingState};
use crate::money::Money;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoreError {
    #[error("catalog is invalid: city {city:?}, field `{field}`: {reason}")]
    InvalidCatalog {
        /// The city's id, or "" for a problem outside any city.
        city: String,
        field: String,
        reason: String,
    },
    #[error("unknown currency code {0:?}")]
    UnknownCurrency(String),
    #[error("cannot combine amounts in {left} and {right}")]
    CurrencyMismatch { left: String, right: String },
    #[error("amount out of range")]
    AmountOverflow,
    #[error("invalid request: `{field}` {reason}")]
    InvalidRequest { field: String, reason: String },
    #[error("unknown city {0:?}")]
    UnknownCity(String),
    #[error("{field}: coordinates out of range (lat {lat}, lon {lon})")]
    InvalidCoordinates { field: String, lat: f64, lon: f64 },
    #[error("{field} is outside the service area of {city}")]
    OutsideServiceArea { city: String, field: String },
    #[error("vehicle class {class} is not offered in {city}")]
    ClassNotOffered { city: String, class: String },
    #[error(
        "{class} takes at most {max_passengers} passengers and {max_bags} bags \
         (asked: {passengers} passengers, {bags} bags)"
    )]
    CapacityExceeded {
        class: String,
        passengers: u32,
        bags: u32,
        max_passengers: u32,
        max_bags: u32,
    },
    #[error("hire length must be between {min} and {max} hours (asked: {hours})")]
    HoursOutOfRange { hours: u32, min: u32, max: u32 },
    #[error("{local} does not exist in {time_zone}: the clocks skip it (daylight saving time)")]
    PickupInDstGap {
        local: NaiveDateTime,
        time_zone: String,
    },
    #[error(
        "{} happens twice in {time_zone} (daylight saving time ends); choose the earlier \
         {} or the later {}",
        local.format("%Y-%m-%d %H:%M"),
        local_with_offset(earlier, time_zone),
        local_with_offset(later, time_zone)
    )]
    PickupTimeAmbiguous {
        local: NaiveDateTime,
        time_zone: String,
        earlier: DateTime<Utc>,
        later: DateTime<Utc>,
    },
    #[error(
        "that pickup time has passed ({}); choose a time in the future",
        minute(at)
    )]
    PickupInPast { at: DateTime<Utc> },
    #[error(
        "pickup is too soon: the earliest bookable pickup is {}",
        minute(earliest)
    )]
    PickupTooSoon { earliest: DateTime<Utc> },
    #[error(
        "pickup is too far ahead: the latest bookable pickup is {}",
        minute(latest)
    )]
    PickupTooFarAhead { latest: DateTime<Utc> },
    #[error("{city} does not offer rides as soon as possible; choose a pickup time")]
    OnDemandUnavailable { city: String },
    #[error("a booking cannot go from {from} to {to} by {actor}")]
    IllegalTransition {
        from: BookingState,
        to: BookingState,
        actor: Actor,
    },
    #[error("{status} can be reported from {}, not yet", minute(allowed_from))]
    StatusTooEarly {
        status: BookingState,
        allowed_from: DateTime<Utc>,
    },
    #[error("declared costs must be between 0 and {max} in all")]
    DeclaredCostsOutOfRange { max: Money },
    #[error(
        "no-show can be reported from {}, after the free waiting time",
        minute(allowed_from)
    )]
    NoShowTooEarly { allowed_from: DateTime<Utc> },
    #[error("this booking is {state} and can no longer be cancelled")]
    CancellationNotAllowed { state: BookingState },
    #[error("the cancellation fee is now {current}, not {acknowledged}; ask for it again")]
    CancellationFeeChanged { acknowledged: Money, current: Money },
    #[error(
        "a ride can be given back only until {} (2 hours before pickup)",
        minute(latest)
    )]
    GiveBackTooLate { latest: DateTime<Utc> },
}

impl CoreError {
    /// Stable machine-readable code; never changes once released.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::InvalidCatalog { .. } => "catalog_invalid",
            CoreError::UnknownCurrency(_) => "unknown_currency",
            CoreError::CurrencyMismatch { .. } => "currency_mismatch",
            CoreError::AmountOverflow => "amount_overflow",
            CoreError::InvalidRequest { .. } => "invalid_request",
            CoreError::UnknownCity(_) => "unknown_city",
            CoreError::InvalidCoordinates { .. } => "invalid_coordinates",
            CoreError::OutsideServiceArea { .. } => "outside_service_area",
            CoreError::ClassNotOffered { .. } => "class_not_offered",
            CoreError::CapacityExceeded { .. } => "capacity_exceeded",
            CoreError::HoursOutOfRange { .. } => "hours_out_of_range",
            CoreError::PickupInDstGap { .. } => "pickup_in_dst_gap",
            CoreError::PickupTimeAmbiguous { .. } => "pickup_time_ambiguous",
            CoreError::PickupInPast { .. } => "pickup_in_past",
            CoreError::PickupTooSoon { .. } => "pickup_too_soon",
            CoreError::PickupTooFarAhead { .. } => "pickup_too_far_ahead",
            CoreError::OnDemandUnavailable { .. } => "on_demand_unavailable",
            CoreError::IllegalTransition { .. } => "illegal_transition",
            CoreError::StatusTooEarly { .. } => "status_too_early",
            CoreError::DeclaredCostsOutOfRange { .. } => "declared_costs_out_of_range",
            CoreError::NoShowTooEarly { .. } => "no_show_too_early",
            CoreError::CancellationNotAllowed { .. } => "cancellation_not_allowed",
            CoreError::CancellationFeeChanged { .. } => "cancellation_fee_changed",
            CoreError::GiveBackTooLate { .. } => "give_back_too_late",
        }
    }

    pub(crate) fn catalog(city: &str, field: impl Into<String>, reason: impl Into<String>) -> Self {
        CoreError::InvalidCatalog {
            city: city.to_owned(),
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn request(field: impl Into<String>, reason: impl Into<String>) -> Self {
        CoreError::InvalidRequest {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Every code `CoreError::code` can return, for clients that map codes to messages.
pub const ERROR_CODES: &[&str] = &[
    "catalog_invalid",
    "unknown_currency",
    "currency_mismatch",
    "amount_overflow",
    "invalid_request",
    "unknown_city",
    "invalid_coordinates",
    "outside_service_area",
    "class_not_offered",
    "capacity_exceeded",
    "hours_out_of_range",
    "pickup_in_dst_gap",
    "pickup_time_ambiguous",
    "pickup_in_past",
    "pickup_too_soon",
    "pickup_too_far_ahead",
    "on_demand_unavailable",
    "illegal_transition",
    "status_too_early",
    "declared_costs_out_of_range",
    "no_show_too_early",
    "cancellation_not_allowed",
    "cancellation_fee_changed",
    "give_back_too_late",
];

/// `at` on the wall clock of `time_zone` with its offset, `02:30 (UTC+2)` (the two instants of
/// a DST overlap differ only in the offset); in UTC if the zone is unknown.
fn local_with_offset(at: &DateTime<Utc>, time_zone: &str) -> String {
    match time_zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => crate::pickup::wall_clock_with_offset(*at, &tz),
        Err(_) => minute(at),
    }
}

/// An instant in a message, to the minute (rounded up, so an "earliest" time is never early):
/// riders read "2026-11-27 21:32 UTC", not nanoseconds.
fn minute(at: &DateTime<Utc>) -> String {
    use chrono::{DurationRound, TimeDelta};
    let rounded = at
        .duration_trunc(TimeDelta::minutes(1))
        .ok()
        .map(|t| {
            if t < *at {
                t + TimeDelta::minutes(1)
            } else {
                t
            }
        })
        .unwrap_or(*at);
    rounded.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn messages_are_rider_ready_without_seconds_and_in_local_time_for_a_dst_choice() {
        let at: DateTime<Utc> = "2027-10-31T00:30:00.959327058Z".parse().unwrap_or_default();
        let ambiguous = CoreError::PickupTimeAmbiguous {
            local: "2027-10-31T02:30:00".parse().unwrap_or_default(),
            time_zone: "Europe/Berlin".into(),
            earlier: "2027-10-31T00:30:00Z".parse().unwrap_or_default(),
            later: "2027-10-31T01:30:00Z".parse().unwrap_or_default(),
        };
        assert_eq!(
            ambiguous.to_string(),
            "2027-10-31 02:30 happens twice in Europe/Berlin (daylight saving time ends); \
             choose the earlier 02:30 (UTC+2) or the later 02:30 (UTC+1)"
        );
        for e in [
            CoreError::PickupTooSoon { earliest: at },
            CoreError::PickupTooFarAhead { latest: at },
            CoreError::NoShowTooEarly { allowed_from: at },
            CoreError::GiveBackTooLate { latest: at },
        ] {
            let text = e.to_string();
            assert!(text.contains("2027-10-31 00:31 UTC"), "{text}");
            assert!(!text.contains(".959"), "{text}");
        }
    }

    /// One of each variant: ERROR_CODES must list exactly what `code()` returns.
    #[test]
    fn error_codes_lists_every_variant() {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        let local = t.naive_utc();
        let eur = Currency::from_code("EUR").unwrap();
        let money = Money::new(0, eur);
        let all = [
            CoreError::catalog("", "", ""),
            CoreError::UnknownCurrency(String::new()),
            CoreError::CurrencyMismatch {
                left: String::new(),
                right: String::new(),
            },
            CoreError::AmountOverflow,
            CoreError::request("", ""),
            CoreError::UnknownCity(String::new()),
            CoreError::InvalidCoordinates {
                field: String::new(),
                lat: 0.0,
                lon: 0.0,
            },
            CoreError::OutsideServiceArea {
                city: String::new(),
                field: String::new(),
            },
            CoreError::ClassNotOffered {
                city: String::new(),
                class: String::new(),
            },
            CoreError::CapacityExceeded {
                class: String::new(),
                passengers: 0,
                bags: 0,
                max_passengers: 0,
                max_bags: 0,
            },
            CoreError::HoursOutOfRange {
                hours: 0,
                min: 0,
                max: 0,
            },
            CoreError::PickupInDstGap {
                local,
                time_zone: String::new(),
            },
            CoreError::PickupTimeAmbiguous {
                local,
                time_zone: String::new(),
                earlier: t,
                later: t,
            },
            CoreError::PickupInPast { at: t },
            CoreError::PickupTooSoon { earliest: t },
            CoreError::PickupTooFarAhead { latest: t },
            CoreError::OnDemandUnavailable {
                city: String::new(),
            },
            CoreError::IllegalTransition {
                from: BookingState::Pending,
                to: BookingState::Pending,
                actor: Actor::Rider,
            },
            CoreError::StatusTooEarly {
                status: BookingState::Arrived,
                allowed_from: t,
            },
            CoreError::DeclaredCostsOutOfRange { max: money },
            CoreError::NoShowTooEarly { allowed_from: t },
            CoreError::CancellationNotAllowed {
                state: BookingState::Completed,
            },
            CoreError::CancellationFeeChanged {
                acknowledged: money,
                current: money,
            },
            CoreError::GiveBackTooLate { latest: t },
        ];
        let codes: Vec<&str> = all.iter().map(CoreError::code).collect();
        assert_eq!(codes, ERROR_CODES);
    }
}
