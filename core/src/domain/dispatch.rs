//! Dispatch decisions, without I/O: who is offered a booking, in which order, for how long, and
//! when the search gives up. The server stores offers and runs the clock; these functions decide.
//!
//! - Partners are ranked by a smoothed acceptance rate, their rating and recent give-backs;
//!   ties break by id, so the order is deterministic.
//! - Offers go out in batches; an offer's time to answer shrinks as pickup nears.
//! - A scheduled booking nobody accepts by its dispatch deadline becomes `unfulfilled` (not
//!   earlier: a partner may become eligible meanwhile).
//! - A partner may give a ride back until 2 hours before pickup; it is then offered to others
//!   first.
//! - A ride due within 60 minutes goes to the nearest available chauffeur instead, with a short
//!   offer time and a search radius that widens with each attempt.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// Partners offered a booking at once.
pub const BATCH_SIZE: usize = 3;
/// A partner may give a ride back until this long before pickup.
pub const GIVE_BACK_BEFORE: Duration = Duration::hours(2);
/// Rides due within this window are dispatched on demand to the nearest chauffeur.
pub const ON_DEMAND_WINDOW: Duration = Duration::minutes(60);
/// How long a chauffeur has to answer an on-demand offer.
pub const ON_DEMAND_OFFER_TTL: Duration = Duration::seconds(30);
/// On-demand search radius by attempt; the last one repeats.
pub const ON_DEMAND_RADII_M: [u32; 4] = [2_000, 5_000, 10_000, 20_000];

/// What ranking knows about a partner's record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerRecord {
    pub offers: u32,
    pub accepts: u32,
    pub declines: u32,
    /// Rides given back in the last 90 days.
    pub recent_give_backs: u32,
    /// Average rider rating × 1000 (0 to 5000); `None` for a partner without ratings yet.
    pub rating_milli: Option<u32>,
}

impl PartnerRecord {
    /// Higher is better. Acceptance rate with Laplace smoothing (a new partner starts at 50 %),
    /// weighted 600; rating weighted 400 (unrated counts as 4.0); minus 100 per recent give-back.
    pub fn score(&self) -> i64 {
        let acceptance = 1000 * (i64::from(self.accepts) + 1) / (i64::from(self.offers) + 2);
        let rating = i64::from(self.rating_milli.unwrap_or(4_000).min(5_000)) / 5;
        (600 * acceptance + 400 * rating) / 1000 - 100 * i64::from(self.recent_give_backs)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<Id> {
    pub id: Id,
    pub record: PartnerRecord,
}

/// The order in which eligible partners are offered a booking: best score first, ties by id;
/// partners who already gave this booking back go last ("offered again, to others first").
pub fn rank<Id: Ord + Clone>(candidates: &[Candidate<Id>], gave_back: &BTreeSet<Id>) -> Vec<Id> {
    let mut ranked: Vec<&Candidate<Id>> = candidates.iter().collect();
    ranked.sort_by(|a, b| {
        gave_back
            .contains(&a.id)
            .cmp(&gave_back.contains(&b.id))
            .then(b.record.score().cmp(&a.record.score()))
            .then(a.id.cmp(&b.id))
    });
    ranked.into_iter().map(|c| c.id.clone()).collect()
}

/// The next batch: the best-ranked partners not offered this booking yet.
pub fn next_batch<Id: Ord + Clone>(
    ranked: &[Id],
    already_offered: &BTreeSet<Id>,
    size: usize,
) -> Vec<Id> {
    ranked
        .iter()
        .filter(|id| !already_offered.contains(*id))
        .take(size)
        .cloned()
        .collect()
}

/// Like [`next_batch`], but partners who gave this booking back are asked only once nobody else
/// is left: they never share a batch with others.
pub fn next_batch_others_first<Id: Ord + Clone>(
    ranked: &[Id],
    already_offered: &BTreeSet<Id>,
    gave_back: &BTreeSet<Id>,
    size: usize,
) -> Vec<Id> {
    let others: Vec<Id> = ranked
        .iter()
        .filter(|id| !gave_back.contains(*id))
        .cloned()
        .collect();
    let batch = next_batch(&others, already_offered, size);
    if !batch.is_empty() {
        return batch;
    }
    let givers: Vec<Id> = ranked
        .iter()
        .filter(|id| gave_back.contains(*id))
        .cloned()
        .collect();
    next_batch(&givers, already_offered, size)
}
/// When the search for a partner gives up: 30 minutes before pickup, but every booking gets at
/// least ten minutes of search (an "as soon as possible" ride, whose pickup is the moment it was
/// booked, included; a late pickup beats none, and the rider may cancel).
pub fn dispatch_deadline(pickup_at: DateTime<Utc>, created_at: DateTime<Utc>) -> DateTime<Utc> {
    let usual = pickup_at - Duration::minutes(30);
    let least = created_at + Duration::minutes(10);
    usual.max(least)
}

/// How long a partner has to answer an offer made at `now`: the nearer the pickup, the shorter;
/// never past the dispatch deadline.
pub fn offer_expires_at(
    pickup_at: DateTime<Utc>,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let ahead = pickup_at - now;
    let ttl = if ahead >= Duration::hours(24) {
        Duration::minutes(30)
    } else if ahead >= Duration::hours(6) {
        Duration::minutes(15)
    } else if ahead >= Duration::hours(2) {
        Duration::minutes(5)
    } else {
        Duration::minutes(2)
    };
    (now + ttl).min(deadline.max(now))
}

/// Whether a ride is dispatched on demand (nearest chauffeur) rather than to partners.
pub fn is_on_demand(pickup_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    pickup_at - now <= ON_DEMAND_WINDOW
}

/// The search radius for the `attempt`-th on-demand try (0-based).
pub fn on_demand_radius_m(attempt: usize) -> u32 {
    ON_DEMAND_RADII_M[attempt.min(ON_DEMAND_RADII_M.len() - 1)]
}

/// A give-back is allowed until 2 hours before pickup.
pub fn check_give_back(pickup_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), CoreError> {
    let latest = pickup_at - GIVE_BACK_BEFORE;
    if now <= latest {
        Ok(())
    } else {
        Err(CoreError::GiveBackTooLate { latest })
    }
}

/// What dispatch should do next for a pending booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DispatchStep<Id> {
    /// Offer to these partners, each offer expiring at the given time.
    Offer {
        partners: Vec<Id>,
        expires_at: DateTime<Utc>,
    },
    /// Offers are out and still open, or nobody is left to ask yet: wait.
    Wait,
    /// The dispatch deadline passed without an accept: the booking is unfulfilled.
    GiveUp,
}

/// The whole decision for a pending booking at `now`, given the ranked partners, those offered
/// already, and whether any offer is still open.
#[allow(clippy::too_many_arguments)] // each is one fact the decision needs
pub fn next_step<Id: Ord + Clone>(
    pickup_at: DateTime<Utc>,
    deadline: DateTime<Utc>,
    ranked: &[Id],
    already_offered: &BTreeSet<Id>,
    gave_back: &BTreeSet<Id>,
    open_offers: bool,
    batch_size: usize,
    now: DateTime<Utc>,
) -> DispatchStep<Id> {
    if now >= deadline {
        return DispatchStep::GiveUp;
    }
    if open_offers {
        return DispatchStep::Wait;
    }
    let partners = next_batch_others_first(ranked, already_offered, gave_back, batch_size.max(1));
    if partners.is_empty() {
        // Nobody left to ask right now; a partner may become eligible before the deadline.
        return DispatchStep::Wait;
    }
    DispatchStep::Offer {
        partners,
        expires_at: offer_expires_at(pickup_at, deadline, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn candidate(id: u32, offers: u32, accepts: u32, give_backs: u32) -> Candidate<u32> {
        Candidate {
            id,
            record: PartnerRecord {
                offers,
                accepts,
                declines: offers - accepts,
                recent_give_backs: give_backs,
                rating_milli: Some(4_500),
            },
        }
    }

    #[test]
    fn reliable_partners_come_first_and_ties_break_by_id() {
        let candidates = [
            candidate(3, 10, 2, 0), // accepts 25 %
            candidate(1, 10, 9, 0), // accepts 83 %
            candidate(2, 10, 9, 0), // the same record as 1
            candidate(4, 10, 9, 2), // reliable, but gave two rides back lately
        ];
        assert_eq!(rank(&candidates, &BTreeSet::new()), vec![1, 2, 4, 3]);
        // Who gave this booking back is asked last.
        assert_eq!(rank(&candidates, &BTreeSet::from([1])), vec![2, 4, 3, 1]);
    }

    #[test]
    fn a_new_partner_starts_in_the_middle() {
        let new = PartnerRecord::default();
        let good = PartnerRecord {
            offers: 20,
            accepts: 18,
            ..Default::default()
        };
        let poor = PartnerRecord {
            offers: 20,
            accepts: 2,
            ..Default::default()
        };
        assert!(good.score() > new.score() && new.score() > poor.score());
    }

    #[test]
    fn batches_skip_partners_already_asked() {
        let ranked = [5, 4, 3, 2, 1];
        assert_eq!(next_batch(&ranked, &BTreeSet::new(), 3), vec![5, 4, 3]);
        assert_eq!(
            next_batch(&ranked, &BTreeSet::from([5, 4, 3]), 3),
            vec![2, 1]
        );
        assert!(next_batch(&ranked, &BTreeSet::from([1, 2, 3, 4, 5]), 3).is_empty());
    }

    #[test]
    fn offers_get_less_time_as_pickup_nears() {
        let pickup = t("2026-12-10T12:00:00Z");
        let deadline = dispatch_deadline(pickup, t("2026-12-01T00:00:00Z"));
        assert_eq!(deadline, t("2026-12-10T11:30:00Z"));
        let ttl = |now: &str| offer_expires_at(pickup, deadline, t(now)) - t(now);
        assert_eq!(ttl("2026-12-08T12:00:00Z"), Duration::minutes(30));
        assert_eq!(ttl("2026-12-10T05:00:00Z"), Duration::minutes(15));
        assert_eq!(ttl("2026-12-10T09:00:00Z"), Duration::minutes(5));
        // 31 minutes before pickup: 2 minutes would pass the deadline, so 1 minute.
        assert_eq!(ttl("2026-12-10T11:29:00Z"), Duration::minutes(1));
    }

    #[test]
    fn a_late_booking_still_gets_ten_minutes_of_search() {
        let pickup = t("2026-12-10T12:00:00Z");
        assert_eq!(
            dispatch_deadline(pickup, t("2026-12-10T11:00:00Z")),
            t("2026-12-10T11:30:00Z")
        );
        assert_eq!(
            dispatch_deadline(pickup, t("2026-12-10T11:25:00Z")),
            t("2026-12-10T11:35:00Z")
        );
        // Booked as soon as possible: ten minutes of search from booking.
        assert_eq!(
            dispatch_deadline(pickup, t("2026-12-10T12:00:00Z")),
            t("2026-12-10T12:10:00Z")
        );
    }

    #[test]
    fn give_back_only_until_two_hours_before_pickup() {
        let pickup = t("2026-12-10T12:00:00Z");
        assert!(check_give_back(pickup, t("2026-12-10T10:00:00Z")).is_ok());
        let err = check_give_back(pickup, t("2026-12-10T10:00:01Z")).unwrap_err();
        assert_eq!(err.code(), "give_back_too_late");
    }

    #[test]
    fn the_search_offers_waits_and_gives_up() {
        let pickup = t("2026-12-10T12:00:00Z");
        let deadline = t("2026-12-10T11:30:00Z");
        let ranked = [1, 2, 3, 4];
        let now = t("2026-12-09T12:00:00Z");
        match next_step(
            pickup,
            deadline,
            &ranked,
            &BTreeSet::new(),
            &BTreeSet::new(),
            false,
            BATCH_SIZE,
            now,
        ) {
            DispatchStep::Offer {
                partners,
                expires_at,
            } => {
                assert_eq!(partners, vec![1, 2, 3]);
                assert_eq!(expires_at, now + Duration::minutes(30)); // a day ahead
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            next_step(
                pickup,
                deadline,
                &ranked,
                &BTreeSet::new(),
                &BTreeSet::new(),
                true,
                BATCH_SIZE,
                now
            ),
            DispatchStep::Wait
        );
        let everyone = BTreeSet::from([1, 2, 3, 4]);
        assert_eq!(
            next_step(
                pickup,
                deadline,
                &ranked,
                &everyone,
                &BTreeSet::new(),
                false,
                BATCH_SIZE,
                now
            ),
            DispatchStep::Wait,
            "everyone was asked: keep looking for newly eligible partners until the deadline"
        );
        assert_eq!(
            next_step(
                pickup,
                deadline,
                &ranked,
                &BTreeSet::new(),
                &BTreeSet::new(),
                true,
                BATCH_SIZE,
                deadline
            ),
            DispatchStep::GiveUp
        );
    }

    #[test]
    fn who_gave_a_ride_back_is_asked_only_after_everyone_else() {
        let ranked = [9, 1, 2]; // 9 ranks first on its record, but gave this ride back
        let gave_back = BTreeSet::from([9]);
        let ranked = rank(
            &ranked.map(|id| Candidate {
                id,
                record: PartnerRecord::default(),
            }),
            &gave_back,
        );
        assert_eq!(ranked, vec![1, 2, 9]);
        assert_eq!(
            next_batch_others_first(&ranked, &BTreeSet::new(), &gave_back, 3),
            vec![1, 2]
        );
        assert_eq!(
            next_batch_others_first(&ranked, &BTreeSet::from([1, 2]), &gave_back, 3),
            vec![9]
        );
    }

    #[test]
    fn on_demand_rides_search_ever_wider() {
        assert!(is_on_demand(
            t("2026-12-10T12:00:00Z"),
            t("2026-12-10T11:00:00Z")
        ));
        assert!(!is_on_demand(
            t("2026-12-10T12:00:00Z"),
            t("2026-12-10T10:59:59Z")
        ));
        let radii: Vec<u32> = (0..6).map(on_demand_radius_m).collect();
        assert_eq!(radii, vec![2_000, 5_000, 10_000, 20_000, 20_000, 20_000]);
    }
}
