//! The SDK's API client against the real server: the rider journey, typed errors with the
//! server's codes, safe retries, and the one-fare-engine promise — the phone's offline estimate
//! equals the server's binding quote for the same inputs and catalog version.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use chauffeur_core::client::{ApiClient, ClientError};
use chauffeur_core::wire::CreateBookingRequest;
use chauffeur_core::*;
use chauffeur_e2e::*;

/// A booking request with just the quote's token.
fn book(quote_token: &str) -> CreateBookingRequest {
    CreateBookingRequest {
        quote_token: quote_token.to_owned(),
        passenger: None,
        flight_number: None,
        notes: None,
        child_seats: None,
        payment_method_id: None,
    }
}

fn transfer(
    pickup: (f64, f64),
    dropoff: (f64, f64),
    at: chrono::DateTime<chrono::Utc>,
) -> QuoteRequest {
    QuoteRequest {
        city_id: "berlin".into(),
        pickup: LatLon {
            lat: pickup.0,
            lon: pickup.1,
        },
        product: ProductRequest::Transfer {
            dropoff: LatLon {
                lat: dropoff.0,
                lon: dropoff.1,
            },
            stops: vec![],
        },
        pickup_time: PickupTime::Instant { at },
        passengers: 2,
        bags: 1,
        extras: Extras::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rider_quotes_signs_up_books_lists_and_cancels_through_the_client() {
    for backend in backends() {
        let server = tokio::task::spawn_blocking(move || TestServer::start(backend))
            .await
            .unwrap();
        let api = ApiClient::new(&server.base).unwrap();
        let week = chrono::Utc::now() + chrono::Duration::days(7);
        let quotes = api
            .quotes(&transfer((52.5163, 13.3777), (52.5219, 13.4132), week))
            .await
            .unwrap();
        let token_of_business = quotes.quotes[0].quote_token.clone();

        let email = format!("sdk-{}@example.com", uuid::Uuid::now_v7().simple());
        api.sign_up(&email, "correct horse battery", Some("Sam"))
            .await
            .unwrap();
        let rider = api.with_token(
            &api.log_in(&email, "correct horse battery")
                .await
                .unwrap()
                .token,
        );
        let body = book(&token_of_business);
        let booking = rider.create_booking("sdk-key-1", &body).await.unwrap();
        // The app retried after losing the answer: the same key books nothing new.
        let again = rider.create_booking("sdk-key-1", &body).await.unwrap();
        assert_eq!(again.id, booking.id);
        let list = rider.bookings().await.unwrap();
        assert_eq!(list.bookings.len(), 1);
        let id = &booking.id.to_string();
        let fee = rider.cancellation(id).await.unwrap().fee.amount_minor;
        // A wrong fee is the typed error with the server's code.
        let err = rider.cancel(id, fee + 1).await.unwrap_err();
        assert_eq!(err.code(), "cancellation_fee_changed");
        assert!(matches!(err, ClientError::Api { status: 409, .. }));
        let cancelled = rider.cancel(id, fee).await.unwrap();
        assert_eq!(cancelled.state, BookingState::Cancelled);

        // The account itself: who, everything held about them, and erasure.
        assert_eq!(rider.me().await.unwrap().email, email.as_str());
        let export: serde_json::Value =
            serde_json::from_str(&rider.export_me().await.unwrap()).unwrap();
        assert_eq!(export["bookings"].as_array().map(Vec::len), Some(1));
        rider.erase_account().await.unwrap();
        assert_eq!(rider.me().await.unwrap_err().code(), "unauthenticated");
        let err = api
            .log_in(&email, "correct horse battery")
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_credentials");

        // Bad input answers with the core's code; no token answers unauthenticated.
        let err = api
            .quotes(&transfer((52.5163, 13.3777), (48.1374, 11.5755), week))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "outside_service_area");
        assert_eq!(api.bookings().await.unwrap_err().code(), "unauthenticated");
        drop(tokio::task::spawn_blocking(move || drop(server)).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn places_by_text_and_by_point_through_the_client() {
    let server = tokio::task::spawn_blocking(|| TestServer::start(Backend::Sqlite))
        .await
        .unwrap();
    let api = ApiClient::new(&server.base).unwrap();

    // The German name of Munich's airport, typed without its umlaut.
    let found = api.places("munich", "flughafen munchen").await.unwrap();
    let airport = &found.places[0];
    assert_eq!(airport.kind, places::PlaceKind::Airport);
    assert_eq!(airport.airport_code.as_deref(), Some("MUC"));
    assert_eq!(airport.city_id, "munich");
    assert_eq!(found.city_id.as_deref(), Some("munich"));

    // A point at Munich's main station: served by Munich, the station nearest.
    let near = api.places_near(48.1402, 11.5583).await.unwrap();
    assert_eq!(near.city_id.as_deref(), Some("munich"));
    assert_eq!(near.places[0].name, "München Hbf");
    assert_eq!(near.places[0].kind, places::PlaceKind::Station);

    // The server's refusals arrive with its codes.
    assert_eq!(
        api.places("atlantis", "x").await.unwrap_err().code(),
        "not_found"
    );
    assert_eq!(
        api.places_near(91.0, 0.0).await.unwrap_err().code(),
        "invalid_request"
    );
    drop(tokio::task::spawn_blocking(move || drop(server)).await);
}

/// A rider with more bookings than one page: the API pages them (limit, opaque cursor, no
/// booking twice or lost), and the client's list follows the pages to the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_booking_list_comes_in_pages_and_the_client_follows_them() {
    let backend = backends()[0];
    let server = tokio::task::spawn_blocking(move || TestServer::start(backend))
        .await
        .unwrap();
    let api = ApiClient::new(&server.base).unwrap();
    let week = chrono::Utc::now() + chrono::Duration::days(7);
    let token = api
        .quotes(&transfer((52.5163, 13.3777), (52.5219, 13.4132), week))
        .await
        .unwrap()
        .quotes[0]
        .quote_token
        .clone();
    let email = format!("pages-{}@example.com", uuid::Uuid::now_v7().simple());
    api.sign_up(&email, "correct horse battery", None)
        .await
        .unwrap();
    let rider = api.with_token(
        &api.log_in(&email, "correct horse battery")
            .await
            .unwrap()
            .token,
    );
    let count = client::PAGE_SIZE as usize + 5;
    let mut made = Vec::new();
    for i in 0..count {
        made.push(
            rider
                .create_booking(&format!("page-{i}"), &book(&token))
                .await
                .unwrap()
                .id,
        );
    }

    let first = rider.bookings_page(None, 200).await.unwrap();
    assert_eq!(first.bookings.len(), 200);
    let cursor = first.next_cursor.clone().expect("a next page");
    let second = rider.bookings_page(Some(&cursor), 200).await.unwrap();
    assert_eq!(second.bookings.len(), 5);
    assert_eq!(second.next_cursor, None, "the last page says so");

    let all = rider.bookings().await.unwrap();
    let mut listed: Vec<_> = all.bookings.iter().map(|b| b.id).collect();
    listed.sort();
    made.sort();
    assert_eq!(listed, made, "every booking once, none twice");

    // The export streams page after page: every booking once, each with its history.
    let export: serde_json::Value =
        serde_json::from_str(&rider.export_me().await.unwrap()).unwrap();
    assert_eq!(export["user"]["email"], email.as_str());
    let exported = export["bookings"].as_array().unwrap();
    let mut ids: Vec<String> = exported
        .iter()
        .map(|b| b["booking"]["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count);
    assert!(exported
        .iter()
        .all(|b| b["history"].as_array().map(Vec::len) == Some(1)));

    // Out-of-range limits and foreign cursors are the client's mistakes, on their field.
    assert_eq!(
        rider.bookings_page(None, 0).await.unwrap_err().code(),
        "invalid_limit"
    );
    assert_eq!(
        rider.bookings_page(None, 201).await.unwrap_err().code(),
        "invalid_limit"
    );
    assert_eq!(
        rider
            .bookings_page(Some("bm90IG91cnM"), 10)
            .await
            .unwrap_err()
            .code(),
        "invalid_cursor"
    );
    drop(tokio::task::spawn_blocking(move || drop(server)).await);
}

#[tokio::test]
async fn an_unreachable_server_is_a_network_error_after_the_retries() {
    // Nothing listens on port 9 of this machine's loopback.
    let api = ApiClient::new("http://127.0.0.1:9").unwrap();
    let err = api.cities().await.unwrap_err();
    assert_eq!(err.code(), "network");
}

/// A small deterministic generator of trips inside Berlin.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_estimate_equals_the_servers_quote_for_many_random_trips() {
    let server = tokio::task::spawn_blocking(|| TestServer::start(Backend::Sqlite))
        .await
        .unwrap();
    let api = ApiClient::new(&server.base).unwrap();
    // The phone's catalog is the one the server serves (kept by ETag), not the file.
    let (etag, served_catalog) = api.catalog_if_changed(None).await.unwrap().unwrap();
    assert_eq!(api.catalog_if_changed(Some(&etag)).await.unwrap(), None);
    let catalog = Catalog::from_served_json(served_catalog.as_bytes()).unwrap();
    assert_eq!(catalog.version(), Catalog::shipped().unwrap().version());
    let mut rng = Lcg(7);
    let base = chrono::Utc::now() + chrono::Duration::days(3);
    for _ in 0..60 {
        let pickup = (52.40 + 0.22 * rng.next(), 13.20 + 0.40 * rng.next());
        let dropoff = (52.40 + 0.22 * rng.next(), 13.20 + 0.40 * rng.next());
        // Any time of day, so night surcharges and peak hours are both exercised.
        let at = base + chrono::Duration::minutes((rng.next() * 2_880.0) as i64);
        let request = transfer(pickup, dropoff, at);
        let served = api.quotes(&request).await.unwrap();
        assert_eq!(served.catalog_version, catalog.version());
        let offline = quote_all(&catalog, &EstimatedRouter, &request, chrono::Utc::now()).unwrap();
        let served_totals: Vec<(String, i64)> = served
            .quotes
            .iter()
            .map(|q| (q.class.to_string(), q.total.amount_minor))
            .collect();
        let offline_totals: Vec<(String, i64)> = offline
            .iter()
            .map(|q| (q.class.to_string(), q.total().amount_minor))
            .collect();
        assert_eq!(offline_totals, served_totals, "{request:?}");
    }
    drop(tokio::task::spawn_blocking(move || drop(server)).await);
}

mod outbox {
    use super::*;
    use chauffeur_core::cache::{Cache, CachedBooking, OutboxState};
    use chauffeur_core::sync::{cached_from_server, sync_outbox};

    fn shown(pickup: chrono::DateTime<chrono::Utc>) -> CachedBooking {
        CachedBooking {
            id: format!("local-{}", uuid::Uuid::now_v7()),
            city_id: "berlin".into(),
            state: "pending".into(),
            pickup_at: pickup,
            version: 0,
            json: "{}".into(),
            pending_sync: true,
        }
    }

    /// Server database and cache file survive "restarts" of either side.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_offline_booking_is_applied_once_across_restarts_and_a_refusal_stays_visible() {
        let db_dir = TempDir::new("outbox-db");
        let url = format!("sqlite://{}", db_dir.0.join("chauffeur.db").display());
        let cache_dir = TempDir::new("outbox-cache");
        let cache_path = cache_dir.0.join("rider.db");
        let week = chrono::Utc::now() + chrono::Duration::days(7);

        // Online first: an account and a quote to book later.
        let (u1, dir1) = (url.clone(), TempDir::new("srv1"));
        let server =
            tokio::task::spawn_blocking(move || TestServer::start_on(Backend::Sqlite, dir1, u1))
                .await
                .unwrap();
        let api = ApiClient::new(&server.base).unwrap();
        api.sign_up("offline@example.com", "correct horse battery", None)
            .await
            .unwrap();
        let token = api
            .log_in("offline@example.com", "correct horse battery")
            .await
            .unwrap()
            .token;
        let quotes = api
            .quotes(&transfer((52.5163, 13.3777), (52.5219, 13.4132), week))
            .await
            .unwrap();
        let quote_token = quotes.quotes[0].quote_token.clone();
        drop(tokio::task::spawn_blocking(move || drop(server)).await); // the network goes away

        // Offline: the rider books; the intent and the pending booking are stored together.
        {
            let mut cache = Cache::open(&cache_path).unwrap();
            let body = serde_json::to_string(&book(&quote_token)).unwrap();
            cache
                .enqueue(
                    "create_booking",
                    "offline-key-1",
                    &body,
                    Some(&shown(week)),
                    chrono::Utc::now(),
                )
                .unwrap();
            let refused_body = serde_json::to_string(&book("not-a-token")).unwrap();
            cache
                .enqueue(
                    "create_booking",
                    "offline-key-2",
                    &refused_body,
                    None,
                    chrono::Utc::now(),
                )
                .unwrap();
            // Still offline: a sync round sends nothing and loses nothing.
            let nowhere = ApiClient::new("http://127.0.0.1:9")
                .unwrap()
                .with_token(&token);
            let report = sync_outbox(&mut cache, &nowhere).await.unwrap();
            assert_eq!((report.sent, report.waiting), (0, 2));
        }

        // The server is back (restarted on the same database); the app restarts too.
        let (u2, dir2) = (url.clone(), TempDir::new("srv2"));
        let server =
            tokio::task::spawn_blocking(move || TestServer::start_on(Backend::Sqlite, dir2, u2))
                .await
                .unwrap();
        let rider = ApiClient::new(&server.base).unwrap().with_token(&token);

        // The app died after the server committed but before it heard the answer: simulate by
        // sending the first entry ourselves without marking it sent.
        {
            let cache = Cache::open(&cache_path).unwrap();
            let first = cache.pending().unwrap().remove(0);
            let body: CreateBookingRequest = serde_json::from_str(&first.body).unwrap();
            rider
                .create_booking(&first.idempotency_key, &body)
                .await
                .unwrap();
        }
        let mut cache = Cache::open(&cache_path).unwrap();
        let report = sync_outbox(&mut cache, &rider).await.unwrap();
        assert_eq!((report.sent, report.refused, report.waiting), (1, 1, 0));
        assert_eq!(
            rider.bookings().await.unwrap().bookings.len(),
            1,
            "exactly one booking"
        );

        let outbox = cache.outbox().unwrap();
        assert_eq!(outbox[0].state, OutboxState::Sent);
        match &outbox[1].state {
            OutboxState::Refused { code, .. } => assert_eq!(code, "quote_invalid"),
            other => panic!("{other:?}"),
        }
        // The server's booking is what the app now shows, no longer pending sync.
        let listed = rider.bookings().await.unwrap();
        let server_booking = cached_from_server(&listed.bookings[0]).unwrap();
        assert!(cache
            .bookings()
            .unwrap()
            .iter()
            .any(|b| b.id == server_booking.id && !b.pending_sync));
        // A second round has nothing to do.
        assert_eq!(sync_outbox(&mut cache, &rider).await.unwrap().sent, 0);
        drop(tokio::task::spawn_blocking(move || drop(server)).await);
    }
}

mod ride_events {
    use super::*;
    use chauffeur_core::ride_events::{subscribe_ride, RideEvent, RideListener};
    use std::sync::mpsc::{channel, Receiver, Sender};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    struct Collect(Mutex<Sender<RideEvent>>);

    impl RideListener for Collect {
        fn on_event(&self, event: RideEvent) {
            if let Ok(tx) = self.0.lock() {
                let _ = tx.send(event);
            }
        }
    }

    fn listener() -> (Arc<Collect>, Receiver<RideEvent>) {
        let (tx, rx) = channel();
        (Arc::new(Collect(Mutex::new(tx))), rx)
    }

    fn next_status(rx: &Receiver<RideEvent>) -> (String, Option<String>) {
        loop {
            let e = rx
                .recv_timeout(Duration::from_secs(10))
                .expect("an event within 10 s");
            if e.kind == wire::EventKind::Status {
                let data: serde_json::Value = serde_json::from_str(&e.data).unwrap();
                return (data["state"].as_str().unwrap().to_owned(), e.id);
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_subscription_delivers_resumes_and_stops_when_cancelled() {
        let server = tokio::task::spawn_blocking(|| TestServer::start(Backend::Sqlite))
            .await
            .unwrap();
        let api = ApiClient::new(&server.base).unwrap();
        api.sign_up("live@example.com", "correct horse battery", None)
            .await
            .unwrap();
        let rider = api.with_token(
            &api.log_in("live@example.com", "correct horse battery")
                .await
                .unwrap()
                .token,
        );
        let week = chrono::Utc::now() + chrono::Duration::days(7);
        let make_booking = || async {
            let quotes = api
                .quotes(&transfer((52.5163, 13.3777), (52.5219, 13.4132), week))
                .await
                .unwrap();
            let body = book(&quotes.quotes[0].quote_token);
            rider
                .create_booking(&uuid::Uuid::now_v7().to_string(), &body)
                .await
                .unwrap()
        };
        let booking = make_booking().await;
        let id = booking.id.to_string();

        let (collect, rx) = listener();
        let handle = subscribe_ride(&rider, &id, None, collect);
        let (state, first_id) = next_status(&rx);
        assert_eq!(state, "pending");
        assert_eq!(handle.last_event_id(), first_id);

        // Cancelled: a later change reaches nobody.
        handle.cancel();
        tokio::time::sleep(Duration::from_millis(300)).await;
        rider.cancel(&id, 0).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        assert!(
            rx.try_iter().all(|e| e.kind != wire::EventKind::Status),
            "no events after cancel"
        );

        // A new subscription resuming after the first event gets exactly what it missed.
        let (collect, rx) = listener();
        let resumed = subscribe_ride(&rider, &id, first_id, collect);
        assert_eq!(next_status(&rx).0, "cancelled");
        drop(resumed); // dropping the handle stops it too

        // A stream that cannot be opened (another rider's booking) falls back to polling, which
        // is refused as well: nothing is delivered, and the subscription keeps retrying quietly.
        let other = api.with_token("not-a-token");
        let (collect, rx) = listener();
        let _handle = subscribe_ride(&other, &id, None, collect);
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(rx.try_iter().next().is_none());
        drop(tokio::task::spawn_blocking(move || drop(server)).await);
    }
}
