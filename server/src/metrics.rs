//! Prometheus text-format metrics: requests by route, method and status; latency histograms by
//! route; bookings created. Kept in-process and rendered on `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct RouteStats {
    /// (method, status) -> count; a handful of entries per route.
    counts: Vec<(&'static str, u16, u64)>,
    latency: Histogram,
}

#[derive(Default)]
struct Inner {
    /// Keyed by the route template, so the set is small and bounded; looked up without
    /// allocating on the hot path.
    routes: BTreeMap<String, RouteStats>,
    bookings_created: u64,
    webhooks_refused: u64,
    /// Geocoder requests by outcome: ok, error, timeout, skipped.
    geocoder_requests: BTreeMap<&'static str, u64>,
    geocoder_cache_hits: u64,
    backups: BackupStats,
    dispatch_rounds: u64,
}

/// The scheduled backups' outcome, for alerting on a stale or failing backup.
#[derive(Default)]
struct BackupStats {
    /// When the last verified backup was taken (Unix seconds).
    last_success: Option<f64>,
    /// Whether the last round succeeded (None: no round yet).
    last_ok: Option<bool>,
    successes: u64,
    failures: u64,
    last_bytes: u64,
    last_seconds: f64,
    pruned: u64,
}

/// Standard methods as static strings; anything else counts as "OTHER".
pub fn method_name(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    pub fn record_request(
        &self,
        route: &str,
        method: &'static str,
        status: u16,
        elapsed: Duration,
    ) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if !inner.routes.contains_key(route) {
            inner.routes.insert(route.to_owned(), RouteStats::default());
        }
        let Some(stats) = inner.routes.get_mut(route) else {
            return;
        };
        match stats
            .counts
            .iter_mut()
            .find(|(m, s, _)| *m == method && *s == status)
        {
            Some(entry) => entry.2 += 1,
            None => stats.counts.push((method, status, 1)),
        }
        let seconds = elapsed.as_secs_f64();
        let h = &mut stats.latency;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    pub fn booking_created(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.bookings_created += 1;
        }
    }

    /// A payment webhook was refused (bad or missing signature).
    pub fn webhook_refused(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.webhooks_refused += 1;
        }
    }

    /// A request to the geocoder ended: `ok`, `error` or `timeout`, or was `skipped`.
    pub fn geocoder_request(&self, outcome: &'static str) {
        if let Ok(mut inner) = self.inner.lock() {
            *inner.geocoder_requests.entry(outcome).or_default() += 1;
        }
    }

    pub fn geocoder_cache_hit(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.geocoder_cache_hits += 1;
        }
    }

    /// A scheduled backup was taken (at `taken_at`) and verified.
    pub fn backup_succeeded(
        &self,
        taken_at: chrono::DateTime<chrono::Utc>,
        bytes: u64,
        elapsed: Duration,
        pruned: usize,
    ) {
        if let Ok(mut inner) = self.inner.lock() {
            let b = &mut inner.backups;
            b.last_success = Some(taken_at.timestamp_millis() as f64 / 1000.0);
            b.last_ok = Some(true);
            b.successes += 1;
            b.last_bytes = bytes;
            b.last_seconds = elapsed.as_secs_f64();
            b.pruned += pruned as u64;
        }
    }

    pub fn backup_failed(&self, elapsed: Duration) {
        if let Ok(mut inner) = self.inner.lock() {
            let b = &mut inner.backups;
            b.last_ok = Some(false);
            b.failures += 1;
            b.last_seconds = elapsed.as_secs_f64();
        }
    }

    /// This replica ran a dispatch round (it held the dispatch turn).
    pub fn dispatch_round(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.dispatch_rounds += 1;
        }
    }

    pub fn render(&self) -> String {
        let Ok(inner) = self.inner.lock() else {
            return String::new();
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP chauffeur_http_requests_total HTTP requests by route, method and status."
        );
        let _ = writeln!(out, "# TYPE chauffeur_http_requests_total counter");
        for (route, stats) in &inner.routes {
            let mut counts = stats.counts.clone();
            counts.sort_unstable();
            for (method, status, n) in counts {
                let _ = writeln!(
                    out,
                    "chauffeur_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP chauffeur_http_request_duration_seconds Request latency by route."
        );
        let _ = writeln!(
            out,
            "# TYPE chauffeur_http_request_duration_seconds histogram"
        );
        for (route, h) in inner.routes.iter().map(|(r, s)| (r, &s.latency)) {
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "chauffeur_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "chauffeur_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "chauffeur_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "chauffeur_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP chauffeur_bookings_created_total Bookings created."
        );
        let _ = writeln!(out, "# TYPE chauffeur_bookings_created_total counter");
        let _ = writeln!(
            out,
            "chauffeur_bookings_created_total {}",
            inner.bookings_created
        );
        let _ = writeln!(
            out,
            "# HELP chauffeur_payment_webhooks_refused_total Payment webhooks refused for their signature."
        );
        let _ = writeln!(
            out,
            "# TYPE chauffeur_payment_webhooks_refused_total counter"
        );
        let _ = writeln!(
            out,
            "chauffeur_payment_webhooks_refused_total {}",
            inner.webhooks_refused
        );
        let _ = writeln!(
            out,
            "# HELP chauffeur_geocoder_requests_total Geocoder requests by outcome (ok, error, timeout; skipped: not asked while resting after a failure)."
        );
        let _ = writeln!(out, "# TYPE chauffeur_geocoder_requests_total counter");
        for outcome in ["ok", "error", "timeout", "skipped"] {
            let n = inner.geocoder_requests.get(outcome).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "chauffeur_geocoder_requests_total{{outcome=\"{outcome}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP chauffeur_geocoder_cache_hits_total Place searches answered from the geocoder cache."
        );
        let _ = writeln!(out, "# TYPE chauffeur_geocoder_cache_hits_total counter");
        let _ = writeln!(
            out,
            "chauffeur_geocoder_cache_hits_total {}",
            inner.geocoder_cache_hits
        );
        let _ = writeln!(
            out,
            "# HELP chauffeur_dispatch_rounds_total Dispatch rounds this replica ran (holding the dispatch turn)."
        );
        let _ = writeln!(out, "# TYPE chauffeur_dispatch_rounds_total counter");
        let _ = writeln!(
            out,
            "chauffeur_dispatch_rounds_total {}",
            inner.dispatch_rounds
        );
        render_backups(&mut out, &inner.backups);
        out
    }
}

fn render_backups(out: &mut String, b: &BackupStats) {
    let gauges: [(&str, &str, Option<f64>); 5] = [
        (
            "chauffeur_backup_last_success_timestamp_seconds",
            "When the last verified scheduled backup was taken (Unix time).",
            b.last_success,
        ),
        (
            "chauffeur_backup_age_seconds",
            "Seconds since the last verified scheduled backup was taken.",
            b.last_success
                .map(|t| (chrono::Utc::now().timestamp_millis() as f64 / 1000.0 - t).max(0.0)),
        ),
        (
            "chauffeur_backup_last_result",
            "1 if the last scheduled backup round (take, verify, prune) succeeded, 0 if it failed.",
            b.last_ok.map(|ok| if ok { 1.0 } else { 0.0 }),
        ),
        (
            "chauffeur_backup_last_size_bytes",
            "Size of the last verified backup's payload.",
            b.last_ok.map(|_| b.last_bytes as f64),
        ),
        (
            "chauffeur_backup_last_duration_seconds",
            "How long the last scheduled backup round took.",
            b.last_ok.map(|_| b.last_seconds),
        ),
    ];
    // A gauge with no value yet (no round since start) is left out rather than made up.
    for (name, help, value) in gauges {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        if let Some(value) = value {
            let _ = writeln!(out, "{name} {value}");
        }
    }
    for (name, help, value) in [
        (
            "chauffeur_backup_success_total",
            "Scheduled backups taken and verified.",
            b.successes,
        ),
        (
            "chauffeur_backup_failures_total",
            "Scheduled backup rounds that failed.",
            b.failures,
        ),
        (
            "chauffeur_backup_pruned_total",
            "Backups deleted by the retention policy.",
            b.pruned,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} counter");
        let _ = writeln!(out, "{name} {value}");
    }
}
