//! The HTTP API as riders meet it, against the real server process over loopback, on SQLite and
//! on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chauffeur_server::store::Store;
use chauffeur_server::tokens::{QuoteClaim, QuoteSigner};
use common::*;
use serde_json::{json, Value};

#[test]
fn sign_up_log_in_see_me_and_log_out() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let r = server
            .post("/v1/accounts")
            .json(&json!({"email": "  Ada@Example.COM ", "password": "correct horse battery", "name": "Ada"}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 201);
        let user: Value = r.json().unwrap();
        assert_eq!(user["email"], "ada@example.com", "e-mail is normalised");
        assert_eq!(user["role"], "rider");

        // The same address again, in other letters, is taken.
        let r = server
            .post("/v1/accounts")
            .json(&json!({"email": "ADA@example.com", "password": "another good password"}))
            .send()
            .unwrap();
        assert_problem(r, 409, "email_taken");

        let token = server.log_in("ada@example.com", "correct horse battery");
        let me: Value = server
            .get("/v1/me")
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(me["id"], user["id"]);

        let r = server
            .delete("/v1/sessions/current")
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert_eq!(r.status(), 204);
        assert_problem(
            server.get("/v1/me").bearer_auth(&token).send().unwrap(),
            401,
            "unauthenticated",
        );
        assert_problem(server.get("/v1/me").send().unwrap(), 401, "unauthenticated");
    }
}

#[test]
fn weak_passwords_and_bad_emails_are_refused() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let sign_up = |email: &str, password: &str| {
            server
                .post("/v1/accounts")
                .json(&json!({"email": email, "password": password}))
                .send()
                .unwrap()
        };
        assert_problem(
            sign_up("bob@example.com", "short"),
            422,
            "password_too_short",
        );
        assert_problem(
            sign_up("bob@example.com", "Password123"),
            422,
            "password_too_common",
        );
        assert_problem(
            sign_up("not-an-email", "correct horse battery"),
            422,
            "invalid_email",
        );
    }
}

/// A client that connects from `source` (another loopback address is "another client").
fn client_from(source: &str) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .local_address(source.parse::<std::net::IpAddr>().unwrap())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap()
}

fn log_in_from(
    server: &TestServer,
    client: &reqwest::blocking::Client,
    forwarded_for: Option<&str>,
    email: &str,
    password: &str,
) -> reqwest::blocking::Response {
    let mut request = client
        .post(server.url("/v1/sessions"))
        .json(&json!({"email": email, "password": password}));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    request.send().unwrap()
}

/// Guesses from one place: five are checked, then each must wait longer than the one before
/// (and hammering only lengthens the wait) — even the right password, from that place.
fn guess_until_refused(
    server: &TestServer,
    client: &reqwest::blocking::Client,
    forwarded_for: Option<&str>,
    email: &str,
    made_before: usize,
) {
    let mut statuses = Vec::new();
    for _ in made_before..9 {
        let r = log_in_from(server, client, forwarded_for, email, "wrong password!");
        statuses.push(r.status().as_u16());
    }
    let free = 5 - made_before;
    assert_eq!(statuses[..free], vec![401; free], "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    let r = log_in_from(
        server,
        client,
        forwarded_for,
        email,
        "correct horse battery",
    );
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_problem(r, 429, "too_many_attempts");
}

#[test]
fn wrong_passwords_are_throttled_and_unknown_emails_answer_the_same() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let (email, _) = server.rider();
        let here = client_from("127.0.0.1");
        let wrong = assert_problem(
            log_in_from(&server, &here, None, &email, "wrong password!"),
            401,
            "invalid_credentials",
        );
        let unknown = assert_problem(
            log_in_from(
                &server,
                &here,
                None,
                "nobody@example.com",
                "wrong password!",
            ),
            401,
            "invalid_credentials",
        );
        assert_eq!(
            wrong, unknown,
            "unknown e-mail and wrong password look alike"
        );
        guess_until_refused(&server, &here, None, &email, 1);
        // The owner, elsewhere, is not locked out by the guesser.
        let r = log_in_from(
            &server,
            &client_from("127.0.0.2"),
            None,
            &email,
            "correct horse battery",
        );
        assert_eq!(r.status(), 201, "{backend:?}: {}", r.text().unwrap());
    }
}

/// Behind a trusted proxy the throttle counts the address the proxy forwards; from any other
/// peer a forwarded address is ignored (else a guesser would name a new one each time).
#[test]
fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
    let backend = backends()[0];
    let (url, dir) = TestServer::fresh_database(backend);
    let server = TestServer::start_with(backend, dir, url, &["--trusted-proxies", "127.0.0.1"]);
    let (email, _) = server.rider();
    let proxy = client_from("127.0.0.1");
    guess_until_refused(&server, &proxy, Some("198.51.100.7"), &email, 0);
    let r = log_in_from(
        &server,
        &proxy,
        Some("198.51.100.8"),
        &email,
        "correct horse battery",
    );
    assert_eq!(
        r.status(),
        201,
        "another client behind the proxy: {}",
        r.text().unwrap()
    );

    // 127.0.0.3 is not a trusted proxy: its X-Forwarded-For is a client's claim.
    let direct = client_from("127.0.0.3");
    guess_until_refused(&server, &direct, Some("198.51.100.9"), &email, 0);
    let r = log_in_from(
        &server,
        &direct,
        Some("198.51.100.10"),
        &email,
        "correct horse battery",
    );
    assert_problem(r, 429, "too_many_attempts");
}

/// Forty wrong guesses and the right password sent at once: the attempts are counted before
/// any password is checked, so only the free five are evaluated and the rest wait.
#[test]
fn a_concurrent_burst_of_guesses_gets_only_the_free_attempts_checked() {
    for backend in backends() {
        let server = Arc::new(TestServer::start(backend));
        let (email, _) = server.rider();
        let start = Arc::new(Barrier::new(41));
        let threads: Vec<_> = (0..41)
            .map(|i| {
                let (server, start, email) = (server.clone(), start.clone(), email.clone());
                std::thread::spawn(move || {
                    let password = if i == 20 {
                        "correct horse battery"
                    } else {
                        "wrong password!"
                    };
                    start.wait();
                    let r = server
                        .post("/v1/sessions")
                        .json(&json!({"email": email, "password": password}))
                        .send()
                        .unwrap();
                    r.status().as_u16()
                })
            })
            .collect();
        let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let checked = statuses.iter().filter(|s| **s != 429).count();
        assert!(checked <= 5, "{backend:?}: {checked} checked: {statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 41 - checked);
    }
}

#[test]
fn quotes_need_no_account_and_bad_requests_get_the_cores_codes() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let quotes = server.quotes(berlin_transfer(next_week()));
        let classes: Vec<&str> = quotes["quotes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["class"].as_str().unwrap())
            .collect();
        assert_eq!(classes, ["business", "first", "van"]);
        let q = &quotes["quotes"][0];
        let lines: i64 = q["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["amount_minor"].as_i64().unwrap())
            .sum();
        assert_eq!(lines, q["total"]["amount_minor"].as_i64().unwrap());
        assert_eq!(
            q["net"]["amount_minor"].as_i64().unwrap() + q["vat"]["amount_minor"].as_i64().unwrap(),
            q["total"]["amount_minor"].as_i64().unwrap()
        );
        assert!(q["quote_token"].as_str().unwrap().contains('.'));

        let post = |body: Value| server.post("/v1/quotes").json(&body).send().unwrap();
        let mut munich = berlin_transfer(next_week());
        munich["product"]["dropoff"] = json!({"lat": 48.1374, "lon": 11.5755});
        assert_problem(post(munich), 422, "outside_service_area");
        let mut off_earth = berlin_transfer(next_week());
        off_earth["pickup"] = json!({"lat": 95.0, "lon": 13.4});
        assert_problem(post(off_earth), 422, "invalid_coordinates");
        assert_problem(
            post(berlin_transfer(
                json!({"kind": "instant", "at": "2020-01-01T10:00:00Z"}),
            )),
            422,
            "pickup_in_past",
        );
        let in_ten_minutes = chrono::Utc::now() + chrono::Duration::minutes(10);
        assert_problem(
            post(berlin_transfer(
                json!({"kind": "instant", "at": in_ten_minutes.to_rfc3339()}),
            )),
            422,
            "pickup_too_soon",
        );
        // 02:30 on the last Sunday of March 2027 does not exist in Berlin.
        assert_problem(
            post(berlin_transfer(
                json!({"kind": "local", "at": "2027-03-28T02:30:00"}),
            )),
            422,
            "pickup_in_dst_gap",
        );
        let mut crowd = berlin_transfer(next_week());
        crowd["passengers"] = json!(7);
        assert_problem(post(crowd), 422, "capacity_exceeded");
        let mut unknown_field = berlin_transfer(next_week());
        unknown_field["coupon"] = json!("FREE");
        assert_problem(post(unknown_field), 422, "invalid_body");
        let r = server
            .post("/v1/quotes")
            .header("content-type", "application/json")
            .body("{\"city_id\":")
            .send()
            .unwrap();
        assert_problem(r, 400, "malformed_body");
        let r = server
            .post("/v1/quotes")
            .body(berlin_transfer(next_week()).to_string())
            .send()
            .unwrap();
        assert_problem(r, 415, "unsupported_media_type");
        let huge = format!("{{\"city_id\":\"{}\"}}", "x".repeat(200_000));
        let r = server
            .post("/v1/quotes")
            .header("content-type", "application/json")
            .body(huge)
            .send()
            .unwrap();
        assert_problem(r, 413, "body_too_large");
    }
}

#[test]
fn catalog_is_served_with_an_etag() {
    let server = TestServer::start(Backend::Sqlite);
    let r = server.get("/v1/cities").send().unwrap();
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let catalog: Value = r.json().unwrap();
    assert!(catalog["cities"].as_array().unwrap().len() >= 150);
    assert_eq!(
        format!("\"{}\"", catalog["version"].as_str().unwrap()),
        etag
    );
    let r = server
        .get("/v1/cities")
        .header("if-none-match", &etag)
        .send()
        .unwrap();
    assert_eq!(r.status(), 304);
    let berlin: Value = server
        .get("/v1/cities/berlin")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(berlin["currency"], "EUR");
    assert_eq!(berlin["time_zone"], "Europe/Berlin");
    assert_eq!(berlin["airports"][0]["iata"], "BER");
    assert_problem(
        server.get("/v1/cities/atlantis").send().unwrap(),
        404,
        "not_found",
    );
}

/// Rebuilds a token around an edited quote, signed with `key` (the test server's key or not).
fn resign(token: &str, key: &[u8], edit: impl FnOnce(&mut Value)) -> String {
    let (payload, _) = token.split_once('.').unwrap();
    let mut claim: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    edit(&mut claim);
    let claim: QuoteClaim = serde_json::from_value(claim).unwrap();
    QuoteSigner::token(
        &QuoteSigner::new(key).unwrap().sign(&claim),
        chauffeur_core::VehicleClass::Business,
    )
}

#[test]
fn bookings_with_tampered_or_expired_quotes_are_refused() {
    let server_key = hex::decode(QUOTE_KEY_HEX).unwrap();
    for backend in backends() {
        let server = TestServer::start(backend);
        let (_, token) = server.rider();
        let quote = server.quote_token(next_week());

        // A cheaper price with the old signature.
        let (payload, signature) = quote.split_once('.').unwrap();
        let mut json: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        json["totals"][0][1] = json!(100);
        let tampered = format!("{}.{signature}", URL_SAFE_NO_PAD.encode(json.to_string()));
        assert_problem(
            server.book(&token, "k1", &json!({"quote_token": tampered})),
            422,
            "quote_invalid",
        );

        // A cheaper price signed by somebody else's key.
        let forged = resign(&quote, &[7u8; 32], |q| q["totals"][0][1] = json!(100));
        assert_problem(
            server.book(&token, "k2", &json!({"quote_token": forged})),
            422,
            "quote_invalid",
        );

        // Our own signature on a quote given 20 minutes ago: its 15 minutes are over.
        let twenty_minutes_ago = (chrono::Utc::now() - chrono::Duration::minutes(20)).to_rfc3339();
        let expired = resign(&quote, &server_key, |q| {
            q["quoted_at"] = json!(twenty_minutes_ago)
        });
        assert_problem(
            server.book(&token, "k3", &json!({"quote_token": expired})),
            422,
            "quote_expired",
        );

        // Our own signature on a total the fare engine does not give: refused, not honoured.
        let wrong_total = resign(&quote, &server_key, |q| q["totals"][0][1] = json!(100));
        assert_problem(
            server.book(&token, "k5", &json!({"quote_token": wrong_total})),
            422,
            "quote_invalid",
        );

        // Our own signature, but the prices were updated since (another catalog version).
        let old_prices = resign(&quote, &server_key, |q| {
            q["catalog_version"] = json!("2025-01-01.000000000000")
        });
        assert_problem(
            server.book(&token, "k6", &json!({"quote_token": old_prices})),
            422,
            "quote_expired",
        );

        assert_problem(
            server.book(&token, "k4", &json!({"quote_token": "garbage"})),
            422,
            "quote_invalid",
        );
        assert_eq!(server.booking_count(&token), 0, "nothing was booked");
    }
}

#[test]
fn a_booking_pays_exactly_the_quoted_price_and_airport_pickups_need_a_flight() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let (_, token) = server.rider();
        let quotes = server.quotes(berlin_transfer(next_week()));
        let quoted = &quotes["quotes"][0];
        let r = server.book(
            &token,
            "key-1",
            &json!({
                "quote_token": quoted["quote_token"],
                "passenger": {"name": "Grace Guest", "phone": "+44 20 7946 0000"},
                "notes": "Two suitcases"
            }),
        );
        assert_eq!(r.status(), 201);
        assert!(r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/v1/bookings/"));
        let booking: Value = r.json().unwrap();
        assert_eq!(booking["state"], "pending");
        assert_eq!(booking["price"], quoted["total"]);
        assert_eq!(booking["passenger"]["name"], "Grace Guest");

        let mut from_ber = berlin_transfer(next_week());
        from_ber["pickup"] = json!({"lat": 52.3667, "lon": 13.5033});
        let airport_quote = server.quotes(from_ber)["quotes"][0]["quote_token"].clone();
        let r = server.book(&token, "key-2", &json!({"quote_token": airport_quote}));
        assert_problem(r, 422, "flight_number_required");
        let r = server.book(
            &token,
            "key-3",
            &json!({"quote_token": airport_quote, "flight_number": "lh 2031"}),
        );
        assert_eq!(r.status(), 201);
        assert_eq!(r.json::<Value>().unwrap()["flight_number"], "LH2031");

        let r = server.book(
            &token,
            "key-4",
            &json!({"quote_token": airport_quote, "flight_number": "??"}),
        );
        assert_problem(r, 422, "invalid_flight_number");
        let r = server
            .post("/v1/bookings")
            .bearer_auth(&token)
            .json(&json!({"quote_token": airport_quote}))
            .send()
            .unwrap();
        assert_problem(r, 400, "idempotency_key_missing");
        // A body over the limit answers problem+json here too.
        let r = server
            .post("/v1/bookings")
            .bearer_auth(&token)
            .header("idempotency-key", "key-huge")
            .header("content-type", "application/json")
            .body(format!("{{\"quote_token\":\"{}\"}}", "x".repeat(200_000)))
            .send()
            .unwrap();
        assert_problem(r, 413, "body_too_large");
        let r = server
            .post("/v1/bookings")
            .bearer_auth(&token)
            .header("idempotency-key", "key-text")
            .body(json!({"quote_token": airport_quote}).to_string())
            .send()
            .unwrap();
        assert_problem(r, 415, "unsupported_media_type");
        let r = server
            .post("/v1/bookings")
            .header("idempotency-key", "x")
            .json(&json!({"quote_token": airport_quote}))
            .send()
            .unwrap();
        assert_problem(r, 401, "unauthenticated");
    }
}

#[test]
fn the_same_key_twice_replays_the_first_answer_and_another_body_is_422() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let (_, token) = server.rider();
        let body = json!({"quote_token": server.quote_token(next_week())});
        let first = server.book(&token, "same-key", &body);
        assert_eq!(first.status(), 201);
        let first_text = first.text().unwrap();
        let again = server.book(&token, "same-key", &body);
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.text().unwrap(), first_text, "byte-identical replay");

        let other = json!({"quote_token": body["quote_token"], "notes": "different"});
        assert_problem(
            server.book(&token, "same-key", &other),
            422,
            "idempotency_key_reused",
        );

        // Keys belong to a rider: another rider may use the same key.
        let (_, other_rider) = server.rider();
        assert_eq!(server.book(&other_rider, "same-key", &body).status(), 201);

        assert_eq!(server.booking_count(&token), 1, "one booking for one key");
    }
}

#[test]
fn twenty_concurrent_requests_with_one_key_create_exactly_one_booking() {
    for backend in backends() {
        let server = Arc::new(TestServer::start(backend));
        let (_, token) = server.rider();
        let body = json!({"quote_token": server.quote_token(next_week())});
        for round in 0..3 {
            let key = format!("race-{round}");
            let barrier = Arc::new(Barrier::new(20));
            let handles: Vec<_> = (0..20)
                .map(|_| {
                    let (server, barrier, token, body, key) = (
                        server.clone(),
                        barrier.clone(),
                        token.clone(),
                        body.clone(),
                        key.clone(),
                    );
                    std::thread::spawn(move || {
                        barrier.wait();
                        let r = server.book(&token, &key, &body);
                        (r.status().as_u16(), r.text().unwrap())
                    })
                })
                .collect();
            let answers: Vec<(u16, String)> =
                handles.into_iter().map(|h| h.join().unwrap()).collect();
            let created: BTreeSet<&String> = answers
                .iter()
                .filter(|(s, _)| *s == 201)
                .map(|(_, b)| b)
                .collect();
            assert_eq!(
                created.len(),
                1,
                "every 201 carries the same booking: {answers:?}"
            );
            assert!(
                answers.iter().all(|(s, _)| *s == 201 || *s == 409),
                "{answers:?}"
            );
        }
        assert_eq!(
            server.booking_count(&token),
            3,
            "{backend:?}: one booking per key"
        );
    }
}

#[test]
fn another_riders_booking_answers_404_like_a_missing_one() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let (_, alice) = server.rider();
        let (_, bob) = server.rider();
        let booking: Value = server
            .book(
                &alice,
                "k",
                &json!({"quote_token": server.quote_token(next_week())}),
            )
            .json()
            .unwrap();
        let id = booking["id"].as_str().unwrap();
        for path in [
            format!("/v1/bookings/{id}"),
            format!("/v1/bookings/{id}/history"),
            format!("/v1/bookings/{id}/cancellation"),
        ] {
            let theirs = assert_problem(
                server.get(&path).bearer_auth(&bob).send().unwrap(),
                404,
                "not_found",
            );
            let missing_path = path.replace(id, "01900000-0000-7000-8000-000000000000");
            let missing = assert_problem(
                server.get(&missing_path).bearer_auth(&bob).send().unwrap(),
                404,
                "not_found",
            );
            assert_eq!(theirs, missing);
            // An id that is not a UUID names nothing: the same answer.
            let malformed_path = path.replace(id, "not-a-uuid");
            let malformed = assert_problem(
                server
                    .get(&malformed_path)
                    .bearer_auth(&bob)
                    .send()
                    .unwrap(),
                404,
                "not_found",
            );
            assert_eq!(malformed, missing);
        }
        let r = server
            .post(&format!("/v1/bookings/{id}/cancel"))
            .bearer_auth(&bob)
            .json(&json!({"acknowledged_fee_minor": 0}))
            .send()
            .unwrap();
        assert_problem(r, 404, "not_found");
        assert_eq!(server.booking_count(&bob), 0);
        assert_eq!(
            server
                .get(&format!("/v1/bookings/{id}"))
                .bearer_auth(&alice)
                .send()
                .unwrap()
                .status(),
            200
        );
    }
}

#[test]
fn cancelling_shows_the_fee_then_confirms_it_and_history_records_every_change() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let (_, token) = server.rider();

        // A week ahead: free.
        let booking: Value = server
            .book(
                &token,
                "a",
                &json!({"quote_token": server.quote_token(next_week())}),
            )
            .json()
            .unwrap();
        let id = booking["id"].as_str().unwrap();
        let preview: Value = server
            .get(&format!("/v1/bookings/{id}/cancellation"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(preview["fee"]["amount_minor"], 0);
        assert!(preview["changes_at"].is_string());
        let r = server
            .post(&format!("/v1/bookings/{id}/cancel"))
            .bearer_auth(&token)
            .json(&json!({"acknowledged_fee_minor": 0}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        let cancelled: Value = r.json().unwrap();
        assert_eq!(cancelled["state"], "cancelled");
        assert_eq!(cancelled["cancellation_fee"]["amount_minor"], 0);
        // Cancelled is final.
        let again = server
            .post(&format!("/v1/bookings/{id}/cancel"))
            .bearer_auth(&token)
            .json(&json!({"acknowledged_fee_minor": 0}))
            .send()
            .unwrap();
        assert_problem(again, 409, "cancellation_not_allowed");

        let history: Value = server
            .get(&format!("/v1/bookings/{id}/history"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let entries = history["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            (
                entries[0]["from_state"].clone(),
                entries[0]["to_state"].clone()
            ),
            (Value::Null, json!("pending"))
        );
        assert_eq!(
            (
                entries[1]["from_state"].clone(),
                entries[1]["to_state"].clone()
            ),
            (json!("pending"), json!("cancelled"))
        );
        assert_eq!(entries[1]["actor"], "rider");
        assert_eq!(
            entries[1]["previous"]["state"], "pending",
            "the full earlier version is kept"
        );
        assert_eq!(entries[1]["previous"]["version"], 1);
        assert_eq!(entries[1]["booking"]["version"], 2);

        // As soon as possible: the ride is due now, so cancelling costs the full price.
        let now = server.quote_token(json!({"kind": "asap"}));
        let booking: Value = server
            .book(&token, "b", &json!({"quote_token": now}))
            .json()
            .unwrap();
        let id = booking["id"].as_str().unwrap();
        let price = booking["price"]["amount_minor"].as_i64().unwrap();
        let preview: Value = server
            .get(&format!("/v1/bookings/{id}/cancellation"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(preview["fee"]["amount_minor"], price);
        assert_eq!(preview["percent_bp"], 10_000);
        let stale = server
            .post(&format!("/v1/bookings/{id}/cancel"))
            .bearer_auth(&token)
            .json(&json!({"acknowledged_fee_minor": 0}))
            .send()
            .unwrap();
        assert_problem(stale, 409, "cancellation_fee_changed");
        let r = server
            .post(&format!("/v1/bookings/{id}/cancel"))
            .bearer_auth(&token)
            .json(&json!({"acknowledged_fee_minor": price}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.json::<Value>().unwrap()["cancellation_fee"]["amount_minor"],
            price
        );
    }
}

#[test]
fn export_returns_everything_and_erase_keeps_bookings_anonymised() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let (email, token) = server.rider();
        let booking: Value = server
            .book(
                &token,
                "k",
                &json!({"quote_token": server.quote_token(next_week()), "notes": "Ring twice"}),
            )
            .json()
            .unwrap();
        let export: Value = server
            .get("/v1/me/export")
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(export["user"]["email"], email);
        assert_eq!(export["bookings"][0]["booking"]["id"], booking["id"]);
        assert_eq!(export["bookings"][0]["personal"]["notes"], "Ring twice");
        assert_eq!(
            export["bookings"][0]["history"].as_array().unwrap().len(),
            1
        );

        assert_eq!(
            server
                .delete("/v1/me")
                .bearer_auth(&token)
                .send()
                .unwrap()
                .status(),
            204
        );
        assert_problem(
            server.get("/v1/me").bearer_auth(&token).send().unwrap(),
            401,
            "unauthenticated",
        );
        let r = server
            .post("/v1/sessions")
            .json(&json!({"email": email, "password": "correct horse battery"}))
            .send()
            .unwrap();
        assert_problem(r, 401, "invalid_credentials");

        // Straight from the database: the booking stays for accounting, without personal data.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (stored, personal, history) = runtime.block_on(async {
            let store = Store::connect(&server.database_url).await.unwrap();
            let id = uuid::Uuid::parse_str(booking["id"].as_str().unwrap()).unwrap();
            let (b, p) = store.booking(id).await.unwrap().unwrap();
            (b, p, store.history(id).await.unwrap())
        });
        assert_eq!(
            stored.price_minor,
            booking["price"]["amount_minor"].as_i64().unwrap()
        );
        assert_eq!(personal, chauffeur_server::store::Personal::default());
        let kept_answers: i64 = runtime.block_on(async {
            let store = Store::connect(&server.database_url).await.unwrap();
            store.stored_answers_of(stored.rider_id).await.unwrap()
        });
        assert_eq!(kept_answers, 0, "no stored answer keeps the notes");
        // The upcoming booking, free to cancel, was cancelled before the erasure.
        assert_eq!(stored.state, chauffeur_core::BookingState::Cancelled);
        assert_eq!(stored.cancellation_fee_minor, Some(0));
        assert_eq!(history.len(), 2);
        assert!(
            history
                .iter()
                .all(|h| !h.snapshot.to_string().contains("Ring twice")),
            "history holds no personal data"
        );
    }
}

#[test]
fn history_cannot_be_rewritten_even_by_sql() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let (_, token) = server.rider();
        server.book(
            &token,
            "k",
            &json!({"quote_token": server.quote_token(next_week())}),
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            match Store::connect(&server.database_url).await.unwrap() {
                Store::Sqlite(db) => {
                    let pool = db.pool;
                    assert!(
                        sqlx::query("UPDATE booking_history SET to_state = 'completed'")
                            .execute(&pool)
                            .await
                            .is_err()
                    );
                    assert!(sqlx::query("DELETE FROM booking_history")
                        .execute(&pool)
                        .await
                        .is_err());
                }
                Store::Postgres(pool) => {
                    assert!(
                        sqlx::query("UPDATE booking_history SET to_state = 'completed'")
                            .execute(&pool)
                            .await
                            .is_err()
                    );
                    assert!(sqlx::query("DELETE FROM booking_history")
                        .execute(&pool)
                        .await
                        .is_err());
                }
            }
        });
    }
}

#[test]
fn malformed_input_never_causes_a_5xx() {
    for backend in backends() {
        malformed_input_never_causes_a_5xx_on(TestServer::start(backend));
    }
}

fn malformed_input_never_causes_a_5xx_on(server: TestServer) {
    let (_, token) = server.rider();
    let bodies = [
        "",
        "null",
        "[]",
        "{}",
        "\"x\"",
        "{\"quote_token\": 5}",
        "{\"email\": []}",
        "\u{0}",
        "{\"city_id\":\"berlin\",\"pickup\":{\"lat\":\"a\",\"lon\":1}}",
        "{\"acknowledged_fee_minor\": 1e400}",
        "{\"passengers\": -1}",
        "{\"quote_token\": \"a.b\", \"passenger\": {\"name\": \"\", \"phone\": \"1\"}}",
    ];
    let id = "01900000-0000-7000-8000-000000000000";
    let posts = [
        "/v1/quotes",
        "/v1/accounts",
        "/v1/sessions",
        "/v1/bookings",
        &format!("/v1/bookings/{id}/cancel"),
    ];
    for path in posts {
        for body in bodies {
            for content_type in ["application/json", "text/plain"] {
                let r = server
                    .post(path)
                    .bearer_auth(&token)
                    .header("idempotency-key", uuid::Uuid::now_v7().to_string())
                    .header("content-type", content_type)
                    .body(body)
                    .send()
                    .unwrap();
                let status = r.status().as_u16();
                assert!(
                    (400..500).contains(&status),
                    "{path} {body:?} {content_type}: {status}"
                );
                assert_eq!(r.headers()["content-type"], "application/problem+json");
            }
        }
    }
    for path in [
        "/v1/bookings/not-a-uuid",
        "/v1/bookings/%00",
        "/v1/cities/%FF",
        "/nope",
    ] {
        let status = server
            .get(path)
            .bearer_auth(&token)
            .send()
            .unwrap()
            .status()
            .as_u16();
        assert!((400..500).contains(&status), "{path}: {status}");
    }
    assert_eq!(server.booking_count(&token), 0, "no garbage was stored");
}

#[test]
fn the_openapi_document_lists_every_route_the_router_serves() {
    let server = TestServer::start(Backend::Sqlite);
    let doc: Value = server.get("/openapi.json").send().unwrap().json().unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    // The router and the document are built from the same route lists: the served document
    // is exactly the one the crate builds.
    let built = serde_json::to_value(chauffeur_server::http::api_doc()).unwrap();
    assert_eq!(doc, built);
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    // DESIGN.md's API for this stage, plus operations: each is documented (and so, below,
    // routed). The list of routes itself comes from the crate.
    for (method, path) in [
        ("GET", "/v1/cities"),
        ("GET", "/v1/cities/{id}"),
        ("POST", "/v1/quotes"),
        ("POST", "/v1/accounts"),
        ("POST", "/v1/sessions"),
        ("DELETE", "/v1/sessions/current"),
        ("GET", "/v1/me"),
        ("DELETE", "/v1/me"),
        ("GET", "/v1/me/export"),
        ("POST", "/v1/bookings"),
        ("GET", "/v1/bookings"),
        ("GET", "/v1/bookings/{id}"),
        ("GET", "/v1/bookings/{id}/history"),
        ("GET", "/v1/bookings/{id}/cancellation"),
        ("POST", "/v1/bookings/{id}/cancel"),
        ("GET", "/v1/partner/offers"),
        ("POST", "/v1/partner/offers/{id}/accept"),
        ("POST", "/v1/partner/offers/{id}/decline"),
        ("GET", "/v1/partner/rides"),
        ("POST", "/v1/partner/rides/{id}/assign"),
        ("POST", "/v1/partner/rides/{id}/give-back"),
        ("GET", "/v1/chauffeur/rides"),
        ("POST", "/v1/chauffeur/rides/{id}/status"),
        ("GET", "/v1/bookings/{id}/events"),
        ("GET", "/v1/partner/events"),
        ("POST", "/v1/chauffeur/location"),
        ("GET", "/v1/chauffeur/offers"),
        ("POST", "/v1/chauffeur/offers/{id}/accept"),
        ("GET", "/v1/partner/chauffeurs"),
        ("GET", "/v1/partner/vehicles"),
        ("GET", "/v1/operator/partners"),
        ("POST", "/v1/operator/partners"),
        ("POST", "/v1/operator/partners/{id}/members"),
        ("POST", "/v1/operator/partners/{id}/vehicles"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
    ] {
        assert!(
            documented.contains(&(method.to_owned(), path.to_owned())),
            "{method} {path} is not documented"
        );
    }
    // The test clock is never documented (and not served without --test-clock).
    assert!(doc["paths"].get("/v1/test/clock").is_none());
    // The quote request has a documented body.
    assert!(
        doc["paths"]["/v1/quotes"]["post"]["requestBody"].is_object(),
        "POST /v1/quotes has no requestBody"
    );
    // …and it is the core's quote request with its properties, not an opaque object.
    let quote_body =
        &doc["paths"]["/v1/quotes"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    let quote_schema = match quote_body["$ref"].as_str() {
        Some(target) => {
            &doc["components"]["schemas"][target.trim_start_matches("#/components/schemas/")]
        }
        None => quote_body,
    };
    let properties = quote_schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("the quote request schema has no properties: {quote_schema}"));
    for field in ["city_id", "pickup", "product", "pickup_time", "passengers"] {
        assert!(
            properties.contains_key(field),
            "the quote request schema lacks {field}: {quote_schema}"
        );
    }
    // A city and the whole catalog are documented with their properties too.
    for (path, fields) in [
        (
            "/v1/cities/{id}",
            &["id", "time_zone", "currency", "classes", "airports"][..],
        ),
        ("/v1/cities", &["version", "cities"][..]),
    ] {
        let body =
            &doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        let target = body["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{path}: {body}"));
        let schema =
            &doc["components"]["schemas"][target.trim_start_matches("#/components/schemas/")];
        for field in fields {
            assert!(
                schema["properties"].get(*field).is_some(),
                "{path}: the answer's schema lacks {field}: {schema}"
            );
        }
    }
    // Problem is the documented error body.
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // Every schema a route refers to is in the document.
    fn refs(value: &Value, found: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.insert(target.clone());
                }
                map.values().for_each(|v| refs(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let mut targets = BTreeSet::new();
    refs(&doc, &mut targets);
    for target in &targets {
        let name = target.trim_start_matches("#/components/schemas/");
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{target} is referred to but not defined"
        );
    }
    // And every documented route really is routed (not the router's 404 or 405).
    for (method, path) in &documented {
        let url = path.replace("{id}", "berlin");
        let request = match method.as_str() {
            "GET" => server.get(&url),
            "POST" => server.post(&url),
            _ => server.delete(&url),
        };
        let r = request.send().unwrap();
        let status = r.status().as_u16();
        let body = r.text().unwrap();
        assert!(
            !body.contains("route_not_found") && !body.contains("method_not_allowed"),
            "{method} {path}: {status} {body}"
        );
    }
    assert_problem(
        server.get("/v1/nothing-here").send().unwrap(),
        404,
        "route_not_found",
    );
    assert_problem(
        server.delete("/v1/quotes").send().unwrap(),
        405,
        "method_not_allowed",
    );
}

#[test]
fn health_readiness_metrics_and_request_ids() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let r = server.get("/healthz").send().unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("x-request-id").is_some());
        let r = server
            .get("/readyz")
            .header("x-request-id", "trace-me-42")
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-request-id"], "trace-me-42");
        let (_, token) = server.rider();
        server.book(
            &token,
            "m",
            &json!({"quote_token": server.quote_token(next_week())}),
        );
        let metrics = server.get("/metrics").send().unwrap().text().unwrap();
        assert!(
            metrics.contains("chauffeur_bookings_created_total 1"),
            "{metrics}"
        );
        assert!(metrics.contains(
            "chauffeur_http_requests_total{route=\"/v1/quotes\",method=\"POST\",status=\"200\"} 1"
        ));
        assert!(metrics
            .contains("chauffeur_http_request_duration_seconds_bucket{route=\"/v1/bookings\""));
    }
}

#[test]
fn sigterm_stops_the_server_cleanly_and_data_survives_a_restart() {
    let database_dir = TempDir::new("chauffeur-restart");
    let url = format!("sqlite://{}", database_dir.0.join("chauffeur.db").display());
    let server = TestServer::start_on(
        Backend::Sqlite,
        TempDir::new("chauffeur-restart-1"),
        url.clone(),
    );
    let (email, token) = server.rider();
    let booking: Value = server
        .book(
            &token,
            "k",
            &json!({"quote_token": server.quote_token(next_week())}),
        )
        .json()
        .unwrap();
    assert!(server.terminate(), "SIGTERM ends the process with success");
    let again = TestServer::start_on(Backend::Sqlite, TempDir::new("chauffeur-restart-2"), url);
    let token = again.log_in(&email, "correct horse battery");
    let id = booking["id"].as_str().unwrap();
    let r = again
        .get(&format!("/v1/bookings/{id}"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}
