//! Live feeds as server-sent events: a rider's booking and a partner's desk.

use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chauffeur_core::wire::EventKind;
use chrono::{DateTime, Utc};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::http::bookings::own_booking;
use crate::http::extract::{Authenticated, IdPath, PartnerMember};
use crate::state::AppState;
use crate::store;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(booking_events))
        .routes(routes!(partner_events))
}

/// Where a reconnecting client left off: the `Last-Event-ID` header.
fn last_event_id(headers: &HeaderMap) -> i64 {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// A stream of the stored events after `last` for a booking or a partner, then live ones as
/// they are committed (on any replica). Positions of the ride's chauffeur come along while the
/// chauffeur is on the way; they are not stored as events and carry no id.
fn event_stream(
    state: AppState,
    booking_id: Option<Uuid>,
    partner_id: Option<Uuid>,
    mut last: i64,
) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, std::convert::Infallible>>(64);
    let mut changes = store::subscribe_changes();
    tokio::spawn(async move {
        let mut last_position: Option<DateTime<Utc>> = None;
        loop {
            match state.store.events_after(booking_id, partner_id, last).await {
                Ok(events) => {
                    for e in events {
                        last = e.id;
                        let event = Event::default()
                            .id(e.id.to_string())
                            .event(e.kind.as_str())
                            .data(e.payload.to_string());
                        if tx.send(Ok(event)).await.is_err() {
                            return;
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "event stream cannot read events"),
            }
            if let Some(booking_id) = booking_id {
                if let Some(position) = crate::live::position_for_rider(&state, booking_id).await {
                    if last_position.is_none_or(|at| position.at > at) {
                        last_position = Some(position.at);
                        let event = Event::default()
                            .event(EventKind::Position.as_str())
                            .data(serde_json::to_string(&position).unwrap_or_default());
                        if tx.send(Ok(event)).await.is_err() {
                            return;
                        }
                    }
                }
            }
            tokio::select! {
                changed = changes.recv() => {
                    if let Err(tokio::sync::broadcast::error::RecvError::Closed) = changed {
                        return;
                    }
                }
                // A safety net: a missed notification delays an event by two seconds at most.
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
                () = tx.closed() => return,
            }
        }
    });
    Sse::new(tokio_stream::wrappers::ReceiverStream::new(rx))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The rider's live view of a booking: `status` events (with ids; reconnect with
/// `Last-Event-ID` to get what was missed) and `position` events while the chauffeur is on the way.
#[utoipa::path(get, path = "/v1/bookings/{id}/events", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id"), ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id")),
    responses(
        (status = 200, description = "text/event-stream: status and position events", content_type = "text/event-stream"),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking, or not yours (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn booking_events(
    State(state): State<AppState>,
    auth: Authenticated,
    IdPath(id): IdPath,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (booking, _) = own_booking(&state, &auth.user, id).await?;
    let last = last_event_id(&headers);
    Ok(event_stream(state, Some(booking.id), None, last))
}

/// The partner's live feed: `offer`, `offer_expired`, `offer_withdrawn` and `status` events of
/// its rides (cancellations included), resumable with `Last-Event-ID`.
#[utoipa::path(get, path = "/v1/partner/events", tag = "partners", security(("bearer" = [])),
    params(("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id")),
    responses(
        (status = 200, description = "text/event-stream: offer, offer_expired, offer_withdrawn and status events", content_type = "text/event-stream"),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a partner account (not_a_partner)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn partner_events(
    State(state): State<AppState>,
    member: PartnerMember,
    headers: HeaderMap,
) -> Response {
    let last = last_event_id(&headers);
    event_stream(state, None, Some(member.partner_id), last)
}
