//! Place search: the built-in places (every airport of the catalog, every city centre, main
//! railway stations; `core/data/places.json`, sources in `core/data/SOURCES.md`) found by text or
//! by coordinates, and ranked together with a geocoder's answers. Pure: the caller brings the
//! catalog, the query and whatever a geocoder said.
//!
//! Text matching is case- and accent-insensitive, word by word: every word of the query must
//! begin a word of the name (or of one of its other names, "München" for Munich), and German
//! umlauts match both ways they are typed (ä = a = ae). Airports, stations and city centres rank
//! before anything else, then by how well the name matches.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, City};
use crate::distance::{great_circle_m, LatLon};
use crate::error::CoreError;

/// The places that ship with this crate.
pub const SHIPPED_PLACES_JSON: &str = include_str!("../../data/places.json");

/// Answers hold this many places unless the request asks for another number.
pub const DEFAULT_LIMIT: usize = 10;
/// The most places one answer holds.
pub const MAX_LIMIT: usize = 50;
/// The longest query text, in characters.
pub const MAX_QUERY_CHARS: usize = 100;
/// Outside every city, places by coordinates come from this far around the point at most.
pub const NEAR_RADIUS_M: f64 = 50_000.0;
/// A geocoder's answer this close to a built-in place of the same name is that place.
const SAME_PLACE_M: f64 = 500.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum PlaceKind {
    Airport,
    Station,
    CityCentre,
    Landmark,
    /// An answer of the geocoder (a street address or anything else it knows).
    Address,
}

impl PlaceKind {
    /// Airports, stations and centres first, then landmarks, then addresses.
    fn group(self) -> u8 {
        match self {
            PlaceKind::Airport | PlaceKind::Station | PlaceKind::CityCentre => 0,
            PlaceKind::Landmark => 1,
            PlaceKind::Address => 2,
        }
    }

    /// Between equally good matches of the first group: airport, station, centre.
    fn order(self) -> u8 {
        match self {
            PlaceKind::Airport => 0,
            PlaceKind::Station => 1,
            PlaceKind::CityCentre => 2,
            PlaceKind::Landmark => 3,
            PlaceKind::Address => 4,
        }
    }
}

/// A place a rider can be picked up at or taken to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Place {
    /// Stable: `airport:BER`, `station:8011160` (EVA number), `centre:berlin`, `osm:N123` (a
    /// geocoder's OpenStreetMap object).
    pub id: String,
    pub name: String,
    pub kind: PlaceKind,
    /// The catalog city serving the place in this answer: the requested city, else the place's
    /// own.
    pub city_id: String,
    pub lat: f64,
    pub lon: f64,
    /// IATA code, for airports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub airport_code: Option<String>,
}

impl Place {
    pub fn position(&self) -> LatLon {
        LatLon {
            lat: self.lat,
            lon: self.lon,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlacesFile {
    schema: u32,
    source: String,
    places: Vec<PlaceRecord>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceRecord {
    id: String,
    kind: PlaceKind,
    name: String,
    city_id: String,
    lat: f64,
    lon: f64,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    airport_code: Option<String>,
    /// A station's DB category, 1 the busiest: ranks equally good matches.
    #[serde(default)]
    category: Option<u8>,
}

/// A name folded for matching, in its two spellings (umlaut as the bare vowel and as vowel + e).
#[derive(Debug, Clone)]
struct FoldedName {
    spellings: [Vec<String>; 2],
    /// Another name of the place, not the one it is shown under: matches rank a little lower.
    alias: bool,
}

impl FoldedName {
    fn new(text: &str, alias: bool) -> FoldedName {
        let (bare, with_e) = fold(text);
        FoldedName {
            spellings: [words(&bare), words(&with_e)],
            alias,
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    place: Place,
    names: Vec<FoldedName>,
    /// Lower first among equally good matches of one kind (a station's category).
    rank: u8,
}

/// The built-in places, folded for search once.
#[derive(Debug, Clone)]
pub struct PlaceIndex {
    source: String,
    entries: Vec<Entry>,
}

/// A query, folded once.
#[derive(Debug, Clone)]
pub struct PlaceQuery {
    text: String,
    spellings: [Vec<String>; 2],
}

impl PlaceQuery {
    /// Checks and folds the query text (`field` names it in errors).
    pub fn parse(text: &str, field: &str) -> Result<PlaceQuery, CoreError> {
        let text = text.trim();
        let invalid = |reason: &str| CoreError::InvalidRequest {
            field: field.to_owned(),
            reason: reason.to_owned(),
        };
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(invalid(&format!(
                "must be at most {MAX_QUERY_CHARS} characters"
            )));
        }
        if text.chars().any(char::is_control) {
            return Err(invalid("must not contain control characters"));
        }
        let (bare, with_e) = fold(text);
        let query = PlaceQuery {
            text: text.to_owned(),
            spellings: [words(&bare), words(&with_e)],
        };
        if query.spellings[0].is_empty() {
            return Err(invalid("must contain a letter or digit"));
        }
        Ok(query)
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// How well one name matches, if it does: 100 the whole name, 90 the name's beginning,
    /// 80 every word begins a name word in order, 70 in any order; 5 less for another name.
    fn score_name(&self, name: &FoldedName) -> Option<u32> {
        let mut best = None;
        for query in &self.spellings {
            for candidate in &name.spellings {
                if let Some(score) = score_words(query, candidate) {
                    best = best.max(Some(score));
                }
            }
        }
        best.map(|s| if name.alias { s - 5 } else { s })
    }

    fn score(&self, names: &[FoldedName], airport_code: Option<&str>) -> Option<u32> {
        if airport_code.is_some_and(|code| code.eq_ignore_ascii_case(&self.text)) {
            return Some(100);
        }
        names.iter().filter_map(|n| self.score_name(n)).max()
    }
}

fn score_words(query: &[String], name: &[String]) -> Option<u32> {
    if query.is_empty() || name.is_empty() {
        return None;
    }
    if query == name {
        return Some(100);
    }
    // The name begins with the query as typed so far ("munchen h" → "munchen hbf").
    if let Some((last, whole)) = query.split_last() {
        if whole.len() < name.len()
            && name.iter().zip(whole).all(|(n, q)| n == q)
            && name
                .get(whole.len())
                .is_some_and(|n| n.starts_with(last.as_str()))
        {
            return Some(90);
        }
    }
    // Every query word begins a different name word: in order, or in any order.
    let mut position = 0;
    let in_order = query.iter().all(|q| {
        match name
            .iter()
            .skip(position)
            .position(|n| n.starts_with(q.as_str()))
        {
            Some(found) => {
                position += found + 1;
                true
            }
            None => false,
        }
    });
    if in_order {
        return Some(80);
    }
    let mut used = vec![false; name.len()];
    let any_order = query.iter().all(|q| {
        let found = name
            .iter()
            .enumerate()
            .find(|(i, n)| !used[*i] && n.starts_with(q.as_str()));
        match found {
            Some((i, _)) => {
                used[i] = true;
                true
            }
            None => false,
        }
    });
    any_order.then_some(70)
}

/// Lower case, accents off, anything but letters and digits a word break. Returns the two
/// spellings of German umlauts: bare (ä → a) and with e (ä → ae); ß is ss in both.
pub fn fold(text: &str) -> (String, String) {
    let mut bare = String::with_capacity(text.len());
    let mut with_e = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        let (b, e): (&str, &str) = match c {
            'ä' => ("a", "ae"),
            'ö' => ("o", "oe"),
            'ü' => ("u", "ue"),
            'ß' => ("ss", "ss"),
            'à' | 'á' | 'â' | 'ã' | 'å' | 'ā' | 'ă' | 'ą' => ("a", "a"),
            'æ' => ("ae", "ae"),
            'ç' | 'ć' | 'č' => ("c", "c"),
            'ď' | 'đ' | 'ð' => ("d", "d"),
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => ("e", "e"),
            'ğ' => ("g", "g"),
            'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => ("i", "i"),
            'ł' | 'ľ' | 'ĺ' => ("l", "l"),
            'ñ' | 'ń' | 'ň' => ("n", "n"),
            'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'ō' | 'ő' => ("o", "o"),
            'œ' => ("oe", "oe"),
            'ř' | 'ŕ' => ("r", "r"),
            'ś' | 'š' | 'ş' | 'ș' => ("s", "s"),
            'ť' | 'ţ' | 'ț' => ("t", "t"),
            'ù' | 'ú' | 'û' | 'ū' | 'ů' | 'ű' | 'ų' => ("u", "u"),
            'ý' | 'ÿ' => ("y", "y"),
            'ź' | 'ż' | 'ž' => ("z", "z"),
            'þ' => ("th", "th"),
            c if c.is_alphanumeric() => {
                bare.push(c);
                with_e.push(c);
                continue;
            }
            _ => (" ", " "),
        };
        bare.push_str(b);
        with_e.push_str(e);
    }
    (bare, with_e)
}

fn words(folded: &str) -> Vec<String> {
    folded.split_whitespace().map(str::to_owned).collect()
}

/// The catalog city whose service area holds the point (the test quotes apply); where areas
/// overlap, the one whose centre is nearest.
pub fn serving_city(catalog: &Catalog, point: LatLon) -> Option<&City> {
    catalog
        .cities()
        .iter()
        .filter(|city| city.contains(point))
        .min_by(|a, b| {
            great_circle_m(a.service_area.center, point)
                .total_cmp(&great_circle_m(b.service_area.center, point))
        })
}

/// Checks `limit` as the request gave it (absent: the default).
pub fn parse_limit(raw: Option<&str>, field: &str) -> Result<usize, CoreError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LIMIT);
    };
    raw.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| CoreError::InvalidRequest {
            field: field.to_owned(),
            reason: format!("must be a whole number from 1 to {MAX_LIMIT}"),
        })
}

struct Ranked<'a> {
    place: Place,
    score: u32,
    /// A built-in place's names, to recognise it among a geocoder's answers.
    names: &'a [FoldedName],
    rank: u8,
}

impl PlaceIndex {
    /// The places that ship with this crate, checked against the catalog.
    pub fn shipped(catalog: &Catalog) -> Result<PlaceIndex, CoreError> {
        PlaceIndex::from_json(SHIPPED_PLACES_JSON.as_bytes(), catalog)
    }

    /// Parses and checks a places file: known cities, valid coordinates, unique ids.
    pub fn from_json(bytes: &[u8], catalog: &Catalog) -> Result<PlaceIndex, CoreError> {
        let fail = |field: String, reason: String| CoreError::InvalidCatalog {
            city: String::new(),
            field,
            reason,
        };
        let file: PlacesFile =
            serde_json::from_slice(bytes).map_err(|e| fail("(places)".into(), e.to_string()))?;
        if file.schema != 1 {
            return Err(fail(
                "places.schema".into(),
                format!("schema {} is not supported", file.schema),
            ));
        }
        let mut ids = HashSet::new();
        let mut entries = Vec::with_capacity(file.places.len());
        for (i, record) in file.places.into_iter().enumerate() {
            let field = format!("places[{i}]");
            if !ids.insert(record.id.clone()) {
                return Err(fail(field, format!("id {} is listed twice", record.id)));
            }
            let city = catalog
                .city(&record.city_id)
                .map_err(|_| fail(field.clone(), format!("unknown city {}", record.city_id)))?;
            let place = Place {
                id: record.id,
                name: record.name,
                kind: record.kind,
                city_id: record.city_id,
                lat: record.lat,
                lon: record.lon,
                airport_code: record.airport_code,
            };
            if place.position().validate(&field).is_err() || !city.contains(place.position()) {
                return Err(fail(
                    field,
                    format!("{} lies outside {}'s service area", place.id, city.id),
                ));
            }
            if place.name.trim().is_empty() {
                return Err(fail(field, "has no name".into()));
            }
            let mut names = vec![FoldedName::new(&place.name, false)];
            names.extend(record.aliases.iter().map(|a| FoldedName::new(a, true)));
            entries.push(Entry {
                place,
                names,
                rank: record.category.unwrap_or(u8::MAX),
            });
        }
        Ok(PlaceIndex {
            source: file.source,
            entries,
        })
    }

    /// Where the data comes from, with its licences.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Places matching `query` (or, without one, every built-in place of the city), in `city`'s
    /// service area when one is given, merged with a geocoder's answers (`found`, shown as
    /// addresses; those outside the city and those that are a built-in place are left out).
    pub fn search(
        &self,
        city: Option<&City>,
        query: Option<&PlaceQuery>,
        found: &[Place],
        limit: usize,
    ) -> Vec<Place> {
        let in_scope = |point: LatLon| city.is_none_or(|c| c.contains(point));
        let serve = |mut place: Place| {
            if let Some(c) = city {
                place.city_id.clone_from(&c.id);
            }
            place
        };
        let mut ranked: Vec<Ranked> = Vec::new();
        for entry in &self.entries {
            if !in_scope(entry.place.position()) {
                continue;
            }
            let score = match query {
                Some(q) => match q.score(&entry.names, entry.place.airport_code.as_deref()) {
                    Some(score) => score,
                    None => continue,
                },
                None => 0,
            };
            ranked.push(Ranked {
                place: serve(entry.place.clone()),
                score,
                names: &entry.names,
                rank: entry.rank,
            });
        }
        let builtin = ranked.len();
        for place in found {
            if !in_scope(place.position()) {
                continue;
            }
            let name = FoldedName::new(&place.name, false);
            // "Berlin Hauptbahnhof, Berlin": the name before the address parts.
            let head = FoldedName::new(place.name.split(',').next().unwrap_or_default(), false);
            let duplicate = ranked[..builtin].iter().any(|r| {
                great_circle_m(r.place.position(), place.position()) <= SAME_PLACE_M
                    && r.names.iter().any(|n| n.spellings[0] == head.spellings[0])
            });
            if duplicate || ranked.iter().any(|r| r.place.id == place.id) {
                continue;
            }
            // The geocoder tolerates typos we do not; its answer stays, after our matches.
            let score = query
                .and_then(|q| q.score(std::slice::from_ref(&name), None))
                .unwrap_or(0);
            ranked.push(Ranked {
                place: serve(place.clone()),
                score,
                names: &[],
                rank: u8::MAX,
            });
        }
        // Stable: a geocoder's own order survives among its equally scored answers.
        ranked.sort_by(|a, b| {
            let (pa, pb) = (&a.place, &b.place);
            pa.kind
                .group()
                .cmp(&pb.kind.group())
                .then(b.score.cmp(&a.score))
                .then(pa.kind.order().cmp(&pb.kind.order()))
                .then(a.rank.cmp(&b.rank))
                .then_with(|| {
                    if pa.kind == PlaceKind::Address {
                        std::cmp::Ordering::Equal
                    } else {
                        pa.name
                            .chars()
                            .count()
                            .cmp(&pb.name.chars().count())
                            .then_with(|| pa.name.cmp(&pb.name))
                    }
                })
        });
        ranked.truncate(limit);
        ranked.into_iter().map(|r| r.place).collect()
    }

    /// The built-in places nearest to `point`, nearest first: in `city`'s service area when one
    /// is given, else within [`NEAR_RADIUS_M`]. A geocoder's answers for the point (`found`)
    /// come first, when in scope.
    pub fn nearest(
        &self,
        point: LatLon,
        city: Option<&City>,
        found: &[Place],
        limit: usize,
    ) -> Vec<Place> {
        let in_scope = |p: LatLon| match city {
            Some(c) => c.contains(p),
            None => great_circle_m(point, p) <= NEAR_RADIUS_M,
        };
        let mut near: Vec<(f64, &Place)> = self
            .entries
            .iter()
            .map(|e| &e.place)
            .filter(|p| in_scope(p.position()))
            .map(|p| (great_circle_m(point, p.position()), p))
            .collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        found
            .iter()
            .filter(|p| in_scope(p.position()))
            .chain(near.into_iter().map(|(_, p)| p))
            .take(limit)
            .cloned()
            .map(|mut place| {
                if let Some(c) = city {
                    place.city_id.clone_from(&c.id);
                }
                place
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Catalog, PlaceIndex) {
        let catalog = Catalog::shipped().unwrap();
        let index = PlaceIndex::shipped(&catalog).unwrap();
        (catalog, index)
    }

    fn q(text: &str) -> PlaceQuery {
        PlaceQuery::parse(text, "q").unwrap()
    }

    fn names(places: &[Place]) -> Vec<&str> {
        places.iter().map(|p| p.name.as_str()).collect()
    }

    fn address(id: &str, name: &str, lat: f64, lon: f64) -> Place {
        Place {
            id: id.into(),
            name: name.into(),
            kind: PlaceKind::Address,
            city_id: String::new(),
            lat,
            lon,
            airport_code: None,
        }
    }

    #[test]
    fn folding_drops_case_and_accents_and_spells_umlauts_both_ways() {
        assert_eq!(
            fold("München Hbf"),
            ("munchen hbf".into(), "muenchen hbf".into())
        );
        assert_eq!(fold("Straße"), ("strasse".into(), "strasse".into()));
        assert_eq!(
            fold("Genève-Cornavin"),
            ("geneve cornavin".into(), "geneve cornavin".into())
        );
        assert_eq!(fold("Kraków Główny").0, "krakow glowny");
        assert_eq!(fold("ÆØÅ").0, "aeoa");
    }

    #[test]
    fn every_catalog_airport_and_city_centre_ships() {
        let (catalog, index) = setup();
        for city in catalog.cities() {
            let all = index.search(Some(city), None, &[], MAX_LIMIT);
            assert!(
                all.iter().any(|p| p.id == format!("centre:{}", city.id)),
                "{} has no centre",
                city.id
            );
            for airport in &city.airports {
                let found = all
                    .iter()
                    .find(|p| p.airport_code.as_deref() == Some(airport.iata.as_str()))
                    .unwrap_or_else(|| panic!("{} misses {}", city.id, airport.iata));
                assert_eq!(found.kind, PlaceKind::Airport);
                assert_eq!(found.city_id, city.id, "answers name the requested city");
            }
        }
        assert!(index.source().contains("CC BY 4.0"));
    }

    #[test]
    fn umlauts_match_typed_with_or_without_e_and_case_does_not_matter() {
        let (catalog, index) = setup();
        let munich = catalog.city("munich").unwrap();
        for typed in ["München Hbf", "munchen hbf", "MUENCHEN HBF", "muenchen h"] {
            let found = index.search(Some(munich), Some(&q(typed)), &[], 5);
            assert_eq!(
                found[0].name,
                "München Hbf",
                "typed {typed:?}: {:?}",
                names(&found)
            );
        }
        let found = index.search(Some(munich), Some(&q("hauptbahnhof")), &[], 5);
        assert_eq!(names(&found), ["München Hbf"], "the alias finds it");
        let found = index.search(Some(munich), Some(&q("central station munich")), &[], 5);
        assert_eq!(names(&found), ["München Hbf"], "words in any order");
    }

    #[test]
    fn airports_stations_and_centres_rank_by_match_then_kind() {
        let (catalog, index) = setup();
        let berlin = catalog.city("berlin").unwrap();
        let found = index.search(Some(berlin), Some(&q("berlin")), &[], 10);
        assert_eq!(found[0].id, "centre:berlin", "the exact name first");
        assert_eq!(
            found[1].id, "airport:BER",
            "then prefixes, airport before stations"
        );
        assert!(found[2..].iter().all(|p| p.kind == PlaceKind::Station));
        // Among equally good station names, the busiest category first.
        let first_category_two = found
            .iter()
            .position(|p| p.id == "station:8010404") // Berlin-Spandau, category 2
            .unwrap_or(found.len());
        assert!(found[..first_category_two]
            .iter()
            .any(|p| p.id == "station:8011160")); // Berlin Hauptbahnhof, category 1
                                                  // A code finds its airport.
        let found = index.search(Some(berlin), Some(&q("ber")), &[], 3);
        assert_eq!(found[0].id, "airport:BER");
        // Prefixes of words, not the middle of them.
        assert!(index
            .search(Some(berlin), Some(&q("erlin")), &[], 3)
            .is_empty());
    }

    #[test]
    fn a_city_scope_keeps_to_its_service_area() {
        let (catalog, index) = setup();
        let munich = catalog.city("munich").unwrap();
        assert!(index
            .search(Some(munich), Some(&q("berlin")), &[], 10)
            .is_empty());
        // Without a city every place counts, under its own city.
        let found = index.search(None, Some(&q("berlin hbf")), &[], 10);
        assert!(found.iter().all(|p| p.city_id == "berlin"));
        // Bonn is served by Cologne's airport, and an answer in Bonn says Bonn.
        let bonn = catalog.city("bonn").unwrap();
        let found = index.search(Some(bonn), Some(&q("CGN")), &[], 1);
        assert_eq!(found[0].id, "airport:CGN");
        assert_eq!(found[0].city_id, "bonn");
    }

    #[test]
    fn geocoder_answers_follow_built_in_places_and_stay_in_the_city() {
        let (catalog, index) = setup();
        let berlin = catalog.city("berlin").unwrap();
        let found = [
            address("osm:N1", "Berlin Hauptbahnhof, Berlin", 52.5250, 13.3690), // = station:8011160
            address("osm:N2", "Berliner Straße 12", 52.48, 13.33),
            address("osm:N3", "Berliner Platz 1", 48.1, 11.5), // Munich: outside Berlin
            address("osm:N4", "Kurfürstendamm 1", 52.50, 13.33),
        ];
        let out = index.search(Some(berlin), Some(&q("berlin")), &found, 50);
        let ids: Vec<&str> = out.iter().map(|p| p.id.as_str()).collect();
        assert!(!ids.contains(&"osm:N1"), "the station is not repeated");
        assert!(!ids.contains(&"osm:N3"), "outside the city's area");
        let first_address = out
            .iter()
            .position(|p| p.kind == PlaceKind::Address)
            .unwrap();
        assert!(out[..first_address]
            .iter()
            .all(|p| p.kind != PlaceKind::Address));
        assert_eq!(
            &ids[first_address..],
            ["osm:N2", "osm:N4"],
            "matching first"
        );
        assert!(out.iter().all(|p| p.city_id == "berlin"));
    }

    #[test]
    fn nearest_places_and_the_serving_city() {
        let (catalog, index) = setup();
        let hbf = LatLon {
            lat: 52.5251,
            lon: 13.3694,
        };
        let city = serving_city(&catalog, hbf).unwrap();
        assert_eq!(city.id, "berlin");
        let near = index.nearest(hbf, Some(city), &[], 3);
        assert_eq!(near[0].name, "Berlin Hauptbahnhof");
        assert_eq!(near.len(), 3);
        // Where areas overlap, the nearest centre serves: Potsdam, not Berlin.
        let potsdam = LatLon {
            lat: 52.3906,
            lon: 13.0645,
        };
        assert_eq!(serving_city(&catalog, potsdam).unwrap().id, "potsdam");
        // The middle of the Atlantic: no city, nothing near.
        let sea = LatLon {
            lat: 40.0,
            lon: -40.0,
        };
        assert!(serving_city(&catalog, sea).is_none());
        assert!(index.nearest(sea, None, &[], 5).is_empty());
    }

    #[test]
    fn bad_queries_and_limits_name_their_field() {
        for bad in ["", "   ", "--", &"x".repeat(MAX_QUERY_CHARS + 1), "a\u{0}b"] {
            match PlaceQuery::parse(bad, "q") {
                Err(CoreError::InvalidRequest { field, .. }) => assert_eq!(field, "q"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert_eq!(parse_limit(None, "limit").unwrap(), DEFAULT_LIMIT);
        assert_eq!(parse_limit(Some("50"), "limit").unwrap(), 50);
        for bad in ["0", "51", "-1", "ten", ""] {
            assert!(parse_limit(Some(bad), "limit").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_broken_places_file_is_refused_with_its_place() {
        let catalog = Catalog::shipped().unwrap();
        let place = |id: &str, city: &str, lat: f64| {
            format!(
                r#"{{"id":"{id}","kind":"landmark","name":"X","city_id":"{city}","lat":{lat},"lon":13.4}}"#
            )
        };
        let file = |places: &[String]| {
            format!(
                r#"{{"schema":1,"source":"test","places":[{}]}}"#,
                places.join(",")
            )
        };
        let ok = file(&[place("a", "berlin", 52.5)]);
        assert_eq!(
            PlaceIndex::from_json(ok.as_bytes(), &catalog)
                .unwrap()
                .len(),
            1
        );
        for bad in [
            file(&[place("a", "berlin", 52.5), place("a", "berlin", 52.5)]),
            file(&[place("a", "atlantis", 52.5)]),
            file(&[place("a", "berlin", 10.0)]),
        ] {
            let err = PlaceIndex::from_json(bad.as_bytes(), &catalog).unwrap_err();
            assert!(
                matches!(&err, CoreError::InvalidCatalog { field, .. } if field == "places[0]" || field == "places[1]"),
                "{err}"
            );
        }
    }
}
