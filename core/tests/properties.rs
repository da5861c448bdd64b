#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report
//! Properties of the fare engine, money and the booking state machine over random inputs.

use std::sync::OnceLock;

use chauffeur_core::booking::{is_allowed, TRANSITIONS};
use chauffeur_core::fare::{price, FareLineKind, PriceInputs};
use chauffeur_core::*;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::shipped().unwrap())
}

fn pickup_at(minute_of_week: u32) -> ResolvedPickup {
    // Monday 7 December 2026 00:00 plus up to a week, so night and peak both occur.
    let local = NaiveDate::from_ymd_opt(2026, 12, 7)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        + Duration::minutes(i64::from(minute_of_week));
    ResolvedPickup {
        at: local.and_utc(),
        local,
        asap: false,
    }
}

#[derive(Debug, Clone)]
struct Case {
    city: usize,
    class: usize,
    distance_m: u32,
    duration_s: u32,
    hours: u32,
    minute_of_week: u32,
    at_airport: bool,
    meet_and_greet: bool,
    child_seats: u32,
    stops: usize,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        0..catalog().cities().len(),
        0..3usize,
        0u32..200_000,
        0u32..14_400,
        2u32..=24,
        0u32..7 * 24 * 60,
        any::<bool>(),
        any::<bool>(),
        0u32..=3,
        0usize..=3,
    )
        .prop_map(
            |(
                city,
                class,
                distance_m,
                duration_s,
                hours,
                minute_of_week,
                at_airport,
                meet_and_greet,
                child_seats,
                stops,
            )| Case {
                city,
                class,
                distance_m,
                duration_s,
                hours,
                minute_of_week,
                at_airport,
                meet_and_greet,
                child_seats,
                stops,
            },
        )
}

fn fare_for(case: &Case, hourly: bool) -> (Fare, &'static City, VehicleClass) {
    let city = &catalog().cities()[case.city];
    let classes: Vec<VehicleClass> = city.classes.keys().copied().collect();
    let class = classes[case.class % classes.len()];
    let product = if hourly {
        ProductRequest::Hourly { hours: case.hours }
    } else {
        ProductRequest::Transfer {
            dropoff: city.service_area.center,
            stops: vec![city.service_area.center; case.stops],
        }
    };
    let place = if case.at_airport {
        PickupPlace::Airport { iata: "XXX".into() }
    } else {
        PickupPlace::Other
    };
    let extras = Extras {
        meet_and_greet: case.meet_and_greet,
        child_seats: case.child_seats,
    };
    let pickup = pickup_at(case.minute_of_week);
    let fare = price(
        city,
        &PriceInputs {
            product: &product,
            extras: &extras,
            class,
            pickup: &pickup,
            pickup_place: &place,
            route: RouteEstimate {
                distance_m: case.distance_m,
                duration_s: case.duration_s,
            },
        },
    )
    .unwrap();
    (fare, city, class)
}

/// The exact fare by the rules, as numerator / denominator in minor units: ride fare (metered
/// with its minimum, or hours × rate) plus surcharges; the night percentage applies to the ride
/// fare (whether it applies is read from the fare's own night line).
fn exact_total(case: &Case, hourly: bool, fare: &Fare) -> (i128, i128) {
    let city = &catalog().cities()[case.city];
    let classes: Vec<VehicleClass> = city.classes.keys().copied().collect();
    let offer = &city.classes[&classes[case.class % classes.len()]];
    let denominator: i128 = 1000 * 60 * 10_000;
    let ride = if hourly {
        i128::from(offer.hourly.per_hour) * i128::from(case.hours) * denominator
    } else {
        let t = &offer.transfer;
        let metered = i128::from(t.base) * denominator
            + i128::from(t.per_km) * i128::from(case.distance_m) * (denominator / 1000)
            + i128::from(t.per_minute) * i128::from(case.duration_s) * (denominator / 60);
        metered.max(i128::from(t.minimum) * denominator)
    };
    let s = &city.surcharges;
    let mut total = ride;
    if case.at_airport {
        total += i128::from(s.airport_pickup) * denominator;
    }
    if case.meet_and_greet {
        total += i128::from(s.meet_and_greet) * denominator;
    }
    if fare.line(FareLineKind::Night).is_some() {
        total += ride * i128::from(s.night.percent_bp) / 10_000;
    }
    total += i128::from(s.child_seat) * i128::from(case.child_seats) * denominator;
    if !hourly {
        total += i128::from(s.extra_stop) * case.stops as i128 * denominator;
    }
    (total, denominator)
}

fn total_for(case: &Case, hourly: bool) -> i64 {
    fare_for(case, hourly).0.total.amount_minor
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn price_is_never_negative_nor_below_the_minimum(case in cases(), hourly in any::<bool>()) {
        let (fare, city, class) = fare_for(&case, hourly);
        let offer = &city.classes[&class];
        let floor = if hourly {
            offer.hourly.per_hour * i64::from(offer.hourly.min_hours)
        } else {
            offer.transfer.minimum
        };
        prop_assert!(fare.total.amount_minor >= floor);
        prop_assert!(fare.net.amount_minor >= 0 && fare.vat.amount_minor >= 0);
        prop_assert!(fare.lines.iter().all(|l| l.amount.amount_minor >= 0));
    }

    #[test]
    fn breakdown_sums_to_the_total_and_net_plus_vat_is_the_total(case in cases(), hourly in any::<bool>()) {
        let (fare, city, _) = fare_for(&case, hourly);
        let lines: i64 = fare.lines.iter().map(|l| l.amount.amount_minor).sum();
        prop_assert_eq!(lines, fare.total.amount_minor);
        prop_assert_eq!(fare.net.amount_minor + fare.vat.amount_minor, fare.total.amount_minor);
        prop_assert!(fare.lines.iter().all(|l| l.amount.currency == city.currency));
        // VAT is the rate applied to net, within half a minor unit of rounding.
        let exact_vat = fare.net.amount_minor as f64 * f64::from(fare.vat_rate_bp) / 10_000.0;
        prop_assert!((fare.vat.amount_minor as f64 - exact_vat).abs() <= 0.5 + exact_vat * 1e-9 + f64::from(fare.vat_rate_bp) / 20_000.0);
    }

    #[test]
    fn rounding_only_rounds_up_to_the_step(case in cases(), hourly in any::<bool>()) {
        let (fare, city, _) = fare_for(&case, hourly);
        prop_assert_eq!(fare.total.amount_minor % city.rounding_step, 0);
        let rounding = fare.line(FareLineKind::Rounding).map_or(0, |l| l.amount.amount_minor);
        prop_assert!(rounding >= 0);
    }

    /// Round once: the total is the smallest multiple of the step at or above the exact sum of
    /// the rules (computed here independently, as a fraction), never a step more.
    #[test]
    fn the_total_is_the_exact_fare_rounded_up_once(case in cases(), hourly in any::<bool>()) {
        let (fare, city, _) = fare_for(&case, hourly);
        let (numerator, denominator) = exact_total(&case, hourly, &fare);
        let total = i128::from(fare.total.amount_minor);
        let step = i128::from(city.rounding_step.max(1));
        prop_assert!(total * denominator >= numerator, "total below the exact fare");
        prop_assert!((total - step) * denominator < numerator, "a step more than the rules give");
    }

    #[test]
    fn price_does_not_decrease_with_distance(case in cases(), more in 0u32..100_000) {
        let longer = Case { distance_m: case.distance_m + more, ..case.clone() };
        prop_assert!(total_for(&longer, false) >= total_for(&case, false));
    }

    #[test]
    fn price_does_not_decrease_with_duration(case in cases(), more in 0u32..7_200) {
        let slower = Case { duration_s: case.duration_s + more, ..case.clone() };
        prop_assert!(total_for(&slower, false) >= total_for(&case, false));
    }

    #[test]
    fn price_does_not_decrease_with_hours(case in cases(), more in 0u32..=22) {
        let longer = Case { hours: (case.hours + more).min(24), ..case.clone() };
        prop_assert!(total_for(&longer, true) >= total_for(&case, true));
    }

    #[test]
    fn vat_split_is_exact_for_any_amount(gross in 0i64..10_000_000_000, rate in 0u32..=5_000) {
        let eur = Currency::from_code("EUR").unwrap();
        let (net, vat) = Money::new(gross, eur).split_vat(rate).unwrap();
        prop_assert_eq!(net.amount_minor + vat.amount_minor, gross);
        // net is the nearest minor unit to gross / (1 + rate).
        let exact = gross as f64 * 10_000.0 / (10_000.0 + f64::from(rate));
        prop_assert!((net.amount_minor as f64 - exact).abs() <= 0.5 + exact * 1e-12);
    }

    #[test]
    fn round_up_to_step_is_the_least_multiple_not_below(amount in -1_000_000i64..1_000_000_000, step in 1i64..100_000) {
        let eur = Currency::from_code("EUR").unwrap();
        let rounded = Money::new(amount, eur).round_up_to_step(step).unwrap().amount_minor;
        prop_assert_eq!(rounded % step, 0);
        prop_assert!(rounded >= amount && rounded - amount < step);
    }

    #[test]
    fn cancellation_fee_never_falls_as_pickup_nears(
        minutes_before in 0i64..2_000,
        earlier_by in 0i64..2_000,
        hourly in any::<bool>(),
        price in 0i64..10_000_000,
    ) {
        let policy = chauffeur_core::catalog::CancellationPolicy::default();
        let pickup: DateTime<Utc> = "2027-01-15T12:00:00Z".parse().unwrap();
        let product = if hourly { ProductKind::Hourly } else { ProductKind::Transfer };
        let eur = Currency::from_code("EUR").unwrap();
        let price = Money::new(price, eur);
        let later = pickup - Duration::minutes(minutes_before);
        let earlier = later - Duration::minutes(earlier_by);
        let fee_later = cancellation_fee(&policy, product, BookingState::Confirmed, price, pickup, later).unwrap();
        let fee_earlier = cancellation_fee(&policy, product, BookingState::Confirmed, price, pickup, earlier).unwrap();
        prop_assert!(fee_earlier.fee.amount_minor <= fee_later.fee.amount_minor);
        prop_assert!(fee_later.fee.amount_minor <= price.amount_minor);
        if let Some(at) = fee_earlier.changes_at {
            prop_assert!(at > earlier);
        }
    }

    /// Random actors ask for random moves; whatever the machine accepts is in the table, and the
    /// life of every booking reads as a path through it.
    #[test]
    fn every_reachable_state_follows_the_transition_table(
        steps in proptest::collection::vec((0usize..10, 0usize..5), 0..60)
    ) {
        let mut state = BookingState::Pending;
        let mut path = vec![state];
        for (to, actor) in steps {
            let to = BookingState::ALL[to];
            let actor = Actor::ALL[actor];
            let before = state;
            match transition(state, to, actor) {
                Ok(next) => {
                    prop_assert!(TRANSITIONS.iter().any(|(f, t, a)| *f == before && *t == next && a.contains(&actor)));
                    prop_assert!(!before.is_terminal());
                    state = next;
                    path.push(state);
                }
                Err(e) => {
                    prop_assert_eq!(e.code(), "illegal_transition");
                    prop_assert!(!is_allowed(before, to, actor));
                }
            }
        }
        // Independent sanity checks of the lifecycle a rider sees.
        for pair in path.windows(2) {
            let (from, to) = (pair[0], pair[1]);
            if to == BookingState::Completed { prop_assert_eq!(from, BookingState::OnBoard); }
            if to == BookingState::NoShow { prop_assert_eq!(from, BookingState::Arrived); }
            if to == BookingState::OnBoard { prop_assert_eq!(from, BookingState::Arrived); }
            if to == BookingState::Unfulfilled { prop_assert_eq!(from, BookingState::Pending); }
        }
        if let Some(end) = path.iter().position(|s| s.is_terminal()) {
            prop_assert_eq!(end, path.len() - 1, "nothing follows a terminal state");
        }
    }
}

mod dispatch_properties {
    use std::collections::BTreeSet;

    use chauffeur_core::dispatch::*;
    use chrono::{DateTime, Duration, Utc};
    use proptest::prelude::*;

    fn records() -> impl Strategy<Value = Vec<Candidate<u32>>> {
        proptest::collection::vec(
            (
                0u32..50,
                0u32..50,
                0u32..5,
                proptest::option::of(0u32..=5000),
            ),
            0..12,
        )
        .prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(i, (offers, accepts, give_backs, rating))| Candidate {
                    id: i as u32,
                    record: PartnerRecord {
                        offers: offers.max(accepts),
                        accepts,
                        declines: offers.max(accepts) - accepts,
                        recent_give_backs: give_backs,
                        rating_milli: rating,
                    },
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn ranking_is_a_deterministic_permutation_with_give_backs_last(
            candidates in records(),
            gave_back in proptest::collection::btree_set(0u32..12, 0..4),
        ) {
            let ranked = rank(&candidates, &gave_back);
            let ids: BTreeSet<u32> = candidates.iter().map(|c| c.id).collect();
            prop_assert_eq!(ranked.iter().copied().collect::<BTreeSet<_>>(), ids);
            prop_assert_eq!(ranked.len(), candidates.len());
            let mut reversed = candidates.clone();
            reversed.reverse();
            prop_assert_eq!(&rank(&reversed, &gave_back), &ranked, "input order does not matter");
            if let Some(first_given_back) = ranked.iter().position(|id| gave_back.contains(id)) {
                prop_assert!(ranked[first_given_back..].iter().all(|id| gave_back.contains(id)));
            }
        }

        #[test]
        fn dispatch_never_asks_a_partner_twice_nor_past_the_deadline(
            candidates in records(),
            offered in proptest::collection::btree_set(0u32..12, 0..12),
            minutes_to_pickup in 0i64..20_000,
            booked_minutes_before in 0i64..20_000,
            open in any::<bool>(),
        ) {
            let now: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
            let pickup = now + Duration::minutes(minutes_to_pickup);
            let created = now - Duration::minutes(booked_minutes_before);
            let deadline = dispatch_deadline(pickup, created);
            prop_assert!(deadline >= created + Duration::minutes(10));
            prop_assert!(deadline >= pickup - Duration::minutes(30));
            let ranked = rank(&candidates, &BTreeSet::new());
            match next_step(pickup, deadline, &ranked, &offered, &BTreeSet::new(), open, BATCH_SIZE, now) {
                DispatchStep::Offer { partners, expires_at } => {
                    prop_assert!(!open && now < deadline);
                    prop_assert!(!partners.is_empty() && partners.len() <= BATCH_SIZE);
                    prop_assert!(partners.iter().all(|p| !offered.contains(p)));
                    prop_assert!(expires_at > now && expires_at <= deadline);
                }
                DispatchStep::Wait => prop_assert!(now < deadline && (open || next_batch(&ranked, &offered, BATCH_SIZE).is_empty())),
                DispatchStep::GiveUp => prop_assert!(now >= deadline),
            }
        }
    }
}
