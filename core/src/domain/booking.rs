//! The booking state machine. One table says who may move a booking from which state to which;
//! the server and the client both ask it, so they cannot disagree.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// Where a booking is in its life, from `PaymentPending` or `Pending` to one of the final states (`Completed`,
/// `Cancelled`, `NoShow`, `Unfulfilled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    /// Waiting for the rider to finish the card step (3-D Secure) in the app; not offered to
    /// partners until the card is authorised.
    PaymentPending,
    /// Looking for a partner.
    Pending,
    /// A partner accepted.
    Confirmed,
    ChauffeurAssigned,
    EnRoute,
    Arrived,
    OnBoard,
    Completed,
    Cancelled,
    NoShow,
    /// No partner found in time.
    Unfulfilled,
}

impl BookingState {
    pub const ALL: [BookingState; 11] = [
        BookingState::PaymentPending,
        BookingState::Pending,
        BookingState::Confirmed,
        BookingState::ChauffeurAssigned,
        BookingState::EnRoute,
        BookingState::Arrived,
        BookingState::OnBoard,
        BookingState::Completed,
        BookingState::Cancelled,
        BookingState::NoShow,
        BookingState::Unfulfilled,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            BookingState::PaymentPending => "payment_pending",
            BookingState::Pending => "pending",
            BookingState::Confirmed => "confirmed",
            BookingState::ChauffeurAssigned => "chauffeur_assigned",
            BookingState::EnRoute => "en_route",
            BookingState::Arrived => "arrived",
            BookingState::OnBoard => "on_board",
            BookingState::Completed => "completed",
            BookingState::Cancelled => "cancelled",
            BookingState::NoShow => "no_show",
            BookingState::Unfulfilled => "unfulfilled",
        }
    }

    pub fn parse(text: &str) -> Option<BookingState> {
        BookingState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// No transition leaves a terminal state.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            BookingState::Completed
                | BookingState::Cancelled
                | BookingState::NoShow
                | BookingState::Unfulfilled
        )
    }
}

impl fmt::Display for BookingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who asks for a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
/// Who made a change in a booking's life.
pub enum Actor {
    /// The rider who booked.
    Rider,
    /// The partner (fleet) that took the ride.
    Partner,
    /// The partner's chauffeur driving it.
    Chauffeur,
    /// Chauffeur's own staff.
    Operator,
    /// The server's own background work (dispatch deadlines).
    System,
}

impl Actor {
    pub const ALL: [Actor; 5] = [
        Actor::Rider,
        Actor::Partner,
        Actor::Chauffeur,
        Actor::Operator,
        Actor::System,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Actor::Rider => "rider",
            Actor::Partner => "partner",
            Actor::Chauffeur => "chauffeur",
            Actor::Operator => "operator",
            Actor::System => "system",
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

use Actor::{Chauffeur, Operator, Partner, Rider, System};
use BookingState::*;

/// (from, to, who may do it). The one place the lifecycle is defined.
pub const TRANSITIONS: &[(BookingState, BookingState, &[Actor])] = &[
    // The card step done: the card is authorised and the booking is offered.
    (PaymentPending, Pending, &[System]),
    // Given up by the rider, or not done in time (the system releases it).
    (PaymentPending, Cancelled, &[Rider, System, Operator]),
    (Pending, Confirmed, &[Partner, Operator]),
    (Pending, Unfulfilled, &[System, Operator]),
    (Pending, Cancelled, &[Rider, Operator]),
    // On demand: the nearest chauffeur accepts and is assigned at once.
    (Pending, ChauffeurAssigned, &[Chauffeur, Operator]),
    (Confirmed, ChauffeurAssigned, &[Partner, Operator]),
    // Give-back: the partner returns the ride and it is offered again.
    (Confirmed, Pending, &[Partner, Operator]),
    (Confirmed, Cancelled, &[Rider, Partner, Operator]),
    (ChauffeurAssigned, Confirmed, &[Partner, Operator]),
    (ChauffeurAssigned, Pending, &[Partner, Operator]),
    (ChauffeurAssigned, EnRoute, &[Chauffeur, Operator]),
    (ChauffeurAssigned, Cancelled, &[Rider, Partner, Operator]),
    (EnRoute, Arrived, &[Chauffeur, Operator]),
    (EnRoute, Cancelled, &[Rider, Partner, Operator]),
    (Arrived, OnBoard, &[Chauffeur, Operator]),
    (Arrived, NoShow, &[Chauffeur, Operator]),
    (Arrived, Cancelled, &[Rider, Operator]),
    (OnBoard, Completed, &[Chauffeur, Operator]),
];

/// Whether `actor` may move a booking from `from` to `to`.
pub fn is_allowed(from: BookingState, to: BookingState, actor: Actor) -> bool {
    TRANSITIONS
        .iter()
        .any(|(f, t, actors)| *f == from && *t == to && actors.contains(&actor))
}

/// The transition, or a typed refusal naming what was asked.
pub fn transition(
    from: BookingState,
    to: BookingState,
    actor: Actor,
) -> Result<BookingState, CoreError> {
    if is_allowed(from, to, actor) {
        Ok(to)
    } else {
        Err(CoreError::IllegalTransition { from, to, actor })
    }
}

/// Whether the rider may cancel a booking in `state` (the transition table decides; the apps show
/// their cancel button by it).
pub fn rider_may_cancel(state: BookingState) -> bool {
    is_allowed(state, BookingState::Cancelled, Actor::Rider)
}

/// Whether a booking in `state` has a ride to follow live: from its confirmation until the
/// rider is dropped off. A pending booking has no chauffeur yet; a final one has nothing left.
pub fn is_followable_live(state: BookingState) -> bool {
    matches!(
        state,
        BookingState::Confirmed
            | BookingState::ChauffeurAssigned
            | BookingState::EnRoute
            | BookingState::Arrived
            | BookingState::OnBoard
    )
}

/// The states `actor` may move a booking to from `from`.
pub fn next_states(from: BookingState, actor: Actor) -> impl Iterator<Item = BookingState> {
    TRANSITIONS
        .iter()
        .filter(move |(f, _, actors)| *f == from && actors.contains(&actor))
        .map(|(_, to, _)| *to)
}

/// A no-show may be reported only once the free waiting time has run out, counted from the
/// later of the pickup time and the chauffeur's arrival.
pub fn check_no_show(
    pickup_at: DateTime<Utc>,
    arrived_at: DateTime<Utc>,
    free_waiting_minutes: u32,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    let allowed_from =
        pickup_at.max(arrived_at) + Duration::minutes(i64::from(free_waiting_minutes));
    if now >= allowed_from {
        Ok(())
    } else {
        Err(CoreError::NoShowTooEarly { allowed_from })
    }
}

/// A chauffeur may report being on the way at most this long before the pickup time.
pub const EN_ROUTE_EARLIEST_MINUTES_BEFORE_PICKUP: i64 = 180;
/// A chauffeur may report being at the pickup at most this long before the pickup time.
pub const ARRIVED_EARLIEST_MINUTES_BEFORE_PICKUP: i64 = 60;

/// When a ride's statuses were reported, as the server recorded them on its own clock (from
/// the booking's history), never as a chauffeur declares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RideTimes {
    pub pickup_at: DateTime<Utc>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub on_board_at: Option<DateTime<Utc>>,
}

/// Whether `to` may be reported at `now`: on the way at most 3 h, and at the pickup at most
/// 60 min, before the pickup time. (The order of the statuses is the transition table's job.)
pub fn check_status_time(
    to: BookingState,
    times: &RideTimes,
    now: DateTime<Utc>,
) -> Result<(), CoreError> {
    let minutes_before = match to {
        BookingState::EnRoute => EN_ROUTE_EARLIEST_MINUTES_BEFORE_PICKUP,
        BookingState::Arrived => ARRIVED_EARLIEST_MINUTES_BEFORE_PICKUP,
        _ => return Ok(()),
    };
    let allowed_from = times.pickup_at - Duration::minutes(minutes_before);
    if now < allowed_from {
        return Err(CoreError::StatusTooEarly {
            status: to,
            allowed_from,
        });
    }
    Ok(())
}

/// Waiting measured by the server: whole minutes from the later of the pickup time and the
/// chauffeur's arrival until the passenger was on board (the free waiting time is taken off
/// when the fare is computed). Zero when either report is missing.
pub fn measured_waiting_minutes(times: &RideTimes) -> u32 {
    match (times.arrived_at, times.on_board_at) {
        (Some(arrived), Some(on_board)) => whole_minutes(on_board - arrived.max(times.pickup_at)),
        _ => 0,
    }
}

/// How long an hourly hire lasted, measured by the server: from the later of the pickup time
/// and the chauffeur's arrival until the ride was completed (`completed_at`).
pub fn measured_hire_minutes(times: &RideTimes, completed_at: DateTime<Utc>) -> u32 {
    let started = times
        .arrived_at
        .map_or(times.pickup_at, |a| a.max(times.pickup_at));
    whole_minutes(completed_at - started)
}

fn whole_minutes(span: Duration) -> u32 {
    u32::try_from(span.num_minutes().max(0)).unwrap_or(u32::MAX)
}
