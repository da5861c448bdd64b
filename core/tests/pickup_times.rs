#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report
//! Pickup times as riders write them, and the words they get back.

use chauffeur_core::*;
use chrono::{DateTime, NaiveDate, Utc};

fn now() -> DateTime<Utc> {
    "2026-12-01T10:00:00.123456789Z".parse().unwrap()
}

fn berlin() -> City {
    Catalog::shipped().unwrap().city("berlin").unwrap().clone()
}

#[test]
fn a_local_pickup_time_without_seconds_is_understood() {
    let time: PickupTime =
        serde_json::from_str(r#"{"kind": "local", "at": "2026-12-10T10:00"}"#).unwrap();
    let expected = NaiveDate::from_ymd_opt(2026, 12, 10)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap();
    assert_eq!(
        time,
        PickupTime::Local {
            at: expected,
            dst: None
        }
    );
    // With seconds, and with fractions of them, as before.
    for text in ["2026-12-10T10:00:00", "2026-12-10T10:00:00.000"] {
        let json = format!(r#"{{"kind": "local", "at": "{text}"}}"#);
        let time: PickupTime = serde_json::from_str(&json).unwrap();
        assert_eq!(
            time,
            PickupTime::Local {
                at: expected,
                dst: None
            }
        );
    }
}

#[test]
fn a_local_pickup_time_that_is_not_one_says_what_is_expected() {
    let error = serde_json::from_str::<PickupTime>(r#"{"kind": "local", "at": "10 Dec 10am"}"#)
        .unwrap_err()
        .to_string();
    assert!(error.contains("like 2026-12-10T10:00"), "{error}");
}

#[test]
fn a_pickup_in_1970_is_in_the_past_not_too_soon() {
    let requested = PickupTime::Instant {
        at: "1970-01-01T00:00:00Z".parse().unwrap(),
    };
    let error = resolve_pickup(&berlin(), &requested, now()).unwrap_err();
    assert_eq!(error.code(), "pickup_in_past");
    assert_eq!(
        error.to_string(),
        "that pickup time has passed (1970-01-01 00:00 UTC); choose a time in the future"
    );
}

#[test]
fn too_soon_names_the_earliest_pickup_to_the_minute() {
    let requested = PickupTime::Instant { at: now() };
    let error = resolve_pickup(&berlin(), &requested, now()).unwrap_err();
    assert_eq!(error.code(), "pickup_too_soon");
    // Berlin's 60-minute lead time from 10:00:00.12 is 11:00:00.12: shown as 11:01, never early.
    assert_eq!(
        error.to_string(),
        "pickup is too soon: the earliest bookable pickup is 2026-12-01 11:01 UTC"
    );
}
