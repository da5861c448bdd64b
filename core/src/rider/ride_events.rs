//! Following a ride live (feature `client`): a subscription to the booking's server-sent events
//! that reconnects with backoff and resumes with `Last-Event-ID`, reads the booking once by plain
//! polling whenever the stream cannot be reached, and delivers everything to a listener (a
//! UniFFI foreign trait once the bindings exist). Cancelling the handle, or dropping it, stops it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::booking::BookingState;
use crate::client::{ApiClient, ClientError};
use crate::distance::LatLon;
use crate::wire::{BookingView, ErrorCode, EventKind, PositionEvent, StatusEvent};

/// The kind of the event made on the phone when the booking was read by polling (its data is
/// the [`BookingView`]); the server's kinds are [`EventKind`]s.
pub const POLL_EVENT: &str = "poll";

/// One event of the ride's stream: `status` (with an id), `position` (without), or `poll` when
/// the booking was read by polling because the stream was unreachable.
#[derive(Debug, Clone, PartialEq)]
pub struct RideEvent {
    /// The server's kind, or `Other("poll")` ([`POLL_EVENT`]).
    pub kind: EventKind,
    pub id: Option<String>,
    /// The event's JSON.
    pub data: String,
}

impl RideEvent {
    /// The server's name for this event's kind.
    pub fn event_kind(&self) -> EventKind {
        self.kind.clone()
    }

    /// The booking's state this event reports (`status` and `poll` events).
    pub fn booking_state(&self) -> Option<BookingState> {
        if self.kind.as_str() == POLL_EVENT {
            return self.decode::<BookingView>().map(|b| b.state);
        }
        match self.kind {
            EventKind::Status => self.decode::<StatusEvent>().map(|s| s.state),
            _ => None,
        }
    }

    /// The chauffeur's position this event reports (`position` events).
    pub fn position(&self) -> Option<LatLon> {
        match self.kind {
            EventKind::Position => self.decode::<PositionEvent>().map(|p| LatLon {
                lat: p.lat,
                lon: p.lon,
            }),
            _ => None,
        }
    }

    /// The event's data as `T`; an event that does not decode is logged and reports nothing
    /// (the stream goes on).
    fn decode<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_str(&self.data)
            .map_err(|e| log::warn!("a {} event that does not decode: {e}", self.kind))
            .ok()
    }
}

/// Why a ride's stream stopped for good: the server refused it in a way the same request will
/// meet again (the booking is unknown or not the rider's, the session is gone).
#[derive(Debug, Clone, PartialEq)]
pub struct RideEnd {
    /// The server's HTTP status (404, 403, 401, …).
    pub status: u16,
    /// The server's stable code (`not_found`, `forbidden`, `unauthorized`, …).
    pub code: ErrorCode,
    /// The server's explanation.
    pub detail: String,
}

impl RideEnd {
    /// The refusal if it is permanent: a 4xx other than a timeout (408) or throttling (429).
    /// Anything else (network, 5xx) may pass and is retried.
    pub fn of(error: &ClientError) -> Option<RideEnd> {
        match error {
            ClientError::Api {
                status,
                code,
                detail,
            } if (400..500).contains(status) && *status != 408 && *status != 429 => Some(RideEnd {
                status: *status,
                code: ErrorCode::new(code.clone()),
                detail: detail.clone(),
            }),
            _ => None,
        }
    }
}

/// Gets a followed ride's events, its interruptions, and its end.
pub trait RideListener: Send + Sync {
    fn on_event(&self, event: RideEvent);
    /// The stream failed and will be retried after `retry_in`.
    fn on_interrupted(&self, _reason: String, _retry_in: Duration) {}
    /// The stream stopped for good (no more calls follow): the server refused it permanently.
    fn on_ended(&self, _end: RideEnd) {}
}

const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Stops the subscription when cancelled or dropped.
pub struct SubscriptionHandle {
    task: tokio::task::JoinHandle<()>,
    last_event_id: Arc<Mutex<Option<String>>>,
}

impl SubscriptionHandle {
    pub fn cancel(&self) {
        self.task.abort();
    }

    /// The id of the last event delivered (to resume a later subscription from).
    pub fn last_event_id(&self) -> Option<String> {
        self.last_event_id.lock().ok().and_then(|id| id.clone())
    }
}

impl Drop for SubscriptionHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Subscribes to a booking's events, resuming after `resume_after` if given. A broken stream is
/// retried with backoff; a permanent refusal ([`RideEnd::of`]) ends it with
/// [`RideListener::on_ended`]. Needs a tokio runtime.
pub fn subscribe_ride(
    api: &ApiClient,
    booking_id: &str,
    resume_after: Option<String>,
    listener: Arc<dyn RideListener>,
) -> SubscriptionHandle {
    let last_event_id = Arc::new(Mutex::new(resume_after));
    let (api, booking_id, last) = (api.clone(), booking_id.to_owned(), last_event_id.clone());
    let task = tokio::spawn(async move {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let resume = last.lock().ok().and_then(|id| id.clone());
            let reason = match api
                .event_stream(
                    &format!("/v1/bookings/{booking_id}/events"),
                    resume.as_deref(),
                )
                .await
            {
                Ok(mut response) => {
                    backoff = FIRST_BACKOFF;
                    let mut parser = SseParser::default();
                    loop {
                        match response.chunk().await {
                            Ok(Some(bytes)) => {
                                for event in parser.feed(&bytes) {
                                    if let (Some(id), Ok(mut slot)) = (&event.id, last.lock()) {
                                        *slot = Some(id.clone());
                                    }
                                    listener.on_event(event);
                                }
                            }
                            Ok(None) => break "the stream ended".to_owned(),
                            Err(e) => break e.to_string(),
                        }
                    }
                }
                Err(e) => {
                    if let Some(end) = RideEnd::of(&e) {
                        log::debug!("ride {booking_id}: ended: {e}");
                        listener.on_ended(end);
                        return;
                    }
                    // Unreachable stream: read the booking by plain polling meanwhile.
                    let polled = api.booking(&booking_id).await.ok();
                    if let Some(data) = polled.and_then(|b| serde_json::to_string(&b).ok()) {
                        listener.on_event(RideEvent {
                            kind: EventKind::Other(POLL_EVENT.into()),
                            id: None,
                            data,
                        });
                    }
                    e.to_string()
                }
            };
            log::debug!("ride {booking_id}: {reason}; retrying in {backoff:?}");
            listener.on_interrupted(reason, backoff);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    });
    SubscriptionHandle {
        task,
        last_event_id,
    }
}

/// Turns the bytes of a text/event-stream into events (comments and keep-alives skipped).
#[derive(Default)]
struct SseParser {
    buffer: String,
    kind: Option<String>,
    id: Option<String>,
    data: String,
}

impl SseParser {
    fn feed(&mut self, bytes: &[u8]) -> Vec<RideEvent> {
        self.buffer.push_str(&String::from_utf8_lossy(bytes));
        let mut events = Vec::new();
        while let Some(end) = self.buffer.find('\n') {
            let line: String = self.buffer.drain(..=end).collect();
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    events.push(RideEvent {
                        kind: EventKind::parse(self.kind.as_deref().unwrap_or("message")),
                        id: self.id.take(),
                        data: std::mem::take(&mut self.data),
                    });
                }
                self.kind = None;
                self.id = None;
            } else if let Some(v) = line.strip_prefix("event:") {
                self.kind = Some(v.trim().to_owned());
            } else if let Some(v) = line.strip_prefix("id:") {
                self.id = Some(v.trim().to_owned());
            } else if let Some(v) = line.strip_prefix("data:") {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_parsed_across_chunk_boundaries_and_keep_alives_skipped() {
        let mut parser = SseParser::default();
        assert!(parser.feed(b":keep-alive\n\nid: 7\nevent: sta").is_empty());
        let events =
            parser.feed(b"tus\ndata: {\"state\":\"confirmed\"}\n\nevent: position\ndata: {}\n\n");
        assert_eq!(
            events,
            vec![
                RideEvent {
                    kind: EventKind::Status,
                    id: Some("7".into()),
                    data: "{\"state\":\"confirmed\"}".into()
                },
                RideEvent {
                    kind: EventKind::Position,
                    id: None,
                    data: "{}".into()
                },
            ]
        );
    }
}
