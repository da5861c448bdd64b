//! Place search against the real server process: by text and by coordinates, its errors, and the
//! geocoder adapter against a small Photon-speaking HTTP server this test runs on 127.0.0.1
//! (merged answers, the cache, a slow, broken or absent geocoder). The database plays no part
//! here, so SQLite alone.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use common::*;
use serde_json::{json, Value};

fn start(extra: &[&str]) -> TestServer {
    let (url, dir) = TestServer::fresh_database(Backend::Sqlite);
    TestServer::start_with(Backend::Sqlite, dir, url, extra)
}

fn places(server: &TestServer, query: &str) -> Value {
    let r = server.get(&format!("/v1/places?{query}")).send().unwrap();
    assert_eq!(r.status(), 200, "{query}");
    r.json().unwrap()
}

fn ids(answer: &Value) -> Vec<String> {
    answer["places"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

fn metric(server: &TestServer, line_start: &str) -> u64 {
    let text = server.get("/metrics").send().unwrap().text().unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(line_start))
        .map_or(0, |v| v.trim().parse().unwrap())
}

#[test]
fn places_by_text_and_by_coordinates() {
    let server = start(&[]);

    // Umlauts typed as "ue", any case: Munich's main station first, named in Munich.
    let answer = places(&server, "city=munich&q=MUENCHEN%20hbf");
    assert_eq!(answer["city_id"], "munich");
    assert_eq!(answer["next_cursor"], Value::Null);
    let first = &answer["places"][0];
    assert_eq!(first["name"], "München Hbf");
    assert_eq!(first["kind"], "station");
    assert_eq!(first["city_id"], "munich");
    assert!(first.get("airport_code").is_none());

    // An airport by its code, with the code in the answer.
    let answer = places(&server, "city=berlin&q=ber");
    assert_eq!(answer["places"][0]["id"], "airport:BER");
    assert_eq!(answer["places"][0]["kind"], "airport");
    assert_eq!(answer["places"][0]["airport_code"], "BER");

    // Exact name first, then the names it begins, airport before stations; limit holds.
    let answer = places(&server, "city=berlin&q=berlin&limit=3");
    assert_eq!(ids(&answer)[..2], ["centre:berlin", "airport:BER"]);
    assert_eq!(answer["places"][2]["kind"], "station");
    assert_eq!(answer["places"].as_array().unwrap().len(), 3);

    // A city alone lists its places; text alone searches every city.
    let all = ids(&places(&server, "city=berlin&limit=50"));
    assert!(all.contains(&"centre:berlin".to_owned()) && all.contains(&"airport:BER".to_owned()));
    let answer = places(&server, "q=heathrow");
    assert_eq!(answer["city_id"], Value::Null);
    assert_eq!(answer["places"][0]["airport_code"], "LHR");
    assert_eq!(answer["places"][0]["city_id"], "london");

    // By coordinates: the nearest places and the city serving the point.
    let answer = places(&server, "lat=52.5251&lon=13.3694&limit=2");
    assert_eq!(answer["city_id"], "berlin");
    assert_eq!(answer["places"][0]["name"], "Berlin Hauptbahnhof");
    assert_eq!(answer["places"].as_array().unwrap().len(), 2);
    // Where two areas overlap, the nearer centre serves: Potsdam.
    assert_eq!(
        places(&server, "lat=52.3906&lon=13.0645")["city_id"],
        "potsdam"
    );
    // The Atlantic: no city serves it, nothing near.
    let answer = places(&server, "lat=40&lon=-40");
    assert_eq!(answer["city_id"], Value::Null);
    assert_eq!(answer["places"], json!([]));

    // No account needed, and the route is in the OpenAPI document.
    let doc: Value = server.get("/openapi.json").send().unwrap().json().unwrap();
    let params = &doc["paths"]["/v1/places"]["get"]["parameters"];
    let names: Vec<&str> = params
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["city", "q", "lat", "lon", "limit", "lang"]);
}

#[test]
fn bad_place_searches_name_their_field() {
    let server = start(&[]);
    let long = "x".repeat(101);
    for (query, status, code, field) in [
        ("city=atlantis&q=x", 404, "not_found", "city"),
        (
            &format!("city=berlin&q={long}") as &str,
            422,
            "invalid_request",
            "q",
        ),
        ("city=berlin&q=%01", 422, "invalid_request", "q"),
        ("", 422, "invalid_request", "q"),
        ("q=%20%20", 422, "invalid_request", "q"),
        ("city=berlin&q=x&limit=0", 422, "invalid_limit", "limit"),
        ("city=berlin&q=x&limit=51", 422, "invalid_limit", "limit"),
        ("city=berlin&q=x&limit=ten", 422, "invalid_limit", "limit"),
        (
            "city=berlin&q=x&lang=deutsch",
            422,
            "invalid_request",
            "lang",
        ),
        ("lat=91&lon=0", 422, "invalid_request", "lat"),
        ("lat=52&lon=east", 422, "invalid_request", "lon"),
        ("lat=52", 422, "invalid_request", "lon"),
        ("lon=13", 422, "invalid_request", "lat"),
        ("lat=52.5&lon=13.4&q=hbf", 422, "invalid_request", "q"),
        (
            "city=munich&lat=52.5&lon=13.4",
            422,
            "outside_service_area",
            "lat",
        ),
    ] {
        let r = server.get(&format!("/v1/places?{query}")).send().unwrap();
        let body = assert_problem(r, status, code);
        assert_eq!(body["field"], field, "{query}: {body}");
    }
}

// ---------------------------------------------------------------------------------------------
// A Photon stand-in

#[derive(Clone, Copy)]
enum Behaviour {
    Answer,
    Slow,
    Broken,
}

#[derive(Clone)]
struct Fake {
    behaviour: Behaviour,
    requests: Arc<AtomicUsize>,
    last_query: Arc<Mutex<Vec<(String, String)>>>,
}

struct FakePhoton {
    url: String,
    fake: Fake,
    _runtime: tokio::runtime::Runtime,
}

fn feature(osm_id: u64, lat: f64, lon: f64, props: Value) -> Value {
    let mut properties = json!({"osm_id": osm_id, "osm_type": "N", "osm_key": "place", "osm_value": "house", "type": "house", "countrycode": "DE"});
    properties
        .as_object_mut()
        .unwrap()
        .extend(props.as_object().unwrap().clone());
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties})
}

async fn answer(fake: &Fake, query: Vec<(String, String)>, features: Vec<Value>) -> Json<Value> {
    fake.requests.fetch_add(1, Ordering::SeqCst);
    *fake.last_query.lock().unwrap() = query;
    match fake.behaviour {
        Behaviour::Answer => {}
        // Far longer than the server waits; the server gives up, this answer goes nowhere.
        Behaviour::Slow => tokio::time::sleep(Duration::from_secs(5)).await,
        Behaviour::Broken => return Json(json!({"message": "index unavailable"})),
    }
    Json(json!({"type": "FeatureCollection", "features": features}))
}

async fn photon_api(
    State(fake): State<Fake>,
    Query(query): Query<Vec<(String, String)>>,
) -> Json<Value> {
    let features = vec![
        // The station the server knows already, as OpenStreetMap names it.
        feature(
            1,
            52.52510,
            13.36960,
            json!({"name": "Berlin Hauptbahnhof", "city": "Berlin"}),
        ),
        feature(
            2,
            52.52470,
            13.36850,
            json!({"name": "Hauptbahnhof Parkhaus", "street": "Invalidenstraße", "housenumber": "50", "postcode": "10557", "city": "Berlin"}),
        ),
        // Munich: outside Berlin's service area.
        feature(
            3,
            48.14020,
            11.55830,
            json!({"name": "Hauptbahnhof", "city": "München"}),
        ),
        // Nothing to call it by.
        feature(4, 52.5, 13.4, json!({})),
    ];
    answer(&fake, query, features).await
}

async fn photon_reverse(
    State(fake): State<Fake>,
    Query(query): Query<Vec<(String, String)>>,
) -> Json<Value> {
    let features = vec![feature(
        5,
        52.52520,
        13.36950,
        json!({"street": "Europaplatz", "housenumber": "1", "postcode": "10557", "city": "Berlin"}),
    )];
    answer(&fake, query, features).await
}

fn fake_photon(behaviour: Behaviour) -> FakePhoton {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let fake = Fake {
        behaviour,
        requests: Arc::default(),
        last_query: Arc::default(),
    };
    let app = Router::new()
        .route("/api", get(photon_api))
        .route("/reverse", get(photon_reverse))
        .with_state(fake.clone());
    runtime.spawn(async move { axum::serve(listener, app).await });
    FakePhoton {
        url,
        fake,
        _runtime: runtime,
    }
}

fn sent(fake: &Fake, name: &str) -> Option<String> {
    fake.last_query
        .lock()
        .unwrap()
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

#[test]
fn the_geocoder_adds_addresses_in_the_city_and_its_answers_are_cached() {
    let photon = fake_photon(Behaviour::Answer);
    let server = start(&["--geocoder-url", &photon.url]);

    let answer = places(&server, "city=berlin&q=berlin%20hauptbahnhof&lang=de");
    // Built-in first; the geocoder's copy of the station is not repeated, Munich is left out,
    // and a feature without a name or street is not shown.
    assert_eq!(ids(&answer), ["station:8011160", "osm:N2"]);
    let address = &answer["places"][1];
    assert_eq!(address["kind"], "address");
    assert_eq!(address["city_id"], "berlin");
    assert_eq!(
        address["name"],
        "Hauptbahnhof Parkhaus, Invalidenstraße 50, 10557 Berlin"
    );
    // The geocoder was asked in the city's box, near its centre, in the rider's language.
    let fake = &photon.fake;
    assert_eq!(fake.requests.load(Ordering::SeqCst), 1);
    assert_eq!(sent(fake, "q").as_deref(), Some("berlin hauptbahnhof"));
    assert_eq!(sent(fake, "lang").as_deref(), Some("de"));
    assert!(sent(fake, "lat").is_some() && sent(fake, "lon").is_some());
    let bbox: Vec<f64> = sent(fake, "bbox")
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(
        bbox[0] < 13.4 && 13.4 < bbox[2] && bbox[1] < 52.5 && 52.5 < bbox[3],
        "{bbox:?}"
    );

    // The same search again: from the cache, the geocoder is not asked.
    let again = places(&server, "city=berlin&q=Berlin%20Hauptbahnhof&lang=de");
    assert_eq!(ids(&again), ids(&answer));
    assert_eq!(fake.requests.load(Ordering::SeqCst), 1);
    assert_eq!(metric(&server, "chauffeur_geocoder_cache_hits_total "), 1);
    assert_eq!(
        metric(
            &server,
            "chauffeur_geocoder_requests_total{outcome=\"ok\"} "
        ),
        1
    );

    // By coordinates: what the geocoder calls the point, then the nearest built-in places.
    let answer = places(&server, "lat=52.5251&lon=13.3694&limit=2");
    assert_eq!(answer["city_id"], "berlin");
    assert_eq!(answer["places"][0]["name"], "Europaplatz 1, 10557 Berlin");
    assert_eq!(answer["places"][1]["name"], "Berlin Hauptbahnhof");
    assert_eq!(fake.requests.load(Ordering::SeqCst), 2);
    // Outside every city the geocoder is not asked.
    places(&server, "lat=40&lon=-40");
    assert_eq!(fake.requests.load(Ordering::SeqCst), 2);
}

#[test]
fn a_slow_broken_or_absent_geocoder_leaves_the_built_in_places() {
    let expected = ["station:8011160"];
    let slow = fake_photon(Behaviour::Slow);
    let server = start(&["--geocoder-url", &slow.url, "--geocoder-timeout-ms", "300"]);
    assert_eq!(
        ids(&places(&server, "city=berlin&q=berlin%20hauptbahnhof")),
        expected
    );
    assert_eq!(slow.fake.requests.load(Ordering::SeqCst), 1);
    assert_eq!(
        metric(
            &server,
            "chauffeur_geocoder_requests_total{outcome=\"timeout\"} "
        ),
        1
    );
    // After a failure the geocoder rests a few seconds: the next search does not wait for it.
    assert_eq!(
        ids(&places(&server, "city=berlin&q=berlin%20hauptbahnhof")),
        expected
    );
    assert_eq!(slow.fake.requests.load(Ordering::SeqCst), 1);
    assert_eq!(
        metric(
            &server,
            "chauffeur_geocoder_requests_total{outcome=\"skipped\"} "
        ),
        1
    );
    drop(server);

    let broken = fake_photon(Behaviour::Broken);
    let server = start(&["--geocoder-url", &broken.url]);
    assert_eq!(
        ids(&places(&server, "city=berlin&q=berlin%20hauptbahnhof")),
        expected
    );
    assert_eq!(
        metric(
            &server,
            "chauffeur_geocoder_requests_total{outcome=\"error\"} "
        ),
        1
    );
    drop(server);

    // Nothing listens there any more.
    let gone = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let server = start(&["--geocoder-url", &gone]);
    assert_eq!(
        ids(&places(&server, "city=berlin&q=berlin%20hauptbahnhof")),
        expected
    );
    let answer = places(&server, "lat=52.5251&lon=13.3694&limit=1");
    assert_eq!(answer["places"][0]["name"], "Berlin Hauptbahnhof");
    assert_eq!(
        metric(
            &server,
            "chauffeur_geocoder_requests_total{outcome=\"error\"} "
        ),
        1
    );
    assert_eq!(
        metric(
            &server,
            "chauffeur_geocoder_requests_total{outcome=\"skipped\"} "
        ),
        1
    );
}
