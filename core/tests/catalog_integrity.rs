#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report
//! The shipped catalog is whole, and a broken catalog is refused with the city and field named.

use std::collections::BTreeSet;

use chauffeur_core::catalog::SHIPPED_CATALOG_JSON;
use chauffeur_core::*;
use chrono::{DateTime, Duration, Utc};

#[test]
fn shipped_catalog_covers_150_cities_in_25_countries() {
    let catalog = Catalog::shipped().unwrap();
    let countries: BTreeSet<&str> = catalog
        .cities()
        .iter()
        .map(|c| c.country.as_str())
        .collect();
    assert!(
        catalog.cities().len() >= 150,
        "{} cities",
        catalog.cities().len()
    );
    assert!(countries.len() >= 25, "{} countries", countries.len());
    assert!(catalog.version().starts_with(&catalog.edition));
    assert!(catalog.source.contains("GeoNames") && catalog.source.contains("airportsdata"));
}

#[test]
fn every_city_quotes_every_class_it_lists() {
    let catalog = Catalog::shipped().unwrap();
    let now: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
    for city in catalog.cities() {
        // A short daytime transfer from the city centre and a 2-hour hire, a week ahead.
        let centre = city.service_area.center;
        let dropoff = LatLon {
            lat: centre.lat + 0.02,
            lon: centre.lon,
        };
        let at = PickupTime::Instant {
            at: now + Duration::days(7),
        };
        for &class in city.classes.keys() {
            for product in [
                ProductRequest::Transfer {
                    dropoff,
                    stops: vec![],
                },
                ProductRequest::Hourly { hours: 2 },
            ] {
                let request = QuoteRequest {
                    city_id: city.id.clone(),
                    pickup: centre,
                    product,
                    pickup_time: at.clone(),
                    passengers: 1,
                    bags: 0,
                    extras: Default::default(),
                };
                let q = quote(&catalog, &EstimatedRouter, &request, class, now)
                    .unwrap_or_else(|e| panic!("{} {class}: {e}", city.id));
                assert!(q.total().amount_minor > 0, "{} {class}", city.id);
                assert_eq!(q.total().currency, city.currency);
                assert_eq!(q.total().amount_minor % city.rounding_step, 0);
            }
        }
        // Every airport is detected as an airport pickup from its own coordinates.
        for airport in &city.airports {
            assert_eq!(
                city.pickup_place(airport.position()),
                PickupPlace::Airport {
                    iata: airport.iata.clone()
                },
                "{}",
                city.id
            );
        }
    }
}

#[test]
fn the_version_changes_when_the_content_changes() {
    let original = Catalog::shipped().unwrap();
    let edited = SHIPPED_CATALOG_JSON.replacen("\"per_km\": 230", "\"per_km\": 231", 1);
    assert_ne!(edited, SHIPPED_CATALOG_JSON);
    let changed = Catalog::from_json(edited.as_bytes()).unwrap();
    assert_ne!(original.version(), changed.version());
    assert_eq!(Catalog::shipped().unwrap().version(), original.version());
}

/// The shipped catalog with `edit` applied to Berlin's JSON object.
fn broken(edit: impl FnOnce(&mut serde_json::Value)) -> CoreError {
    let mut doc: serde_json::Value = serde_json::from_str(SHIPPED_CATALOG_JSON).unwrap();
    let berlin = doc["cities"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["id"] == "berlin")
        .unwrap();
    edit(berlin);
    Catalog::from_json(doc.to_string().as_bytes()).unwrap_err()
}

fn assert_names(err: CoreError, field: &str, reason_part: &str) {
    assert_eq!(err.code(), "catalog_invalid");
    match &err {
        CoreError::InvalidCatalog {
            city,
            field: f,
            reason,
        } => {
            assert_eq!(city, "berlin", "{err}");
            assert_eq!(f, field, "{err}");
            assert!(reason.contains(reason_part), "{err}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn unknown_currency_is_refused_naming_city_and_field() {
    let err = broken(|c| c["currency"] = "EUX".into());
    assert_names(err, "currency", "EUX");
}

#[test]
fn invalid_time_zone_is_refused() {
    let err = broken(|c| c["time_zone"] = "Europe/Berln".into());
    assert_names(err, "time_zone", "Europe/Berln");
}

#[test]
fn airport_outside_the_service_area_is_refused() {
    let err = broken(|c| c["airports"][0]["lat"] = 48.35.into()); // BER moved to Munich
    assert_names(err, "airports[0]", "outside the city's service area");
}

#[test]
fn negative_rate_is_refused() {
    let err = broken(|c| c["classes"]["first"]["transfer"]["per_km"] = (-5).into());
    assert_names(err, "classes.first.transfer.per_km", "negative rate -5");
}

#[test]
fn missing_class_is_refused() {
    let err = broken(|c| {
        c["classes"].as_object_mut().unwrap().remove("business");
    });
    assert_names(err, "classes", "missing class business");
}

#[test]
fn missing_tariff_field_is_refused_with_its_path() {
    let err = broken(|c| {
        c["classes"]["van"]["hourly"]
            .as_object_mut()
            .unwrap()
            .remove("per_hour");
    });
    assert_names(err, "classes.van.hourly", "per_hour");
}

#[test]
fn unknown_country_and_bad_night_window_are_refused() {
    assert_names(
        broken(|c| c["country"] = "XX".into()),
        "country",
        "ISO 3166",
    );
    assert_names(
        broken(|c| c["surcharges"]["night"]["from"] = "25:00".into()),
        "surcharges.night.from",
        "HH:MM",
    );
}

#[test]
fn a_file_that_is_not_json_is_refused() {
    let err = Catalog::from_json(b"{ not json").unwrap_err();
    assert_eq!(err.code(), "catalog_invalid");
}
