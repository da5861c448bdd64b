//! Dispatch as partners meet it: offers reach eligible partners, the first accept wins, nobody
//! sees or touches another partner's offers. Real server processes, SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::sync::{Arc, Barrier};

use chauffeur_core::VehicleClass;
use chauffeur_server::auth::PasswordHashing;
use chauffeur_server::store::{NewUser, Role, Store};
use common::ride::history_of;
use common::*;
use serde_json::Value;

fn offers(server: &TestServer, token: &str) -> Vec<Value> {
    let r = server
        .get("/v1/partner/offers")
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().unwrap()["offers"]
        .as_array()
        .unwrap()
        .clone()
}

fn offer_for(server: &TestServer, token: &str, booking_id: &str) -> Option<String> {
    offers(server, token)
        .iter()
        .find(|o| o["booking_id"] == booking_id)
        .map(|o| o["id"].as_str().unwrap().to_owned())
}

#[test]
fn a_booking_is_offered_to_a_partner_who_accepts_and_the_rider_sees_it_confirmed() {
    for backend in backends() {
        let (url, _db) = TestServer::fresh_database(backend);
        let server = TestServer::start_with(backend, TempDir::new("srv"), url.clone(), &[]);
        let (_, email) = berlin_partner(&url, "Berlin Limousines");
        let partner = server.log_in(&email, "dispatcher password");
        let (_, rider) = server.rider();
        let booking = server.book_berlin(&rider);

        let offer = offer_for(&server, &partner, &booking).expect("the partner received the offer");
        let listed = offers(&server, &partner);
        assert_eq!(listed[0]["city_id"], "berlin");
        assert_eq!(listed[0]["passengers"], 2);
        let r = server
            .post(&format!("/v1/partner/offers/{offer}/accept"))
            .bearer_auth(&partner)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().unwrap()["state"], "confirmed");

        let seen: Value = server
            .get(&format!("/v1/bookings/{booking}"))
            .bearer_auth(&rider)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(seen["state"], "confirmed");
        let last = history_of(&server, &rider, &booking).pop().unwrap();
        assert_eq!(
            (last["actor"].as_str(), last["to_state"].as_str()),
            (Some("partner"), Some("confirmed"))
        );
        assert!(
            offers(&server, &partner).is_empty(),
            "an accepted offer leaves the list"
        );

        // The CLI lists the partner with its account and vehicle.
        let list = partner_cli(&url, &["list"]);
        assert!(
            list.contains("Berlin Limousines")
                && list.contains("members=1")
                && list.contains("vehicles=1"),
            "{list}"
        );
    }
}

#[test]
fn partners_only_see_and_answer_their_own_offers() {
    for backend in backends() {
        let (url, _db) = TestServer::fresh_database(backend);
        let server = TestServer::start_with(backend, TempDir::new("srv"), url.clone(), &[]);
        let (_, berlin) = berlin_partner(&url, "Berlin Limousines");
        let munich_id = partner_cli(
            &url,
            &[
                "create",
                "--name",
                "Isar Cars",
                "--city",
                "munich",
                "--class",
                "business",
            ],
        );
        partner_cli(
            &url,
            &[
                "add-member",
                "--partner",
                &munich_id,
                "--email",
                "isar@example.com",
                "--password",
                "dispatcher password",
                "--name",
                "Isar",
            ],
        );
        partner_cli(
            &url,
            &[
                "add-vehicle",
                "--partner",
                &munich_id,
                "--class",
                "business",
                "--plate",
                "M-1",
                "--seats",
                "3",
                "--bags",
                "2",
            ],
        );
        let berlin = server.log_in(&berlin, "dispatcher password");
        let munich = server.log_in("isar@example.com", "dispatcher password");
        let (_, rider) = server.rider();
        let booking = server.book_berlin(&rider);

        let offer = offer_for(&server, &berlin, &booking).unwrap();
        assert!(
            offers(&server, &munich).is_empty(),
            "a Munich partner is not offered a Berlin ride"
        );
        let r = server
            .post(&format!("/v1/partner/offers/{offer}/accept"))
            .bearer_auth(&munich)
            .send()
            .unwrap();
        assert_problem(r, 404, "not_found");
        let r = server
            .post(&format!("/v1/partner/offers/{offer}/decline"))
            .bearer_auth(&munich)
            .send()
            .unwrap();
        assert_problem(r, 404, "not_found");
        // Riders are not partners.
        assert_problem(
            server
                .get("/v1/partner/offers")
                .bearer_auth(&rider)
                .send()
                .unwrap(),
            403,
            "not_a_partner",
        );
        let r = server
            .post(&format!("/v1/partner/offers/{offer}/accept"))
            .bearer_auth(&rider)
            .send()
            .unwrap();
        assert_problem(r, 403, "not_a_partner");
        // Partners cannot read riders' bookings through the rider API.
        assert_problem(
            server
                .get(&format!("/v1/bookings/{booking}"))
                .bearer_auth(&berlin)
                .send()
                .unwrap(),
            404,
            "not_found",
        );

        // A decline is recorded once; the offer leaves the list.
        let r = server
            .post(&format!("/v1/partner/offers/{offer}/decline"))
            .bearer_auth(&berlin)
            .send()
            .unwrap();
        assert_eq!(r.status(), 204);
        assert!(offer_for(&server, &berlin, &booking).is_none());
        let r = server
            .post(&format!("/v1/partner/offers/{offer}/decline"))
            .bearer_auth(&berlin)
            .send()
            .unwrap();
        assert_problem(r, 404, "not_found");
        let r = server
            .post(&format!("/v1/partner/offers/{offer}/accept"))
            .bearer_auth(&berlin)
            .send()
            .unwrap();
        assert_problem(r, 409, "offer_closed");
    }
}

/// Twenty Berlin partners with a dispatcher and a car each, created through the store.
fn twenty_partners(url: &str) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = Store::connect(url).await.unwrap();
        store.migrate().await.unwrap();
        let hashing = PasswordHashing::new(2).unwrap();
        let hash = hashing.hash("dispatcher password").await.unwrap();
        let mut emails = Vec::new();
        for i in 0..20 {
            let id = store
                .create_partner(
                    &format!("Partner {i:02}"),
                    &["berlin".to_owned()],
                    &[VehicleClass::Business],
                    chrono::Utc::now(),
                )
                .await
                .unwrap();
            store
                .add_vehicle(id, VehicleClass::Business, &format!("B-RACE {i}"), 3, 2)
                .await
                .unwrap();
            let email = format!("race-{i}@example.com");
            let user = store
                .create_user(
                    &NewUser {
                        email: &email,
                        password_hash: &hash,
                        role: Role::Partner,
                        name: None,
                        phone: None,
                    },
                    chrono::Utc::now(),
                )
                .await
                .unwrap();
            store.add_partner_member(user.id, id).await.unwrap();
            emails.push(email);
        }
        emails
    })
}

/// Every partner accepts its offer for the booking at the same instant; returns the statuses.
fn race(servers: &[Arc<TestServer>], tokens: &[String], booking: &str) -> Vec<(u16, String)> {
    let offer_ids: Vec<String> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            offer_for(&servers[i % servers.len()], t, booking).expect("every partner got the offer")
        })
        .collect();
    let barrier = Arc::new(Barrier::new(tokens.len()));
    let handles: Vec<_> = tokens
        .iter()
        .zip(offer_ids)
        .enumerate()
        .map(|(i, (token, offer))| {
            let server = servers[i % servers.len()].clone();
            let (token, barrier) = (token.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let r = server
                    .post(&format!("/v1/partner/offers/{offer}/accept"))
                    .bearer_auth(&token)
                    .send()
                    .unwrap();
                let status = r.status().as_u16();
                let body: Value = r.json().unwrap();
                (status, body["code"].as_str().unwrap_or("").to_owned())
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn assert_one_winner(answers: &[(u16, String)]) {
    let winners = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(winners, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .filter(|(s, _)| *s != 200)
            .all(|(s, c)| *s == 409 && c == "offer_taken"),
        "{answers:?}"
    );
}

#[test]
fn twenty_partners_accepting_at_once_yield_exactly_one_winner() {
    for backend in backends() {
        let (url, _db) = TestServer::fresh_database(backend);
        let emails = twenty_partners(&url);
        let server = Arc::new(TestServer::start_with(
            backend,
            TempDir::new("srv"),
            url,
            &["--dispatch-batch-size", "20"],
        ));
        let tokens: Vec<String> = emails
            .iter()
            .map(|e| server.log_in(e, "dispatcher password"))
            .collect();
        let (_, rider) = server.rider();
        for _round in 0..5 {
            let booking = server.book_berlin(&rider);
            assert_one_winner(&race(std::slice::from_ref(&server), &tokens, &booking));
            let seen: Value = server
                .get(&format!("/v1/bookings/{booking}"))
                .bearer_auth(&rider)
                .send()
                .unwrap()
                .json()
                .unwrap();
            assert_eq!(seen["state"], "confirmed");
        }
    }
}

#[test]
fn two_server_processes_on_one_postgres_still_yield_one_winner() {
    if !backends().contains(&Backend::Postgres) {
        return; // backends() already failed the test under CI=true
    }
    let (url, _db) = TestServer::fresh_database(Backend::Postgres);
    let emails = twenty_partners(&url);
    let args = ["--dispatch-batch-size", "20"];
    let a = Arc::new(TestServer::start_with(
        Backend::Postgres,
        TempDir::new("a"),
        url.clone(),
        &args,
    ));
    let b = Arc::new(TestServer::start_with(
        Backend::Postgres,
        TempDir::new("b"),
        url,
        &args,
    ));
    let servers = [a.clone(), b.clone()];
    let tokens: Vec<String> = emails
        .iter()
        .enumerate()
        .map(|(i, e)| servers[i % 2].log_in(e, "dispatcher password"))
        .collect();
    let (_, rider) = a.rider();
    for round in 0..5 {
        let booking = if round % 2 == 0 {
            a.book_berlin(&rider)
        } else {
            b.book_berlin(&rider)
        };
        assert_one_winner(&race(&servers, &tokens, &booking));
    }
}

#[test]
fn operators_manage_partners_over_the_api_and_partners_see_only_their_own_fleet() {
    for backend in backends() {
        let (url, _db) = TestServer::fresh_database(backend);
        let server = TestServer::start_with(backend, TempDir::new("srv"), url.clone(), &[]);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_chauffeur-server"))
            .args([
                "operator",
                "--database-url",
                &url,
                "--email",
                "ops@example.com",
                "--password",
                "operator password",
                "--name",
                "Ops",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ops = server.log_in("ops@example.com", "operator password");

        let create = |body: serde_json::Value| {
            server
                .post("/v1/operator/partners")
                .bearer_auth(&ops)
                .json(&body)
                .send()
                .unwrap()
        };
        let r = create(
            serde_json::json!({"name": "Cologne Cars", "cities": ["cologne"], "classes": ["business", "van"]}),
        );
        assert_eq!(r.status(), 201);
        let cologne = r.json::<Value>().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_problem(
            create(
                serde_json::json!({"name": "X", "cities": ["atlantis"], "classes": ["business"]}),
            ),
            422,
            "unknown_city",
        );
        assert_problem(
            create(serde_json::json!({"name": "X", "cities": ["berlin"], "classes": ["limo"]})),
            422,
            "unknown_class",
        );

        let r = server
            .post(&format!("/v1/operator/partners/{cologne}/members"))
            .bearer_auth(&ops)
            .json(&serde_json::json!({"email": "koeln@example.com", "password": "dispatcher password", "name": "Köln", "role": "partner"}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 201);
        let r = server
            .post(&format!("/v1/operator/partners/{cologne}/members"))
            .bearer_auth(&ops)
            .json(&serde_json::json!({"email": "driver@example.com", "password": "chauffeur password", "name": "Dana", "role": "chauffeur"}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 201);
        let vehicle = |plate: &str| {
            server
                .post(&format!("/v1/operator/partners/{cologne}/vehicles"))
                .bearer_auth(&ops)
                .json(&serde_json::json!({"class": "van", "plate": plate, "seats": 5, "bags": 5}))
                .send()
                .unwrap()
        };
        assert_eq!(vehicle("K-CC 1").status(), 201);
        assert_problem(vehicle("K-CC 1"), 409, "plate_taken");
        let unknown = "01900000-0000-7000-8000-000000000000";
        let r = server
            .post(&format!("/v1/operator/partners/{unknown}/vehicles"))
            .bearer_auth(&ops)
            .json(&serde_json::json!({"class": "van", "plate": "K-CC 2", "seats": 5, "bags": 5}))
            .send()
            .unwrap();
        assert_problem(r, 404, "not_found");
        let listed: Value = server
            .get("/v1/operator/partners")
            .bearer_auth(&ops)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let listed = &listed["partners"];
        assert_eq!(listed[0]["name"], "Cologne Cars");
        assert_eq!(
            (
                listed[0]["members"].as_i64(),
                listed[0]["vehicles"].as_i64()
            ),
            (Some(2), Some(1))
        );
        // The operator sees who and what a partner has, not only how many.
        let cologne = listed[0]["id"].as_str().unwrap().to_owned();
        let members: Value = server
            .get(&format!("/v1/operator/partners/{cologne}/members"))
            .bearer_auth(&ops)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let mut roles: Vec<&str> = members["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        roles.sort_unstable();
        assert_eq!(roles, ["chauffeur", "partner"], "{members}");
        let fleet: Value = server
            .get(&format!("/v1/operator/partners/{cologne}/vehicles"))
            .bearer_auth(&ops)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(fleet["vehicles"].as_array().unwrap().len(), 1, "{fleet}");
        assert_problem(
            server
                .get(&format!(
                    "/v1/operator/partners/{}/members",
                    uuid::Uuid::now_v7()
                ))
                .bearer_auth(&ops)
                .send()
                .unwrap(),
            404,
            "not_found",
        );

        // The partner sees its own fleet and nobody else's; non-operators cannot manage partners.
        let (_, berlin_email) = berlin_partner(&url, "Berlin Limousines");
        let berlin = server.log_in(&berlin_email, "dispatcher password");
        let koeln = server.log_in("koeln@example.com", "dispatcher password");
        let chauffeurs: Value = server
            .get("/v1/partner/chauffeurs")
            .bearer_auth(&koeln)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let chauffeurs = &chauffeurs["chauffeurs"];
        assert_eq!(chauffeurs.as_array().unwrap().len(), 1);
        assert_eq!(chauffeurs[0]["email"], "driver@example.com");
        let vehicles: Value = server
            .get("/v1/partner/vehicles")
            .bearer_auth(&berlin)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert!(vehicles["vehicles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["plate"] != "K-CC 1"));
        assert_problem(
            server
                .get("/v1/operator/partners")
                .bearer_auth(&berlin)
                .send()
                .unwrap(),
            403,
            "not_an_operator",
        );
        let (_, rider) = server.rider();
        assert_problem(
            server
                .get("/v1/partner/vehicles")
                .bearer_auth(&rider)
                .send()
                .unwrap(),
            403,
            "not_a_partner",
        );
    }
}
