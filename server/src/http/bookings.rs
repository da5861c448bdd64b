//! A rider's bookings: book a quote (idempotently), list, read, history, and the two-step
//! cancellation.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chauffeur_core::booking::Actor;
use chauffeur_core::catalog::{CancellationPolicy, PickupPlace};
use chauffeur_core::fare::FareLineKind;
use chauffeur_core::payment::PaymentStatus;
use chauffeur_core::wire::{
    BookingList, BookingView, CancelRequest, CancellationView, CreateBookingRequest,
    HistoryEntryView, HistoryView, LineView, PassengerView, PaymentView, ReceiptView, RouteView,
};
use chauffeur_core::{
    cancellation_fee, confirm_cancellation, transition, BookingState, Currency, Money,
};
use chrono::{DateTime, Utc};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::http::accounts::{check_phone, optional_text};
use crate::http::extract::{ApiJson, Authenticated, HashedJson, IdPath};
use crate::http::idempotency::{self, IdempotencyKey, InFlight};
use crate::http::paging::{PageParams, Paging};
use crate::state::AppState;
use crate::store::{self, Booking, Created, HistoryEntry, IdempotentCreate, Personal, User};
use crate::tokens::TokenError;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_booking, list_bookings))
        .routes(routes!(get_booking))
        .routes(routes!(booking_receipt))
        .routes(routes!(booking_history))
        .routes(routes!(cancellation_preview))
        .routes(routes!(cancel_booking))
}

pub(super) fn currency_of(booking: &Booking) -> Result<Currency, ApiError> {
    Currency::from_code(&booking.currency).map_err(|e| {
        tracing::error!(error = %e, booking = %booking.id, "stored booking has an unknown currency");
        ApiError::internal()
    })
}

/// The receipt of a booking that costs something in the end: a completed ride (quote and
/// extras) or a cancellation with a fee. None while the ride is ahead or when it is free.
pub(super) fn receipt_of(booking: &Booking) -> Result<Option<ReceiptView>, ApiError> {
    let quote = &booking.quote;
    if let Some(receipt) = &booking.receipt {
        return Ok(Some(ReceiptView::new(quote, receipt)));
    }
    match booking.cancellation_fee_minor {
        Some(fee) if fee > 0 && booking.state == BookingState::Cancelled => {
            let fee = Money::new(fee, currency_of(booking)?);
            let receipt = chauffeur_core::fare::cancellation_receipt(quote, fee).map_err(|e| {
                tracing::error!(error = %e, booking = %booking.id, "cancellation receipt");
                ApiError::internal()
            })?;
            Ok(Some(ReceiptView::new(quote, &receipt)))
        }
        _ => Ok(None),
    }
}

pub(super) fn booking_view(
    booking: &Booking,
    personal: &Personal,
) -> Result<BookingView, ApiError> {
    let currency = currency_of(booking)?;
    let quote = &booking.quote;
    let receipt = receipt_of(booking)?;
    Ok(BookingView {
        id: booking.id,
        state: booking.state,
        city_id: booking.city_id.clone(),
        class: booking.vehicle_class,
        product: booking.product,
        pickup_at: booking.pickup_at,
        pickup_local: Some(quote.pickup.local),
        price: Money::new(booking.price_minor, currency).into(),
        lines: quote.fare.lines.iter().map(LineView::from).collect(),
        net: quote.fare.net.into(),
        vat: quote.fare.vat.into(),
        vat_rate_bp: quote.fare.vat_rate_bp,
        route: RouteView::of(quote),
        passenger: PassengerView {
            name: personal.passenger_name.clone(),
            phone: personal.passenger_phone.clone(),
        },
        flight_number: personal.flight_number.clone(),
        notes: personal.notes.clone(),
        child_seats: booking.child_seats,
        cancellation_fee: booking
            .cancellation_fee_minor
            .map(|fee| Money::new(fee, currency).into()),
        final_price: receipt.as_ref().map(|r| r.total.clone()),
        receipt,
        payment: booking
            .payment
            .as_ref()
            .map(|p| PaymentView::of(p, currency)),
        version: booking.version,
        created_at: booking.created_at,
        updated_at: booking.updated_at,
    })
}

/// A payment method id as the provider's SDK makes them (`pm_…`): never card data.
fn check_payment_method(raw: &str) -> Result<String, ApiError> {
    let id = raw.trim();
    let ok = id.len() <= 255
        && id.starts_with("pm_")
        && id.len() > 3
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(id.to_owned())
    } else {
        Err(ApiError::unprocessable(
            "payment_method_invalid",
            "payment_method_id is the id the payment SDK gave for the card (pm_…), never card details",
        )
        .with_field("payment_method_id"))
    }
}

fn check_flight_number(raw: &str) -> Result<String, ApiError> {
    let flight: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let (airline, number) = flight.split_at(flight.len().min(2));
    let ok = flight.len() <= 8
        && airline.len() == 2
        && airline.chars().all(|c| c.is_ascii_alphanumeric())
        && !number.is_empty()
        && number.chars().take_while(char::is_ascii_digit).count() >= 1
        && number.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(flight)
    } else {
        Err(ApiError::unprocessable(
            "invalid_flight_number",
            "give the flight number as airline code and number, e.g. LH 2031",
        ))
    }
}

/// Book a quote. Needs a session and an `Idempotency-Key`: the same key and body replay the
/// first answer; the same key with another body is 422; a key still in use is 409.
#[utoipa::path(post, path = "/v1/bookings", tag = "bookings", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Unique per booking attempt, e.g. a UUID")),
    request_body = CreateBookingRequest,
    responses(
        (status = 201, description = "Booked (Location names it); a replay answers the first answer again with Idempotent-Replayed: true", body = BookingView),
        (status = 400, description = "Missing or invalid Idempotency-Key, or malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The first request with this key is still running (idempotency_key_in_use)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large (body_too_large)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not sent as application/json (unsupported_media_type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid, tampered or expired quote; invalid body; key reused with another body", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_booking(
    State(state): State<AppState>,
    auth: Authenticated,
    IdempotencyKey(key): IdempotencyKey,
    HashedJson {
        value: request,
        hash: request_hash,
    }: HashedJson<CreateBookingRequest>,
) -> Result<Response, ApiError> {
    let now = state.now();
    let quote = state
        .signer
        .verify(request.quote_token.trim())
        .and_then(|(claim, class)| claim.reprice(&state.catalog, class))
        .map_err(|e| match e {
            TokenError::CatalogChanged => ApiError::unprocessable(
                "quote_expired",
                "prices were updated since this quote; ask for a new one",
            ),
            TokenError::Malformed | TokenError::BadSignature | TokenError::Inconsistent => {
                ApiError::unprocessable("quote_invalid", "the quote token is not one we issued")
            }
        })?;
    if !quote.is_valid_at(now) {
        return Err(ApiError::unprocessable(
            "quote_expired",
            format!(
                "the quote expired at {}; ask for a new one",
                quote.valid_until
            ),
        ));
    }
    let quoted_seats = quote
        .fare
        .line(FareLineKind::ChildSeats)
        .map_or(0, |l| l.quantity);
    if let Some(seats) = request.child_seats {
        if u64::from(seats) != quoted_seats {
            return Err(ApiError::unprocessable(
                "child_seats_mismatch",
                format!(
                    "the quote was priced with {quoted_seats} child seats; ask for a new quote"
                ),
            ));
        }
    }
    let flight_number = match (&quote.pickup_place, request.flight_number.as_deref()) {
        (PickupPlace::Airport { iata }, None) => {
            return Err(ApiError::unprocessable(
                "flight_number_required",
                format!(
                "the pickup is at {iata}: give the flight number so the chauffeur can follow it"
            ),
            ))
        }
        (_, Some(raw)) => Some(check_flight_number(raw)?),
        (_, None) => None,
    };
    let notes = optional_text(request.notes, "notes", 500)?;
    let (passenger_name, passenger_phone) = match request.passenger {
        Some(p) => {
            let name = optional_text(Some(p.name), "passenger.name", 100)?.ok_or_else(|| {
                ApiError::unprocessable("invalid_body", "passenger.name is empty")
            })?;
            check_phone(p.phone.trim())?;
            (Some(name), Some(p.phone.trim().to_owned()))
        }
        None => (auth.user.name.clone(), auth.user.phone.clone()),
    };

    let payment_method = match (&state.payments, request.payment_method_id.as_deref()) {
        (Some(_), None) => {
            return Err(ApiError::unprocessable(
                "payment_method_required",
                "add a card to book: the fare is held on it and taken after the ride",
            )
            .with_field("payment_method_id"))
        }
        (Some(_), Some(raw)) => Some(check_payment_method(raw)?),
        (None, _) => None,
    };

    // Concurrent duplicates within this process answer 409 at once; across replicas the
    // store's transaction-scoped lock does the same.
    let Some(_in_flight) = InFlight::enter(&state.in_flight, auth.user.id, &key) else {
        return Err(idempotency::key_in_use());
    };
    // A retry of a request already answered gets its first answer, without asking the card
    // provider again.
    if state.payments.is_some() {
        if let Some((hash, status, body)) = state.store.stored_answer(auth.user.id, &key).await? {
            if hash != request_hash {
                return Err(ApiError::unprocessable(
                    "idempotency_key_reused",
                    "this Idempotency-Key was used with a different request body",
                ));
            }
            return Ok(idempotency::replay(status, body));
        }
    }
    let price_minor = quote.total().amount_minor;
    let currency = quote.total().currency.code().to_owned();
    let authorized = match (&state.payments, &payment_method) {
        (Some(payments), Some(method)) => Some(
            crate::payments::flow::authorize_booking(
                &state,
                payments,
                auth.user.id,
                &key,
                method,
                price_minor,
                &currency,
            )
            .await?,
        ),
        _ => None,
    };
    let initial_state = match authorized.as_ref().map(|a| a.payment.status) {
        Some(PaymentStatus::RequiresAction) => BookingState::PaymentPending,
        _ => BookingState::Pending,
    };
    let booking = Booking {
        id: authorized
            .as_ref()
            .map_or_else(Uuid::now_v7, |a| a.booking_id),
        rider_id: auth.user.id,
        city_id: quote.city_id.clone(),
        state: initial_state,
        vehicle_class: quote.class,
        product: quote.product,
        pickup_at: quote.pickup.at,
        price_minor,
        currency,
        quote,
        child_seats: i64::try_from(quoted_seats).unwrap_or(0),
        cancellation_fee_minor: None,
        partner_id: None,
        chauffeur_id: None,
        vehicle_id: None,
        receipt: None,
        final_price_minor: None,
        payment: authorized.as_ref().map(|a| a.payment.clone()),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let personal = Personal {
        passenger_name,
        passenger_phone,
        flight_number,
        notes,
    };
    let view = booking_view(&booking, &personal)?;
    let response_body = serde_json::to_string(&view).map_err(|_| ApiError::internal())?;
    let outcome = state
        .store
        .create_booking_idempotent(
            &IdempotentCreate {
                user_id: auth.user.id,
                key: &key,
                request_hash: &request_hash,
                response_status: 201,
                response_body: &response_body,
                payment_attempt: authorized.as_ref().map(|a| a.attempt_key.as_str()),
            },
            &booking,
            &personal,
        )
        .await?;
    if let (Some(a), Created::Replay { .. } | Created::Mismatch) = (&authorized, &outcome) {
        // The provider answered this request's earlier intent: it is that booking's.
        state.store.drop_payment_attempt(&a.attempt_key).await?;
    }
    match outcome {
        Created::Created => {}
        Created::Replay { status, body } => return Ok(idempotency::replay(status, body)),
        Created::Mismatch => {
            return Err(ApiError::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request body",
            ))
        }
        Created::InProgress => return Err(idempotency::key_in_use()),
    }
    state.metrics.booking_created();
    // Offer it to partners right away (once the card is authorised); the dispatcher's timer
    // retries if this fails.
    if booking.state == BookingState::Pending {
        if let Err(e) = crate::dispatch::dispatch_booking(&state, booking.id).await {
            tracing::warn!(booking = %booking.id, error = %e, "first dispatch step failed");
        }
    }
    tracing::info!(booking = %booking.id, city = %booking.city_id, "booking created");
    let mut response = (StatusCode::CREATED, response_body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/bookings/{}", booking.id)) {
        h.insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The booking if it exists and belongs to the user; otherwise the same 404 either way.
pub(super) async fn own_booking(
    state: &AppState,
    user: &User,
    id: Uuid,
) -> Result<(Booking, Personal), ApiError> {
    match state.store.booking(id).await? {
        Some((booking, personal)) if booking.rider_id == user.id => Ok((booking, personal)),
        _ => Err(ApiError::not_found("booking")),
    }
}

/// The signed-in rider's bookings, latest pickup first, a page at a time.
#[utoipa::path(get, path = "/v1/bookings", tag = "bookings", security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = BookingList),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of 1–200 (invalid_limit) or a cursor this list did not give out (invalid_cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_bookings(
    State(state): State<AppState>,
    auth: Authenticated,
    paging: Paging,
) -> Result<Json<BookingList>, ApiError> {
    let fetched = state
        .store
        .bookings_with_personal(
            store::BookingsOf::Rider(auth.user.id),
            paging.after()?,
            paging.fetch_limit(),
        )
        .await?;
    let (page, next_cursor) = paging.finish(fetched, |(b, _)| (b.pickup_at, b.id));
    let bookings = page
        .iter()
        .map(|(b, personal)| booking_view(b, personal))
        .collect::<Result<_, _>>()?;
    Ok(Json(BookingList {
        bookings,
        next_cursor,
    }))
}

/// One of the rider's bookings.
#[utoipa::path(get, path = "/v1/bookings/{id}", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id")),
    responses(
        (status = 200, body = BookingView),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking, or not yours (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_booking(
    State(state): State<AppState>,
    auth: Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<BookingView>, ApiError> {
    let (booking, personal) = own_booking(&state, &auth.user, id).await?;
    Ok(Json(booking_view(&booking, &personal)?))
}

/// The receipt of a completed ride or of a cancellation that cost a fee: the quoted lines, the
/// extras after the ride, the total and its VAT split.
#[utoipa::path(get, path = "/v1/bookings/{id}/receipt", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id")),
    responses(
        (status = 200, body = ReceiptView),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking, or not yours (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing is charged yet: the ride is ahead, or was cancelled free (no_receipt_yet)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn booking_receipt(
    State(state): State<AppState>,
    auth: Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<ReceiptView>, ApiError> {
    let (booking, _) = own_booking(&state, &auth.user, id).await?;
    receipt_of(&booking)?.map(Json).ok_or_else(|| {
        ApiError::conflict(
            "no_receipt_yet",
            format!(
                "there is no receipt for this booking yet: it is {}, and a receipt comes with \
                 the completed ride or a cancellation that costs a fee",
                booking.state.as_str().replace('_', " ")
            ),
        )
    })
}

/// Every change to the booking: who, when, from which state to which, and each full version;
/// oldest first, a page at a time.
#[utoipa::path(get, path = "/v1/bookings/{id}/history", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id"), PageParams),
    responses(
        (status = 200, body = HistoryView),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of 1–200 (invalid_limit) or a cursor this list did not give out (invalid_cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking, or not yours (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn booking_history(
    State(state): State<AppState>,
    auth: Authenticated,
    IdPath(id): IdPath,
    paging: Paging,
) -> Result<Json<HistoryView>, ApiError> {
    let (booking, _) = own_booking(&state, &auth.user, id).await?;
    let mut previous: Option<Value> = None;
    let mut entries = Vec::new();
    for e in state.store.history(booking.id).await? {
        entries.push(history_entry_view(&e, previous.take()));
        previous = Some(e.snapshot);
    }
    // A booking's history is short by nature (one entry per change of state), so it is paged
    // in memory.
    let (entries, next_cursor) = paging.in_memory(entries, |e| e.version, false)?;
    Ok(Json(HistoryView {
        entries,
        next_cursor,
    }))
}

/// A stored change as answered. The store keeps actor and states as their names; one it cannot
/// name is a broken row, not the client's fault.
fn history_entry_view(e: &HistoryEntry, previous: Option<Value>) -> HistoryEntryView {
    HistoryEntryView {
        version: e.version,
        at: e.at,
        actor: e.actor,
        actor_id: e.actor_id,
        from_state: e.from_state,
        to_state: e.to_state,
        booking: e.snapshot.clone(),
        previous,
    }
}

fn policy_for(state: &AppState, booking: &Booking) -> CancellationPolicy {
    state
        .catalog
        .city(&booking.city_id)
        .map(|c| c.cancellation.clone())
        .unwrap_or_default()
}

pub(super) fn current_fee(
    state: &AppState,
    booking: &Booking,
    now: DateTime<Utc>,
) -> Result<chauffeur_core::CancellationFee, ApiError> {
    let price = Money::new(booking.price_minor, currency_of(booking)?);
    Ok(cancellation_fee(
        &policy_for(state, booking),
        booking.product,
        booking.state,
        price,
        booking.pickup_at,
        now,
    )?)
}

/// Step one of cancelling: what it would cost now.
#[utoipa::path(get, path = "/v1/bookings/{id}/cancellation", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id")),
    responses(
        (status = 200, body = CancellationView),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking, or not yours (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Cannot be cancelled in its state (cancellation_not_allowed)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cancellation_preview(
    State(state): State<AppState>,
    auth: Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<CancellationView>, ApiError> {
    let (booking, _) = own_booking(&state, &auth.user, id).await?;
    let fee = current_fee(&state, &booking, state.now())?;
    Ok(Json(CancellationView {
        state: booking.state,
        fee: fee.fee.into(),
        percent_bp: fee.percent_bp,
        changes_at: fee.changes_at,
    }))
}

/// Step two: cancel, confirming the fee you were shown. A changed fee answers 409.
#[utoipa::path(post, path = "/v1/bookings/{id}/cancel", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id")),
    request_body = CancelRequest,
    responses(
        (status = 200, body = BookingView),
        (status = 400, description = "Malformed JSON body (malformed_body)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking, or not yours (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Fee changed, or not cancellable in its state", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large (body_too_large)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not sent as application/json (unsupported_media_type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body (invalid_body)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cancel_booking(
    State(state): State<AppState>,
    auth: Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<CancelRequest>,
) -> Result<Json<BookingView>, ApiError> {
    let (booking, personal) = own_booking(&state, &auth.user, id).await?;
    let now = state.now();
    let fee = current_fee(&state, &booking, now)?;
    let fee = confirm_cancellation(
        &fee,
        Money::new(body.acknowledged_fee_minor, fee.fee.currency),
    )?;
    let to = transition(booking.state, BookingState::Cancelled, Actor::Rider)?;
    let updated = state
        .store
        .transition(&store::Transition {
            cancellation_fee_minor: Some(fee.amount_minor),
            ..store::Transition::new(&booking, to, Actor::Rider, Some(auth.user.id), now)
        })
        .await?;
    tracing::info!(booking = %booking.id, fee = %fee, "booking cancelled by rider");
    if fee.amount_minor > 0 {
        crate::http::invoices::issue_after_charge(&state, &updated).await;
    }
    Ok(Json(booking_view(&updated, &personal)?))
}
