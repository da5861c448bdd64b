#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark setup: a panic is the report
//! One transfer quote and one hourly quote, next to one great-circle distance computation in
//! the same run (DESIGN.md target: a quote within 3× one distance). Also the catalog load.
//! `scripts/bench-core.sh` runs this and prints the ratios for BENCHMARKS.md.

use std::hint::black_box;
use std::time::Duration;

use chauffeur_core::fare::{price, PriceInputs};
use chauffeur_core::*;
use chrono::{DateTime, NaiveDate, Utc};
use criterion::{criterion_group, criterion_main, Criterion};

fn benches(c: &mut Criterion) {
    let catalog = Catalog::shipped().unwrap();
    let now: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
    let at = NaiveDate::from_ymd_opt(2026, 12, 8)
        .unwrap()
        .and_hms_opt(14, 0, 0)
        .unwrap();
    let ber = LatLon {
        lat: 52.3667,
        lon: 13.5033,
    };
    let alex = LatLon {
        lat: 52.5219,
        lon: 13.4132,
    };
    let transfer = QuoteRequest {
        city_id: "berlin".into(),
        pickup: ber,
        product: ProductRequest::Transfer {
            dropoff: alex,
            stops: vec![],
        },
        pickup_time: PickupTime::Local { at, dst: None },
        passengers: 2,
        bags: 2,
        extras: Extras::default(),
    };
    let hourly = QuoteRequest {
        product: ProductRequest::Hourly { hours: 3 },
        ..transfer.clone()
    };

    let mut group = c.benchmark_group("fare");
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    group.bench_function("great_circle_distance", |b| {
        b.iter(|| great_circle_m(black_box(ber), black_box(alex)))
    });

    // The fare engine proper: pricing already validated inputs (what the 3× target is about).
    let city = catalog.city("berlin").unwrap();
    let pickup = resolve_pickup(city, &transfer.pickup_time, now).unwrap();
    let place = city.pickup_place(ber);
    let route = EstimatedRouter
        .route(city, &[ber, alex], pickup.at)
        .unwrap();
    group.bench_function("price_transfer", |b| {
        b.iter(|| {
            price(
                city,
                black_box(&PriceInputs {
                    product: &transfer.product,
                    extras: &transfer.extras,
                    class: VehicleClass::Business,
                    pickup: &pickup,
                    pickup_place: &place,
                    route,
                }),
            )
        })
    });
    group.bench_function("price_hourly", |b| {
        b.iter(|| {
            price(
                city,
                black_box(&PriceInputs {
                    product: &hourly.product,
                    extras: &hourly.extras,
                    class: VehicleClass::First,
                    pickup: &pickup,
                    pickup_place: &place,
                    route: RouteEstimate {
                        distance_m: 60_000,
                        duration_s: 10_800,
                    },
                }),
            )
        })
    });

    // A whole quote from the request: city lookup, area and airport checks, time zone, route.
    group.bench_function("quote_transfer", |b| {
        b.iter(|| {
            quote(
                &catalog,
                &EstimatedRouter,
                black_box(&transfer),
                VehicleClass::Business,
                now,
            )
        })
    });
    group.bench_function("quote_hourly", |b| {
        b.iter(|| {
            quote(
                &catalog,
                &EstimatedRouter,
                black_box(&hourly),
                VehicleClass::First,
                now,
            )
        })
    });
    group.finish();

    let mut load = c.benchmark_group("catalog");
    load.sample_size(20)
        .measurement_time(Duration::from_secs(5));
    load.bench_function("load_shipped_catalog", |b| b.iter(Catalog::shipped));
    load.finish();
}

criterion_group!(fare, benches);
criterion_main!(fare);
