//! The catalog: cities with their time zone, currency, VAT, service area, airports and tariffs
//! per vehicle class and product. Loaded from JSON (`core/data/catalog.json` ships with the
//! crate) and validated as a whole; a broken entry is refused with the city and field it is in.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::distance::{great_circle_m, LatLon};
use crate::error::CoreError;
use crate::money::{Currency, Money};

/// The catalog that ships with this crate (see `core/data/SOURCES.md`).
pub const SHIPPED_CATALOG_JSON: &str = include_str!("../../data/catalog.json");

/// Vehicle classes, cheapest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum VehicleClass {
    Business,
    First,
    Van,
}

impl VehicleClass {
    pub const ALL: [VehicleClass; 3] = [
        VehicleClass::Business,
        VehicleClass::First,
        VehicleClass::Van,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            VehicleClass::Business => "business",
            VehicleClass::First => "first",
            VehicleClass::Van => "van",
        }
    }

    pub fn parse(text: &str) -> Option<VehicleClass> {
        VehicleClass::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

impl fmt::Display for VehicleClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An IANA time zone, written as its name ("Europe/Berlin").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(pub Tz);

impl Serialize for TimeZone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.name())
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse::<Tz>()
            .map(TimeZone)
            .map_err(|_| serde::de::Error::custom(format!("unknown IANA time zone {name:?}")))
    }
}

/// A wall-clock time of day, written "HH:MM", kept as minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime(pub u32);

impl ClockTime {
    pub fn parse(text: &str) -> Option<ClockTime> {
        let (h, m) = text.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(ClockTime(h * 60 + m))
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{:02}:{:02}", self.0 / 60, self.0 % 60))
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ClockTime::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a time of day HH:MM")))
    }
}

/// `[from, to)` in local time; wraps past midnight when `to <= from` (22:00–06:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClockWindow {
    /// "HH:MM", local time.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "22:00"))]
    pub from: ClockTime,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "06:00"))]
    pub to: ClockTime,
}

impl ClockWindow {
    pub fn contains(&self, minute_of_day: u32) -> bool {
        let (from, to) = (self.from.0, self.to.0);
        if from < to {
            (from..to).contains(&minute_of_day)
        } else {
            minute_of_day >= from || minute_of_day < to
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceArea {
    pub center: LatLon,
    pub radius_km: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Circuity {
    /// Road distance = great-circle × short_permille / 1000 for legs under `short_below_km`.
    pub short_permille: u32,
    pub long_permille: u32,
    pub short_below_km: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SpeedProfile {
    pub urban_kmh: u32,
    pub arterial_kmh: u32,
    /// The first `urban_km` of a trip run at the urban speed.
    pub urban_km: u32,
    /// Both speeds × this / 1000 inside a weekday peak window.
    pub peak_factor_permille: u32,
    pub peak_windows: Vec<ClockWindow>,
}

fn default_airport_radius_m() -> u32 {
    2_500
}

fn default_station_radius_m() -> u32 {
    400
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Airport {
    pub iata: String,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    /// A pickup within this distance of the airport's reference point is an airport pickup.
    #[serde(default = "default_airport_radius_m")]
    pub pickup_radius_m: u32,
}

impl Airport {
    pub fn position(&self) -> LatLon {
        LatLon {
            lat: self.lat,
            lon: self.lon,
        }
    }
}

/// A main railway station (free waiting time as at airports). None ship yet; the schema is ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Station {
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    #[serde(default = "default_station_radius_m")]
    pub pickup_radius_m: u32,
}

/// All amounts in minor units of the city's currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TransferTariff {
    pub base: i64,
    pub per_km: i64,
    pub per_minute: i64,
    pub minimum: i64,
    /// Charged per started minute of waiting beyond the free waiting time.
    pub waiting_per_minute: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HourlyTariff {
    pub per_hour: i64,
    pub min_hours: u32,
    pub max_hours: u32,
    pub included_km_per_hour: u32,
    /// Per kilometre driven beyond the included kilometres.
    pub extra_km: i64,
    /// Per hour beyond the booked hours, charged per started quarter hour.
    pub extra_hour: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClassOffer {
    pub passengers: u32,
    pub bags: u32,
    pub transfer: TransferTariff,
    pub hourly: HourlyTariff,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NightSurcharge {
    /// "HH:MM", local time.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "22:00"))]
    pub from: ClockTime,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "06:00"))]
    pub to: ClockTime,
    /// Percentage of the ride fare, in basis points (2000 = 20 %).
    pub percent_bp: u32,
}

impl NightSurcharge {
    pub fn window(&self) -> ClockWindow {
        ClockWindow {
            from: self.from,
            to: self.to,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Surcharges {
    pub airport_pickup: i64,
    pub meet_and_greet: i64,
    pub child_seat: i64,
    pub extra_stop: i64,
    pub night: NightSurcharge,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FreeWaiting {
    pub airport: u32,
    pub station: u32,
    pub other: u32,
}

/// From `before_minutes` before pickup (inclusive) the fee is `percent_bp` of the price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancellationTier {
    pub before_minutes: u32,
    pub percent_bp: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancellationPolicy {
    pub transfer: Vec<CancellationTier>,
    pub hourly: Vec<CancellationTier>,
}

impl Default for CancellationPolicy {
    /// DESIGN.md: transfers free until 60 min before pickup, then 100 %; hourly hires free
    /// until 12 h before, 50 % from 12 h, 75 % from 6 h, 100 % from 3 h.
    fn default() -> Self {
        let tier = |before_minutes, percent_bp| CancellationTier {
            before_minutes,
            percent_bp,
        };
        CancellationPolicy {
            transfer: vec![tier(60, 10_000)],
            hourly: vec![tier(720, 5_000), tier(360, 7_500), tier(180, 10_000)],
        }
    }
}

fn default_quote_validity_minutes() -> u32 {
    15
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct City {
    pub id: String,
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// IANA time zone name.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "Europe/Berlin"))]
    pub time_zone: TimeZone,
    /// ISO 4217 code.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "EUR"))]
    pub currency: Currency,
    /// VAT included in prices, in basis points (1900 = 19 %).
    pub vat_rate_bp: u32,
    /// Prices round up to a multiple of this many minor units.
    pub rounding_step: i64,
    pub lead_time_minutes: u32,
    /// Whether "as soon as possible" pickups are offered.
    pub on_demand: bool,
    #[serde(default = "default_quote_validity_minutes")]
    pub quote_validity_minutes: u32,
    pub service_area: ServiceArea,
    pub circuity: Circuity,
    pub speed: SpeedProfile,
    pub airports: Vec<Airport>,
    #[serde(default)]
    pub stations: Vec<Station>,
    #[serde(deserialize_with = "classes_by_name")]
    pub classes: BTreeMap<VehicleClass, ClassOffer>,
    pub surcharges: Surcharges,
    pub free_waiting_minutes: FreeWaiting,
    #[serde(default)]
    pub cancellation: CancellationPolicy,
}

/// Reads the class map with string keys first, so an error inside a class names its path
/// (`classes.van.hourly`) rather than an opaque enum key.
fn classes_by_name<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<VehicleClass, ClassOffer>, D::Error> {
    let by_name = BTreeMap::<String, ClassOffer>::deserialize(deserializer)?;
    by_name
        .into_iter()
        .map(|(name, offer)| {
            let class = VehicleClass::ALL
                .into_iter()
                .find(|c| c.as_str() == name)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown vehicle class {name:?}"))
                })?;
            Ok((class, offer))
        })
        .collect()
}

/// Where a ride starts, as far as waiting time and airport fees are concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PickupPlace {
    Airport { iata: String },
    Station { name: String },
    Other,
}

impl City {
    pub fn tz(&self) -> Tz {
        self.time_zone.0
    }

    pub fn money(&self, amount_minor: i64) -> Money {
        Money::new(amount_minor, self.currency)
    }

    pub fn offer(&self, class: VehicleClass) -> Result<&ClassOffer, CoreError> {
        self.classes
            .get(&class)
            .ok_or_else(|| CoreError::ClassNotOffered {
                city: self.id.clone(),
                class: class.to_string(),
            })
    }

    pub fn contains(&self, point: LatLon) -> bool {
        great_circle_m(self.service_area.center, point)
            <= f64::from(self.service_area.radius_km) * 1000.0
    }

    /// Refuses a point outside the service area, naming the input (`field`).
    pub fn check_in_area(&self, point: LatLon, field: &str) -> Result<(), CoreError> {
        point.validate(field)?;
        if self.contains(point) {
            Ok(())
        } else {
            Err(CoreError::OutsideServiceArea {
                city: self.id.clone(),
                field: field.to_owned(),
            })
        }
    }

    /// Airport first (nearest wins), then station, else other.
    pub fn pickup_place(&self, point: LatLon) -> PickupPlace {
        let airport = self
            .airports
            .iter()
            .map(|a| (great_circle_m(a.position(), point), a))
            .filter(|(d, a)| *d <= f64::from(a.pickup_radius_m))
            .min_by(|x, y| x.0.total_cmp(&y.0));
        if let Some((_, a)) = airport {
            return PickupPlace::Airport {
                iata: a.iata.clone(),
            };
        }
        let station = self.stations.iter().find(|s| {
            great_circle_m(
                LatLon {
                    lat: s.lat,
                    lon: s.lon,
                },
                point,
            ) <= f64::from(s.pickup_radius_m)
        });
        match station {
            Some(s) => PickupPlace::Station {
                name: s.name.clone(),
            },
            None => PickupPlace::Other,
        }
    }

    pub fn free_waiting_minutes(&self, place: &PickupPlace) -> u32 {
        match place {
            PickupPlace::Airport { .. } => self.free_waiting_minutes.airport,
            PickupPlace::Station { .. } => self.free_waiting_minutes.station,
            PickupPlace::Other => self.free_waiting_minutes.other,
        }
    }

    /// Every rule a city must satisfy; the error names the city and the field.
    pub fn validate(&self) -> Result<(), CoreError> {
        let id = self.id.as_str();
        let fail = |field: &str, reason: String| Err(CoreError::catalog(id, field, reason));
        let slug_ok = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !slug_ok {
            return fail("id", "must be lowercase letters, digits and dashes".into());
        }
        if self.name.trim().is_empty() {
            return fail("name", "must not be empty".into());
        }
        if !ISO_3166_ALPHA2.split(' ').any(|c| c == self.country) {
            return fail(
                "country",
                format!("{:?} is not an ISO 3166-1 alpha-2 code", self.country),
            );
        }
        if self.vat_rate_bp > 5_000 {
            return fail("vat_rate_bp", format!("{} is above 50 %", self.vat_rate_bp));
        }
        if self.rounding_step < 1 {
            return fail("rounding_step", "must be at least 1 minor unit".into());
        }
        if self.lead_time_minutes > 7 * 24 * 60 {
            return fail("lead_time_minutes", "must be at most a week".into());
        }
        if !(1..=24 * 60).contains(&self.quote_validity_minutes) {
            return fail(
                "quote_validity_minutes",
                "must be 1 minute to 24 hours".into(),
            );
        }
        let area = &self.service_area;
        if area.center.validate("center").is_err() {
            return fail("service_area.center", "coordinates out of range".into());
        }
        if !(1..=500).contains(&area.radius_km) {
            return fail("service_area.radius_km", "must be 1 to 500 km".into());
        }
        let c = &self.circuity;
        for (field, value) in [
            ("short_permille", c.short_permille),
            ("long_permille", c.long_permille),
        ] {
            if !(1000..=3000).contains(&value) {
                return fail(
                    &format!("circuity.{field}"),
                    format!("{value} is not within 1000..=3000"),
                );
            }
        }
        let s = &self.speed;
        for (field, value) in [
            ("urban_kmh", s.urban_kmh),
            ("arterial_kmh", s.arterial_kmh),
            ("peak_factor_permille", s.peak_factor_permille),
        ] {
            if value == 0 {
                return fail(&format!("speed.{field}"), "must be positive".into());
            }
        }
        if s.peak_factor_permille > 1000 {
            return fail(
                "speed.peak_factor_permille",
                "a peak cannot be faster than off-peak".into(),
            );
        }
        let mut codes = HashSet::new();
        for (i, airport) in self.airports.iter().enumerate() {
            let field = format!("airports[{i}]");
            let iata_ok =
                airport.iata.len() == 3 && airport.iata.chars().all(|c| c.is_ascii_uppercase());
            if !iata_ok {
                return fail(
                    &format!("{field}.iata"),
                    format!("{:?} is not an IATA code", airport.iata),
                );
            }
            if !codes.insert(airport.iata.as_str()) {
                return fail(
                    &format!("{field}.iata"),
                    format!("{} is listed twice", airport.iata),
                );
            }
            if airport.position().validate("airport").is_err() {
                return fail(&field, "coordinates out of range".into());
            }
            if !self.contains(airport.position()) {
                return fail(
                    &field,
                    format!(
                        "airport {} lies outside the city's service area",
                        airport.iata
                    ),
                );
            }
        }
        for (i, station) in self.stations.iter().enumerate() {
            if !self.contains(LatLon {
                lat: station.lat,
                lon: station.lon,
            }) {
                return fail(
                    &format!("stations[{i}]"),
                    "station lies outside the service area".into(),
                );
            }
        }
        if !self.classes.contains_key(&VehicleClass::Business) {
            return fail(
                "classes",
                "missing class business (every city offers it)".into(),
            );
        }
        for (class, offer) in &self.classes {
            let at = |field: &str| format!("classes.{class}.{field}");
            if offer.passengers == 0 {
                return fail(&at("passengers"), "must be at least 1".into());
            }
            let t = &offer.transfer;
            let h = &offer.hourly;
            for (field, value) in [
                ("transfer.base", t.base),
                ("transfer.per_km", t.per_km),
                ("transfer.per_minute", t.per_minute),
                ("transfer.minimum", t.minimum),
                ("transfer.waiting_per_minute", t.waiting_per_minute),
                ("hourly.per_hour", h.per_hour),
                ("hourly.extra_km", h.extra_km),
                ("hourly.extra_hour", h.extra_hour),
            ] {
                if value < 0 {
                    return fail(&at(field), format!("negative rate {value}"));
                }
                if value > MAX_RATE_MINOR {
                    return fail(&at(field), format!("rate {value} is implausibly large"));
                }
            }
            if h.min_hours == 0 || h.min_hours > h.max_hours || h.max_hours > 24 * 7 {
                return fail(
                    &at("hourly.min_hours"),
                    "needs 1 <= min_hours <= max_hours <= 168".into(),
                );
            }
        }
        let sc = &self.surcharges;
        for (field, value) in [
            ("airport_pickup", sc.airport_pickup),
            ("meet_and_greet", sc.meet_and_greet),
            ("child_seat", sc.child_seat),
            ("extra_stop", sc.extra_stop),
        ] {
            if !(0..=MAX_RATE_MINOR).contains(&value) {
                return fail(
                    &format!("surcharges.{field}"),
                    format!("{value} is not a valid amount"),
                );
            }
        }
        if sc.night.percent_bp > 10_000 {
            return fail(
                "surcharges.night.percent_bp",
                "must be at most 100 %".into(),
            );
        }
        for (product, tiers) in [
            ("transfer", &self.cancellation.transfer),
            ("hourly", &self.cancellation.hourly),
        ] {
            if tiers.iter().any(|t| t.percent_bp > 10_000) {
                return fail(
                    &format!("cancellation.{product}"),
                    "a fee above 100 %".into(),
                );
            }
        }
        Ok(())
    }
}

/// No single tariff figure needs more than this many minor units (10^10: ₩10 billion).
const MAX_RATE_MINOR: i64 = 10_000_000_000;

/// The whole catalog, validated; cities looked up by id.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub schema: u32,
    pub edition: String,
    pub source: String,
    /// Changes whenever the content changes: `<edition>.<first 12 hex of SHA-256 of the JSON>`.
    pub version: String,
    cities: Vec<City>,
    by_id: HashMap<String, usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    schema: u32,
    edition: String,
    source: String,
    /// Present when the catalog comes from the server (which computed it).
    #[serde(default)]
    version: Option<String>,
    cities: Vec<serde_json::Value>,
}

/// The catalog as `GET /v1/cities` serves it.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CatalogDocument))]
pub struct CatalogOut<'a> {
    schema: u32,
    edition: &'a str,
    source: &'a str,
    version: &'a str,
    cities: &'a [City],
}

impl Serialize for Catalog {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        CatalogOut {
            schema: self.schema,
            edition: &self.edition,
            source: &self.source,
            version: &self.version,
            cities: &self.cities,
        }
        .serialize(serializer)
    }
}

pub const SUPPORTED_SCHEMA: u32 = 1;

impl Catalog {
    /// The catalog compiled into this crate.
    pub fn shipped() -> Result<Catalog, CoreError> {
        Catalog::from_json(SHIPPED_CATALOG_JSON.as_bytes())
    }

    /// Parses and validates a catalog; its version is derived from these exact bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Catalog, CoreError> {
        Catalog::parse(bytes, false)
    }

    /// A catalog as the server serves it (`GET /v1/cities`): re-serialised, so its bytes differ
    /// from the file's, but it names the version the server computed — the one its quotes
    /// carry. Offline estimates made from it say that version.
    pub fn from_served_json(bytes: &[u8]) -> Result<Catalog, CoreError> {
        Catalog::parse(bytes, true)
    }

    fn parse(bytes: &[u8], trust_named_version: bool) -> Result<Catalog, CoreError> {
        let file: CatalogFile = serde_json::from_slice(bytes)
            .map_err(|e| CoreError::catalog("", "(file)", e.to_string()))?;
        if file.schema != SUPPORTED_SCHEMA {
            return Err(CoreError::catalog(
                "",
                "schema",
                format!(
                    "schema {} is not supported (expected {SUPPORTED_SCHEMA})",
                    file.schema
                ),
            ));
        }
        let mut cities = Vec::with_capacity(file.cities.len());
        let mut by_id = HashMap::with_capacity(file.cities.len());
        for (i, raw) in file.cities.into_iter().enumerate() {
            let name = raw
                .get("id")
                .and_then(|v| v.as_str())
                .map_or_else(|| format!("#{i}"), str::to_owned);
            let city: City = serde_path_to_error::deserialize(raw).map_err(|e| {
                let field = e.path().to_string();
                CoreError::catalog(&name, field, e.into_inner().to_string())
            })?;
            city.validate()?;
            if by_id.insert(city.id.clone(), cities.len()).is_some() {
                return Err(CoreError::catalog(&city.id, "id", "duplicate city id"));
            }
            cities.push(city);
        }
        if cities.is_empty() {
            return Err(CoreError::catalog(
                "",
                "cities",
                "the catalog lists no city",
            ));
        }
        let version = match file.version {
            Some(named) if trust_named_version => named,
            _ => {
                let digest = Sha256::digest(bytes);
                let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
                format!("{}.{hex}", file.edition)
            }
        };
        Ok(Catalog {
            schema: file.schema,
            version,
            edition: file.edition,
            source: file.source,
            cities,
            by_id,
        })
    }

    pub fn city(&self, id: &str) -> Result<&City, CoreError> {
        self.by_id
            .get(id)
            .and_then(|&i| self.cities.get(i))
            .ok_or_else(|| CoreError::UnknownCity(id.to_owned()))
    }

    pub fn cities(&self) -> &[City] {
        &self.cities
    }

    pub fn version(&self) -> &str {
        &self.version
    }
}

/// ISO 3166-1 alpha-2 codes in use.
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG \
BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY \
CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ \
GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP \
KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU \
MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA \
RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK \
TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";
