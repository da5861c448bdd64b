//! Rows as the queries read them (`sqlx::FromRow`, for either backend) and their conversion into
//! the store's types. Each stored name — a role, a booking state, a vehicle class, a product —
//! is parsed here, in one place, and so are the quote and receipt a booking keeps as JSON.

use chauffeur_core::booking::{Actor, BookingState};
use chauffeur_core::catalog::VehicleClass;
use chauffeur_core::dispatch::PartnerRecord;
use chauffeur_core::fare::{ProductKind, Quote, Receipt};
use chauffeur_core::payment::CardPayment;
use chauffeur_core::LatLon;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::live::Position;

use super::{
    parse_stored, AvailableChauffeur, Booking, ChauffeurAccount, Credentials, GiveBack,
    HistoryEntry, Offer, OfferState, Personal, StoreError, StreamEvent, User, Vehicle,
};

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    id: Uuid,
    email: String,
    role: String,
    name: Option<String>,
    phone: Option<String>,
    created_at: DateTime<Utc>,
    erased_at: Option<DateTime<Utc>>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<User, StoreError> {
        Ok(User {
            id: row.id,
            email: row.email,
            role: super::accounts::parse_role(&row.role)?,
            name: row.name,
            phone: row.phone,
            created_at: row.created_at,
            erased_at: row.erased_at,
        })
    }
}

/// An account with its password hash, for signing in.
#[derive(sqlx::FromRow)]
pub(super) struct CredentialsRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub password_hash: String,
}

impl TryFrom<CredentialsRow> for Credentials {
    type Error = StoreError;

    fn try_from(row: CredentialsRow) -> Result<Credentials, StoreError> {
        Ok(Credentials {
            user: row.user.try_into()?,
            password_hash: row.password_hash,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct BookingRow {
    id: Uuid,
    rider_id: Uuid,
    city_id: String,
    state: String,
    vehicle_class: String,
    product: String,
    pickup_at: DateTime<Utc>,
    price_minor: i64,
    currency: String,
    #[sqlx(json)]
    quote: Value,
    child_seats: i64,
    cancellation_fee_minor: Option<i64>,
    partner_id: Option<Uuid>,
    chauffeur_id: Option<Uuid>,
    vehicle_id: Option<Uuid>,
    #[sqlx(json(nullable))]
    receipt: Option<Value>,
    final_price_minor: Option<i64>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    #[sqlx(json(nullable))]
    payment: Option<Value>,
}

impl TryFrom<BookingRow> for Booking {
    type Error = StoreError;

    fn try_from(row: BookingRow) -> Result<Booking, StoreError> {
        let quote: Quote = serde_json::from_value(row.quote)
            .map_err(|e| StoreError::Corrupt(format!("quote of booking {}: {e}", row.id)))?;
        let receipt: Option<Receipt> = row
            .receipt
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("receipt of booking {}: {e}", row.id)))?;
        let payment: Option<CardPayment> = row
            .payment
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("payment of booking {}: {e}", row.id)))?;
        Ok(Booking {
            id: row.id,
            rider_id: row.rider_id,
            city_id: row.city_id,
            state: parse_stored("state", &row.state, BookingState::parse)?,
            vehicle_class: parse_stored("class", &row.vehicle_class, VehicleClass::parse)?,
            product: parse_stored("product", &row.product, ProductKind::parse)?,
            pickup_at: row.pickup_at,
            price_minor: row.price_minor,
            currency: row.currency,
            quote,
            child_seats: row.child_seats,
            cancellation_fee_minor: row.cancellation_fee_minor,
            partner_id: row.partner_id,
            chauffeur_id: row.chauffeur_id,
            vehicle_id: row.vehicle_id,
            receipt,
            final_price_minor: row.final_price_minor,
            payment,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A booking's personal data; every column is empty when the booking has none (left join) or
/// the rider's account was erased.
#[derive(sqlx::FromRow)]
pub(super) struct PersonalRow {
    passenger_name: Option<String>,
    passenger_phone: Option<String>,
    flight_number: Option<String>,
    notes: Option<String>,
}

impl From<PersonalRow> for Personal {
    fn from(row: PersonalRow) -> Personal {
        Personal {
            passenger_name: row.passenger_name,
            passenger_phone: row.passenger_phone,
            flight_number: row.flight_number,
            notes: row.notes,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct BookingWithPersonalRow {
    #[sqlx(flatten)]
    pub booking: BookingRow,
    #[sqlx(flatten)]
    pub personal: PersonalRow,
}

impl TryFrom<BookingWithPersonalRow> for (Booking, Personal) {
    type Error = StoreError;

    fn try_from(row: BookingWithPersonalRow) -> Result<(Booking, Personal), StoreError> {
        Ok((row.booking.try_into()?, row.personal.into()))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct HistoryRow {
    version: i64,
    at: DateTime<Utc>,
    actor: String,
    actor_id: Option<Uuid>,
    from_state: Option<String>,
    to_state: String,
    #[sqlx(json)]
    snapshot: Value,
}

impl TryFrom<HistoryRow> for HistoryEntry {
    type Error = StoreError;

    fn try_from(row: HistoryRow) -> Result<HistoryEntry, StoreError> {
        let from_state = row
            .from_state
            .map(|from| parse_stored("state", &from, BookingState::parse))
            .transpose()?;
        Ok(HistoryEntry {
            version: row.version,
            at: row.at,
            actor: parse_actor(&row.actor)?,
            actor_id: row.actor_id,
            from_state,
            to_state: parse_stored("state", &row.to_state, BookingState::parse)?,
            snapshot: row.snapshot,
        })
    }
}

/// Who made a change, by the name the history stores.
pub(super) fn parse_actor(text: &str) -> Result<Actor, StoreError> {
    parse_stored("actor", text, |text| {
        Actor::ALL.into_iter().find(|a| a.as_str() == text)
    })
}

/// A history entry with the booking it belongs to.
#[derive(sqlx::FromRow)]
pub(super) struct RiderHistoryRow {
    pub booking_id: Uuid,
    #[sqlx(flatten)]
    pub entry: HistoryRow,
}

#[derive(sqlx::FromRow)]
pub(super) struct OfferRow {
    id: Uuid,
    booking_id: Uuid,
    partner_id: Uuid,
    chauffeur_id: Option<Uuid>,
    vehicle_id: Option<Uuid>,
    batch: i64,
    state: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl TryFrom<OfferRow> for Offer {
    type Error = StoreError;

    fn try_from(row: OfferRow) -> Result<Offer, StoreError> {
        Ok(Offer {
            id: row.id,
            booking_id: row.booking_id,
            partner_id: row.partner_id,
            chauffeur_id: row.chauffeur_id,
            vehicle_id: row.vehicle_id,
            batch: row.batch,
            state: OfferState::parse(&row.state)?,
            created_at: row.created_at,
            expires_at: row.expires_at,
        })
    }
}

/// An open offer joined with its booking; the offer's columns are renamed so that they do not
/// collide with the booking's.
#[derive(sqlx::FromRow)]
pub(super) struct OfferWithBookingRow {
    offer_id: Uuid,
    offered_partner: Uuid,
    offered_chauffeur: Option<Uuid>,
    offered_vehicle: Option<Uuid>,
    batch: i64,
    offer_state: String,
    offered_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    #[sqlx(flatten)]
    booking: BookingRow,
}

impl TryFrom<OfferWithBookingRow> for (Offer, Booking) {
    type Error = StoreError;

    fn try_from(row: OfferWithBookingRow) -> Result<(Offer, Booking), StoreError> {
        let booking = Booking::try_from(row.booking)?;
        let offer = Offer {
            id: row.offer_id,
            booking_id: booking.id,
            partner_id: row.offered_partner,
            chauffeur_id: row.offered_chauffeur,
            vehicle_id: row.offered_vehicle,
            batch: row.batch,
            state: OfferState::parse(&row.offer_state)?,
            created_at: row.offered_at,
            expires_at: row.expires_at,
        };
        Ok((offer, booking))
    }
}

/// An offer and the partner it went to (what an event about the offer is addressed to).
#[derive(sqlx::FromRow)]
pub(super) struct OfferRecipientRow {
    pub id: Uuid,
    pub partner_id: Uuid,
}

/// A partner as the operator's list shows it, before its cities and classes are added.
#[derive(sqlx::FromRow)]
pub(super) struct PartnerListRow {
    pub id: Uuid,
    pub name: String,
    pub active: bool,
    pub members: i64,
    pub vehicles: i64,
}

/// A partner dispatch may offer a ride to, with its offer record.
#[derive(sqlx::FromRow)]
pub(super) struct EligiblePartnerRow {
    id: Uuid,
    offers: i64,
    accepts: i64,
    declines: i64,
    give_backs: i64,
}

impl From<EligiblePartnerRow> for (Uuid, PartnerRecord) {
    fn from(row: EligiblePartnerRow) -> (Uuid, PartnerRecord) {
        let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        let record = PartnerRecord {
            offers: count(row.offers),
            accepts: count(row.accepts),
            declines: count(row.declines),
            recent_give_backs: count(row.give_backs),
            rating_milli: None,
        };
        (row.id, record)
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct VehicleRow {
    id: Uuid,
    vehicle_class: String,
    plate: String,
    seats: i64,
    bags: i64,
    active: bool,
}

impl TryFrom<VehicleRow> for Vehicle {
    type Error = StoreError;

    fn try_from(row: VehicleRow) -> Result<Vehicle, StoreError> {
        Ok(Vehicle {
            id: row.id,
            class: parse_stored("class", &row.vehicle_class, VehicleClass::parse)?,
            plate: row.plate,
            seats: row.seats,
            bags: row.bags,
            active: row.active,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ChauffeurAccountRow {
    id: Uuid,
    name: Option<String>,
    email: String,
}

impl From<ChauffeurAccountRow> for ChauffeurAccount {
    fn from(row: ChauffeurAccountRow) -> ChauffeurAccount {
        ChauffeurAccount {
            id: row.id,
            name: row.name,
            email: row.email,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct GiveBackRow {
    partner_id: Uuid,
    at: DateTime<Utc>,
}

impl From<GiveBackRow> for GiveBack {
    fn from(row: GiveBackRow) -> GiveBack {
        GiveBack {
            partner_id: row.partner_id,
            at: row.at,
        }
    }
}

/// What an idempotency key remembers: the request it came with and the answer to replay.
#[derive(sqlx::FromRow)]
pub(super) struct StoredKeyRow {
    pub request_hash: String,
    pub response_status: i32,
    pub response_body: String,
}

#[derive(sqlx::FromRow)]
pub(super) struct PositionRow {
    lat: f64,
    lon: f64,
    at: DateTime<Utc>,
}

impl From<PositionRow> for Position {
    fn from(row: PositionRow) -> Position {
        Position {
            lat: row.lat,
            lon: row.lon,
            at: row.at,
        }
    }
}

/// A chauffeur online near a pickup, with the first fitting vehicle of their partner (none if
/// the partner has no vehicle for the ride).
#[derive(sqlx::FromRow)]
pub(super) struct OnlineChauffeurRow {
    chauffeur_id: Uuid,
    partner_id: Uuid,
    vehicle_id: Option<Uuid>,
    lat: f64,
    lon: f64,
}

impl OnlineChauffeurRow {
    /// The chauffeur, if there is a vehicle to drive.
    pub fn available(self) -> Option<AvailableChauffeur> {
        Some(AvailableChauffeur {
            chauffeur_id: self.chauffeur_id,
            partner_id: self.partner_id,
            vehicle_id: self.vehicle_id?,
            position: LatLon {
                lat: self.lat,
                lon: self.lon,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct EventRow {
    id: i64,
    kind: String,
    #[sqlx(json)]
    payload: Value,
}

impl From<EventRow> for StreamEvent {
    fn from(row: EventRow) -> StreamEvent {
        StreamEvent {
            id: row.id,
            kind: row.kind,
            payload: row.payload,
        }
    }
}
