#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark setup: a panic is the report
//! The nearest available chauffeur among 100,000 online ones (around Berlin), with the R*-tree
//! and by looking at everyone, in the same run (BENCHMARKS.md records both).

use std::collections::BTreeSet;
use std::hint::black_box;
use std::time::Duration;

use chauffeur_core::{LatLon, VehicleClass};
use chauffeur_server::nearest::{nearest_linear, NearestIndex, OnlineChauffeur};
use criterion::{criterion_group, criterion_main, Criterion};
use uuid::Uuid;

/// A small deterministic generator, so every run measures the same city.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn benches(c: &mut Criterion) {
    let mut rng = Lcg(42);
    let chauffeurs: Vec<OnlineChauffeur> = (0..100_000u128)
        .map(|i| OnlineChauffeur {
            id: Uuid::from_u128(i),
            position: LatLon {
                lat: 52.3 + 0.4 * rng.next(),
                lon: 13.1 + 0.6 * rng.next(),
            },
            classes: [1, 1, 1, 2, 4][(i % 5) as usize],
        })
        .collect();
    let queries: Vec<LatLon> = (0..1_000)
        .map(|_| LatLon {
            lat: 52.3 + 0.4 * rng.next(),
            lon: 13.1 + 0.6 * rng.next(),
        })
        .collect();
    let index = NearestIndex::build(chauffeurs.clone());
    let none = BTreeSet::new();
    let mut group = c.benchmark_group("nearest_chauffeur_100k");
    group
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    let mut i = 0;
    group.bench_function("rtree", |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            index.nearest(black_box(queries[i]), VehicleClass::First, 5_000, &none)
        })
    });
    group.sample_size(20);
    group.bench_function("linear_scan", |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            nearest_linear(
                &chauffeurs,
                black_box(queries[i]),
                VehicleClass::First,
                5_000,
                &none,
            )
        })
    });
    group.finish();
    let mut build = c.benchmark_group("nearest_index_build");
    build.sample_size(10);
    build.bench_function("bulk_load_100k", |b| {
        b.iter(|| NearestIndex::build(black_box(chauffeurs.clone())))
    });
    build.finish();
}

criterion_group!(nearest, benches);
criterion_main!(nearest);
