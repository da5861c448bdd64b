//! A partner's dispatch desk: offers, accepted rides, assigning a chauffeur and a vehicle,
//! giving a ride back, and the partner's own chauffeurs and vehicles.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chauffeur_core::booking::Actor;
use chauffeur_core::catalog::PickupPlace;
use chauffeur_core::{transition, BookingState, Money};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::http::bookings::{currency_of, receipt_of};
use crate::http::extract::{ApiJson, IdPath, PartnerMember};
use crate::http::paging::{PageParams, Paging};
use crate::state::AppState;
use crate::store::{self, Booking, Personal};
use chauffeur_core::wire::{MoneyView, PassengerView, ReceiptView, RouteView};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(partner_offers))
        .routes(routes!(accept_offer))
        .routes(routes!(decline_offer))
        .routes(routes!(partner_rides))
        .routes(routes!(assign_ride))
        .routes(routes!(give_back_ride))
        .routes(routes!(partner_chauffeurs))
        .routes(routes!(partner_vehicles))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OfferView {
    pub id: Uuid,
    pub booking_id: Uuid,
    pub city_id: String,
    pub class: String,
    pub product: String,
    pub pickup_at: DateTime<Utc>,
    #[schema(value_type = Option<String>)]
    pub pickup_local: Option<NaiveDateTime>,
    pub passengers: Option<u32>,
    pub bags: Option<u32>,
    /// Where, roughly (points rounded to about a kilometre): enough to decide, no personal data.
    pub area: RouteView,
    pub price: MoneyView,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OfferList {
    pub offers: Vec<OfferView>,
    /// Pass as `?cursor=` for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

/// Open offers, soonest pickup first, paged in memory: they are few by nature (each expires
/// within minutes).
pub(super) fn offer_list(
    open: Vec<(store::Offer, Booking)>,
    paging: &Paging,
) -> Result<Json<OfferList>, ApiError> {
    let (page, next_cursor) = paging.in_memory(open, |(o, b)| (b.pickup_at, o.id), false)?;
    let offers = page
        .iter()
        .map(|(offer, booking)| offer_view(offer, booking))
        .collect::<Result<_, _>>()?;
    Ok(Json(OfferList {
        offers,
        next_cursor,
    }))
}

/// The partner's open offers, soonest pickup first.
#[utoipa::path(get, path = "/v1/partner/offers", tag = "partners", security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = OfferList),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a partner account (not_a_partner)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of 1–200 (invalid_limit) or a cursor this list did not give out (invalid_cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn partner_offers(
    State(state): State<AppState>,
    member: PartnerMember,
    paging: Paging,
) -> Result<Json<OfferList>, ApiError> {
    let open = state
        .store
        .open_offers_of_partner(member.partner_id, state.now())
        .await?;
    offer_list(open, &paging)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AcceptedView {
    pub booking_id: Uuid,
    pub state: String,
    pub version: i64,
}

/// Accept an offer. The first accept wins; the others answer 409 `offer_taken`.
#[utoipa::path(post, path = "/v1/partner/offers/{id}/accept", tag = "partners", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Offer id")),
    responses(
        (status = 200, body = AcceptedView),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a partner account (not_a_partner)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer, or not yours (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Taken by another partner, expired or already answered (offer_taken, offer_expired, offer_closed)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn accept_offer(
    State(state): State<AppState>,
    member: PartnerMember,
    IdPath(offer_id): IdPath,
) -> Result<Json<AcceptedView>, ApiError> {
    match state
        .store
        .accept_offer(offer_id, member.partner_id, member.user.id, state.now())
        .await?
    {
        store::Accepted::Won(booking) => {
            tracing::info!(booking = %booking.id, partner = %member.partner_id, "offer accepted");
            Ok(Json(AcceptedView {
                booking_id: booking.id,
                state: booking.state.as_str().to_owned(),
                version: booking.version,
            }))
        }
        store::Accepted::NotFound => Err(ApiError::not_found("offer")),
        store::Accepted::Taken => Err(ApiError::conflict(
            "offer_taken",
            "another partner accepted this ride first",
        )),
        store::Accepted::Expired => Err(ApiError::conflict(
            "offer_expired",
            "the time to answer this offer ran out",
        )),
        store::Accepted::Closed(was) => Err(ApiError::conflict(
            "offer_closed",
            format!("this offer is already {was}"),
        )),
    }
}

/// Decline an offer; it counts in the partner's ranking.
#[utoipa::path(post, path = "/v1/partner/offers/{id}/decline", tag = "partners", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Offer id")),
    responses(
        (status = 204, description = "Declined"),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a partner account (not_a_partner)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such open offer of this partner (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn decline_offer(
    State(state): State<AppState>,
    member: PartnerMember,
    IdPath(offer_id): IdPath,
) -> Result<StatusCode, ApiError> {
    if state
        .store
        .decline_offer(offer_id, member.partner_id, state.now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("open offer"))
    }
}

/// What a partner or chauffeur sees of a ride they serve (with what they need to serve it).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RideView {
    pub id: Uuid,
    pub state: String,
    pub city_id: String,
    pub class: String,
    pub product: String,
    pub pickup_at: DateTime<Utc>,
    #[schema(value_type = Option<String>)]
    pub pickup_local: Option<NaiveDateTime>,
    pub pickup_place: Option<PickupPlace>,
    pub passengers: Option<u32>,
    pub bags: Option<u32>,
    pub price: MoneyView,
    /// Where to go: pickup, drop-off or hours, stops, passengers, bags, child seats.
    pub route: RouteView,
    pub passenger: PassengerView,
    pub flight_number: Option<String>,
    pub notes: Option<String>,
    pub chauffeur_id: Option<Uuid>,
    pub vehicle_id: Option<Uuid>,
    pub final_price: Option<MoneyView>,
    /// After completion (or a cancellation with a fee): what was charged, extras as such.
    pub receipt: Option<ReceiptView>,
    /// The statuses the assigned chauffeur may report next (the core's transition table), so a
    /// console offers exactly those.
    pub chauffeur_next: Vec<BookingState>,
    pub version: i64,
}

pub(super) fn ride_view(booking: &Booking, personal: &Personal) -> Result<RideView, ApiError> {
    let currency = currency_of(booking)?;
    let quote = &booking.quote;
    Ok(RideView {
        id: booking.id,
        state: booking.state.as_str().to_owned(),
        city_id: booking.city_id.clone(),
        class: booking.vehicle_class.as_str().to_owned(),
        product: booking.product.as_str().to_owned(),
        pickup_at: booking.pickup_at,
        pickup_local: Some(quote.pickup.local),
        pickup_place: Some(quote.pickup_place.clone()),
        passengers: Some(quote.passengers),
        bags: Some(quote.bags),
        price: Money::new(booking.price_minor, currency).into(),
        route: RouteView::of(quote),
        passenger: PassengerView {
            name: personal.passenger_name.clone(),
            phone: personal.passenger_phone.clone(),
        },
        flight_number: personal.flight_number.clone(),
        notes: personal.notes.clone(),
        chauffeur_id: booking.chauffeur_id,
        vehicle_id: booking.vehicle_id,
        final_price: booking
            .final_price_minor
            .map(|m| Money::new(m, currency).into()),
        receipt: receipt_of(booking)?,
        chauffeur_next: chauffeur_core::booking::next_states(booking.state, Actor::Chauffeur)
            .collect(),
        version: booking.version,
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RideList {
    pub rides: Vec<RideView>,
    /// Pass as `?cursor=` for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

/// A page of rides, soonest pickup first.
pub(super) async fn ride_list(
    state: &AppState,
    of: store::BookingsOf,
    paging: &Paging,
) -> Result<Json<RideList>, ApiError> {
    let fetched = state
        .store
        .bookings_with_personal(of, paging.after()?, paging.fetch_limit())
        .await?;
    let (page, next_cursor) = paging.finish(fetched, |(b, _)| (b.pickup_at, b.id));
    let rides = page
        .iter()
        .map(|(b, personal)| ride_view(b, personal))
        .collect::<Result<_, _>>()?;
    Ok(Json(RideList { rides, next_cursor }))
}

/// A ride this partner accepted; another partner's (or none) answers 404.
async fn partner_ride(
    state: &AppState,
    member: &PartnerMember,
    id: Uuid,
) -> Result<(Booking, Personal), ApiError> {
    match state.store.booking(id).await? {
        Some((b, p)) if b.partner_id == Some(member.partner_id) => Ok((b, p)),
        _ => Err(ApiError::not_found("ride")),
    }
}

/// The rides this partner accepted, soonest first.
#[utoipa::path(get, path = "/v1/partner/rides", tag = "partners", security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = RideList),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a partner account (not_a_partner)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of 1–200 (invalid_limit) or a cursor this list did not give out (invalid_cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn partner_rides(
    State(state): State<AppState>,
    member: PartnerMember,
    paging: Paging,
) -> Result<Json<RideList>, ApiError> {
    ride_list(
        &state,
        store::BookingsOf::Partner(member.partner_id),
        &paging,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// A chauffeur account of this partner.
    pub chauffeur_id: Uuid,
    /// A vehicle of this partner, of the booked class, big enough for the party.
    pub vehicle_id: Uuid,
}

/// Assign a chauffeur and a vehicle (again, to change them). A chauffeur cannot hold two rides
/// whose times overlap.
#[utoipa::path(post, path = "/v1/partner/rides/{id}/assign", tag = "partners", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ride (booking) id")),
    request_body = AssignRequest,
    responses(
        (status = 200, body = RideView),
        (status = 400, description = "Malformed JSON body (malformed_body)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a partner account (not_a_partner)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ride, or not yours (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Overlapping ride (chauffeur_busy), or not assignable in its state", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large (body_too_large)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not sent as application/json (unsupported_media_type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not this partner's chauffeur or a fitting vehicle; invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn assign_ride(
    State(state): State<AppState>,
    member: PartnerMember,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<AssignRequest>,
) -> Result<Json<RideView>, ApiError> {
    let (booking, personal) = partner_ride(&state, &member, id).await?;
    let to = transition(
        booking.state,
        BookingState::ChauffeurAssigned,
        Actor::Partner,
    )
    .or_else(|e| {
        // Re-assigning an assigned ride changes who drives, not the state.
        if booking.state == BookingState::ChauffeurAssigned {
            Ok(booking.state)
        } else {
            Err(e)
        }
    })?;
    if !state
        .store
        .is_partner_chauffeur(member.partner_id, body.chauffeur_id)
        .await?
    {
        return Err(ApiError::unprocessable(
            "unknown_chauffeur",
            "that is not a chauffeur of this partner",
        ));
    }
    let (passengers, bags) = (
        i64::from(booking.quote.passengers),
        i64::from(booking.quote.bags),
    );
    match state
        .store
        .vehicle_of(member.partner_id, body.vehicle_id)
        .await?
    {
        Some(vehicle)
            if vehicle.active
                && vehicle.class == booking.vehicle_class
                && vehicle.seats >= passengers
                && vehicle.bags >= bags => {}
        _ => return Err(ApiError::unprocessable(
            "unfit_vehicle",
            "use an active vehicle of this partner, of the booked class, big enough for the party",
        )),
    }
    let (starts_at, ends_at) = crate::dispatch::busy_window(&booking);
    let updated = state
        .store
        .transition(&store::Transition {
            assignment: store::AssignmentChange::Assign {
                partner_id: member.partner_id,
                chauffeur_id: body.chauffeur_id,
                vehicle_id: body.vehicle_id,
                starts_at,
                ends_at,
            },
            ..store::Transition::new(
                &booking,
                to,
                Actor::Partner,
                Some(member.user.id),
                state.now(),
            )
        })
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict("chauffeur_busy") => ApiError::conflict(
                "chauffeur_busy",
                "this chauffeur already has a ride at an overlapping time",
            ),
            other => other.into(),
        })?;
    Ok(Json(ride_view(&updated, &personal)?))
}

/// Give a ride back (until 2 hours before pickup); it is offered again, to other partners first.
#[utoipa::path(post, path = "/v1/partner/rides/{id}/give-back", tag = "partners", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ride (booking) id")),
    responses(
        (status = 200, body = RideView),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a partner account (not_a_partner)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ride, or not yours (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Too late (give_back_too_late) or not in a state to give back", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn give_back_ride(
    State(state): State<AppState>,
    member: PartnerMember,
    IdPath(id): IdPath,
) -> Result<Json<RideView>, ApiError> {
    let (booking, personal) = partner_ride(&state, &member, id).await?;
    let now = state.now();
    chauffeur_core::dispatch::check_give_back(booking.pickup_at, now)?;
    let to = transition(booking.state, BookingState::Pending, Actor::Partner)?;
    let updated = state
        .store
        .transition(&store::Transition {
            given_back_by: Some(member.partner_id),
            ..store::Transition::new(&booking, to, Actor::Partner, Some(member.user.id), now)
        })
        .await?;
    tracing::info!(booking = %booking.id, partner = %member.partner_id, "ride given back");
    if let Err(e) = crate::dispatch::dispatch_booking(&state, booking.id).await {
        tracing::warn!(booking = %booking.id, error = %e, "re-dispatch after give-back failed; the timer retries");
    }
    Ok(Json(ride_view(&updated, &personal)?))
}

/// What a partner or chauffeur sees of an offer.
pub(super) fn offer_view(offer: &store::Offer, booking: &Booking) -> Result<OfferView, ApiError> {
    let quote = &booking.quote;
    Ok(OfferView {
        id: offer.id,
        booking_id: booking.id,
        city_id: booking.city_id.clone(),
        class: booking.vehicle_class.as_str().to_owned(),
        product: booking.product.as_str().to_owned(),
        pickup_at: booking.pickup_at,
        pickup_local: Some(quote.pickup.local),
        passengers: Some(quote.passengers),
        bags: Some(quote.bags),
        area: RouteView::of(quote).area(),
        price: Money::new(booking.price_minor, currency_of(booking)?).into(),
        expires_at: offer.expires_at,
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChauffeurView {
    pub id: Uuid,
    pub name: Option<String>,
    pub email: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VehicleView {
    pub id: Uuid,
    pub class: String,
    pub plate: String,
    pub seats: i64,
    pub bags: i64,
    pub active: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChauffeurList {
    pub chauffeurs: Vec<ChauffeurView>,
    /// Pass as `?cursor=` for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VehicleList {
    pub vehicles: Vec<VehicleView>,
    /// Pass as `?cursor=` for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

/// This partner's chauffeurs, oldest account first.
#[utoipa::path(get, path = "/v1/partner/chauffeurs", tag = "partners", security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = ChauffeurList),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a partner account (not_a_partner)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of 1–200 (invalid_limit) or a cursor this list did not give out (invalid_cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn partner_chauffeurs(
    State(state): State<AppState>,
    member: PartnerMember,
    paging: Paging,
) -> Result<Json<ChauffeurList>, ApiError> {
    // A partner's fleet is small by nature: paged in memory, by id (creation order).
    let mut rows = state.store.partner_chauffeurs(member.partner_id).await?;
    rows.sort_by_key(|c| c.id);
    let (rows, next_cursor) = paging.in_memory(rows, |c| c.id, false)?;
    Ok(Json(ChauffeurList {
        chauffeurs: rows
            .into_iter()
            .map(|c| ChauffeurView {
                id: c.id,
                name: c.name,
                email: c.email,
            })
            .collect(),
        next_cursor,
    }))
}

/// This partner's vehicles, oldest first.
#[utoipa::path(get, path = "/v1/partner/vehicles", tag = "partners", security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = VehicleList),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a partner account (not_a_partner)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of 1–200 (invalid_limit) or a cursor this list did not give out (invalid_cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn partner_vehicles(
    State(state): State<AppState>,
    member: PartnerMember,
    paging: Paging,
) -> Result<Json<VehicleList>, ApiError> {
    vehicle_list(&state, member.partner_id, &paging).await
}

/// A page of a partner's vehicles, oldest first (for the partner and the operator).
pub(super) async fn vehicle_list(
    state: &AppState,
    partner_id: Uuid,
    paging: &Paging,
) -> Result<Json<VehicleList>, ApiError> {
    let mut rows = state.store.partner_vehicles(partner_id).await?;
    rows.sort_by_key(|v| v.id);
    let (rows, next_cursor) = paging.in_memory(rows, |v| v.id, false)?;
    Ok(Json(VehicleList {
        vehicles: rows
            .into_iter()
            .map(|v| VehicleView {
                id: v.id,
                class: v.class.as_str().to_owned(),
                plate: v.plate,
                seats: v.seats,
                bags: v.bags,
                active: v.active,
            })
            .collect(),
        next_cursor,
    }))
}
