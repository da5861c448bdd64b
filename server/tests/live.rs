//! The live ride end to end over HTTP and server-sent events: a rider books, the partner hears
//! the offer on its stream and accepts, assigns a chauffeur, the chauffeur drives (with
//! positions) and completes; the rider's stream shows every step in order, resumes after a
//! reconnect with Last-Event-ID, and the receipt is the quote plus the measured waiting.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use common::*;
use serde_json::{json, Value};

#[test]
fn a_ride_from_booking_to_receipt_as_the_rider_and_partner_streams_see_it() {
    for backend in backends() {
        let (url, _db) = TestServer::fresh_database(backend);
        let server = TestServer::start_with(
            backend,
            TempDir::new("srv"),
            url.clone(),
            &["--dispatch-interval-ms", "200", "--test-clock"],
        );
        // Statuses follow the server's clock: the test moves it to the ride's time.
        let advance = |seconds: i64| {
            let r = server
                .post("/v1/test/clock")
                .json(&json!({"seconds": seconds}))
                .send()
                .unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().unwrap());
        };
        let (partner_id, dispatcher_email) = berlin_partner(&url, "Berlin Limousines");
        let vehicle = partner_cli(
            &url,
            &[
                "add-vehicle",
                "--partner",
                &partner_id,
                "--class",
                "business",
                "--plate",
                "B-LIVE 1",
                "--seats",
                "3",
                "--bags",
                "2",
            ],
        );
        let chauffeur_id = partner_cli(
            &url,
            &[
                "add-member",
                "--partner",
                &partner_id,
                "--email",
                "carl@example.com",
                "--password",
                "chauffeur password",
                "--name",
                "Carl",
                "--role",
                "chauffeur",
            ],
        );
        let dispatcher = server.log_in(&dispatcher_email, "dispatcher password");
        let chauffeur = server.log_in("carl@example.com", "chauffeur password");
        let mut partner_stream =
            Stream::new(subscribe(&server, "/v1/partner/events", &dispatcher, None));

        let (_, rider) = server.rider();
        let booking = server.book_berlin(&rider);
        let mut rider_stream = Stream::new(subscribe(
            &server,
            &format!("/v1/bookings/{booking}/events"),
            &rider,
            None,
        ));
        let quoted = server
            .get(&format!("/v1/bookings/{booking}"))
            .bearer_auth(&rider)
            .send()
            .unwrap()
            .json::<Value>()
            .unwrap()["price"]["amount_minor"]
            .as_i64()
            .unwrap();

        // The partner hears the offer on its stream and accepts it.
        let offer = partner_stream.wait("offer", any);
        assert_eq!(offer.data["booking_id"], booking.as_str());
        assert!(offer.id.is_some());
        let offer_id = offer.data["offer_id"].as_str().unwrap();
        assert_eq!(
            server
                .post(&format!("/v1/partner/offers/{offer_id}/accept"))
                .bearer_auth(&dispatcher)
                .send()
                .unwrap()
                .status(),
            200
        );
        let r = server
            .post(&format!("/v1/partner/rides/{booking}/assign"))
            .bearer_auth(&dispatcher)
            .json(&json!({"chauffeur_id": chauffeur_id, "vehicle_id": vehicle}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);

        // The chauffeur sets off and sends positions; the rider sees them with an ETA.
        let report = |body: Value| {
            server
                .post(&format!("/v1/chauffeur/rides/{booking}/status"))
                .bearer_auth(&chauffeur)
                .json(&body)
                .send()
                .unwrap()
        };
        advance(7 * 24 * 3600 - 20 * 60); // 20 minutes before the pickup time
        assert_eq!(report(json!({"status": "en_route"})).status(), 200);
        let r = server
            .post("/v1/chauffeur/location")
            .bearer_auth(&chauffeur)
            .json(&json!({"lat": 52.50, "lon": 13.30}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 202);
        let r = server
            .post("/v1/chauffeur/location")
            .bearer_auth(&chauffeur)
            .json(&json!({"lat": 52.501, "lon": 13.301}))
            .send()
            .unwrap();
        assert_problem(r, 429, "too_many_updates");
        let position = rider_stream.wait("position", any);
        assert_eq!(position.data["lat"], 52.50);
        assert!(position.data["eta_s"].as_u64().unwrap() > 0);
        assert!(position.id.is_none(), "positions are not replayed");

        // Arrived 20 minutes early; the passenger boards 25 minutes after the pickup time.
        assert_eq!(report(json!({"status": "arrived"})).status(), 200);
        advance(45 * 60);
        assert_eq!(report(json!({"status": "on_board"})).status(), 200);
        let done = report(json!({"status": "completed"}));
        assert_eq!(done.status(), 200);
        let final_price = done.json::<Value>().unwrap()["final_price"]["amount_minor"]
            .as_i64()
            .unwrap();
        // 25 minutes waited, 15 free, EUR 1.10 a minute after: EUR 11.00 on top of the quote.
        assert_eq!(final_price, quoted + 1_100);

        // The rider's stream saw every step, in order.
        rider_stream.wait("status", state_is("completed"));
        assert_eq!(
            rider_stream.states(),
            [
                "pending",
                "confirmed",
                "chauffeur_assigned",
                "en_route",
                "arrived",
                "on_board",
                "completed"
            ]
        );
        let confirmed_id = rider_stream
            .seen
            .iter()
            .find(|e| e.data["state"] == "confirmed")
            .and_then(|e| e.id.clone());

        // Reconnecting after "confirmed" replays exactly what came after it.
        let mut resumed = Stream::new(subscribe(
            &server,
            &format!("/v1/bookings/{booking}/events"),
            &rider,
            confirmed_id.as_deref(),
        ));
        resumed.wait("status", state_is("completed"));
        assert_eq!(
            resumed.states(),
            [
                "chauffeur_assigned",
                "en_route",
                "arrived",
                "on_board",
                "completed"
            ]
        );

        // The partner's stream followed its ride too.
        partner_stream.wait("status", state_is("completed"));
        assert_eq!(
            partner_stream.states(),
            [
                "confirmed",
                "chauffeur_assigned",
                "en_route",
                "arrived",
                "on_board",
                "completed"
            ]
        );
        // Every payload each stream carried is the wire contract's, as the rider client
        // decodes it.
        for stream in [&rider_stream, &resumed, &partner_stream] {
            assert_wire_payloads(stream);
        }
    }
}

fn assert_wire_payloads(stream: &Stream) {
    use chauffeur_core::wire::{
        EventKind, OfferClosedEvent, OfferEvent, OnDemandOfferEvent, PositionEvent, StatusEvent,
    };
    fn decode<T: serde::de::DeserializeOwned>(data: &Value) -> Result<(), serde_json::Error> {
        serde_json::from_value::<T>(data.clone()).map(drop)
    }
    assert!(!stream.seen.is_empty());
    for event in &stream.seen {
        let decoded = match EventKind::parse(&event.kind) {
            EventKind::Status => decode::<StatusEvent>(&event.data),
            EventKind::Position => decode::<PositionEvent>(&event.data),
            EventKind::Offer => decode::<OfferEvent>(&event.data),
            EventKind::OfferExpired | EventKind::OfferWithdrawn => {
                decode::<OfferClosedEvent>(&event.data)
            }
            EventKind::OnDemandOffer => decode::<OnDemandOfferEvent>(&event.data),
            EventKind::Other(name) => panic!("an event the wire contract does not name: {name}"),
        };
        if let Err(e) = decoded {
            panic!(
                "{} event {} is not the wire type: {e}",
                event.kind, event.data
            );
        }
    }
}

#[test]
fn another_riders_stream_is_404() {
    let server = TestServer::start(Backend::Sqlite);
    let (_, alice) = server.rider();
    let (_, bob) = server.rider();
    let booking = server.book_berlin(&alice);
    let r = server
        .get(&format!("/v1/bookings/{booking}/events"))
        .bearer_auth(&bob)
        .send()
        .unwrap();
    assert_problem(r, 404, "not_found");
    assert_problem(
        server
            .get("/v1/partner/events")
            .bearer_auth(&alice)
            .send()
            .unwrap(),
        403,
        "not_a_partner",
    );
}
