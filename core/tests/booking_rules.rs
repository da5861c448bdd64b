#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report
//! The booking lifecycle and the cancellation policy as riders, partners and chauffeurs meet them.

use chauffeur_core::booking::{check_no_show, next_states, TRANSITIONS};
use chauffeur_core::catalog::CancellationPolicy;
use chauffeur_core::*;
use chrono::{DateTime, Utc};

use BookingState::*;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::from_code("EUR").unwrap())
}

#[test]
fn the_happy_path_runs_from_pending_to_completed() {
    let steps = [
        (Confirmed, Actor::Partner),
        (ChauffeurAssigned, Actor::Partner),
        (EnRoute, Actor::Chauffeur),
        (Arrived, Actor::Chauffeur),
        (OnBoard, Actor::Chauffeur),
        (Completed, Actor::Chauffeur),
    ];
    let mut state = Pending;
    for (to, actor) in steps {
        state = transition(state, to, actor).unwrap();
    }
    assert_eq!(state, Completed);
}

#[test]
fn illegal_moves_are_refused_with_a_typed_error() {
    let err = transition(Pending, Completed, Actor::Chauffeur).unwrap_err();
    assert_eq!(err.code(), "illegal_transition");
    assert_eq!(
        err.to_string(),
        "a booking cannot go from pending to completed by chauffeur"
    );
    // A rider cannot report the chauffeur's progress.
    assert!(transition(ChauffeurAssigned, EnRoute, Actor::Rider).is_err());
    // A chauffeur cannot accept an offer on the partner's behalf.
    assert!(transition(Pending, Confirmed, Actor::Chauffeur).is_err());
    // Only the system (or an operator) declares a booking unfulfilled.
    assert!(transition(Pending, Unfulfilled, Actor::Rider).is_err());
    assert!(transition(Pending, Unfulfilled, Actor::System).is_ok());
}

#[test]
fn terminal_states_have_no_way_out() {
    for state in BookingState::ALL
        .into_iter()
        .filter(BookingState::is_terminal)
    {
        for actor in Actor::ALL {
            assert_eq!(next_states(state, actor).count(), 0, "{state} by {actor}");
        }
    }
    assert!(TRANSITIONS.iter().all(|(from, _, _)| !from.is_terminal()));
}

#[test]
fn a_partner_can_give_a_ride_back_and_it_is_pending_again() {
    let state = transition(Pending, Confirmed, Actor::Partner).unwrap();
    assert_eq!(transition(state, Pending, Actor::Partner).unwrap(), Pending);
    let assigned = transition(state, ChauffeurAssigned, Actor::Partner).unwrap();
    assert_eq!(
        transition(assigned, Pending, Actor::Partner).unwrap(),
        Pending
    );
}

#[test]
fn every_state_has_a_stable_name() {
    for state in BookingState::ALL {
        assert_eq!(BookingState::parse(state.as_str()), Some(state));
        assert_eq!(
            serde_json::to_string(&state).unwrap(),
            format!("\"{state}\"")
        );
    }
}

#[test]
fn no_show_only_after_the_free_waiting_time() {
    let pickup = t("2026-12-08T14:00:00Z");
    let arrived = t("2026-12-08T13:55:00Z");
    // 15 free minutes from the pickup time (the chauffeur was early).
    let err = check_no_show(pickup, arrived, 15, t("2026-12-08T14:14:59Z")).unwrap_err();
    assert_eq!(err.code(), "no_show_too_early");
    assert!(check_no_show(pickup, arrived, 15, t("2026-12-08T14:15:00Z")).is_ok());
    // A late chauffeur: the free time counts from the arrival.
    let late = t("2026-12-08T14:20:00Z");
    assert!(check_no_show(pickup, late, 60, t("2026-12-08T15:19:00Z")).is_err());
    assert!(check_no_show(pickup, late, 60, t("2026-12-08T15:20:00Z")).is_ok());
}

#[test]
fn transfers_cancel_free_until_an_hour_before_then_in_full() {
    let policy = CancellationPolicy::default();
    let pickup = t("2026-12-08T14:00:00Z");
    let fee = |now| {
        cancellation_fee(
            &policy,
            ProductKind::Transfer,
            Confirmed,
            eur(9_300),
            pickup,
            t(now),
        )
        .unwrap()
    };
    let free = fee("2026-12-08T12:59:59Z");
    assert_eq!(free.fee, eur(0));
    assert_eq!(free.changes_at, Some(t("2026-12-08T13:00:00Z")));
    assert_eq!(fee("2026-12-08T13:00:00Z").fee, eur(9_300));
    assert_eq!(fee("2026-12-08T15:00:00Z").fee, eur(9_300));
}

#[test]
fn hourly_hires_cancel_in_steps_of_50_75_and_100_percent() {
    let policy = CancellationPolicy::default();
    let pickup = t("2026-12-10T10:00:00Z");
    let price = eur(27_000);
    let fee = |now| {
        cancellation_fee(
            &policy,
            ProductKind::Hourly,
            Confirmed,
            price,
            pickup,
            t(now),
        )
        .unwrap()
        .fee
    };
    assert_eq!(fee("2026-12-09T21:59:00Z"), eur(0)); // 12 h 01 min before
    assert_eq!(fee("2026-12-09T22:00:00Z"), eur(13_500)); // 12 h: 50 %
    assert_eq!(fee("2026-12-10T04:00:00Z"), eur(20_250)); // 6 h: 75 %
    assert_eq!(fee("2026-12-10T07:00:00Z"), eur(27_000)); // 3 h: 100 %
}

#[test]
fn cancelling_is_two_steps_and_a_changed_fee_is_refused() {
    let policy = CancellationPolicy::default();
    let pickup = t("2026-12-08T14:00:00Z");
    // The rider previews at 12:59 (free) and confirms at 13:01 (now the full fare).
    let preview = cancellation_fee(
        &policy,
        ProductKind::Transfer,
        Confirmed,
        eur(9_300),
        pickup,
        t("2026-12-08T12:59:00Z"),
    )
    .unwrap();
    let now = cancellation_fee(
        &policy,
        ProductKind::Transfer,
        Confirmed,
        eur(9_300),
        pickup,
        t("2026-12-08T13:01:00Z"),
    )
    .unwrap();
    let err = confirm_cancellation(&now, preview.fee).unwrap_err();
    assert_eq!(err.code(), "cancellation_fee_changed");
    assert_eq!(
        err.to_string(),
        "the cancellation fee is now EUR 93.00, not EUR 0.00; ask for it again"
    );
    assert_eq!(confirm_cancellation(&now, eur(9_300)).unwrap(), eur(9_300));
}

#[test]
fn finished_or_running_rides_cannot_be_cancelled() {
    let policy = CancellationPolicy::default();
    let pickup = t("2026-12-08T14:00:00Z");
    for state in [OnBoard, Completed, Cancelled, NoShow, Unfulfilled] {
        let err = cancellation_fee(
            &policy,
            ProductKind::Transfer,
            state,
            eur(100),
            pickup,
            pickup,
        )
        .unwrap_err();
        assert_eq!(err.code(), "cancellation_not_allowed");
    }
}

#[test]
fn error_codes_are_unique_snake_case() {
    let mut seen = std::collections::HashSet::new();
    for code in ERROR_CODES {
        assert!(
            code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{code}"
        );
        assert!(seen.insert(code), "{code} twice");
    }
}

/// A chauffeur once marked a ride arrived 13 days before its pickup and completed it two
/// seconds later with 40 declared minutes of waiting, which were charged. Times now come from
/// the server's clock and the core's windows.
#[test]
fn a_ride_cannot_be_reported_under_way_long_before_its_pickup() {
    use chauffeur_core::booking::{check_status_time, RideTimes};
    let times = RideTimes {
        pickup_at: t("2026-12-14T10:00:00Z"),
        arrived_at: None,
        on_board_at: None,
    };
    let refused = check_status_time(Arrived, &times, t("2026-12-01T10:00:00Z")).unwrap_err();
    assert_eq!(refused.code(), "status_too_early");
    assert_eq!(
        refused.to_string(),
        "arrived can be reported from 2026-12-14 09:00 UTC, not yet"
    );
    // At the pickup from 60 minutes before it; on the way from 3 hours before it.
    assert!(check_status_time(Arrived, &times, t("2026-12-14T09:00:00Z")).is_ok());
    assert!(check_status_time(EnRoute, &times, t("2026-12-14T06:59:59Z")).is_err());
    assert!(check_status_time(EnRoute, &times, t("2026-12-14T07:00:00Z")).is_ok());
    // Boarding and completing have no window of their own: they follow arrival.
    assert!(check_status_time(OnBoard, &times, t("2026-12-14T09:10:00Z")).is_ok());
}

#[test]
fn waiting_is_measured_from_the_later_of_pickup_time_and_arrival_until_on_board() {
    use chauffeur_core::booking::{measured_hire_minutes, measured_waiting_minutes, RideTimes};
    let early = RideTimes {
        pickup_at: t("2026-12-14T10:00:00Z"),
        arrived_at: Some(t("2026-12-14T09:40:00Z")),
        on_board_at: Some(t("2026-12-14T10:25:59Z")),
    };
    // Arriving early does not count as waiting: 10:00 → 10:25:59 is 25 whole minutes.
    assert_eq!(measured_waiting_minutes(&early), 25);
    let late = RideTimes {
        arrived_at: Some(t("2026-12-14T10:10:00Z")),
        on_board_at: Some(t("2026-12-14T10:12:00Z")),
        ..early
    };
    assert_eq!(measured_waiting_minutes(&late), 2);
    // Two seconds between arrival and boarding is no waiting at all.
    let hurried = RideTimes {
        arrived_at: Some(t("2026-12-14T10:00:00Z")),
        on_board_at: Some(t("2026-12-14T10:00:02Z")),
        ..early
    };
    assert_eq!(measured_waiting_minutes(&hurried), 0);
    // An hourly hire runs from the later of pickup time and arrival to completion.
    assert_eq!(measured_hire_minutes(&late, t("2026-12-14T13:10:00Z")), 180);
    assert_eq!(
        measured_hire_minutes(&early, t("2026-12-14T13:00:00Z")),
        180
    );
}
