//! A chauffeur's app: assigned rides, on-demand offers, position updates and ride progress.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chauffeur_core::booking::{
    check_status_time, measured_hire_minutes, measured_waiting_minutes, Actor, RideTimes,
};
use chauffeur_core::{transition, BookingState};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::http::extract::{ApiJson, ChauffeurUser, IdPath};
use crate::http::paging::{PageParams, Paging};
use crate::http::partner::{offer_list, ride_list, ride_view, OfferList, RideList, RideView};
use crate::state::AppState;
use crate::store;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(chauffeur_rides))
        .routes(routes!(chauffeur_offers))
        .routes(routes!(chauffeur_accept_offer))
        .routes(routes!(chauffeur_location))
        .routes(routes!(chauffeur_status))
}

/// The rides assigned to the signed-in chauffeur, soonest first.
#[utoipa::path(get, path = "/v1/chauffeur/rides", tag = "chauffeurs", security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = RideList),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a chauffeur account (not_a_chauffeur)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of 1–200 (invalid_limit) or a cursor this list did not give out (invalid_cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn chauffeur_rides(
    State(state): State<AppState>,
    ChauffeurUser(user): ChauffeurUser,
    paging: Paging,
) -> Result<Json<RideList>, ApiError> {
    ride_list(&state, store::BookingsOf::Chauffeur(user.id), &paging).await
}

/// On-demand offers made to the signed-in chauffeur (the nearest available one).
#[utoipa::path(get, path = "/v1/chauffeur/offers", tag = "chauffeurs", security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = OfferList),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a chauffeur account (not_a_chauffeur)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of 1–200 (invalid_limit) or a cursor this list did not give out (invalid_cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn chauffeur_offers(
    State(state): State<AppState>,
    ChauffeurUser(user): ChauffeurUser,
    paging: Paging,
) -> Result<Json<OfferList>, ApiError> {
    let open = state
        .store
        .open_offers_of_chauffeur(user.id, state.now())
        .await?;
    offer_list(open, &paging)
}

/// Accept an on-demand offer: the ride is assigned to this chauffeur at once. The first accept
/// wins.
#[utoipa::path(post, path = "/v1/chauffeur/offers/{id}/accept", tag = "chauffeurs", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Offer id")),
    responses(
        (status = 200, body = RideView),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a chauffeur account (not_a_chauffeur)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such offer, or not yours (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Taken, expired, answered, or an overlapping ride (chauffeur_busy)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn chauffeur_accept_offer(
    State(state): State<AppState>,
    ChauffeurUser(user): ChauffeurUser,
    IdPath(offer_id): IdPath,
) -> Result<Json<RideView>, ApiError> {
    let offer = match state.store.offer_by_id(offer_id).await? {
        Some(o) if o.chauffeur_id == Some(user.id) => o,
        _ => return Err(ApiError::not_found("offer")),
    };
    let (booking, personal) = state
        .store
        .booking(offer.booking_id)
        .await?
        .ok_or_else(|| ApiError::not_found("offer"))?;
    // The core's table allows a chauffeur to take a pending ride (on demand) straight to assigned.
    transition(
        booking.state,
        BookingState::ChauffeurAssigned,
        Actor::Chauffeur,
    )
    .map_err(|_| {
        ApiError::conflict(
            "offer_taken",
            "this ride is no longer looking for a chauffeur",
        )
    })?;
    let busy = crate::dispatch::busy_window(&booking);
    let outcome = state
        .store
        .accept_chauffeur_offer(offer_id, user.id, state.now(), busy)
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict("chauffeur_busy") => {
                ApiError::conflict("chauffeur_busy", "you have a ride at an overlapping time")
            }
            other => other.into(),
        })?;
    match outcome {
        store::Accepted::Won(updated) => Ok(Json(ride_view(&updated, &personal)?)),
        store::Accepted::NotFound => Err(ApiError::not_found("offer")),
        store::Accepted::Taken => Err(ApiError::conflict(
            "offer_taken",
            "another chauffeur accepted this ride first",
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationRequest {
    pub lat: f64,
    pub lon: f64,
}

/// The chauffeur's current position. At most about one a second is taken (429 otherwise); they
/// are written in batches and shown to the rider of a ride on its way.
#[utoipa::path(post, path = "/v1/chauffeur/location", tag = "chauffeurs", security(("bearer" = [])),
    request_body = LocationRequest,
    responses(
        (status = 202, description = "Taken"),
        (status = 400, description = "Malformed JSON body (malformed_body)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a chauffeur account (not_a_chauffeur)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large (body_too_large)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not sent as application/json (unsupported_media_type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid position, or invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Sent too often (too_many_updates; Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn chauffeur_location(
    State(state): State<AppState>,
    ChauffeurUser(user): ChauffeurUser,
    ApiJson(body): ApiJson<LocationRequest>,
) -> Result<StatusCode, ApiError> {
    chauffeur_core::LatLon::new(body.lat, body.lon, "location")?;
    let position = crate::live::Position {
        lat: body.lat,
        lon: body.lon,
        at: state.now(),
    };
    if state.positions.offer(user.id, position) {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_updates",
                "send at most one position a second",
            )
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// en_route, arrived, on_board, completed or no_show.
    pub status: String,
    /// On completion of an hourly hire: kilometres driven. (Waiting and the hire's length are
    /// measured by the server from when arrived, on_board and completed were reported.)
    #[serde(default)]
    pub driven_km: u32,
    /// On completion: tolls paid on the rider's behalf, in minor units. Tolls and parking
    /// together may add at most half the quoted total (declared_costs_out_of_range).
    #[serde(default)]
    pub tolls_minor: i64,
    /// On completion: parking paid on the rider's behalf, in minor units.
    #[serde(default)]
    pub parking_minor: i64,
}

/// Report the ride's progress. Every change goes through the core's transition table and the
/// core's rules on time: on the way at most 3 hours and arrived at most 60 minutes before the
/// pickup time, no-show only after the free waiting time. Completion computes the receipt from
/// the quote, the waiting (transfers) or the hire's length (hourly) as the server measured them
/// from when each status was reported, and the declared kilometres, tolls and parking.
#[utoipa::path(post, path = "/v1/chauffeur/rides/{id}/status", tag = "chauffeurs", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ride (booking) id")),
    request_body = StatusRequest,
    responses(
        (status = 200, body = RideView),
        (status = 400, description = "Malformed JSON body (malformed_body)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a chauffeur account (not_a_chauffeur)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such ride, or not yours (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Illegal transition (illegal_transition), too early for this status (status_too_early), or no-show too early (no_show_too_early)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large (body_too_large)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not sent as application/json (unsupported_media_type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown status (unknown_status), tolls and parking beyond the bound (declared_costs_out_of_range), or invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn chauffeur_status(
    State(state): State<AppState>,
    ChauffeurUser(user): ChauffeurUser,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<StatusRequest>,
) -> Result<Json<RideView>, ApiError> {
    let (booking, personal) = match state.store.booking(id).await? {
        Some((b, p)) if b.chauffeur_id == Some(user.id) => (b, p),
        _ => return Err(ApiError::not_found("ride")),
    };
    let wanted = BookingState::parse(&body.status)
        .filter(|s| {
            matches!(
                s,
                BookingState::EnRoute
                    | BookingState::Arrived
                    | BookingState::OnBoard
                    | BookingState::Completed
                    | BookingState::NoShow
            )
        })
        .ok_or_else(|| {
            ApiError::unprocessable(
                "unknown_status",
                "status is one of en_route, arrived, on_board, completed, no_show",
            )
        })?;
    let now = state.now();
    // When arrived and on board were reported, from the history on the server's clock; needed
    // only where the measured times count.
    let (arrived_at, on_board_at) =
        if matches!(wanted, BookingState::NoShow | BookingState::Completed) {
            let history = state.store.history(booking.id).await?;
            let last_reported = |status: BookingState| {
                history
                    .iter()
                    .rev()
                    .find(|e| e.to_state == status)
                    .map(|e| e.at)
            };
            (
                last_reported(BookingState::Arrived),
                last_reported(BookingState::OnBoard),
            )
        } else {
            (None, None)
        };
    let times = RideTimes {
        pickup_at: booking.pickup_at,
        arrived_at,
        on_board_at,
    };
    check_status_time(wanted, &times, now)?;
    let to = transition(booking.state, wanted, Actor::Chauffeur)?;
    let quote = &booking.quote;
    let mut change = store::Transition::new(&booking, to, Actor::Chauffeur, Some(user.id), now);
    if to == BookingState::NoShow {
        chauffeur_core::booking::check_no_show(
            booking.pickup_at,
            times.arrived_at.unwrap_or(now),
            quote.extras_tariff.free_waiting_minutes,
            now,
        )?;
    }
    if to == BookingState::Completed {
        let receipt = chauffeur_core::final_fare(
            quote,
            &chauffeur_core::DeclaredExtras {
                waiting_minutes: measured_waiting_minutes(&times),
                hire_minutes: measured_hire_minutes(&times, now),
                driven_km: body.driven_km,
                tolls_minor: body.tolls_minor,
                parking_minor: body.parking_minor,
            },
        )?;
        change.receipt = Some(receipt);
    }
    let updated = state.store.transition(&change).await?;
    tracing::info!(booking = %booking.id, state = %to, "ride status");
    if to == BookingState::Completed {
        crate::http::invoices::issue_after_charge(&state, &updated).await;
    }
    Ok(Json(ride_view(&updated, &personal)?))
}
