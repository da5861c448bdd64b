//! One conformance suite for the storage interface, run against both backends: whatever the
//! API relies on behaves the same on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use chauffeur_core::booking::{Actor, BookingState};
use chauffeur_core::catalog::VehicleClass;
use chauffeur_core::fare::{ProductKind, Quote, QuoteRequest};
use chauffeur_core::{Catalog, EstimatedRouter};
use chauffeur_server::store::{
    Accepted, Booking, BookingsOf, ChauffeurAccount, Created, ExportedBooking, IdempotentCreate,
    NewUser, OfferState, Personal, Role, Store, StoreError, Transition, Vehicle,
};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use common::{backends, Backend, TempDir};
use uuid::Uuid;

async fn fresh_store(backend: Backend, dir: &TempDir) -> Store {
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.0.join("store.db").display()),
        Backend::Postgres => {
            let admin = std::env::var("CHAUFFEUR_TEST_POSTGRES_URL").unwrap();
            let name = format!("s_{}", Uuid::now_v7().simple());
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap();
            format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
        }
    };
    let store = Store::connect(&url).await.unwrap();
    assert_eq!(store.migrate().await.unwrap(), vec![1, 2, 3, 4, 5, 6, 7]);
    assert!(
        store.migrate().await.unwrap().is_empty(),
        "migrations apply once"
    );
    store
}

fn each_backend<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for backend in backends() {
        let dir = TempDir::new("chauffeur-store");
        runtime.block_on(async {
            let store = fresh_store(backend, &dir).await;
            test(store).await;
        });
    }
}

fn now() -> DateTime<Utc> {
    // Microsecond precision: what both databases keep.
    Utc::now().trunc_subsecs(6)
}

async fn user(store: &Store, email: &str) -> chauffeur_server::store::User {
    store
        .create_user(
            &NewUser {
                email,
                password_hash: "x",
                role: Role::Rider,
                name: Some("N"),
                phone: None,
            },
            now(),
        )
        .await
        .unwrap()
}

/// A real quote (the store decodes the quote it reads): a Berlin transfer three days after `at`.
fn sample_quote(at: DateTime<Utc>) -> Quote {
    let request: QuoteRequest = serde_json::from_value(serde_json::json!({
        "city_id": "berlin",
        "pickup": {"lat": 52.5163, "lon": 13.3777},
        "product": {"type": "transfer", "dropoff": {"lat": 52.5219, "lon": 13.4132}},
        "pickup_time": {"kind": "instant", "at": (at + Duration::days(3)).to_rfc3339()},
        "passengers": 2,
        "bags": 1
    }))
    .unwrap();
    chauffeur_core::fare::quote(
        &Catalog::shipped().unwrap(),
        &EstimatedRouter,
        &request,
        VehicleClass::Business,
        at,
    )
    .unwrap()
}

/// A rider's bookings, as the rider's list reads them.
async fn rider_bookings(store: &Store, rider: Uuid) -> Vec<(Booking, Personal)> {
    store
        .all_bookings_with_personal(BookingsOf::Rider(rider))
        .await
        .unwrap()
}

fn booking(rider: Uuid, at: DateTime<Utc>) -> Booking {
    Booking {
        id: Uuid::now_v7(),
        rider_id: rider,
        city_id: "berlin".into(),
        state: BookingState::Pending,
        vehicle_class: VehicleClass::Business,
        product: ProductKind::Transfer,
        pickup_at: at + Duration::days(3),
        price_minor: 9_300,
        currency: "EUR".into(),
        quote: sample_quote(at),
        child_seats: 0,
        cancellation_fee_minor: None,
        partner_id: None,
        chauffeur_id: None,
        vehicle_id: None,
        receipt: None,
        final_price_minor: None,
        payment: None,
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

#[test]
fn users_are_unique_by_email_and_round_trip() {
    each_backend(|store| async move {
        let created = user(&store, "a@example.com").await;
        assert!(matches!(
            store
                .create_user(
                    &NewUser {
                        email: "a@example.com",
                        password_hash: "y",
                        role: Role::Rider,
                        name: None,
                        phone: None
                    },
                    now()
                )
                .await,
            Err(StoreError::Conflict(_))
        ));
        let found = store.credentials("a@example.com").await.unwrap().unwrap();
        assert_eq!(found.user, created);
        assert_eq!(found.password_hash, "x");
        assert_eq!(store.user(created.id).await.unwrap().unwrap(), created);
        assert!(store.credentials("b@example.com").await.unwrap().is_none());
    });
}

#[test]
fn sessions_expire_and_revoke() {
    each_backend(|store| async move {
        let u = user(&store, "s@example.com").await;
        let t = now();
        store
            .create_session("h1", u.id, t, t + Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(store.session_user("h1", t).await.unwrap().unwrap().id, u.id);
        assert!(
            store
                .session_user("h1", t + Duration::hours(2))
                .await
                .unwrap()
                .is_none(),
            "expired"
        );
        store.revoke_session("h1", t).await.unwrap();
        assert!(
            store.session_user("h1", t).await.unwrap().is_none(),
            "revoked"
        );
        assert!(store.session_user("nope", t).await.unwrap().is_none());
    });
}

#[test]
fn attempt_counters_number_attempts_within_the_window_and_start_again_after_it() {
    each_backend(|store| async move {
        let t = now();
        let window = Duration::minutes(15);
        let count = |at: DateTime<Utc>, scopes: &'static [&'static str]| {
            let store = store.clone();
            async move { store.count_attempt(scopes, at, at - window).await.unwrap() }
        };
        let old = count(t - Duration::hours(1), &["pair:x", "address:1"]).await;
        assert_eq!(old[0].attempts, 1);
        // An hour later the window has passed: numbering starts again, no previous attempt.
        let first = count(t, &["pair:x", "address:1"]).await;
        assert_eq!((first[0].attempts, first[0].previous_at), (1, None));
        let second = count(t + Duration::seconds(3), &["pair:x"]).await;
        assert_eq!((second[0].attempts, second[0].previous_at), (2, Some(t)));
        store.forgive_attempt(&["address:1"]).await.unwrap();
        store.forget_attempts("pair:x").await.unwrap();
        let after = count(t + Duration::seconds(4), &["pair:x", "address:1"]).await;
        assert_eq!(after[0].attempts, 1, "forgotten");
        assert_eq!(after[1].attempts, 1, "one attempt forgiven of two");
    });
}

#[test]
fn racing_attempts_each_get_their_own_number() {
    each_backend(|store| async move {
        let t = now();
        let tasks: Vec<_> = (0..24)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .count_attempt(&["pair:race", "address:race"], t, t - Duration::minutes(15))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut numbers = Vec::new();
        for task in tasks {
            let counted = task.await.unwrap();
            assert_eq!(counted[0].attempts, counted[1].attempts);
            numbers.push(counted[0].attempts);
        }
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=24).collect::<Vec<i64>>());
    });
}

async fn create(
    store: &Store,
    user: Uuid,
    key: &str,
    hash: &str,
    b: &Booking,
    p: &Personal,
) -> Created {
    let request = IdempotentCreate {
        user_id: user,
        key,
        request_hash: hash,
        response_status: 201,
        response_body: "{\"id\":1}",
        payment_attempt: None,
    };
    store
        .create_booking_idempotent(&request, b, p)
        .await
        .unwrap()
}

#[test]
fn idempotency_keys_create_once_then_replay_or_refuse() {
    each_backend(|store| async move {
        let u = user(&store, "i@example.com").await;
        let t = now();
        let first = booking(u.id, t);
        assert_eq!(
            create(&store, u.id, "k", "hash-a", &first, &Personal::default()).await,
            Created::Created
        );
        let second = booking(u.id, t);
        assert_eq!(
            create(&store, u.id, "k", "hash-a", &second, &Personal::default()).await,
            Created::Replay {
                status: 201,
                body: "{\"id\":1}".into()
            }
        );
        assert_eq!(
            create(&store, u.id, "k", "hash-b", &second, &Personal::default()).await,
            Created::Mismatch
        );
        assert!(
            store.booking(second.id).await.unwrap().is_none(),
            "a replay creates nothing"
        );
        assert_eq!(rider_bookings(&store, u.id).await.len(), 1);
        // Keys are per rider.
        let other = user(&store, "j@example.com").await;
        assert_eq!(
            create(
                &store,
                other.id,
                "k",
                "hash-a",
                &booking(other.id, t),
                &Personal::default()
            )
            .await,
            Created::Created
        );
    });
}

#[test]
fn racing_creates_with_one_key_make_exactly_one_booking() {
    each_backend(|store| async move {
        let u = user(&store, "race@example.com").await;
        let t = now();
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    let b = booking(u.id, t);
                    create(&store, u.id, "race", "same-body", &b, &Personal::default()).await
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        assert_eq!(
            outcomes.iter().filter(|o| **o == Created::Created).count(),
            1,
            "{outcomes:?}"
        );
        assert!(outcomes.iter().all(|o| matches!(
            o,
            Created::Created | Created::Replay { .. } | Created::InProgress
        )));
        assert_eq!(rider_bookings(&store, u.id).await.len(), 1);
    });
}

#[test]
fn bookings_round_trip_and_transitions_need_the_current_version() {
    each_backend(|store| async move {
        let u = user(&store, "b@example.com").await;
        let t = now();
        let b = booking(u.id, t);
        let personal = Personal {
            passenger_name: Some("Guest".into()),
            passenger_phone: None,
            flight_number: Some("LH2031".into()),
            notes: None,
        };
        assert_eq!(
            create(&store, u.id, "k", "h", &b, &personal).await,
            Created::Created
        );
        let (stored, stored_personal) = store.booking(b.id).await.unwrap().unwrap();
        assert_eq!(stored, b);
        assert_eq!(stored_personal, personal);
        assert_eq!(
            rider_bookings(&store, u.id).await,
            vec![(b.clone(), personal.clone())]
        );

        let cancel = |version| Transition {
            expected_version: version,
            cancellation_fee_minor: Some(0),
            ..Transition::new(&b, BookingState::Cancelled, Actor::Rider, Some(u.id), t)
        };
        assert!(
            matches!(store.transition(&cancel(7)).await, Err(StoreError::Stale)),
            "stale version refused"
        );
        let after = store.transition(&cancel(1)).await.unwrap();
        assert_eq!(
            (after.state, after.version, after.cancellation_fee_minor),
            (BookingState::Cancelled, 2, Some(0))
        );
        assert!(
            matches!(store.transition(&cancel(1)).await, Err(StoreError::Stale)),
            "only one of two racing changes wins"
        );
        let history = store.history(b.id).await.unwrap();
        assert_eq!(
            history.iter().map(|h| h.version).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(history[1].from_state, Some(BookingState::Pending));
        assert_eq!(history[1].snapshot["state"], "cancelled");
        // Snapshots hold the booking as JSON, the quote as the rider was quoted; entries
        // serialise their actor and states by name.
        assert_eq!(history[1].snapshot, serde_json::to_value(&after).unwrap());
        assert_eq!(
            history[0].snapshot["quote"],
            serde_json::to_value(&b.quote).unwrap()
        );
        let entry = serde_json::to_value(&history[1]).unwrap();
        assert_eq!(
            (&entry["actor"], &entry["from_state"], &entry["to_state"]),
            (
                &serde_json::json!("rider"),
                &serde_json::json!("pending"),
                &serde_json::json!("cancelled")
            )
        );
    });
}

#[test]
fn erasing_a_user_keeps_bookings_without_personal_data() {
    each_backend(|store| async move {
        let u = user(&store, "e@example.com").await;
        let t = now();
        let b = booking(u.id, t);
        let personal = Personal {
            passenger_name: Some("P".into()),
            passenger_phone: Some("+1 555 0100".into()),
            flight_number: None,
            notes: Some("n".into()),
        };
        assert_eq!(
            create(&store, u.id, "k", "h", &b, &personal).await,
            Created::Created
        );
        store
            .create_session("tok", u.id, t, t + Duration::days(1))
            .await
            .unwrap();
        // Not while a booking is still ahead: the API cancels it (or refuses) first.
        assert!(matches!(
            store.erase_user(u.id, t).await,
            Err(StoreError::Stale)
        ));
        let (pending, _) = store.booking(b.id).await.unwrap().unwrap();
        store
            .transition(&Transition::new(
                &pending,
                BookingState::Cancelled,
                Actor::Rider,
                Some(u.id),
                t,
            ))
            .await
            .unwrap();
        store.erase_user(u.id, t).await.unwrap();
        assert!(store.session_user("tok", t).await.unwrap().is_none());
        assert!(store.credentials("e@example.com").await.unwrap().is_none());
        let erased = store.user(u.id).await.unwrap().unwrap();
        assert!(erased.erased_at.is_some() && erased.name.is_none());
        let (kept, personal) = store.booking(b.id).await.unwrap().unwrap();
        assert_eq!(kept.price_minor, 9_300);
        assert_eq!(personal, Personal::default());
    });
}

#[test]
fn a_failed_creation_does_not_undo_the_others_committed_with_it() {
    each_backend(|store| async move {
        let u = user(&store, "group@example.com").await;
        let t = now();
        let ghost = Uuid::now_v7(); // no such user: its booking breaks a foreign key
        let tasks: Vec<_> = (0..24)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let rider = if i == 7 { ghost } else { u.id };
                    let b = booking(rider, t);
                    let request = IdempotentCreate {
                        user_id: rider,
                        key: &format!("k{i}"),
                        request_hash: "h",
                        response_status: 201,
                        response_body: "{}",
                        payment_attempt: None,
                    };
                    store
                        .create_booking_idempotent(&request, &b, &Personal::default())
                        .await
                })
            })
            .collect();
        let mut created = 0;
        let mut failed = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(Created::Created) => created += 1,
                Ok(other) => panic!("unexpected {other:?}"),
                Err(_) => failed += 1,
            }
        }
        assert_eq!((created, failed), (23, 1));
        assert_eq!(
            rider_bookings(&store, u.id).await.len(),
            23,
            "every acknowledged booking is there"
        );
    });
}

/// A partner with one chauffeur account and one vehicle: (partner, chauffeur, vehicle).
async fn partner_with_chauffeur(store: &Store) -> (Uuid, Uuid, Uuid) {
    let partner = store
        .create_partner(
            "Limos",
            &["berlin".to_owned()],
            &[VehicleClass::Business],
            now(),
        )
        .await
        .unwrap();
    let chauffeur = store
        .create_user(
            &NewUser {
                email: "driver@example.com",
                password_hash: "x",
                role: Role::Chauffeur,
                name: Some("D"),
                phone: None,
            },
            now(),
        )
        .await
        .unwrap();
    store
        .add_partner_member(chauffeur.id, partner)
        .await
        .unwrap();
    let vehicle = store
        .add_vehicle(partner, VehicleClass::Business, "B-CH 1", 3, 3)
        .await
        .unwrap();
    (partner, chauffeur.id, vehicle)
}

#[test]
fn bookings_with_personal_match_reading_each_booking() {
    each_backend(|store| async move {
        let u = user(&store, "list@example.com").await;
        let t = now();
        let mut ids = Vec::new();
        for i in 0..3_i64 {
            let mut b = booking(u.id, t);
            b.pickup_at += Duration::hours(i);
            let personal = if i == 1 {
                Personal::default()
            } else {
                Personal {
                    passenger_name: Some(format!("Guest {i}")),
                    passenger_phone: None,
                    flight_number: Some("LH2031".into()),
                    notes: None,
                }
            };
            let key = format!("k{i}");
            assert_eq!(
                create(&store, u.id, &key, "h", &b, &personal).await,
                Created::Created
            );
            ids.push(b.id);
        }
        // One ride accepted by a partner's dispatcher, one by a chauffeur on demand.
        let (partner, chauffeur, vehicle) = partner_with_chauffeur(&store).await;
        let expires = t + Duration::minutes(5);
        let offers = store
            .insert_offers(ids[0], &[partner], 1, t, expires)
            .await
            .unwrap();
        assert!(matches!(
            store
                .accept_offer(offers[0].id, partner, chauffeur, t)
                .await
                .unwrap(),
            Accepted::Won(_)
        ));
        assert_eq!(
            store
                .accept_offer(offers[0].id, partner, chauffeur, t)
                .await
                .unwrap(),
            Accepted::Closed(OfferState::Accepted),
            "an answered offer is closed"
        );
        let fleet_vehicle = Vehicle {
            id: vehicle,
            class: VehicleClass::Business,
            plate: "B-CH 1".into(),
            seats: 3,
            bags: 3,
            active: true,
        };
        assert_eq!(
            store.vehicle_of(partner, vehicle).await.unwrap(),
            Some(fleet_vehicle.clone())
        );
        assert_eq!(
            store.partner_vehicles(partner).await.unwrap(),
            vec![fleet_vehicle]
        );
        assert_eq!(
            store.partner_chauffeurs(partner).await.unwrap(),
            vec![ChauffeurAccount {
                id: chauffeur,
                name: Some("D".into()),
                email: "driver@example.com".into(),
            }]
        );
        assert!(store
            .insert_chauffeur_offer(ids[2], partner, chauffeur, vehicle, 1, t, expires)
            .await
            .unwrap());
        let offer = store.offers_of_booking(ids[2]).await.unwrap()[0].clone();
        let busy = (
            t + Duration::days(3),
            t + Duration::days(3) + Duration::hours(1),
        );
        assert!(matches!(
            store
                .accept_chauffeur_offer(offer.id, chauffeur, t, busy)
                .await
                .unwrap(),
            Accepted::Won(_)
        ));

        async fn each_read_again(store: &Store, ids: &[Uuid]) -> Vec<(Booking, Personal)> {
            let mut out = Vec::new();
            for id in ids {
                out.push(store.booking(*id).await.unwrap().unwrap());
            }
            out
        }
        let of_rider = store
            .all_bookings_with_personal(BookingsOf::Rider(u.id))
            .await
            .unwrap();
        assert_eq!(of_rider.len(), 3);
        assert_eq!(
            of_rider,
            // Latest pickup first.
            each_read_again(&store, &[ids[2], ids[1], ids[0]]).await
        );
        let of_partner = store
            .all_bookings_with_personal(BookingsOf::Partner(partner))
            .await
            .unwrap();
        assert_eq!(of_partner.len(), 2);
        assert_eq!(
            of_partner,
            // Soonest pickup first.
            each_read_again(&store, &[ids[0], ids[2]]).await
        );
        let of_chauffeur = store
            .all_bookings_with_personal(BookingsOf::Chauffeur(chauffeur))
            .await
            .unwrap();
        assert_eq!(of_chauffeur.len(), 1);
        assert_eq!(of_chauffeur, each_read_again(&store, &[ids[2]]).await);
        assert!(store
            .all_bookings_with_personal(BookingsOf::Rider(Uuid::now_v7()))
            .await
            .unwrap()
            .is_empty());
    });
}

/// Pages follow each other with no booking lost or repeated, also where many bookings share
/// one pickup time (the id breaks the tie the same way on both backends).
#[test]
fn pages_of_bookings_cover_the_list_exactly_once_even_with_equal_pickup_times() {
    each_backend(|store| async move {
        let u = user(&store, "pages@example.com").await;
        let t = now();
        let mut made = Vec::new();
        for i in 0..11 {
            // Three pickup times, several bookings each.
            let mut b = booking(u.id, t + Duration::hours(i % 3));
            b.id = Uuid::now_v7();
            assert_eq!(
                create(
                    &store,
                    u.id,
                    &format!("p{i}"),
                    "h",
                    &b,
                    &Personal::default()
                )
                .await,
                Created::Created
            );
            made.push(b.id);
        }
        let all = rider_bookings(&store, u.id).await;
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .bookings_with_personal(BookingsOf::Rider(u.id), after, 4)
                .await
                .unwrap();
            let Some((last, _)) = page.last() else { break };
            after = Some((last.pickup_at, last.id));
            paged.extend(page.into_iter().map(|(b, _)| b.id));
        }
        assert_eq!(paged, all.iter().map(|(b, _)| b.id).collect::<Vec<_>>());
        made.sort();
        paged.sort();
        assert_eq!(paged, made);
    });
}

/// Invoice numbers under concurrency: one number per booking however often it is asked for,
/// and distinct, consecutive numbers for different bookings (no gap, no repeat).
#[test]
fn racing_invoice_issues_number_each_booking_once_and_without_gaps() {
    each_backend(|store| async move {
        let u = user(&store, "invoices@example.com").await;
        let t = now();
        let mut ids = Vec::new();
        for i in 0..6 {
            let b = booking(u.id, t);
            assert_eq!(
                create(
                    &store,
                    u.id,
                    &format!("i{i}"),
                    "h",
                    &b,
                    &Personal::default()
                )
                .await,
                Created::Created
            );
            ids.push(b.id);
        }
        let tasks: Vec<_> = ids
            .iter()
            .flat_map(|id| [*id; 3])
            .map(|id| {
                let store = store.clone();
                tokio::spawn(async move {
                    let doc = serde_json::json!({"booking": id.to_string()});
                    let issued = store.issue_invoice(id, "CH", t, &doc).await.unwrap();
                    (id, issued.sequence)
                })
            })
            .collect();
        let mut by_booking = std::collections::HashMap::new();
        for task in tasks {
            let (id, sequence) = task.await.unwrap();
            let first = *by_booking.entry(id).or_insert(sequence);
            assert_eq!(first, sequence, "one number per booking");
        }
        let mut numbers: Vec<i64> = by_booking.values().copied().collect();
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=6).collect::<Vec<i64>>());
        // Another issuer has its own sequence.
        let other = store
            .issue_invoice(Uuid::now_v7(), "XY", t, &serde_json::json!({}))
            .await;
        assert!(other.is_err(), "an invoice needs its booking");
        let issued = store.invoice(ids[0]).await.unwrap().unwrap();
        assert_eq!(issued.document["booking"], ids[0].to_string());
    });
}

#[test]
fn the_export_holds_each_booking_with_its_personal_data_and_history() {
    each_backend(|store| async move {
        let u = user(&store, "export@example.com").await;
        let other = user(&store, "other@example.com").await;
        let t = now();
        let mut expected = Vec::new();
        for i in 0..2_i64 {
            let mut b = booking(u.id, t);
            b.pickup_at += Duration::hours(i);
            let personal = Personal {
                notes: Some(format!("note {i}")),
                ..Personal::default()
            };
            let key = format!("k{i}");
            assert_eq!(
                create(&store, u.id, &key, "h", &b, &personal).await,
                Created::Created
            );
            expected.push(b);
        }
        store
            .transition(&Transition::new(
                &expected[0],
                BookingState::Cancelled,
                Actor::Rider,
                Some(u.id),
                t,
            ))
            .await
            .unwrap();
        let theirs = booking(other.id, t);
        assert_eq!(
            create(&store, other.id, "k", "h", &theirs, &Personal::default()).await,
            Created::Created
        );

        let export = store.export(u.clone()).await.unwrap();
        assert_eq!(export.user, u);
        let mut composed = Vec::new();
        // Latest pickup first.
        for b in [&expected[1], &expected[0]] {
            let (booking, personal) = store.booking(b.id).await.unwrap().unwrap();
            let history = store.history(b.id).await.unwrap();
            composed.push((booking, personal, history));
        }
        let exported: Vec<_> = export
            .bookings
            .into_iter()
            .map(
                |ExportedBooking {
                     booking,
                     personal,
                     history,
                 }| (booking, personal, history),
            )
            .collect();
        assert_eq!(exported, composed);
        assert_eq!(exported.len(), 2, "only the user's own bookings");
        let cancelled = exported.iter().find(|e| e.0.id == expected[0].id).unwrap();
        assert_eq!(
            cancelled.2.len(),
            2,
            "both versions of the cancelled booking"
        );
    });
}
