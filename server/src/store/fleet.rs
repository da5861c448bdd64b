//! Fleet and offers: partners, their members and vehicles, offers of bookings to partners and
//! chauffeurs, and accepting them (which assigns the ride).

use chauffeur_core::catalog::VehicleClass;
use chauffeur_core::dispatch::PartnerRecord;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::Postgres;
use uuid::Uuid;

use super::{parse_stored, Booking, Store, StoreError};

/// An offer of a booking to a partner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Offer {
    pub id: Uuid,
    pub booking_id: Uuid,
    pub partner_id: Uuid,
    /// On-demand offers go to one chauffeur, with the vehicle they would drive.
    pub chauffeur_id: Option<Uuid>,
    pub vehicle_id: Option<Uuid>,
    pub batch: i64,
    pub state: OfferState,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What an offer can be in; stored (and serialised) by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferState {
    Open,
    Accepted,
    Declined,
    Expired,
    /// Somebody else accepted first, or the partner gave the ride back.
    Withdrawn,
}

impl OfferState {
    pub const ALL: [OfferState; 5] = [
        OfferState::Open,
        OfferState::Accepted,
        OfferState::Declined,
        OfferState::Expired,
        OfferState::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OfferState::Open => "open",
            OfferState::Accepted => "accepted",
            OfferState::Declined => "declined",
            OfferState::Expired => "expired",
            OfferState::Withdrawn => "withdrawn",
        }
    }

    /// The state a stored name stands for.
    pub(super) fn parse(text: &str) -> Result<OfferState, StoreError> {
        parse_stored("offer state", text, |text| {
            OfferState::ALL.into_iter().find(|s| s.as_str() == text)
        })
    }
}

impl std::fmt::Display for OfferState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A vehicle of a partner.
#[derive(Debug, Clone, PartialEq)]
pub struct Vehicle {
    pub id: Uuid,
    pub class: VehicleClass,
    pub plate: String,
    pub seats: i64,
    pub bags: i64,
    pub active: bool,
}

/// A chauffeur account of a partner.
#[derive(Debug, Clone, PartialEq)]
pub struct ChauffeurAccount {
    pub id: Uuid,
    pub name: Option<String>,
    pub email: String,
}

/// A partner giving a booking back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GiveBack {
    pub partner_id: Uuid,
    pub at: DateTime<Utc>,
}

/// Held while this replica runs a dispatch round.
pub struct DispatchTurn(#[allow(dead_code)] Option<sqlx::Transaction<'static, Postgres>>);

/// How an accept ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Accepted {
    /// This partner won; the booking is confirmed.
    Won(Box<Booking>),
    /// No such offer for this partner.
    NotFound,
    /// Another partner was first.
    Taken,
    /// The offer's time ran out.
    Expired,
    /// The offer was already answered (accepted, declined) or expired.
    Closed(OfferState),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnerSummary {
    pub id: Uuid,
    pub name: String,
    pub active: bool,
    pub cities: Vec<String>,
    pub classes: Vec<String>,
    pub members: i64,
    pub vehicles: i64,
}

/// An account of a partner: a dispatcher (role partner) or a chauffeur.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerMember {
    pub id: Uuid,
    pub name: Option<String>,
    pub email: String,
    pub role: super::Role,
}

impl Store {
    /// One replica at a time runs the dispatcher's round: on PostgreSQL a transaction-scoped
    /// advisory lock held by the returned turn (released when it is dropped); SQLite has one
    /// server process. `None`: another replica is on it; skip this round.
    /// With `wait`, waits for the turn instead of skipping.
    pub async fn dispatch_turn(&self, wait: bool) -> Result<Option<DispatchTurn>, StoreError> {
        match self {
            Store::Sqlite(_) => Ok(Some(DispatchTurn(None))),
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                if wait {
                    sqlx::query::<Postgres>("SELECT pg_advisory_xact_lock(727275)")
                        .execute(&mut *tx)
                        .await?;
                    return Ok(Some(DispatchTurn(Some(tx))));
                }
                let locked = sqlx::query_scalar::<Postgres, bool>(
                    "SELECT pg_try_advisory_xact_lock(727275)",
                )
                .fetch_one(&mut *tx)
                .await?;
                Ok(locked.then_some(DispatchTurn(Some(tx))))
            }
        }
    }

    /// A new, active partner serving these cities and classes.
    pub async fn create_partner(
        &self,
        name: &str,
        cities: &[String],
        classes: &[VehicleClass],
        now: DateTime<Utc>,
    ) -> Result<Uuid, StoreError> {
        write_turn!(self, partners::create_partner(name, cities, classes, now))
    }

    /// Makes an account a member of a partner; `Conflict` if it already belongs to one.
    pub async fn add_partner_member(
        &self,
        user_id: Uuid,
        partner_id: Uuid,
    ) -> Result<(), StoreError> {
        write_turn!(self, partners::add_partner_member(user_id, partner_id))
    }

    /// A new, active vehicle of a partner; `Conflict` if the plate is taken.
    pub async fn add_vehicle(
        &self,
        partner_id: Uuid,
        class: VehicleClass,
        plate: &str,
        seats: i64,
        bags: i64,
    ) -> Result<Uuid, StoreError> {
        write_turn!(
            self,
            partners::add_vehicle(partner_id, class, plate, seats, bags)
        )
    }

    /// The partner an account belongs to.
    pub async fn partner_of(&self, user_id: Uuid) -> Result<Option<Uuid>, StoreError> {
        read!(self, partners::partner_of(user_id))
    }

    /// Every partner with its cities, classes and counts, by name.
    pub async fn partners(&self) -> Result<Vec<PartnerSummary>, StoreError> {
        read!(self, partners::partners())
    }

    /// Active partners serving the city and class with a vehicle big enough, with their
    /// offer record for ranking.
    pub async fn eligible_partners(
        &self,
        city_id: &str,
        class: VehicleClass,
        passengers: i64,
        bags: i64,
        give_backs_since: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, PartnerRecord)>, StoreError> {
        read!(
            self,
            partners::eligible_partners(city_id, class, passengers, bags, give_backs_since)
        )
    }

    /// Who gave this booking back, and when.
    pub async fn give_backs_of(&self, booking_id: Uuid) -> Result<Vec<GiveBack>, StoreError> {
        read!(self, partners::give_backs_of(booking_id))
    }

    /// Every offer of a booking, by batch.
    pub async fn offers_of_booking(&self, booking_id: Uuid) -> Result<Vec<Offer>, StoreError> {
        read!(self, offers::offers_of_booking(booking_id))
    }

    /// Closes the booking's open offers whose time ran out; how many.
    pub async fn expire_offers(
        &self,
        booking_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        write_turn!(self, offers::expire_offers(booking_id, now))
    }

    /// Sends a batch of offers, if the booking is still pending (else none).
    pub async fn insert_offers(
        &self,
        booking_id: Uuid,
        partners: &[Uuid],
        batch: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<Vec<Offer>, StoreError> {
        write_turn!(
            self,
            offers::insert_offers(booking_id, partners, batch, now, expires_at)
        )
    }

    /// A partner dispatcher's open, unexpired offers with their pending bookings.
    pub async fn open_offers_of_partner(
        &self,
        partner_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Offer, Booking)>, StoreError> {
        read!(self, offers::open_offers(partner_id, None, now))
    }

    /// A chauffeur's open on-demand offers (the partner id is not needed to find them).
    pub async fn open_offers_of_chauffeur(
        &self,
        chauffeur_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Offer, Booking)>, StoreError> {
        read!(
            self,
            offers::open_offers(Uuid::nil(), Some(chauffeur_id), now)
        )
    }

    /// The first accept wins: the booking is confirmed to this partner; everyone else
    /// hears `Taken`.
    pub async fn accept_offer(
        &self,
        offer_id: Uuid,
        partner_id: Uuid,
        actor_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Accepted, StoreError> {
        write_turn!(
            self,
            offers::accept_offer(offer_id, partner_id, actor_id, now)
        )
    }

    /// Records a decline; `false` if there was no open offer of this partner to decline.
    pub async fn decline_offer(
        &self,
        offer_id: Uuid,
        partner_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        write_turn!(self, offers::decline_offer(offer_id, partner_id, now))
    }

    /// Whether `user_id` is a chauffeur account of this partner.
    pub async fn is_partner_chauffeur(
        &self,
        partner_id: Uuid,
        user_id: Uuid,
    ) -> Result<bool, StoreError> {
        read!(self, partners::is_partner_chauffeur(partner_id, user_id))
    }

    /// A vehicle of this partner.
    pub async fn vehicle_of(
        &self,
        partner_id: Uuid,
        vehicle_id: Uuid,
    ) -> Result<Option<Vehicle>, StoreError> {
        read!(self, partners::vehicle_of(partner_id, vehicle_id))
    }

    /// The chauffeur accounts of a partner, by name.
    pub async fn partner_chauffeurs(
        &self,
        partner_id: Uuid,
    ) -> Result<Vec<ChauffeurAccount>, StoreError> {
        read!(self, partners::partner_chauffeurs(partner_id))
    }

    /// Every account of a partner (dispatchers and chauffeurs), by role and name.
    pub async fn partner_members(
        &self,
        partner_id: Uuid,
    ) -> Result<Vec<PartnerMember>, StoreError> {
        let rows = read!(self, partners::partner_members(partner_id))?;
        rows.into_iter()
            .map(|(id, name, email, role)| {
                Ok(PartnerMember {
                    id,
                    name,
                    email,
                    role: super::accounts::parse_role(&role)?,
                })
            })
            .collect()
    }

    /// The vehicles of a partner, by plate.
    pub async fn partner_vehicles(&self, partner_id: Uuid) -> Result<Vec<Vehicle>, StoreError> {
        read!(self, partners::partner_vehicles(partner_id))
    }

    /// An on-demand offer to one chauffeur, if the booking is still pending.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_chauffeur_offer(
        &self,
        booking_id: Uuid,
        partner_id: Uuid,
        chauffeur_id: Uuid,
        vehicle_id: Uuid,
        batch: i64,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        write_turn!(
            self,
            offers::insert_chauffeur_offer(
                booking_id,
                partner_id,
                chauffeur_id,
                vehicle_id,
                batch,
                now,
                expires_at
            )
        )
    }

    /// A chauffeur accepts an on-demand offer: the first accept wins, and the booking is
    /// confirmed to the chauffeur's partner and assigned to the chauffeur at once.
    pub async fn accept_chauffeur_offer(
        &self,
        offer_id: Uuid,
        chauffeur_id: Uuid,
        now: DateTime<Utc>,
        busy: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Accepted, StoreError> {
        write_turn!(
            self,
            offers::accept_chauffeur_offer(offer_id, chauffeur_id, now, busy)
        )
    }

    /// An offer by id.
    pub async fn offer_by_id(&self, offer_id: Uuid) -> Result<Option<Offer>, StoreError> {
        read!(self, offers::offer_by_id(offer_id))
    }
}
