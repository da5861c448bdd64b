#![cfg(feature = "client")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report
#![allow(clippy::disallowed_methods)] // the rider cache on real files, named by the clock
//! The offline cache on real SQLite files: what the app wrote is there after a restart, the
//! outbox keeps intents in order with their keys, and refusals stay visible.

use chauffeur_core::cache::{Cache, CachedBooking, OutboxState};
use chrono::{DateTime, Duration, Utc};

struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new() -> TempFile {
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        TempFile(
            std::env::temp_dir().join(format!("chauffeur-cache-{}-{nanos}.db", std::process::id())),
        )
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

fn booking(id: &str, pickup: DateTime<Utc>, version: i64, state: &str) -> CachedBooking {
    CachedBooking {
        id: id.into(),
        city_id: "berlin".into(),
        state: state.into(),
        pickup_at: pickup,
        version,
        json: format!("{{\"id\":\"{id}\",\"state\":\"{state}\",\"version\":{version}}}"),
        pending_sync: false,
    }
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[test]
fn what_was_cached_is_there_after_the_app_restarts() {
    let file = TempFile::new();
    {
        let mut cache = Cache::open(&file.0).unwrap();
        cache.put_catalog("\"v1\"", "{\"cities\":[]}").unwrap();
        cache.set_meta("email", "ada@example.com").unwrap();
        cache
            .put_bookings(&[
                booking("a", t("2026-12-08T13:00:00Z"), 1, "pending"),
                booking("b", t("2026-12-20T09:00:00Z"), 3, "confirmed"),
            ])
            .unwrap();
        cache
            .put_history("b", &[(1, "{}".into()), (2, "{}".into()), (3, "{}".into())])
            .unwrap();
    }
    let cache = Cache::open(&file.0).unwrap();
    assert_eq!(
        cache.schema_version().unwrap(),
        chauffeur_core::cache::SCHEMA_VERSION,
        "migrations ran once"
    );
    assert_eq!(cache.catalog().unwrap().unwrap().0, "\"v1\"");
    assert_eq!(
        cache.meta("email").unwrap().as_deref(),
        Some("ada@example.com")
    );
    let ids: Vec<String> = cache
        .bookings()
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(ids, ["b", "a"], "latest pickup first");
    assert_eq!(cache.history("b").unwrap().len(), 3);
}

#[test]
fn an_older_version_never_overwrites_a_newer_one() {
    let file = TempFile::new();
    let mut cache = Cache::open(&file.0).unwrap();
    let pickup = t("2026-12-08T13:00:00Z");
    cache
        .put_bookings(&[booking("a", pickup, 3, "chauffeur_assigned")])
        .unwrap();
    cache
        .put_bookings(&[booking("a", pickup, 2, "confirmed")])
        .unwrap();
    assert_eq!(cache.bookings().unwrap()[0].state, "chauffeur_assigned");
}

#[test]
fn offline_intents_wait_in_order_and_a_refusal_stays_visible() {
    let file = TempFile::new();
    let now = t("2026-12-01T10:00:00Z");
    let shown = CachedBooking {
        pending_sync: true,
        ..booking("local-1", now + Duration::days(7), 0, "pending")
    };
    {
        let mut cache = Cache::open(&file.0).unwrap();
        let first = cache
            .enqueue(
                "create_booking",
                "key-1",
                "{\"quote_token\":\"q\"}",
                Some(&shown),
                now,
            )
            .unwrap();
        let second = cache
            .enqueue(
                "cancel_booking",
                "key-2",
                "{\"acknowledged_fee_minor\":0}",
                None,
                now,
            )
            .unwrap();
        assert!(second > first);
        // The same key twice is refused: an intent is recorded once.
        assert!(cache
            .enqueue("create_booking", "key-1", "{}", None, now)
            .is_err());
        assert!(
            cache.bookings().unwrap()[0].pending_sync,
            "shown as pending sync"
        );
    }
    // The app was killed; on restart the intents are still there, in order.
    let mut cache = Cache::open(&file.0).unwrap();
    let pending = cache.pending().unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|e| e.idempotency_key.as_str())
            .collect::<Vec<_>>(),
        ["key-1", "key-2"]
    );
    let confirmed = booking("local-1", now + Duration::days(7), 1, "pending");
    cache.mark_sent(pending[0].seq, Some(&confirmed)).unwrap();
    cache
        .mark_refused(
            pending[1].seq,
            Some(409),
            "cancellation_fee_changed",
            "the fee is now EUR 93.00",
        )
        .unwrap();
    assert!(cache.pending().unwrap().is_empty());
    let all = cache.outbox().unwrap();
    assert_eq!(all[0].state, OutboxState::Sent);
    assert_eq!(
        all[1].state,
        OutboxState::Refused {
            status: Some(409),
            code: "cancellation_fee_changed".into(),
            detail: "the fee is now EUR 93.00".into()
        }
    );
    assert!(
        !cache.bookings().unwrap()[0].pending_sync,
        "the server's version replaced the local one"
    );
    assert_eq!(
        cache.mark_sent(999, None).unwrap_err().code(),
        "cache_unknown_entry"
    );
}

#[test]
fn a_cache_from_a_newer_app_is_refused_not_damaged() {
    let file = TempFile::new();
    {
        let _ = Cache::open(&file.0).unwrap();
        let conn = rusqlite::Connection::open(&file.0).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = Cache::open(&file.0).err().unwrap();
    assert_eq!(err.code(), "cache_newer_schema");
}

#[test]
fn a_cache_from_the_previous_app_version_is_migrated_in_place_keeping_its_outbox() {
    let file = TempFile::new();
    let now = t("2026-12-01T10:00:00Z");
    {
        let mut cache = Cache::open(&file.0).unwrap();
        cache
            .enqueue("create_booking", "key-1", "{}", None, now)
            .unwrap();
        // Make it the file the previous app version (schema 1) left behind.
        let conn = rusqlite::Connection::open(&file.0).unwrap();
        conn.execute_batch("ALTER TABLE outbox DROP COLUMN error_status; PRAGMA user_version = 1;")
            .unwrap();
    }
    let mut cache = Cache::open(&file.0).unwrap();
    assert_eq!(cache.schema_version().unwrap(), 2);
    assert_eq!(chauffeur_core::cache::SCHEMA_VERSION, 2);
    let pending = cache.pending().unwrap();
    assert_eq!(
        pending[0].idempotency_key, "key-1",
        "nothing lost on upgrade"
    );
    cache
        .mark_refused(pending[0].seq, Some(410), "quote_expired", "")
        .unwrap();
    assert_eq!(
        cache.outbox().unwrap()[0].state,
        OutboxState::Refused {
            status: Some(410),
            code: "quote_expired".into(),
            detail: String::new()
        }
    );
}
