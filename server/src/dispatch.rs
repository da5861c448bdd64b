//! Dispatch at the edge: loads what the core's dispatch rules need, applies their decision
//! (send a batch of offers, wait, or give up), and runs that step for every pending booking on a
//! timer. Each step is idempotent: running it twice, or on two replicas, does no harm (a second
//! identical batch hits the offers' unique key and is dropped).

use std::collections::BTreeSet;
use std::time::Duration;

use chauffeur_core::booking::Actor;
use chauffeur_core::dispatch::{dispatch_deadline, next_step, rank, Candidate, DispatchStep};
use chauffeur_core::{transition, BookingState, Quote};
use uuid::Uuid;

use chauffeur_core::dispatch::{is_on_demand, on_demand_radius_m, ON_DEMAND_OFFER_TTL};
use chrono::{DateTime, Utc};

use crate::nearest::{class_bit, NearestIndex, OnlineChauffeur};
use crate::state::AppState;
use crate::store::{Booking, ChauffeurSearch, Offer, OfferState};

/// Give-backs within this window count against a partner in the ranking.
const RECENT_GIVE_BACKS: chrono::Duration = chrono::Duration::days(90);
use crate::store::{StoreError, Transition};

/// How long a chauffeur is busy with a ride: from 30 minutes before pickup (approach) to the
/// end of the quoted drive or hire plus 30 minutes.
pub fn busy_window(booking: &Booking) -> (DateTime<Utc>, DateTime<Utc>) {
    let drive = i64::from(booking.quote.route.duration_s);
    let margin = chrono::Duration::minutes(30);
    (
        booking.pickup_at - margin,
        booking.pickup_at + chrono::Duration::seconds(drive) + margin,
    )
}

/// A chauffeur counts as online with a position this recent.
const ONLINE_WITHIN: chrono::Duration = chrono::Duration::minutes(2);

/// On demand: offer the ride to the nearest available online chauffeur of the class, one at a
/// time, each for 30 seconds, searching wider every 30 seconds.
async fn dispatch_on_demand(
    state: &AppState,
    booking: &Booking,
    quote: &Quote,
    offers: &[Offer],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let deadline = dispatch_deadline(booking.pickup_at, booking.created_at);
    if now >= deadline {
        return give_up(state, booking, now).await;
    }
    if offers
        .iter()
        .any(|o| o.state == OfferState::Open && o.expires_at > now)
    {
        return Ok(());
    }
    let asked: BTreeSet<Uuid> = offers.iter().filter_map(|o| o.chauffeur_id).collect();
    let waited_steps =
        usize::try_from((now - booking.created_at).num_seconds().max(0) / 30).unwrap_or(usize::MAX);
    let radius = on_demand_radius_m(asked.len().max(waited_steps));
    let (starts, ends) = busy_window(booking);
    let online = state
        .store
        .online_chauffeurs(&ChauffeurSearch {
            city_id: &booking.city_id,
            class: booking.vehicle_class,
            passengers: i64::from(quote.passengers),
            bags: i64::from(quote.bags),
            online_since: now - ONLINE_WITHIN,
            free_from: starts,
            free_until: ends,
            cells: &crate::live::cells_around(quote.pickup_point, radius),
        })
        .await?;
    let index = NearestIndex::build(
        online
            .iter()
            .map(|c| OnlineChauffeur {
                id: c.chauffeur_id,
                position: c.position,
                classes: class_bit(booking.vehicle_class),
            })
            .collect(),
    );
    let Some((chauffeur, metres)) =
        index.nearest(quote.pickup_point, booking.vehicle_class, radius, &asked)
    else {
        return Ok(()); // nobody near enough yet; the radius grows with time
    };
    let Some(found) = online.iter().find(|c| c.chauffeur_id == chauffeur) else {
        return Ok(());
    };
    let (partner, vehicle) = (found.partner_id, found.vehicle_id);
    let expires_at = (now + ON_DEMAND_OFFER_TTL).min(deadline);
    let batch = i64::try_from(offers.len()).unwrap_or(i64::MAX - 1) + 1;
    if state
        .store
        .insert_chauffeur_offer(
            booking.id, partner, chauffeur, vehicle, batch, now, expires_at,
        )
        .await?
    {
        tracing::info!(booking = %booking.id, %chauffeur, metres = metres.round(), radius, "on-demand offer sent");
    }
    Ok(())
}

async fn give_up(
    state: &AppState,
    booking: &Booking,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Ok(to) = transition(booking.state, BookingState::Unfulfilled, Actor::System) else {
        return Ok(());
    };
    match state
        .store
        .transition(&Transition::new(booking, to, Actor::System, None, now))
        .await
    {
        Ok(_) => {
            tracing::info!(booking = %booking.id, "nobody accepted in time: unfulfilled");
            Ok(())
        }
        // Accepted or cancelled meanwhile: nothing to give up.
        Err(StoreError::Stale) => Ok(()),
        Err(e) => Err(e),
    }
}

/// One dispatch step for one booking.
pub async fn dispatch_booking(state: &AppState, booking_id: Uuid) -> Result<(), StoreError> {
    let now = state.now();
    let Some((booking, _)) = state.store.booking(booking_id).await? else {
        return Ok(());
    };
    if booking.state != BookingState::Pending {
        return Ok(());
    }
    let quote = &booking.quote;
    let (passengers, bags) = (i64::from(quote.passengers), i64::from(quote.bags));
    let mut offers = state.store.offers_of_booking(booking_id).await?;
    // Close offers whose time ran out (a write only when there is one to close).
    if offers
        .iter()
        .any(|o| o.state == OfferState::Open && o.expires_at <= now)
    {
        state.store.expire_offers(booking_id, now).await?;
        offers = state.store.offers_of_booking(booking_id).await?;
    }
    if is_on_demand(booking.pickup_at, booking.created_at) {
        return dispatch_on_demand(state, &booking, quote, &offers, now).await;
    }
    let candidates: Vec<Candidate<Uuid>> = state
        .store
        .eligible_partners(
            &booking.city_id,
            booking.vehicle_class,
            passengers,
            bags,
            now - RECENT_GIVE_BACKS,
        )
        .await?
        .into_iter()
        .map(|(id, record)| Candidate { id, record })
        .collect();
    // After a give-back the search starts over, the partner who gave it back asked last.
    let give_backs = state.store.give_backs_of(booking_id).await?;
    let round_started = give_backs.iter().map(|g| g.at).max();
    let gave_back: BTreeSet<Uuid> = give_backs.iter().map(|g| g.partner_id).collect();
    let offered: BTreeSet<Uuid> = offers
        .iter()
        .filter(|o| round_started.is_none_or(|start| o.created_at >= start))
        .map(|o| o.partner_id)
        .collect();
    let open = offers
        .iter()
        .any(|o| o.state == OfferState::Open && o.expires_at > now);
    let ranked = rank(&candidates, &gave_back);
    let deadline = dispatch_deadline(booking.pickup_at, booking.created_at);
    match next_step(
        booking.pickup_at,
        deadline,
        &ranked,
        &offered,
        &gave_back,
        open,
        state.dispatch_batch_size,
        now,
    ) {
        DispatchStep::Wait => Ok(()),
        DispatchStep::Offer {
            partners,
            expires_at,
        } => {
            let batch = offers.iter().map(|o| o.batch).max().unwrap_or(0) + 1;
            match state
                .store
                .insert_offers(booking_id, &partners, batch, now, expires_at)
                .await
            {
                Ok(sent) => {
                    tracing::info!(booking = %booking_id, batch, offers = sent.len(), "offers sent");
                    Ok(())
                }
                // Another replica sent this very batch a moment ago.
                Err(StoreError::Db(e)) if matches!(&e, sqlx::Error::Database(d) if d.is_unique_violation()) => {
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        DispatchStep::GiveUp => give_up(state, &booking, now).await,
    }
}

/// Runs a dispatch step for every pending booking, every `interval`, until the process ends.
pub async fn run_dispatcher(state: AppState, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        dispatch_round(&state, false).await;
    }
}

/// One dispatch step for every pending booking, on one replica at a time (`wait`: wait for the
/// turn rather than leave the round to the replica that has it).
pub async fn dispatch_round(state: &AppState, wait: bool) {
    let _turn = match state.store.dispatch_turn(wait).await {
        Ok(Some(turn)) => turn,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "dispatcher cannot take its turn");
            return;
        }
    };
    state.metrics.dispatch_round();
    let pending = match state.store.pending_bookings(500).await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(error = %e, "dispatcher cannot list pending bookings");
            return;
        }
    };
    for booking_id in pending {
        if let Err(e) = dispatch_booking(state, booking_id).await {
            tracing::warn!(booking = %booking_id, error = %e, "dispatch step failed; retried next round");
        }
    }
}
