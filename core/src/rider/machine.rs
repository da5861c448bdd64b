//! The rider app's decisions as a state machine, with no I/O: [`update`] takes the state, what
//! happened ([`Event`]) and the catalog and time ([`Context`]), and answers the next state and
//! what to do ([`Effect`]). [`RiderApp`](crate::rider_app::RiderApp) is the driver: it turns each
//! call into events, runs `update`, executes the effects (network, cache, secure store) and feeds
//! their outcomes back as events. So the journeys — booking offline and syncing later, a refused
//! replay, a restart — can be tested in microseconds, with no server and no disk.
//!
//! Decided here so far: the restart, the lists (upcoming, past, waiting to sync, refused),
//! booking through the outbox and what its answer means, syncing the outbox, dismissing a
//! refusal. The quote form, quotes, accounts, cancelling, a booking's screen and the live ride
//! are still decided in `rider_app.rs`.

// As pure as the domain: the clock and I/O lints that the rest of `rider` allows apply here.
#![deny(clippy::disallowed_methods, clippy::disallowed_types)]

use chrono::{DateTime, Utc};

use crate::booking::BookingState;
use crate::cache::{CachedBooking, OutboxEntry, OutboxState};
use crate::catalog::{Catalog, VehicleClass};
use crate::rider_app::{
    quotes_from_server, refused_intent, summary_of, to_json, IntentKind, PlaceholderBooking,
    QuoteForm, RefusedIntent, RiderError, RiderState,
};
use crate::wire::{CreateBookingRequest, MoneyView, QuotesResponse};

/// What the decisions read besides the state: the catalog the app holds and the time.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    pub now: DateTime<Utc>,
}

/// What the app's cache holds, as read at a start.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CachedContent {
    /// The e-mail of the rider signed in (empty or none: nobody).
    pub signed_in_as: Option<String>,
    /// The last form, as JSON.
    pub form: Option<String>,
    /// The server's answer to that form (`null` once its quotes were spent on a booking).
    pub quotes: Option<String>,
    pub bookings: Vec<CachedBooking>,
    pub outbox: Vec<OutboxEntry>,
}

/// What became of an outbox entry after a sync round.
#[derive(Debug, Clone, PartialEq)]
pub enum OutboxAnswer {
    /// The server applied it, with the booking it answered when readable.
    Booked(Option<CachedBooking>),
    /// The server said no; the rider is told why.
    Refused(RefusedIntent),
    /// Not answered (no network, or not finally): it waits in the outbox.
    NoNetwork,
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The app started with this cache content.
    Restarted(CachedContent),
    /// The cache's bookings and outbox, read again after a change.
    ListsLoaded {
        bookings: Vec<CachedBooking>,
        outbox: Vec<OutboxEntry>,
    },
    /// The rider tapped "book" on a class. `signed_in`: a session token is stored;
    /// `idempotency_key`: a fresh key for the intent.
    BookTapped {
        class: VehicleClass,
        signed_in: bool,
        idempotency_key: String,
        /// The card the app's payment SDK produced (`pm_…`), when the server takes payments.
        payment_method_id: Option<String>,
    },
    /// The intent and what the app shows meanwhile are committed in the outbox.
    IntentSaved {
        kind: IntentKind,
        idempotency_key: String,
        shown: CachedBooking,
    },
    /// A sync round is over, and this is what became of the intent.
    OutboxAnswered {
        kind: IntentKind,
        idempotency_key: String,
        shown: CachedBooking,
        answer: OutboxAnswer,
    },
    /// The app is asked to send what waits (refresh, the network is back), with the outbox as
    /// the cache holds it.
    SyncRequested {
        signed_in: bool,
        outbox: Vec<OutboxEntry>,
    },
    /// The rider has read the refusal with this outbox sequence number.
    RefusalDismissed { seq: i64 },
}

/// An intent the rider is waiting on, while it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct SentIntent {
    pub kind: IntentKind,
    pub idempotency_key: String,
    /// What the app shows of it until the server answers.
    pub shown: CachedBooking,
}

/// What to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Commit the intent, its key and what the app shows meanwhile in the outbox (one
    /// transaction), then tell [`Event::IntentSaved`].
    SaveIntent {
        kind: IntentKind,
        idempotency_key: String,
        body: String,
        shown: CachedBooking,
    },
    /// Send these outbox entries, in the order they were made, each with its own key (one sync
    /// round), then read the lists again; and when `awaiting` is an intent being made now, tell
    /// what became of it ([`Event::OutboxAnswered`]).
    SendOutbox {
        idempotency_keys: Vec<String>,
        awaiting: Option<SentIntent>,
    },
    /// The quotes were spent on a booking: a restart must not offer them again.
    ForgetSpentQuotes,
    /// Drop the refused entry from the outbox.
    DismissRefused { seq: i64 },
    /// Read the bookings and outbox again ([`Event::ListsLoaded`]).
    ReloadLists,
    /// Tell the state listener (the state changed).
    Notify,
    /// The action fails with this error.
    Fail(RiderError),
}

/// The next state and what to do, for what happened.
pub fn update(state: &RiderState, event: Event, ctx: &Context<'_>) -> (RiderState, Vec<Effect>) {
    let mut next = state.clone();
    let effects = match event {
        Event::Restarted(content) => restarted(&mut next, content, ctx),
        Event::ListsLoaded { bookings, outbox } => match lists(&bookings, &outbox, ctx.now) {
            Ok(lists) => {
                lists.apply(&mut next);
                vec![Effect::Notify]
            }
            Err(e) => vec![Effect::Fail(e)],
        },
        Event::BookTapped {
            class,
            signed_in,
            idempotency_key,
            payment_method_id,
        } => match intent_to_book(
            state,
            class,
            signed_in,
            idempotency_key,
            payment_method_id,
            ctx.now,
        ) {
            Ok(save) => vec![save],
            Err(e) => vec![Effect::Fail(e)],
        },
        Event::IntentSaved {
            kind,
            idempotency_key,
            shown,
        } => vec![Effect::SendOutbox {
            idempotency_keys: vec![idempotency_key.clone()],
            awaiting: Some(SentIntent {
                kind,
                idempotency_key,
                shown,
            }),
        }],
        Event::OutboxAnswered {
            kind,
            shown,
            answer,
            ..
        } => answered(&mut next, kind, &shown, answer),
        Event::SyncRequested { signed_in, outbox } => {
            let idempotency_keys: Vec<String> = outbox
                .into_iter()
                .filter(|e| e.state == OutboxState::Pending)
                .map(|e| e.idempotency_key)
                .collect();
            if signed_in && !idempotency_keys.is_empty() {
                vec![Effect::SendOutbox {
                    idempotency_keys,
                    awaiting: None,
                }]
            } else {
                Vec::new()
            }
        }
        Event::RefusalDismissed { seq } => {
            vec![Effect::DismissRefused { seq }, Effect::ReloadLists]
        }
    };
    if effects.iter().any(|e| matches!(e, Effect::Fail(_))) {
        // A failed action changes nothing.
        return (state.clone(), effects);
    }
    (next, effects)
}

/// The refusal an outbox entry holds, as the rider is told it (none if not refused).
pub fn refusal_of(entry: &OutboxEntry) -> Option<RefusedIntent> {
    refused_intent(entry)
}

/// The state a start rebuilds from the cache: who is signed in, the last form and its quotes
/// while they can still be booked, and the lists.
fn restarted(state: &mut RiderState, content: CachedContent, ctx: &Context<'_>) -> Vec<Effect> {
    *state = RiderState {
        revision: state.revision,
        signed_in_as: content.signed_in_as.filter(|email| !email.is_empty()),
        ..RiderState::default()
    };
    state.form.passengers = 1;
    // The last form and its signed quotes, while they can still be booked (`null` once they
    // were spent on a booking).
    if let (Some(form), Some(quotes)) = (content.form, content.quotes) {
        if let Ok(form) = serde_json::from_str::<QuoteForm>(&form) {
            state.form = form;
            let served = serde_json::from_str::<Option<QuotesResponse>>(&quotes);
            state.quotes = served
                .ok()
                .flatten()
                .map(|served| quotes_from_server(&served))
                .unwrap_or_default()
                .into_iter()
                .filter(|q| ctx.now < q.valid_until)
                .collect();
        }
    }
    match lists(&content.bookings, &content.outbox, ctx.now) {
        Ok(lists) => {
            lists.apply(state);
            vec![Effect::Notify]
        }
        Err(e) => vec![Effect::Fail(e)],
    }
}

/// The lists a rider sees, from the cache's bookings and outbox.
struct Lists {
    upcoming: Vec<crate::rider_app::BookingSummary>,
    past: Vec<crate::rider_app::BookingSummary>,
    pending_sync: Vec<crate::rider_app::BookingSummary>,
    refused: Vec<RefusedIntent>,
}

impl Lists {
    fn apply(self, state: &mut RiderState) {
        state.upcoming = self.upcoming;
        state.past = self.past;
        state.pending_sync = self.pending_sync;
        state.refused = self.refused;
    }
}

fn lists(
    bookings: &[CachedBooking],
    outbox: &[OutboxEntry],
    now: DateTime<Utc>,
) -> Result<Lists, RiderError> {
    let refused: Vec<RefusedIntent> = outbox.iter().filter_map(refused_intent).collect();
    // A booking the server refused was never made: its placeholder is not shown.
    let refused_placeholders: Vec<&str> = refused
        .iter()
        .filter(|r| r.kind == IntentKind::CreateBooking)
        .filter_map(|r| r.booking_id.as_deref())
        .collect();
    let (mut upcoming, mut past, mut pending_sync) = (Vec::new(), Vec::new(), Vec::new());
    for b in bookings {
        if refused_placeholders.contains(&b.id.as_str()) {
            continue;
        }
        let summary = summary_of(b)?;
        if b.pending_sync {
            pending_sync.push(summary);
        } else if summary.state.is_terminal() || b.pickup_at < now - chrono::Duration::hours(12) {
            past.push(summary);
        } else {
            upcoming.push(summary);
        }
    }
    // Soonest first for what is coming; latest first (the cache's order) for the past.
    upcoming.sort_by(|a, b| a.pickup_at.cmp(&b.pickup_at).then(a.id.cmp(&b.id)));
    Ok(Lists {
        upcoming,
        past,
        pending_sync,
        refused,
    })
}

/// Booking the quoted class: the intent to save, or why not.
fn intent_to_book(
    state: &RiderState,
    class: VehicleClass,
    signed_in: bool,
    idempotency_key: String,
    payment_method_id: Option<String>,
    now: DateTime<Utc>,
) -> Result<Effect, RiderError> {
    if !signed_in {
        return Err(RiderError::NotSignedIn);
    }
    let quote = state
        .quotes
        .iter()
        .find(|q| q.class == class)
        .ok_or(RiderError::NoSuchQuote { class })?;
    let Some(token) = quote.quote_token.clone() else {
        return Err(RiderError::EstimateNotBookable);
    };
    if now >= quote.valid_until {
        return Err(RiderError::QuoteExpired);
    }
    let form = &state.form;
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let body = CreateBookingRequest {
        quote_token: token,
        passenger: None,
        flight_number: text(&form.flight_number),
        notes: text(&form.notes),
        child_seats: u32::try_from(form.child_seats)
            .ok()
            .filter(|&seats| seats > 0),
        payment_method_id,
    };
    let placeholder = PlaceholderBooking {
        id: format!("local-{idempotency_key}"),
        state: BookingState::Pending,
        city_id: form.city_id.clone(),
        class: quote.class,
        pickup_at: quote.pickup_at,
        price: MoneyView {
            amount_minor: quote.total_minor,
            currency: quote.currency.clone(),
            formatted: quote.total.clone(),
        },
    };
    let shown = CachedBooking {
        id: placeholder.id.clone(),
        city_id: form.city_id.clone(),
        state: placeholder.state.as_str().to_owned(),
        pickup_at: quote.pickup_at,
        version: 0,
        json: to_json(&placeholder)?,
        pending_sync: true,
    };
    Ok(Effect::SaveIntent {
        kind: IntentKind::CreateBooking,
        idempotency_key,
        body: to_json(&body)?,
        shown,
    })
}

/// What the answer to a booking intent shows. (Cancellations still decide this in
/// `rider_app.rs`.)
fn answered(
    state: &mut RiderState,
    kind: IntentKind,
    shown: &CachedBooking,
    answer: OutboxAnswer,
) -> Vec<Effect> {
    if kind != IntentKind::CreateBooking {
        return Vec::new();
    }
    match answer {
        OutboxAnswer::Booked(booking) => {
            let confirmation = match booking.as_ref().map(summary_of).transpose() {
                Ok(confirmation) => confirmation,
                Err(e) => return vec![Effect::Fail(e)],
            };
            state.confirmation = confirmation;
            state.quotes.clear();
            state.notice = None;
            // Booked: its quotes are spent, also for the next start of the app.
            vec![Effect::ForgetSpentQuotes, Effect::Notify]
        }
        OutboxAnswer::Refused(refusal) => vec![Effect::Fail(refusal.to_error())],
        OutboxAnswer::NoNetwork => match summary_of(shown) {
            Ok(confirmation) => {
                state.confirmation = Some(confirmation);
                state.notice =
                    Some("Saved on this phone; it will be booked when you are back online.".into());
                vec![Effect::Notify]
            }
            Err(e) => vec![Effect::Fail(e)],
        },
    }
}
