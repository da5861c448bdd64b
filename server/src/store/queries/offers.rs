//! Offers of bookings to partners (scheduled) and to chauffeurs (on demand), and accepting
//! them: the first accept wins.

use chauffeur_core::booking::{Actor, BookingState};
use chrono::{DateTime, Utc};
use sqlx::Pool;
use uuid::Uuid;

use super::bookings::{append_history, booking_in};
use super::events::{append_event, status_payload};
use super::{Conn, Db, BEGIN_WRITE};
use crate::store::rows::{OfferRecipientRow, OfferRow, OfferWithBookingRow};
use crate::store::{
    is_overlap, is_unique_violation, Accepted, Booking, Offer, OfferState, StoreError,
};

pub async fn offers_of_booking(
    pool: &Pool<Db>,
    booking_id: Uuid,
) -> Result<Vec<Offer>, StoreError> {
    let rows = sqlx::query_as::<Db, OfferRow>(
        "SELECT * FROM offers WHERE booking_id = $1 ORDER BY batch, id",
    )
    .bind(booking_id)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Offer::try_from).collect()
}

/// Closes the booking's open offers whose time ran out.
pub async fn expire_offers(
    pool: &Pool<Db>,
    booking_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let expired = sqlx::query_as::<Db, OfferRecipientRow>(
        "UPDATE offers SET state = 'expired' \
         WHERE booking_id = $1 AND state = 'open' AND expires_at <= $2 RETURNING id, partner_id",
    )
    .bind(booking_id)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    for offer in &expired {
        let payload = serde_json::json!({"offer_id": offer.id, "booking_id": booking_id});
        let partner = Some(offer.partner_id);
        append_event(&mut tx, None, partner, "offer_expired", payload, now).await?;
    }
    tx.commit().await?;
    Ok(expired.len() as u64)
}

/// Sends a batch of offers, if the booking is still pending.
pub async fn insert_offers(
    pool: &Pool<Db>,
    booking_id: Uuid,
    partners: &[Uuid],
    batch: i64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<Vec<Offer>, StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let pending = sqlx::query::<Db>("SELECT 1 FROM bookings WHERE id = $1 AND state = 'pending'")
        .bind(booking_id)
        .fetch_optional(&mut *tx)
        .await?;
    if pending.is_none() {
        return Ok(Vec::new());
    }
    let mut offers = Vec::with_capacity(partners.len());
    for partner_id in partners {
        let offer = Offer {
            id: Uuid::now_v7(),
            booking_id,
            partner_id: *partner_id,
            chauffeur_id: None,
            vehicle_id: None,
            batch,
            state: OfferState::Open,
            created_at: now,
            expires_at,
        };
        sqlx::query::<Db>(
            "INSERT INTO offers (id, booking_id, partner_id, batch, state, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, 'open', $5, $6)",
        )
        .bind(offer.id)
        .bind(booking_id)
        .bind(offer.partner_id)
        .bind(batch)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        let payload = serde_json::json!({
            "offer_id": offer.id,
            "booking_id": booking_id,
            "expires_at": expires_at,
        });
        append_event(&mut tx, None, Some(offer.partner_id), "offer", payload, now).await?;
        offers.push(offer);
    }
    tx.commit().await?;
    Ok(offers)
}

/// Open, unexpired offers of a partner's dispatcher (`chauffeur` None) or of one
/// chauffeur (on-demand), with their bookings.
pub async fn open_offers(
    pool: &Pool<Db>,
    partner_id: Uuid,
    chauffeur: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Vec<(Offer, Booking)>, StoreError> {
    let rows = sqlx::query_as::<Db, OfferWithBookingRow>(
        "SELECT o.id AS offer_id, o.booking_id, o.partner_id AS offered_partner, o.batch, \
         o.chauffeur_id AS offered_chauffeur, o.vehicle_id AS offered_vehicle, \
         o.state AS offer_state, o.created_at AS offered_at, o.expires_at, \
         b.id, b.rider_id, b.city_id, b.state, b.vehicle_class, b.product, b.pickup_at, \
         b.price_minor, b.currency, b.quote, b.child_seats, b.cancellation_fee_minor, \
         b.version, b.created_at, b.updated_at, b.partner_id, b.chauffeur_id, b.vehicle_id, \
         b.receipt, b.final_price_minor, b.payment \
         FROM offers o JOIN bookings b ON b.id = o.booking_id \
         WHERE ((o.partner_id = $1 AND o.chauffeur_id IS NULL AND $3 IS NULL) \
            OR o.chauffeur_id = $3) \
         AND o.state = 'open' AND o.expires_at > $2 \
         AND b.state = 'pending' ORDER BY b.pickup_at, o.id",
    )
    .bind(partner_id)
    .bind(now)
    .bind(chauffeur)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(<(Offer, Booking)>::try_from).collect()
}

/// Why an offer cannot be accepted now, if it cannot; an offer whose time ran out is
/// marked expired (in the caller's transaction).
async fn unacceptable(
    tx: &mut Conn,
    offer: &Offer,
    now: DateTime<Utc>,
) -> Result<Option<Accepted>, StoreError> {
    match offer.state {
        OfferState::Open => {}
        // Withdrawn because somebody else accepted first.
        OfferState::Withdrawn => return Ok(Some(Accepted::Taken)),
        other => return Ok(Some(Accepted::Closed(other))),
    }
    if offer.expires_at <= now {
        sqlx::query::<Db>("UPDATE offers SET state = 'expired' WHERE id = $1 AND state = 'open'")
            .bind(offer.id)
            .execute(&mut *tx)
            .await?;
        return Ok(Some(Accepted::Expired));
    }
    Ok(None)
}

/// After the booking was won: this offer accepted (one per booking, by a unique
/// index), the other open offers withdrawn with a notice to each, and the booking's
/// new version in its history and on the streams.
async fn settle_accept(
    tx: &mut Conn,
    offer: &Offer,
    now: DateTime<Utc>,
    actor: Actor,
    actor_id: Uuid,
) -> Result<Accepted, StoreError> {
    let accepted = sqlx::query::<Db>(
        "UPDATE offers SET state = 'accepted', answered_at = $1 WHERE id = $2 AND state = 'open'",
    )
    .bind(now)
    .bind(offer.id)
    .execute(&mut *tx)
    .await;
    match accepted {
        Err(e) if is_unique_violation(&e) => return Ok(Accepted::Taken),
        Err(e) => return Err(e.into()),
        Ok(done) if done.rows_affected() != 1 => return Ok(Accepted::Taken),
        Ok(_) => {}
    }
    let withdrawn = sqlx::query_as::<Db, OfferRecipientRow>(
        "UPDATE offers SET state = 'withdrawn', answered_at = $1 \
         WHERE booking_id = $2 AND state = 'open' RETURNING id, partner_id",
    )
    .bind(now)
    .bind(offer.booking_id)
    .fetch_all(&mut *tx)
    .await?;
    for other in &withdrawn {
        let payload = serde_json::json!({"offer_id": other.id, "booking_id": offer.booking_id});
        append_event(
            &mut *tx,
            None,
            Some(other.partner_id),
            "offer_withdrawn",
            payload,
            now,
        )
        .await?;
    }
    let booking = booking_in(&mut *tx, offer.booking_id)
        .await?
        .ok_or(StoreError::Stale)?;
    append_history(
        &mut *tx,
        &booking,
        now,
        actor,
        Some(actor_id),
        Some(BookingState::Pending),
    )
    .await?;
    append_event(
        &mut *tx,
        Some(booking.id),
        Some(offer.partner_id),
        "status",
        status_payload(&booking),
        now,
    )
    .await?;
    Ok(Accepted::Won(Box::new(booking)))
}

/// The first accept wins: the booking moves from pending to confirmed only if it is
/// still pending and has no partner (a conditional update), and a unique index allows
/// one accepted offer per booking. Everyone else hears `Taken`.
pub async fn accept_offer(
    pool: &Pool<Db>,
    offer_id: Uuid,
    partner_id: Uuid,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Accepted, StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let row = sqlx::query_as::<Db, OfferRow>(
        "SELECT * FROM offers WHERE id = $1 AND partner_id = $2 AND chauffeur_id IS NULL",
    )
    .bind(offer_id)
    .bind(partner_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(Accepted::NotFound);
    };
    let offer = Offer::try_from(row)?;
    if let Some(outcome) = unacceptable(&mut tx, &offer, now).await? {
        tx.commit().await?; // keeps an expiry it recorded
        return Ok(outcome);
    }
    let won = sqlx::query::<Db>(
        "UPDATE bookings SET state = 'confirmed', partner_id = $1, version = version + 1, \
         updated_at = $2 WHERE id = $3 AND state = 'pending' AND partner_id IS NULL",
    )
    .bind(partner_id)
    .bind(now)
    .bind(offer.booking_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if won != 1 {
        return Ok(Accepted::Taken);
    }
    let outcome = settle_accept(&mut tx, &offer, now, Actor::Partner, actor_id).await?;
    if matches!(outcome, Accepted::Won(_)) {
        tx.commit().await?;
    }
    Ok(outcome)
}

/// Records a decline; `false` if there was no open offer of this partner to decline.
pub async fn decline_offer(
    pool: &Pool<Db>,
    offer_id: Uuid,
    partner_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(sqlx::query::<Db>(
        "UPDATE offers SET state = 'declined', answered_at = $1 \
         WHERE id = $2 AND partner_id = $3 AND state = 'open'",
    )
    .bind(now)
    .bind(offer_id)
    .bind(partner_id)
    .execute(pool)
    .await?
    .rows_affected()
        == 1)
}

/// An on-demand offer to one chauffeur, if the booking is still pending.
#[allow(clippy::too_many_arguments)] // the offer's fields
pub async fn insert_chauffeur_offer(
    pool: &Pool<Db>,
    booking_id: Uuid,
    partner_id: Uuid,
    chauffeur_id: Uuid,
    vehicle_id: Uuid,
    batch: i64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let pending = sqlx::query::<Db>("SELECT 1 FROM bookings WHERE id = $1 AND state = 'pending'")
        .bind(booking_id)
        .fetch_optional(&mut *tx)
        .await?;
    if pending.is_none() {
        return Ok(false);
    }
    let id = Uuid::now_v7();
    sqlx::query::<Db>(
        "INSERT INTO offers (id, booking_id, partner_id, batch, state, created_at, expires_at, \
         chauffeur_id, vehicle_id) \
         VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(booking_id)
    .bind(partner_id)
    .bind(batch)
    .bind(now)
    .bind(expires_at)
    .bind(chauffeur_id)
    .bind(vehicle_id)
    .execute(&mut *tx)
    .await?;
    let payload = serde_json::json!({
        "offer_id": id,
        "booking_id": booking_id,
        "chauffeur_id": chauffeur_id,
        "expires_at": expires_at,
    });
    append_event(
        &mut tx,
        None,
        Some(partner_id),
        "on_demand_offer",
        payload,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// A chauffeur accepts an on-demand offer: the first accept wins, and the booking is
/// confirmed to the chauffeur's partner and assigned to the chauffeur at once.
pub async fn accept_chauffeur_offer(
    pool: &Pool<Db>,
    offer_id: Uuid,
    chauffeur_id: Uuid,
    now: DateTime<Utc>,
    busy: (DateTime<Utc>, DateTime<Utc>),
) -> Result<Accepted, StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let row =
        sqlx::query_as::<Db, OfferRow>("SELECT * FROM offers WHERE id = $1 AND chauffeur_id = $2")
            .bind(offer_id)
            .bind(chauffeur_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(row) = row else {
        return Ok(Accepted::NotFound);
    };
    let offer = Offer::try_from(row)?;
    if let Some(outcome) = unacceptable(&mut tx, &offer, now).await? {
        tx.commit().await?; // keeps an expiry it recorded
        return Ok(outcome);
    }
    let Some(vehicle_id) = offer.vehicle_id else {
        return Ok(Accepted::NotFound);
    };
    let won = sqlx::query::<Db>(
        "UPDATE bookings SET state = 'chauffeur_assigned', partner_id = $1, chauffeur_id = $2, \
         vehicle_id = $3, version = version + 1, updated_at = $4 \
         WHERE id = $5 AND state = 'pending' AND partner_id IS NULL",
    )
    .bind(offer.partner_id)
    .bind(chauffeur_id)
    .bind(vehicle_id)
    .bind(now)
    .bind(offer.booking_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if won != 1 {
        return Ok(Accepted::Taken);
    }
    let assigned = sqlx::query::<Db>(
        "INSERT INTO assignments \
         (booking_id, partner_id, chauffeur_id, vehicle_id, starts_at, ends_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(offer.booking_id)
    .bind(offer.partner_id)
    .bind(chauffeur_id)
    .bind(vehicle_id)
    .bind(busy.0)
    .bind(busy.1)
    .execute(&mut *tx)
    .await;
    if let Err(e) = assigned {
        return Err(if is_overlap(&e) {
            StoreError::Conflict("chauffeur_busy")
        } else {
            e.into()
        });
    }
    let outcome = settle_accept(&mut tx, &offer, now, Actor::Chauffeur, chauffeur_id).await?;
    if matches!(outcome, Accepted::Won(_)) {
        tx.commit().await?;
    }
    Ok(outcome)
}

pub async fn offer_by_id(pool: &Pool<Db>, offer_id: Uuid) -> Result<Option<Offer>, StoreError> {
    let row = sqlx::query_as::<Db, OfferRow>("SELECT * FROM offers WHERE id = $1")
        .bind(offer_id)
        .fetch_optional(pool)
        .await?;
    row.map(Offer::try_from).transpose()
}
