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
