#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report
//! The log-in throttle against the real server on every backend: a burst of wrong passwords
//! sent at once cannot get more guesses evaluated than the limit (the attempt is counted before
//! the password is checked), and wrong passwords from one client address do not shut the
//! owner out at another (the throttle is per account and client address; `X-Forwarded-For` is
//! not believed from a client that is not a configured proxy).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use chauffeur_e2e::*;
use reqwest::blocking::Client;
use serde_json::json;

/// Wrong passwords for one account from one address that are evaluated before the throttle
/// answers 429: the server's limit (five, as the issue that asked for this test states it).
const WRONG_GUESSES_EVALUATED_AT_MOST: usize = 5;
/// Wrong guesses in the burst, sent at once besides the right one.
const BURST: usize = 99;
const RIGHT_PASSWORD: &str = "correct horse battery";

fn client_from(address: Ipv4Addr) -> Client {
    Client::builder()
        .local_address(IpAddr::V4(address))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Posts a log-in; its status.
fn log_in_status(client: &Client, server: &TestServer, email: &str, password: &str) -> u16 {
    log_in_with(client, server, email, password, None)
}

fn log_in_with(
    client: &Client,
    server: &TestServer,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> u16 {
    let mut request = client
        .post(server.url("/v1/sessions"))
        .json(&json!({"email": email, "password": password}));
    if let Some(forwarded) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded);
    }
    request.send().unwrap().status().as_u16()
}

/// The statuses of `passwords` sent at once, each on a connection of its own from 127.0.0.1.
fn burst(server: &TestServer, email: &str, passwords: Vec<String>) -> Vec<(String, u16)> {
    let start = Arc::new(Barrier::new(passwords.len()));
    std::thread::scope(|scope| {
        let handles: Vec<_> = passwords
            .into_iter()
            .map(|password| {
                let start = start.clone();
                scope.spawn(move || {
                    let client = client_from(Ipv4Addr::LOCALHOST);
                    start.wait();
                    let status = log_in_status(&client, server, email, &password);
                    (password, status)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// 99 wrong passwords and the right one, all at once: at most the limit of wrong guesses is
/// evaluated (answered 401), the rest is refused unevaluated (429); and once the limit is
/// passed, the right password does not get in either.
#[test]
fn a_burst_of_wrong_passwords_gets_no_more_guesses_evaluated_than_the_limit() {
    for backend in backends() {
        let server = TestServer::start(backend);
        let (email, _) = server.rider();
        let mut passwords: Vec<String> =
            (0..BURST).map(|i| format!("wrong guess {i:03}")).collect();
        passwords.push(RIGHT_PASSWORD.to_owned());
        let answers = burst(&server, &email, passwords);
        let wrong_evaluated = answers
            .iter()
            .filter(|(p, s)| p != RIGHT_PASSWORD && *s == 401)
            .count();
        let refused = answers.iter().filter(|(_, s)| *s == 429).count();
        let right = answers
            .iter()
            .find(|(p, _)| p == RIGHT_PASSWORD)
            .map(|(_, s)| *s)
            .unwrap();
        println!(
            "log-in burst {backend:?}: {BURST} wrong + 1 right at once: {wrong_evaluated} wrong \
             evaluated (401), {refused} refused (429), the right one answered {right}"
        );
        for (password, status) in &answers {
            let allowed: &[u16] = if password == RIGHT_PASSWORD {
                &[201, 429]
            } else {
                &[401, 429]
            };
            assert!(
                allowed.contains(status),
                "{backend:?}: {password:?} answered {status}"
            );
        }
        assert!(
            wrong_evaluated <= WRONG_GUESSES_EVALUATED_AT_MOST,
            "{backend:?}: {wrong_evaluated} wrong passwords were evaluated in one burst; the \
             limit is {WRONG_GUESSES_EVALUATED_AT_MOST}"
        );

        // The limit is passed now (by the burst above, or by a second one if the right password
        // got in early and cleared it): the right password is refused too.
        let wrong_only: Vec<String> = (0..BURST).map(|i| format!("again wrong {i:03}")).collect();
        let second = burst(&server, &email, wrong_only);
        let second_evaluated = second.iter().filter(|(_, s)| *s == 401).count();
        assert!(
            second_evaluated <= WRONG_GUESSES_EVALUATED_AT_MOST,
            "{backend:?}: {second_evaluated} wrong passwords evaluated in the second burst"
        );
        let after = server
            .post("/v1/sessions")
            .json(&json!({"email": email, "password": RIGHT_PASSWORD}))
            .send()
            .unwrap();
        assert!(after.headers().contains_key("retry-after"));
        assert_problem(after, 429, "too_many_attempts");
    }
}

/// Wrong passwords for the owner's account from another address (127.0.0.2), also claiming to
/// come from the owner's address in `X-Forwarded-For` (not believed: no proxy is configured),
/// get that address throttled, while the owner at 127.0.0.1 still logs in.
#[test]
fn wrong_passwords_from_another_address_do_not_lock_out_the_owner() {
    let attacker_address = Ipv4Addr::new(127, 0, 0, 2);
    for backend in backends() {
        let server = TestServer::start(backend);
        let (email, _) = server.rider();
        let attacker = client_from(attacker_address);
        let owner = client_from(Ipv4Addr::LOCALHOST);
        let mut attacker_statuses = Vec::new();
        for i in 0..5 {
            let status = log_in_status(&attacker, &server, &email, &format!("guess {i}"));
            attacker_statuses.push(status);
        }
        for i in 0..5 {
            let status = log_in_with(
                &attacker,
                &server,
                &email,
                &format!("forwarded guess {i}"),
                Some("127.0.0.1"),
            );
            attacker_statuses.push(status);
        }
        println!("log-in from 127.0.0.2 {backend:?}: answers {attacker_statuses:?}");
        assert!(
            attacker_statuses.iter().all(|s| *s == 401 || *s == 429),
            "{backend:?}: {attacker_statuses:?}"
        );
        assert!(
            attacker_statuses.contains(&429),
            "{backend:?}: ten wrong passwords from one address were never throttled"
        );
        assert_eq!(
            log_in_status(&owner, &server, &email, RIGHT_PASSWORD),
            201,
            "{backend:?}: the owner at 127.0.0.1 is locked out by wrong passwords from 127.0.0.2"
        );
    }
}
