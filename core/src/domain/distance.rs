//! Coordinates, great-circle distance and the road estimate that stands in for a routing
//! engine: great-circle × circuity factor for distance, a per-city speed profile for duration.

use chrono::{DateTime, Datelike, Utc, Weekday};
use geo::{Distance, Haversine, Point};
use serde::{Deserialize, Serialize};

use crate::catalog::City;
use crate::error::CoreError;

/// A WGS84 position in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LatLon {
    /// Latitude, -90 to 90.
    pub lat: f64,
    /// Longitude, -180 to 180.
    pub lon: f64,
}

impl LatLon {
    /// Validates the range; `field` names the input in the error ("pickup", "dropoff").
    pub fn new(lat: f64, lon: f64, field: &str) -> Result<LatLon, CoreError> {
        let point = LatLon { lat, lon };
        point.validate(field)?;
        Ok(point)
    }

    pub fn validate(&self, field: &str) -> Result<(), CoreError> {
        let ok = self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon);
        if ok {
            Ok(())
        } else {
            Err(CoreError::InvalidCoordinates {
                field: field.to_owned(),
                lat: self.lat,
                lon: self.lon,
            })
        }
    }
}

/// Great-circle (haversine) distance in metres, mean earth radius 6 371 008.8 m.
pub fn great_circle_m(from: LatLon, to: LatLon) -> f64 {
    Haversine.distance(Point::new(from.lon, from.lat), Point::new(to.lon, to.lat))
}

/// Road distance and driving time for a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteEstimate {
    pub distance_m: u32,
    pub duration_s: u32,
}

/// Anything that can turn waypoints into a road distance and duration. The built-in
/// [`EstimatedRouter`] needs no network; a routing engine (OSRM) can implement this at the edge.
pub trait Router {
    fn route(
        &self,
        city: &City,
        waypoints: &[LatLon],
        depart_at: DateTime<Utc>,
    ) -> Result<RouteEstimate, CoreError>;
}

/// A route that is already known: from a signed quote being re-priced, or from a routing engine
/// the edge called before pricing. Returns it whatever the waypoints.
#[derive(Debug, Clone, Copy)]
pub struct KnownRoute(pub RouteEstimate);

impl Router for KnownRoute {
    fn route(&self, _: &City, _: &[LatLon], _: DateTime<Utc>) -> Result<RouteEstimate, CoreError> {
        Ok(self.0)
    }
}

/// The estimate DESIGN.md specifies: great-circle × the city's circuity factor, timed by the
/// city's speed profile. Deterministic integer arithmetic after the distance is rounded to metres.
#[derive(Debug, Clone, Copy, Default)]
pub struct EstimatedRouter;

impl Router for EstimatedRouter {
    fn route(
        &self,
        city: &City,
        waypoints: &[LatLon],
        depart_at: DateTime<Utc>,
    ) -> Result<RouteEstimate, CoreError> {
        let mut distance_m: u64 = 0;
        for leg in waypoints.windows(2) {
            distance_m += u64::from(road_distance_m(city, leg[0], leg[1]));
        }
        let distance_m =
            u32::try_from(distance_m).map_err(|_| CoreError::request("route", "is too long"))?;
        let duration_s = driving_time_s(city, distance_m, depart_at);
        Ok(RouteEstimate {
            distance_m,
            duration_s,
        })
    }
}

/// Estimated road distance of one leg: 1.30 × great-circle under 5 km, 1.20 beyond (defaults).
pub fn road_distance_m(city: &City, from: LatLon, to: LatLon) -> u32 {
    let straight = great_circle_m(from, to);
    let circuity = &city.circuity;
    let permille = if straight < f64::from(circuity.short_below_km) * 1000.0 {
        circuity.short_permille
    } else {
        circuity.long_permille
    };
    // Saturating float-to-int cast; legs inside one city are far below u32::MAX metres.
    (straight * f64::from(permille) / 1000.0).round() as u32
}

/// Driving time: the first `urban_km` at the urban speed, the rest at the arterial speed, both
/// slowed by the peak factor inside a weekday peak window (local time).
pub fn driving_time_s(city: &City, distance_m: u32, depart_at: DateTime<Utc>) -> u32 {
    let speed = &city.speed;
    let local = depart_at.with_timezone(&city.tz());
    let weekday = !matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
    let minute_of_day = local
        .time()
        .signed_duration_since(chrono::NaiveTime::MIN)
        .num_minutes();
    let in_peak = weekday
        && speed
            .peak_windows
            .iter()
            .any(|w| w.contains(minute_of_day as u32));
    let factor = if in_peak {
        u64::from(speed.peak_factor_permille)
    } else {
        1000
    };
    let urban_m = u64::from(distance_m.min(speed.urban_km.saturating_mul(1000)));
    let arterial_m = u64::from(distance_m) - urban_m;
    // metres × 3600 s/h ÷ (km/h × 1000 m/km × factor/1000) = metres × 3600 ÷ (km/h × factor)
    let seconds = div_ceil(urban_m * 3600, u64::from(speed.urban_kmh) * factor)
        + div_ceil(arterial_m * 3600, u64::from(speed.arterial_kmh) * factor);
    u32::try_from(seconds).unwrap_or(u32::MAX)
}

fn div_ceil(numerator: u64, divisor: u64) -> u64 {
    if divisor == 0 {
        return 0;
    }
    numerator.div_ceil(divisor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_out_of_range_are_refused_with_the_field_name() {
        let err = LatLon::new(91.0, 0.0, "pickup").unwrap_err();
        assert_eq!(err.code(), "invalid_coordinates");
        assert!(err.to_string().starts_with("pickup"));
        assert!(LatLon::new(f64::NAN, 0.0, "dropoff").is_err());
        assert!(LatLon::new(0.0, -180.5, "dropoff").is_err());
        assert!(LatLon::new(-90.0, 180.0, "dropoff").is_ok());
    }

    #[test]
    fn great_circle_matches_a_known_distance() {
        // New York to London, the figure geo documents: 5 570 230 m.
        let nyc = LatLon {
            lat: 40.7128,
            lon: -74.006,
        };
        let london = LatLon {
            lat: 51.5074,
            lon: -0.1278,
        };
        assert_eq!(great_circle_m(nyc, london).round(), 5_570_230.0);
    }
}
