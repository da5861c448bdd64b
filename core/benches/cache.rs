#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark setup: a panic is the report
#![allow(clippy::disallowed_methods)] // the rider cache on a real file in the temp directory
//! Opening the offline cache and listing 10,000 bookings (DESIGN.md target: under 50 ms).

use std::time::Duration;

use chauffeur_core::cache::{Cache, CachedBooking};
use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};

fn benches(c: &mut Criterion) {
    let path =
        std::env::temp_dir().join(format!("chauffeur-cache-bench-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    {
        let mut cache = Cache::open(&path).unwrap();
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap();
        let bookings: Vec<CachedBooking> = (0..10_000)
            .map(|i| CachedBooking {
                id: format!("01a21d90-0000-7000-8000-{i:012}"),
                city_id: "berlin".into(),
                state: "completed".into(),
                pickup_at: start + chrono::Duration::hours(i),
                version: 7,
                // About the size of the server's booking JSON.
                json: format!("{{\"id\":\"{i}\",\"state\":\"completed\",\"price\":{{\"amount_minor\":9300,\"currency\":\"EUR\"}},\"lines\":[{}]}}", "{\"kind\":\"base\",\"quantity\":1,\"amount_minor\":1500},".repeat(5).trim_end_matches(',')),
                pending_sync: false,
            })
            .collect();
        cache.put_bookings(&bookings).unwrap();
    }
    let mut group = c.benchmark_group("cache");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(6));
    group.bench_function("open_and_list_10k_bookings", |b| {
        b.iter(|| {
            let cache = Cache::open(&path).unwrap();
            let list = cache.bookings().unwrap();
            assert_eq!(list.len(), 10_000);
        })
    });
    group.finish();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

criterion_group!(cache, benches);
criterion_main!(cache);
