//! Card payments through a booking's life, end to end: the real server with the local test
//! provider as its own process over loopback (`chauffeur-server payments-double`), its webhooks
//! signed and sent back. Booking holds the card (quote + allowance), a completed ride with
//! waiting captures the final fare (and its invoice says so), a cancellation inside the fee
//! window captures the fee, a free one releases the hold, a decline books nothing, the card step
//! (3-D Secure) is finished by a signed webhook while a forged one changes nothing, an operator
//! refunds once per key, and a server killed between the provider's capture and its own commit
//! settles on restart with the card charged exactly once. SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::double::{Double, WEBHOOK_SECRET};
use common::ride::*;
use common::*;
use serde_json::{json, Value};

/// The server on `url`, taking card payments through `double`, whose webhooks come back to it.
fn start_paying(backend: Backend, url: &str, double: &Double) -> TestServer {
    let server = TestServer::start_with(
        backend,
        TempDir::new("srv"),
        url.to_owned(),
        &[
            "--test-clock",
            "--dispatch-interval-ms",
            "60000",
            "--payments-url",
            &double.base,
            "--payments-secret-key",
            "sk_test_payment_flow",
            "--payments-webhook-secret",
            WEBHOOK_SECRET,
            "--payments-provider",
            "test",
        ],
    );
    double.configure(json!({"webhook_url": server.url("/v1/payments/webhook")}));
    server
}

fn book_with(server: &TestServer, rider: &str, card: &str) -> reqwest::blocking::Response {
    let quote = server.quote_token(next_week());
    let key = uuid::Uuid::now_v7().to_string();
    server.book(
        rider,
        &key,
        &json!({"quote_token": quote, "payment_method_id": card}),
    )
}

/// Waits (bounded) until the booking satisfies `done`; returns it.
fn eventually(
    server: &TestServer,
    rider: &str,
    booking: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let view = state_of(server, rider, booking);
        if done(&view) {
            return view;
        }
        assert!(Instant::now() < deadline, "never {what}: {view}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn payment_is(status: &'static str) -> impl Fn(&Value) -> bool {
    move |view: &Value| view["payment"]["status"] == status
}

fn minor(v: &Value) -> i64 {
    v["amount_minor"].as_i64().unwrap()
}

/// Drives an accepted, assigned ride to completion with `waiting` minutes of waiting (15 free).
fn ride_with_waiting(server: &TestServer, p: &Partner, booking: &str, waiting: i64) -> Value {
    accept(server, p, booking);
    assert_eq!(assign(server, p, booking).status(), 200);
    let ok = |body: Value| {
        let r = status(server, &p.chauffeur, booking, body.clone());
        assert_eq!(r.status(), 200, "{body}: {}", r.text().unwrap());
        r.json::<Value>().unwrap()
    };
    advance(server, 7 * 24 * 3600 - 20 * 60);
    ok(json!({"status": "en_route"}));
    advance(server, 20 * 60);
    ok(json!({"status": "arrived"}));
    advance(server, waiting * 60);
    ok(json!({"status": "on_board"}));
    advance(server, 15 * 60);
    ok(json!({"status": "completed"}))
}

fn operator(url: &str, server: &TestServer) -> String {
    let email = format!("ops-{}@example.com", uuid::Uuid::now_v7().simple());
    let out = Command::new(server_binary())
        .args(["operator", "--database-url", url, "--email", &email])
        .args(["--password", "operator password", "--name", "Ops"])
        .env("CHAUFFEUR_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.log_in(&email, "operator password")
}

#[test]
fn a_ride_is_paid_by_card_from_hold_to_capture_to_invoice_and_refund() {
    for backend in backends() {
        let double = Double::start();
        let (url, _db) = TestServer::fresh_database(backend);
        let server = start_paying(backend, &url, &double);
        let config: Value = server
            .get("/v1/payments/config")
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(config["provider"], "test", "{config}");
        assert_eq!(config["allowance_bp"], 2000);
        let p = partner(&server, &url, "Berlin Limousines");
        let (_, rider) = server.rider();

        // No card: refused at the field, before anything is asked of the provider.
        let quote = server.quote_token(next_week());
        let r = server.book(&rider, "no-card", &json!({"quote_token": quote}));
        let problem = assert_problem(r, 422, "payment_method_required");
        assert_eq!(problem["field"], "payment_method_id");

        // Declined: 402 in the rider's words, and nothing booked.
        let declined = assert_problem(
            book_with(&server, &rider, "pm_card_chargeDeclinedInsufficientFunds"),
            402,
            "card_declined",
        );
        assert!(
            declined["detail"]
                .as_str()
                .unwrap()
                .contains("not enough funds"),
            "{declined}"
        );
        assert_eq!(
            server.booking_count(&rider),
            0,
            "{backend:?}: a decline books nothing"
        );

        // Authorised: the quote plus the 20 % allowance is held; the booking is offered.
        let r = book_with(&server, &rider, "pm_card_visa");
        assert_eq!(r.status(), 201);
        let booked: Value = r.json().unwrap();
        let booking = booked["id"].as_str().unwrap().to_owned();
        assert_eq!(booked["state"], "pending");
        let quoted = minor(&booked["price"]);
        assert_eq!(booked["payment"]["status"], "authorized", "{booked}");
        assert_eq!(
            minor(&booked["payment"]["held"]),
            quoted + (quoted * 2000 + 9_999) / 10_000
        );
        assert_eq!(minor(&booked["payment"]["captured"]), 0);

        // Completed with 5 minutes of paid waiting: the final fare is captured from the hold.
        let done = ride_with_waiting(&server, &p, &booking, 20);
        let final_price = minor(&done["final_price"]);
        assert!(final_price > quoted, "waiting was charged: {done}");
        let paid = eventually(
            &server,
            &rider,
            &booking,
            "captured",
            payment_is("captured"),
        );
        assert_eq!(minor(&paid["payment"]["captured"]), final_price, "{paid}");
        assert_eq!(minor(&paid["payment"]["extra_charged"]), 0);
        let stats = double.stats();
        assert_eq!(stats["authorizations"], 1, "{stats}");
        assert_eq!(stats["captures"], 1, "{stats}");

        // The invoice: the captured fare, paid by card.
        let invoice: Value = server
            .get(&format!("/v1/bookings/{booking}/invoice"))
            .bearer_auth(&rider)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(minor(&invoice["total"]), final_price, "{invoice}");
        assert_eq!(invoice["payment_method"], "Card");
        if poppler() {
            let pdf = server
                .get(&format!("/v1/bookings/{booking}/invoice?lang=en"))
                .bearer_auth(&rider)
                .header("accept", "application/pdf")
                .send()
                .unwrap()
                .bytes()
                .unwrap();
            let text = pdf_text(&pdf, &format!("{backend:?}-paid").to_lowercase());
            let total = format!("EUR {}.{:02}", final_price / 100, final_price % 100);
            assert!(text.contains(&total), "{total} not in:\n{text}");
            assert!(
                text.contains("Card"),
                "the payment method is not in:\n{text}"
            );
        }

        // An operator refunds part of it, once per key, and the history records it.
        let ops = operator(&url, &server);
        let refund = |key: &str, amount: i64| {
            server
                .post(&format!("/v1/operator/bookings/{booking}/refunds"))
                .bearer_auth(&ops)
                .header("idempotency-key", key)
                .json(&json!({"amount_minor": amount, "reason": "Late pickup, sorry"}))
                .send()
                .unwrap()
        };
        let too_much = refund("refund-0", final_price + 1);
        assert_problem(too_much, 422, "refund_amount_invalid");
        let r = refund("refund-1", 1_000);
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
        assert_eq!(
            refund("refund-1", 1_000).status(),
            200,
            "a retry is answered"
        );
        let after = state_of(&server, &rider, &booking);
        assert_eq!(after["payment"]["status"], "partially_refunded", "{after}");
        assert_eq!(minor(&after["payment"]["refunded"]), 1_000);
        assert_eq!(
            after["payment"]["refunds"][0]["reason"],
            "Late pickup, sorry"
        );
        assert_eq!(
            double.stats()["refunds"],
            1,
            "the retry refunded nothing more"
        );
        let last = history_of(&server, &rider, &booking).pop().unwrap();
        assert_eq!(last["actor"], "operator", "{last}");
        assert_eq!(
            last["booking"]["payment"]["refunded_minor"], 1_000,
            "{last}"
        );
    }
}

#[test]
fn what_exceeds_the_hold_is_taken_as_a_second_charge_the_rider_sees() {
    let backend = Backend::Sqlite;
    let double = Double::start();
    let (url, _db) = TestServer::fresh_database(backend);
    let server = start_paying(backend, &url, &double);
    let p = partner(&server, &url, "Berlin Limousines");
    let (_, rider) = server.rider();
    let booked: Value = book_with(&server, &rider, "pm_card_visa").json().unwrap();
    let booking = booked["id"].as_str().unwrap().to_owned();
    let held = minor(&booked["payment"]["held"]);
    // 40 minutes of waiting, 25 paid: more than the 20 % allowance.
    let done = ride_with_waiting(&server, &p, &booking, 40);
    let final_price = minor(&done["final_price"]);
    assert!(final_price > held, "{done}");
    let paid = eventually(
        &server,
        &rider,
        &booking,
        "captured",
        payment_is("captured"),
    );
    assert_eq!(minor(&paid["payment"]["captured"]), held, "{paid}");
    assert_eq!(
        minor(&paid["payment"]["extra_charged"]),
        final_price - held,
        "{paid}"
    );
    let stats = double.stats();
    assert_eq!(
        stats["authorizations"], 2,
        "the hold and the second charge: {stats}"
    );
    assert_eq!(stats["captures"], 2, "{stats}");
}

#[test]
fn a_second_charge_the_card_would_need_a_bank_check_for_is_dropped_and_said() {
    let backend = Backend::Sqlite;
    let double = Double::start();
    let (url, _db) = TestServer::fresh_database(backend);
    let server = start_paying(backend, &url, &double);
    let p = partner(&server, &url, "Berlin Limousines");
    let (_, rider) = server.rider();
    // A card that needs the bank's check for every charge: the hold passes with the rider there.
    let booked: Value = book_with(&server, &rider, "pm_card_threeDSecure2Required")
        .json()
        .unwrap();
    let booking = booked["id"].as_str().unwrap().to_owned();
    double.authenticate(
        booked["payment"]["client_secret"].as_str().unwrap(),
        "succeed",
    );
    eventually(
        &server,
        &rider,
        &booking,
        "authorised",
        payment_is("authorized"),
    );
    let held = minor(&booked["payment"]["held"]);
    // Beyond the hold, the second charge would need the check again, without the rider there.
    ride_with_waiting(&server, &p, &booking, 40);
    let paid = eventually(
        &server,
        &rider,
        &booking,
        "captured",
        payment_is("captured"),
    );
    assert_eq!(minor(&paid["payment"]["captured"]), held, "{paid}");
    assert_eq!(minor(&paid["payment"]["extra_charged"]), 0, "{paid}");
    let failure = paid["payment"]["failure"].as_str().unwrap();
    assert!(failure.contains("could not be taken"), "{failure}");
    let stats = double.stats();
    assert_eq!(stats["captures"], 1, "{stats}");
    assert_eq!(
        stats["cancellations"], 1,
        "the second intent is dropped: {stats}"
    );
}

#[test]
fn a_cancellation_inside_the_fee_window_captures_the_fee_and_a_free_one_releases_the_hold() {
    for backend in backends() {
        let double = Double::start();
        let (url, _db) = TestServer::fresh_database(backend);
        let server = start_paying(backend, &url, &double);
        let p = partner(&server, &url, "Berlin Limousines");
        let (_, rider) = server.rider();
        let free: Value = book_with(&server, &rider, "pm_card_visa").json().unwrap();
        let charged: Value = book_with(&server, &rider, "pm_card_visa").json().unwrap();
        let cancel = |booking: &str| {
            let terms: Value = server
                .get(&format!("/v1/bookings/{booking}/cancellation"))
                .bearer_auth(&rider)
                .send()
                .unwrap()
                .json()
                .unwrap();
            let fee = terms["fee"]["amount_minor"]
                .as_i64()
                .unwrap_or_else(|| panic!("{booking}: {terms}"));
            let r = server
                .post(&format!("/v1/bookings/{booking}/cancel"))
                .bearer_auth(&rider)
                .json(&json!({"acknowledged_fee_minor": fee}))
                .send()
                .unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().unwrap());
            fee
        };

        let free_id = free["id"].as_str().unwrap();
        assert_eq!(cancel(free_id), 0);
        let released = eventually(&server, &rider, free_id, "released", payment_is("released"));
        assert_eq!(minor(&released["payment"]["captured"]), 0, "{released}");
        assert_eq!(double.stats()["cancellations"], 1);

        // Accepted, and thirty minutes before the pickup: a transfer costs its full price.
        let charged_id = charged["id"].as_str().unwrap();
        accept(&server, &p, charged_id);
        advance(&server, 7 * 24 * 3600 - 30 * 60);
        let fee = cancel(charged_id);
        assert_eq!(fee, minor(&charged["price"]));
        let paid = eventually(
            &server,
            &rider,
            charged_id,
            "fee captured",
            payment_is("captured"),
        );
        assert_eq!(minor(&paid["payment"]["captured"]), fee, "{paid}");
        assert_eq!(double.stats()["captures"], 1);
    }
}

#[test]
fn the_card_step_is_finished_by_a_signed_webhook_and_a_forged_one_changes_nothing() {
    for backend in backends() {
        let double = Double::start();
        let (url, _db) = TestServer::fresh_database(backend);
        let server = start_paying(backend, &url, &double);
        let p = partner(&server, &url, "Berlin Limousines");
        let (_, rider) = server.rider();

        let r = book_with(&server, &rider, "pm_card_threeDSecure2Required");
        assert_eq!(r.status(), 201);
        let waiting: Value = r.json().unwrap();
        let booking = waiting["id"].as_str().unwrap().to_owned();
        assert_eq!(waiting["state"], "payment_pending", "{waiting}");
        assert_eq!(waiting["payment"]["status"], "requires_action");
        let secret = waiting["payment"]["client_secret"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            open_offer(&server, &p.dispatcher, &booking),
            None,
            "not offered yet"
        );

        // A forged "authorised" event: refused, nothing changes.
        let intent = secret.split("_secret_").next().unwrap();
        let forged = json!({"type": "payment_intent.amount_capturable_updated",
            "data": {"object": {"id": intent, "status": "requires_capture", "amount": 1,
                                "currency": "eur"}}});
        let r = server
            .post("/v1/payments/webhook")
            .header(
                "stripe-signature",
                format!(
                    "t={},v1={}",
                    chrono::Utc::now().timestamp(),
                    "00".repeat(32)
                ),
            )
            .json(&forged)
            .send()
            .unwrap();
        assert_problem(r, 400, "webhook_signature_invalid");
        let unsigned = server
            .post("/v1/payments/webhook")
            .json(&forged)
            .send()
            .unwrap();
        assert_problem(unsigned, 400, "webhook_signature_invalid");
        assert_eq!(
            state_of(&server, &rider, &booking)["state"],
            "payment_pending"
        );
        let metrics = server.get("/metrics").send().unwrap().text().unwrap();
        assert!(
            metrics.contains("chauffeur_payment_webhooks_refused_total 2"),
            "{metrics}"
        );

        // The rider finishes the step in the provider's SDK; its signed webhook authorises.
        double.authenticate(&secret, "succeed");
        let offered = eventually(&server, &rider, &booking, "pending", |v| {
            v["state"] == "pending"
        });
        assert_eq!(offered["payment"]["status"], "authorized", "{offered}");
        assert!(offered["payment"]["client_secret"].is_null());
        // Offered right after (the dispatch step follows the commit that authorised it).
        let deadline = Instant::now() + Duration::from_secs(30);
        while open_offer(&server, &p.dispatcher, &booking).is_none() {
            assert!(
                Instant::now() < deadline,
                "never offered after the card step"
            );
            std::thread::sleep(Duration::from_millis(100));
        }

        // A failed step: cancelled, nothing charged; the app's confirm call says the same.
        let failing: Value = book_with(&server, &rider, "pm_card_threeDSecure2Required")
            .json()
            .unwrap();
        let failing_id = failing["id"].as_str().unwrap();
        double.authenticate(
            failing["payment"]["client_secret"].as_str().unwrap(),
            "fail",
        );
        let failed = eventually(&server, &rider, failing_id, "failed", payment_is("failed"));
        assert_eq!(failed["state"], "cancelled", "{failed}");
        assert!(failed["payment"]["failure"]
            .as_str()
            .unwrap()
            .contains("nothing was charged"));
        let confirmed: Value = server
            .post(&format!("/v1/bookings/{failing_id}/payment/confirm"))
            .bearer_auth(&rider)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(confirmed["state"], "cancelled");

        // The rider gives up before the card step: free, and the intent is cancelled.
        let given_up: Value = book_with(&server, &rider, "pm_card_threeDSecure2Required")
            .json()
            .unwrap();
        let given_up_id = given_up["id"].as_str().unwrap();
        let terms: Value = server
            .get(&format!("/v1/bookings/{given_up_id}/cancellation"))
            .bearer_auth(&rider)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(terms["fee"]["amount_minor"], 0, "{terms}");
        let r = server
            .post(&format!("/v1/bookings/{given_up_id}/cancel"))
            .bearer_auth(&rider)
            .json(&json!({"acknowledged_fee_minor": 0}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().unwrap());
        let released = eventually(
            &server,
            &rider,
            given_up_id,
            "released",
            payment_is("released"),
        );
        assert_eq!(minor(&released["payment"]["captured"]), 0, "{released}");

        // A step never finished is released after 15 minutes.
        let abandoned: Value = book_with(&server, &rider, "pm_card_threeDSecure2Required")
            .json()
            .unwrap();
        let abandoned_id = abandoned["id"].as_str().unwrap();
        advance(&server, 16 * 60);
        let expired = eventually(
            &server,
            &rider,
            abandoned_id,
            "expired",
            payment_is("failed"),
        );
        assert_eq!(expired["state"], "cancelled", "{expired}");
        assert!(expired["payment"]["failure"]
            .as_str()
            .unwrap()
            .contains("in time"));
    }
}

#[test]
fn a_server_killed_between_the_providers_capture_and_its_commit_settles_once_on_restart() {
    for backend in backends() {
        let double = Double::start();
        let (url, _db) = TestServer::fresh_database(backend);
        let server = start_paying(backend, &url, &double);
        let p = partner(&server, &url, "Berlin Limousines");
        let (_, rider) = server.rider();
        let booked: Value = book_with(&server, &rider, "pm_card_visa").json().unwrap();
        let booking = booked["id"].as_str().unwrap().to_owned();

        // The provider captures, then holds its answer: the server is killed in that window.
        double.configure(json!({"capture_delay_ms": 60_000}));
        let done = ride_with_waiting(&server, &p, &booking, 20);
        let final_price = minor(&done["final_price"]);
        let deadline = Instant::now() + Duration::from_secs(30);
        while double.stats()["captures"] != 1 {
            assert!(Instant::now() < deadline, "the capture was never asked for");
            std::thread::sleep(Duration::from_millis(50));
        }
        server.kill();

        // Restarted on the same database: the reconciliation asks again with the same key, the
        // provider answers its first capture, and the booking records it.
        double.configure(json!({"capture_delay_ms": 0}));
        let restarted = start_paying(backend, &url, &double);
        let paid = eventually(
            &restarted,
            &rider,
            &booking,
            "captured",
            payment_is("captured"),
        );
        assert_eq!(minor(&paid["payment"]["captured"]), final_price, "{paid}");
        let stats = double.stats();
        assert_eq!(stats["captures"], 1, "captured exactly once: {stats}");
        assert!(stats["replays"].as_u64().unwrap() >= 1, "{stats}");
    }
}
