#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report
//! `kill -9` in the middle of a booking load, on SQLite and on PostgreSQL: several clients book
//! at once, the server process is killed without warning, and restarted on the same data. Every
//! booking that was acknowledged (201) must be there, by its id and by replaying its
//! Idempotency-Key; every request left unanswered, sent again with its key, must end as exactly
//! one booking (the replay of what had landed, or a new booking if nothing had).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chauffeur_e2e::*;
use reqwest::blocking::Client;
use serde_json::{json, Value};

/// Clients booking at once, each as a rider of its own.
const CLIENTS: usize = 4;
/// Kill/restart rounds per backend; each kills at a different point of the load.
const ROUNDS: usize = 3;
/// Bookings one client sends at most in a round: bounds the load if the kill came late.
const MAX_BOOKINGS_PER_CLIENT: usize = 400;
/// How long the load may run before the kill must have happened.
const LOAD_DEADLINE: Duration = Duration::from_secs(30);

/// A rider of the load: its session and the quote every one of its bookings books.
struct Rider {
    token: String,
    body: Value,
}

/// What one client saw of its bookings before the kill.
#[derive(Default)]
struct ClientLog {
    /// (Idempotency-Key, booking id) of every 201.
    acknowledged: Vec<(String, String)>,
    /// Keys of requests that got no answer (or a retryable 503): they may or may not have landed.
    unanswered: Vec<String>,
    /// Whether the client stopped because the server went away (not because it ran out of work).
    interrupted: bool,
}

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn post_booking(client: &Client, base: &str, rider: &Rider, key: &str) -> reqwest::Result<Value> {
    let response = client
        .post(format!("{base}/v1/bookings"))
        .bearer_auth(&rider.token)
        .header("idempotency-key", key)
        .json(&rider.body)
        .send()?;
    let status = response.status().as_u16();
    let replayed = response.headers().contains_key("idempotent-replayed");
    let body: Value = response.json().unwrap_or(Value::Null);
    Ok(json!({"status": status, "replayed": replayed, "body": body}))
}

/// Books as fast as it can until the server goes away; every request is logged by its key.
fn load(base: String, rider: Arc<Rider>, acknowledged_total: Arc<AtomicUsize>) -> ClientLog {
    let client = client();
    let mut log = ClientLog::default();
    for _ in 0..MAX_BOOKINGS_PER_CLIENT {
        let key = uuid::Uuid::now_v7().to_string();
        match post_booking(&client, &base, &rider, &key) {
            Ok(answer) if answer["status"] == 201 => {
                let id = answer["body"]["id"].as_str().unwrap().to_owned();
                log.acknowledged.push((key, id));
                acknowledged_total.fetch_add(1, Ordering::SeqCst);
            }
            // Nothing acknowledged: the key is sent again after the restart like an unanswered one.
            Ok(answer) if answer["status"] == 503 => log.unanswered.push(key),
            Ok(answer) => panic!("unexpected answer during the load: {answer}"),
            Err(_) => {
                log.unanswered.push(key);
                log.interrupted = true;
                break;
            }
        }
    }
    log
}

/// Every booking id the rider sees, following the list's pages when it has them.
fn listed_ids(server: &TestServer, token: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = String::from("/v1/bookings?limit=200");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let r = server.get(&path).bearer_auth(token).send().unwrap();
        assert_eq!(r.status(), 200);
        let page: Value = r.json().unwrap();
        ids.extend(
            page["bookings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return ids,
        }
    }
}

/// Figures of one round, printed and checked.
struct RoundFigures {
    acknowledged: usize,
    found: usize,
    unanswered: usize,
    landed_before_kill: usize,
    booked_on_resend: usize,
}

fn kill_round(backend: Backend, round: usize) -> RoundFigures {
    let (url, _db_dir) = TestServer::fresh_database(backend);
    let server = TestServer::start_with(backend, TempDir::new("chauffeur-kill"), url.clone(), &[]);
    let riders: Vec<Arc<Rider>> = (0..CLIENTS)
        .map(|_| {
            let (_, token) = server.rider();
            let body = json!({"quote_token": server.quote_token(next_week())});
            Arc::new(Rider { token, body })
        })
        .collect();

    // The kill comes after a different number of acknowledged bookings each round.
    let kill_after = 10 + 23 * round;
    let acknowledged_total = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = riders
        .iter()
        .map(|rider| {
            let (base, rider, total) = (
                server.base.clone(),
                rider.clone(),
                acknowledged_total.clone(),
            );
            std::thread::spawn(move || load(base, rider, total))
        })
        .collect();
    let started = Instant::now();
    while acknowledged_total.load(Ordering::SeqCst) < kill_after {
        assert!(
            started.elapsed() < LOAD_DEADLINE,
            "{backend:?}: only {} bookings acknowledged in {LOAD_DEADLINE:?}",
            acknowledged_total.load(Ordering::SeqCst)
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    server.kill();
    let logs: Vec<ClientLog> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    assert!(
        logs.iter().all(|l| l.interrupted),
        "{backend:?}: a client ran out of work before the kill; the kill was not mid-load"
    );

    // Restart on the same data (same database, same quote key).
    let server = TestServer::start_with(backend, TempDir::new("chauffeur-kill"), url, &[]);
    let http = client();
    let mut figures = RoundFigures {
        acknowledged: 0,
        found: 0,
        unanswered: 0,
        landed_before_kill: 0,
        booked_on_resend: 0,
    };
    for (rider, log) in riders.iter().zip(&logs) {
        let before: HashSet<String> = listed_ids(&server, &rider.token).into_iter().collect();
        let mut expected: HashSet<String> = HashSet::new();
        for (key, id) in &log.acknowledged {
            figures.acknowledged += 1;
            let by_id = server
                .get(&format!("/v1/bookings/{id}"))
                .bearer_auth(&rider.token)
                .send()
                .unwrap();
            let replay = post_booking(&http, &server.base, rider, key).unwrap();
            let found = by_id.status() == 200
                && before.contains(id)
                && replay["status"] == 201
                && replay["replayed"] == true
                && replay["body"]["id"] == id.as_str();
            assert!(found, "{backend:?} round {round}: acknowledged booking {id} (key {key}) lost: by id {}, replay {replay}", by_id.status());
            figures.found += 1;
            expected.insert(id.clone());
        }
        for key in &log.unanswered {
            figures.unanswered += 1;
            let answer = post_booking(&http, &server.base, rider, key).unwrap();
            assert_eq!(
                answer["status"], 201,
                "{backend:?} round {round}: resending key {key}: {answer}"
            );
            let id = answer["body"]["id"].as_str().unwrap().to_owned();
            if answer["replayed"] == true {
                assert!(
                    before.contains(&id),
                    "a replay names a booking that was not there"
                );
                figures.landed_before_kill += 1;
            } else {
                assert!(!before.contains(&id));
                figures.booked_on_resend += 1;
            }
            assert!(expected.insert(id), "two keys gave one booking");
        }
        // Exactly one booking per key: nothing less, and nothing more (no duplicate of a resent
        // request, no booking that landed under a key nobody knows of).
        let after: HashSet<String> = listed_ids(&server, &rider.token).into_iter().collect();
        assert_eq!(
            after, expected,
            "{backend:?} round {round}: the rider's bookings are not one per key"
        );
    }
    assert_eq!(figures.found, figures.acknowledged);
    figures
}

#[test]
fn after_kill_9_mid_load_every_acknowledged_booking_is_there_and_resent_keys_book_once() {
    for backend in backends() {
        for round in 1..=ROUNDS {
            let f = kill_round(backend, round);
            println!(
                "kill -9 {backend:?} round {round}: {} acknowledged, {} found (by id and by key); \
                 {} unanswered resent: {} had landed (replayed), {} booked on resend",
                f.acknowledged, f.found, f.unanswered, f.landed_before_kill, f.booked_on_resend
            );
        }
    }
}
