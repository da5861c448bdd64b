#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report
//! Several stateless server replicas on one PostgreSQL: what a rider sees on one replica of a
//! change made on another.

use chauffeur_e2e::*;
use serde_json::Value;

#[test]
fn a_rider_connected_to_one_replica_hears_a_change_made_on_another() {
    if !backends().contains(&Backend::Postgres) {
        return; // backends() already failed the test under CI=true
    }
    let (url, _db) = TestServer::fresh_database(Backend::Postgres);
    let a = TestServer::start_with(Backend::Postgres, TempDir::new("a"), url.clone(), &[]);
    let b = TestServer::start_with(Backend::Postgres, TempDir::new("b"), url.clone(), &[]);
    let (_, dispatcher_email) = berlin_partner(&url, "Berlin Limousines");
    let dispatcher = b.log_in(&dispatcher_email, "dispatcher password");
    let (_, rider) = a.rider();
    let booking = a.book_berlin(&rider);
    let mut stream = Stream::new(subscribe(
        &a,
        &format!("/v1/bookings/{booking}/events"),
        &rider,
        None,
    ));
    stream.wait("status", state_is("pending"));

    let offers: Value = b
        .get("/v1/partner/offers")
        .bearer_auth(&dispatcher)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let offer = offers["offers"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        b.post(&format!("/v1/partner/offers/{offer}/accept"))
            .bearer_auth(&dispatcher)
            .send()
            .unwrap()
            .status(),
        200
    );
    let confirmed = stream.wait("status", state_is("confirmed"));
    assert!(confirmed.id.is_some());
}
