//! Replaying the outbox (feature `client`): every intent made offline goes to the server in the
//! order it was made, with its own idempotency key, so it is applied exactly once even if the
//! app died after the server committed but before it heard the answer. A refusal is kept with
//! its reason; a network failure stops the round and leaves the rest for the next one.

use crate::cache::{Cache, CacheError, CachedBooking};
use crate::client::{ApiClient, ClientError};
use crate::wire::{BookingView, CancelRequest, CreateBookingRequest};

#[derive(Debug, Default, Clone, PartialEq)]
pub struct SyncReport {
    pub sent: usize,
    pub refused: usize,
    /// Entries still waiting (the network failed part-way).
    pub waiting: usize,
    /// The bookings the server returned, by the idempotency key of the entry that made them.
    pub confirmed: Vec<(String, CachedBooking)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// The cache's view of a booking the server returned (its JSON kept whole).
pub fn cached_from_server(booking: &BookingView) -> Result<CachedBooking, serde_json::Error> {
    Ok(CachedBooking {
        id: booking.id.to_string(),
        city_id: booking.city_id.clone(),
        state: booking.state.as_str().to_owned(),
        pickup_at: booking.pickup_at,
        version: booking.version,
        json: serde_json::to_string(booking)?,
        pending_sync: false,
    })
}

/// Sends one outbox entry: its body is the request as it was stored.
async fn send_entry(
    api: &ApiClient,
    kind: &str,
    key: &str,
    booking_id: Option<&str>,
    body: &str,
) -> Result<BookingView, ClientError> {
    let unreadable = |e: serde_json::Error| ClientError::Decode(format!("outbox entry: {e}"));
    match kind {
        "create_booking" => {
            let request: CreateBookingRequest = serde_json::from_str(body).map_err(unreadable)?;
            api.create_booking(key, &request).await
        }
        "cancel_booking" => {
            let request: CancelRequest = serde_json::from_str(body).map_err(unreadable)?;
            let Some(id) = booking_id else {
                return Err(ClientError::Decode("a cancel entry without booking".into()));
            };
            api.cancel(id, request.acknowledged_fee_minor).await
        }
        other => Err(ClientError::Decode(format!(
            "unknown outbox entry kind {other:?}"
        ))),
    }
}

/// Sends the pending outbox entries in order.
pub async fn sync_outbox(cache: &mut Cache, api: &ApiClient) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    let pending = cache.pending()?;
    let total = pending.len();
    for entry in pending {
        let outcome = send_entry(
            api,
            &entry.kind,
            &entry.idempotency_key,
            entry.booking_id.as_deref(),
            &entry.body,
        )
        .await;
        match outcome {
            // Still no final answer (offline, or the key is being applied by another request,
            // or the server is briefly unavailable): this entry and the rest wait for the next
            // round, in order.
            Err(e) if e.is_transient() => {
                report.waiting = total - report.sent - report.refused;
                break;
            }
            Ok(booking) => {
                // Re-serialising a decoded answer cannot fail; if it did, the entry is still
                // sent and the next refresh brings the booking.
                let confirmed = cached_from_server(&booking).ok();
                cache.mark_sent(entry.seq, confirmed.as_ref())?;
                report.sent += 1;
                if let Some(b) = confirmed {
                    report.confirmed.push((entry.idempotency_key, b));
                }
            }
            Err(ClientError::Api {
                status,
                code,
                detail,
            }) => {
                cache.mark_refused(entry.seq, Some(status), &code, &detail)?;
                report.refused += 1;
            }
            // An answer that could not be read (network failures and timeouts are transient,
            // above).
            Err(other) => {
                cache.mark_refused(entry.seq, None, "unexpected_answer", &other.to_string())?;
                report.refused += 1;
            }
        }
    }
    if total > 0 {
        log::info!(
            "outbox: {} sent, {} refused, {} waiting",
            report.sent,
            report.refused,
            report.waiting
        );
    }
    Ok(report)
}
