//! The ride after booking, with the server's clock under the test's control (`--test-clock`):
//! offers expire into the next batch, no acceptor means unfulfilled, give-backs and no-shows
//! respect their time limits, chauffeurs cannot be double-booked, statuses cannot be reported too
//! early, and a completed ride's receipt is the quote plus the waiting the server measured and
//! the declared costs. SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use common::ride::*;
use common::*;
use serde_json::{json, Value};

#[test]
fn an_expired_batch_moves_the_offer_to_the_next_partners_and_nobody_means_unfulfilled() {
    for backend in backends() {
        let (server, url, _db) = start(backend);
        let partners: Vec<Partner> = (0..4)
            .map(|i| partner(&server, &url, &format!("P{i}")))
            .collect();
        let (_, rider) = server.rider();
        let booking = server.book_berlin(&rider);
        let offered = |ps: &[Partner]| {
            ps.iter()
                .filter(|p| open_offer(&server, &p.dispatcher, &booking).is_some())
                .count()
        };
        assert_eq!(offered(&partners), 3, "a first batch of three");
        // A week ahead, offers last 30 minutes. 31 minutes later the fourth partner is asked.
        advance(&server, 31 * 60);
        assert_eq!(
            offered(&partners),
            1,
            "the next batch: the one partner not yet asked"
        );
        // Nobody accepts: 30 minutes before pickup the booking is unfulfilled, and the rider sees it.
        advance(&server, 7 * 24 * 3600);
        assert_eq!(state_of(&server, &rider, &booking)["state"], "unfulfilled");
        assert_eq!(offered(&partners), 0);
    }
}

#[test]
fn a_ride_given_back_is_offered_to_others_first_but_not_inside_two_hours() {
    for backend in backends() {
        let (server, url, _db) = start(backend);
        let a = partner(&server, &url, "A");
        let b = partner(&server, &url, "B");
        let (_, rider) = server.rider();
        let booking = server.book_berlin(&rider);
        accept(&server, &a, &booking);
        let r = server
            .post(&format!("/v1/partner/rides/{booking}/give-back"))
            .bearer_auth(&a.dispatcher)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(state_of(&server, &rider, &booking)["state"], "pending");
        assert!(
            open_offer(&server, &b.dispatcher, &booking).is_some(),
            "B is asked"
        );
        assert!(
            open_offer(&server, &a.dispatcher, &booking).is_none(),
            "A is not asked first"
        );
        accept(&server, &b, &booking);
        // Two hours before pickup, giving back is too late.
        advance(&server, 7 * 24 * 3600 - 2 * 3600 + 60);
        let r = server
            .post(&format!("/v1/partner/rides/{booking}/give-back"))
            .bearer_auth(&b.dispatcher)
            .send()
            .unwrap();
        assert_problem(r, 409, "give_back_too_late");
        assert_eq!(state_of(&server, &rider, &booking)["state"], "confirmed");
    }
}

#[test]
fn a_chauffeur_cannot_hold_two_overlapping_rides_nor_report_on_others() {
    for backend in backends() {
        let (server, url, _db) = start(backend);
        let a = partner(&server, &url, "A");
        let other = partner(&server, &url, "Other");
        let (_, rider) = server.rider();
        let first = server.book_berlin(&rider);
        let second = server.book_berlin(&rider); // the same pickup time
        for booking in [&first, &second] {
            let offer = open_offer(&server, &a.dispatcher, booking).unwrap();
            server
                .post(&format!("/v1/partner/offers/{offer}/accept"))
                .bearer_auth(&a.dispatcher)
                .send()
                .unwrap();
        }
        assert_eq!(assign(&server, &a, &first).status(), 200);
        assert_problem(assign(&server, &a, &second), 409, "chauffeur_busy");
        // Another partner's chauffeur cannot be assigned, nor report on this ride.
        let r = server
            .post(&format!("/v1/partner/rides/{second}/assign"))
            .bearer_auth(&a.dispatcher)
            .json(&json!({"chauffeur_id": other.chauffeur_id, "vehicle_id": a.vehicle_id}))
            .send()
            .unwrap();
        assert_problem(r, 422, "unknown_chauffeur");
        assert_problem(
            status(
                &server,
                &other.chauffeur,
                &first,
                json!({"status": "en_route"}),
            ),
            404,
            "not_found",
        );
        // Riders and dispatchers are not chauffeurs.
        assert_problem(
            status(&server, &rider, &first, json!({"status": "en_route"})),
            403,
            "not_a_chauffeur",
        );
        assert_problem(
            status(
                &server,
                &a.dispatcher,
                &first,
                json!({"status": "en_route"}),
            ),
            403,
            "not_a_chauffeur",
        );
        // Another partner cannot touch the ride.
        let r = server
            .post(&format!("/v1/partner/rides/{first}/give-back"))
            .bearer_auth(&other.dispatcher)
            .send()
            .unwrap();
        assert_problem(r, 404, "not_found");
    }
}

#[test]
fn the_whole_ride_ends_with_a_receipt_of_quote_plus_extras() {
    for backend in backends() {
        let (server, url, _db) = start(backend);
        let p = partner(&server, &url, "Berlin Limousines");
        let (_, rider) = server.rider();
        let booking = server.book_berlin(&rider);
        let quoted = state_of(&server, &rider, &booking)["price"]["amount_minor"]
            .as_i64()
            .unwrap();
        accept(&server, &p, &booking);
        assert_eq!(assign(&server, &p, &booking).status(), 200);
        assert_eq!(
            state_of(&server, &rider, &booking)["state"],
            "chauffeur_assigned"
        );

        // Out of order: arriving before setting off is refused and changes nothing.
        assert_problem(
            status(
                &server,
                &p.chauffeur,
                &booking,
                json!({"status": "on_board"}),
            ),
            409,
            "illegal_transition",
        );
        assert_problem(
            status(
                &server,
                &p.chauffeur,
                &booking,
                json!({"status": "teleported"}),
            ),
            422,
            "unknown_status",
        );

        advance(&server, 7 * 24 * 3600 - 20 * 60); // 20 minutes before pickup
        assert_eq!(
            status(
                &server,
                &p.chauffeur,
                &booking,
                json!({"status": "en_route"})
            )
            .status(),
            200
        );
        advance(&server, 15 * 60);
        assert_eq!(
            status(
                &server,
                &p.chauffeur,
                &booking,
                json!({"status": "arrived"})
            )
            .status(),
            200
        );
        // No-show only after 15 free minutes from the pickup time (not an airport pickup).
        advance(&server, 10 * 60); // 5 minutes after pickup
        assert_problem(
            status(
                &server,
                &p.chauffeur,
                &booking,
                json!({"status": "no_show"}),
            ),
            409,
            "no_show_too_early",
        );
        // The passenger turns up after 25 minutes of waiting in all.
        advance(&server, 20 * 60);
        assert_eq!(
            status(
                &server,
                &p.chauffeur,
                &booking,
                json!({"status": "on_board"})
            )
            .status(),
            200
        );
        let r = status(
            &server,
            &p.chauffeur,
            &booking,
            json!({"status": "completed"}),
        );
        assert_eq!(r.status(), 200);

        let done = state_of(&server, &rider, &booking);
        assert_eq!(done["state"], "completed");
        // Berlin waiting: 15 minutes free, then EUR 1.10 a minute: 10 × 1.10 = 11.00.
        let final_price = r.json::<Value>().unwrap()["final_price"]["amount_minor"]
            .as_i64()
            .unwrap();
        assert_eq!(final_price, quoted + 1_100);
        let history = history_of(&server, &rider, &booking);
        let path: Vec<&str> = history
            .iter()
            .map(|e| e["to_state"].as_str().unwrap())
            .collect();
        assert_eq!(
            path,
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
        let receipt = &history.last().unwrap()["booking"]["receipt"];
        assert_eq!(receipt["fare"]["total"]["amount_minor"], final_price);
        assert_eq!(receipt["extras_total"]["amount_minor"], 1_100);
    }
}

#[test]
fn a_no_show_is_accepted_after_the_free_waiting_time() {
    for backend in backends() {
        let (server, url, _db) = start(backend);
        let p = partner(&server, &url, "Berlin Limousines");
        let (_, rider) = server.rider();
        let booking = server.book_berlin(&rider);
        accept(&server, &p, &booking);
        assign(&server, &p, &booking);
        advance(&server, 7 * 24 * 3600 - 10 * 60);
        status(
            &server,
            &p.chauffeur,
            &booking,
            json!({"status": "en_route"}),
        );
        status(
            &server,
            &p.chauffeur,
            &booking,
            json!({"status": "arrived"}),
        );
        advance(&server, 10 * 60 + 15 * 60 + 5); // pickup + 15 minutes and a bit
        assert_eq!(
            status(
                &server,
                &p.chauffeur,
                &booking,
                json!({"status": "no_show"})
            )
            .status(),
            200
        );
        assert_eq!(state_of(&server, &rider, &booking)["state"], "no_show");
    }
}

#[test]
fn a_ride_due_now_goes_to_the_nearest_online_chauffeur_then_the_next_nearest() {
    for backend in backends() {
        let (server, url, _db) = start(backend);
        let (partner_id, dispatcher_email) = berlin_partner(&url, "Berlin Limousines");
        let dispatcher = server.log_in(&dispatcher_email, "dispatcher password");
        let driver = |name: &str| {
            let email = format!("{name}-{}@example.com", uuid::Uuid::now_v7().simple());
            partner_cli(
                &url,
                &[
                    "add-member",
                    "--partner",
                    &partner_id,
                    "--email",
                    &email,
                    "--password",
                    "chauffeur password",
                    "--name",
                    name,
                    "--role",
                    "chauffeur",
                ],
            );
            server.log_in(&email, "chauffeur password")
        };
        let (near, far) = (driver("near"), driver("far"));
        // The pickup is the Brandenburg Gate: "near" waits 1 km away, "far" 3.5 km away.
        for (token, lat, lon) in [(&near, 52.5163, 13.3925), (&far, 52.5163, 13.4293)] {
            let r = server
                .post("/v1/chauffeur/location")
                .bearer_auth(token)
                .json(&json!({"lat": lat, "lon": lon}))
                .send()
                .unwrap();
            assert_eq!(r.status(), 202);
        }
        std::thread::sleep(std::time::Duration::from_millis(1_500)); // one batch write

        let (_, rider) = server.rider();
        let quote = server.quote_token(json!({"kind": "asap"}));
        let r = server.book(&rider, "now", &json!({"quote_token": quote}));
        assert_eq!(r.status(), 201);
        let booking = r.json::<Value>().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let offers_of = |token: &str| -> Vec<Value> {
            let r: Value = server
                .get("/v1/chauffeur/offers")
                .bearer_auth(token)
                .send()
                .unwrap()
                .json()
                .unwrap();
            r["offers"].as_array().unwrap().clone()
        };
        let first = offers_of(&near);
        assert_eq!(first.len(), 1, "the nearest chauffeur is asked first");
        assert!(
            offers_of(&far).is_empty(),
            "3.5 km is beyond the first 2 km search"
        );
        assert!(
            open_offer(&server, &dispatcher, &booking).is_none(),
            "on demand skips the dispatchers"
        );

        // No answer within 30 seconds: the search widens to 5 km and the next nearest is asked.
        advance(&server, 31);
        assert!(offers_of(&near).is_empty());
        let second = offers_of(&far);
        assert_eq!(second.len(), 1);
        let offer = second[0]["id"].as_str().unwrap();
        let r = server
            .post(&format!("/v1/chauffeur/offers/{offer}/accept"))
            .bearer_auth(&far)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            state_of(&server, &rider, &booking)["state"],
            "chauffeur_assigned"
        );
        let late = first[0]["id"].as_str().unwrap();
        let r = server
            .post(&format!("/v1/chauffeur/offers/{late}/accept"))
            .bearer_auth(&near)
            .send()
            .unwrap();
        assert_eq!(r.status(), 409);
        // The assigned chauffeur now drives it.
        assert_eq!(
            status(&server, &far, &booking, json!({"status": "en_route"})).status(),
            200
        );
    }
}

/// The receipt stored with the last history entry of a completed ride.
fn receipt_of(server: &TestServer, rider: &str, booking: &str) -> Value {
    history_of(server, rider, booking).pop().unwrap()["booking"]["receipt"].clone()
}

/// The receipt's line of this kind, if any.
fn line(receipt: &Value, kind: &str) -> Option<Value> {
    receipt["fare"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == kind)
        .cloned()
}

#[test]
fn statuses_cannot_be_reported_too_early_and_waiting_cannot_be_declared() {
    for backend in backends() {
        let (server, url, _db) = start(backend);
        let p = partner(&server, &url, "Berlin Limousines");
        let (_, rider) = server.rider();
        let pickup = chrono::Utc::now() + chrono::Duration::days(14);
        let quote = server.quote_token(json!({"kind": "instant", "at": pickup.to_rfc3339()}));
        let r = server.book(&rider, "in-two-weeks", &json!({"quote_token": quote}));
        assert_eq!(r.status(), 201);
        let booking = r.json::<Value>().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let quoted = state_of(&server, &rider, &booking)["price"]["amount_minor"]
            .as_i64()
            .unwrap();
        accept(&server, &p, &booking);
        assert_eq!(assign(&server, &p, &booking).status(), 200);

        // Thirteen days and more before the pickup, the chauffeur is neither on the way nor there.
        advance(&server, 3600);
        for early in ["en_route", "arrived"] {
            assert_problem(
                status(&server, &p.chauffeur, &booking, json!({"status": early})),
                409,
                "status_too_early",
            );
        }
        // Two hours before: on the way, yes; at the pickup, not yet.
        advance(&server, 14 * 24 * 3600 - 3600 - 2 * 3600);
        let ok = |body: Value| {
            let r = status(&server, &p.chauffeur, &booking, body.clone());
            assert_eq!(r.status(), 200, "{backend:?} {body}: {}", r.text().unwrap());
        };
        ok(json!({"status": "en_route"}));
        assert_problem(
            status(
                &server,
                &p.chauffeur,
                &booking,
                json!({"status": "arrived"}),
            ),
            409,
            "status_too_early",
        );
        assert_eq!(state_of(&server, &rider, &booking)["state"], "en_route");
        // At the pickup time, and the passenger boards two seconds later: no waiting, however
        // much is declared (a declared waiting time is not a field any more).
        advance(&server, 2 * 3600);
        ok(json!({"status": "arrived"}));
        std::thread::sleep(std::time::Duration::from_secs(2));
        ok(json!({"status": "on_board"}));
        assert_problem(
            status(
                &server,
                &p.chauffeur,
                &booking,
                json!({"status": "completed", "waiting_minutes": 40}),
            ),
            422,
            "invalid_body",
        );
        // Tolls and parking are declared, within a bound: half the quoted total in all.
        assert_problem(
            status(
                &server,
                &p.chauffeur,
                &booking,
                json!({"status": "completed", "tolls_minor": quoted, "parking_minor": 0}),
            ),
            422,
            "declared_costs_out_of_range",
        );
        assert_problem(
            status(
                &server,
                &p.chauffeur,
                &booking,
                json!({"status": "completed", "tolls_minor": -100}),
            ),
            422,
            "declared_costs_out_of_range",
        );
        assert_eq!(state_of(&server, &rider, &booking)["state"], "on_board");
        let r = status(
            &server,
            &p.chauffeur,
            &booking,
            json!({"status": "completed", "tolls_minor": 500, "parking_minor": 300}),
        );
        assert_eq!(r.status(), 200);
        let final_price = r.json::<Value>().unwrap()["final_price"]["amount_minor"]
            .as_i64()
            .unwrap();
        assert_eq!(
            final_price,
            quoted + 800,
            "{backend:?}: tolls and parking only"
        );
        let receipt = receipt_of(&server, &rider, &booking);
        assert!(line(&receipt, "waiting").is_none(), "{receipt}");
        assert_eq!(
            line(&receipt, "tolls").unwrap()["amount"]["amount_minor"],
            500
        );
        assert_eq!(
            line(&receipt, "parking").unwrap()["amount"]["amount_minor"],
            300
        );
        assert_eq!(receipt["extras_total"]["amount_minor"], 800);
    }
}

#[test]
fn forty_minutes_of_measured_waiting_with_fifteen_free_charge_twenty_five() {
    for backend in backends() {
        let (server, url, _db) = start(backend);
        let p = partner(&server, &url, "Berlin Limousines");
        let (_, rider) = server.rider();
        let booking = server.book_berlin(&rider);
        let quoted = state_of(&server, &rider, &booking)["price"]["amount_minor"]
            .as_i64()
            .unwrap();
        accept(&server, &p, &booking);
        assert_eq!(assign(&server, &p, &booking).status(), 200);
        let ok = |body: Value| {
            let r = status(&server, &p.chauffeur, &booking, body.clone());
            assert_eq!(r.status(), 200, "{backend:?} {body}: {}", r.text().unwrap());
            r
        };
        advance(&server, 7 * 24 * 3600 - 20 * 60);
        ok(json!({"status": "en_route"}));
        advance(&server, 20 * 60); // at the pickup time (a non-airport pickup: 15 minutes free)
        ok(json!({"status": "arrived"}));
        advance(&server, 40 * 60);
        ok(json!({"status": "on_board"}));
        advance(&server, 15 * 60); // the ride itself does not count as waiting
        let done = ok(json!({"status": "completed"}));
        let final_price = done.json::<Value>().unwrap()["final_price"]["amount_minor"]
            .as_i64()
            .unwrap();
        let receipt = receipt_of(&server, &rider, &booking);
        let waiting = line(&receipt, "waiting").expect("a waiting line");
        assert_eq!(waiting["quantity"], 25, "{backend:?}: {receipt}");
        // 25 × EUR 1.10 = EUR 27.50, extras rounded up to whole euros: EUR 28.00.
        assert_eq!(waiting["amount"]["amount_minor"], 2_750);
        assert_eq!(receipt["extras_total"]["amount_minor"], 2_800);
        assert_eq!(final_price, quoted + 2_800);
    }
}

#[test]
fn an_hourly_hire_is_charged_for_the_measured_time_and_the_declared_kilometres() {
    for backend in backends() {
        let (server, url, _db) = start(backend);
        let p = partner(&server, &url, "Berlin Limousines");
        let (_, rider) = server.rider();
        let mut request = berlin_transfer(next_week());
        request["product"] = json!({"type": "hourly", "hours": 2});
        let quote = server.quotes(request)["quotes"][0]["quote_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = server.book(&rider, "hourly", &json!({"quote_token": quote}));
        assert_eq!(r.status(), 201);
        let booking = r.json::<Value>().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let quoted = state_of(&server, &rider, &booking)["price"]["amount_minor"]
            .as_i64()
            .unwrap();
        accept(&server, &p, &booking);
        assert_eq!(assign(&server, &p, &booking).status(), 200);
        let ok = |body: Value| {
            let r = status(&server, &p.chauffeur, &booking, body.clone());
            assert_eq!(r.status(), 200, "{backend:?} {body}: {}", r.text().unwrap());
            r
        };
        advance(&server, 7 * 24 * 3600 - 20 * 60);
        ok(json!({"status": "en_route"}));
        advance(&server, 10 * 60);
        ok(json!({"status": "arrived"})); // early: the hire starts at the pickup time
        advance(&server, 10 * 60);
        ok(json!({"status": "on_board"}));
        advance(&server, 2 * 3600 + 20 * 60);
        // The hire's length is measured, not declared.
        assert_problem(
            status(
                &server,
                &p.chauffeur,
                &booking,
                json!({"status": "completed", "driven_km": 50, "hire_minutes": 120}),
            ),
            422,
            "invalid_body",
        );
        let done = ok(json!({"status": "completed", "driven_km": 50}));
        let final_price = done.json::<Value>().unwrap()["final_price"]["amount_minor"]
            .as_i64()
            .unwrap();
        let receipt = receipt_of(&server, &rider, &booking);
        // 20 minutes over two booked hours: two quarter hours of EUR 65.00 an hour.
        let time = line(&receipt, "extra_time").expect("an extra time line");
        assert_eq!(time["quantity"], 30, "{backend:?}: {receipt}");
        assert_eq!(time["amount"]["amount_minor"], 3_250);
        // 50 km driven, 40 included: 10 × EUR 2.30.
        let km = line(&receipt, "extra_km").expect("an extra km line");
        assert_eq!(km["quantity"], 10);
        assert_eq!(km["amount"]["amount_minor"], 2_300);
        assert_eq!(receipt["extras_total"]["amount_minor"], 5_600);
        assert_eq!(final_price, quoted + 5_600);
    }
}

/// The ride in a list answer of the partner's or the chauffeur's, by booking id.
fn ride_in(server: &TestServer, path: &str, token: &str, booking: &str) -> Value {
    let list: Value = server
        .get(path)
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    list["rides"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == booking)
        .cloned()
        .unwrap_or_else(|| panic!("{booking} not in {path}: {list}"))
}

fn minor(v: &Value) -> i64 {
    v["amount_minor"].as_i64().unwrap()
}

/// The partner holding a ride and its chauffeur learn where to go and whom to pick up; an offer
/// shows the area and no personal data; after the ride the rider sees the final charge with
/// its receipt (quoted lines, extras as such, VAT split), also at `…/receipt`.
#[test]
fn the_people_in_a_ride_see_where_to_go_and_the_rider_sees_the_final_charge() {
    for backend in backends() {
        let (server, url, _db) = start(backend);
        let p = partner(&server, &url, "Berlin Limousines");
        let (_, rider) = server.rider();
        let token = server.quote_token(next_week());
        let r = server.book(
            &rider,
            "views",
            &json!({"quote_token": token,
                    "passenger": {"name": "Grace Hopper", "phone": "+49 30 5550100"},
                    "notes": "Gate 4, blue door"}),
        );
        assert_eq!(r.status(), 201);
        let booking = r.json::<Value>().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();

        // The rider's own view: the route it was priced for, and the net/VAT split.
        let view = state_of(&server, &rider, &booking);
        assert_eq!(
            view["route"]["pickup"],
            json!({"lat": 52.5163, "lon": 13.3777})
        );
        assert_eq!(
            view["route"]["dropoff"],
            json!({"lat": 52.5219, "lon": 13.4132})
        );
        assert_eq!(
            (
                view["route"]["passengers"].clone(),
                view["route"]["bags"].clone()
            ),
            (json!(2), json!(1))
        );
        assert_eq!(
            minor(&view["net"]) + minor(&view["vat"]),
            minor(&view["price"])
        );
        assert_eq!(view["final_price"], Value::Null);
        assert_problem(
            server
                .get(&format!("/v1/bookings/{booking}/receipt"))
                .bearer_auth(&rider)
                .send()
                .unwrap(),
            409,
            "no_receipt_yet",
        );

        // The offer: the area to decide on, rounded, and nothing personal.
        let offers: Value = server
            .get("/v1/partner/offers")
            .bearer_auth(&p.dispatcher)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let offer = offers["offers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["booking_id"] == booking.as_str())
            .unwrap()
            .clone();
        assert_eq!(offer["area"]["pickup"], json!({"lat": 52.52, "lon": 13.38}));
        assert_eq!(
            offer["area"]["dropoff"],
            json!({"lat": 52.52, "lon": 13.41})
        );
        let offer_text = offer.to_string();
        for personal in ["Grace", "5550100", "blue door", "52.5163"] {
            assert!(
                !offer_text.contains(personal),
                "{backend:?}: offer shows {personal}: {offer_text}"
            );
        }

        accept(&server, &p, &booking);
        assert_eq!(assign(&server, &p, &booking).status(), 200);
        for (path, who) in [
            ("/v1/partner/rides", &p.dispatcher),
            ("/v1/chauffeur/rides", &p.chauffeur),
        ] {
            let ride = ride_in(&server, path, who, &booking);
            assert_eq!(
                ride["route"]["pickup"],
                json!({"lat": 52.5163, "lon": 13.3777}),
                "{path}"
            );
            assert_eq!(
                ride["route"]["dropoff"],
                json!({"lat": 52.5219, "lon": 13.4132}),
                "{path}"
            );
            assert_eq!(ride["route"]["passengers"], 2, "{path}");
            assert_eq!(ride["passenger"]["name"], "Grace Hopper", "{path}");
            assert_eq!(ride["passenger"]["phone"], "+49 30 5550100", "{path}");
            assert_eq!(ride["notes"], "Gate 4, blue door", "{path}");
        }

        let ok = |body: Value| {
            let r = status(&server, &p.chauffeur, &booking, body.clone());
            assert_eq!(r.status(), 200, "{backend:?} {body}: {}", r.text().unwrap());
        };
        advance(&server, 7 * 24 * 3600 - 20 * 60);
        ok(json!({"status": "en_route"}));
        advance(&server, 20 * 60);
        ok(json!({"status": "arrived"}));
        advance(&server, 40 * 60);
        ok(json!({"status": "on_board"}));
        advance(&server, 15 * 60);
        ok(json!({"status": "completed", "tolls_minor": 450}));

        let view = state_of(&server, &rider, &booking);
        let receipt = view["receipt"].clone();
        let kinds: Vec<&str> = receipt["extras"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["kind"].as_str().unwrap())
            .collect();
        assert!(
            kinds.contains(&"waiting") && kinds.contains(&"tolls"),
            "{backend:?}: {receipt}"
        );
        assert_eq!(
            receipt["lines"], view["lines"],
            "the quoted lines, as quoted"
        );
        assert_eq!(minor(&receipt["quoted_total"]), minor(&view["price"]));
        assert_eq!(
            minor(&receipt["total"]),
            minor(&view["price"]) + minor(&receipt["extras_total"])
        );
        assert_eq!(
            minor(&receipt["net"]) + minor(&receipt["vat"]),
            minor(&receipt["total"])
        );
        let all_lines: i64 = receipt["lines"]
            .as_array()
            .unwrap()
            .iter()
            .chain(receipt["extras"].as_array().unwrap())
            .map(|l| l["amount_minor"].as_i64().unwrap())
            .sum();
        assert_eq!(
            all_lines,
            minor(&receipt["total"]),
            "lines add up to the total"
        );
        assert_eq!(view["final_price"], receipt["total"]);
        let separate: Value = server
            .get(&format!("/v1/bookings/{booking}/receipt"))
            .bearer_auth(&rider)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(separate, receipt);
        // The partner sees the same receipt; another rider sees nothing at all.
        assert_eq!(
            ride_in(&server, "/v1/partner/rides", &p.dispatcher, &booking)["receipt"],
            receipt
        );
        let (_, stranger) = server.rider();
        assert_problem(
            server
                .get(&format!("/v1/bookings/{booking}/receipt"))
                .bearer_auth(&stranger)
                .send()
                .unwrap(),
            404,
            "not_found",
        );
    }
}

/// A cancellation inside the fee window has a receipt of one line: the fee, with its VAT.
#[test]
fn a_cancellation_with_a_fee_has_a_receipt_of_the_fee() {
    for backend in backends() {
        let (server, url, _db) = start(backend);
        let p = partner(&server, &url, "Berlin Limousines");
        let (_, rider) = server.rider();
        let booking = server.book_berlin(&rider);
        accept(&server, &p, &booking);
        advance(&server, 7 * 24 * 3600 - 30 * 60); // half an hour before pickup: 100 %
        let preview: Value = server
            .get(&format!("/v1/bookings/{booking}/cancellation"))
            .bearer_auth(&rider)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let fee = preview["fee"]["amount_minor"]
            .as_i64()
            .unwrap_or_else(|| panic!("{preview}"));
        assert!(fee > 0, "{preview}");
        let r = server
            .post(&format!("/v1/bookings/{booking}/cancel"))
            .bearer_auth(&rider)
            .json(&json!({"acknowledged_fee_minor": fee}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
        let view = state_of(&server, &rider, &booking);
        assert_eq!(view["state"], "cancelled", "{view}");
        assert_eq!(minor(&view["final_price"]), fee, "{view}");
        let receipt = &view["receipt"];
        assert_eq!(receipt["lines"].as_array().unwrap().len(), 1, "{receipt}");
        assert_eq!(receipt["lines"][0]["kind"], "cancellation_fee");
        assert_eq!(minor(&receipt["total"]), fee);
        assert_eq!(minor(&receipt["net"]) + minor(&receipt["vat"]), fee);
    }
}

/// Erasing an account never leaves a ride live without its passenger: bookings free to cancel
/// are cancelled first; one that costs a fee (or a ride under way) refuses the erasure, listed
/// with its fee, until the rider settles it.
#[test]
fn erasing_an_account_cancels_its_free_bookings_and_refuses_while_one_costs_a_fee() {
    for backend in backends() {
        let (server, url, _db) = start(backend);
        let p = partner(&server, &url, "Berlin Limousines");
        let (_, rider) = server.rider();
        let soon = server.book_berlin(&rider);
        accept(&server, &p, &soon);
        let later_at = chrono::Utc::now() + chrono::Duration::days(14);
        let later_token =
            server.quote_token(json!({"kind": "instant", "at": later_at.to_rfc3339()}));
        let r = server.book(&rider, "later", &json!({"quote_token": later_token}));
        assert_eq!(r.status(), 201);
        let later = r.json::<Value>().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        advance(&server, 7 * 24 * 3600 - 30 * 60); // `soon` now costs its full price to cancel
        let price = minor(&state_of(&server, &rider, &soon)["price"]);

        let erase = || server.delete("/v1/me").bearer_auth(&rider).send().unwrap();
        let refused = assert_problem(erase(), 409, "cancel_bookings_first");
        let listed = refused["bookings"].as_array().unwrap();
        assert_eq!(listed.len(), 1, "{refused}");
        assert_eq!(listed[0]["id"], soon.as_str());
        assert_eq!(listed[0]["cancellation_fee"]["amount_minor"], price);
        // Nothing was done: both bookings are as they were, the account works.
        assert_eq!(state_of(&server, &rider, &soon)["state"], "confirmed");
        assert_eq!(state_of(&server, &rider, &later)["state"], "pending");

        let r = server
            .post(&format!("/v1/bookings/{soon}/cancel"))
            .bearer_auth(&rider)
            .json(&json!({"acknowledged_fee_minor": price}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(erase().status(), 204);

        // The later booking was cancelled free, and no partner is offered it any more.
        assert!(open_offer(&server, &p.dispatcher, &later).is_none());
        let ride = ride_in(&server, "/v1/partner/rides", &p.dispatcher, &soon);
        assert_eq!(ride["state"], "cancelled");
        assert_eq!(ride["passenger"]["name"], Value::Null, "erased");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let stored = runtime.block_on(async {
            let store = chauffeur_server::store::Store::connect(&url).await.unwrap();
            let id = uuid::Uuid::parse_str(&later).unwrap();
            store.booking(id).await.unwrap().unwrap().0
        });
        assert_eq!(stored.state, chauffeur_core::BookingState::Cancelled);
        assert_eq!(stored.cancellation_fee_minor, Some(0));
    }
}

/// `pdftotext` and `pdftoppm` (Debian's poppler-utils) or, without them, a skip — a failure
/// under CI=true, where nothing may be skipped.
/// Every completed ride and every charged cancellation gets an invoice, numbered without gaps
/// per issuer; its figures are the receipt's, as JSON and in the PDF (German and English).
#[test]
fn charged_bookings_get_invoices_numbered_without_gaps_with_every_figure_in_the_pdf() {
    for backend in backends() {
        let (server, url, _db) = start(backend);
        let p = partner(&server, &url, "Berlin Limousines");
        let (_, rider) = server.rider();
        let invoice_of = |booking: &str| {
            server
                .get(&format!("/v1/bookings/{booking}/invoice"))
                .bearer_auth(&rider)
                .send()
                .unwrap()
        };
        // A ride completed with waiting and tolls, two cancelled inside the fee window, one
        // cancelled free: three invoices, numbered 1, 2, 3 in the order they were charged.
        let first = server.book_berlin(&rider);
        let second = server.book_berlin(&rider);
        let cancelled = server.book_berlin(&rider);
        let free = server.book_berlin(&rider);
        for b in [&first, &second, &cancelled] {
            accept(&server, &p, b);
        }
        let r = server
            .post(&format!("/v1/bookings/{free}/cancel"))
            .bearer_auth(&rider)
            .json(&json!({"acknowledged_fee_minor": 0}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_problem(invoice_of(&free), 409, "no_invoice_yet");
        assert_problem(invoice_of(&first), 409, "no_invoice_yet");

        assign(&server, &p, &first);
        let ok = |b: &str, body: Value| {
            let r = status(&server, &p.chauffeur, b, body.clone());
            assert_eq!(r.status(), 200, "{backend:?} {body}: {}", r.text().unwrap());
        };
        advance(&server, 7 * 24 * 3600 - 20 * 60);
        ok(&first, json!({"status": "en_route"}));
        advance(&server, 20 * 60);
        ok(&first, json!({"status": "arrived"}));
        advance(&server, 40 * 60);
        ok(&first, json!({"status": "on_board"}));
        advance(&server, 15 * 60);
        ok(&first, json!({"status": "completed", "tolls_minor": 450}));

        for b in [&second, &cancelled] {
            let fee = minor(
                &server
                    .get(&format!("/v1/bookings/{b}/cancellation"))
                    .bearer_auth(&rider)
                    .send()
                    .unwrap()
                    .json::<Value>()
                    .unwrap()["fee"],
            );
            assert!(fee > 0);
            let r = server
                .post(&format!("/v1/bookings/{b}/cancel"))
                .bearer_auth(&rider)
                .json(&json!({"acknowledged_fee_minor": fee}))
                .send()
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        let fee = minor(&state_of(&server, &rider, &cancelled)["cancellation_fee"]);

        let invoices: Vec<Value> = [&first, &second, &cancelled]
            .iter()
            .map(|b| {
                let r = invoice_of(b);
                assert_eq!(r.status(), 200);
                r.json().unwrap()
            })
            .collect();
        let numbers: Vec<&str> = invoices
            .iter()
            .map(|i| i["number"].as_str().unwrap())
            .collect();
        assert_eq!(
            numbers,
            ["INV-000001", "INV-000002", "INV-000003"],
            "{backend:?}"
        );
        // Asked again: the same invoice, not a new number.
        assert_eq!(invoice_of(&first).json::<Value>().unwrap(), invoices[0]);

        let receipt = state_of(&server, &rider, &first)["receipt"].clone();
        let invoice = &invoices[0];
        assert_eq!(invoice["total"], receipt["total"]);
        assert_eq!(invoice["net"], receipt["net"]);
        assert_eq!(invoice["vat"][0]["vat"], receipt["vat"]);
        assert_eq!(invoice["vat"][0]["rate_bp"], 1900);
        assert_eq!(invoice["billed_to"], "Test Rider");
        assert_eq!(invoice["kind"], "ride");
        assert_eq!(invoices[1]["kind"], "cancellation_fee");
        assert_eq!(invoices[2]["kind"], "cancellation_fee");
        assert_eq!(minor(&invoices[2]["total"]), fee);

        if !poppler() {
            continue;
        }
        let pdf = |lang: &str| {
            let r = server
                .get(&format!("/v1/bookings/{first}/invoice?lang={lang}"))
                .bearer_auth(&rider)
                .header("accept", "application/pdf")
                .send()
                .unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.headers()["content-type"], "application/pdf");
            r.bytes().unwrap().to_vec()
        };
        let euros = |minor: i64, german: bool| {
            let (whole, cents) = (minor / 100, minor % 100);
            if german {
                format!("{whole},{cents:02} EUR")
            } else {
                format!("EUR {whole}.{cents:02}")
            }
        };
        let name = format!("{backend:?}-first").to_lowercase();
        let english = pdf_text(&pdf("en"), &format!("{name}-en"));
        let german = pdf_text(&pdf("de"), &format!("{name}-de"));
        for (text, is_german) in [(&english, false), (&german, true)] {
            assert!(text.contains("INV-000001"), "{text}");
            assert!(text.contains("Test Rider"), "{text}");
            assert!(text.contains("Issuer not configured"), "{text}");
            for figure in ["total", "net"] {
                let amount = euros(minor(&invoice[figure]), is_german);
                assert!(text.contains(&amount), "{figure} {amount} not in:\n{text}");
            }
            let vat = euros(minor(&invoice["vat"][0]["vat"]), is_german);
            assert!(text.contains(&vat), "VAT {vat} not in:\n{text}");
            for line in invoice["lines"].as_array().unwrap() {
                let amount = euros(line["amount_minor"].as_i64().unwrap(), is_german);
                assert!(
                    text.contains(&amount),
                    "line {line} ({amount}) not in:\n{text}"
                );
            }
        }
        assert!(
            english.contains("Invoice")
                && english.contains("Waiting time (25 min)")
                && english.contains("Tolls"),
            "{english}"
        );
        assert!(
            german.contains("Rechnung")
                && german.contains("Wartezeit (25 Min.)")
                && german.contains("Maut")
                && german.contains("Umsatzsteuer 19 %"),
            "{german}"
        );
    }
}
