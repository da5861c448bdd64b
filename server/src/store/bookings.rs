//! Bookings: creating is in `idempotency`; here reading, listing, history, state transitions,
//! and the personal-data export and erasure.

use std::collections::HashMap;

use chauffeur_core::booking::{Actor, BookingState};
use chauffeur_core::catalog::VehicleClass;
use chauffeur_core::fare::{ProductKind, Quote, Receipt};
use chauffeur_core::payment::CardPayment;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{Store, StoreError, User};

/// A booking as stored, without personal data: this is also what the history snapshots hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booking {
    pub id: Uuid,
    pub rider_id: Uuid,
    pub city_id: String,
    pub state: BookingState,
    pub vehicle_class: VehicleClass,
    pub product: ProductKind,
    pub pickup_at: DateTime<Utc>,
    pub price_minor: i64,
    pub currency: String,
    /// The signed quote the rider booked.
    pub quote: Quote,
    pub child_seats: i64,
    pub cancellation_fee_minor: Option<i64>,
    /// The partner that accepted the ride, once one did.
    #[serde(default)]
    pub partner_id: Option<Uuid>,
    /// The chauffeur and vehicle the partner assigned.
    #[serde(default)]
    pub chauffeur_id: Option<Uuid>,
    #[serde(default)]
    pub vehicle_id: Option<Uuid>,
    /// After completion: the core's receipt (quote + declared extras) and its total.
    #[serde(default)]
    pub receipt: Option<Receipt>,
    #[serde(default)]
    pub final_price_minor: Option<i64>,
    /// The card payment, when the server takes payments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<CardPayment>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A booking's personal data; erased (set to None) when the rider deletes their account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Personal {
    pub passenger_name: Option<String>,
    pub passenger_phone: Option<String>,
    pub flight_number: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub version: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub actor_id: Option<Uuid>,
    pub from_state: Option<BookingState>,
    pub to_state: BookingState,
    /// The booking as it was after this change.
    pub snapshot: Value,
}

pub struct Transition {
    pub booking_id: Uuid,
    pub expected_version: i64,
    pub to: BookingState,
    pub actor: Actor,
    pub actor_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub cancellation_fee_minor: Option<i64>,
    /// The receipt, on completion; its total becomes the booking's final price.
    pub receipt: Option<Receipt>,
    pub assignment: AssignmentChange,
    /// The partner giving the ride back (the booking loses its partner).
    pub given_back_by: Option<Uuid>,
    /// The payment as it is after this change (None: unchanged).
    pub payment: Option<CardPayment>,
}

impl Transition {
    pub fn new(
        booking: &Booking,
        to: BookingState,
        actor: Actor,
        actor_id: Option<Uuid>,
        at: DateTime<Utc>,
    ) -> Transition {
        let assignment = match to {
            _ if to == booking.state => AssignmentChange::Keep,
            BookingState::Cancelled
            | BookingState::Pending
            | BookingState::Confirmed
            | BookingState::Unfulfilled => AssignmentChange::Release,
            _ => AssignmentChange::Keep,
        };
        Transition {
            booking_id: booking.id,
            expected_version: booking.version,
            to,
            actor,
            actor_id,
            at,
            cancellation_fee_minor: None,
            receipt: None,
            assignment,
            given_back_by: None,
            payment: None,
        }
    }
}

/// What a transition does to the chauffeur's assignment.
#[derive(Debug, Clone, PartialEq)]
pub enum AssignmentChange {
    Keep,
    /// The chauffeur is free again (cancelled, given back, unassigned).
    Release,
    /// This chauffeur and vehicle drive the ride, busy from `starts_at` to `ends_at`.
    Assign {
        partner_id: Uuid,
        chauffeur_id: Uuid,
        vehicle_id: Uuid,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Export {
    pub user: User,
    pub bookings: Vec<ExportedBooking>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedBooking {
    pub booking: Booking,
    pub personal: Personal,
    pub history: Vec<HistoryEntry>,
}

/// Where a page of bookings starts: after this (pickup time, id), in the list's order.
pub type PageKey = (DateTime<Utc>, Uuid);

/// Bookings per page when an export is read.
pub const EXPORT_PAGE: i64 = 200;

/// Whose bookings to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingsOf {
    /// A rider's own bookings, latest pickup first.
    Rider(Uuid),
    /// The rides a partner accepted, soonest pickup first.
    Partner(Uuid),
    /// The rides assigned to a chauffeur, soonest pickup first.
    Chauffeur(Uuid),
}

impl Store {
    /// A page of bookings with their personal data, read in one query (instead of reading each
    /// booking again for its personal data): at most `limit`, starting after `after` in the
    /// list's order (see [`BookingsOf`]).
    pub async fn bookings_with_personal(
        &self,
        of: BookingsOf,
        after: Option<PageKey>,
        limit: i64,
    ) -> Result<Vec<(Booking, Personal)>, StoreError> {
        match of {
            BookingsOf::Rider(rider_id) => read!(
                self,
                bookings::rider_bookings_with_personal(rider_id, after, limit)
            ),
            BookingsOf::Partner(partner_id) => read!(
                self,
                bookings::served_bookings_with_personal(Some(partner_id), None, after, limit)
            ),
            BookingsOf::Chauffeur(chauffeur_id) => read!(
                self,
                bookings::served_bookings_with_personal(None, Some(chauffeur_id), after, limit)
            ),
        }
    }

    /// All of a list's bookings (for callers that need every one, such as erasure).
    pub async fn all_bookings_with_personal(
        &self,
        of: BookingsOf,
    ) -> Result<Vec<(Booking, Personal)>, StoreError> {
        self.bookings_with_personal(of, None, i64::MAX).await
    }

    /// A booking with its personal data.
    pub async fn booking(&self, id: Uuid) -> Result<Option<(Booking, Personal)>, StoreError> {
        read!(self, bookings::booking(id))
    }

    /// Every version of a booking, oldest first.
    pub async fn history(&self, booking_id: Uuid) -> Result<Vec<HistoryEntry>, StoreError> {
        read!(self, bookings::history(booking_id))
    }

    /// Moves a booking to a new state if nobody changed it since `expected_version`
    /// (`Stale` otherwise), with its history entry, assignment and event in the same
    /// transaction.
    pub async fn transition(&self, t: &Transition) -> Result<Booking, StoreError> {
        write_turn!(self, bookings::transition(t))
    }

    /// Pending bookings, soonest pickup first: the dispatcher's work list.
    pub async fn pending_bookings(&self, limit: i64) -> Result<Vec<Uuid>, StoreError> {
        read!(self, bookings::pending_bookings(limit))
    }

    /// Erases a rider's personal data; [`StoreError::Stale`] while any of their bookings is
    /// still ahead (checked in the same transaction).
    pub async fn erase_user(&self, user_id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        write_turn!(self, bookings::erase_user(user_id, now))
    }

    /// A page of a rider's export: up to `limit` bookings after `after` (latest pickup first),
    /// each with its personal data and whole history. Two queries per page.
    pub async fn export_page(
        &self,
        rider_id: Uuid,
        after: Option<PageKey>,
        limit: i64,
    ) -> Result<Vec<ExportedBooking>, StoreError> {
        let rides = self
            .bookings_with_personal(BookingsOf::Rider(rider_id), after, limit)
            .await?;
        let (Some((newest, _)), Some((oldest, _))) = (rides.first(), rides.last()) else {
            return Ok(Vec::new());
        };
        let (newest, oldest) = ((newest.pickup_at, newest.id), (oldest.pickup_at, oldest.id));
        let mut histories: HashMap<Uuid, Vec<HistoryEntry>> = HashMap::new();
        for (booking_id, entry) in read!(
            self,
            bookings::rider_history_between(rider_id, newest, oldest)
        )? {
            histories.entry(booking_id).or_default().push(entry);
        }
        Ok(rides
            .into_iter()
            .map(|(booking, personal)| ExportedBooking {
                history: histories.remove(&booking.id).unwrap_or_default(),
                booking,
                personal,
            })
            .collect())
    }

    /// Everything stored about a user, in memory (the HTTP export streams it page by page
    /// with [`Store::export_page`] instead).
    pub async fn export(&self, user: User) -> Result<Export, StoreError> {
        let mut bookings: Vec<ExportedBooking> = Vec::new();
        loop {
            let after = bookings.last().map(|b| (b.booking.pickup_at, b.booking.id));
            let page = self.export_page(user.id, after, EXPORT_PAGE).await?;
            if page.is_empty() {
                return Ok(Export { user, bookings });
            }
            bookings.extend(page);
        }
    }
}
