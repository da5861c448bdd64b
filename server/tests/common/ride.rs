//! A ride's people and steps for the tests that drive one: a partner with a dispatcher, a
//! chauffeur and a car; offers, assignment and statuses; the test clock; invoices as text.
#![allow(dead_code)]

use serde_json::{json, Value};

use super::*;

pub struct Partner {
    pub dispatcher: String,
    pub chauffeur_id: String,
    pub chauffeur: String,
    pub vehicle_id: String,
}

pub fn partner(server: &TestServer, url: &str, name: &str) -> Partner {
    let (id, email) = berlin_partner(url, name);
    let vehicle_id = partner_cli(
        url,
        &[
            "add-vehicle",
            "--partner",
            &id,
            "--class",
            "business",
            "--plate",
            &format!("B-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]),
            "--seats",
            "3",
            "--bags",
            "2",
        ],
    );
    let chauffeur_email = format!("driver-{}@example.com", uuid::Uuid::now_v7().simple());
    let chauffeur_id = partner_cli(
        url,
        &[
            "add-member",
            "--partner",
            &id,
            "--email",
            &chauffeur_email,
            "--password",
            "chauffeur password",
            "--name",
            "Carl",
            "--role",
            "chauffeur",
        ],
    );
    Partner {
        dispatcher: server.log_in(&email, "dispatcher password"),
        chauffeur_id,
        chauffeur: server.log_in(&chauffeur_email, "chauffeur password"),
        vehicle_id,
    }
}

pub fn start(backend: Backend) -> (TestServer, String, TempDir) {
    let (url, db) = TestServer::fresh_database(backend);
    // A long dispatcher interval: the test's clock moves trigger the rounds that matter.
    let server = TestServer::start_with(
        backend,
        TempDir::new("srv"),
        url.clone(),
        &["--test-clock", "--dispatch-interval-ms", "60000"],
    );
    (server, url, db)
}

pub fn advance(server: &TestServer, seconds: i64) {
    let r = server
        .post("/v1/test/clock")
        .json(&json!({"seconds": seconds}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
}

pub fn open_offer(server: &TestServer, token: &str, booking: &str) -> Option<String> {
    let list: Value = server
        .get("/v1/partner/offers")
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    list["offers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["booking_id"] == booking)
        .map(|o| o["id"].as_str().unwrap().to_owned())
}

pub fn accept(server: &TestServer, p: &Partner, booking: &str) {
    let offer = open_offer(server, &p.dispatcher, booking).expect("offered");
    let r = server
        .post(&format!("/v1/partner/offers/{offer}/accept"))
        .bearer_auth(&p.dispatcher)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

pub fn assign(server: &TestServer, p: &Partner, booking: &str) -> reqwest::blocking::Response {
    server
        .post(&format!("/v1/partner/rides/{booking}/assign"))
        .bearer_auth(&p.dispatcher)
        .json(&json!({"chauffeur_id": p.chauffeur_id, "vehicle_id": p.vehicle_id}))
        .send()
        .unwrap()
}

pub fn status(
    server: &TestServer,
    token: &str,
    booking: &str,
    body: Value,
) -> reqwest::blocking::Response {
    server
        .post(&format!("/v1/chauffeur/rides/{booking}/status"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .unwrap()
}

pub fn state_of(server: &TestServer, rider: &str, booking: &str) -> Value {
    server
        .get(&format!("/v1/bookings/{booking}"))
        .bearer_auth(rider)
        .send()
        .unwrap()
        .json()
        .unwrap()
}

/// The booking's history as its rider reads it, oldest version first.
pub fn history_of(server: &TestServer, rider: &str, booking: &str) -> Vec<Value> {
    let history: Value = server
        .get(&format!("/v1/bookings/{booking}/history"))
        .bearer_auth(rider)
        .send()
        .unwrap()
        .json()
        .unwrap();
    history["entries"].as_array().unwrap().clone()
}

pub fn poppler() -> bool {
    let found = std::process::Command::new("pdftotext")
        .arg("-v")
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "pdftotext (poppler-utils) is missing and CI=true: the invoice PDF cannot be checked"
        );
        eprintln!("SKIPPED: the invoice PDF check needs pdftotext (apt-get install poppler-utils)");
    }
    found
}

/// Writes the PDF under the target directory, reads it back as text and renders page 1 as PNG.
pub fn pdf_text(pdf: &[u8], name: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("invoices");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.pdf"));
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", file.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "pdftotext: {:?}", out);
    let png = std::process::Command::new("pdftoppm")
        .args([
            "-png",
            "-r",
            "60",
            "-singlefile",
            file.to_str().unwrap(),
            dir.join(name).to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(png.success());
    String::from_utf8(out.stdout).unwrap()
}
