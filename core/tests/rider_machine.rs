//! The rider app's decisions ([`chauffeur_core::rider::machine`]) on their own: the offline
//! booking, refusal and restart journeys with no server and no disk. A small in-memory driver
//! plays the part `RiderApp` plays for real — it executes the effects against a cache and a
//! network made of vectors, and feeds their outcomes back as events.
#![cfg(feature = "client")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::collections::VecDeque;

use chauffeur_core::cache::{CachedBooking, OutboxEntry, OutboxState};
use chauffeur_core::rider::machine::{
    refusal_of, update, CachedContent, Context, Effect, Event, OutboxAnswer,
};
use chauffeur_core::rider_app::{IntentKind, QuoteForm, RiderError, RiderState};
use chauffeur_core::wire::{QuoteView, QuotesResponse};
use chauffeur_core::*;
use chrono::{DateTime, Duration, Utc};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn berlin_form() -> QuoteForm {
    QuoteForm {
        city_id: "berlin".into(),
        pickup: Some(LatLon {
            lat: 52.5163,
            lon: 13.3777,
        }),
        dropoff: Some(LatLon {
            lat: 52.5219,
            lon: 13.4132,
        }),
        pickup_local: rider_app::LocalDateTime::parse("2026-12-08T14:30"),
        passengers: 2,
        bags: 1,
        ..QuoteForm::default()
    }
}

/// The server's signed answer to the Berlin form at `now`, as the app caches it: the fare
/// engine's own quotes, each with a token.
fn served_quotes(catalog: &Catalog, now: DateTime<Utc>) -> String {
    let request = QuoteRequest {
        city_id: "berlin".into(),
        pickup: berlin_form().pickup.unwrap(),
        product: ProductRequest::Transfer {
            dropoff: berlin_form().dropoff.unwrap(),
            stops: vec![],
        },
        pickup_time: PickupTime::Local {
            at: "2026-12-08T14:30:00".parse().unwrap(),
            dst: None,
        },
        passengers: 2,
        bags: 1,
        extras: Extras::default(),
    };
    let quotes = quote_all(catalog, &EstimatedRouter, &request, now).unwrap();
    serde_json::to_string(&QuotesResponse {
        city_id: "berlin".into(),
        catalog_version: catalog.version().to_owned(),
        quotes: quotes
            .iter()
            .map(|q| QuoteView::new(q, format!("token-{}", q.class)))
            .collect(),
    })
    .unwrap()
}

/// What the server answers for a booking: the fields the lists read.
fn server_booking(id: &str, pickup_at: DateTime<Utc>) -> CachedBooking {
    CachedBooking {
        id: id.into(),
        city_id: "berlin".into(),
        state: "pending".into(),
        pickup_at,
        version: 1,
        json: serde_json::json!({
            "class": "business",
            "price": {"amount_minor": 9300, "currency": "EUR", "formatted": "EUR 93.00"},
        })
        .to_string(),
        pending_sync: false,
    }
}

/// How the pretend server answers a booking intent.
#[derive(Clone)]
enum Server {
    Unreachable,
    Books,
    Refuses {
        status: u16,
        code: &'static str,
        detail: &'static str,
    },
}

/// The driver: `RiderApp`'s part, over memory.
struct World {
    catalog: Catalog,
    now: DateTime<Utc>,
    state: RiderState,
    signed_in: bool,
    bookings: Vec<CachedBooking>,
    outbox: Vec<OutboxEntry>,
    quotes_meta: Option<String>,
    server: Server,
    /// Every attempt to send an outbox entry, by key (reached the server or not).
    attempts: Vec<String>,
    /// The keys the server applied.
    applied: Vec<String>,
    notified: usize,
    next_key: usize,
}

impl World {
    fn new(now: DateTime<Utc>) -> World {
        World {
            catalog: Catalog::shipped().unwrap(),
            now,
            state: RiderState::default(),
            signed_in: true,
            bookings: Vec::new(),
            outbox: Vec::new(),
            quotes_meta: None,
            server: Server::Unreachable,
            attempts: Vec::new(),
            applied: Vec::new(),
            notified: 0,
            next_key: 0,
        }
    }

    /// A signed-in rider whose app restarted with the Berlin form and its signed quotes.
    fn with_quotes(now: DateTime<Utc>) -> World {
        let mut world = World::new(now);
        let quotes = served_quotes(&world.catalog, now);
        world.quotes_meta = Some(quotes.clone());
        world
            .run(Event::Restarted(CachedContent {
                signed_in_as: Some("ada@example.com".into()),
                form: Some(serde_json::to_string(&berlin_form()).unwrap()),
                quotes: Some(quotes),
                ..CachedContent::default()
            }))
            .unwrap();
        world
    }

    fn book(&mut self, class: VehicleClass) -> Result<RiderState, RiderError> {
        self.next_key += 1;
        let event = Event::BookTapped {
            class,
            signed_in: self.signed_in,
            idempotency_key: format!("key-{}", self.next_key),
            payment_method_id: None,
        };
        self.run(event)
    }

    fn refresh(&mut self) -> Result<RiderState, RiderError> {
        let event = Event::SyncRequested {
            signed_in: self.signed_in,
            outbox: self.outbox.clone(),
        };
        self.run(event)
    }

    fn run(&mut self, first: Event) -> Result<RiderState, RiderError> {
        let mut events = VecDeque::from([first]);
        while let Some(event) = events.pop_front() {
            let ctx = Context {
                catalog: &self.catalog,
                now: self.now,
            };
            let (next, effects) = update(&self.state, event, &ctx);
            for effect in effects {
                match effect {
                    Effect::Fail(e) => return Err(e),
                    Effect::Notify => {
                        self.state = RiderState {
                            revision: self.state.revision + 1,
                            ..next.clone()
                        };
                        self.notified += 1;
                    }
                    Effect::SaveIntent {
                        kind,
                        idempotency_key,
                        body,
                        shown,
                    } => {
                        self.outbox.push(OutboxEntry {
                            seq: self.outbox.len() as i64 + 1,
                            kind: kind.as_str().into(),
                            idempotency_key: idempotency_key.clone(),
                            booking_id: Some(shown.id.clone()),
                            body,
                            state: OutboxState::Pending,
                        });
                        self.bookings.push(shown.clone());
                        events.push_back(Event::IntentSaved {
                            kind,
                            idempotency_key,
                            shown,
                        });
                    }
                    Effect::SendOutbox {
                        idempotency_keys,
                        awaiting,
                    } => {
                        let confirmed = self.sync_round(&idempotency_keys);
                        events.push_back(self.lists());
                        if let Some(intent) = awaiting {
                            let entry = self
                                .outbox
                                .iter()
                                .find(|e| e.idempotency_key == intent.idempotency_key)
                                .unwrap();
                            let answer = match &entry.state {
                                OutboxState::Sent => OutboxAnswer::Booked(
                                    confirmed
                                        .iter()
                                        .find(|(k, _)| *k == intent.idempotency_key)
                                        .map(|(_, b)| b.clone()),
                                ),
                                OutboxState::Refused { .. } => {
                                    OutboxAnswer::Refused(refusal_of(entry).unwrap())
                                }
                                OutboxState::Pending => OutboxAnswer::NoNetwork,
                            };
                            events.push_back(Event::OutboxAnswered {
                                kind: intent.kind,
                                idempotency_key: intent.idempotency_key,
                                shown: intent.shown,
                                answer,
                            });
                        }
                    }
                    Effect::ForgetSpentQuotes => self.quotes_meta = Some("null".into()),
                    Effect::DismissRefused { seq } => {
                        let entry = self.outbox.iter().position(|e| e.seq == seq).unwrap();
                        let entry = self.outbox.remove(entry);
                        self.bookings
                            .retain(|b| Some(&b.id) != entry.booking_id.as_ref());
                    }
                    Effect::ReloadLists => events.push_back(self.lists()),
                }
            }
        }
        Ok(self.state.clone())
    }

    fn lists(&self) -> Event {
        Event::ListsLoaded {
            bookings: self.bookings.clone(),
            outbox: self.outbox.clone(),
        }
    }

    /// One sync round, as `sync_outbox` does it: the pending entries in order, stopping at
    /// the first that gets no answer.
    fn sync_round(&mut self, keys: &[String]) -> Vec<(String, CachedBooking)> {
        let mut confirmed = Vec::new();
        for entry in self
            .outbox
            .iter_mut()
            .filter(|e| e.state == OutboxState::Pending)
        {
            assert!(
                keys.contains(&entry.idempotency_key),
                "sent what it was told"
            );
            self.attempts.push(entry.idempotency_key.clone());
            match self.server.clone() {
                Server::Unreachable => break,
                Server::Books => {
                    entry.state = OutboxState::Sent;
                    self.applied.push(entry.idempotency_key.clone());
                    let booking = server_booking(
                        &format!("server-{}", entry.idempotency_key),
                        at("2026-12-08T13:30:00Z"),
                    );
                    // The placeholder gives way to the server's booking.
                    self.bookings
                        .retain(|b| Some(&b.id) != entry.booking_id.as_ref());
                    self.bookings.push(booking.clone());
                    confirmed.push((entry.idempotency_key.clone(), booking));
                }
                Server::Refuses {
                    status,
                    code,
                    detail,
                } => {
                    entry.state = OutboxState::Refused {
                        status: Some(status),
                        code: code.into(),
                        detail: detail.into(),
                    };
                }
            }
        }
        confirmed
    }
}

#[test]
fn booked_offline_it_waits_as_a_placeholder_and_the_servers_booking_replaces_it_once() {
    let now = at("2026-12-01T10:00:00Z");
    let mut world = World::with_quotes(now);
    assert_eq!(world.state.signed_in_as.as_deref(), Some("ada@example.com"));
    assert_eq!(world.state.quotes.len(), 3);

    // Offline: the intent is saved with its key and shown as waiting.
    let quoted = world.state.quotes[0].total.clone();
    let state = world.book(VehicleClass::Business).unwrap();
    let placeholder = state.confirmation.clone().unwrap();
    assert!(placeholder.pending_sync);
    assert_eq!(placeholder.id, "local-key-1");
    assert_eq!(placeholder.state, BookingState::Pending);
    assert_eq!(placeholder.class, VehicleClass::Business);
    assert_eq!(placeholder.price, quoted);
    assert_eq!(state.pending_sync, vec![placeholder.clone()]);
    assert!(state.upcoming.is_empty());
    assert_eq!(
        state.notice.as_deref(),
        Some("Saved on this phone; it will be booked when you are back online.")
    );
    assert_eq!(world.outbox.len(), 1);
    assert_eq!(world.outbox[0].idempotency_key, "key-1");
    assert!(world.applied.is_empty());

    // Back online: the same key goes, the server's booking takes the placeholder's place.
    world.server = Server::Books;
    let state = world.refresh().unwrap();
    assert!(state.pending_sync.is_empty());
    assert_eq!(state.upcoming.len(), 1);
    assert_eq!(state.upcoming[0].id, "server-key-1");
    assert!(!state.upcoming[0].pending_sync);
    assert_eq!(world.applied, ["key-1"]);
    assert!(world.attempts.iter().all(|key| key == "key-1"));

    // Nothing waits any more: another refresh sends nothing.
    let attempts = world.attempts.len();
    world.refresh().unwrap();
    assert_eq!(world.attempts.len(), attempts);
    assert_eq!(world.applied, ["key-1"], "applied exactly once");
}

#[test]
fn booked_online_the_confirmation_is_the_servers_and_the_quotes_are_spent() {
    let now = at("2026-12-01T10:00:00Z");
    let mut world = World::with_quotes(now);
    world.server = Server::Books;
    let state = world.book(VehicleClass::Business).unwrap();
    let confirmation = state.confirmation.clone().unwrap();
    assert_eq!(confirmation.id, "server-key-1");
    assert!(!confirmation.pending_sync);
    assert_eq!(state.upcoming, vec![confirmation]);
    assert!(state.quotes.is_empty() && state.notice.is_none());
    assert_eq!(world.quotes_meta.as_deref(), Some("null"));
    assert_eq!(world.applied, ["key-1"]);
}

#[test]
fn a_quote_that_expired_offline_is_refused_explained_and_dismissed() {
    let now = at("2026-12-01T10:00:00Z");
    let mut world = World::with_quotes(now);
    world.book(VehicleClass::Business).unwrap();
    assert_eq!(world.state.pending_sync.len(), 1);

    // Back online too late: the server refuses the replay.
    world.now = now + Duration::hours(2);
    world.server = Server::Refuses {
        status: 422,
        code: "quote_expired",
        detail: "the quote expired",
    };
    let state = world.refresh().unwrap();
    assert!(state.pending_sync.is_empty(), "no longer shown as waiting");
    assert!(state.upcoming.is_empty(), "never shown as booked");
    assert_eq!(state.refused.len(), 1);
    let refusal = state.refused[0].clone();
    assert_eq!(refusal.kind, IntentKind::CreateBooking);
    assert_eq!(refusal.code, "quote_expired");
    assert_eq!(refusal.status, Some(422));
    assert_eq!(
        refusal.explanation,
        "Your booking was not made: the price you were quoted has expired; ask for a new quote \
         and book again."
    );
    assert!(world.applied.is_empty());

    // Read: it goes, with its placeholder.
    let state = world
        .run(Event::RefusalDismissed { seq: refusal.seq })
        .unwrap();
    assert!(state.refused.is_empty() && state.pending_sync.is_empty());
    assert!(world.outbox.is_empty() && world.bookings.is_empty());
}

#[test]
fn booking_is_refused_before_any_intent_when_it_cannot_be_made() {
    let now = at("2026-12-01T10:00:00Z");
    let mut world = World::with_quotes(now);
    world.signed_in = false;
    assert_eq!(
        world.book(VehicleClass::Business).unwrap_err(),
        RiderError::NotSignedIn
    );
    world.signed_in = true;
    world.now = now + Duration::hours(2);
    assert_eq!(
        world.book(VehicleClass::Business).unwrap_err(),
        RiderError::QuoteExpired
    );
    assert!(world.outbox.is_empty() && world.attempts.is_empty());
}

#[test]
fn a_restart_rebuilds_the_rider_the_form_and_the_quotes_still_valid() {
    let now = at("2026-12-01T10:00:00Z");
    let catalog = Catalog::shipped().unwrap();
    let content = CachedContent {
        signed_in_as: Some("ada@example.com".into()),
        form: Some(serde_json::to_string(&berlin_form()).unwrap()),
        quotes: Some(served_quotes(&catalog, now)),
        bookings: vec![server_booking("b-1", at("2026-12-08T13:30:00Z"))],
        outbox: Vec::new(),
    };
    let restart = |content: CachedContent, now| {
        let ctx = Context {
            catalog: &catalog,
            now,
        };
        let (state, effects) = update(&RiderState::default(), Event::Restarted(content), &ctx);
        assert_eq!(effects, [Effect::Notify]);
        state
    };

    let state = restart(content.clone(), now + Duration::minutes(1));
    assert_eq!(state.signed_in_as.as_deref(), Some("ada@example.com"));
    assert_eq!(state.form, berlin_form());
    let classes: Vec<VehicleClass> = state.quotes.iter().map(|q| q.class).collect();
    assert_eq!(
        classes,
        [
            VehicleClass::Business,
            VehicleClass::First,
            VehicleClass::Van
        ]
    );
    assert!(state
        .quotes
        .iter()
        .all(|q| !q.estimate && q.quote_token.is_some()));
    assert_eq!(state.upcoming.len(), 1);

    // Quotes past their validity are gone; the form stays.
    let state = restart(content.clone(), now + Duration::days(1));
    assert!(state.quotes.is_empty());
    assert_eq!(state.form, berlin_form());

    // Quotes spent on a booking do not come back.
    let spent = CachedContent {
        quotes: Some("null".into()),
        ..content.clone()
    };
    let state = restart(spent, now + Duration::minutes(1));
    assert!(state.quotes.is_empty());
    assert_eq!(state.form, berlin_form());

    // Nobody signed in: an empty form for one passenger.
    let state = restart(
        CachedContent {
            signed_in_as: Some(String::new()),
            ..CachedContent::default()
        },
        now,
    );
    assert_eq!(state.signed_in_as, None);
    assert_eq!(state.form.passengers, 1);
}
