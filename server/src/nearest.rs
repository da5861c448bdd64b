//! The nearest available chauffeur: an R*-tree over online chauffeurs' positions, as points on
//! the unit sphere so that straight-line (chord) distance orders exactly like great-circle
//! distance. Queries walk outward from the pickup and stop at the search radius.

use std::collections::BTreeSet;

use chauffeur_core::{great_circle_m, LatLon, VehicleClass};
use rstar::primitives::GeomWithData;
use rstar::RTree;
use uuid::Uuid;

/// Mean earth radius in metres (the one `geo`'s haversine uses).
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// An online chauffeur who could take a ride now.
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineChauffeur {
    pub id: Uuid,
    pub position: LatLon,
    /// The classes the chauffeur's partner can send (a bit per `VehicleClass`).
    pub classes: u8,
}

pub fn class_bit(class: VehicleClass) -> u8 {
    match class {
        VehicleClass::Business => 1,
        VehicleClass::First => 2,
        VehicleClass::Van => 4,
    }
}

fn unit_vector(p: LatLon) -> [f64; 3] {
    let (lat, lon) = (p.lat.to_radians(), p.lon.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// The chord length (unit sphere) of a great-circle distance.
fn chord(metres: f64) -> f64 {
    2.0 * (metres / (2.0 * EARTH_RADIUS_M)).sin()
}

pub struct NearestIndex {
    tree: RTree<GeomWithData<[f64; 3], usize>>,
    chauffeurs: Vec<OnlineChauffeur>,
}

impl NearestIndex {
    pub fn build(chauffeurs: Vec<OnlineChauffeur>) -> NearestIndex {
        let points = chauffeurs
            .iter()
            .enumerate()
            .map(|(i, c)| GeomWithData::new(unit_vector(c.position), i))
            .collect();
        NearestIndex {
            tree: RTree::bulk_load(points),
            chauffeurs,
        }
    }

    pub fn len(&self) -> usize {
        self.chauffeurs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chauffeurs.is_empty()
    }

    /// The nearest chauffeur of `class` within `radius_m` of `at`, not in `exclude` (those
    /// already asked); with the great-circle distance in metres.
    pub fn nearest(
        &self,
        at: LatLon,
        class: VehicleClass,
        radius_m: u32,
        exclude: &BTreeSet<Uuid>,
    ) -> Option<(Uuid, f64)> {
        let query = unit_vector(at);
        let limit = chord(f64::from(radius_m));
        let limit_sq = limit * limit;
        let bit = class_bit(class);
        for candidate in self.tree.nearest_neighbor_iter(&query) {
            let p = candidate.geom();
            let d2 =
                (p[0] - query[0]).powi(2) + (p[1] - query[1]).powi(2) + (p[2] - query[2]).powi(2);
            if d2 > limit_sq {
                return None;
            }
            let chauffeur = self.chauffeurs.get(candidate.data)?;
            if chauffeur.classes & bit != 0 && !exclude.contains(&chauffeur.id) {
                return Some((chauffeur.id, great_circle_m(at, chauffeur.position)));
            }
        }
        None
    }
}

/// The same answer by looking at everyone: the benchmark's baseline and the tests' oracle.
pub fn nearest_linear(
    chauffeurs: &[OnlineChauffeur],
    at: LatLon,
    class: VehicleClass,
    radius_m: u32,
    exclude: &BTreeSet<Uuid>,
) -> Option<(Uuid, f64)> {
    let bit = class_bit(class);
    chauffeurs
        .iter()
        .filter(|c| c.classes & bit != 0 && !exclude.contains(&c.id))
        .map(|c| (c.id, great_circle_m(at, c.position)))
        .filter(|(_, d)| *d <= f64::from(radius_m))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chauffeur(n: u128, lat: f64, lon: f64, classes: u8) -> OnlineChauffeur {
        OnlineChauffeur {
            id: Uuid::from_u128(n),
            position: LatLon { lat, lon },
            classes,
        }
    }

    #[test]
    fn the_nearest_fitting_chauffeur_within_the_radius_wins() {
        let alex = LatLon {
            lat: 52.5219,
            lon: 13.4132,
        };
        let index = NearestIndex::build(vec![
            chauffeur(1, 52.5230, 13.4140, 4), // ~130 m, but only a van
            chauffeur(2, 52.5300, 13.4200, 1), // ~1 km, business
            chauffeur(3, 52.5500, 13.4500, 1), // ~4 km, business
        ]);
        let none = BTreeSet::new();
        assert_eq!(
            index
                .nearest(alex, VehicleClass::Business, 2_000, &none)
                .map(|r| r.0),
            Some(Uuid::from_u128(2))
        );
        assert_eq!(
            index
                .nearest(alex, VehicleClass::Van, 2_000, &none)
                .map(|r| r.0),
            Some(Uuid::from_u128(1))
        );
        // Already asked: the next one, if the radius reaches it.
        let asked = BTreeSet::from([Uuid::from_u128(2)]);
        assert_eq!(
            index.nearest(alex, VehicleClass::Business, 2_000, &asked),
            None
        );
        assert_eq!(
            index
                .nearest(alex, VehicleClass::Business, 5_000, &asked)
                .map(|r| r.0),
            Some(Uuid::from_u128(3))
        );
        assert_eq!(
            index.nearest(alex, VehicleClass::First, 50_000, &none),
            None
        );
    }

    proptest! {
        #[test]
        fn the_index_agrees_with_looking_at_everyone(
            points in proptest::collection::vec((52.3f64..52.7, 13.1f64..13.7, 1u8..8), 0..300),
            at in (52.3f64..52.7, 13.1f64..13.7),
            radius in 100u32..30_000,
            class in 0usize..3,
        ) {
            let chauffeurs: Vec<_> = points.iter().enumerate().map(|(i, (lat, lon, c))| chauffeur(i as u128, *lat, *lon, *c)).collect();
            let index = NearestIndex::build(chauffeurs.clone());
            let at = LatLon { lat: at.0, lon: at.1 };
            let class = VehicleClass::ALL[class];
            let none = BTreeSet::new();
            let fast = index.nearest(at, class, radius, &none);
            let slow = nearest_linear(&chauffeurs, at, class, radius, &none);
            match (fast, slow) {
                (None, None) => {}
                (Some(f), Some(s)) => prop_assert!((f.1 - s.1).abs() < 0.01, "{f:?} vs {s:?}"),
                // Within a centimetre of the radius the two metrics may round differently.
                (Some(f), None) | (None, Some(f)) => prop_assert!((f.1 - f64::from(radius)).abs() < 0.01),
            }
        }
    }
}
