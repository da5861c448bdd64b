//! The adapter to a self-hosted geocoder speaking Photon's API (`--geocoder-url`): `/api` finds
//! addresses by text, `/reverse` names a point; both answer a GeoJSON FeatureCollection. Answers
//! are cached in memory (bounded, with a time to live). A geocoder that is slow, down or talking
//! nonsense costs the rider nothing but its addresses: the search answers with the built-in
//! places, logs a line and counts the failure (`chauffeur_geocoder_requests_total`); then the
//! geocoder is left alone for a few seconds, so an outage does not slow every search.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chauffeur_core::places::{serving_city, Place, PlaceKind};
use chauffeur_core::{Catalog, City, LatLon};
use serde::Deserialize;

use crate::metrics::Metrics;

/// How the geocoder is reached and how long its answers are kept.
#[derive(Debug, Clone)]
pub struct GeocoderConfig {
    /// Photon's base URL, e.g. `http://127.0.0.1:2322`.
    pub url: String,
    /// A request not answered in this time counts as failed.
    pub timeout: Duration,
    /// Answers kept at most (the oldest goes first).
    pub cache_entries: usize,
    /// An answer older than this is asked again.
    pub cache_ttl: Duration,
    /// After a failure the geocoder is left alone this long, so an outage does not add the
    /// timeout to every keystroke of every rider.
    pub rest_after_failure: Duration,
}

impl GeocoderConfig {
    pub fn new(url: String, timeout: Duration) -> GeocoderConfig {
        GeocoderConfig {
            url,
            timeout,
            cache_entries: 2_000,
            cache_ttl: Duration::from_secs(15 * 60),
            rest_after_failure: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GeocoderError {
    #[error("the geocoder URL {0:?} is not an http(s) URL")]
    BadUrl(String),
    #[error("the geocoder did not answer in time")]
    Timeout,
    #[error("the geocoder could not be reached: {0}")]
    Unreachable(String),
    #[error("the geocoder answered {0}")]
    Status(u16),
    #[error("the geocoder's answer is not a GeoJSON FeatureCollection: {0}")]
    Malformed(String),
}

impl GeocoderError {
    fn outcome(&self) -> &'static str {
        match self {
            GeocoderError::Timeout => "timeout",
            _ => "error",
        }
    }
}

/// Answers by key, each with when it was stored. Bounded: when full, expired answers go, then
/// the oldest.
struct AnswerCache {
    entries: HashMap<String, (Instant, Arc<Vec<Place>>)>,
    capacity: usize,
    ttl: Duration,
}

impl AnswerCache {
    fn get(&self, key: &str, now: Instant) -> Option<Arc<Vec<Place>>> {
        self.entries
            .get(key)
            .filter(|(at, _)| now.duration_since(*at) < self.ttl)
            .map(|(_, places)| places.clone())
    }

    fn put(&mut self, key: String, places: Arc<Vec<Place>>, now: Instant) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            let ttl = self.ttl;
            self.entries
                .retain(|_, (at, _)| now.duration_since(*at) < ttl);
            while self.entries.len() >= self.capacity {
                let oldest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => self.entries.remove(&k),
                    None => break,
                };
            }
        }
        self.entries.insert(key, (now, places));
    }
}

pub struct Geocoder {
    base: String,
    client: reqwest::Client,
    cache: Mutex<AnswerCache>,
    metrics: Arc<Metrics>,
    rest_after_failure: Duration,
    /// Set by a failure: until then searches answer without asking.
    resting_until: Mutex<Option<Instant>>,
}

#[derive(Deserialize)]
struct FeatureCollection {
    features: Vec<Feature>,
}

#[derive(Deserialize)]
struct Feature {
    geometry: Geometry,
    #[serde(default)]
    properties: Properties,
}

#[derive(Deserialize)]
struct Geometry {
    /// GeoJSON order: longitude, latitude.
    coordinates: Vec<f64>,
}

#[derive(Deserialize, Default)]
struct Properties {
    osm_id: Option<i64>,
    osm_type: Option<String>,
    name: Option<String>,
    street: Option<String>,
    housenumber: Option<String>,
    postcode: Option<String>,
    city: Option<String>,
}

/// "Name, Street 12, 10115 Berlin": what the rider reads, from the parts Photon gives.
fn label(p: &Properties) -> Option<String> {
    let clean = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let street = match (clean(&p.street), clean(&p.housenumber)) {
        (Some(street), Some(number)) => Some(format!("{street} {number}")),
        (street, _) => street,
    };
    let town = match (clean(&p.postcode), clean(&p.city)) {
        (Some(code), Some(city)) => Some(format!("{code} {city}")),
        (None, city) => city,
        (Some(_), None) => None,
    };
    let name = clean(&p.name);
    if name.is_none() && street.is_none() {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    for part in [name, street, town].into_iter().flatten() {
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    // A label is shown in a list: a runaway one is cut.
    Some(parts.join(", ").chars().take(200).collect())
}

impl Geocoder {
    pub fn new(config: &GeocoderConfig, metrics: Arc<Metrics>) -> Result<Geocoder, GeocoderError> {
        let base = config.url.trim().trim_end_matches('/').to_owned();
        let valid = reqwest::Url::parse(&base)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !valid {
            return Err(GeocoderError::BadUrl(crate::redact(&config.url)));
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| GeocoderError::Unreachable(e.to_string()))?;
        Ok(Geocoder {
            base,
            client,
            cache: Mutex::new(AnswerCache {
                entries: HashMap::new(),
                capacity: config.cache_entries,
                ttl: config.cache_ttl,
            }),
            metrics,
            rest_after_failure: config.rest_after_failure,
            resting_until: Mutex::new(None),
        })
    }

    /// Addresses matching `text`, inside `city`'s service area when one is given (else inside
    /// any city's), each naming its city. Empty when the geocoder fails.
    pub async fn search(
        &self,
        catalog: &Catalog,
        city: Option<&City>,
        text: &str,
        lang: Option<&str>,
        limit: usize,
    ) -> Vec<Place> {
        let mut query: Vec<(&str, String)> =
            vec![("q", text.to_owned()), ("limit", limit.to_string())];
        if let Some(city) = city {
            let c = city.service_area.center;
            // Bias to the centre and keep to the box around the service area's circle.
            let dlat = f64::from(city.service_area.radius_km) / 111.2;
            let dlon = dlat / c.lat.to_radians().cos().abs().max(0.01);
            query.push(("lat", format!("{:.5}", c.lat)));
            query.push(("lon", format!("{:.5}", c.lon)));
            query.push((
                "bbox",
                format!(
                    "{:.5},{:.5},{:.5},{:.5}",
                    c.lon - dlon,
                    c.lat - dlat,
                    c.lon + dlon,
                    c.lat + dlat
                ),
            ));
        }
        if let Some(lang) = lang {
            query.push(("lang", lang.to_owned()));
        }
        let key = format!(
            "api|{}|{}|{limit}|{}",
            city.map_or("", |c| c.id.as_str()),
            lang.unwrap_or(""),
            text.trim().to_lowercase()
        );
        self.ask("/api", &query, key, catalog, city).await
    }

    /// What the geocoder calls the point (at most one answer), when a city serves it.
    pub async fn reverse(
        &self,
        catalog: &Catalog,
        city: Option<&City>,
        point: LatLon,
        lang: Option<&str>,
    ) -> Vec<Place> {
        let mut query: Vec<(&str, String)> = vec![
            ("lat", format!("{:.6}", point.lat)),
            ("lon", format!("{:.6}", point.lon)),
            ("limit", "1".to_owned()),
        ];
        if let Some(lang) = lang {
            query.push(("lang", lang.to_owned()));
        }
        // ~1 m: a point a finger's width away is the same question.
        let key = format!(
            "reverse|{}|{}|{:.5},{:.5}",
            city.map_or("", |c| c.id.as_str()),
            lang.unwrap_or(""),
            point.lat,
            point.lon
        );
        self.ask("/reverse", &query, key, catalog, city).await
    }

    async fn ask(
        &self,
        path: &str,
        query: &[(&str, String)],
        key: String,
        catalog: &Catalog,
        city: Option<&City>,
    ) -> Vec<Place> {
        if let Some(hit) = self.cached(&key) {
            self.metrics.geocoder_cache_hit();
            return hit.as_ref().clone();
        }
        if self.resting() {
            self.metrics.geocoder_request("skipped");
            return Vec::new();
        }
        match self.fetch(path, query).await {
            Ok(features) => {
                self.metrics.geocoder_request("ok");
                let places = Arc::new(to_places(features, catalog, city));
                if let Ok(mut cache) = self.cache.lock() {
                    cache.put(key, places.clone(), Instant::now());
                }
                places.as_ref().clone()
            }
            Err(e) => {
                self.metrics.geocoder_request(e.outcome());
                tracing::warn!(
                    error = %e,
                    path,
                    rest_s = self.rest_after_failure.as_secs_f64(),
                    "geocoder failed; answering with built-in places only, and not asking it for a while"
                );
                if let Ok(mut until) = self.resting_until.lock() {
                    *until = Some(Instant::now() + self.rest_after_failure);
                }
                Vec::new()
            }
        }
    }

    fn resting(&self) -> bool {
        self.resting_until
            .lock()
            .ok()
            .and_then(|until| *until)
            .is_some_and(|until| Instant::now() < until)
    }

    fn cached(&self, key: &str) -> Option<Arc<Vec<Place>>> {
        self.cache.lock().ok()?.get(key, Instant::now())
    }

    async fn fetch(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<Feature>, GeocoderError> {
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                GeocoderError::Timeout
            } else {
                GeocoderError::Unreachable(e.to_string())
            }
        };
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .query(query)
            .send()
            .await
            .map_err(failed)?;
        if !response.status().is_success() {
            return Err(GeocoderError::Status(response.status().as_u16()));
        }
        let body = response.bytes().await.map_err(failed)?;
        let collection: FeatureCollection =
            serde_json::from_slice(&body).map_err(|e| GeocoderError::Malformed(e.to_string()))?;
        Ok(collection.features)
    }
}

/// Features as places: labelled, with valid coordinates, in the city's area (or any city's).
fn to_places(features: Vec<Feature>, catalog: &Catalog, city: Option<&City>) -> Vec<Place> {
    let mut out: Vec<Place> = Vec::new();
    for feature in features {
        let [lon, lat] = feature.geometry.coordinates[..] else {
            continue;
        };
        let Ok(point) = LatLon::new(lat, lon, "geocoder") else {
            continue;
        };
        let serving = match city {
            Some(c) if c.contains(point) => c,
            Some(_) => continue,
            None => match serving_city(catalog, point) {
                Some(c) => c,
                None => continue,
            },
        };
        let Some(name) = label(&feature.properties) else {
            continue;
        };
        let p = &feature.properties;
        let id = match (p.osm_type.as_deref(), p.osm_id) {
            (Some(kind), Some(osm_id)) => format!("osm:{}{osm_id}", kind.to_uppercase()),
            _ => format!("geo:{lat:.6},{lon:.6}"),
        };
        if out.iter().any(|known| known.id == id) {
            continue;
        }
        out.push(Place {
            id,
            name,
            kind: PlaceKind::Address,
            city_id: serving.id.clone(),
            lat,
            lon,
            airport_code: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(id: &str) -> Arc<Vec<Place>> {
        Arc::new(vec![Place {
            id: id.into(),
            name: id.into(),
            kind: PlaceKind::Address,
            city_id: "berlin".into(),
            lat: 52.5,
            lon: 13.4,
            airport_code: None,
        }])
    }

    #[test]
    fn the_cache_forgets_after_its_ttl_and_drops_the_oldest_when_full() {
        let mut cache = AnswerCache {
            entries: HashMap::new(),
            capacity: 2,
            ttl: Duration::from_secs(60),
        };
        let t0 = Instant::now();
        cache.put("a".into(), place("a"), t0);
        cache.put("b".into(), place("b"), t0 + Duration::from_secs(1));
        assert!(cache.get("a", t0 + Duration::from_secs(59)).is_some());
        assert!(cache.get("a", t0 + Duration::from_secs(60)).is_none());
        cache.put("c".into(), place("c"), t0 + Duration::from_secs(2));
        assert_eq!(cache.entries.len(), 2);
        assert!(
            cache.get("a", t0 + Duration::from_secs(3)).is_none(),
            "oldest gone"
        );
        assert!(cache.get("b", t0 + Duration::from_secs(3)).is_some());
        assert!(cache.get("c", t0 + Duration::from_secs(3)).is_some());
    }

    #[test]
    fn labels_read_like_an_address() {
        let props = |name: Option<&str>, street: Option<&str>, number: Option<&str>| Properties {
            osm_id: Some(1),
            osm_type: Some("N".into()),
            name: name.map(Into::into),
            street: street.map(Into::into),
            housenumber: number.map(Into::into),
            postcode: Some("10117".into()),
            city: Some("Berlin".into()),
        };
        assert_eq!(
            label(&props(None, Some("Unter den Linden"), Some("77"))).unwrap(),
            "Unter den Linden 77, 10117 Berlin"
        );
        assert_eq!(
            label(&props(
                Some("Hotel Adlon"),
                Some("Unter den Linden"),
                Some("77")
            ))
            .unwrap(),
            "Hotel Adlon, Unter den Linden 77, 10117 Berlin"
        );
        assert_eq!(label(&props(None, None, None)), None, "nothing to show");
    }
}
